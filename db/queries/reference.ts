import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { type DimensionMappingRef, type ReferenceSnapshot } from '../../domain/reference';
import { auditStream } from '../../domain/identity';
import { chartDimensionCodes } from '../../domain/chart';
import { type SyncTier } from '../../domain/sync-tiers';
import { type DbOrTx, type Tx } from '../client';
import { appendAudit } from './audit';
import { chartRules, chartVersions, dimensionValueLists } from './chart';
import {
  accounts,
  dimensionHierarchy,
  costCenters,
  dimensionMappings,
  entityPeriodLocks,
  fiscalPeriods,
  legalEntities,
} from '../schema';
import { routesOfFiscalYear, asRoute } from './routes';
import { startPlanningPlatforms } from './planning-platforms';
import { targetsOf } from '../../domain/routing';

export type LegalEntityRow = typeof legalEntities.$inferSelect;

export async function getLegalEntity(db: DbOrTx, code: string): Promise<LegalEntityRow | undefined> {
  const [row] = await db.select().from(legalEntities).where(eq(legalEntities.code, code));
  return row;
}

/**
 * A calendar's periods, in order. Given the entity reading them, a period its close has locked reads as
 * closed for it (the calendar's status is shared by every entity on it; the lock is the entity's own).
 */
function periodsOf(db: DbOrTx, calendar: string, legalEntity: string | undefined, fiscalYear?: number) {
  return db
    .select({
      calendar: fiscalPeriods.calendar,
      period: fiscalPeriods.period,
      fiscalYear: fiscalPeriods.fiscalYear,
      periodNumber: fiscalPeriods.periodNumber,
      startDate: fiscalPeriods.startDate,
      endDate: fiscalPeriods.endDate,
      kind: fiscalPeriods.kind,
      quarter: fiscalPeriods.quarter,
      status: sql<
        'open' | 'closed'
      >`case when ${entityPeriodLocks.period} is not null then 'closed' else ${fiscalPeriods.status} end`,
    })
    .from(fiscalPeriods)
    .leftJoin(
      entityPeriodLocks,
      and(
        eq(entityPeriodLocks.legalEntity, legalEntity ?? ''),
        eq(entityPeriodLocks.period, fiscalPeriods.period),
      ),
    )
    .where(
      and(
        eq(fiscalPeriods.calendar, calendar),
        fiscalYear === undefined ? undefined : eq(fiscalPeriods.fiscalYear, fiscalYear),
      ),
    )
    .orderBy(asc(fiscalPeriods.fiscalYear), asc(fiscalPeriods.periodNumber));
}

export function fiscalYearPeriods(db: DbOrTx, calendar: string, fiscalYear: number, legalEntity?: string) {
  return periodsOf(db, calendar, legalEntity, fiscalYear);
}

/**
 * The fiscal years of an entity's calendar that end on or after a day (and start before another, when given),
 * in order.
 */
export async function entityFiscalYears(
  db: DbOrTx,
  legalEntity: string,
  window: { endingOnOrAfter: string; startingBefore?: string },
): Promise<number[]> {
  const rows = (await db.execute(sql`
    select p.fiscal_year as year from ${fiscalPeriods} p
      join legal_entities e on e.fiscal_calendar = p.calendar and e.code = ${legalEntity}
     group by p.fiscal_year
    having max(p.end_date) >= ${window.endingOnOrAfter}::date
       and (${window.startingBefore ?? null}::date is null or min(p.start_date) < ${window.startingBefore ?? null}::date)
     order by p.fiscal_year`)) as unknown as { year: number }[];
  return rows.map((r) => Number(r.year));
}

/** Every period of a calendar, in order (as the entity sees it, when one is given). */
export function calendarPeriods(db: DbOrTx, calendar: string, legalEntity?: string) {
  return periodsOf(db, calendar, legalEntity);
}

export async function findPeriod(db: DbOrTx, calendar: string, period: string) {
  const [row] = await db
    .select()
    .from(fiscalPeriods)
    .where(and(eq(fiscalPeriods.calendar, calendar), eq(fiscalPeriods.period, period)));
  return row;
}

