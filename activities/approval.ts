import { type DecisionKind } from '../domain/approval';
import { type ApprovalRoute, routeVersion, UnroutableVersion } from '../domain/approval-policy';
import { money } from '../domain/money';
import {
  costCenterOwnersOn,
  currentApprovalPolicy,
  delegationsOn,
  recordLevelDecision,
  versionRoutingFigures,
} from '../db/queries/approval-policies';
import { recordApprovalTimeout, recordDecision } from '../db/queries/budget-versions';
import { recordRefusedDecision } from '../db/queries/cycles';
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

export interface RouteForApprovalInput {
  versionId: string;
  submittedBy: string;
  integrationAdmins: string[];
  /** The approvers' roster: the one level of an entity that has no approval policy. */
  roster: string[];
}

export type RoutedVersion =
  { policyRevision: number | null; route: ApprovalRoute } | { unroutable: string; level: string };

export type RecordLevelDecisionInput = Parameters<typeof recordLevelDecision>[1];

export function createApprovalActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * The route a version takes through its entity's approval policy, from its own figures (total, increase
     * over the active budget, the cost centers it touches and their owners today). An entity without a
     * policy routes to its approvers' roster, one approval, as before policies existed.
     */
    async routeForApproval(input: RouteForApprovalInput): Promise<RoutedVersion> {
      const figures = await versionRoutingFigures(db, input.versionId);
      if (!figures) throw notFound(`budget version ${input.versionId} does not exist`);
      const policy = await currentApprovalPolicy(db, figures.legalEntity);
      if (!policy) {
        const approvers = input.roster.filter(
          (p) => p !== input.submittedBy && !input.integrationAdmins.includes(p),
        );
        return {
          policyRevision: null,
          route: { stages: [[{ name: 'approvers', key: 'approvers', approvers, required: 1 }]], skipped: [] },
        };
      }
      const today = new Date().toISOString().slice(0, 10);
      try {
        const route = routeVersion(policy.spec, {
          submittedBy: input.submittedBy,
          total: money(figures.total, figures.currency),
          activeTotal: figures.activeTotal ? money(figures.activeTotal, figures.currency) : undefined,
          costCenters: figures.costCenters.map((c) => ({
            costCenter: c.costCenter,
            total: money(c.total, figures.currency),
          })),
          owners: await costCenterOwnersOn(db, figures.legalEntity, today),
          integrationAdmins: input.integrationAdmins,
          delegations: await delegationsOn(db, today),
        });
        return { policyRevision: policy.revision, route };
      } catch (err) {
        if (err instanceof UnroutableVersion) return { unroutable: err.message, level: err.level };
        throw err;
      }
    },

    /** One approver's decision at the levels it counted at, in the audit trail (once under retries). */
    async recordLevelDecision(input: RecordLevelDecisionInput): Promise<void> {
      await db.transaction((tx) => recordLevelDecision(tx, input));
    },

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
