import { z } from 'zod';
import { compare, Money, subtract, toMinor } from './money';

/**
 * Approval policies as data, per legal entity, and the route they give a budget version: which levels it
 * must pass, in which order, who may decide at each, and how many of them must approve. The route is
 * computed once, when the version enters authorization, from the version's own figures (its total, its
 * increase over the active budget, the cost centers it touches); the workflow then walks it level by level.
 *
 * A policy has stages; the levels of a stage run in parallel and all must pass before the next stage opens.
 * A level is either the owners of the values of a dimension the version touches (each cost center's owner
 * approves that cost center's lines; each project's manager, each grant's principal investigator, each
 * department's head theirs) or a named group with a quorum ("any 2 of 3"). A level may apply only when the
 * version's total, or its increase over the active budget (absolute or %), is above a threshold.
 */

const Principal = z.string().trim().min(1).max(200);

export const ApprovalCondition = z
  .object({
    /** The version's total is above this (in the version's currency). */
    totalAbove: Money.optional(),
    /** The total's increase over the active budget of the same year is above this amount. */
    increaseAbove: Money.optional(),
    /** …or above this percentage of the active budget ("10" for 10%). */
    increasePercentAbove: z
      .string()
      .regex(/^\d{1,4}(\.\d{1,2})?$/, 'must be a percentage such as "10" or "12.5"')
      .optional(),
  })
  .strict()
  .refine((c) => Object.keys(c).length > 0, { message: 'names no threshold: leave the condition out' });
export type ApprovalCondition = z.infer<typeof ApprovalCondition>;

export const ApprovalLevelSpec = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('cost_center_owners'),
      name: z.string().trim().min(1).max(100),
      /** Who approves a cost center's lines when its owner is the submitter or it has none. */
      fallback: z.array(Principal).min(1),
      when: ApprovalCondition.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('dimension_owners'),
      name: z.string().trim().min(1).max(100),
      /** The chart dimension whose values' owners approve their lines ("project", "department", "fund"). */
      dimension: z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, 'must be a dimension code such as "project"'),
      /** Who approves a value's lines when its owner is the submitter or it has none. */
      fallback: z.array(Principal).min(1),
      when: ApprovalCondition.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('group'),
      name: z.string().trim().min(1).max(100),
      approvers: z.array(Principal).min(1),
      /** How many of them must approve; absent: one. */
      quorum: z.number().int().min(1).optional(),
      when: ApprovalCondition.optional(),
    })
    .strict()
    .refine((l) => (l.quorum ?? 1) <= l.approvers.length, {
      path: ['quorum'],
      message: 'is more than the level has approvers',
    }),
]);
export type ApprovalLevelSpec = z.infer<typeof ApprovalLevelSpec>;

export const ApprovalPolicySpec = z
  .object({
    legalEntity: z.string().trim().min(1),
    /** Stages in order; the levels of one stage run in parallel. */
    stages: z.array(z.array(ApprovalLevelSpec).min(1)).min(1),
    /** Who is told, beside the approvers, when a level waits past its approval window. */
    escalateTo: z.array(Principal).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = p.stages.flat().map((l) => l.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['stages'], message: `level name "${dup}" is used twice` });
  });
export type ApprovalPolicySpec = z.infer<typeof ApprovalPolicySpec>;

/** The dimensions a policy's owners levels name beside cost centers (each routed by its values' owners). */
export const ownedDimensions = (spec: Pick<ApprovalPolicySpec, 'stages'>) => [
  ...new Set(spec.stages.flat().flatMap((l) => (l.kind === 'dimension_owners' ? [l.dimension] : []))),
];