/** Everything budget validation needs about one entity and fiscal year, read in one place. */
export async function loadReferenceSnapshot(
  db: DbOrTx,
  entity: LegalEntityRow,
  fiscalYear: number,
  /** What a target's adapter says of it: the dimensions its form holds, its own combination rules. */
  describe?: (t: {
    target: string;
    company: string;
    settings: Readonly<Record<string, string>>;
  }) => Promise<
    Pick<NonNullable<ReferenceSnapshot['targets']>[number], 'holds' | 'structures' | 'heldByCompany'>
  >,
): Promise<ReferenceSnapshot> {
  const [periods, charts, rules, targets] = await Promise.all([
    fiscalYearPeriods(db, entity.fiscalCalendar, fiscalYear, entity.code),
    chartVersions(db, entity.code),
    chartRules(db, entity.code),
    routesOfFiscalYear(db, entity, fiscalYear),
  ]);
  return {
    legalEntity: entity.code,
    currency: entity.functionalCurrency,
    fiscalYear,
    periods: periods.map((p) => ({
      period: p.period,
      periodNumber: p.periodNumber,
      startDate: p.startDate,
      endDate: p.endDate,
      status: p.status,
      kind: p.kind,
      quarter: p.quarter,
    })),
    charts,
    values: await dimensionValueLists(db, entity.code, chartDimensionCodes(charts)),
    rules,
    targets: await Promise.all(
      targetsOf(targets.map(asRoute)).map(async (t) => ({
        target: t.target,
        mappings: await loadMappings(db, t.target),
        ...(describe ? await describe(t) : {}),
      })),
    ),
  };
}

export async function loadMappings(db: DbOrTx, system: string): Promise<DimensionMappingRef[]> {
  const rows = await db.select().from(dimensionMappings).where(eq(dimensionMappings.erpSystem, system));
  return rows.map((r) => ({
    dimension: r.dimension,
    canonicalCode: r.canonicalCode,
    systemValue: r.erpValue,
    validFrom: r.validFrom,
    validTo: r.validTo,
  }));
}

// ── Writes (reference data is loaded from its system of record; these upserts make loading repeatable) ──

const excluded = (col: string) => sql.raw(`excluded.${col}`);

export async function upsertLegalEntities(db: DbOrTx, rows: (typeof legalEntities.$inferInsert)[]) {
  if (!rows.length) return;
  await db
    .insert(legalEntities)
    .values(rows)
    .onConflictDoUpdate({
      target: legalEntities.code,
      set: {
        name: excluded('name'),
        functionalCurrency: excluded('functional_currency'),
        erpSystem: excluded('erp_system'),
        erpCompany: excluded('erp_company'),
        fxRateType: excluded('fx_rate_type'),
        fxTriangulationCurrency: excluded('fx_triangulation_currency'),
        closedPeriodPolicy: excluded('closed_period_policy'),
      },
    });
  await startPlanningPlatforms(db, rows);
}

/** Adds fiscal periods; periods already defined (and possibly closed) are left as they are. */
export async function insertFiscalPeriods(db: DbOrTx, rows: (typeof fiscalPeriods.$inferInsert)[]) {
  if (!rows.length) return;
  await db
    .insert(fiscalPeriods)
    .values(rows)
    .onConflictDoNothing({ target: [fiscalPeriods.calendar, fiscalPeriods.period] });
}

/**
 * First load of accounts, cost centers and their place in the hierarchy: a record already there is left as
 * it is, since from then on the master data sync from the ERP (their system of record) keeps it.
 */
export async function insertAccounts(db: DbOrTx, rows: (typeof accounts.$inferInsert)[]) {
  if (rows.length) await db.insert(accounts).values(rows).onConflictDoNothing({ target: accounts.code });
}

export async function insertCostCenters(db: DbOrTx, rows: (typeof costCenters.$inferInsert)[]) {
  if (rows.length)
    await db.insert(costCenters).values(rows).onConflictDoNothing({ target: costCenters.code });
}

