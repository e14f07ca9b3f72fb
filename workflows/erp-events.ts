import { condition, continueAsNew, defineQuery, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { type Duration } from '@temporalio/common';
import { type ChangeNotice, changedSignal } from './definitions';
import { type ErpSyncResult, syncRound } from './erp-sync';

export interface ErpEventsInput {
  legalEntity: string;
  /** How long to gather a burst of notices before a round runs ("2 seconds"). */
  debounce: Duration;
  /** Rounds before the history starts afresh (continue-as-new). */
  roundsPerRun?: number;
  /** Carried over continue-as-new: notices not yet handled, and the event IDs seen lately. */
  pending?: ChangeNotice[];
  recentEventIds?: string[];
}

export interface ErpEventsStatus {
  legalEntity: string;
  notices: number;
  duplicates: number;
  rounds: number;
  lastRound?: { notices: number; fromErp: boolean; result: ErpSyncResult };
}

export const erpEventsStatusQuery = defineQuery<ErpEventsStatus>('status');

/**
 * Near real time for one legal entity (workflow ID `erp-events:<entity>`, started by signal-with-start from
 * the webhooks): each burst of change notices becomes one round, a few seconds later, that syncs from the ERP
 * (when the ERP said something moved) and delivers the figures to the planning platform. A notice repeated
 * by its sender is counted once; a notice arriving during a round waits for the next. The history starts
 * afresh every `roundsPerRun` rounds, carrying what is pending.
 */
export async function erpEvents(input: ErpEventsInput): Promise<void> {
  const pending: ChangeNotice[] = [...(input.pending ?? [])];
  const recent = new Set(input.recentEventIds ?? []);
  const state: ErpEventsStatus = { legalEntity: input.legalEntity, notices: 0, duplicates: 0, rounds: 0 };
  setHandler(erpEventsStatusQuery, () => state);
  setHandler(changedSignal, (notice) => {
    if (notice.eventId && recent.has(notice.eventId)) {
      state.duplicates++;
      return;
    }
    if (notice.eventId) recent.add(notice.eventId);
    state.notices++;
    pending.push(notice);
  });

  const rounds = input.roundsPerRun ?? 100;
  for (let round = 0; round < rounds && !workflowInfo().continueAsNewSuggested; round++) {
    await condition(() => pending.length > 0);
    await sleep(input.debounce);
    const taken = pending.splice(0);
    const fromErp = taken.some((n) => n.source === 'erp');
    const result = await syncRound({
      legalEntity: input.legalEntity,
      fromErp,
      deliver: true,
      correlationId: `${workflowInfo().workflowId}:${workflowInfo().runId}:${round}`,
    });
    state.rounds++;
    state.lastRound = { notices: taken.length, fromErp, result };
  }
  await continueAsNew<typeof erpEvents>({
    ...input,
    pending,
    recentEventIds: [...recent].slice(-1000),
  });
}
