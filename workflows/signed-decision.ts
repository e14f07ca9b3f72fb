import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type BudgetDecisionKind } from '../domain/approval';
import { type TokenCheck } from '../domain/decision-token';
import { dbWrite } from './activity-profiles';

/** Patch ID: a decision (signal or update) counts only with a token closeloop signed for its sender (domain/decision-token). */
export const SIGNED_DECISION_SIGNALS = 'decision-signals-signed';

/**
 * The check every decision (signal or update) passes before the workflow looks at what it decides: the token
 * must be one closeloop signed, unexpired, for this workflow, this principal and this decision (an activity
 * verifies it, keeping the workflow deterministic), must not have been used before in this run, and a token
 * signed for a stage must meet that stage open. Create it when the workflow starts: workflows that started
 * before signed decisions (no patch marker there) replay without the check.
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
    /**
     * Why the decision's token proves nothing (`Code: message`), or undefined when it proves its sender. A
     * token that verifies is spent, whether or not its decision is then taken. `openStage` is read once the
     * token is verified; `receivedAt` is when the decision reached the workflow (now, unless it was held
     * while importing).
     */
    async prove(
      d: { decision: BudgetDecisionKind; principal: string; token?: string },
      openStage: () => number,
      receivedAt = new Date().toISOString(),
    ): Promise<string | undefined> {
      if (!d.token) {
        return (
          'Unsigned: a decision signal must carry the token closeloop signs for its approver ' +
          '(POST /v1/approvals/{workflowId}/signal-payload, or `closeloop approvals payload`)'
        );
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
        return `VerificationUnavailable: the token could not be checked (${err instanceof Error ? err.message : String(err)}); send it again`;
      }
      if (!checked.ok) return `${checked.code}: ${checked.message}`;
      const { tokenId, stage } = checked.claims;
      if (used.has(tokenId)) return 'Replayed: this token was used already; a token decides once';
      used.add(tokenId);
      const open = openStage();
      if (stage !== undefined && stage !== open)
        return `WrongLevel: the token was signed for stage ${stage + 1}; the open stage is ${open + 1}`;
      return undefined;
    },
  };
}
