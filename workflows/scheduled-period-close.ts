import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { periodCloseWorkflowId, SearchAttributes } from './definitions';
import { type PeriodCloseInput, periodClose } from './period-close';

export interface ScheduledPeriodCloseInput {
  /** How many days after a period's end its close is due (the schedule fires then). */
  closeAfterDays: number;
  signOff: PeriodCloseInput['signOff'];
}

export interface ScheduledPeriodCloseResult {
  month: string;
  workflowId: string;
  started: boolean;
}

/** The calendar month a close due at `at`, `closeAfterDays` after its period's end, is for. */
export function closeMonthDueAt(at: Date, closeAfterDays: number): string {
  const end = new Date(at.getTime() - closeAfterDays * 86_400_000);
  return `${end.getUTCFullYear()}-${String(end.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Started by the `period-close` Temporal Schedule on the close dates of the fiscal calendars (each period's
 * end plus PERIOD_CLOSE_AFTER_DAYS): starts the group's close of the month that just ended, as
 * `period-close:<month>`, which lives on its own. A close a scheduler already started by hand is left alone.
 */
export async function scheduledPeriodClose(
  input: ScheduledPeriodCloseInput,
): Promise<ScheduledPeriodCloseResult> {
  const month = closeMonthDueAt(workflowInfo().runStartTime, input.closeAfterDays);
  const workflowId = periodCloseWorkflowId(month);
  try {
    await startChild(periodClose, {
      workflowId,
      args: [{ month, requestedBy: 'closeloop:schedule', signOff: input.signOff }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: SearchAttributes.FiscalPeriod, value: month }],
      staticSummary: `Period close of ${month} (scheduled)`,
    });
    return { month, workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { month, workflowId, started: false };
    throw err;
  }
}