/** What the route is computed from: the version's own figures and who owns its cost centers. */
export interface VersionForRouting {
  submittedBy: string;
  total: Money;
  /** The active budget of the same year, when there is one (a first budget has none). */
  activeTotal?: Money;
  /** The cost centers the version has lines on, each with its total. */
  costCenters: { costCenter: string; total: Money }[];
  /** Cost center → its owner(s), effective today. */
  owners: Record<string, readonly string[]>;
  /**
   * For each other dimension a level names: the values the version has lines on, each with its total, and
   * each value's owner(s) effective today.
   */
  dimensionValues?: Record<
    string,
    { values: { value: string; total: Money }[]; owners: Record<string, readonly string[]> }
  >;
  /** Integration administrators never approve budgets (segregation of duties). */
  integrationAdmins: readonly string[];
  /** Delegations in force: approver → who decides in their place (never the submitter). */
  delegations?: Record<string, readonly string[]>;
}

/** One level of a route: who may decide, how many approvals it needs, and what it covers. */
export interface RouteLevel {
  name: string;
  /** For an owners level, one step per value: `${level name}:${value}`. */
  key: string;
  costCenter?: string;
  /** For a dimension owners level: the dimension and the value whose lines this step approves. */
  dimension?: string;
  value?: string;
  approvers: string[];
  required: number;
  /** Delegates who may decide here in an approver's place: delegate → the approver they act for. */
  delegates?: Record<string, string>;
  /** Why the level applies (a threshold crossed) or who stands in (a fallback). */
  reason?: string;
}

export interface ApprovalRoute {
  /** Stages in order; every level of a stage must pass before the next opens. */
  stages: RouteLevel[][];
  /** Levels the policy has that this version does not need, with why. */
  skipped: { name: string; reason: string }[];
}

export class UnroutableVersion extends Error {
  constructor(
    message: string,
    readonly level: string,
  ) {
    super(message);
  }
}

function percentHundredths(pct: string): bigint {
  const [whole, frac = ''] = pct.split('.');
  return BigInt(whole!) * 100n + BigInt(`${frac}00`.slice(0, 2));
}

/** Whether a level's condition holds for the version, and the words that say why. */
function conditionHolds(
  when: ApprovalCondition | undefined,
  v: VersionForRouting,
): { holds: boolean; reason?: string } {
  if (!when) return { holds: true };
  const reasons: string[] = [];
  const cur = v.total.currency;
  const inCurrency = (m: Money, what: string) => {
    if (m.currency !== cur)
      throw new UnroutableVersion(`${what} is in ${m.currency}, the version in ${cur}`, what);
    return m;
  };
  if (when.totalAbove && compare(v.total, inCurrency(when.totalAbove, 'totalAbove')) > 0)
    reasons.push(`total ${v.total.amount} ${cur} is above ${when.totalAbove.amount}`);
  if (v.activeTotal) {
    const increase = subtract(v.total, v.activeTotal);
    if (when.increaseAbove && compare(increase, inCurrency(when.increaseAbove, 'increaseAbove')) > 0)
      reasons.push(
        `increase ${increase.amount} ${cur} over the active budget is above ${when.increaseAbove.amount}`,
      );
    if (when.increasePercentAbove !== undefined) {
      const base = toMinor(v.activeTotal.amount, cur);
      const inc = toMinor(increase.amount, cur);
      // inc / base > pct / 100, compared on integers (pct in hundredths of a percent).
      const pct = percentHundredths(when.increasePercentAbove);
      const above = base > 0n ? inc * 10_000n > pct * base : inc > 0n;
      if (above) reasons.push(`increase over the active budget is above ${when.increasePercentAbove}%`);
    }
  } else if (when.increaseAbove || when.increasePercentAbove !== undefined) {
    // A first budget has no active one to grow from: the whole total is the increase.
    const limit = when.increaseAbove && inCurrency(when.increaseAbove, 'increaseAbove');
    if (!limit || compare(v.total, limit) > 0)
      reasons.push(`first budget of the year (no active budget): the whole ${v.total.amount} ${cur} is new`);
  }
  return reasons.length ? { holds: true, reason: reasons.join('; ') } : { holds: false };
}

/**
 * The route of a version under a policy. Throws UnroutableVersion when a level cannot be staffed: every
 * approver it names is the submitter or an integration administrator, or fewer remain than its quorum.
 */
