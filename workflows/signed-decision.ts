import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type BudgetDecisionKind } from '../domain/approval';
import { type TokenCheck } from '../domain/decision-token';
import { dbWrite } from './activity-profiles';

/** Patch ID: a decision (signal or update) counts only with a token closeloop signed for its sender (domain/decision-token). */
export const SIGNED_DECISION_SIGNALS = 'decision-signals-signed';

export type SignalProof = { ok: true; stage?: number; tokenId: string } | { ok: false; reason: string };

/**
 * The check every decision (signal or update) passes before the workflow looks at what it decides: the token
 * must be one closeloop signed, unexpired, for this workflow, this principal and this decision (an activity
 * verifies it, keeping the workflow deterministic), and must not have been used before in this
 * run; a token signed for a stage must meet that stage open (`levelRefusal`). Create it when the workflow
 * starts: workflows that started before signed decisions (no patch marker there) replay without the check.
 */
export function decisionProofs() {
  // An activity, not a local one: its result sits in history in order with the cycle's other activities, so
  // a replay resolves a signal's check at the same point among them as the run did.
  const { verifyDecisionToken } = proxyActivities<Activities>(dbWrite);
  const required = patched(SIGNED_DECISION_SIGNALS);
  const used = new Set<string>();
  return {
    /** Whether this workflow requires proof; when it does not, callers must not await anything (replay). */
    required,
    /** `receivedAt`: when the decision reached the workflow (now, unless it was held while importing). */
    async check(
      d: { decision: BudgetDecisionKind; principal: string; token?: string },
      receivedAt = new Date().toISOString(),
    ): Promise<SignalProof> {
      if (!d.token) {
        return {
          ok: false,
          reason:
            'Unsigned: a decision signal must carry the token closeloop signs for its approver ' +
            '(POST /v1/approvals/{workflowId}/signal-payload, or `closeloop approvals payload`)',
        };
      }
      // Expiry is judged at the moment the decision reached the workflow, not when the check ran.
      let checked: TokenCheck;
      try {
        checked = await verifyDecisionToken({
          token: d.token,
          principal: d.principal,
          decision: d.decision,
          workflowId: workflowInfo().workflowId,
          receivedAt,
        });
      } catch (err) {
        // A check that cannot run (a worker without it, the activity timing out) refuses; it never fails the workflow.
        return {
          ok: false,
          reason: `VerificationUnavailable: the token could not be checked (${err instanceof Error ? err.message : String(err)}); send it again`,
        };
      }
      if (!checked.ok) return { ok: false, reason: `${checked.code}: ${checked.message}` };
      if (used.has(checked.claims.tokenId))
        return { ok: false, reason: 'Replayed: this token was used already; a token decides once' };
      return { ok: true, stage: checked.claims.stage, tokenId: checked.claims.tokenId };
    },
    /** Why a token signed for one stage cannot decide at the open one. */
    levelRefusal(proof: { stage?: number }, open: number): string | undefined {
      if (proof.stage === undefined || proof.stage === open) return undefined;
      return `WrongLevel: the token was signed for stage ${proof.stage + 1}; the open stage is ${open + 1}`;
    },
    /** The decision the token brought was taken: the token cannot bring another. */
    spend(tokenId: string) {
      used.add(tokenId);
    },
  };
}
