import { fromMinor, percentOf, toMinor } from './money';
import { type FigureRow, type GroupedFigures, groupFigures } from './report-grouping';

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

/** The columns of a report's figures, after what they are grouped by, in the order its CSV gives them. */
export const REPORT_FIGURE_COLUMNS = [
  'currency',
  'budget',
  'reserved',
  'committed',
  'actual',
  'variance',
  'variancePercent',
] as const satisfies readonly (keyof ReportLine)[];

/** A report line's columns in the order a close report's CSV gives them. */
export const REPORT_LINE_COLUMNS = ['account', 'costCenter', ...REPORT_FIGURE_COLUMNS] as const;

/** (budget − actual) / budget × 100, to two decimals, half away from zero; null without a budget. */
export const variancePercent = (budgetMinor: bigint, varianceMinor: bigint) =>
  percentOf(varianceMinor, budgetMinor);

type Figures = Pick<BucketFigures, 'budget' | 'reserved' | 'committed' | 'actual'>;

/** The figures a close report sums, in the order it shows them. */
export const REPORT_FIGURES = ['budget', 'reserved', 'committed', 'actual'] as const;

/** Figures in the currency's own decimals, with their variance (absolute and %). */
export function withVariance(
  f: Figures,
  currency: string,
): Omit<ReportLine, 'account' | 'costCenter' | 'currency'> {
  const [budget, reserved, committed, actual] = REPORT_FIGURES.map((k) => toMinor(f[k], currency)) as [
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  const variance = budget - actual;
  return {
    budget: fromMinor(budget, currency),
    reserved: fromMinor(reserved, currency),
    committed: fromMinor(committed, currency),
    actual: fromMinor(actual, currency),
    variance: fromMinor(variance, currency),
    variancePercent: variancePercent(budget, variance),
  };
}

export function reportLine(b: BucketFigures): ReportLine {
  return {
    account: b.account,
    costCenter: b.costCenter,
    currency: b.currency,
    ...withVariance(b, b.currency),
  };
}

/** Totals per currency (amounts of different currencies are never added together). */
export function reportTotals(lines: readonly ReportLine[]): Omit<ReportLine, 'account' | 'costCenter'>[] {
  const grouped = groupFigures(lines.map(bucketRow), [], new Map(), REPORT_FIGURES);
  return grouped.totals.map((t) => ({
    currency: t.currency,
    ...withVariance(t.figures as Figures, t.currency),
  }));
}

/** A bucket as a row to group by its dimensions (domain/report-grouping). */
export function bucketRow(b: BucketFigures): FigureRow {
  return {
    dimensions: { account: b.account, costCenter: b.costCenter },
    currency: b.currency,
    figures: { budget: b.budget, reserved: b.reserved, committed: b.committed, actual: b.actual },
  };
}

/** A close report grouped by any dimension or hierarchy level: each group's figures with their variance. */
export function groupedReport(grouped: GroupedFigures) {
  return {
    groups: grouped.groups.map((g) => ({
      key: g.key,
      currency: g.currency,
      ...withVariance(g.figures as Figures, g.currency),
    })),
    totals: grouped.totals.map((t) => ({
      currency: t.currency,
      ...withVariance(t.figures as Figures, t.currency),
    })),
  };
}
