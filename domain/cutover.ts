import { nextDay } from './master-data';
import { type Dimensions } from './model';
import { fromMinor, toMinor } from './money';
import { combinationKey, type KeyedAmount } from './revision';

/**
 * An entity's move from one ERP to another at a date, as effective-dated routing: from the cut-over day the new
 * ERP receives the budget; for the parallel run's periods the old one still does too, so the two can be compared
 * line by line before the old one stops; a rollback at a later day makes the old ERP the target again, and what
 * the new one received since is sent to it from closeloop's own record. Which ERP's actuals count during the
 * parallel run is part of the cut-over; the other's are for comparison only.
 */

export const CUTOVER_STATUSES = ['scheduled', 'rolled_back'] as const;
export type CutoverStatus = (typeof CUTOVER_STATUSES)[number];
export const ACTUALS_DURING_PARALLEL = ['old', 'new'] as const;
export type ActualsDuringParallel = (typeof ACTUALS_DURING_PARALLEL)[number];

export interface Cutover {
  legalEntity: string;
  fromTarget: string;
  toTarget: string;
  cutoverDate: string;
  /** The first day after the parallel run (the cut-over day when there is none): the old ERP's route ends then. */
  parallelUntil: string;
  actualsDuringParallel: ActualsDuringParallel;
  status: CutoverStatus;
  rollbackDate: string | null;
}

/**
 * The first day after `periods` of the entity's calendar starting with the one the cut-over day begins: where the
 * parallel run ends. The cut-over must fall on a period's first day (periods move whole).
 */
export function parallelRunEnd(
  cutoverDate: string,
  periods: number,
  calendar: readonly { startDate: string; endDate: string; kind?: string }[],
): { until: string } | { error: string } {
  const regular = calendar
    .filter((p) => p.kind !== 'adjustment')
    .sort((a, b) => (a.startDate < b.startDate ? -1 : 1));
  const at = regular.findIndex((p) => p.startDate === cutoverDate);
  if (at < 0) return { error: `${cutoverDate} is not the first day of a period of the entity's calendar` };
  if (periods === 0) return { until: cutoverDate };
  const last = regular[at + periods - 1];
  if (!last)
    return {
      error: `the calendar has fewer than ${periods} periods from ${cutoverDate}: define the next fiscal year first`,
    };
  return { until: nextDay(last.endDate) };
}

/**
 * Which ERP's books count for budget control on a day: the old one before the cut-over, the new one after the
 * parallel run, and during it the one the cut-over names; after a rollback, the old one again from its day.
 */
export function booksOn(c: Cutover, day: string): string {
  if (c.status === 'rolled_back' && c.rollbackDate !== null && day >= c.rollbackDate) return c.fromTarget;
  if (day < c.cutoverDate) return c.fromTarget;
  if (day >= c.parallelUntil) return c.toTarget;
  return c.actualsDuringParallel === 'new' ? c.toTarget : c.fromTarget;
}

/** The windows of `[from, to]` (inclusive days) whose books are in one ERP each, in order. */
export function booksWindows(
  c: Cutover,
  window: { from: string; to: string },
): { system: string; from: string; to: string }[] {
  const cuts = [c.cutoverDate, c.parallelUntil, ...(c.rollbackDate ? [c.rollbackDate] : [])]
    .filter((d) => d > window.from && d <= window.to)
    .sort();
  const out: { system: string; from: string; to: string }[] = [];
  let from = window.from;
  for (const cut of [...new Set(cuts)]) {
    out.push({ system: booksOn(c, from), from, to: previousDay(cut) });
    from = cut;
  }
  out.push({ system: booksOn(c, from), from, to: window.to });
  // Neighbouring windows of one ERP read as one.
  return out.reduce<typeof out>((acc, w) => {
    const last = acc[acc.length - 1];
    if (last && last.system === w.system) last.to = w.to;
    else acc.push({ ...w });
    return acc;
  }, []);
}

/**
 * The days of `[from, to]` in the parallel run (cut short by a rollback) and the ERP whose posted lines over them
 * are read for the comparison only, its books not counting then; null when the window has none of the run.
 */
export function parallelWindow(
  c: Cutover,
  window: { from: string; to: string },
): { system: string; from: string; to: string } | null {
  const end =
    c.status === 'rolled_back' && c.rollbackDate && c.rollbackDate < c.parallelUntil
      ? c.rollbackDate
      : c.parallelUntil;
  const from = c.cutoverDate > window.from ? c.cutoverDate : window.from;
  const last = previousDay(end);
  const to = last < window.to ? last : window.to;
  if (from > to) return null;
  return { system: c.actualsDuringParallel === 'new' ? c.fromTarget : c.toTarget, from, to };
}

/**
 * Whether a posted line is one of the migration's own journals in the new ERP (an opening balance, a conversion),
 * by the journal source or category the cut-over names: such a line is never an actual.
 */
export function isMigrationJournal(
  line: { journal?: { source?: string; category?: string } },
  conversionSources: readonly string[],
): boolean {
  if (!conversionSources.length || !line.journal) return false;
  const names = [line.journal.source, line.journal.category].filter((n): n is string => Boolean(n));
  return names.some((n) => conversionSources.some((c) => c.toLowerCase() === n.toLowerCase()));
}

export interface HoldingDifference {
  dimensions: Dimensions;
  period: string;
  currency: string;
  old: string;
  new: string;
  /** new − old. */
  difference: string;
}

/**
 * What two ERPs hold of one budget over the parallel run, compared line by line (combination, period, currency)
 * and in total per currency: every line where they differ, one ERP holding it and the other not included.
 */
export function compareHoldings(
  oldHeld: readonly KeyedAmount[],
  newHeld: readonly KeyedAmount[],
): {
  lines: HoldingDifference[];
  totals: { currency: string; old: string; new: string; difference: string }[];
} {
  const sums = new Map<
    string,
    { dimensions: Dimensions; period: string; currency: string; old: bigint; new: bigint }
  >();
  const add = (l: KeyedAmount, side: 'old' | 'new') => {
    const key = `${combinationKey(l.dimensions)}|${l.period}|${l.currency}`;
    const s = sums.get(key) ?? {
      dimensions: l.dimensions,
      period: l.period,
      currency: l.currency,
      old: 0n,
      new: 0n,
    };
    s[side] += toMinor(l.amount, l.currency);
    sums.set(key, s);
  };
  for (const l of oldHeld) add(l, 'old');
  for (const l of newHeld) add(l, 'new');
  const totals = new Map<string, { old: bigint; new: bigint }>();
  const lines: HoldingDifference[] = [];
  for (const s of [...sums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v)) {
    const t = totals.get(s.currency) ?? { old: 0n, new: 0n };
    t.old += s.old;
    t.new += s.new;
    totals.set(s.currency, t);
    if (s.old !== s.new)
      lines.push({
        dimensions: s.dimensions,
        period: s.period,
        currency: s.currency,
        old: fromMinor(s.old, s.currency),
        new: fromMinor(s.new, s.currency),
        difference: fromMinor(s.new - s.old, s.currency),
      });
  }
  return {
    lines,
    totals: [...totals]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([currency, t]) => ({
        currency,
        old: fromMinor(t.old, currency),
        new: fromMinor(t.new, currency),
        difference: fromMinor(t.new - t.old, currency),
      })),
  };
}

const previousDay = (iso: string) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
};
