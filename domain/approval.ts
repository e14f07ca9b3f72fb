import { z } from 'zod';

export const DecisionKind = z.enum(['approve', 'reject']);
export type DecisionKind = z.infer<typeof DecisionKind>;

/** A decision as it arrives by API update or by signal (Temporal UI / CLI). */
export const DecisionInput = z
  .object({
    decision: DecisionKind,
    principal: z.string().trim().min(1, 'is required').max(200),
    comment: z.string().trim().max(2000).optional(),
  })
  .strict()
  .refine((d) => d.decision !== 'reject' || (d.comment !== undefined && d.comment.length > 0), {
    path: ['comment'],
    message: 'is required when rejecting: the submitter needs to know why',
  });
export type DecisionInput = z.infer<typeof DecisionInput>;

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
  input: DecisionInput,
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
