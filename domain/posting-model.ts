import { z } from 'zod';
import { type Dimensions } from './model';
import { type Money, fromMinor, money, toMinor } from './money';
import {
  type Difference,
  type KeyedAmount,
  budgetKey,
  combinationKey,
  netByKey,
  publicationDifferences,
} from './revision';

/**
 * How a target ERP holds a budget, and so what closeloop sends it to make it hold what should be in control.
 * Every model is computed the same way, from the difference between what the target holds and what should be
 * held, so a first publication, a revision, a reversal and a retry after a lost answer are each right for the
 * ERP: a retry computed again from what the target now holds sends only what is still missing.
 *
 * - `additive`: each entry adds to what the target holds and is never changed once completed; a change is
 *   posted as its differences and undone by the same entries negated (Dynamics 365 budget register entries).
 * - `control-budget`: the target keeps a control budget's balance and its own record of each revision; a
 *   change is a budget transaction of the differences, increases and decreases (Oracle Fusion budgetary
 *   control's budget entries). What is sent is the additive model's; the ERP records it as a revision.
 * - `replace-scope`: the target replaces everything it holds in a scope with what is sent (plan data per
 *   version, company code and period). A scope is sent whole when anything in it changed; a combination the
 *   scope held and should no longer hold is sent at zero, so the ERP clears it whether it replaces or upserts.
 * - `annual-lines`: one line per combination and year with an amount for each period (a NetSuite budget
 *   record); a line is sent whole when any of its periods changed, its closed periods at what they hold.
 */
export const POSTING_MODELS = ['additive', 'control-budget', 'replace-scope', 'annual-lines'] as const;
export const PostingModel = z.enum(POSTING_MODELS);
export type PostingModel = z.infer<typeof PostingModel>;

/** One line of a whole scope or of an annual line: the amount the target is to hold (zero clears it). */
export interface HeldAmount {
  dimensions: Dimensions;
  period: string;
  amount: Money;
}

export interface AnnualLine {
  dimensions: Dimensions;
  year: string;
  currency: string;
  /** Every period of the year the target is to hold an amount in, in period order. */
  periods: { period: string; amount: Money }[];
}

export type PostingPlan =
  /** Entries to post: the differences (positive and negative), in the version's line order. */
  | { model: 'additive' | 'control-budget'; entries: Difference[] }
  /** Scopes to replace, each with everything it is to hold, in scope order. */
  | { model: 'replace-scope'; scopes: { scope: string; lines: HeldAmount[] }[] }
  /** Annual lines to set whole, in combination and year order. */
  | { model: 'annual-lines'; lines: AnnualLine[] };

export interface PlanResult {
  plan: PostingPlan;
  /**
   * The differences the plan makes to what the target holds, in open periods: what closeloop records as
   * published, whatever the model sends (so what it holds on a target is always the sum of what it published).
   */
  differences: Difference[];
  /**
   * Differences that fall in a period closed in closeloop or in the target ERP: none of them may be posted,
   * so a plan with any is refused whole (the caller names them), whatever the model.
   */
  closed: Difference[];
  /** True when the target already holds what should be held: nothing to send. */
  empty: boolean;
}

export interface PlanOptions {
  /** Whether a period is open for budget postings in closeloop and in the target ERP. */
  isOpen: (period: string) => boolean;
  /** `replace-scope`: the scope a line falls in (required for that model). */
  scopeOf?: (line: { dimensions: Dimensions; period: string }) => string;
  /** `annual-lines`: the fiscal year a period falls in (required for that model). */
  yearOf?: (period: string) => string;
}

/**
 * What to send a target that holds `held` so that it holds `should`, under its posting model. `held` is what
 * the target holds (read from the ERP where it can say, else what closeloop recorded posting there); both may
 * repeat a key (they are summed). To undo a plan that was sent, plan again with the two swapped.
 */
