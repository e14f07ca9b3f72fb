import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { type Duration } from '@temporalio/common';
import { type ApprovalPolicy, DecisionInput, refuseDecision } from '../domain/approval';
import { FailureType } from '../domain/failures';
import { describeIssues, fieldIssues } from '../domain/zod-issues';
import { decideRequestUpdate, decisionSignal } from './definitions';

export interface GateDecision extends DecisionInput {
  /** Workflow time the decision was accepted. */
  at: string;
}

/**
 * The authorize stage of a request that waits for one person's decision (an override, a transfer), as the
 * budget cycle runs its own: the `decision` signal (Temporal UI, CLI) and the `decide` update (API) meet the
 * same segregation-of-duties rule; a refused update never enters history, a refused signal is handed to
 * `refused` to be audited. The update answers once the workflow has recorded the decision (`recorded`).
 */
export function decisionGate<S>(
  policy: ApprovalPolicy,
  refused: (raw: unknown, reason: string) => Promise<void>,
  status: () => S,
) {
  let awaiting = false;
  let decision: GateDecision | undefined;
  let recorded = false;
  const refusal = (d: DecisionInput) =>
    refuseDecision(policy, { awaitingDecision: awaiting, decidedBy: decision?.principal }, d);
  const accept = (d: DecisionInput) => {
    decision = { ...d, at: new Date().toISOString() };
  };

  setHandler(decisionSignal, async (raw) => {
    const parsed = DecisionInput.safeParse(raw);
    if (!parsed.success) return refused(raw, `invalid decision: ${describeIssues(parsed.error)}`);
    const r = refusal(parsed.data);
    if (r) return refused(raw, `${r.code}: ${r.message}`);
    accept(parsed.data);
  });
  setHandler(
    decideRequestUpdate,
    async (d) => {
      accept(DecisionInput.parse(d));
      await condition(() => recorded);
      return status();
    },
    {
      validator: (raw) => {
        const parsed = DecisionInput.safeParse(raw);
        if (!parsed.success) {
          throw ApplicationFailure.create({
            type: FailureType.ValidationFailed,
            message: 'invalid decision',
            nonRetryable: true,
            details: [fieldIssues(parsed.error)],
          });
        }
        const r = refusal(parsed.data);
        if (r) {
          throw ApplicationFailure.create({
            type: FailureType.DecisionRefused,
            message: r.message,
            nonRetryable: true,
            details: [{ code: r.code }],
          });
        }
      },
    },
  );

  return {
    /** Waits for a decision; undefined when none came within `timeout`. Later decisions are refused. */
    async wait(timeout: Duration): Promise<GateDecision | undefined> {
      awaiting = true;
      await condition(() => decision !== undefined, timeout);
      awaiting = false;
      return decision;
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
