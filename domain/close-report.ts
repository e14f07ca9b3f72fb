import { fromMinor, toMinor } from './money';

/**
 * The figures of a period close report: per bucket and in total, budget against what was committed and
 * spent, with the variance a controller reads (budget − actual, absolute and as a percentage of budget).
 * Exact: minor units throughout, the percentage rounded once, half away from zero, to two decimals.
 */

export interface BucketFigures {
  account: string;
  costCenter: string;
  currency: string;
  budget: string;
  reserved: string;
  committed: string;
  actual: string;
}

export interface ReportLine extends BucketFigures {
  variance: string;
  /** null when there is no budget to compare with. */
  variancePercent: string | null;
}

/** A report line's columns in the order a close report's CSV gives them. */
export const REPORT_LINE_COLUMNS = [
  'account',
  'costCenter',
  'currency',
  'budget',
  'reserved',
  'committed',
  'actual',
  'variance',
  'variancePercent',
] as const satisfies readonly (keyof ReportLine)[];

/** (budget − actual) / budget × 100, to two decimals, half away from zero; null without a budget. */
export function variancePercent(budgetMinor: bigint, varianceMinor: bigint): string | null {
  if (budgetMinor === 0n) return null;
  // Hundredths of a percent: variance × 10,000 / budget, rounded half away from zero.
  const scaled = varianceMinor * 10_000n;
  const negative = scaled < 0n !== budgetMinor < 0n;
  const num = scaled < 0n ? -scaled : scaled;
  const den = budgetMinor < 0n ? -budgetMinor : budgetMinor;
  let q = num / den;
  if ((num % den) * 2n >= den) q += 1n;
  const digits = q.toString().padStart(3, '0');
  return `${negative && q !== 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

export function reportLine(b: BucketFigures): ReportLine {
  const budget = toMinor(b.budget, b.currency);
  const variance = budget - toMinor(b.actual, b.currency);
  return {
    ...b,
    budget: fromMinor(budget, b.currency),
    reserved: fromMinor(toMinor(b.reserved, b.currency), b.currency),
    committed: fromMinor(toMinor(b.committed, b.currency), b.currency),
    actual: fromMinor(toMinor(b.actual, b.currency), b.currency),
    variance: fromMinor(variance, b.currency),
    variancePercent: variancePercent(budget, variance),
  };
}

/** Totals per currency (amounts of different currencies are never added together). */
export function reportTotals(lines: readonly ReportLine[]): Omit<ReportLine, 'account' | 'costCenter'>[] {
  const byCurrency = new Map<string, Record<'budget' | 'reserved' | 'committed' | 'actual', bigint>>();
  for (const l of lines) {
    const t = byCurrency.get(l.currency) ?? { budget: 0n, reserved: 0n, committed: 0n, actual: 0n };
    for (const k of ['budget', 'reserved', 'committed', 'actual'] as const) t[k] += toMinor(l[k], l.currency);
    byCurrency.set(l.currency, t);
  }
  return [...byCurrency].map(([currency, t]) => {
    const {
      account: _a,
      costCenter: _c,
      ...rest
    } = reportLine({
      account: '',
      costCenter: '',
      currency,
      budget: fromMinor(t.budget, currency),
      reserved: fromMinor(t.reserved, currency),
      committed: fromMinor(t.committed, currency),
      actual: fromMinor(t.actual, currency),
    });
    return rest;
  });
}
