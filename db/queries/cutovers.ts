import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { type HoldingDifference } from '../../domain/cutover';
import { auditStream } from '../../domain/identity';
import { type PostingModel } from '../../domain/posting-model';
import { type DbOrTx, type Tx } from '../client';
import {
  actualLines,
  budgetLines,
  cutoverParallelActuals,
  budgetVersions,
  costCenters,
  dimensionMappings,
  erpCutoverComparisons,
  erpCutovers,
  publicationTargets,
} from '../schema';
import { appendAudit } from './audit';
import { addRoute, lockRouting, routeKeyOf, type RouteRow } from './routes';

/**
 * Cut-overs (domain/cutover): an entity's move from one ERP to another, written as the routes it implies and a
 * row that ties them together, each change under the entity's routing lock and audited in its routing stream.
 */

export type CutoverRow = typeof erpCutovers.$inferSelect;

export const cutoverOf = async (db: DbOrTx, id: string): Promise<CutoverRow | undefined> =>
  (await db.select().from(erpCutovers).where(eq(erpCutovers.id, id)))[0];

export const cutoversOf = (db: DbOrTx, legalEntity: string) =>
  db
    .select()
    .from(erpCutovers)
    .where(eq(erpCutovers.legalEntity, legalEntity))
    .orderBy(asc(erpCutovers.cutoverDate), asc(erpCutovers.createdAt));

/** The entity's cut-overs that decide whose books count somewhere in `[from, to]`, latest first. */
export const cutoversTouching = (db: DbOrTx, legalEntity: string, window: { from: string; to: string }) =>
  db
    .select()
    .from(erpCutovers)
    .where(and(eq(erpCutovers.legalEntity, legalEntity), lte(erpCutovers.cutoverDate, window.to)))
    .orderBy(desc(erpCutovers.cutoverDate));

/**
 * What the entity would post to an ERP from a day that the ERP cannot map: every account of its budgets in
 * control and every cost center of its own active then, without a mapping to that ERP valid on the day. Empty:
 * the new ERP's master data is ready.
 */
export async function unmappedFor(
  db: DbOrTx,
  r: { legalEntity: string; erpSystem: string; on: string },
): Promise<{ dimension: string; code: string }[]> {
  const mapped = (dimension: string, code: unknown) =>
    sql`exists (select 1 from ${dimensionMappings} m where m.erp_system = ${r.erpSystem}
          and m.dimension = ${dimension} and m.canonical_code = ${code}
          and m.valid_from <= ${r.on}::date and (m.valid_to is null or m.valid_to > ${r.on}::date))`;
  const accounts = await db
    .selectDistinct({ code: budgetLines.account })
    .from(budgetLines)
    .innerJoin(budgetVersions, eq(budgetVersions.id, budgetLines.versionId))
    .where(
      and(
        eq(budgetVersions.legalEntity, r.legalEntity),
        eq(budgetVersions.status, 'active'),
        sql`not ${mapped('account', budgetLines.account)}`,
      ),
    );
  const centers = await db
    .select({ code: costCenters.code })
    .from(costCenters)
    .where(
      and(
        eq(costCenters.legalEntity, r.legalEntity),
        eq(costCenters.active, true),
        lte(costCenters.validFrom, r.on),
        or(isNull(costCenters.validTo), sql`${costCenters.validTo} > ${r.on}::date`),
        sql`not ${mapped('costCenter', costCenters.code)}`,
      ),
    );
  return [
    ...accounts.map((a) => ({ dimension: 'account', code: a.code })),
    ...centers.map((c) => ({ dimension: 'costCenter', code: c.code })),
  ].sort((a, b) => (a.dimension + a.code < b.dimension + b.code ? -1 : 1));
}

export type ScheduleOutcome =
  | { outcome: 'scheduled'; cutover: CutoverRow; routes: RouteRow[] }
  | { outcome: 'already_scheduled'; cutover: CutoverRow }
  /** The routes cannot say it (a later route of the new ERP, or none of the old one in force). */
  | { outcome: 'refused'; reason: string };

/**
 * Schedules a cut-over: the new ERP's route from the cut-over day, the old one's ended on the first day after
 * the parallel run (both receive the budget until then), the row, and an audit entry, in one transaction under
 * the routing lock. The same cut-over asked for again changes nothing.
 */
