import { proxyActivities, startChild, workflowInfo, ParentClosePolicy } from '@temporalio/workflow';
import { type Duration, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { MasterDataSyncOutcome } from '../activities/master-data';
import { longSync } from './activity-profiles';
import { masterDataChangeWorkflowId, SearchAttributes } from './definitions';
import { masterDataChange } from './master-data-change';

export interface MasterDataSyncWorkflowInput {
  legalEntity: string;
  /** Who may approve the changes that wait for a person (the approval roster). */
  approvers: string[];
  integrationAdmins: string[];
  /** How long an approver has to decide on a hierarchy change before it expires. */
  approvalTimeout: Duration;
  /** The day the read applies as of (default: today). */
  asOf?: string;
  correlationId?: string;
}

export interface MasterDataSyncResult extends MasterDataSyncOutcome {
  /** Approval workflows started by this run for the changes waiting for a person. */
  approvalsStarted: string[];
}

/**
 * An entity's master data sync: the chart of accounts and cost centers from the ERP, their system of record,
 * applied by the database; then an approval workflow for each change that waits for a person and has none
 * yet (each child keeps its own history and outlives this run). Started daily by the entity's
 * `master-data:<entity>` schedule, or by `POST /v1/master-data/syncs`.
 */
export async function masterDataSync(input: MasterDataSyncWorkflowInput): Promise<MasterDataSyncResult> {
  const sync = proxyActivities<Activities>(longSync());
  const correlationId = input.correlationId ?? workflowInfo().workflowId;
  const applied = await sync.syncMasterData({
    legalEntity: input.legalEntity,
    correlationId,
    asOf: input.asOf,
  });
  const approvalsStarted: string[] = [];
  for (const change of applied.awaitingApproval) {
    const workflowId = masterDataChangeWorkflowId({
      legalEntity: input.legalEntity,
      code: change.code,
      changeId: change.id,
    });
    try {
      await startChild(masterDataChange, {
        workflowId,
        args: [
          {
            changeId: change.id,
            legalEntity: input.legalEntity,
            code: change.code,
            from: change.fromValue,
            to: change.toValue,
            effectiveFrom: change.effectiveFrom,
            requestedBy: change.requestedBy,
            approvers: input.approvers.filter((a) => a !== change.requestedBy),
            integrationAdmins: input.integrationAdmins,
            timeout: input.approvalTimeout,
            correlationId: change.correlationId,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: SearchAttributes.LegalEntity, value: input.legalEntity }],
        staticSummary: `Cost center ${change.code} under ${change.toValue ?? '(top)'} from ${change.effectiveFrom}`,
      });
      approvalsStarted.push(workflowId);
    } catch (err) {
      // Its approval is already waiting (or was decided): one request, one approval.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return { ...applied, approvalsStarted };
}
