import { z } from 'zod';

export const DecisionKind = z.enum(['approve', 'reject']);
export type DecisionKind = z.infer<typeof DecisionKind>;

/** A budget version may also be sent back: the planner fixes it and submits it again, nothing is final. */
export const BudgetDecisionKind = z.enum(['approve', 'reject', 'send_back']);
export type BudgetDecisionKind = z.infer<typeof BudgetDecisionKind>;

const decisionFields = {
  principal: z.string().trim().min(1, 'is required').max(200),
  comment: z.string().trim().max(2000).optional(),
};
/** Proof of who sends a decision (see domain/decision-token): handed to approvers, or signed by the API for its caller. */
const tokenField = { token: z.string().trim().min(1).max(4000).optional() };

/** Rejecting or sending back needs a comment: the refine of every decision body (`.refine(needsComment, commentRule)`). */
export const needsComment = (d: { decision: string; comment?: string }) =>
  d.decision === 'approve' || (d.comment !== undefined && d.comment.length > 0);
export const commentRule = {
  path: ['comment'],
  message: 'is required when rejecting or sending back: the submitter needs to know why',
};

/** A decision as it arrives by API update or by signal (Temporal UI / CLI). */
export const DecisionInput = z
  .object({ decision: DecisionKind, ...decisionFields })
  .strict()
  .refine(needsComment, commentRule);
export type DecisionInput = z.infer<typeof DecisionInput>;

/** A decision on a budget version, by API update. */
export const BudgetDecisionInput = z
  .object({ decision: BudgetDecisionKind, ...decisionFields })
  .strict()
  .refine(needsComment, commentRule);
export type BudgetDecisionInput = z.infer<typeof BudgetDecisionInput>;

/** The same decisions as signals, which carry a signed token. */
export const SignalDecisionInput = z
  .object({ decision: DecisionKind, ...decisionFields, ...tokenField })
  .strict()
  .refine(needsComment, commentRule);
export type SignalDecisionInput = z.infer<typeof SignalDecisionInput>;
export const BudgetSignalDecisionInput = z
  .object({ decision: BudgetDecisionKind, ...decisionFields, ...tokenField })
  .strict()
  .refine(needsComment, commentRule);
export type BudgetSignalDecisionInput = z.infer<typeof BudgetSignalDecisionInput>;

/** Support staff's request to publish again after a publication failed for good and was reversed. */
export const RetryPublicationInput = z
  .object({
    principal: z.string().trim().min(1, 'is required').max(200),
    reason: z.string().trim().max(2000).optional(),
  })
  .strict();
export type RetryPublicationInput = z.infer<typeof RetryPublicationInput>;

/** What a single decision gate decides on (beside budget versions, which have their own cycle). */
export type DecisionSubjectType =
  'funds_override' | 'budget_transfer' | 'master_data_change' | 'period_close';

export interface ApprovalPolicy {
  submittedBy: string;
  /** Principals allowed to approve this version. */
  approvers: string[];
  /** Integration administrators: they run the pipes and never approve what flows through them. */
  integrationAdmins: string[];
}

export type DecisionRefusal =
  | { code: 'WrongStage'; message: string }
  | { code: 'AlreadyDecided'; message: string }
  | { code: 'SegregationOfDuties'; message: string }
  | { code: 'NotAnApprover'; message: string };

/** Why a decision is refused, or undefined when it may be taken. Shared by the update validator and the signal. */
export function refuseDecision(
  policy: ApprovalPolicy,
  state: { awaitingDecision: boolean; decidedBy?: string },
  input: { principal: string },
): DecisionRefusal | undefined {
  if (state.decidedBy !== undefined) {
    return { code: 'AlreadyDecided', message: `the version was already decided by ${state.decidedBy}` };
  }
  if (!state.awaitingDecision) return { code: 'WrongStage', message: 'the version is not awaiting approval' };
  if (input.principal === policy.submittedBy) {
    return {
      code: 'SegregationOfDuties',
      message: `${input.principal} submitted this version and cannot decide on it`,
    };
  }
  if (policy.integrationAdmins.includes(input.principal)) {
    return {
      code: 'SegregationOfDuties',
      message: `${input.principal} is an integration administrator and cannot decide on budgets`,
    };
  }
  if (!policy.approvers.includes(input.principal)) {
    return { code: 'NotAnApprover', message: `${input.principal} is not an approver for this version` };
  }
  return undefined;
}
