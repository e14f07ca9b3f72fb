import {
  allHandlersFinished,
  condition,
  defineQuery,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import { type Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { dbWrite } from './activity-profiles';
import { controlDecisionGate, type GateDecision, type RefusedSignal } from './decision-gate';

export interface MasterDataChangeInput {
  changeId: string;
  legalEntity: string;
  /** The dimension whose hierarchy changes; absent: costCenter (a master-data sync's move). */
  dimension?: string;
  /** The node that moves, from which parent to which, from when (for the status and Temporal UI). */
  code: string;
  from: string | null;
  to: string | null;
  effectiveFrom: string;
  /** Who asked: the sync of the system of record. */
  requestedBy: string;
  /** Who may approve: the approval roster, never the requester nor an integration administrator. */
  approvers: string[];
  integrationAdmins: string[];
  timeout: Duration;
  correlationId: string;
}

export interface MasterDataChangeStatus {
  changeId: string;
  status: 'awaiting_approval' | 'applied' | 'rejected' | 'expired';
  decision?: GateDecision;
  refusedSignals: RefusedSignal[];
}

export const masterDataChangeStatusQuery = defineQuery<MasterDataChangeStatus>('status');

/**
 * A cost center moving under another parent in its entity's hierarchy, as the ERP reported it: nothing moves
 * in closeloop until an approver who is not the requester (nor an integration administrator) approves, by
 * the API's update or a `decision` signal from Temporal UI. Approved, the database applies the move from its
 * date; rejected or left undecided until the timeout, the hierarchy stays as it was and the request records
 * why. Workflow ID `master-data-change:<entity>:<cost center>:<id>`.
 */
export async function masterDataChange(input: MasterDataChangeInput): Promise<MasterDataChangeStatus> {
  const db = proxyActivities<Activities>(dbWrite);
  const state: MasterDataChangeStatus = {
    changeId: input.changeId,
    status: 'awaiting_approval',
    refusedSignals: [],
  };
  setHandler(masterDataChangeStatusQuery, () => state);
  const gate = controlDecisionGate(
    {
      submittedBy: input.requestedBy,
      approvers: input.approvers,
      integrationAdmins: input.integrationAdmins,
    },
    {
      legalEntity: input.legalEntity,
      entityType: 'master_data_change',
      entityId: input.changeId,
      correlationId: input.correlationId,
    },
    state,
  );

  const decision = await gate.wait(input.timeout);
  const outcome = await db.decideMasterDataChange({
    changeId: input.changeId,
    decision: decision?.decision ?? 'expire',
    decidedBy: decision?.principal ?? 'closeloop',
    comment: decision?.comment,
    decidedAt: decision?.at ?? new Date().toISOString(),
  });
  Object.assign(state, { status: outcome.status, decision });
  gate.recorded();
  await condition(allHandlersFinished);
  return state;
}
