import { mapDimensions, type MissingMapping } from '../domain/mapping';
import { money } from '../domain/money';
import { type Database } from '../db/client';
import { type PlannedLine } from '../db/queries/publications';
import { fiscalYearPeriods, type LegalEntityRow, loadMappings } from '../db/queries/reference';
import { type TargetBudgetLine } from './connectors/types';
import { mappingMissing, notFound } from './failures';

/**
 * Maps canonical lines to a target system's values, each with the mapping effective on the first day of its
 * period, page by page (the mappings and calendar are read once): what each page maps to, and what it misses.
 */
export async function targetLineMapper(
  db: Database,
  v: { entity: LegalEntityRow; fiscalYear: number; target: string },
) {
  const [mappings, periods] = await Promise.all([
    loadMappings(db, v.target),
    fiscalYearPeriods(db, v.entity.fiscalCalendar, v.fiscalYear),
  ]);
  const startOf = new Map(periods.map((p) => [p.period, p.startDate]));
  return (lines: readonly PlannedLine[]) => {
    const missing: MissingLineMapping[] = [];
    const out: TargetBudgetLine[] = [];
    for (const l of lines) {
      const date = startOf.get(l.period);
      if (!date) throw notFound(`period ${l.period} is not in ${v.entity.fiscalCalendar} FY${v.fiscalYear}`);
      const mapped = mapDimensions(mappings, l.dimensions, date);
      if ('missing' in mapped) {
        missing.push(...mapped.missing.map((m) => ({ ...m, lineNo: l.lineNo })));
        continue;
      }
      out.push({
        lineNumber: l.lineNo,
        dimensions: mapped.values,
        period: l.period,
        date,
        amount: money(l.amount, l.currency),
      });
    }
    return { lines: out, missing };
  };
}

export type MissingLineMapping = MissingMapping & { lineNo: number };

/** The failure naming missing mappings: how many, the first twenty, and (in its details) those kept. */
export function missingMappingsFailure(
  target: string,
  count: number,
  missing: readonly MissingLineMapping[],
) {
  const listed = missing
    .slice(0, 20)
    .map((m) => `line ${m.lineNo}: ${m.dimension} ${m.code} on ${m.onDate}`)
    .join('; ');
  return mappingMissing(`${count} dimension value(s) have no ${target} mapping: ${listed}`, { missing });
}

/**
 * Canonical lines in a target system's values, each mapped with the mapping effective on the first day of its
 * period. Every missing mapping is reported at once, before anything is posted.
 */
export async function targetLinesFor(
  db: Database,
  v: { entity: LegalEntityRow; fiscalYear: number; target: string; lines: readonly PlannedLine[] },
): Promise<TargetBudgetLine[]> {
  const { lines, missing } = (await targetLineMapper(db, v))(v.lines);
  if (missing.length) throw missingMappingsFailure(v.target, missing.length, missing);
  return lines;
}