export async function scheduleCutover(
  tx: Tx,
  c: {
    legalEntity: string;
    fromTarget: string;
    toTarget: string;
    company: string;
    postingModel: PostingModel | null;
    settings: Record<string, string>;
    cutoverDate: string;
    parallelPeriods: number;
    parallelUntil: string;
    actualsDuringParallel: 'old' | 'new';
    conversionSources: string[];
    by: string;
    reason: string;
    correlationId: string;
  },
): Promise<ScheduleOutcome> {
  await lockRouting(tx, c.legalEntity);
  const [same] = await tx
    .select()
    .from(erpCutovers)
    .where(
      and(
        eq(erpCutovers.legalEntity, c.legalEntity),
        eq(erpCutovers.toTarget, c.toTarget),
        eq(erpCutovers.cutoverDate, c.cutoverDate),
        eq(erpCutovers.status, 'scheduled'),
      ),
    );
  if (same) return { outcome: 'already_scheduled', cutover: same };
  const [old] = await tx
    .select()
    .from(publicationTargets)
    .where(
      and(
        eq(publicationTargets.legalEntity, c.legalEntity),
        eq(publicationTargets.target, c.fromTarget),
        lte(publicationTargets.validFrom, c.cutoverDate),
        or(isNull(publicationTargets.validTo), sql`${publicationTargets.validTo} > ${c.cutoverDate}::date`),
      ),
    );
  if (!old)
    return {
      outcome: 'refused',
      reason: `${c.legalEntity} has no route to ${c.fromTarget} in force on ${c.cutoverDate}`,
    };
  const added = await addRoute(tx, {
    legalEntity: c.legalEntity,
    target: c.toTarget,
    company: c.company,
    postingModel: c.postingModel,
    settings: c.settings,
    validFrom: c.cutoverDate,
    replaces: [],
    by: c.by,
    reason: `cut-over from ${c.fromTarget}: ${c.reason}`,
    correlationId: c.correlationId,
  });
  if (added.outcome === 'later_route')
    return {
      outcome: 'refused',
      reason: `${c.legalEntity} already has a route to ${c.toTarget} from ${added.standing.map((s) => s.validFrom).join(', ')}: end it first`,
    };
  // The old ERP keeps receiving the budget through the parallel run, then stops.
  const [ended] = await tx
    .update(publicationTargets)
    .set({ validTo: c.parallelUntil })
    .where(routeKeyOf(old))
    .returning();
  const [cutover] = await tx
    .insert(erpCutovers)
    .values({
      legalEntity: c.legalEntity,
      fromTarget: c.fromTarget,
      toTarget: c.toTarget,
      cutoverDate: c.cutoverDate,
      parallelPeriods: c.parallelPeriods,
      parallelUntil: c.parallelUntil,
      actualsDuringParallel: c.actualsDuringParallel,
      conversionSources: c.conversionSources,
      createdBy: c.by,
      reason: c.reason,
    })
    .returning();
  await appendAudit(tx, {
    stream: auditStream.routing(c.legalEntity),
    actor: c.by,
    action: 'cutover.scheduled',
    entityType: 'cutover',
    entityId: cutover!.id,
    correlationId: c.correlationId,
    eventKey: `cutover-scheduled:${cutover!.id}`,
    details: {
      from: c.fromTarget,
      to: c.toTarget,
      cutoverDate: c.cutoverDate,
      parallelPeriods: c.parallelPeriods,
      parallelUntil: c.parallelUntil,
      actualsDuringParallel: c.actualsDuringParallel,
      conversionSources: c.conversionSources,
      reason: c.reason,
      oldRouteEnds: c.parallelUntil,
    },
  });
  return { outcome: 'scheduled', cutover: cutover!, routes: [added.route, ended!] };
}

export type RollbackOutcome =
  | { outcome: 'rolled_back'; cutover: CutoverRow }
  | { outcome: 'already_rolled_back'; cutover: CutoverRow }
  | { outcome: 'refused'; reason: string };

/**
 * Rolls a cut-over back from a day: the new ERP's route ends then and the old ERP's route is in force again from
 * then (the one the cut-over ended, extended, when the day falls in the parallel run), decided by conditional
 * statements under the routing lock and audited. Sending the old ERP what it missed is the caller's next step.
 */
