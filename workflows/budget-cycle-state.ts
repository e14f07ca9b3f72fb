import { type Duration } from '@temporalio/common';
import { type BudgetDecisionKind } from '../domain/approval';
import { type ApprovalChainState } from '../domain/approval-chain';
import { type LineIssue, type PeriodMove } from '../domain/budget-validation';
import { type BudgetVersionRef } from '../domain/model';
import { type Money } from '../domain/money';
import { type ReconciliationSummary } from '../domain/reconciliation';

/** What the `status` query answers and the API shows: the cycle as support staff need to see it. */

export type CycleStage = 'plan' | 'authorize' | 'execute' | 'reconcile' | 'reforecast' | 'done';
export type CycleStatus =
  | 'importing'
  | 'invalid'
  /** The entity's approval policy has no approver left for a level (all are the submitter, say). */
  | 'unroutable'
  | 'awaiting_approval'
  | 'escalated'
  | 'rejected'
  /** An approver sent the version back for changes: fix it in the planning platform and resubmit. */
  | 'sent_back'
  | 'expired'
  | 'publishing'
  | 'publication_failed'
  /** Published as part of a group version landing all or nothing: waits for every entity to be published. */
  | 'awaiting_group'
  /** Another entity of its all-or-nothing group failed: its postings were taken back out; it waits to publish again. */
  | 'stood_down'
  /** Its all-or-nothing group version can no longer land everywhere (another entity's cycle ended): nothing stays posted. */
  | 'withdrawn'
  | 'reconciling'
  | 'reforecasting'
  | 'completed'
  /** A newer version of the budget was activated first: this one did not publish, or took itself back out. */
  | 'superseded'
  /**
   * Approved in a scenario that is not in control of its year: kept as its scenario's active version for
   * reporting, never published or reserved against.
   */
  | 'kept';

export interface BudgetCycleInput {
  ref: BudgetVersionRef;
  /** Which trip of the version around the loop this is (1 when absent); see budgetCycleWorkflowId. */
  revision?: number;
  submittedBy: string;
  correlationId: string;
  approval: {
    approvers: string[];
    integrationAdmins: string[];
    /** Durations in Temporal's string form ("3 days", "500ms"): short in tests, days in production. */
    timeout: Duration;
    escalationTimeout: Duration;
    /** While a stage waits, those awaited are reminded this often; absent: no reminders. */
    reminderInterval?: Duration;
  };
  publication: {
    chunkSize: number;
    /** How long a failed publication waits for a `retry-publication` signal before the cycle gives up. */
    retryWindow?: Duration;
    /** Retry profile of ERP calls; tests shorten it, production keeps the defaults. */
    erpRetry?: { initialInterval?: Duration; maximumAttempts?: number };
  };
  reforecast: { asOfPeriod: string };
  /** Set when the cycle is one entity's of a group version (workflows/group-budget-cycle). */
  group?: { workflowId: string; policy: GroupFailurePolicy };
}

/**
 * How the entities of a group version stand or fall together when one of their publications fails for good.
 * `independent`: each entity's publication stays or rolls back on its own. `all-or-nothing`: every entity's
 * cycle publishes, then waits until all have before any becomes the control budget; while one has failed, the
 * others take their postings back out and publish again when it has.
 */
export type GroupFailurePolicy = 'independent' | 'all-or-nothing';

/** What the parent of an all-or-nothing group version tells an entity's cycle. */
export interface GroupWord {
  word: 'go' | 'stand-down' | 'republish' | 'abandon';
  reason: string;
}

/** What an entity's cycle tells the parent of its all-or-nothing group version. */
export interface GroupReport {
  legalEntity: string;
  /**
   * The reporting cycle's first run: a report from another run (one a reset of the parent reapplies, sent
   * by the cycles it started before) is not the current cycle's and is ignored.
   */
  runId: string;
  report: 'published' | 'failed';
  reason?: string;
}

export interface PublicationSummary {
  target: string;
  revision: number;
  status: 'publishing' | 'published' | 'failed' | 'reversed';
  chunkCount?: number;
  documentNumbers?: string[];
  error?: string;
}

export interface BudgetCycleStatus {
  cycleId: string;
  ref: BudgetVersionRef;
  correlationId: string;
  submittedBy: string;
  stage: CycleStage;
  status: CycleStatus;
  versionId?: string;
  lineCount?: number;
  total?: Money;
  issueCount?: number;
  /** The first issues only; the full list is stored with the version. */
  issues?: LineIssue[];
  decision?: {
    decision: BudgetDecisionKind;
    principal: string;
    /** Set when a delegate decided: the approver they decided for. */
    onBehalfOf?: string;
    comment?: string;
    at: string;
    /** Taken by an earlier cycle of the same version; this cycle needed no new decision. */
    carriedOver?: boolean;
  };
  /** Changes to closed periods the entity's policy moved to the next open period (the lines carry them). */
  periodMoves?: PeriodMove[];
  /** While the cycle waits for another version of its budget to finish publishing: whom, and why. */
  waitingFor?: string;
  /** The route through the entity's approval policy and who decided where (cycles since policies). */
  approval?: ApprovalChainState;
  escalatedAt?: string;
  /** Notifications that could not be delivered (the cycle goes on without them). */
  notificationFailures?: { kind: string; error: string; at: string }[];
  /** Signals that were not acted on and why (signals cannot answer their sender). */
  refusedSignals: { principal: string; reason: string; at: string }[];
  publications: PublicationSummary[];
  /** Who asked for each publication retry, and why. */
  publicationRetries: { principal: string; reason?: string; at: string }[];
  reconciliation: ReconciliationSummary[];
  actualsSynced?: { inserted: number; duplicates: number; exceptions?: number; commitments: number };
  /** Why the cycle ended without publishing or activating (e.g. a newer version is the control budget). */
  outcomeReason?: string;
  forecast?: { versionName: string; total: Money; lineCount: number; alreadyImported: boolean };
  history: { stage: CycleStage; status: CycleStatus; at: string }[];
}
