import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import {
  createDelegation,
  delegationsOf,
  revokeDelegation,
  versionReview,
} from '../../db/queries/approval-policies';
import { openCycles } from '../../db/queries/cycles';
import { BudgetDecisionKind, commentRule, needsComment } from '../../domain/approval';
import { awaitedApprovers, levelsFor } from '../../domain/approval-chain';
import { signDecisionToken } from '../../domain/decision-token';
import { parseBudgetCycleWorkflowId } from '../../domain/identity';
import { IsoDate, LegalEntityCode } from '../../domain/model';
import { toMinor } from '../../domain/money';
import {
  GroupBy,
  type GroupTerm,
  groupFigures,
  reviewFigures,
  termLabel,
} from '../../domain/report-grouping';
import type { BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { delegationsChangedSignal, statusQuery } from '../../workflows/definitions';
import { principalOf } from '../auth';
import { HttpError } from '../errors';
import { knownLegalEntity } from '../references';
import { groupingTrees } from '../report-groups';

const ReviewQuery = z.object({ groupBy: GroupBy.optional() }).strict();
const InboxQuery = z
  .object({
    /** `me`, or (controllers) another principal whose inbox to look at. */
    assignee: z.string().trim().min(1).default('me'),
    legalEntity: LegalEntityCode.optional(),
  })
  .strict();

const DelegationBody = z
  .object({
    delegate: z.string().trim().min(1).max(200),
    from: IsoDate,
    /** Exclusive: the first day the approver decides again. */
    to: IsoDate,
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .refine((d) => d.to > d.from, { path: ['to'], message: 'must be after from' });

const SignalPayloadBody = z
  .object({
    decision: BudgetDecisionKind,
    comment: z.string().trim().max(2000).optional(),
  })
  .strict()
  .refine(needsComment, commentRule);

/**
 * A `decision` signal ready to paste into Temporal UI, and the `temporal workflow signal` command that sends
 * it, with a token closeloop signs for this principal, workflow, stage and decision (APPROVAL_TOKEN_TTL).
 */
async function signalPayload(
  config: Config,
  d: { workflowId: string; principal: string; stage: number; decision: BudgetDecisionKind; comment?: string },
) {
  const ttlSeconds = Math.max(1, Math.floor(msToNumber(config.approvals.tokenTtl as '1s') / 1000));
  const { token, claims } = await signDecisionToken(
    config.approvals.signingKey,
    { principal: d.principal, workflowId: d.workflowId, stage: d.stage, decision: d.decision },
    ttlSeconds,
  );
  const payload = {
    decision: d.decision,
    principal: d.principal,
    ...(d.comment ? { comment: d.comment } : {}),
    token,
  };
  return {
    workflowId: d.workflowId,
    signal: 'decision',
    stage: d.stage + 1,
    expiresAt: claims.expiresAt,
    payload,
    command:
      `temporal workflow signal --address ${config.temporal.address} --namespace ${config.temporal.namespace} ` +
      `--workflow-id ${shellQuote(d.workflowId)} --name decision --input ${shellQuote(JSON.stringify(payload))}`,
  };
}

/** Single quotes for a POSIX shell: the payload pastes into `temporal workflow signal --input '…'` as is. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const cyclePath = (cycleId: string) => `/v1/budget-cycles/${encodeURIComponent(cycleId)}`;

/**
 * An approver's inbox and the review of each item: the open cycles whose current approval stage awaits the
 * caller, and for one of them the version beside the active budget (by account and cost center, absolute
 * and %), its largest changes, its validation warnings and who has decided where so far.
 */
export function approvalRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router();

  const statusOf = async (cycleId: string): Promise<BudgetCycleStatus | undefined> => {
    try {
      return await client.workflow.getHandle(cycleId).query(statusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  };

  // Open chains follow a delegation made or ended today: each open cycle is nudged to read them again.
  const nudgeOpenCycles = async () => {
    const open = await openCycles(db);
    await Promise.allSettled(
      open.map((c) => client.workflow.getHandle(c.cycleId).signal(delegationsChangedSignal)),
    );
  };

  router.get('/', async (req, res) => {
    const q = InboxQuery.parse(req.query);
    const caller = principalOf(req);
    const assignee = q.assignee === 'me' ? caller.id : q.assignee;
    if (assignee !== caller.id && caller.role !== 'controller')
      throw new HttpError(403, 'forbidden', `only a controller may read another principal's inbox`);
    if (q.legalEntity) await knownLegalEntity(db, q.legalEntity);
    const open = await openCycles(db, q.legalEntity);
    const statuses = await Promise.all(open.map((c) => statusOf(c.cycleId)));
    const items = statuses.flatMap((s) => {
      if (!s?.approval || !['awaiting_approval', 'escalated'].includes(s.status)) return [];
      if (!awaitedApprovers(s.approval).includes(assignee)) return [];
      return [
        {
          cycleId: s.cycleId,
          ref: s.ref,
          submittedBy: s.submittedBy,
          total: s.total,
          status: s.status,
          escalatedAt: s.escalatedAt,
          stage: { number: s.approval.current + 1, of: s.approval.stages.length },
          levels: levelsFor(s.approval, assignee).map((l) => ({
            key: l.key,
            required: l.required,
            approvals: l.approvals.length,
            reason: l.reason,
            ...(l.delegates?.[assignee] ? { onBehalfOf: l.delegates[assignee] } : {}),
          })),
          waitingSince: [...s.history].reverse().find((h) => h.stage === 'authorize')?.at,
          links: {
            review: `/v1/approvals/${encodeURIComponent(s.cycleId)}/review`,
            signalPayload: `/v1/approvals/${encodeURIComponent(s.cycleId)}/signal-payload`,
            decision: `${cyclePath(s.cycleId)}/decision`,
            cycle: cyclePath(s.cycleId),
          },
        },
      ];
    });
    // Approve from Temporal UI: each item carries a payload signed for the caller (never for another's inbox).
    const signed = await Promise.all(
      items.map(async (i) =>
        assignee === caller.id
          ? {
              ...i,
              approveBySignal: await signalPayload(config, {
                workflowId: i.cycleId,
                principal: caller.id,
                stage: i.stage.number - 1,
                decision: 'approve',
              }),
            }
          : i,
      ),
    );
    // The items carry tokens that decide as the caller: never kept by a cache or a proxy.
    res.set('Cache-Control', 'no-store').json({ assignee, items: signed });
  });

  /** An approver away from the office hands their approvals to a delegate for a date range. */
  router.post('/delegations', async (req, res) => {
    const caller = principalOf(req);
    const body = DelegationBody.parse(req.body);
    if (body.delegate === caller.id)
      throw new HttpError(400, 'validation_failed', 'a delegation names someone else', {
        issues: [{ path: 'delegate', message: 'is the caller' }],
      });
    const delegation = await db.transaction((tx) =>
      createDelegation(tx, {
        principal: caller.id,
        delegate: body.delegate,
        validFrom: body.from,
        validTo: body.to,
        reason: body.reason,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    await nudgeOpenCycles();
    res.status(201).json(delegation);
  });

  router.get('/delegations', async (req, res) => {
    const caller = principalOf(req);
    res.json({ delegations: await delegationsOf(db, caller.id, new Date().toISOString().slice(0, 10)) });
  });

  /** Back in the office early: the approver ends their delegation. */
  router.delete('/delegations/:id', async (req, res) => {
    const caller = principalOf(req);
    const id = z.string().uuid().safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'validation_failed', `${req.params.id} is not a delegation ID`);
    const revoked = await db.transaction((tx) =>
      revokeDelegation(tx, {
        id: id.data,
        principal: caller.id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (!revoked) throw new HttpError(404, 'not_found', `${caller.id} has no delegation ${id.data} in force`);
    await nudgeOpenCycles();
    res.json({ ...revoked, revoked: true });
  });

  /**
   * A ready-to-paste `decision` signal for Temporal UI or `temporal workflow signal`: the caller's decision
   * with a token closeloop signs for them, this workflow and its open stage, valid for a short while
   * (APPROVAL_TOKEN_TTL). A signal without such a token is refused by the workflow.
   */
  router.post('/:workflowId/signal-payload', async (req, res) => {
    const workflowId = String(req.params.workflowId);
    const caller = principalOf(req);
    const body = SignalPayloadBody.parse(req.body);
    let stage = 0;
    if (parseBudgetCycleWorkflowId(workflowId)) {
      const status = await statusOf(workflowId);
      if (!status) throw new HttpError(404, 'not_found', `no budget cycle ${workflowId}`);
      if (!['awaiting_approval', 'escalated'].includes(status.status))
        throw new HttpError(409, 'not_awaiting_approval', `${workflowId} is ${status.status}`);
      if (status.approval) {
        if (!levelsFor(status.approval, caller.id).length)
          throw new HttpError(
            409,
            'not_awaited',
            `${caller.id} is not awaited at stage ${status.approval.current + 1} of ${workflowId}`,
          );
        stage = status.approval.current;
      }
    } else {
      if (body.decision === 'send_back')
        throw new HttpError(400, 'validation_failed', 'only a budget version can be sent back', {
          issues: [{ path: 'decision', message: 'is send_back, which only budget cycles take' }],
        });
      try {
        const description = await client.workflow.getHandle(workflowId).describe();
        if (description.status.name !== 'RUNNING')
          throw new HttpError(
            409,
            'workflow_closed',
            `${workflowId} is ${description.status.name.toLowerCase()}`,
          );
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          throw new HttpError(404, 'not_found', `no workflow ${workflowId}`);
        throw err;
      }
    }
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json(
        await signalPayload(config, {
          workflowId,
          principal: caller.id,
          stage,
          decision: body.decision,
          comment: body.comment,
        }),
      );
  });

  /** The review's figures grouped by any dimension or hierarchy level; groups and totals add up alike. */
  async function groupedReview(
    review: NonNullable<Awaited<ReturnType<typeof versionReview>>>,
    terms: GroupTerm[],
  ) {
    const entity = await knownLegalEntity(db, review.version.legalEntity);
    const { trees } = await groupingTrees(db, entity, review.version.fiscalYear, terms);
    const grouped = groupFigures(review.rows, terms, trees, ['amount', 'compared', 'difference']);
    return {
      groups: grouped.groups.map((g) => ({
        key: g.key,
        currency: g.currency,
        ...reviewFigures(g.figures, g.currency),
      })),
      totals: grouped.totals.map((t) => ({ currency: t.currency, ...reviewFigures(t.figures, t.currency) })),
    };
  }

  router.get('/:cycleId/review', async (req, res) => {
    const cycleId = String(req.params.cycleId);
    if (!parseBudgetCycleWorkflowId(cycleId))
      throw new HttpError(400, 'validation_failed', `${cycleId} is not a budget cycle ID`);
    const status = await statusOf(cycleId);
    if (!status) throw new HttpError(404, 'not_found', `no budget cycle ${cycleId}`);
    if (!status.versionId)
      throw new HttpError(409, 'not_imported', `${cycleId} has not imported its version yet`);
    const { groupBy } = ReviewQuery.parse(req.query);
    const review = (await versionReview(db, status.versionId))!;
    const grouped = groupBy ? await groupedReview(review, groupBy) : undefined;
    const size = (l: { change: string; currency: string }) => {
      const minor = toMinor(l.change, l.currency);
      return minor < 0n ? -minor : minor;
    };
    const largest = review.lines
      .filter((l) => size(l) > 0n)
      .sort((a, b) => (size(a) === size(b) ? 0 : size(a) < size(b) ? 1 : -1))
      .slice(0, 5);
    res.json({
      cycleId,
      ref: status.ref,
      submittedBy: status.submittedBy,
      status: status.status,
      total: status.total,
      activeVersionId: review.version.activeVersionId,
      lines: review.lines,
      ...(grouped ? { groupBy: groupBy!.map(termLabel), ...grouped } : {}),
      largestChanges: largest,
      validationWarnings: review.version.validationIssues,
      // Changes to closed periods the entity's policy moved to the next open one: approved as moved.
      periodMoves: review.version.periodMoves,
      approval: status.approval,
      links: { decision: `${cyclePath(cycleId)}/decision`, cycle: cyclePath(cycleId) },
    });
  });

  return router;
}