export async function rollBackCutover(
  tx: Tx,
  r: { id: string; rollbackDate: string; by: string; reason: string; correlationId: string },
): Promise<RollbackOutcome> {
  const found = await cutoverOf(tx, r.id);
  if (!found) return { outcome: 'refused', reason: `no cut-over ${r.id}` };
  await lockRouting(tx, found.legalEntity);
  if (r.rollbackDate < found.cutoverDate)
    return {
      outcome: 'refused',
      reason: `a rollback takes effect on or after the cut-over day ${found.cutoverDate}`,
    };
  const [rolled] = await tx
    .update(erpCutovers)
    .set({ status: 'rolled_back', rollbackDate: r.rollbackDate })
    .where(and(eq(erpCutovers.id, r.id), eq(erpCutovers.status, 'scheduled')))
    .returning();
  if (!rolled) return { outcome: 'already_rolled_back', cutover: (await cutoverOf(tx, r.id))! };
  const [newRoute] = await tx
    .select()
    .from(publicationTargets)
    .where(
      and(
        eq(publicationTargets.legalEntity, found.legalEntity),
        eq(publicationTargets.target, found.toTarget),
        eq(publicationTargets.validFrom, found.cutoverDate),
      ),
    );
  const [oldRoute] = await tx
    .select()
    .from(publicationTargets)
    .where(
      and(
        eq(publicationTargets.legalEntity, found.legalEntity),
        eq(publicationTargets.target, found.fromTarget),
        eq(publicationTargets.validTo, found.parallelUntil),
      ),
    );
  if (!newRoute || !oldRoute)
    return {
      outcome: 'refused',
      reason: `${found.legalEntity}'s routes were changed since the cut-over: roll back by routes instead`,
    };
  if (r.rollbackDate === found.cutoverDate) await tx.delete(publicationTargets).where(routeKeyOf(newRoute));
  else await tx.update(publicationTargets).set({ validTo: r.rollbackDate }).where(routeKeyOf(newRoute));
  // The old ERP is the target again from the rollback day: its route extended when the day falls in the parallel
  // run (it is still in force), a route of the same terms added from the day otherwise.
  if (r.rollbackDate <= found.parallelUntil)
    await tx.update(publicationTargets).set({ validTo: null }).where(routeKeyOf(oldRoute));
  else
    await tx.insert(publicationTargets).values({
      legalEntity: oldRoute.legalEntity,
      target: oldRoute.target,
      company: oldRoute.company,
      postingModel: oldRoute.postingModel,
      settings: oldRoute.settings,
      validFrom: r.rollbackDate,
    });
  await appendAudit(tx, {
    stream: auditStream.routing(found.legalEntity),
    actor: r.by,
    action: 'cutover.rolled_back',
    entityType: 'cutover',
    entityId: found.id,
    correlationId: r.correlationId,
    eventKey: `cutover-rolled-back:${found.id}`,
    details: {
      from: found.toTarget,
      backTo: found.fromTarget,
      rollbackDate: r.rollbackDate,
      reason: r.reason,
    },
  });
  return { outcome: 'rolled_back', cutover: rolled };
}

/** Keeps the latest comparison of a cut-over's parallel run for a fiscal year, audited with its counts. */
export async function storeComparison(
  tx: Tx,
  c: {
    cutover: CutoverRow;
    fiscalYear: number;
    differences: HoldingDifference[];
    totals: { currency: string; old: string; new: string; difference: string }[];
    actualDifferences: HoldingDifference[];
    actualTotals: { currency: string; old: string; new: string; difference: string }[];
    correlationId: string;
  },
) {
  const values = {
    differences: c.differences,
    totals: c.totals,
    actualDifferences: c.actualDifferences,
    actualTotals: c.actualTotals,
  };
  await tx
    .insert(erpCutoverComparisons)
    .values({ cutoverId: c.cutover.id, fiscalYear: c.fiscalYear, ...values })
    .onConflictDoUpdate({
      target: [erpCutoverComparisons.cutoverId, erpCutoverComparisons.fiscalYear],
      set: { ...values, comparedAt: sql`now()` },
    });
  await appendAudit(tx, {
    stream: auditStream.routing(c.cutover.legalEntity),
    actor: 'closeloop',
    action: 'cutover.compared',
    entityType: 'cutover',
    entityId: c.cutover.id,
    correlationId: c.correlationId,
    eventKey: `cutover-compared:${c.cutover.id}:${c.fiscalYear}:${c.correlationId}`,
    details: {
      fiscalYear: c.fiscalYear,
      differences: c.differences.length,
      totals: c.totals,
      actualDifferences: c.actualDifferences.length,
      actualTotals: c.actualTotals,
    },
  });
}

