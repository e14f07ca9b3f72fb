import { type DecisionKind } from '../domain/approval';
import { recordApprovalTimeout, recordDecision } from '../db/queries/budget-versions';
import { recordRefusedDecision } from '../db/queries/cycles';
import { type ActivityDeps } from './deps';
import { conflict } from './failures';

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

export interface RecordRefusedSignalInput {
  cycleId: string;
  legalEntity: string;
  correlationId: string;
  principal: string;
  signal: string;
  payload: unknown;
  reason: string;
  /** The refusal's position among the cycle's refused signals: with the cycle, its business identity. */
  sequence: number;
}

export function createApprovalActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Authorize: persist the decision and its audit entry together; repeating the same decision is a no-op. */
    async recordDecision(input: RecordDecisionInput): Promise<void> {
      const outcome = await db.transaction((tx) =>
        recordDecision(tx, { ...input, decidedAt: new Date(input.decidedAt) }),
      );
      if (outcome.outcome === 'refused') {
        throw conflict(
          outcome.decidedBy
            ? `budget version ${input.versionId} was already decided by ${outcome.decidedBy}`
            : `budget version ${input.versionId} is ${outcome.status}, not awaiting approval`,
        );
      }
    },

    async recordApprovalTimeout(input: RecordApprovalTimeoutInput): Promise<void> {
      await db.transaction((tx) => recordApprovalTimeout(tx, input));
    },

    /** A signal cannot answer its sender: the refusal goes to the cycle's audit trail (and its status). */
    async recordRefusedSignal(input: RecordRefusedSignalInput): Promise<void> {
      const cycle = {
        cycleId: input.cycleId,
        legalEntity: input.legalEntity,
        correlationId: input.correlationId,
      };
      const payload =
        input.payload && typeof input.payload === 'object' ? (input.payload as Record<string, unknown>) : {};
      await db.transaction((tx) =>
        recordRefusedDecision(tx, {
          cycle,
          principal: input.principal,
          via: 'signal',
          request: { signal: input.signal, ...payload },
          code: input.reason.split(':')[0] ?? 'refused',
          reason: input.reason,
          eventId: `${cycle.correlationId}:${input.sequence}`,
        }),
      );
    },
  };
}
