import {
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { type Duration } from '@temporalio/common';
import { type z } from 'zod';
import type { Activities } from '../activities';
import {
  type ApprovalPolicy,
  DecisionInput,
  type DecisionRefusal,
  refuseDecision,
  type DecisionSubjectType,
  SignalDecisionInput,
} from '../domain/approval';
import { FailureType } from '../domain/failures';
import { describeIssues, fieldIssues } from '../domain/zod-issues';
import { dbWrite } from './activity-profiles';
import { decideRequestUpdate, decisionSignal } from './definitions';
import { decisionProofs } from './signed-decision';

export interface GateDecision extends DecisionInput {
  /** Workflow time the decision was accepted. */
  at: string;
}

export interface RefusedSignal {
  principal: string;
  reason: string;
  at: string;
}

/**
 * A decision update's validator: it runs before the update is accepted into history, so a malformed or
 * refused decision leaves no trace and changes nothing, and its caller learns why at once.
 */
export function validateDecision<D>(
  raw: unknown,
  refusal: (d: D) => DecisionRefusal | undefined,
  schema: z.ZodType<D> = DecisionInput as unknown as z.ZodType<D>,
) {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: 'invalid decision',
      nonRetryable: true,
      details: [fieldIssues(parsed.error)],
    });
  }
  const r = refusal(parsed.data);
  if (r) throw decisionRefused(`${r.code}: ${r.message}`);
}

/** A gate decides once: its tokens are signed for stage 0. */
const SINGLE_STAGE = () => 0;

export const UNSIGNED_UPDATE =
  'Unsigned: a decision must carry the token closeloop signs for its sender; decide through the API ' +
  '(POST …/decision), or send the payload of POST /v1/approvals/{workflowId}/signal-payload as a signal';

/** A refused decision as its update's failure: "Code: message" → type DecisionRefused, details [{code}]. */
export function decisionRefused(reason: string): ApplicationFailure {
  const m = /^(\w+): (.*)$/s.exec(reason);
  return ApplicationFailure.create({
    type: FailureType.DecisionRefused,
    message: m ? m[2]! : reason,
    nonRetryable: true,
    details: [{ code: m ? m[1]! : 'Refused' }],
  });
}

/**
 * The authorize stage of a budget-control request that waits for one person's decision (an override, a
 * transfer), as the budget cycle runs its own: the `decision` signal (Temporal UI, CLI) and the `decide`
 * update (API) meet the same segregation-of-duties rule. A refused update never enters history; a refused
 * signal is listed in the workflow's status and written to the entity's control audit stream. The update
 * answers once the workflow has recorded the decision (`recorded`).
 */
export function controlDecisionGate<S extends { refusedSignals: RefusedSignal[] }>(
  policy: ApprovalPolicy,
  subject: {
    legalEntity: string;
    entityType: DecisionSubjectType;
    entityId: string;
    correlationId: string;
  },
  state: S,
  /**
   * Created when the workflow starts (decisionProofs), for a gate set up later: a patch decided right after
   * a local activity resolved did not replay in order.
   */
  proofs: ReturnType<typeof decisionProofs> = decisionProofs(),
) {
  const db = proxyActivities<Activities>(dbWrite);
  // The request awaits its decision from the moment its workflow starts: a decision sent right after the
  // start (delivered with the first workflow task, as soon as the handlers exist) is taken, not refused.
  let awaiting = true;
  let decision: GateDecision | undefined;
  let recorded = false;
  const refusal = (d: DecisionInput) =>
    refuseDecision(policy, { awaitingDecision: awaiting, decidedBy: decision?.principal }, d);
  const accept = (d: DecisionInput) => {
    decision = { ...d, at: new Date().toISOString() };
  };
  const refuseSignal = async (raw: unknown, reason: string) => {
    const principal = principalOf(raw);
    state.refusedSignals.push({ principal, reason, at: new Date().toISOString() });
    await db.recordRefusedControlSignal({
      ...subject,
      workflowId: workflowInfo().workflowId,
      principal,
      payload: raw,
      reason,
      sequence: state.refusedSignals.length,
    });
  };

  setHandler(decisionSignal, async (raw) => {
    const parsed = SignalDecisionInput.safeParse(raw);
    if (!parsed.success) return refuseSignal(raw, `invalid decision: ${describeIssues(parsed.error)}`);
    const { token, ...d } = parsed.data;
    if (proofs.required) {
      const unproven = await proofs.prove({ ...d, token }, SINGLE_STAGE);
      if (unproven) return refuseSignal(raw, unproven);
    }
    const r = refusal(d);
    if (r) return refuseSignal(raw, `${r.code}: ${r.message}`);
    accept(d);
  });
  setHandler(
    decideRequestUpdate,
    async (raw) => {
      const { token, ...d } = SignalDecisionInput.parse(raw);
      if (proofs.required) {
        const unproven = await proofs.prove({ ...d, token }, SINGLE_STAGE);
        if (unproven) {
          await refuseSignal(raw, unproven);
          throw decisionRefused(unproven);
        }
        const late = refusal(d);
        if (late) throw decisionRefused(`${late.code}: ${late.message}`);
      }
      accept(d);
      await condition(() => recorded);
      return state;
    },
    {
      validator: (raw) => {
        validateDecision(raw, refusal, SignalDecisionInput);
        if (proofs.required && !(raw as { token?: string }).token) throw decisionRefused(UNSIGNED_UPDATE);
      },
    },
  );

  return {
    /**
     * Waits for a decision; undefined when none came within `timeout`. Later decisions are refused, unless
     * `keepOpen` (a first wait before an escalation: the gate still takes a decision afterwards).
     */
    async wait(timeout: Duration, opts: { keepOpen?: boolean } = {}): Promise<GateDecision | undefined> {
      await condition(() => decision !== undefined, timeout);
      if (!opts.keepOpen) awaiting = false;
      return decision;
    },
    /** Who else may decide from now on (an escalation's contacts); the same segregation of duties applies. */
    addApprovers(principals: readonly string[]) {
      for (const p of principals) if (!policy.approvers.includes(p)) policy.approvers.push(p);
    },
    /** The decision is in the database: the update that brought it may answer. */
    recorded() {
      recorded = true;
    },
  };
}

/** Who sent a signal, as far as its (possibly malformed) payload says. */
export function principalOf(raw: unknown): string {
  const p = (raw as { principal?: unknown } | null)?.principal;
  return typeof p === 'string' && p.length ? p : '(unknown)';
}
