import {
  allHandlersFinished,
  condition,
  defineQuery,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import { type Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { dbWrite, erpCall, type ErpRetryOverride } from './activity-profiles';
import { controlDecisionGate, type GateDecision, type RefusedSignal } from './decision-gate';

export interface BudgetTransferInput {
  transferId: string;
  legalEntity: string;
  requestedBy: string;
  /** Who may approve: the approval roster, never the requester nor an integration administrator. */
  approvers: string[];
  integrationAdmins: string[];
  timeout: Duration;
  correlationId: string;
  erpRetry?: ErpRetryOverride;
}

export interface BudgetTransferStatus {
  transferId: string;
  status: 'awaiting_approval' | 'rejected' | 'expired' | 'refused' | 'applied' | 'published';
  decision?: GateDecision;
  outcomeReason?: string;
  erpDocuments?: string[];
  refusedSignals: RefusedSignal[];
}

export const transferStatusQuery = defineQuery<BudgetTransferStatus>('status');

/**
 * A budget transfer or supplement: authorize (an approver who is not the requester decides, by update or
 * signal), then the database applies it to the control balances (or refuses it when the source no longer
 * has the funds), then each ERP the entity publishes to receives it as a budget register entry under the
 * transfer's own key. Workflow ID `budget-transfer:<id>`.
 */
export async function budgetTransfer(input: BudgetTransferInput): Promise<BudgetTransferStatus> {
  const db = proxyActivities<Activities>(dbWrite);
  const erp = proxyActivities<Activities>(erpCall(input.erpRetry));
  const state: BudgetTransferStatus = {
    transferId: input.transferId,
    status: 'awaiting_approval',
    refusedSignals: [],
  };
  setHandler(transferStatusQuery, () => state);
  const gate = controlDecisionGate(
    {
      submittedBy: input.requestedBy,
      approvers: input.approvers,
      integrationAdmins: input.integrationAdmins,
    },
    {
      legalEntity: input.legalEntity,
      entityType: 'budget_transfer',
      entityId: input.transferId,
      correlationId: input.correlationId,
    },
    state,
  );

  // ── Authorize ─────────────────────────────────────────────────────────────────────────────────────
  const decision = await gate.wait(input.timeout);
  const decided = decision
    ? await db.decideTransfer({
        transferId: input.transferId,
        decision: decision.decision,
        decidedBy: decision.principal,
        comment: decision.comment,
        decidedAt: decision.at,
        correlationId: input.correlationId,
      })
    : await db.expireTransfer({ transferId: input.transferId });
  Object.assign(state, {
    status: decided.status,
    decision,
    outcomeReason: decided.outcomeReason ?? undefined,
  });
  gate.recorded();

  // ── Execute: the ERP gets the same change the balances got ─────────────────────────────────────────
  if (decided.status === 'applied') {
    const { documents } = await erp.publishTransfer({ transferId: input.transferId });
    const published = await db.markTransferPublished({ transferId: input.transferId, documents });
    Object.assign(state, { status: published.status, erpDocuments: documents });
  }
  await condition(allHandlersFinished);
  return state;
}
