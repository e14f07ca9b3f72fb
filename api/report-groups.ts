import { type Database } from '../db/client';
import { treesAsOf } from '../db/queries/budget-report';
import { chartVersions } from '../db/queries/chart';
import { findPeriod, fiscalYearPeriods, type LegalEntityRow } from '../db/queries/reference';
import { chartDimensionCodes } from '../domain/chart';
import { bucketRow, groupedReport, REPORT_FIGURES, type ReportLine } from '../domain/close-report';
import { type TreeAsOf } from '../domain/hierarchy';
import { dimensionsWithLevels, groupFigures, type GroupTerm, termLabel } from '../domain/report-grouping';
import { unknownReference } from './references';

/** Reports grouped by any dimension or hierarchy level (domain/report-grouping), as the routes answer them. */

/**
 * What grouping a report by `terms` needs (domain/report-grouping): every term's dimension must be in the
 * entity's chart (any version), else one 422 names them all; hierarchy levels are read as of `asOf`, by
 * default the fiscal year's last day.
 */
export async function groupingTrees(
  db: Database,
  entity: LegalEntityRow,
  fiscalYear: number,
  terms: readonly GroupTerm[],
  asOf?: string,
): Promise<{ trees: Map<string, TreeAsOf>; asOf: string }> {
  const known = chartDimensionCodes(await chartVersions(db, entity.code));
  const unknown = terms.filter((t) => !known.includes(t.dimension));
  if (unknown.length)
    throw unknownReference(
      unknown.map((t) => ({
        field: 'groupBy',
        message: `${entity.code}'s chart has no dimension ${t.dimension}`,
      })),
    );
  const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, fiscalYear);
  const onDate = asOf ?? periods[periods.length - 1]?.endDate ?? `${fiscalYear}-12-31`;
  return { trees: await treesAsOf(db, entity.code, dimensionsWithLevels(terms), onDate), asOf: onDate };
}

/** A close report's lines grouped by `terms`, hierarchy levels as of the period's last day. */
export async function closeReportGroups(
  db: Database,
  entity: LegalEntityRow,
  period: string,
  lines: readonly ReportLine[],
  terms: readonly GroupTerm[],
) {
  const fiscalPeriod = await findPeriod(db, entity.fiscalCalendar, period);
  const { trees, asOf } = await groupingTrees(
    db,
    entity,
    fiscalPeriod!.fiscalYear,
    terms,
    fiscalPeriod!.endDate,
  );
  return {
    groupBy: terms.map(termLabel),
    asOf,
    ...groupedReport(groupFigures(lines.map(bucketRow), terms, trees, REPORT_FIGURES)),
  };
}

/**
 * A grouped report as a spreadsheet's rows: the grouping's columns, then `columns`; a row per group, then a
 * TOTAL row per currency. `cell` reads a column of a group or a total.
 */
export function groupedTable<G extends { key: Record<string, string | null> }, T>(
  labels: readonly string[],
  columns: readonly string[],
  grouped: { groups: readonly G[]; totals: readonly T[] },
  cell: (row: G | T, column: string) => string | null | undefined,
): string[][] {
  return [
    [...labels, ...columns],
    ...grouped.groups.map((g) => [
      ...labels.map((l) => g.key[l] ?? ''),
      ...columns.map((c) => cell(g, c) ?? ''),
    ]),
    ...grouped.totals.map((t) => [
      ...labels.map((_, i) => (i === 0 ? 'TOTAL' : '')),
      ...columns.map((c) => cell(t, c) ?? ''),
    ]),
  ];
}