export async function insertHierarchy(db: DbOrTx, rows: (typeof dimensionHierarchy.$inferInsert)[]) {
  if (!rows.length) return;
  await db
    .insert(dimensionHierarchy)
    .values(rows)
    .onConflictDoNothing({
      target: [
        dimensionHierarchy.legalEntity,
        dimensionHierarchy.dimension,
        dimensionHierarchy.code,
        dimensionHierarchy.validFrom,
      ],
    });
}

export async function upsertDimensionMappings(db: DbOrTx, rows: (typeof dimensionMappings.$inferInsert)[]) {
  if (!rows.length) return;
  await db
    .insert(dimensionMappings)
    .values(rows)
    .onConflictDoUpdate({
      target: [
        dimensionMappings.erpSystem,
        dimensionMappings.dimension,
        dimensionMappings.canonicalCode,
        dimensionMappings.erpValue,
        dimensionMappings.validFrom,
      ],
      set: { validTo: excluded('valid_to') },
    });
}

/** Which of these accounts, and of these cost centers of the entity, are active on `date`. */
export async function activeDimensionValues(
  db: DbOrTx,
  legalEntity: string,
  /** The values asked about; absent: every value active then (what the budget check keeps for a few seconds). */
  values: { accounts: string[]; costCenters: string[] } | undefined,
  date: string,
): Promise<{ accounts: Set<string>; costCenters: Set<string> }> {
  const effective = (t: typeof accounts | typeof costCenters) =>
    and(eq(t.active, true), lte(t.validFrom, date), or(isNull(t.validTo), gt(t.validTo, date)));
  const a =
    !values || values.accounts.length
      ? await db
          .select({ code: accounts.code })
          .from(accounts)
          .where(and(values && inArray(accounts.code, values.accounts), effective(accounts)))
      : [];
  const c =
    !values || values.costCenters.length
      ? await db
          .select({ code: costCenters.code })
          .from(costCenters)
          .where(
            and(
              eq(costCenters.legalEntity, legalEntity),
              values && inArray(costCenters.code, values.costCenters),
              effective(costCenters),
            ),
          )
      : [];
  return { accounts: new Set(a.map((r) => r.code)), costCenters: new Set(c.map((r) => r.code)) };
}

/** What a standing sync of an entity covers: the fiscal years of its calendar with a period still open. */
export async function openFiscalYears(db: DbOrTx, legalEntity: string): Promise<number[]> {
  const rows = (await db.execute(sql`
    select distinct p.fiscal_year as "fiscalYear"
      from fiscal_periods p join legal_entities e on p.calendar = e.fiscal_calendar
     where e.code = ${legalEntity} and p.status = 'open'
     order by 1`)) as unknown as { fiscalYear: number }[];
  return rows.map((r) => r.fiscalYear);
}

/**
 * The period an entity's figures of a fiscal year are delivered to planning as of: the latest with posted
 * actuals, or, before the year has any, the last period of the year before (everything is then a projection);
 * null when neither exists.
 */
export async function deliveryAsOf(db: DbOrTx, legalEntity: string, fiscalYear: number) {
  const [row] = (await db.execute(sql`
    with entity as (select code, fiscal_calendar from legal_entities where code = ${legalEntity})
    select coalesce(
      (select max(b.period) from control_balances b
         join fiscal_periods p on p.period = b.period
         join entity e on p.calendar = e.fiscal_calendar
        where b.legal_entity = e.code and p.fiscal_year = ${fiscalYear} and b.actual <> 0),
      (select p.period from fiscal_periods p join entity e on p.calendar = e.fiscal_calendar
        where p.fiscal_year = ${fiscalYear - 1} order by p.period_number desc limit 1)
    ) as "asOfPeriod"`)) as unknown as { asOfPeriod: string | null }[];
  return row?.asOfPeriod ?? null;
}

/** The legal entities kept in an ERP's companies (company codes compared without case), by company. */
export async function entitiesOfErpCompanies(db: DbOrTx, erpSystem: string, companies: string[]) {
  if (!companies.length) return new Map<string, string>();
  const rows = await db
    .select({ code: legalEntities.code, company: legalEntities.erpCompany })
    .from(legalEntities)
    .where(
      and(
        eq(legalEntities.erpSystem, erpSystem),
        inArray(
          sql`lower(${legalEntities.erpCompany})`,
          companies.map((c) => c.toLowerCase()),
        ),
      ),
    );
  return new Map(rows.map((r) => [r.company.toLowerCase(), r.code]));
}

