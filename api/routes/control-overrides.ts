import { randomUUID } from 'node:crypto';
import { type Duration } from '@temporalio/common';
import { Router } from 'express';
import { overrideById, requestOverride } from '../../db/queries/overrides';
import { type BudgetOverrideInput } from '../../workflows/budget-override';
import { principalOf, requireRole } from '../auth';
import { controlsFor, type ControlRouteDeps } from '../control-context';
import { decisionRoutes, Reason, startDecisionWorkflow } from '../control-decisions';
import { Code, FundsBody, idempotencyKeyOf } from '../control-schemas';
import { HttpError } from '../errors';
import { DurationText } from '../../domain/model';

const OverrideBody = FundsBody.extend({
  reason: Reason,
  /** The requester whose request is overridden; the caller when absent. */
  requester: Code.optional(),
  /** How long controllers have to decide (default: OVERRIDE_DECISION_TIMEOUT). */
  decisionTimeout: DurationText.optional(),
}).strict();

export const overrideWorkflowId = (id: string) => `budget-override:${id}`;

/**
 * Overrides: the requester of a rejected request (or a controller for them) asks, with a reason, for the
 * request to be approved over budget; a controller other than whoever asked decides. Asked with the
 * rejected request's Idempotency-Key and lines, exactly as they were sent, so the override is of what was
 * decided and nothing else.
 */
export function controlOverrideRoutes({ db, config, client, cache }: ControlRouteDeps) {
  const router = Router();
  const self = (id: string) => `/v1/budget-control/overrides/${id}`;

  router.post('/', requireRole('requester', 'controller'), async (req, res) => {
    const idempotencyKey = idempotencyKeyOf(req);
    const body = OverrideBody.parse(req.body);
    const caller = principalOf(req).id;
    const requester = body.requester ?? caller;
    const { entity, lines } = await controlsFor(db, body, cache);
    const correlationId = req.header('x-correlation-id') ?? randomUUID();
    const outcome = await db.transaction((tx) =>
      requestOverride(tx, {
        requester,
        idempotencyKey,
        legalEntity: entity.code,
        lines,
        requestedBy: caller,
        reason: body.reason,
        correlationId,
      }),
    );
    if (outcome.kind === 'refused') {
      throw new HttpError(outcome.code === 'not_found' ? 404 : 409, outcome.code, outcome.message);
    }
    const o = outcome.override;
    // Controllers decide; never the one who asked nor the requester whose request it is.
    const approvers = [...config.api.keys.values()]
      .filter((p) => p.role === 'controller' && p.id !== o.requestedBy && p.id !== o.requester)
      .map((p) => p.id);
    const input: BudgetOverrideInput = {
      overrideId: o.id,
      legalEntity: o.legalEntity,
      requester: o.requester,
      idempotencyKey: o.idempotencyKey,
      requestedBy: o.requestedBy,
      approvers,
      integrationAdmins: [...config.api.keys.values()]
        .filter((p) => p.role === 'integration_admin')
        .map((p) => p.id),
      timeout: (body.decisionTimeout ?? config.budgetControl.overrideTimeout) as Duration,
      reservationTtl: config.budgetControl.reservationTtl,
      correlationId: o.correlationId,
    };
    await startDecisionWorkflow({ client, config }, res, {
      workflowType: 'budgetOverride',
      workflowId: overrideWorkflowId(o.id),
      input,
      summary: `Override of ${o.requester}/${o.idempotencyKey} (${o.legalEntity})`,
      created: outcome.kind === 'created',
      self: self(o.id),
      body: { ...o, approvers },
    });
  });

  decisionRoutes(
    router,
    { db, client, config },
    {
      noun: 'override',
      entityType: 'funds_override',
      load: overrideById,
      workflowId: (o) => overrideWorkflowId(o.id),
      self,
      deciders: ['controller'],
    },
  );

  return router;
}
