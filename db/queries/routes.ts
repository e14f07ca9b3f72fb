import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type PostingModel } from '../../domain/posting-model';
import { type Route, type TargetRoute, targetsOf } from '../../domain/routing';
import { type DbOrTx, type Tx } from '../client';
import { fiscalPeriods, publicationTargets } from '../schema';
import { appendAudit } from './audit';

/**
 * Routing as data (domain/routing): the dated routes of each entity's budgets to its ERPs. A route of one
 * entity and target never overlaps another of them: the writes here decide that under a lock on the entity's
 * routing, and every change is audited in its routing stream.
 */

export type RouteRow = typeof publicationTargets.$inferSelect;

// jsonb keeps keys in its own order: settings are the same when they name the same values.
export const sameSettings = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * Ends, on `day`, the entity's routes to `targets` in force then (started before it, not ended by it), each
 * audited: one conditional statement decides which.
 */
async function endRoutesOn(
  tx: Tx,
  r: { legalEntity: string; by: string; reason: string; correlationId: string },
  targets: readonly string[],
  day: string,
  details: Record<string, unknown> = {},
): Promise<RouteRow[]> {
  const ended = await tx
    .update(publicationTargets)
    .set({ validTo: day })
    .where(
      and(
        eq(publicationTargets.legalEntity, r.legalEntity),
        inArray(publicationTargets.target, [...targets]),
        sql`${publicationTargets.validFrom} < ${day}::date`,
        sql`(${publicationTargets.validTo} is null or ${publicationTargets.validTo} > ${day}::date)`,
      ),
    )
    .returning();
  for (const e of ended)
    await appendAudit(tx, {
      stream: auditStream.routing(r.legalEntity),
      actor: r.by,
      action: 'route.ended',
      entityType: 'route',
      entityId: `${e.legalEntity}:${e.target}:${e.validFrom}`,
      correlationId: r.correlationId,
      eventKey: `route-ended:${e.legalEntity}:${e.target}:${e.validFrom}:${day}`,
      details: { validTo: day, reason: r.reason, ...details },
    });
  return ended;
}

