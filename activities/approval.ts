import { type BudgetDecisionKind } from '../domain/approval';
import { type ApprovalNotice, composeNotice, noticeKey } from '../domain/approval-notification';
import { type TokenCheck, verifyDecisionToken } from '../domain/decision-token';
import {
  claimNotification,
  markNotificationSent,
  recordNotificationChannel,
} from '../db/queries/approval-notifications';
import {
  type ApprovalRoute,
  ownedDimensions,
  routeVersion,
  UnroutableVersion,
} from '../domain/approval-policy';
import { money } from '../domain/money';
import {
  costCenterOwnersOn,
  versionDimensionValues,
  currentApprovalPolicy,
  delegationsOn,
  recordLevelDecision,
  versionRoutingFigures,
} from '../db/queries/approval-policies';
import { recordApprovalTimeout, recordDecision } from '../db/queries/budget-versions';
import { recordRefusedDecision } from '../db/queries/cycles';
import { CHANNELS } from './connectors/notify/notifier';
import { type ActivityDeps } from './deps';
import { conflict, notFound } from './failures';

export interface RecordDecisionInput {
  versionId: string;
  decision: BudgetDecisionKind;
  principal: string;
  /** Set when a delegate decided: the approver they decided for. */
  onBehalfOf?: string;
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
  | { policyRevision: number | null; route: ApprovalRoute; escalateTo: string[] }
  | { unroutable: string; level: string };

export interface VerifyDecisionTokenInput {
  token: string;
  principal: string;
  workflowId: string;
  decision: BudgetDecisionKind;
  /** When the decision reached the workflow (workflow time): the token must not have expired by then. */
  receivedAt: string;
}

export interface NotifyApproversInput {
  notice: Omit<ApprovalNotice, 'reviewUrl'>;
  versionId: string;
  correlationId: string;
}

export type RecordLevelDecisionInput = Parameters<typeof recordLevelDecision>[1];

export function createApprovalActivities({
  db,
  notifier,
  approvals,
}: Pick<ActivityDeps, 'db' | 'notifier' | 'approvals'>) {
  return {
    /**
     * Whether a decision signal's token was signed by closeloop for this principal, workflow and decision,
     * and has not expired (its answer is recorded in history, so a replay sees the same).
     */
    async verifyDecisionToken(input: VerifyDecisionTokenInput): Promise<TokenCheck> {
      return verifyDecisionToken(approvals.signingKey, input.token, input, new Date(input.receivedAt));
    },

    /**
     * Tells people about a version waiting in its chain (or decided), by mail and chat, once per notice:
     * the outbox row decides whether it still has to go out, and is marked sent with its audit entry.
     */
    async notifyApprovers(input: NotifyApproversInput): Promise<{ sent: boolean; channels: string[] }> {
      const reviewUrl = `${approvals.publicUrl}/v1/approvals/${encodeURIComponent(input.notice.cycleId)}/review`;
      const notice: ApprovalNotice = { ...input.notice, reviewUrl };
      const { subject, text } = composeNotice(notice);
      const row = {
        key: noticeKey(notice),
        legalEntity: notice.legalEntity,
        cycleId: notice.cycleId,
        kind: notice.kind,
        recipients: notice.to,
        subject,
      };
      const done = notice.to.length ? await claimNotification(db, row) : undefined;
      if (!done) return { sent: false, channels: [] };
      const message = {
        key: row.key,
        to: notice.to,
        subject,
        text,
        data: { kind: notice.kind, cycleId: notice.cycleId, version: notice.version, reviewUrl },
      };
      const channels = [...done];
      // Channel by channel, each recorded as it goes: a retry after the webhook failed does not mail again.
      for (const channel of CHANNELS.filter((c) => !done.includes(c))) {
        if (!(await notifier.send(message, channel))) continue;
        await recordNotificationChannel(db, row.key, channel);
        channels.push(channel);
      }
      await db.transaction((tx) =>
        markNotificationSent(tx, { ...row, versionId: input.versionId, correlationId: input.correlationId }),
      );
      return { sent: true, channels };
    },

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
          escalateTo: [],
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
          dimensionValues: await versionDimensionValues(db, {
            versionId: input.versionId,
            legalEntity: figures.legalEntity,
            currency: figures.currency,
            dimensions: ownedDimensions(policy.spec),
            date: today,
          }),
          integrationAdmins: input.integrationAdmins,
          delegations: await delegationsOn(db, today),
        });
        return { policyRevision: policy.revision, route, escalateTo: policy.spec.escalateTo ?? [] };
      } catch (err) {
        if (err instanceof UnroutableVersion) return { unroutable: err.message, level: err.level };
        throw err;
      }
    },

    /** Delegations in force today (approver → their delegates): a running chain follows them. */
    async delegationsInForce(): Promise<Record<string, string[]>> {
      return delegationsOn(db, new Date().toISOString().slice(0, 10));
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
