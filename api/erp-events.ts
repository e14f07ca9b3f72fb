import { type Client } from '@temporalio/client';
import { type Duration } from '@temporalio/common';
import { type Config } from '../config';
import { changedSignal, type ChangeNotice } from '../workflows/definitions';
import { type ErpEventsInput } from '../workflows/erp-events';

export const erpEventsWorkflowId = (legalEntity: string) => `erp-events:${legalEntity}`;

/**
 * Tells an entity's near-real-time workflow that something moved (signal-with-start: it is started if it
 * is not running), so the balances and the planning platform follow within seconds.
 */
export async function notifyChange(
  deps: { client: Client; config: Config },
  legalEntity: string,
  notice: ChangeNotice,
): Promise<string> {
  const workflowId = erpEventsWorkflowId(legalEntity);
  const input: ErpEventsInput = { legalEntity, debounce: deps.config.flows.eventDebounce as Duration };
  await deps.client.workflow.signalWithStart('erpEvents', {
    workflowId,
    taskQueue: deps.config.temporal.taskQueue,
    args: [input],
    signal: changedSignal,
    signalArgs: [notice],
    staticSummary: `Near-real-time sync and delivery of ${legalEntity}`,
  });
  return workflowId;
}