/** Serialises changes to one entity's routing (its routes, its cut-overs) for the rest of the transaction. */
export const lockRouting = (tx: Tx, legalEntity: string) =>
  tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`routing:${legalEntity}`}, 0))`);

/** One route, by its key (entity, target and first day). */
export const routeKeyOf = (r: Pick<RouteRow, 'legalEntity' | 'target' | 'validFrom'>) =>
  and(
    eq(publicationTargets.legalEntity, r.legalEntity),
    eq(publicationTargets.target, r.target),
    eq(publicationTargets.validFrom, r.validFrom),
  );

/** Every route of an entity, past, present and future, by target and start. */
export function routesOf(db: DbOrTx, legalEntity: string): Promise<RouteRow[]> {
  return db
    .select()
    .from(publicationTargets)
    .where(eq(publicationTargets.legalEntity, legalEntity))
    .orderBy(asc(publicationTargets.target), asc(publicationTargets.validFrom));
}

/** The routes in force on any day from `from` to `to` (inclusive), by target and start. */
function routesBetween(db: DbOrTx, legalEntity: string, from: SQL, to: SQL): Promise<RouteRow[]> {
  return db
    .select()
    .from(publicationTargets)
    .where(
      and(
        eq(publicationTargets.legalEntity, legalEntity),
        sql`${publicationTargets.validFrom} <= ${to}`,
        sql`(${publicationTargets.validTo} is null or ${publicationTargets.validTo} > ${from})`,
      ),
    )
    .orderBy(asc(publicationTargets.target), asc(publicationTargets.validFrom));
}

/** The routes in force on any day of `[from, to]` (inclusive dates), by target and start. */
export const routesOverlapping = (db: DbOrTx, legalEntity: string, window: { from: string; to: string }) =>
  routesBetween(db, legalEntity, sql`${window.from}::date`, sql`${window.to}::date`);

/** The routes in force on any day of an entity's fiscal year, by target and start. */
export function routesOfFiscalYear(
  db: DbOrTx,
  entity: { code: string; fiscalCalendar: string },
  fiscalYear: number,
): Promise<RouteRow[]> {
  const days = (agg: 'min' | 'max', column: 'start_date' | 'end_date') =>
    sql`(select ${sql.raw(agg)}(${sql.raw(column)}) from ${fiscalPeriods}
          where calendar = ${entity.fiscalCalendar} and fiscal_year = ${fiscalYear})`;
  return routesBetween(db, entity.code, days('min', 'start_date'), days('max', 'end_date'));
}

/** The entity's targets over its fiscal year, each with the days it receives lines on (domain/routing). */
export async function targetsOfFiscalYear(
  db: DbOrTx,
  entity: { code: string; fiscalCalendar: string },
  fiscalYear: number,
): Promise<TargetRoute[]> {
  return targetsOf((await routesOfFiscalYear(db, entity, fiscalYear)).map(asRoute));
}

export const asRoute = (r: RouteRow): Route => ({
  legalEntity: r.legalEntity,
  target: r.target,
  company: r.company,
  postingModel: r.postingModel,
  settings: r.settings,
  validFrom: r.validFrom,
  validTo: r.validTo,
});

/** Loads reference routes (the seed): a route already there keeps the settings an administrator changed since. */
export async function upsertRoutes(db: DbOrTx, rows: (typeof publicationTargets.$inferInsert)[]) {
  if (!rows.length) return;
  await db
    .insert(publicationTargets)
    .values(rows)
    .onConflictDoUpdate({
      target: [publicationTargets.legalEntity, publicationTargets.target, publicationTargets.validFrom],
      set: {
        company: sql`excluded.company`,
        postingModel: sql`excluded.posting_model`,
        settings: sql`excluded.settings || ${publicationTargets.settings}`,
      },
    });
}

export type AddRouteOutcome =
  | { outcome: 'added'; route: RouteRow; ended: RouteRow[] }
  | { outcome: 'already_routed'; route: RouteRow }
  /** A route of the same target starts on or after the new one's first day: change that one instead. */
  | { outcome: 'later_route'; standing: RouteRow[] };

/**
 * An entity's budgets go to `target` from `validFrom` on: the route of that target in force then ends the day
 * before, and so do the routes of the targets it `replaces` (an entity moving from one ERP to another). The
 * same route asked for again changes nothing. Decided by conditional statements under the routing lock; the
 * new route and each ended one audited.
 */
export async function addRoute(
  tx: Tx,
  r: {
    legalEntity: string;
    target: string;
    company: string;
    postingModel: PostingModel | null;
    settings: Record<string, string>;
    validFrom: string;
    replaces: readonly string[];
    by: string;
    reason: string;
    correlationId: string;
  },
): Promise<AddRouteOutcome> {
  await lockRouting(tx, r.legalEntity);
  const later = await tx
    .select()
    .from(publicationTargets)
    .where(
      and(
        eq(publicationTargets.legalEntity, r.legalEntity),
        eq(publicationTargets.target, r.target),
        sql`${publicationTargets.validFrom} >= ${r.validFrom}::date`,
      ),
    );
  const same = later.find(
    (l) =>
      l.validFrom === r.validFrom &&
      l.company === r.company &&
      l.postingModel === r.postingModel &&
      sameSettings(l.settings, r.settings),
  );
  if (same && later.length === 1) return { outcome: 'already_routed', route: same };
  if (later.length) return { outcome: 'later_route', standing: later };
  const ended = await endRoutesOn(tx, r, [...new Set([r.target, ...r.replaces])], r.validFrom, {
    replacedBy: `${r.target} from ${r.validFrom}`,
  });
  const [route] = await tx
    .insert(publicationTargets)
    .values({
      legalEntity: r.legalEntity,
      target: r.target,
      company: r.company,
      postingModel: r.postingModel,
      settings: r.settings,
      validFrom: r.validFrom,
    })
    .returning();
  await appendAudit(tx, {
    stream: auditStream.routing(r.legalEntity),
    actor: r.by,
    action: 'route.added',
    entityType: 'route',
    entityId: `${r.legalEntity}:${r.target}:${r.validFrom}`,
    correlationId: r.correlationId,
    eventKey: `route-added:${r.legalEntity}:${r.target}:${r.validFrom}`,
    details: {
      company: r.company,
      postingModel: r.postingModel,
      settings: r.settings,
      reason: r.reason,
      ended: ended.map((e) => `${e.target} from ${e.validFrom}`),
    },
  });
  return { outcome: 'added', route: route!, ended };
}

/**
 * The entity's budgets stop going to `target` from `validTo` on: the route in force then ends that day (a
 * route starting later is left to be changed on its own). Undefined when no route of it is in force then.
 */
export async function endRoute(
  tx: Tx,
  r: {
    legalEntity: string;
    target: string;
    validTo: string;
    by: string;
    reason: string;
    correlationId: string;
  },
): Promise<RouteRow | undefined> {
  await lockRouting(tx, r.legalEntity);
  const [ended] = await endRoutesOn(tx, r, [r.target], r.validTo);
  return ended;
}

/**
 * An integration administrator changes a target's settings (its form of the dimensions, say) on its latest
 * route: the keys given are set, those given as null removed, under the row's lock, audited with before and
 * after. Undefined when the entity has no route to that target.
 */
export async function changeTargetSettings(
  tx: Tx,
  c: {
    legalEntity: string;
    target: string;
    set: Readonly<Record<string, string | null>>;
    by: string;
    reason: string;
    correlationId: string;
  },
) {
  await lockRouting(tx, c.legalEntity);
  const [before] = await tx
    .select()
    .from(publicationTargets)
    .where(and(eq(publicationTargets.legalEntity, c.legalEntity), eq(publicationTargets.target, c.target)))
    .orderBy(sql`${publicationTargets.validFrom} desc`)
    .limit(1);
  if (!before) return undefined;
  const settings = { ...before.settings };
  for (const [k, v] of Object.entries(c.set)) {
    if (v === null) delete settings[k];
    else settings[k] = v;
  }
  const [after] = await tx.update(publicationTargets).set({ settings }).where(routeKeyOf(before)).returning();
  const changed = JSON.stringify(before.settings) !== JSON.stringify(after!.settings);
  if (changed)
    await appendAudit(tx, {
      stream: auditStream.chart(c.legalEntity),
      actor: c.by,
      action: 'publication_target.settings_changed',
      entityType: 'publication_target',
      entityId: `${c.legalEntity}:${c.target}`,
      correlationId: c.correlationId,
      eventKey: `target-settings:${c.legalEntity}:${c.target}:${c.correlationId}`,
      details: { before: before.settings, after: after!.settings, reason: c.reason, route: before.validFrom },
    });
  return { target: after!, changed };
}
