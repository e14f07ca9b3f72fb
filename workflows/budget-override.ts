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

export interface BudgetOverrideInput {
  overrideId: string;
  legalEntity: string;
  /** The funds request overridden: its requester and Idempotency-Key. */
  requester: string;
  idempotencyKey: string;
  requestedBy: string;
  /** Controllers who may decide (never the one who asked, nor the request's requester). */
  approvers: string[];
  integrationAdmins: string[];
  /** How long a controller has to decide before the override expires. */
  timeout: Duration;
  /** How long the funds stay held once approved, as for any reservation ("30 days"). */
  reservationTtl?: string;
  correlationId: string;
}

export interface BudgetOverrideStatus {
  overrideId: string;
  status: 'awaiting_decision' | 'approved' | 'rejected' | 'expired' | 'refused';
  decision?: GateDecision;
  outcomeReason?: string;
  refusedSignals: RefusedSignal[];
}

export const overrideStatusQuery = defineQuery<BudgetOverrideStatus>('status');

/**
 * A controller's approval of an over-budget request: waits for a controller's decision (by the API's
 * update, or a signal from Temporal UI), then has the database hold the request's funds or record the
 * rejection; no decision in time and the override expires. Workflow ID `budget-override:<id>`.
 */
export async function budgetOverride(input: BudgetOverrideInput): Promise<BudgetOverrideStatus> {
  const db = proxyActivities<Activities>(dbWrite);
  const state: BudgetOverrideStatus = {
    overrideId: input.overrideId,
    status: 'awaiting_decision',
    refusedSignals: [],
  };
  setHandler(overrideStatusQuery, () => state);
  const gate = controlDecisionGate(
    {
      submittedBy: input.requestedBy,
      approvers: input.approvers,
      integrationAdmins: input.integrationAdmins,
    },
    {
      legalEntity: input.legalEntity,
      entityType: 'funds_override',
      entityId: input.overrideId,
      correlationId: input.correlationId,
    },
    state,
  );

  const decision = await gate.wait(input.timeout);
  const row = decision
    ? await db.decideOverride({
        overrideId: input.overrideId,
        decision: decision.decision,
        decidedBy: decision.principal,
        comment: decision.comment,
        decidedAt: decision.at,
        ttl: input.reservationTtl,
        correlationId: input.correlationId,
      })
    : await db.expireOverride({ overrideId: input.overrideId, correlationId: input.correlationId });
  Object.assign(state, { status: row.status, decision, outcomeReason: row.outcomeReason ?? undefined });
  gate.recorded();
  await condition(allHandlersFinished);
  return state;
}
