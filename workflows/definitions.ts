import type { ErpCutoverStatus } from './erp-cutover';
import type { GroupBudgetCycleStatus } from './group-budget-cycle';
import type { GroupReport, GroupWord } from './budget-cycle-state';
import type { InboxScan, TakenFile } from '../activities/file-inbox';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  type BudgetSignalDecisionInput,
  type RetryPublicationInput,
  type SignalDecisionInput,
} from '../domain/approval';
import { type BudgetCycleStatus } from './budget-cycle-state';

/**
 * Names shared by workflows, the API, the CLI and tests: one place, no magic strings.
 * Signal and update names are what support staff type in Temporal UI, so they stay short and stable.
 */

export const DEFAULT_TASK_QUEUE = 'closeloop';

export const statusQuery = defineQuery<BudgetCycleStatus>('status');
/** A group version's parent: its entities' cycles and how each ended. */
export const groupCycleStatusQuery = defineQuery<GroupBudgetCycleStatus>('status');

export const cutoverStatusQuery = defineQuery<ErpCutoverStatus>('status');

/** A file inbox pickup's progress: the files taken, the one in hand, those left waiting and why. */
export interface FileInboxProgress {
  feed: string;
  taken: TakenFile[];
  waiting: InboxScan['waiting'];
  current?: string;
}

export const fileInboxProgressQuery = defineQuery<FileInboxProgress>('progress');
/** One workflow per cut-over and phase; running a phase again (a `compare` after a fix) reuses its ID. */
export const cutoverWorkflowId = (legalEntity: string, cutoverId: string, phase: string) =>
  `erp-cutover:${legalEntity}:${cutoverId}:${phase}`;
/**
 * Fire-and-forget decision, e.g. from Temporal UI: `{"decision":"approve","principal":"carol@acme.example",
 * "token":"…"}`. The token proves the principal: closeloop signs it for them (POST /v1/approvals/signal-payload
 * hands the whole payload), and a signal without a valid one is refused and audited.
 */
export const decisionSignal = defineSignal<[BudgetSignalDecisionInput]>('decision');
/**
 * Decision with an answer (the API's path, with the token it signs for its caller): the validator refuses
 * it before it enters history, so the caller knows at once.
 */
export const decideUpdate = defineUpdate<BudgetCycleStatus, [BudgetSignalDecisionInput]>('decide');
/**
 * A nudge, no payload: the delegations in force changed (the API sends it to open cycles when an approver
 * delegates or revokes). The cycle reads them from the database; a nudge from anyone else changes nothing.
 */
export const delegationsChangedSignal = defineSignal('delegations-changed');
/** After a publication failed for good and was reversed, support staff retry it with this signal. */
export const retryPublicationSignal = defineSignal<[RetryPublicationInput]>('retry-publication');
/** The parent of an all-or-nothing group version to one entity's cycle: go on, stand down, publish again. */
export const groupWordSignal = defineSignal<[GroupWord]>('group-word');
/** One entity's cycle to the parent of its all-or-nothing group version: published, or failed. */
export const groupReportSignal = defineSignal<[GroupReport]>('group-report');

export const SearchAttributes = {
  LegalEntity: defineSearchAttributeKey('LegalEntity', SearchAttributeType.KEYWORD),
  FiscalYear: defineSearchAttributeKey('FiscalYear', SearchAttributeType.INT),
  BudgetVersion: defineSearchAttributeKey('BudgetVersion', SearchAttributeType.KEYWORD),
  CycleStage: defineSearchAttributeKey('CycleStage', SearchAttributeType.KEYWORD),
  CycleStatus: defineSearchAttributeKey('CycleStatus', SearchAttributeType.KEYWORD),
  ErpTarget: defineSearchAttributeKey('ErpTarget', SearchAttributeType.KEYWORD),
  /** The calendar month a period close is for (`2027-03`). */
  FiscalPeriod: defineSearchAttributeKey('FiscalPeriod', SearchAttributeType.KEYWORD),
} as const;

/**
 * Decision with an answer on an override or a transfer (the API's path): refused by the validator before it
 * enters history. Temporal UI and the CLI use the `decision` signal, with the same payload.
 */
export const decideRequestUpdate = defineUpdate<unknown, [SignalDecisionInput]>('decide');

/** What moved: an ERP business event (ledger, invoice, order) or procurement's consumption events. */
export interface ChangeNotice {
  source: 'erp' | 'procurement';
  /** The sender's event ID, when it has one: a repeat is counted once. */
  eventId?: string;
  /** What the sender called it (e.g. the D365 business event ID). */
  kind?: string;
}

/** To an entity's near-real-time workflow (`erp-events:<entity>`): something moved; sync and deliver soon. */
export const changedSignal = defineSignal<[ChangeNotice]>('changed');

/** The approval workflow of a master-data change: readable in Temporal UI, unique per change. */
export const masterDataChangeWorkflowId = (c: { legalEntity: string; code: string; changeId: string }) =>
  `master-data-change:${c.legalEntity}:${c.code}:${c.changeId}`;

/** Support staff's request to run a failed step of an entity's close again: `{"principal":"…","reason":"…"}`. */
export const retryStepSignal = defineSignal<[RetryPublicationInput]>('retry-step');

/** A group's close of a calendar month (`period-close:2027-03`): one per month, ever. */
export const periodCloseWorkflowId = (month: string) => `period-close:${month}`;
/** One entity's close within it (`period-close:2027-03:ACME-US`); a re-run of the entity reuses the ID. */
export const periodCloseEntityWorkflowId = (month: string, legalEntity: string) =>
  `period-close:${month}:${legalEntity}`;
