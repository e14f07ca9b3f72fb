import { type CanonicalSourceLine, type SourceLineContext } from '../../domain/source-lines';
import { type DbOrTx } from '../client';
import { chartVersions } from './chart';
import { loadFxRates } from './fx-rates';
import { calendarPeriods, fiscalYearPeriods, type LegalEntityRow, loadMappings } from './reference';

/** An entity's lines from one source system, and what turning them into canonical lines needs. */
export interface SourceContext extends SourceLineContext {
  sourceSystem: string;
  legalEntity: string;
}

/**
 * What turning an entity's source lines needs: its ledger system, currency, mappings and the fiscal
 * periods lines may fall in (one fiscal year for a sync of that year; the whole calendar for a replay).
 */
export async function loadSourceContext(
  db: DbOrTx,
  entity: LegalEntityRow,
  fiscalYear?: number,
): Promise<SourceContext> {
  const periods =
    fiscalYear === undefined
      ? await calendarPeriods(db, entity.fiscalCalendar, entity.code)
      : await fiscalYearPeriods(db, entity.fiscalCalendar, fiscalYear, entity.code);
  // A line must carry the account, and the cost center where the entity's chart requires one: budget
  // control keeps actuals and commitments per account and cost center (the account's own bucket, '', where
  // the chart leaves the cost center optional).
  const charts = await chartVersions(db, entity.code);
  const costCenterRequired = charts.some((c) =>
    c.spec.dimensions.some((d) => d.code === 'costCenter' && d.required),
  );
  return {
    required: costCenterRequired ? ['account', 'costCenter'] : ['account'],
    sourceSystem: entity.erpSystem,
    legalEntity: entity.code,
    currency: entity.functionalCurrency,
    periods,
    mappings: await loadMappings(db, entity.erpSystem),
    closedPeriods: {
      policy: entity.closedPeriodPolicy,
      calendar:
        fiscalYear === undefined ? periods : await calendarPeriods(db, entity.fiscalCalendar, entity.code),
    },
    fx: {
      rateType: entity.fxRateType,
      base: entity.fxTriangulationCurrency,
      rates: await loadFxRates(db, entity.fxRateType),
    },
  };
}

/** The columns every stored source line has (schema: sourceLineColumns), from its identity and canonical form. */
export function sourceLineRow(
  r: { sourceSystem: string; legalEntity: string; documentId: string; lineNo: number; revision: number },
  line: CanonicalSourceLine,
) {
  return {
    sourceSystem: r.sourceSystem,
    documentId: r.documentId,
    lineNo: r.lineNo,
    revision: r.revision,
    legalEntity: r.legalEntity,
    dimensions: line.dimensions,
    account: line.dimensions.account,
    costCenter: line.dimensions.costCenter ?? '',
    period: line.period,
  };
}
