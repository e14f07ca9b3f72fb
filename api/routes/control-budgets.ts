import { randomUUID } from 'node:crypto';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { chartVersions } from '../../db/queries/chart';
import {
  controlBudgetContext,
  controlBudgetInputs,
  controlBudgetSpecs,
  putControlBudget,
} from '../../db/queries/control-budgets';
import { controlBudgetFiguresOver, rebuildControlBudgets } from '../../db/queries/control-budget-balances';
import { calendarPeriods } from '../../db/queries/reference';
import { chartDimensionCodes } from '../../domain/chart';
import { ControlBudgetSpec, controlBudgetPeriods } from '../../domain/control-budgets';
import { Dimensions, IsoDate, LegalEntityCode, PeriodCode } from '../../domain/model';
import { fromMinor, toMinor } from '../../domain/money';
import { principalOf, requireRole } from '../auth';
import { type ControlRouteDeps } from '../control-context';
import { HttpError } from '../errors';
import { Reason } from '../control-decisions';
import { knownLegalEntity, unknownReference } from '../references';

const PutBody = z
  .object({
    description: z.unknown(),
    covers: z.unknown(),
    per: z.unknown().optional(),
    level: z.unknown(),
    tolerancePercent: z.unknown().optional(),
    periodBasis: z.unknown(),
    validFrom: z.unknown(),
    validTo: z.unknown().optional(),
    reason: Reason,
  })
  .strict();
/** A combination on a date (which budgets), or in a period (which budgets, with their figures pooled). */
const MatchBody = z
  .object({ dimensions: Dimensions, date: IsoDate.optional(), period: PeriodCode.optional() })
  .strict()
  .refine((b) => (b.date === undefined) !== (b.period === undefined), {
    message: 'give a date or a period, one of them',
    path: ['date'],
  });
const BalanceQuery = z.object({ period: PeriodCode }).strict();

type FigureRow = Awaited<ReturnType<typeof controlBudgetFiguresOver>>[number];

/** A budget's figures as the API speaks money: the currency's decimals, with the currency, and what is left. */
function figures(r: FigureRow) {
  const money = (minor: bigint) => ({ amount: fromMinor(minor, r.currency), currency: r.currency });
  const [budget, reserved, committed, actual] = [r.budget, r.reserved, r.committed, r.actual].map((x) =>
    toMinor(x, r.currency),
  ) as [bigint, bigint, bigint, bigint];
  return {
    budget: money(budget),
    reserved: money(reserved),
    committed: money(committed),
    actual: money(actual),
    available: money(budget - reserved - committed - actual),
  };
}

/**
 * An entity's control budgets as data (issue 22): read them, put one (controllers; audited in the entity's
 * control stream), and ask which budgets a combination falls in on a date. Mounted at
 * /v1/budget-control/control-budgets/:legalEntity.
 */
