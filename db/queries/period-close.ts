import { sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { appendAudit } from './audit';

/** One legal entity in a group close: the period of its own calendar that ends in the close's month. */
export interface CloseScopeEntry {
  legalEntity: string;
  currency: string;
  /** Absent when the entity's calendar has no period ending in the month (nothing to close for it). */
  fiscalPeriod: string | null;
  fiscalYear: number | null;
}

/**
 * Who takes part in the close of a calendar month (`2027-03`), and which of their periods closes: a group
 * closes March, an entity on a January calendar closes its 2027-03 and one on an April–March calendar its
 * 2027-12, the periods that end in March. Where two periods end in one month (a 13-period calendar), the
 * later one is closed.
 */
export async function periodCloseScope(
  db: DbOrTx,
  month: string,
  legalEntities?: readonly string[],
): Promise<CloseScopeEntry[]> {
  const named = legalEntities?.length ? sql`and e.code in ${legalEntities}` : sql`and e.active`;
  return (await db.execute(sql`
    select e.code as "legalEntity", e.functional_currency as currency, p.period as "fiscalPeriod",
           p.fiscal_year as "fiscalYear"
      from legal_entities e
      left join lateral (
        select period, fiscal_year from fiscal_periods
         where calendar = e.fiscal_calendar and kind = 'regular' and to_char(end_date, 'YYYY-MM') = ${month}
         order by end_date desc limit 1) p on true
     where true ${named}
     order by e.code`)) as unknown as CloseScopeEntry[];
}

/** The steps of an entity's close that leave a mark in its audit stream (the lock has its own, period-locks). */
export type CloseStep =
  | 'cut_off'
  | 'reconciled'
  | 'sign_off_escalated'
  | 'signed_off'
  | 'sign_off_rejected'
  | 'sign_off_expired'
  | 'step_retried'
  | 'reforecast'
  | 'closed';

/**
 * Records a step of an entity's close in `period-close:<entity>`, once per close run: `correlationId` names
 * the run (the close's workflow ID, or the re-run's), so a retried activity or a reset close writes nothing
 * twice. Returns false when it was already recorded.
 */
export function recordCloseStep(
  tx: Tx,
  s: {
    legalEntity: string;
    period: string;
    step: CloseStep;
    actor: string;
    correlationId: string;
    /** Distinguishes repeated marks of one step in one run (a retried step). */
    sequence?: number;
    details?: Record<string, unknown>;
  },
): Promise<boolean> {
  return appendAudit(tx, {
    stream: auditStream.periodClose(s.legalEntity),
    actor: s.actor,
    action: `period.${s.step}`,
    entityType: 'fiscal_period',
    entityId: `${s.legalEntity}:${s.period}`,
    correlationId: s.correlationId,
    eventKey: `close-step:${s.legalEntity}:${s.period}:${s.step}:${s.correlationId}:${s.sequence ?? 0}`,
    details: { period: s.period, ...s.details },
  });
}

/** The sign-off a close run already recorded (a reset close takes it instead of asking again). */
export async function recordedSignOff(
  db: DbOrTx,
  s: { legalEntity: string; period: string; correlationId: string },
): Promise<{ principal: string; at: string; comment: string | null } | undefined> {
  const [row] = (await db.execute(sql`
    select actor as principal, occurred_at::text as at, details->>'comment' as comment from audit_log
     where stream = ${auditStream.periodClose(s.legalEntity)} and action = 'period.signed_off'
       and entity_id = ${`${s.legalEntity}:${s.period}`} and correlation_id = ${s.correlationId}
     order by seq desc limit 1`)) as unknown as { principal: string; at: string; comment: string | null }[];
  return row;
}