/** The legal entities closeloop serves (active ones), in code order. */
export function activeLegalEntities(db: DbOrTx) {
  return db
    .select()
    .from(legalEntities)
    .where(eq(legalEntities.active, true))
    .orderBy(asc(legalEntities.code));
}

/** Sets how soon an entity's actuals and commitments are synced (its schedule follows); audited. */
export async function setSyncTier(
  tx: Tx,
  s: { legalEntity: string; tier: SyncTier; by: string; correlationId: string },
): Promise<LegalEntityRow | undefined> {
  const [before] = await tx
    .select({ syncTier: legalEntities.syncTier })
    .from(legalEntities)
    .where(eq(legalEntities.code, s.legalEntity))
    .for('update');
  if (!before) return undefined;
  const [row] = await tx
    .update(legalEntities)
    .set({ syncTier: s.tier })
    .where(eq(legalEntities.code, s.legalEntity))
    .returning();
  if (before.syncTier !== s.tier) {
    await appendAudit(tx, {
      stream: auditStream.masterData(s.legalEntity),
      actor: s.by,
      action: 'legal_entity.sync_tier_changed',
      entityType: 'legal_entity',
      entityId: s.legalEntity,
      correlationId: s.correlationId,
      eventKey: `sync-tier:${s.legalEntity}:${s.correlationId}`,
      details: { from: before.syncTier, to: s.tier },
    });
  }
  return row;
}

export type CalendarAssignment =
  | { outcome: 'assigned' | 'unchanged'; calendar: string }
  /** What the entity has already booked by its calendar's periods: they would change meaning. */
  | { outcome: 'refused'; booked: string[] };

/**
 * Puts an entity on a fiscal calendar, audited in its chart stream. Only before it has booked anything by
 * periods (budget versions, balances, actuals, commitments, period locks): their period codes would change
 * meaning under another calendar. Undefined when there is no such entity.
 */
export async function assignCalendar(
  tx: Tx,
  a: { legalEntity: string; calendar: string; by: string; reason: string; correlationId: string },
): Promise<CalendarAssignment | undefined> {
  const [entity] = await tx
    .select()
    .from(legalEntities)
    .where(eq(legalEntities.code, a.legalEntity))
    .for('update');
  if (!entity) return undefined;
  if (entity.fiscalCalendar === a.calendar) return { outcome: 'unchanged', calendar: a.calendar };
  const [row] = (await tx.execute(sql`
    select array_remove(array[
      case when exists (select 1 from budget_versions where legal_entity = ${a.legalEntity}) then 'budget versions' end,
      case when exists (select 1 from control_balances where legal_entity = ${a.legalEntity}) then 'budget control balances' end,
      case when exists (select 1 from actual_lines where legal_entity = ${a.legalEntity}) then 'actuals' end,
      case when exists (select 1 from commitment_lines where legal_entity = ${a.legalEntity}) then 'commitments' end,
      case when exists (select 1 from entity_period_locks where legal_entity = ${a.legalEntity}) then 'period locks' end
    ], null) as booked`)) as unknown as { booked: string[] }[];
  if (row!.booked.length) return { outcome: 'refused', booked: row!.booked };
  await tx
    .update(legalEntities)
    .set({ fiscalCalendar: a.calendar })
    .where(eq(legalEntities.code, a.legalEntity));
  await appendAudit(tx, {
    stream: auditStream.chart(a.legalEntity),
    actor: a.by,
    action: 'legal_entity.calendar_assigned',
    entityType: 'legal_entity',
    entityId: a.legalEntity,
    correlationId: a.correlationId,
    eventKey: `calendar:${a.legalEntity}:${a.calendar}:${a.correlationId}`,
    details: { from: entity.fiscalCalendar, to: a.calendar, reason: a.reason },
  });
  return { outcome: 'assigned', calendar: a.calendar };
}
