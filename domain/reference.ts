import { type Dimension } from './model';

/** Reference-data snapshots the pure domain functions work on (loaded from the store by activities). */

export interface FiscalPeriodRef {
  period: string;
  periodNumber: number;
  startDate: string;
  endDate: string;
  status: 'open' | 'closed';
}

export interface EffectiveDated {
  code: string;
  active: boolean;
  validFrom: string;
  /** Exclusive end; null while open-ended. */
  validTo: string | null;
}

export interface CostCenterRef extends EffectiveDated {
  legalEntity: string;
}

export interface ReferenceSnapshot {
  legalEntity: string;
  currency: string;
  fiscalYear: number;
  periods: FiscalPeriodRef[];
  accounts: EffectiveDated[];
  costCenters: CostCenterRef[];
  /**
   * What is in control in the year's closed periods, per combination and period (domain/revision budgetKey):
   * the net each target holds of the budget, in minor units of the entity's currency (absent: nothing).
   */
  inControl?: ReadonlyMap<string, readonly bigint[]>;
  /** What becomes of a change to a closed period: refused, or moved to the next open period. */
  closedPeriodPolicy?: 'dead_letter' | 'next_open_period';
}

/** A canonical dimension value's code in one target system, effective-dated. */
export interface DimensionMappingRef {
  dimension: Dimension;
  canonicalCode: string;
  systemValue: string;
  validFrom: string;
  validTo: string | null;
}

/** True when the record is active and effective for the whole of [from, to] (ISO dates, inclusive). */
export function effectiveThroughout(ref: EffectiveDated, from: string, to: string): boolean {
  return ref.active && ref.validFrom <= from && (ref.validTo === null || ref.validTo > to);
}

/** Builds a calendar-month fiscal year; `firstMonth` 1 = January year-start, 7 = July (FY named by its end year). */
export function monthlyFiscalPeriods(fiscalYear: number, firstMonth = 1): FiscalPeriodRef[] {
  const periods: FiscalPeriodRef[] = [];
  const startYear = firstMonth === 1 ? fiscalYear : fiscalYear - 1;
  for (let i = 0; i < 12; i++) {
    const month0 = (firstMonth - 1 + i) % 12;
    const year = startYear + Math.floor((firstMonth - 1 + i) / 12);
    const lastDay = new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
    const mm = String(month0 + 1).padStart(2, '0');
    periods.push({
      period: `${fiscalYear}-${String(i + 1).padStart(2, '0')}`,
      periodNumber: i + 1,
      startDate: `${year}-${mm}-01`,
      endDate: `${year}-${mm}-${String(lastDay).padStart(2, '0')}`,
      status: 'open',
    });
  }
  return periods;
}

/** The fiscal period containing an ISO date, or undefined when the date is outside the calendar given. */
export function periodOfDate(date: string, periods: readonly FiscalPeriodRef[]): FiscalPeriodRef | undefined {
  return periods.find((p) => p.startDate <= date && date <= p.endDate);
}
