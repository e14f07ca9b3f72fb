import { z } from 'zod';
import { quarterOf } from './fiscal-calendar';
import { type FiscalPeriodRef } from './reference';

/**
 * Budget control: may this spend go ahead against its budget? The vocabulary follows the budget controls
 * finance teams know (Dynamics 365 budget control, SAP availability control, Oracle budgetary control):
 * - absolute: over budget (beyond its tolerance) is refused; within the tolerance it passes with a warning;
 * - advisory: over budget passes, with a warning;
 * - track_only: always passes; the spend is only recorded;
 * - none: not controlled.
 * The funds of a bucket are pooled over its period basis: the period itself, its quarter, the fiscal year to
 * date, or the whole fiscal year. Amounts here are integer minor units of one currency.
 */

export const CONTROL_LEVELS = ['absolute', 'advisory', 'track_only', 'none'] as const;
export type ControlLevel = (typeof CONTROL_LEVELS)[number];

export const PERIOD_BASES = ['period', 'quarter', 'ytd', 'annual'] as const;
export type PeriodBasis = (typeof PERIOD_BASES)[number];

export const TolerancePercent = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,2})?$/, 'must be a percentage such as "5" or "2.5"');

/** A control rule, effective-dated; null dimensions match every value, so the most specific rule wins. */
export interface ControlRule {
  level: ControlLevel;
  tolerancePercent: string;
  account: string | null;
  costCenter: string | null;
  validFrom: string;
  /** Exclusive. */
  validTo: string | null;
}

export interface Bucket {
  account: string;
  costCenter: string;
  period: string;
}

/** The rule for a bucket on a date: account and cost center, then account, then cost center, then default. */
export function ruleFor(
  rules: readonly ControlRule[],
  bucket: Pick<Bucket, 'account' | 'costCenter'>,
  date: string,
): ControlRule | undefined {
  const specificity = (r: ControlRule) => (r.account ? 2 : 0) + (r.costCenter ? 1 : 0);
  return rules
    .filter(
      (r) =>
        (r.account === null || r.account === bucket.account) &&
        (r.costCenter === null || r.costCenter === bucket.costCenter) &&
        r.validFrom <= date &&
        (r.validTo === null || date < r.validTo),
    )
    .sort((a, b) => specificity(b) - specificity(a) || (a.validFrom < b.validFrom ? 1 : -1))[0];
}

/** The periods whose funds are pooled with `period` under the basis, from its fiscal year's periods. */
export function pooledPeriods(
  period: string,
  basis: PeriodBasis,
  yearPeriods: readonly FiscalPeriodRef[],
): string[] | undefined {
  const sorted = [...yearPeriods].sort((a, b) => a.periodNumber - b.periodNumber);
  const at = sorted.find((p) => p.period === period);
  if (!at) return undefined;
  const quarter = (p: FiscalPeriodRef) => p.quarter ?? quarterOf(p.periodNumber);
  const pick = {
    period: (p: FiscalPeriodRef) => p.period === period,
    quarter: (p: FiscalPeriodRef) => quarter(p) === quarter(at),
    ytd: (p: FiscalPeriodRef) => p.periodNumber <= at.periodNumber,
    annual: () => true,
  }[basis];
  return sorted.filter(pick).map((p) => p.period);
}

/** A tolerance as whole hundredths of a percent ("2.5" → 250), exact: the form the database computes with. */
export function toleranceHundredths(tolerancePercent: string): number {
  const [whole, fraction = ''] = tolerancePercent.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** The percentage a number of hundredths stands for, as rules write it (250 → "2.5", 500 → "5"). */
export const percentOfHundredths = (hundredths: number) => String(hundredths / 100);

/** The most a bucket may consume under the rule: its budget plus the tolerance, rounded down to a minor unit. */
export function limitOf(budget: bigint, tolerancePercent: string): bigint {
  const scaled = budget * (10_000n + BigInt(toleranceHundredths(tolerancePercent)));
  // Floor division for negative budgets too (a limit is never rounded in the spender's favour).
  const q = scaled / 10_000n;
  return scaled % 10_000n !== 0n && scaled < 0n ? q - 1n : q;
}

export type LineOutcome = 'approved' | 'warning' | 'rejected';

export interface LineDecision {
  outcome: LineOutcome;
  /** Budget minus what is already actual, committed or reserved, before and after this line. */
  availableBefore: bigint;
  availableAfter: bigint;
  limit: bigint;
  reason: string;
}

/** Decides one line against its pooled funds. `consumed` is actual + committed + reserved already. */
export function decideLine(input: {
  level: ControlLevel;
  tolerancePercent: string;
  budget: bigint;
  consumed: bigint;
  requested: bigint;
}): LineDecision {
  const { level, budget, consumed, requested } = input;
  const limit = limitOf(budget, input.tolerancePercent);
  const availableBefore = budget - consumed;
  const availableAfter = availableBefore - requested;
  const base = { availableBefore, availableAfter, limit };
  if (level === 'none' || level === 'track_only') {
    return { ...base, outcome: 'approved', reason: level === 'none' ? 'not controlled' : 'tracked only' };
  }
  if (availableAfter >= 0n) return { ...base, outcome: 'approved', reason: 'within budget' };
  if (level === 'advisory') return { ...base, outcome: 'warning', reason: 'over budget (advisory control)' };
  if (consumed + requested <= limit) {
    return {
      ...base,
      outcome: 'warning',
      reason: `over budget, within the ${input.tolerancePercent}% tolerance`,
    };
  }
  return {
    ...base,
    outcome: 'rejected',
    reason:
      input.tolerancePercent === '0'
        ? 'over budget (absolute control)'
        : `over budget beyond the ${input.tolerancePercent}% tolerance (absolute control)`,
  };
}

/** A request is decided all or nothing: one rejected line rejects it; one warning makes it a warning. */
export function decideRequest(outcomes: readonly LineOutcome[]): LineOutcome {
  if (outcomes.includes('rejected')) return 'rejected';
  return outcomes.includes('warning') ? 'warning' : 'approved';
}

/**
 * Where an entity's commitments and actuals come from, so that each figure has exactly one source:
 * - `erp`: both from the ERP's syncs (open purchase orders, the posted ledger); consumption events are refused;
 * - `events`: both from consumption events (procurement's commitments, invoices and closes); ERP syncs skip;
 * - `mixed`: commitments from events (an `invoiced` event only relieves the commitment), actuals from the ERP's
 *   posted ledger: procurement owns the order, the ERP owns the books (the seed's Coupa + Dynamics 365 set-up).
 */
export const CONSUMPTION_SOURCES = ['erp', 'events', 'mixed'] as const;
export type ConsumptionSource = (typeof CONSUMPTION_SOURCES)[number];

export function consumptionFlows(source: ConsumptionSource) {
  return {
    erpActuals: source !== 'events',
    erpCommitments: source === 'erp',
    events: source !== 'erp',
    /** Whether an invoiced event adds to actuals (or only relieves the commitment, the ledger bringing the actual). */
    invoicedEventsAreActuals: source === 'events',
  };
}