export function routeVersion(policy: ApprovalPolicySpec, v: VersionForRouting): ApprovalRoute {
  const eligible = (ps: readonly string[]) =>
    [...new Set(ps)].filter((p) => p !== v.submittedBy && !v.integrationAdmins.includes(p));
  const stages: RouteLevel[][] = [];
  const skipped: ApprovalRoute['skipped'] = [];
  for (const stage of policy.stages) {
    const levels: RouteLevel[] = [];
    for (const spec of stage) {
      const cond = conditionHolds(spec.when, v);
      if (!cond.holds) {
        skipped.push({ name: spec.name, reason: 'no threshold of the level is crossed' });
        continue;
      }
      if (spec.kind === 'group') {
        const approvers = eligible(spec.approvers);
        const required = spec.quorum ?? 1;
        if (approvers.length < required)
          throw new UnroutableVersion(
            `level "${spec.name}" needs ${required} approval(s) but only ${approvers.length} of its approvers may decide on a version ${v.submittedBy} submitted`,
            spec.name,
          );
        levels.push({ name: spec.name, key: spec.name, approvers, required, reason: cond.reason });
        continue;
      }
      const byValue =
        spec.kind === 'cost_center_owners'
          ? {
              dimension: 'costCenter',
              label: (x: string) => x,
              values: v.costCenters.map((c) => c.costCenter),
              owners: v.owners,
            }
          : {
              dimension: spec.dimension,
              label: (x: string) => `${spec.dimension} ${x}`,
              values: (v.dimensionValues?.[spec.dimension]?.values ?? []).map((x) => x.value),
              owners: v.dimensionValues?.[spec.dimension]?.owners ?? {},
            };
      for (const value of [...byValue.values].sort((a, b) => a.localeCompare(b))) {
        const named = byValue.label(value);
        const owners = eligible(byValue.owners[value] ?? []);
        const fallback = eligible(spec.fallback);
        const approvers = owners.length ? owners : fallback;
        if (!approvers.length)
          throw new UnroutableVersion(
            `level "${spec.name}": nobody but the submitter may approve ${named}`,
            spec.name,
          );
        const standIn = owners.length
          ? undefined
          : (byValue.owners[value] ?? []).length
            ? `${named}'s owner submitted the version: ${fallback.join(', ')} approve in their place`
            : `${named} has no owner: ${fallback.join(', ')} approve in their place`;
        levels.push({
          name: spec.name,
          key: `${spec.name}:${value}`,
          ...(spec.kind === 'cost_center_owners'
            ? { costCenter: value }
            : { dimension: byValue.dimension, value }),
          approvers,
          required: 1,
          reason: [cond.reason, standIn].filter(Boolean).join('; ') || undefined,
        });
      }
    }
    if (levels.length) stages.push(levels);
  }
  if (!stages.length)
    throw new UnroutableVersion('the policy routes this version to no level at all', '(policy)');
  for (const level of stages.flat()) {
    const delegates = levelDelegates(level.approvers, v.delegations ?? {}, v);
    if (delegates) level.delegates = delegates;
  }
  return { stages, skipped };
}

/**
 * Who may decide at a level in an approver's place, from the delegations in force: delegate → approver.
 * Segregation of duties holds for delegates as for anyone: never the submitter or an integration admin,
 * and an approver of the level already decides for themselves. Undefined when there are none.
 */
export function levelDelegates(
  approvers: readonly string[],
  delegations: Record<string, readonly string[]>,
  who: { submittedBy: string; integrationAdmins: readonly string[] },
): Record<string, string> | undefined {
  const delegates: Record<string, string> = {};
  for (const approver of approvers)
    for (const d of delegations[approver] ?? [])
      if (
        d !== who.submittedBy &&
        !who.integrationAdmins.includes(d) &&
        !approvers.includes(d) &&
        !delegates[d]
      )
        delegates[d] = approver;
  return Object.keys(delegates).length ? delegates : undefined;
}