export function planPosting(
  model: PostingModel,
  should: readonly KeyedAmount[],
  held: readonly KeyedAmount[],
  opts: PlanOptions,
): PlanResult {
  // Every model refuses the same changes: a difference in a period that is not open.
  const { lines: differences, closed } = publicationDifferences(should, held, opts.isOpen);
  if (model === 'additive' || model === 'control-budget') {
    return { plan: { model, entries: differences }, differences, closed, empty: differences.length === 0 };
  }
  const changed = [...differences, ...closed];
  const target = netByKey(should);
  const before = netByKey(held);
  // Every key either side holds, each at what it is to hold (zero where only the target holds it).
  const keys = new Map<string, HeldAmount & { currency: string }>();
  for (const [key, k] of before)
    keys.set(key, { dimensions: k.dimensions, period: k.period, currency: k.currency, amount: zeroOf(k) });
  for (const [key, k] of target)
    keys.set(key, {
      dimensions: k.dimensions,
      period: k.period,
      currency: k.currency,
      amount: money(fromMinor(k.minor, k.currency), k.currency),
    });

  if (model === 'replace-scope') {
    const scopeOf = required(opts.scopeOf, 'scopeOf', model);
    const touched = new Set(changed.map((d) => scopeOf(d)));
    // Each line with its sort key (combination, then period), computed once: a scope holds thousands of lines.
    const scopes = new Map<string, { key: string; line: HeldAmount }[]>();
    for (const k of keys.values()) {
      const scope = scopeOf(k);
      if (!touched.has(scope)) continue;
      let lines = scopes.get(scope);
      if (!lines) scopes.set(scope, (lines = []));
      lines.push({
        key: budgetKey(k),
        line: { dimensions: k.dimensions, period: k.period, amount: k.amount },
      });
    }
    const ordered = [...scopes].sort(([a], [b]) => (a < b ? -1 : 1));
    return {
      plan: {
        model,
        scopes: ordered.map(([scope, lines]) => ({
          scope,
          lines: lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((l) => l.line),
        })),
      },
      differences,
      closed,
      empty: ordered.length === 0,
    };
  }

  const yearOf = required(opts.yearOf, 'yearOf', model);
  const lineKey = (k: { dimensions: Dimensions; period: string; amount: Money }) =>
    `${combinationKey(k.dimensions)}|${yearOf(k.period)}|${k.amount.currency}`;
  const touched = new Set(changed.map(lineKey));
  const lines = new Map<string, AnnualLine>();
  for (const k of keys.values()) {
    const key = lineKey(k);
    if (!touched.has(key)) continue;
    const line = lines.get(key) ?? {
      dimensions: k.dimensions,
      year: yearOf(k.period),
      currency: k.currency,
      periods: [],
    };
    // A closed period's amount is not changed (such a change is in `closed` and refuses the plan): it is sent
    // at what the target holds, so the line stays whole.
    line.periods.push({ period: k.period, amount: k.amount });
    lines.set(key, line);
  }
  const ordered = [...lines].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, l]) => l);
  for (const l of ordered) l.periods.sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : 0));
  return { plan: { model, lines: ordered }, differences, closed, empty: ordered.length === 0 };
}

/**
 * What a `replace-scope` target is to hold in every scope some of `changes` fall in, once they are applied on
 * what it holds (`apply`), or taken back off it (`undo`): how one stored chunk of differences is sent to such a
 * target, and how it is taken back out. Computed again on a retry from the same holdings, it is the same.
 */
export function scopesAfter(
  held: readonly KeyedAmount[],
  changes: readonly KeyedAmount[],
  direction: 'apply' | 'undo',
  scopeOf: NonNullable<PlanOptions['scopeOf']>,
): HeldAmount[] {
  const signed =
    direction === 'apply'
      ? changes
      : changes.map((c) => ({ ...c, amount: fromMinor(-toMinor(c.amount, c.currency), c.currency) }));
  // Only the scopes the changes touch are sent: what is held elsewhere is left out before planning.
  const touched = new Set(changes.map((c) => scopeOf(c)));
  const inScope = held.filter((h) => touched.has(scopeOf(h)));
  const { plan } = planPosting('replace-scope', [...inScope, ...signed], inScope, {
    isOpen: () => true,
    scopeOf,
  });
  if (plan.model !== 'replace-scope') throw new Error('unreachable');
  // Stored differences are netted per combination and period, never zero: every scope they touch changed.
  return plan.scopes.flatMap((s) => s.lines);
}

const zeroOf = (k: { currency: string }) => money(fromMinor(0n, k.currency), k.currency);

function required<T>(value: T | undefined, name: string, model: PostingModel): T {
  if (value === undefined) throw new Error(`the ${model} posting model needs ${name}`);
  return value;
}
