import { type DecisionKind } from '../domain/approval';
import { appendAudit } from '../db/queries/audit';
import { getVersion, setVersionStatus } from '../db/queries/budget-versions';
import { type ActivityDeps } from './deps';
import { conflict, notFound } from './failures';

export interface RecordDecisionInput {
  versionId: string;
  decision: DecisionKind;
  principal: string;
  comment?: string;
  correlationId: string;
  /** When the workflow accepted the decision (workflow time), so a retry records the same instant. */
  decidedAt: string;
}

export interface RecordApprovalTimeoutInput {
  versionId: string;
  kind: 'escalated' | 'expired';
  correlationId: string;
  escalateTo: string[];
}

export function createApprovalActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Authorize: persist the decision and its audit entry together; repeating the same decision is a no-op. */
    async recordDecision(input: RecordDecisionInput): Promise<void> {
      await db.transaction(async (tx) => {
        const version = await getVersion(tx, input.versionId, { forUpdate: true });
        if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
        const target = input.decision === 'approve' ? 'approved' : 'rejected';
        if (version.decidedBy !== null) {
          // A retry, or a Temporal UI reset replaying the decision: the same decision again changes nothing.
          const sameDecision = (version.status === 'rejected') === (input.decision === 'reject');
          if (version.decidedBy === input.principal && sameDecision) return;
          throw conflict(`budget version ${input.versionId} was already decided by ${version.decidedBy}`);
        }
        if (version.status !== 'awaiting_approval') {
          throw conflict(`budget version ${input.versionId} is ${version.status}, not awaiting approval`);
        }
        await setVersionStatus(tx, input.versionId, target, {
          decidedBy: input.principal,
          decidedAt: new Date(input.decidedAt),
          decisionComment: input.comment ?? null,
        });
        await appendAudit(tx, {
          actor: input.principal,
          action: `budget_version.${target}`,
          entityType: 'budget_version',
          entityId: input.versionId,
          correlationId: input.correlationId,
          eventKey: `decision:${input.versionId}`,
          details: { decision: input.decision, comment: input.comment, submittedBy: version.submittedBy },
        });
      });
    },

    async recordApprovalTimeout(input: RecordApprovalTimeoutInput): Promise<void> {
      await db.transaction(async (tx) => {
        if (input.kind === 'expired') await setVersionStatus(tx, input.versionId, 'expired');
        await appendAudit(tx, {
          actor: 'closeloop',
          action: `budget_version.approval_${input.kind}`,
          entityType: 'budget_version',
          entityId: input.versionId,
          correlationId: input.correlationId,
          eventKey: `approval-${input.kind}:${input.versionId}`,
          details: { escalateTo: input.escalateTo },
        });
      });
    },
  };
}
