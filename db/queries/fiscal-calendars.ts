import { asc, eq, sql } from 'drizzle-orm';
import { CalendarSpec, calendarYear } from '../../domain/fiscal-calendar';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { fiscalCalendars, fiscalPeriods } from '../schema';
import { appendAudit } from './audit';

export type FiscalCalendarRow = typeof fiscalCalendars.$inferSelect;

export async function getCalendar(db: DbOrTx, code: string) {
  const [row] = await db.select().from(fiscalCalendars).where(eq(fiscalCalendars.code, code));
  return row && { ...row, spec: CalendarSpec.parse(row.spec) };
}

/** Every calendar, with the fiscal years it has periods for. */
export async function listCalendars(db: DbOrTx) {
  const rows = await db.select().from(fiscalCalendars).orderBy(asc(fiscalCalendars.code));
  const years = (await db.execute(sql`
    select calendar, array_agg(distinct fiscal_year order by fiscal_year) as years
      from fiscal_periods group by calendar`)) as unknown as { calendar: string; years: number[] }[];
  return rows.map((r) => ({
    ...r,
    spec: CalendarSpec.parse(r.spec),
    fiscalYears: years.find((y) => y.calendar === r.code)?.years ?? [],
  }));
}

export type YearOutcome = { fiscalYear: number; outcome: 'created' | 'already_defined'; periods: number };

/**
 * Declares a calendar (or changes how its later years are cut) and generates its periods for `fiscalYears`.
 * A year whose periods are already defined keeps them, open or closed, whatever the new spec says: a period
 * is never rewritten (postings, budgets and closes refer to it). Audited in the calendar's stream.
 */
export async function defineCalendar(
  tx: Tx,
  c: {
    code: string;
    spec: CalendarSpec;
    fiscalYears: number[];
    by: string;
    reason: string;
    correlationId: string;
  },
): Promise<{ changed: boolean; years: YearOutcome[] }> {
  // One definition of a calendar at a time (its row may not exist yet).
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`calendar:${c.code}`}, 0))`);
  const [before] = await tx.select().from(fiscalCalendars).where(eq(fiscalCalendars.code, c.code));
  const changed = !before || JSON.stringify(CalendarSpec.parse(before.spec)) !== JSON.stringify(c.spec);
  if (changed) {
    await tx
      .insert(fiscalCalendars)
      .values({ code: c.code, spec: c.spec, changedBy: c.by, reason: c.reason })
      .onConflictDoUpdate({
        target: fiscalCalendars.code,
        set: { spec: c.spec, changedBy: c.by, reason: c.reason, changedAt: new Date() },
      });
  }
  const years: YearOutcome[] = [];
  for (const fiscalYear of [...new Set(c.fiscalYears)].sort()) {
    // A year is cut once: one already defined keeps every period it has, and gets none added.
    const [defined] = (await tx.execute(sql`
      select count(*)::int as n from ${fiscalPeriods}
       where calendar = ${c.code} and fiscal_year = ${fiscalYear}`)) as unknown as { n: number }[];
    if (defined!.n) {
      years.push({ fiscalYear, outcome: 'already_defined', periods: defined!.n });
      continue;
    }
    const periods = calendarYear(c.spec, fiscalYear);
    await tx.insert(fiscalPeriods).values(periods.map((p) => ({ calendar: c.code, fiscalYear, ...p })));
    years.push({ fiscalYear, outcome: 'created', periods: periods.length });
  }
  if (changed || years.some((y) => y.outcome === 'created')) {
    await appendAudit(tx, {
      stream: auditStream.calendar(c.code),
      actor: c.by,
      action: before ? 'calendar.changed' : 'calendar.defined',
      entityType: 'fiscal_calendar',
      entityId: c.code,
      correlationId: c.correlationId,
      eventKey: `calendar:${c.code}:${c.correlationId}`,
      details: {
        spec: c.spec,
        ...(before && changed ? { previousSpec: before.spec } : {}),
        reason: c.reason,
        yearsCreated: years.filter((y) => y.outcome === 'created').map((y) => y.fiscalYear),
      },
    });
  }
  return { changed, years };
}
