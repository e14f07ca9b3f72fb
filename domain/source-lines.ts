import { z } from 'zod';
import { describeMissing, type SystemDimensionValues, unmapDimensions } from './mapping';
import { type DimensionCombination, type Dimensions, IsoDate } from './model';
import { convert, type FxPolicy, quote } from './fx';
import { Money, money } from './money';
import { type DimensionMappingRef, type FiscalPeriodRef, periodOfDate } from './reference';
import { describeIssues } from './zod-issues';

/**
 * Turning a line read from a source system (a ledger entry, a purchase-order line) into the canonical
 * dimensions, period and money it is counted under. A line that cannot be turned is never dropped: the
 * reason comes back with a stable code, and the caller keeps the line where support can see and replay it.
 */

export const SourceLineErrorCode = {
  /** A system value has no effective mapping to a canonical dimension value. */
  UnmappedDimension: 'unmapped_dimension',
  /** The line's date is in a closed period, and the entity's policy keeps such lines for support. */
  PeriodClosed: 'period_closed',
  /** The line's date is in no fiscal period of the entity's calendar. */
  PeriodNotInCalendar: 'period_not_in_calendar',
  /** The line is in a currency the entity's balances do not take (FX conversion is not configured). */
  CurrencyNotAccepted: 'currency_not_accepted',
  /** No rate of the entity's rate type converts the line's currency on its date (not even triangulated). */
  FxRateMissing: 'fx_rate_missing',
  /** A row of a source file could not be read at all (a missing or malformed field). */
  InvalidRecord: 'invalid_record',
  /** The amount or currency is not valid money. */
  InvalidAmount: 'invalid_amount',
} as const;
export type SourceLineErrorCode = (typeof SourceLineErrorCode)[keyof typeof SourceLineErrorCode];

export interface SourceLineError {
  code: SourceLineErrorCode;
  message: string;
}

/** What every source line carries, whatever its kind. */
export interface SourceLineInput {
  /** The system's values of the canonical dimensions, as its adapter read them. */
  dimensions: SystemDimensionValues;
  /** The date that places the line in a fiscal period (posting date, delivery date). */
  date: string;
  /** The amount in the currency it is in; amounts never travel without their currency. */
  amount: { amount: string; currency: string };
}

export interface CanonicalSourceLine {
  /** Account and cost center always (unless the context requires fewer), and whatever else the source gave. */
  dimensions: DimensionCombination & Dimensions;
  period: string;
  amount: Money;
  /** The closed period the line was posted into, when the entity's policy counted it in the next open one. */
  routedFrom?: string;
}

/** What happens to a line posted into a closed period. */
export const CLOSED_PERIOD_POLICIES = ['dead_letter', 'next_open_period'] as const;
export type ClosedPeriodPolicy = (typeof CLOSED_PERIOD_POLICIES)[number];

export interface SourceLineContext {
  /** The currency the entity's balances are kept in. */
  currency: string;
  periods: readonly FiscalPeriodRef[];
  mappings: readonly DimensionMappingRef[];
  /** How lines in other currencies are converted; without it they are not accepted. */
  fx?: FxPolicy;
  /**
   * What happens to a line dated in a closed period (absent: it counts there, as budget totals do), and the
   * calendar's periods the next open one is looked for in.
   */
  closedPeriods?: { policy: ClosedPeriodPolicy; calendar: readonly FiscalPeriodRef[] };
  /**
   * The dimensions a line must carry (absent: account and cost center, which budget control keeps actuals
   * by); a reconciliation by account requires the account only.
   */
  required?: readonly string[];
}

export function canonicaliseSourceLine(
  line: SourceLineInput,
  ctx: SourceLineContext,
): { line: CanonicalSourceLine } | { error: SourceLineError } {
  const parsed = Money.safeParse(line.amount);
  if (!parsed.success) {
    return {
      error: { code: SourceLineErrorCode.InvalidAmount, message: describeIssues(parsed.error, 'amount') },
    };
  }
  let amount = parsed.data;
  if (amount.currency !== ctx.currency) {
    if (!ctx.fx) {
      return {
        error: {
          code: SourceLineErrorCode.CurrencyNotAccepted,
          message: `${amount.amount} ${amount.currency} cannot be counted in a ${ctx.currency} balance without an FX conversion`,
        },
      };
    }
    const q = quote(ctx.fx.rates, ctx.fx.rateType, amount.currency, ctx.currency, line.date, ctx.fx.base);
    if (!q) {
      return {
        error: {
          code: SourceLineErrorCode.FxRateMissing,
          message: `no ${ctx.fx.rateType} rate converts ${amount.currency} to ${ctx.currency} on ${line.date} (directly or inverted${[amount.currency, ctx.currency].includes(ctx.fx.base) ? '' : `, nor through ${ctx.fx.base}`})`,
        },
      };
    }
    amount = { amount: convert(amount.amount, amount.currency, ctx.currency, q), currency: ctx.currency };
  }
  let period = periodOfDate(line.date, ctx.periods);
  if (!period) {
    return {
      error: {
        code: SourceLineErrorCode.PeriodNotInCalendar,
        message: `${line.date} is in no fiscal period of the entity's calendar`,
      },
    };
  }
  let routedFrom: string | undefined;
  if (ctx.closedPeriods && period.status === 'closed') {
    const posted = period;
    const next = [...ctx.closedPeriods.calendar]
      .sort((a, b) => a.startDate.localeCompare(b.startDate))
      .find((p) => p.startDate > posted.endDate && p.status === 'open');
    if (ctx.closedPeriods.policy === 'dead_letter' || !next) {
      return {
        error: {
          code: SourceLineErrorCode.PeriodClosed,
          message:
            ctx.closedPeriods.policy === 'dead_letter'
              ? `${line.date} is in period ${posted.period}, which is closed`
              : `${line.date} is in period ${posted.period}, which is closed, and no later period is open`,
        },
      };
    }
    routedFrom = posted.period;
    period = next;
  }
  const unmapped = unmapDimensions(ctx.mappings, line.dimensions, line.date, ctx.required);
  if ('missing' in unmapped) {
    return {
      error: {
        code: SourceLineErrorCode.UnmappedDimension,
        message: `no mapping for ${describeMissing(unmapped.missing)}`,
      },
    };
  }
  return {
    line: {
      // The required dimensions are there (unmapDimensions says so); account and cost center unless fewer.
      dimensions: unmapped.dimensions as DimensionCombination & Dimensions,
      period: period.period,
      amount: money(amount.amount, amount.currency),
      ...(routedFrom ? { routedFrom } : {}),
    },
  };
}

/** A posted ledger line as a source delivered it, and as the exception store keeps it for replay. */
export const SourceActualRecord = z.object({
  documentId: z.string().min(1),
  lineNo: z.number().int().nonnegative(),
  revision: z.number().int().nonnegative(),
  dimensions: z.object({ account: z.string().optional(), costCenter: z.string().optional() }),
  postingDate: IsoDate,
  amount: z.object({ amount: z.string(), currency: z.string() }),
  description: z.string().optional(),
});
export type SourceActualRecord = z.infer<typeof SourceActualRecord>;
