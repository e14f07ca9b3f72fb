import { and, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { fundsOverrides, fundsRequests } from '../schema';
import { appendAudit } from './audit';
import { holdInControlBudgets } from './control-budget-balances';
import { hashOf, type FundsLine } from './budget-control';

/**
 * Overrides: a controller approves a request the funds check rejected. The request's own record decides
 * what may be overridden (rejected for funds, not for a freeze, and with the same content it was decided
 * on); the approval holds the request's funds in one statement that also refuses if a freeze came into force
 * meanwhile. Every step is audited on the entity's control stream.
 */

export type OverrideRow = typeof fundsOverrides.$inferSelect;

export interface OverrideRequest {
  requester: string;
  idempotencyKey: string;
  legalEntity: string;
  lines: FundsLine[];
  requestedBy: string;
  reason: string;
  correlationId: string;
}

export type OverrideRequestOutcome =
  | { kind: 'created'; override: OverrideRow }
  | { kind: 'exists'; override: OverrideRow }
  | { kind: 'refused'; code: 'not_found' | 'content_differs' | 'not_rejected' | 'frozen'; message: string };

/** Asks for an override of a rejected request; asking again returns the override already asked for. */
export async function requestOverride(tx: Tx, r: OverrideRequest): Promise<OverrideRequestOutcome> {
  const hash = hashOf(r);
  const [created] = (await tx.execute(sql`
    insert into funds_overrides (requester, idempotency_key, legal_entity, lines, requested_by, reason, correlation_id)
    select f.requester, f.idempotency_key, f.legal_entity, ${JSON.stringify(r.lines)}::jsonb, ${r.requestedBy},
           ${r.reason}, ${r.correlationId}
      from funds_requests f
     where f.requester = ${r.requester} and f.idempotency_key = ${r.idempotencyKey}
       and f.legal_entity = ${r.legalEntity} and f.status = 'rejected' and f.request_hash = ${hash}
       -- A freeze is an emergency stop, not a limit: what it rejected is not for an override to let through.
       and not exists (select 1 from jsonb_array_elements(f.answer->'lines') x where x->'frozen' <> 'null'::jsonb)
    on conflict (requester, idempotency_key) do nothing
    returning id`)) as unknown as { id: string }[];
  if (created) {
    const override = (await overrideById(tx, created.id))!;
    await appendAudit(tx, {
      stream: auditStream.control(r.legalEntity),
      actor: r.requestedBy,
      action: 'override.requested',
      entityType: 'funds_override',
      entityId: override.id,
      correlationId: r.correlationId,
      eventKey: `override-requested:${override.id}`,
      details: { requester: r.requester, idempotencyKey: r.idempotencyKey, reason: r.reason, lines: r.lines },
    });
    return { kind: 'created', override };
  }
  // Nothing was written: say why.
  const [existing] = await tx
    .select()
    .from(fundsOverrides)
    .where(
      and(eq(fundsOverrides.requester, r.requester), eq(fundsOverrides.idempotencyKey, r.idempotencyKey)),
    );
  if (existing) return { kind: 'exists', override: existing };
  const [request] = await tx
    .select()
    .from(fundsRequests)
    .where(
      and(
        eq(fundsRequests.requester, r.requester),
        eq(fundsRequests.idempotencyKey, r.idempotencyKey),
        eq(fundsRequests.legalEntity, r.legalEntity),
      ),
    );
  const name = `request ${r.idempotencyKey} of ${r.requester}`;
  if (!request)
    return { kind: 'refused', code: 'not_found', message: `${name} does not exist in ${r.legalEntity}` };
  if (request.requestHash !== hash) {
    return {
      kind: 'refused',
      code: 'content_differs',
      message: `${name} was decided on other lines; send the lines exactly as they were requested`,
    };
  }
  if (request.status !== 'rejected') {
    return {
      kind: 'refused',
      code: 'not_rejected',
      message: `${name} is ${request.status}; only a rejected request can be overridden`,
    };
  }
  return {
    kind: 'refused',
    code: 'frozen',
    message: `${name} was rejected by a freeze; a freeze is lifted by unfreezing, not overridden`,
  };
}

export function overrideById(db: DbOrTx, id: string) {
  return db
    .select()
    .from(fundsOverrides)
    .where(eq(fundsOverrides.id, id))
    .then((rows) => rows[0]);
}

export interface OverrideDecision {
  overrideId: string;
  decision: 'approve' | 'reject';
  decidedBy: string;
  comment?: string;
  /** Workflow time of the decision, so a retried activity records the same instant. */
  decidedAt: Date;
  /** How long the held funds stay held unless consumed or released ("30 days"); forever when absent. */
  ttl?: string;
  correlationId: string;
}

/**
 * Records a controller's decision. Approving holds the request's funds, whatever the limit, in one
 * statement: the override turns approved only while no freeze covers its lines, the request turns reserved
 * (outcome overridden), its lines are held and the balances take them. A freeze in force refuses it instead.
 * Deciding again returns the override as it stands and changes nothing.
 */
export async function decideOverride(tx: Tx, d: OverrideDecision): Promise<OverrideRow> {
  const decided = { decided_by: d.decidedBy, comment: d.comment ?? null, at: d.decidedAt.toISOString() };
  if (d.decision === 'reject') {
    const [row] = await tx
      .update(fundsOverrides)
      .set({ status: 'rejected', decidedBy: d.decidedBy, decisionComment: d.comment, decidedAt: d.decidedAt })
      .where(and(eq(fundsOverrides.id, d.overrideId), eq(fundsOverrides.status, 'pending')))
      .returning();
    if (row) await auditOverride(tx, row, d.decidedBy, 'override.rejected', d.correlationId, decided);
    return row ?? (await overrideById(tx, d.overrideId))!;
  }
  const [approved] = (await tx.execute(sql`
    with o as (
      update funds_overrides o set status = 'approved', decided_by = ${d.decidedBy},
             decision_comment = ${d.comment ?? null}, decided_at = ${decided.at}::timestamptz
       where o.id = ${d.overrideId}::uuid and o.status = 'pending'
         and not exists (
           select 1 from control_freezes f, jsonb_array_elements(o.lines) l
            where f.legal_entity = o.legal_entity and f.unfrozen_at is null
              and (f.account is null or f.account = l->>'account')
              and (f.cost_center is null or f.cost_center = l->>'costCenter')
              and (f.dimensions is null
                   or coalesce(l->'dimensions', '{}'::jsonb)
                      || jsonb_build_object('account', l->>'account', 'costCenter', l->>'costCenter') @> f.dimensions))
      returning o.id, o.requester, o.idempotency_key, o.legal_entity, o.lines, o.requested_by, o.reason
    ), request as (
      update funds_requests f set status = 'reserved', outcome = 'overridden',
             -- A repeat of the request now answers that its funds are held, and by whose override.
             answer = f.answer || jsonb_build_object('reserved', true, 'override', jsonb_build_object(
               'overrideId', o.id, 'requestedBy', o.requested_by, 'reason', o.reason,
               'approvedBy', ${d.decidedBy}::text, 'approvedAt', ${decided.at}::text)),
             expires_at = case when ${d.ttl ?? null}::text is null then null else now() + ${d.ttl ?? null}::interval end
        from o
       where f.requester = o.requester and f.idempotency_key = o.idempotency_key and f.status = 'rejected'
      returning f.requester
    ), line as (
      select o.requester, o.idempotency_key, o.legal_entity, x.n::int as line_no, x.l->>'account' as account,
             x.l->>'costCenter' as cost_center, x.l->>'period' as period, x.l->>'currency' as currency,
             (x.l->>'amount')::numeric as amount
        from o, jsonb_array_elements(o.lines) with ordinality x(l, n)
       where exists (select 1 from request)
    ), held as (
      insert into funds_reservations (requester, idempotency_key, line_no, legal_entity, account, cost_center, period, currency, amount)
      select requester, idempotency_key, line_no, legal_entity, account, cost_center, period, currency, amount from line
      returning 1
    ), balance as (
      insert into control_balances (legal_entity, account, cost_center, period, currency, reserved)
      select legal_entity, account, cost_center, period, currency, sum(amount) from line
       group by legal_entity, account, cost_center, period, currency
      on conflict (legal_entity, account, cost_center, period, currency)
      do update set reserved = control_balances.reserved + excluded.reserved, updated_at = now()
      returning 1
    )
    select o.id from o`)) as unknown as { id: string }[];
  if (approved) {
    const row = (await overrideById(tx, approved.id))!;
    await holdInControlBudgets(tx, {
      requester: row.requester,
      idempotencyKey: row.idempotencyKey,
      legalEntity: row.legalEntity,
      lines: row.lines as FundsLine[],
    });
    await auditOverride(tx, row, d.decidedBy, 'override.approved', d.correlationId, decided);
    return row;
  }
  // Still pending after that statement: a freeze covers one of its lines.
  const [refused] = await tx
    .update(fundsOverrides)
    .set({
      status: 'refused',
      decidedBy: d.decidedBy,
      decisionComment: d.comment,
      decidedAt: d.decidedAt,
      outcomeReason: 'a freeze came into force on one of its buckets before the override was approved',
    })
    .where(and(eq(fundsOverrides.id, d.overrideId), eq(fundsOverrides.status, 'pending')))
    .returning();
  if (refused) await auditOverride(tx, refused, d.decidedBy, 'override.refused', d.correlationId, decided);
  return refused ?? (await overrideById(tx, d.overrideId))!;
}

/** Nobody decided in time: the override expires, audited; the request stays rejected. */
export async function expireOverride(tx: Tx, o: { overrideId: string; correlationId: string }) {
  const [row] = await tx
    .update(fundsOverrides)
    .set({ status: 'expired', outcomeReason: 'no controller decided in time' })
    .where(and(eq(fundsOverrides.id, o.overrideId), eq(fundsOverrides.status, 'pending')))
    .returning();
  if (row) await auditOverride(tx, row, 'closeloop', 'override.expired', o.correlationId, {});
  return row ?? (await overrideById(tx, o.overrideId))!;
}

function auditOverride(
  tx: Tx,
  row: OverrideRow,
  actor: string,
  action: string,
  correlationId: string,
  details: Record<string, unknown>,
) {
  return appendAudit(tx, {
    stream: auditStream.control(row.legalEntity),
    actor,
    action,
    entityType: 'funds_override',
    entityId: row.id,
    correlationId,
    eventKey: `${action}:${row.id}`,
    details: {
      requester: row.requester,
      idempotencyKey: row.idempotencyKey,
      requestedBy: row.requestedBy,
      reason: row.reason,
      ...details,
    },
  });
}
