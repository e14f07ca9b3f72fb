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
