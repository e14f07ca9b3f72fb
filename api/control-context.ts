import { type Client } from '@temporalio/client';
import { type Config } from '../config';
import { type Database } from '../db/client';
import { type FundsLine, type LineControl } from '../db/queries/budget-control';
import { loadControlModel } from '../db/queries/control-model';
import { controlBudgetContext } from '../db/queries/control-budgets';
import { chartCheckContext } from '../db/queries/chart';
import { combinationChecker } from '../domain/combination-check';
import { projectRefusal } from '../domain/projects';
import { wholeCombination } from '../domain/control-budgets';
import { activeDimensionValues, calendarPeriods } from '../db/queries/reference';
import { pooledPeriods, ruleFor } from '../domain/budget-control';
import { type Money } from '../domain/money';
import { type FieldIssue } from '../domain/zod-issues';
import { HttpError } from './errors';
import { knownLegalEntity, unknownReference } from './references';

/**
 * Configuration read on every request (the entity, its control model and calendar, whether a dimension value is
 * active) changes rarely; it is kept for a few seconds so the synchronous path spends its time on the decision.
 * An entry past its time is still answered from while it is read again in the background: every request does
 * not wait for the reread (a stall every few seconds, in the latency's tail), and nothing decides on it alone,
 * since the reservation's own statement checks the model's version and the values' activity again. Freezes and
 * balances are never cached: the reservation's own transaction reads them.
 */
const CONFIG_TTL_MS = 5_000;
export class Expiring<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T>; refreshing?: boolean }>();
  /** A cached value that is not `usable` (it lacks what the request names) is read again, not trusted. */
  async get(key: string, load: () => Promise<T>, usable: (v: T) => boolean = () => true): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      const cached = await hit.value.catch(() => undefined);
      if (cached !== undefined && usable(cached)) {
        if (Date.now() - hit.at >= CONFIG_TTL_MS && !hit.refreshing) {
          hit.refreshing = true;
          load().then(
            (fresh) => {
              if (this.entries.get(key) === hit)
                this.entries.set(key, { at: Date.now(), value: Promise.resolve(fresh) });
            },
            () => this.entries.delete(key),
          );
        }
        return cached;
      }
    }
    const value = load();
    this.entries.set(key, { at: Date.now(), value });
    value.catch(() => this.entries.delete(key));
    if (this.entries.size > 100_000) this.entries.clear();
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** An entity, its control model and its calendar (kept a few seconds; read again when it lacks a period asked for). */
export function entityContext(
  db: Database,
  legalEntity: string,
  cache: ControlCache,
  periodsNeeded: string[] = [],
) {
  return cache.entities.get(
    legalEntity,
    async () => {
      const entity = await knownLegalEntity(db, legalEntity);
      const model = (await loadControlModel(db, entity.code))!;
      return {
        entity,
        model,
        periods: await calendarPeriods(db, entity.fiscalCalendar, entity.code),
        budgets: await controlBudgetContext(db, entity.code),
      };
    },
    (c) => periodsNeeded.every((needed) => c.periods.some((p) => p.period === needed)),
  );
}

/**
 * Reads what the control model says about each line, and refuses (naming every offending field) what names
 * something unknown, inactive or closed, or a currency the entity does not budget in: nothing is reserved.
 * `path` names line i in the request ("lines.0" unless the lines come from elsewhere in it). A `read` (a
 * balance, what stands behind it) answers for any period of the calendar: only writes into a closed period
 * are refused.
 */
