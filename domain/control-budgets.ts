import { z } from 'zod';
import { CONTROL_LEVELS, PERIOD_BASES, pooledPeriods, TolerancePercent } from './budget-control';
import { CombinationFilter, matchesFilter, type TreesAsOf } from './cross-validation';
import { IsoDate, type Dimensions } from './model';
import { type FiscalPeriodRef } from './reference';
import { GroupBy, type GroupTerm, termLabel, termValue } from './report-grouping';
import { type TreeAsOf } from './hierarchy';

/**
 * Control budgets as data (issue 22): what an entity controls spend against, on any dimensions and any
 * hierarchy level. A control budget covers the combinations its filter matches (operating expenses: accounts
 * under OPEX) and is split per the values of some dimensions (`per: ["department"]`: one budget per
 * department), each with its control level, tolerance and period basis. A line falls in every control budget
 * that covers it (Oracle checks a transaction against each control budget that covers it; Dynamics 365 budget
 * groups pool several combinations), and spend goes ahead only if all of them allow it.
 */

/** How a control budget pools its periods: as budget control does, or over the life of a project or grant. */
export const CONTROL_BUDGET_BASES = [...PERIOD_BASES, 'life_to_date'] as const;
export type ControlBudgetBasis = (typeof CONTROL_BUDGET_BASES)[number];

export const ControlBudgetSpec = z
  .object({
    code: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9_-]{1,39}$/, 'must be an upper-case control budget code such as "OPEX-DEPT"'),
    description: z.string().min(3).max(300),
    /** The combinations it covers, in the form cross-validation rules filter them. */
    covers: CombinationFilter,
    /** The dimensions (or hierarchy levels, "account@1") whose values split it; empty: one budget. */
    per: z.string().default('').pipe(GroupBy),
    level: z.enum(CONTROL_LEVELS),
    tolerancePercent: TolerancePercent.default('0'),
    periodBasis: z.enum(CONTROL_BUDGET_BASES),
    validFrom: IsoDate,
    /** Exclusive; null while open-ended. */
    validTo: IsoDate.nullable().default(null),
  })
  .strict()
  .refine((b) => b.validTo === null || b.validTo > b.validFrom, {
    message: 'validTo must be after validFrom',
    path: ['validTo'],
  });
export type ControlBudgetSpec = z.infer<typeof ControlBudgetSpec>;

/** One budget of a control budget: the spec and the values of its `per` terms (null: the line has none). */
export interface ControlBudgetKey {
  code: string;
  values: Record<string, string | null>;
}

/** A stable text form of a key, for ordering locks and naming balances ("OPEX-DEPT[department=ENG]"). */
export function controlBudgetKeyText(k: ControlBudgetKey): string {
  const parts = Object.keys(k.values)
    .sort()
    .map((t) => `${t}=${k.values[t] ?? ''}`);
  return `${k.code}[${parts.join(',')}]`;
}

/**
 * Every budget a line's combination falls in on a date: for each control budget in force whose filter
 * covers it, the budget of its `per` values. Sorted by their text form: the order funds are locked in.
 */
export function controlBudgetsOf(
  specs: readonly ControlBudgetSpec[],
  dims: Dimensions,
  onDate: string,
  trees: TreesAsOf,
): { spec: ControlBudgetSpec; key: ControlBudgetKey }[] {
  return specs
    .filter((s) => s.validFrom <= onDate && (s.validTo === null || onDate < s.validTo))
    .filter((s) => matchesFilter(s.covers, dims, trees))
    .map((spec) => {
      const levels = new Map<string, TreeAsOf>();
      for (const t of spec.per) {
        const tree = t.level === undefined ? undefined : trees(t.dimension);
        if (tree) levels.set(t.dimension, tree);
      }
      return {
        spec,
        key: {
          code: spec.code,
          values: Object.fromEntries(
            spec.per.map((t: GroupTerm) => [termLabel(t), termValue(dims, t, levels)]),
          ),
        },
      };
    })
    .sort((a, b) => (controlBudgetKeyText(a.key) < controlBudgetKeyText(b.key) ? -1 : 1));
}

/**
 * The periods a control budget pools with `period`: within the fiscal year as budget control does, or,
 * life to date, every period of the calendar from the first one on or after `since` (a grant's award start)
 * through `period`, across fiscal years. Adjustment periods pool with their year.
 */
export function controlBudgetPeriods(
  period: string,
  basis: ControlBudgetBasis,
  calendar: readonly (FiscalPeriodRef & { fiscalYear: number })[],
  since?: string,
): string[] | undefined {
  const at = calendar.find((p) => p.period === period);
  if (!at) return undefined;
  if (basis !== 'life_to_date')
    return pooledPeriods(
      period,
      basis,
      calendar.filter((p) => p.fiscalYear === at.fiscalYear),
    );
  return [...calendar]
    .filter(
      (p) =>
        (since === undefined || p.endDate >= since) &&
        (p.fiscalYear < at.fiscalYear ||
          (p.fiscalYear === at.fiscalYear && p.periodNumber <= at.periodNumber)),
    )
    .sort((a, b) => a.fiscalYear - b.fiscalYear || a.periodNumber - b.periodNumber)
    .map((p) => p.period);
}

/** A budget a line falls in, with what decides it: the form reservations are checked and held in. */
export interface BudgetControl {
  /** controlBudgetKeyText: the balance's name and lock order. */
  key: string;
  code: string;
  values: Record<string, string | null>;
  level: ControlBudgetSpec['level'];
  tolerancePercent: string;
  pooledPeriods: string[];
  /** A grant's indirect cost rate, counted on top of each amount (a project's funding; domain/projects). */
  indirectPercent?: string;
}

/** The dimensions a set of control budgets names (filters and splits): the hierarchies they may need. */
export const dimensionsNamedBy = (specs: readonly ControlBudgetSpec[]) => [
  ...new Set(specs.flatMap((s) => [...Object.keys(s.covers), ...s.per.map((t) => t.dimension)])),
];

/**
 * Every budget a line in `period` falls in, read as of the period's first day (as the line's dimension values
 * are), each with the periods its funds pool over. A life-to-date budget pools from its own start (a grant's
 * award start), across fiscal years.
 */
export function budgetControlsOf(
  specs: readonly ControlBudgetSpec[],
  dims: Dimensions,
  period: FiscalPeriodRef & { fiscalYear: number },
  calendar: readonly (FiscalPeriodRef & { fiscalYear: number })[],
  trees: TreesAsOf,
): BudgetControl[] {
  return controlBudgetsOf(specs, dims, period.startDate, trees).map(({ spec, key }) => ({
    key: controlBudgetKeyText(key),
    code: key.code,
    values: key.values,
    level: spec.level,
    tolerancePercent: spec.tolerancePercent,
    pooledPeriods: controlBudgetPeriods(period.period, spec.periodBasis, calendar, spec.validFrom) ?? [
      period.period,
    ],
  }));
}

/**
 * A line's whole combination as control budgets read it: its other dimensions, its account, and its cost
 * center unless it has none (a chart where it is optional keeps '' in the bucket).
 */
export const wholeCombination = (
  account: string,
  costCenter: string | null | undefined,
  other?: Record<string, string> | null,
): Dimensions => ({ ...other, account, ...(costCenter ? { costCenter } : {}) });
