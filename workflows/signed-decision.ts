import { patched, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type BudgetDecisionKind } from '../domain/approval';
import { dbWriteLocal } from './activity-profiles';

/** Patch ID: a decision signal counts only with a token closeloop signed for its sender (see domain/decision-token). */
export const SIGNED_DECISION_SIGNALS = 'decision-signals-signed';

export type SignalProof = { ok: true; stage: number; tokenId: string } | { ok: false; reason: string };

/**
 * The check every decision signal passes before the workflow looks at what it decides: the token must be
 * one closeloop signed, unexpired, for this workflow, this principal and this decision (a local activity
 * verifies it, keeping the workflow deterministic), and must not have been used before in this run. The
 * stage it was signed for is the caller's to compare with the one open. Workflows that started before
 * signed signals replay without the check.
 */
export function signalProofs() {
  const { verifyDecisionToken } = proxyLocalActivities<Activities>(dbWriteLocal);
  const used = new Set<string>();
  return {
    /**
     * Whether this workflow requires proof (patched). Asked before `check` and without awaiting anything
     * when it does not, so workflows that started before signed signals replay their commands in order.
     */
    required: () => patched(SIGNED_DECISION_SIGNALS),
    async check(d: {
      decision: BudgetDecisionKind;
      principal: string;
      token?: string;
    }): Promise<SignalProof> {
      if (!d.token) {
        return {
          ok: false,
          reason:
            'Unsigned: a decision signal must carry the token closeloop signs for its approver ' +
            '(POST /v1/approvals/{workflowId}/signal-payload, or `closeloop approvals payload`); the API decides without one',
        };
      }
      const checked = await verifyDecisionToken({
        token: d.token,
        principal: d.principal,
        decision: d.decision,
        workflowId: workflowInfo().workflowId,
      });
      if (!checked.ok) return { ok: false, reason: `${checked.code}: ${checked.message}` };
      if (used.has(checked.claims.tokenId))
        return { ok: false, reason: 'Replayed: this token was used already; a token decides once' };
      return { ok: true, stage: checked.claims.stage, tokenId: checked.claims.tokenId };
    },
    /** The decision the token brought was taken: the token cannot bring another. */
    spend(tokenId: string) {
      used.add(tokenId);
    },
  };
}