export async function controlsFor(
  db: Database,
  body: {
    legalEntity: string;
    lines: {
      account: string;
      costCenter: string;
      period: string;
      amount: Money;
      dimensions?: Record<string, string>;
    }[];
  },
  cache: ControlCache,
  opts: { path?: (i: number) => string; read?: boolean } = {},
) {
  const path = opts.path ?? ((i: number) => `lines.${i}`);
  const { entity, model, periods, budgets } = await entityContext(
    db,
    body.legalEntity,
    cache,
    body.lines.map((l) => l.period),
  );
  const byPeriod = new Map(periods.map((p) => [p.period, p]));
  const unknown: FieldIssue[] = [];
  const closed: FieldIssue[] = [];
  const refused: FieldIssue[] = [];
  const controls: LineControl[] = [];
  for (const [i, l] of body.lines.entries()) {
    const period = byPeriod.get(l.period);
    if (!period) {
      unknown.push({
        field: `${path(i)}.period`,
        message: `${l.period} is not a period of calendar ${entity.fiscalCalendar}`,
      });
      continue;
    }
    if (period.status !== 'open' && !opts.read)
      closed.push({ field: `${path(i)}.period`, message: `period ${l.period} is closed` });
    // The entity's active values on the period's first day, read all at once (a request names one of
    // thousands); a value not among them is looked for on its own, in case it was opened since.
    const active = await cache.dimensions.get(`${entity.code}|${period.startDate}`, () =>
      activeDimensionValues(db, entity.code, undefined, period.startDate),
    );
    if (!active.accounts.has(l.account) || !active.costCenters.has(l.costCenter)) {
      const found = await activeDimensionValues(
        db,
        entity.code,
        { accounts: [l.account], costCenters: [l.costCenter] },
        period.startDate,
      );
      for (const a of found.accounts) active.accounts.add(a);
      for (const c of found.costCenters) active.costCenters.add(c);
    }
    if (!active.accounts.has(l.account))
      unknown.push({
        field: `${path(i)}.account`,
        message: `account ${l.account} is not active on ${period.startDate}`,
      });
    if (!active.costCenters.has(l.costCenter))
      unknown.push({
        field: `${path(i)}.costCenter`,
        message: `cost center ${l.costCenter} of ${entity.code} is not active on ${period.startDate}`,
      });
    if (l.dimensions && Object.keys(l.dimensions).length)
      unknown.push(
        ...(await otherDimensionIssues(db, entity.code, l, period, cache, `${path(i)}.dimensions`)),
      );
    // A project's system of record says whether spend may land on it in this period (lifecycle, award).
    const project = l.dimensions?.project ? budgets.projects.get(l.dimensions.project) : undefined;
    const refusal = project && !opts.read ? projectRefusal(project, period) : undefined;
    if (refusal) refused.push({ field: `${path(i)}.dimensions.project`, message: refusal });
    if (l.amount.currency !== entity.functionalCurrency)
      unknown.push({
        field: `${path(i)}.amount.currency`,
        message: `${entity.code} budgets in ${entity.functionalCurrency}, not ${l.amount.currency}`,
      });
    const rule = ruleFor(model.rules, l, period.startDate)!;
    const pool = pooledPeriods(
      l.period,
      model.periodBasis,
      periods.filter((p) => p.fiscalYear === period.fiscalYear),
    )!;
    const dims = wholeCombination(l.account, l.costCenter, l.dimensions);
    controls.push({
      level: rule.level,
      tolerancePercent: rule.tolerancePercent,
      pooledPeriods: pool,
      budgets: budgets.of(dims, period, periods),
      budgetsVersion: entity.controlBudgetsVersion,
    });
  }
  if (unknown.length) throw unknownReference(unknown);
  if (closed.length)
    throw new HttpError(422, 'period_closed', 'a line falls in a closed period', { issues: closed });
  if (refused.length)
    throw new HttpError(422, 'project_not_open', 'a line names a project spend may not land on', {
      issues: refused,
    });
  const lines: FundsLine[] = body.lines.map((l) => ({
    account: l.account,
    costCenter: l.costCenter,
    period: l.period,
    amount: l.amount.amount,
    currency: l.amount.currency,
    ...(l.dimensions && Object.keys(l.dimensions).length ? { dimensions: l.dimensions } : {}),
  }));
  return { entity, model, lines, controls };
}

/**
 * The other dimensions a line names, checked against the chart in force on its period's first day: each must
 * be a dimension of the chart with a known value active then, and the combination must break no
 * cross-validation rule. (A dimension the chart requires but the line leaves out is not asked for here: spend
 * is controlled on what it names; the budget line carries the rest.)
 */
async function otherDimensionIssues(
  db: Database,
  legalEntity: string,
  l: { account: string; costCenter: string; dimensions?: Record<string, string> },
  period: { startDate: string; endDate: string },
  cache: ControlCache,
  field: string,
): Promise<FieldIssue[]> {
  const ctx = await cache.charts.get(`${legalEntity}|${period.startDate}`, () =>
    chartCheckContext(db, legalEntity, period.startDate),
  );
  if (!ctx) return [{ field, message: `${legalEntity} has no chart in force on ${period.startDate}` }];
  const named = Object.keys(l.dimensions!);
  const dims = wholeCombination(l.account, l.costCenter, l.dimensions);
  return combinationChecker(ctx)(dims, {
    legalEntity,
    spec: ctx.chart.spec,
    values: (d) => ctx.lists.get(d),
    from: period.startDate,
    to: period.startDate,
  })
    .filter(
      (p) => p.code === 'cross_validation' || (named.includes(p.dimension) && p.code !== 'missing_dimension'),
    )
    .map((p) => ({
      field: p.code === 'cross_validation' ? field : `${field}.${p.dimension}`,
      message: p.message,
    }));
}

export interface ControlCache {
  entities: Expiring<{
    entity: Awaited<ReturnType<typeof knownLegalEntity>>;
    model: NonNullable<Awaited<ReturnType<typeof loadControlModel>>>;
    periods: Awaited<ReturnType<typeof calendarPeriods>>;
    budgets: Awaited<ReturnType<typeof controlBudgetContext>>;
  }>;
  dimensions: Expiring<Awaited<ReturnType<typeof activeDimensionValues>>>;
  charts: Expiring<Awaited<ReturnType<typeof chartCheckContext>>>;
}

/**
 * The one cache of an API process's budget-control routes, so a change of an entity's control model clears it
 * for every route that checks lines, not only the one that made the change.
 */
export function createControlCache(): ControlCache {
  return { entities: new Expiring(), dimensions: new Expiring(), charts: new Expiring() };
}

/** What the budget-control routes are built from: the clients and the shared cache. */
export interface ControlRouteDeps {
  db: Database;
  config: Config;
  client: Client;
  cache: ControlCache;
}
