import { randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { type Response, type Router } from 'express';
import { z } from 'zod';
import { type Config } from '../config';
import { type Database } from '../db/client';
import { recordRefusedControlDecision } from '../db/queries/control-refusals';
import { DecisionKind, type DecisionSubjectType } from '../domain/approval';
import { decideRequestUpdate } from '../workflows/definitions';
import { type Role } from '../domain/model';
import { principalOf, requireRole } from './auth';
import { HttpError, refusalOf } from './errors';
import { callerToken } from './caller-token';

/** What an approver sends to decide an override or a transfer; who decides is the authenticated caller. */
export const ControlDecisionBody = z
  .object({ decision: DecisionKind, comment: z.string().trim().max(2000).optional() })
  .strict();

export const Reason = z.string().trim().min(3, 'a reason is required').max(1000);

export const temporalUiLink = (config: Config, workflowId: string) =>
  `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;

/**
 * Hands a decision to the workflow that waits for it (its update validator applies segregation of duties,
 * the same rule a signal from Temporal UI meets) and answers with the workflow's status once the decision is
 * in the database. A refusal is audited on the entity's control stream and answered 403/409.
 */
export async function decideByUpdate(
  deps: { client: Client; db: Database; config: Pick<Config, 'approvals'> },
  target: {
    workflowId: string;
    legalEntity: string;
    entityType: DecisionSubjectType;
    entityId: string;
    correlationId: string;
  },
  principal: string,
  body: z.infer<typeof ControlDecisionBody>,
): Promise<unknown> {
  const handle = deps.client.workflow.getHandle(target.workflowId);
  try {
    const description = await handle.describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError)
        throw new HttpError(404, 'not_found', `no workflow ${target.workflowId}`);
      throw err;
    });
    if (description.status.name !== 'RUNNING') {
      throw new HttpError(409, 'already_decided', `${target.workflowId} has ended; no decision can be taken`);
    }
    const token = await callerToken(deps.config, target.workflowId, principal, body.decision);
    return await handle.executeUpdate(decideRequestUpdate, { args: [{ ...body, principal, token }] });
  } catch (err) {
    const refused = refusalOf(err);
    if (refused && refused.status !== 404) {
      await deps.db.transaction((tx) =>
        recordRefusedControlDecision(tx, {
          legalEntity: target.legalEntity,
          entityType: target.entityType,
          entityId: target.entityId,
          principal,
          via: 'api',
          request: body,
          reason: `${refused.code}: ${refused.message}`,
          correlationId: target.correlationId,
          eventId: randomUUID(),
        }),
      );
    }
    throw refused ?? err;
  }
}

/** The workflow's live status while it runs; its result once it ended (Temporal keeps it; no worker needed). */
export async function workflowStatus(client: Client, workflowId: string): Promise<unknown> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const d = await handle.describe();
    return {
      execution: d.status.name,
      ...((d.status.name === 'COMPLETED'
        ? await handle.result()
        : d.status.name === 'RUNNING'
          ? await handle.query('status')
          : {}) as object),
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { execution: 'NOT_STARTED' };
    throw err;
  }
}

/**
 * `GET /:id` (the request, its workflow's status and links) and `POST /:id/decision` (decide as the caller,
 * through the workflow) for a kind of budget-control request that waits for someone's decision.
 */
export function decisionRoutes<R extends { id: string; legalEntity: string; correlationId: string }>(
  router: Router,
  deps: { db: Database; client: Client; config: Config },
  spec: {
    noun: string;
    entityType: DecisionSubjectType;
    load: (db: Database, id: string) => Promise<R | undefined>;
    workflowId: (request: R) => string;
    self: (id: string) => string;
    deciders: Role[];
  },
) {
  const { db, client, config } = deps;
  const requestOf = async (id: string) => {
    const parsed = z.uuid().safeParse(id);
    const row = parsed.success ? await spec.load(db, parsed.data) : undefined;
    if (!row) throw new HttpError(404, 'not_found', `no ${spec.noun} ${id}`);
    return row;
  };
  const links = (row: R) => ({
    self: spec.self(row.id),
    temporalUi: temporalUiLink(config, spec.workflowId(row)),
  });

  router.get('/:id', async (req, res) => {
    const row = await requestOf(String(req.params.id));
    res.json({
      ...row,
      workflow: await workflowStatus(client, spec.workflowId(row)),
      links: links(row),
    });
  });

  router.post('/:id/decision', requireRole(...spec.deciders), async (req, res) => {
    const row = await requestOf(String(req.params.id));
    const body = ControlDecisionBody.parse(req.body);
    const status = await decideByUpdate(
      { client, db, config },
      {
        workflowId: spec.workflowId(row),
        legalEntity: row.legalEntity,
        entityType: spec.entityType,
        entityId: row.id,
        correlationId: row.correlationId,
      },
      principalOf(req).id,
      body,
    );
    res.json({ ...(await spec.load(db, row.id)), workflow: status, links: links(row) });
  });
}

/**
 * Starts the workflow that waits for a request's decision, and answers with the request: 202 when it was just
 * asked for, 200 with `Idempotent-Replayed` when it was asked before (its workflow is found, running or ended,
 * and nothing new starts).
 */
export async function startDecisionWorkflow(
  deps: { client: Client; config: Config },
  res: Response,
  w: {
    workflowType: 'budgetOverride' | 'budgetTransfer';
    workflowId: string;
    input: unknown;
    summary: string;
    created: boolean;
    self: string;
    body: Record<string, unknown>;
  },
) {
  await deps.client.workflow
    .start(w.workflowType, {
      workflowId: w.workflowId,
      taskQueue: deps.config.temporal.taskQueue,
      args: [w.input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: w.summary,
    })
    .catch((err: unknown) => {
      // Asked before, and its workflow has already ended: nothing to start.
      if (!w.created && err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw err;
    });
  if (!w.created) res.setHeader('Idempotent-Replayed', 'true');
  res
    .status(w.created ? 202 : 200)
    .location(w.self)
    .json({
      ...w.body,
      workflowId: w.workflowId,
      links: { self: w.self, temporalUi: temporalUiLink(deps.config, w.workflowId) },
    });
}
