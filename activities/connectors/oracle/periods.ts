import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { IsoDate } from '../../../domain/model';
import { type OracleRest } from './rest';

/**
 * A ledger's accounting periods as General Ledger holds them, read from the `accountingPeriodStatusLOV`
 * resource (keyed by PeriodNameId, ApplicationId and LedgerId; GL is application 101). `ClosingStatus` takes the
 * codes of GL_PERIOD_STATUSES (Oracle's table reference, "GL_PERIOD_STATUSES"): O open, F future enterable,
 * C closed, P permanently closed, N never opened. closeloop posts nothing into a period its ERP has closed,
 * whatever closeloop's own calendar says.
 */

export const PERIOD_STATUSES = {
  O: 'open',
  F: 'future_enterable',
  C: 'closed',
  P: 'permanently_closed',
  N: 'never_opened',
} as const;
export type OraclePeriodStatus = (typeof PERIOD_STATUSES)[keyof typeof PERIOD_STATUSES];

const GENERAL_LEDGER = 101;

const PeriodStatusItem = z.object({
  PeriodNameId: z.string().min(1),
  ApplicationId: z.number().int(),
  LedgerId: z.number().int(),
  ClosingStatus: z.enum(['O', 'F', 'C', 'P', 'N']),
  // The dates of GL_PERIOD_STATUSES (START_DATE, END_DATE); the LOV's attribute list is not in the farfa pages
  // we could read, so docs/compatibility.md names them as assumed.
  StartDate: IsoDate,
  EndDate: IsoDate,
});

export interface LedgerPeriod {
  /** The period's name in the ledger's calendar (e.g. `Jan-27`). */
  period: string;
  status: OraclePeriodStatus;
  startDate: string;
  endDate: string;
}

/** Every period of a ledger with its General Ledger status, in the order Oracle lists them. */
export async function readLedgerPeriods(rest: OracleRest, ledgerId: string): Promise<LedgerPeriod[]> {
  if (!/^\d+$/.test(ledgerId))
    throw ApplicationFailure.nonRetryable(
      `an Oracle ledger id is a number, not ${ledgerId}`,
      FailureType.ValidationFailed,
    );
  const periods: LedgerPeriod[] = [];
  for await (const page of rest.collection('accountingPeriodStatusLOV', PeriodStatusItem, {
    q: `ApplicationId = ${GENERAL_LEDGER} and LedgerId = ${ledgerId}`,
    fields: Object.keys(PeriodStatusItem.shape),
  }))
    for (const p of page)
      periods.push({
        period: p.PeriodNameId,
        status: PERIOD_STATUSES[p.ClosingStatus],
        startDate: p.StartDate,
        endDate: p.EndDate,
      });
  return periods;
}

/**
 * Whether GL budget balances may be loaded into a period of this status: Never Opened, Future Enterable or
 * Open, as the GL budget interface's import is described to closeloop (not confirmed in a page of Oracle's own
 * that we could read; docs/compatibility.md says so).
 */
export const takesBudgets = (status: OraclePeriodStatus) =>
  status === 'open' || status === 'future_enterable' || status === 'never_opened';
