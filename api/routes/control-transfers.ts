import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import { type Duration } from '@temporalio/common';
import { Router } from 'express';
import { z } from 'zod';
import { requestTransfer, transferById } from '../../db/queries/transfers';
import { DurationText, LegalEntityCode } from '../../domain/model';
import { Money, toMinor } from '../../domain/money';
import { type BudgetTransferInput } from '../../workflows/budget-transfer';
import { principalOf, requireRole } from '../auth';
import { controlsFor, type ControlRouteDeps } from '../control-context';
import { decisionRoutes, Reason, startDecisionWorkflow } from '../control-decisions';
import { Code, idempotencyKeyOf, OtherDimensions, Period } from '../control-schemas';
import { HttpError } from '../errors';
import { approvalRoster } from '../start-cycle';

const Bucket = z
  .object({ account: Code, costCenter: Code, period: Period, dimensions: OtherDimensions.optional() })
  .strict();

const TransferBody = z
  .object({
    legalEntity: LegalEntityCode,
    /** transfer: budget moves from one bucket to another; supplement: budget is added to one bucket. */
    kind: z.enum(['transfer', 'supplement']),
    from: Bucket.optional(),
    to: Bucket,
    amount: Money.refine((m) => toMinor(m.amount, m.currency) > 0n, 'must be more than zero'),
    reason: Reason,
    /** How long approvers have to decide (default: TRANSFER_APPROVAL_TIMEOUT). */
    approvalTimeout: DurationText.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.kind === 'transfer' && !b.from)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'is required for a transfer' });
    if (b.kind === 'supplement' && b.from)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be absent for a supplement' });
    if (
      b.from &&
      b.from.account === b.to.account &&
      b.from.costCenter === b.to.costCenter &&
      b.from.period === b.to.period &&
      isDeepStrictEqual(b.from.dimensions ?? {}, b.to.dimensions ?? {})
    )
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be another bucket than from' });
  });

export const transferWorkflowId = (id: string) => `budget-transfer:${id}`;

/**
 * Budget transfers and supplements: a controller asks, an approver who is not them approves (the authorize
 * stage of a budget version, by API update or Temporal UI signal), and once approved the control balances
 * change and the ERP receives a budget register entry.
 */
export function controlTransferRoutes({ db, config, client, cache }: ControlRouteDeps) {
  const router = Router();
  const self = (id: string) => `/v1/budget-control/transfers/${id}`;

  router.post('/', requireRole('controller'), async (req, res) => {
    const requestKey = idempotencyKeyOf(req);
    const body = TransferBody.parse(req.body);
    // Both buckets are checked like a request's lines: known, active, open, in the entity's currency.
    const sides = [...(body.from ? [body.from] : []), body.to];
    const { entity } = await controlsFor(
      db,
      { legalEntity: body.legalEntity, lines: sides.map((s) => ({ ...s, amount: body.amount })) },
      cache,
      { path: (i) => (body.from && i === 0 ? 'from' : 'to') },
    );
    const caller = principalOf(req).id;
    const outcome = await db.transaction((tx) =>
      requestTransfer(tx, {
        legalEntity: entity.code,
        kind: body.kind,
        from: body.from,
        to: body.to,
        amount: body.amount.amount,
        currency: body.amount.currency,
        reason: body.reason,
        requestedBy: caller,
        requestKey,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (outcome.kind === 'key_reused') {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        `Idempotency-Key ${requestKey} was already used for another transfer; use a new key for new content`,
      );
    }
    const t = outcome.transfer;
    const roster = approvalRoster(config);
    const input: BudgetTransferInput = {
      transferId: t.id,
      legalEntity: t.legalEntity,
      requestedBy: t.requestedBy,
      approvers: roster.approvers.filter((a) => a !== t.requestedBy),
      integrationAdmins: roster.integrationAdmins,
      timeout: (body.approvalTimeout ?? config.budgetControl.transferTimeout) as Duration,
      correlationId: t.correlationId,
    };
    await startDecisionWorkflow({ client, config }, res, {
      workflowType: 'budgetTransfer',
      workflowId: transferWorkflowId(t.id),
      input,
      summary: `Budget ${t.kind} ${t.amount} ${t.currency} to ${t.toAccount}/${t.toCostCenter}/${t.toPeriod}`,
      created: outcome.kind === 'created',
      self: self(t.id),
      body: { ...t, approvers: input.approvers },
    });
  });

  decisionRoutes(
    router,
    { db, client, config },
    {
      noun: 'budget transfer',
      entityType: 'budget_transfer',
      load: transferById,
      workflowId: (t) => transferWorkflowId(t.id),
      self,
      deciders: ['approver', 'controller', 'planner', 'integration_admin'],
    },
  );

  return router;
}
