import { patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type BudgetDecisionKind } from '../domain/approval';
import { type TokenCheck } from '../domain/decision-token';
import { dbWrite, dbWriteLocal } from './activity-profiles';

/** Patch ID: a decision (signal or update) counts only with a token closeloop signed for its sender (domain/decision-token). */
export const SIGNED_DECISION_SIGNALS = 'decision-signals-signed';

/**
 * Patch ID: the token is checked by a local activity, run in the workflow's own task, and the workflow's
 * record of the decision is written the same way: an approval answers in one workflow task instead of
 * waiting for two activity tasks to be dispatched (bench:approvals).
 */
export const DECISIONS_CHECKED_LOCALLY = 'decisions-checked-and-recorded-locally';

/**
 * The check every decision (signal or update) passes before the workflow looks at what it decides: the token
 * must be one closeloop signed, unexpired, for this workflow, this principal and this decision (an activity
 * verifies it, keeping the workflow deterministic), must not have been used before in this run, and a token
 * signed for a stage must meet that stage open. Create it when the workflow starts: workflows that started
 * before signed decisions (no patch marker there) replay without the check.
 */
export function decisionProofs() {
  const required = patched(SIGNED_DECISION_SIGNALS);
  // Patched: workflows that started before checked tokens with an activity task and replay that way. A local
  // activity's result is a marker in history, in order with the workflow's other events like any activity's.
  const local = required && patched(DECISIONS_CHECKED_LOCALLY);
  const { verifyDecisionToken } = local
    ? proxyLocalActivities<Activities>(dbWriteLocal)
    : proxyActivities<Activities>(dbWrite);
  const used = new Set<string>();
  return {
    /** Whether this workflow requires proof; when it does not, callers must not await anything (replay). */
    required,
    /** Whether decisions are checked, and may be recorded, by local activities (see DECISIONS_CHECKED_LOCALLY). */
    local,
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
