import { sql } from 'drizzle-orm';
import { type BucketFigures, reportLine, reportTotals } from '../../domain/close-report';
import { auditStream } from '../../domain/identity';
import { type DbOrTx } from '../client';
import { type LegalEntityRow } from './reference';

/**
 * An entity's close report for one period, read in one place: each bucket's budget, reservations,
 * commitments, actuals and variance, the totals per currency, the reconciliation exceptions of the entity's
 * active version in the period and their state, the dead letters dated in the period, and the period's lock
 * with every lock and reopen (who, when, why).
 */
export async function periodCloseReport(db: DbOrTx, entity: LegalEntityRow, period: string) {
  const [buckets, reconciliation, deadLetters, lock, history, span] = await Promise.all([
    db.execute(sql`
      select account, cost_center as "costCenter", currency, budget::text, reserved::text, committed::text,
             actual::text
        from control_balances
       where legal_entity = ${entity.code} and period = ${period}
       order by account, cost_center, currency`) as unknown as Promise<BucketFigures[]>,
    db.execute(sql`
      select x.kind, x.status, count(*)::int as count
        from reconciliation_exceptions x
        join reconciliation_runs r on r.id = x.run_id
        join budget_versions v on v.id = r.version_id
       where r.legal_entity = ${entity.code} and v.status = 'active' and x.period = ${period}
       group by x.kind, x.status order by x.kind, x.status`) as unknown as Promise<
      { kind: string; status: string; count: number }[]
    >,
    db.execute(sql`
      select x.stream, x.error_code as "errorCode", x.status, count(*)::int as count
        from source_exceptions x
        join fiscal_periods p on p.calendar = ${entity.fiscalCalendar} and p.period = ${period}
       where x.legal_entity = ${entity.code}
         and coalesce(x.payload->>'postingDate', x.payload->>'date') between p.start_date::text and p.end_date::text
       group by x.stream, x.error_code, x.status order by x.stream, x.error_code, x.status`) as unknown as Promise<
      { stream: string; errorCode: string; status: string; count: number }[]
    >,
    db.execute(sql`
      select locked_at as "lockedAt", locked_by as "lockedBy" from entity_period_locks
       where legal_entity = ${entity.code} and period = ${period}`) as unknown as Promise<
      { lockedAt: string; lockedBy: string }[]
    >,
    db.execute(sql`
      select action, actor, occurred_at as "at", details->>'reason' as reason from audit_log
       where stream = ${auditStream.periodClose(entity.code)} and entity_id = ${`${entity.code}:${period}`}
       order by seq`) as unknown as Promise<
      { action: string; actor: string; at: string; reason: string | null }[]
    >,
    db.execute(sql`
      select status from fiscal_periods where calendar = ${entity.fiscalCalendar} and period = ${period}`) as unknown as Promise<
      { status: string }[]
    >,
  ]);
  const lines = buckets.map(reportLine);
  return {
    legalEntity: entity.code,
    period,
    currency: entity.functionalCurrency,
    status: lock[0] || span[0]?.status === 'closed' ? ('closed' as const) : ('open' as const),
    lock: lock[0] ?? null,
    lockHistory: history,
    totals: reportTotals(lines),
    lines,
    reconciliationExceptions: reconciliation,
    deadLetters,
  };
}
