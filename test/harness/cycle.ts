import { randomUUID } from 'node:crypto';
import { type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type BudgetVersionRef } from '../../domain/model';
import { toMinor, fromMinor } from '../../domain/money';
import { budgetRows } from '../../simulators/scenario/services-company';
import { type budgetCycle } from '../../workflows/budget-cycle';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { statusQuery } from '../../workflows/definitions';
import { type TestStack } from './stack';

/** Polls the `status` query until `until` holds; fails with the last status seen so a timeout explains itself. */
export async function waitForStatus(
  handle: WorkflowHandle<typeof budgetCycle>,
  until: (s: BudgetCycleStatus) => boolean,
  timeoutMs = 30_000,
): Promise<BudgetCycleStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: BudgetCycleStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(statusQuery);
      if (until(last)) return last;
    } catch {
      // the first workflow task may not have run yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `status did not arrive within ${timeoutMs} ms; last: ${JSON.stringify(last && { stage: last.stage, status: last.status, publications: last.publications })}`,
  );
}

export const awaitingApproval = (s: BudgetCycleStatus) => s.status === 'awaiting_approval';

/** Puts the services company's version into the planning simulator and returns its reference and total. */
export function planVersion(
  stack: TestStack,
  fiscalYear: number,
  version: number,
  rows = budgetRows(fiscalYear, version),
) {
  const ref: BudgetVersionRef = { legalEntity: 'ACME-US', fiscalYear, scenario: 'BUDGET', version };
  stack.anaplan.putBudgetVersion({ ...ref, rows });
  return { ref, rows, total: sumAmounts(rows.map((r) => r.amount)) };
}

export function sumAmounts(amounts: readonly string[], currency = 'USD'): string {
  return fromMinor(
    amounts.reduce((acc, a) => acc + toMinor(a, currency), 0n),
    currency,
  );
}

export const D365_TARGET = {
  company: 'acus',
  settings: { budgetModel: 'FY-BUDGET', budgetCode: 'Original' },
};

/** What the ERP holds for the company's budget model over a fiscal year, read through the real adapter. */
export async function erpBudgetTotal(stack: TestStack, fiscalYear: number): Promise<string> {
  const totals = await stack.erps.d365!.fetchBudgetTotals({
    target: D365_TARGET,
    fromDate: `${fiscalYear}-01-01`,
    toDate: `${fiscalYear}-12-31`,
  });
  return sumAmounts(totals.map((t) => t.amount.amount));
}

type EventId = NonNullable<temporal.api.history.v1.IHistoryEvent['eventId']>;

export interface ResetPoint {
  runId: string;
  eventId: EventId;
}

/** A run's completed workflow tasks: every point support staff can reset that run to. */
export async function workflowTaskPoints(handle: WorkflowHandle): Promise<ResetPoint[]> {
  const { runId } = await handle.describe();
  const { events } = await handle.fetchHistory();
  return events!
    .filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((e) => ({ runId, eventId: e.eventId! }));
}

/**
 * Resets a cycle at every `every`-th of its workflow tasks, as support staff would one after another, and
 * hands each reset run's result to `check`: how many resets ran. Temporal refuses a few points (a task
 * completed mid-batch); support staff cannot pick those either, so they are passed over.
 */
export async function resetAtTasks(
  stack: TestStack,
  handle: WorkflowHandle,
  every: number,
  check: (replayed: Awaited<ReturnType<typeof resetCycle>>, point: ResetPoint) => Promise<void> | void,
): Promise<number> {
  let resets = 0;
  for (const point of (await workflowTaskPoints(handle)).filter((_, i) => i % every === 0)) {
    const replayed = await resetCycle(stack, handle.workflowId, point).catch((err: Error) => {
      if (/must be at the boundary/.test(err.message)) return undefined;
      throw err;
    });
    if (!replayed) continue;
    resets++;
    await check(replayed, point);
  }
  return resets;
}

/** What support staff do with "Reset" in Temporal UI: a new run from a workflow task, signals reapplied. */
export async function resetCycle(stack: TestStack, cycleId: string, point: ResetPoint) {
  const { runId } = await stack.client.workflowService.resetWorkflowExecution({
    namespace: stack.config.temporal.namespace,
    workflowExecution: { workflowId: cycleId, runId: point.runId },
    workflowTaskFinishEventId: point.eventId,
    requestId: randomUUID(),
    reason: 'test: support staff reset',
    resetReapplyType: temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
  });
  return stack.client.workflow.getHandle<typeof budgetCycle>(cycleId, runId!).result();
}