export const comparisonsOf = (db: DbOrTx, cutoverId: string) =>
  db
    .select()
    .from(erpCutoverComparisons)
    .where(eq(erpCutoverComparisons.cutoverId, cutoverId))
    .orderBy(asc(erpCutoverComparisons.fiscalYear));

/** A posted line of the ERP whose books do not count during a parallel run: mapped, or with why it cannot be. */
export interface ParallelActualRow {
  recordKey: string;
  sourceSystem: string;
  legalEntity: string;
  postingDate: string;
  line: { dimensions: Record<string, string>; period: string; amount: string; currency: string } | null;
  error: string | null;
  payload: Record<string, unknown>;
}

/**
 * Keeps a page of the other ERP's posted lines for the parallel run's comparison, never in a balance; a line
 * already kept changes nothing. Returns how many were new.
 */
export async function keepParallelActuals(
  tx: Tx,
  cutoverId: string,
  rows: ParallelActualRow[],
  correlationId: string,
): Promise<number> {
  if (!rows.length) return 0;
  const inserted = await tx
    .insert(cutoverParallelActuals)
    .values(
      rows.map((r) => ({
        cutoverId,
        recordKey: r.recordKey,
        sourceSystem: r.sourceSystem,
        legalEntity: r.legalEntity,
        postingDate: r.postingDate,
        dimensions: r.line?.dimensions ?? null,
        period: r.line?.period ?? null,
        amount: r.line?.amount ?? null,
        currency: r.line?.currency ?? null,
        error: r.error,
        payload: r.payload,
        correlationId,
      })),
    )
    .onConflictDoNothing()
    .returning({ key: cutoverParallelActuals.recordKey });
  return inserted.length;
}

/**
 * What an ERP's posted lines say for the entity over some periods: its counted actuals when its books count, else
 * the lines kept for the cut-over's comparison (those that could be mapped).
 */
export async function postedDuring(
  db: DbOrTx,
  r: { cutoverId: string; legalEntity: string; system: string; counted: boolean; periods: string[] },
): Promise<{ dimensions: Record<string, string>; period: string; amount: string; currency: string }[]> {
  if (!r.periods.length) return [];
  if (r.counted)
    return db
      .select({
        dimensions: actualLines.dimensions,
        period: actualLines.period,
        amount: actualLines.amount,
        currency: actualLines.currency,
      })
      .from(actualLines)
      .where(
        and(
          eq(actualLines.legalEntity, r.legalEntity),
          eq(actualLines.sourceSystem, r.system),
          inArray(actualLines.period, r.periods),
        ),
      );
  const rows = await db
    .select({
      dimensions: cutoverParallelActuals.dimensions,
      period: cutoverParallelActuals.period,
      amount: cutoverParallelActuals.amount,
      currency: cutoverParallelActuals.currency,
    })
    .from(cutoverParallelActuals)
    .where(
      and(
        eq(cutoverParallelActuals.cutoverId, r.cutoverId),
        eq(cutoverParallelActuals.sourceSystem, r.system),
        isNotNull(cutoverParallelActuals.period),
        inArray(cutoverParallelActuals.period, r.periods),
      ),
    );
  return rows.map((x) => ({
    dimensions: x.dimensions!,
    period: x.period!,
    amount: x.amount!,
    currency: x.currency!,
  }));
}

/** The lines kept for a cut-over's comparison, per ERP: how many, and each one that could not be mapped, with why. */
export async function parallelActualsOf(db: DbOrTx, cutoverId: string) {
  const rows = await db
    .select({
      sourceSystem: cutoverParallelActuals.sourceSystem,
      recordKey: cutoverParallelActuals.recordKey,
      error: cutoverParallelActuals.error,
    })
    .from(cutoverParallelActuals)
    .where(eq(cutoverParallelActuals.cutoverId, cutoverId))
    .orderBy(asc(cutoverParallelActuals.sourceSystem), asc(cutoverParallelActuals.recordKey));
  const out = new Map<
    string,
    { system: string; kept: number; unmapped: { recordKey: string; error: string }[] }
  >();
  for (const r of rows) {
    const s = out.get(r.sourceSystem) ?? { system: r.sourceSystem, kept: 0, unmapped: [] };
    s.kept++;
    if (r.error) s.unmapped.push({ recordKey: r.recordKey, error: r.error });
    out.set(r.sourceSystem, s);
  }
  return [...out.values()];
}
