import { mapDimensions, type MissingMapping } from '../domain/mapping';
import { money } from '../domain/money';
import { type Database } from '../db/client';
import { type PlannedLine } from '../db/queries/publications';
import { fiscalYearPeriods, type LegalEntityRow, loadMappings } from '../db/queries/reference';
import { type TargetBudgetLine } from './connectors/types';
import { mappingMissing, notFound } from './failures';

/**
 * Canonical lines in a target system's values, each mapped with the mapping effective on the first day of its
 * period. Every missing mapping is reported at once, before anything is posted.
 */
export async function targetLinesFor(
  db: Database,
  v: { entity: LegalEntityRow; fiscalYear: number; target: string; lines: readonly PlannedLine[] },
): Promise<TargetBudgetLine[]> {
  const [mappings, periods] = await Promise.all([
    loadMappings(db, v.target),
    fiscalYearPeriods(db, v.entity.fiscalCalendar, v.fiscalYear),
  ]);
  const startOf = new Map(periods.map((p) => [p.period, p.startDate]));
  const missing: (MissingMapping & { lineNo: number })[] = [];
  const out: TargetBudgetLine[] = [];
  for (const l of v.lines) {
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
  if (missing.length) {
    const listed = missing
      .slice(0, 20)
      .map((m) => `line ${m.lineNo}: ${m.dimension} ${m.code} on ${m.onDate}`)
      .join('; ');
    throw mappingMissing(`${missing.length} dimension value(s) have no ${v.target} mapping: ${listed}`, {
      missing,
    });
  }
  return out;
}