export function controlBudgetRoutes({ db, cache }: Pick<ControlRouteDeps, 'db' | 'cache'>) {
  const router = Router({ mergeParams: true });
  const entityOf = (req: Request) =>
    knownLegalEntity(
      db,
      LegalEntityCode.parse((req.params as { legalEntity?: string }).legalEntity),
      'legalEntity',
    );

  router.get('/', async (req, res) => {
    const entity = await entityOf(req);
    res.json({ legalEntity: entity.code, controlBudgets: await controlBudgetInputs(db, entity.code) });
  });

  router.put('/:code', requireRole('controller'), async (req, res) => {
    const entity = await entityOf(req);
    const { reason, ...rest } = PutBody.parse(req.body);
    const input = { ...rest, code: req.params.code } as z.input<typeof ControlBudgetSpec>;
    const spec = ControlBudgetSpec.parse(input);
    // Every dimension it names is one of the entity's chart.
    const known = chartDimensionCodes(await chartVersions(db, entity.code));
    const named = [...Object.keys(spec.covers), ...spec.per.map((t) => t.dimension)];
    const unknown = [...new Set(named.filter((d) => !known.includes(d)))];
    if (unknown.length)
      throw unknownReference(
        unknown.map((d) => ({ field: 'covers', message: `${entity.code}'s chart has no dimension ${d}` })),
      );
    // The change and the re-evaluation of every figure under the new model commit together (see
    // rebuildControlBudgets): what is held or committed stays, and the answer names budgets now over.
    const put = await db.transaction(async (tx) => {
      const outcome = await putControlBudget(tx, {
        legalEntity: entity.code,
        input,
        by: principalOf(req).id,
        reason,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      });
      const overBudget = outcome.outcome === 'unchanged' ? [] : await rebuildControlBudgets(tx, entity.code);
      return { ...outcome, overBudget };
    });
    cache.entities.clear();
    res.status(put.outcome === 'created' ? 201 : 200).json({
      outcome: put.outcome,
      legalEntity: entity.code,
      code: spec.code,
      overBudget: put.overBudget,
    });
  });

  /**
   * Which of the entity's control budgets a combination falls in, on a date or in a period; in a period, with
   * each budget's figures pooled over its period basis (the balance of any combination). Changes nothing.
   */
  router.post('/match', async (req, res) => {
    const entity = await entityOf(req);
    const body = MatchBody.parse(req.body);
    const ctx = await controlBudgetContext(db, entity.code);
    const calendar = await calendarPeriods(db, entity.fiscalCalendar, entity.code);
    const period = body.period
      ? calendar.find((p) => p.period === body.period)
      : // A date: the budgets as of that day, pooled over the period it falls in.
        calendar.find((p) => p.startDate <= body.date! && body.date! <= p.endDate && p.kind !== 'adjustment');
    if (body.period && !period)
      throw unknownReference([
        { field: 'period', message: `${body.period} is not a period of calendar ${entity.fiscalCalendar}` },
      ]);
    const onDate = body.date ?? period!.startDate;
    // A date the calendar has no period for yet still answers which budgets, without their pooled periods.
    const at = period ?? {
      period: '',
      periodNumber: 0,
      fiscalYear: 0,
      startDate: onDate,
      endDate: onDate,
      status: 'open' as const,
    };
    const budgets = ctx.of(body.dimensions, { ...at, startDate: onDate }, calendar);
    const byKey = new Map<string, FigureRow[]>();
    if (body.period)
      for (const b of budgets)
        byKey.set(
          b.key,
          await controlBudgetFiguresOver(db, entity.code, { keys: [b.key], periods: b.pooledPeriods }),
        );
    const specs = new Map(ctx.specs.map((s) => [s.code, s]));
    res.json({
      legalEntity: entity.code,
      ...(body.period ? { period: body.period } : { date: body.date }),
      budgets: budgets.map((b) => ({
        controlBudget: b.key,
        code: b.code,
        values: b.values,
        level: b.level,
        tolerancePercent: b.tolerancePercent,
        periodBasis: specs.get(b.code)?.periodBasis ?? 'life_to_date',
        ...(period ? { pooledPeriods: b.pooledPeriods } : {}),
        ...(body.period
          ? {
              figures: (byKey.get(b.key) ?? []).map((r) => ({ currency: r.currency, ...figures(r) })),
            }
          : {}),
      })),
    });
  });

  /**
   * A control budget's balances in a period: every budget of it (one per value of its `per` dimensions) with
   * budget, reserved, committed, actual and available, pooled over its period basis.
   */
  router.get('/:code/balances', async (req, res) => {
    const entity = await entityOf(req);
    const q = BalanceQuery.parse(req.query);
    const spec = (await controlBudgetSpecs(db, entity.code)).find((s) => s.code === req.params.code);
    if (!spec)
      throw new HttpError(404, 'not_found', `${entity.code} has no control budget ${req.params.code}`);
    const calendar = await calendarPeriods(db, entity.fiscalCalendar, entity.code);
    const pooled = controlBudgetPeriods(q.period, spec.periodBasis, calendar, spec.validFrom);
    if (!pooled)
      throw unknownReference([
        { field: 'period', message: `${q.period} is not a period of calendar ${entity.fiscalCalendar}` },
      ]);
    const rows = await controlBudgetFiguresOver(db, entity.code, { code: spec.code, periods: pooled });
    res.json({
      legalEntity: entity.code,
      code: spec.code,
      period: q.period,
      level: spec.level,
      tolerancePercent: spec.tolerancePercent,
      periodBasis: spec.periodBasis,
      pooledPeriods: pooled,
      budgets: rows.map((r) => ({
        controlBudget: r.controlBudget,
        values: r.values,
        currency: r.currency,
        ...figures(r),
      })),
    });
  });

  return router;
}
