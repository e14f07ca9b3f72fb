import { and, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type Tx } from '../client';
import { entityPeriodLocks } from '../schema';
import { appendAudit } from './audit';

export type LockOutcome = 'locked' | 'already_locked' | 'not_in_calendar';
export type ReopenOutcome = 'reopened' | 'not_locked';

/**
 * Locks a period for one legal entity (its close): from then on its reservations and its actuals dated in
 * the period are refused or routed as its policy says. One statement decides: the period must be in the
 * entity's calendar, and a second lock changes nothing (so a retried or reset close never locks twice).
 */
export async function lockEntityPeriod(
  tx: Tx,
  l: { legalEntity: string; period: string; by: string; correlationId: string },
): Promise<LockOutcome> {
  // Waits for reservations in flight in the period (closeloop_reserve_funds_batch holds it shared), so none is
  // taken after the lock.
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`period-lock:${l.legalEntity}:${l.period}`}, 0))`,
  );
  const [row] = (await tx.execute(sql`
    with target as (
      select p.period from fiscal_periods p join legal_entities e on e.fiscal_calendar = p.calendar
       where e.code = ${l.legalEntity} and p.period = ${l.period}
    ), locked as (
      insert into entity_period_locks (legal_entity, period, locked_by, correlation_id)
      select ${l.legalEntity}, period, ${l.by}, ${l.correlationId} from target
      on conflict do nothing
      returning period
    )
    select (select count(*) from target)::int as known, (select count(*) from locked)::int as locked`)) as unknown as {
    known: number;
    locked: number;
  }[];
  if (!row?.known) return 'not_in_calendar';
  if (!row.locked) return 'already_locked';
  await appendAudit(tx, {
    stream: auditStream.periodClose(l.legalEntity),
    actor: l.by,
    action: 'period.locked',
    entityType: 'fiscal_period',
    entityId: `${l.legalEntity}:${l.period}`,
    correlationId: l.correlationId,
    eventKey: `period-locked:${l.legalEntity}:${l.period}:${l.correlationId}`,
    details: { period: l.period },
  });
  return 'locked';
}

/** Reopens a locked period of an entity, with the reason a controller gives (audited); one reopen per lock. */
export async function reopenEntityPeriod(
  tx: Tx,
  r: { legalEntity: string; period: string; by: string; reason: string; correlationId: string },
): Promise<ReopenOutcome> {
  const [removed] = await tx
    .delete(entityPeriodLocks)
    .where(and(eq(entityPeriodLocks.legalEntity, r.legalEntity), eq(entityPeriodLocks.period, r.period)))
    .returning();
  if (!removed) return 'not_locked';
  await appendAudit(tx, {
    stream: auditStream.periodClose(r.legalEntity),
    actor: r.by,
    action: 'period.reopened',
    entityType: 'fiscal_period',
    entityId: `${r.legalEntity}:${r.period}`,
    correlationId: r.correlationId,
    eventKey: `period-reopened:${r.legalEntity}:${r.period}:${r.correlationId}`,
    details: {
      period: r.period,
      reason: r.reason,
      lockedBy: removed.lockedBy,
      lockedAt: removed.lockedAt.toISOString(),
    },
  });
  return 'reopened';
}
