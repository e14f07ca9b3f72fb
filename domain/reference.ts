import { type TargetStructure } from './target-structures';
import { type Chart, type DimensionValueRef } from './chart';
import { type ChartRules } from './combination-check';
import { type CalendarPeriod, calendarYear } from './fiscal-calendar';
import { type Dimensions } from './model';

/** Reference-data snapshots the pure domain functions work on (loaded from the store by activities). */

export interface FiscalPeriodRef {
  period: string;
  periodNumber: number;
  startDate: string;
  endDate: string;
  status: 'open' | 'closed';
  /** `adjustment`: a period after the regular ones, dated on the year's last day (domain/fiscal-calendar). */
  kind?: 'regular' | 'adjustment';
  /** The quarter (1–4) it counts in, for funds pooled by quarter. */
  quarter?: number;
}

export interface EffectiveDated {
  code: string;
  active: boolean;
  validFrom: string;
  /** Exclusive end; null while open-ended. */
  validTo: string | null;
}

export interface ReferenceSnapshot {
  legalEntity: string;
  currency: string;
  fiscalYear: number;
  periods: FiscalPeriodRef[];
  /**
   * The versions of the entity's chart (oldest first): a line is booked under the one in force on the first
   * day of its period. With the value lists of their dimensions (absent: none kept).
   */
  charts: readonly Chart[];
  values: ReadonlyMap<string, ReadonlyMap<string, DimensionValueRef>>;
  /** Its cross-validation rules and the hierarchies they name nodes of. */
  rules?: ChartRules;
  /**
   * The targets an approved version is published to, each with its dimension mappings and, when its
   * adapter says so, the dimensions its form can hold (absent: any).
   */
  targets?: readonly {
    target: string;
    mappings: readonly DimensionMappingRef[];
    holds?: readonly string[];
    /** The target's own rules of which combinations it accepts, when its adapter reads them. */
    structures?: readonly TargetStructure[];
    /** Dimensions the target's company holds itself (no segment), left out of its structures' judgement. */
    heldByCompany?: readonly string[];
  }[];
  /**
   * What is in control in the year's closed periods, per combination and period (domain/revision budgetKey):
   * the net each target holds of the budget, in minor units of the entity's currency (absent: nothing).
   */
  inControl?: ReadonlyMap<string, { dimensions: Dimensions; period: string; byTarget: readonly bigint[] }>;
  /** What becomes of a change to a closed period: refused, or moved to the next open period. */
  closedPeriodPolicy?: 'dead_letter' | 'next_open_period';
}

/** A canonical dimension value's code in one target system, effective-dated. */
export interface DimensionMappingRef {
  /** A dimension code of the entity's chart. */
  dimension: string;
  canonicalCode: string;
  systemValue: string;
  validFrom: string;
  validTo: string | null;
}

/** True when the record is active and effective for the whole of [from, to] (ISO dates, inclusive). */
export function effectiveThroughout(ref: EffectiveDated, from: string, to: string): boolean {
  return ref.active && ref.validFrom <= from && (ref.validTo === null || ref.validTo > to);
}

/** A calendar-month fiscal year; `firstMonth` 1 = January year-start, 7 = July (FY named by its end year). */
export function monthlyFiscalPeriods(fiscalYear: number, firstMonth = 1): CalendarPeriod[] {
  return calendarYear({ kind: 'monthly', firstMonth, adjustmentPeriods: 0 }, fiscalYear);
}

/**
 * The regular fiscal period containing an ISO date, or undefined when the date is outside the calendar given.
 * Adjustment periods share the year's last day and are never chosen by date.
 */
export function periodOfDate(date: string, periods: readonly FiscalPeriodRef[]): FiscalPeriodRef | undefined {
  return periods.find((p) => p.kind !== 'adjustment' && p.startDate <= date && date <= p.endDate);
}
