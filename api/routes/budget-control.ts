import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import {
  bucketActivity,
  bucketBalances,
  checkFunds,
  createReservationQueue,
  releaseReservation,
} from '../../db/queries/budget-control';
import { changeControlModel, loadControlModel } from '../../db/queries/control-model';
import { CONSUMPTION_SOURCES, consumptionFlows, PERIOD_BASES } from '../../domain/budget-control';
import { applyConsumptionEvent } from '../../db/queries/consumption';
import { FiscalYear, LegalEntityCode } from '../../domain/model';
import { GroupBy, groupFigures, termLabel } from '../../domain/report-grouping';
import { bucketFiguresOver } from '../../db/queries/balances';
import { fiscalYearPeriods } from '../../db/queries/reference';
import { groupingTrees } from '../report-groups';
import { fromMinor, Money, toMinor } from '../../domain/money';
import { principalOf, requireRole } from '../auth';
import { shedBeyond } from '../admission';
import { HttpError } from '../errors';
import { controlsFor, type ControlRouteDeps, entityContext } from '../control-context';
import { knownLegalEntity, unknownReference } from '../references';
import { notifyChange } from '../erp-events';
import {
  Code,
  FundsBody,
  IdempotencyKey,
  idempotencyKeyOf,
  OtherDimensions,
  Period,
} from '../control-schemas';

const ModelBody = z
  .object({
    periodBasis: z.enum(PERIOD_BASES).optional(),
    /** Where commitments and actuals come from: erp, events or mixed (see CONSUMPTION_SOURCES). */
    consumptionSource: z.enum(CONSUMPTION_SOURCES).optional(),
    reason: z.string().trim().min(3, 'a reason is required').max(1000),
  })
  .strict();

const BalanceQuery = z
  .object({ legalEntity: LegalEntityCode, account: Code, costCenter: Code, period: Period })
  .strict();

const GroupedBalanceQuery = z
  .object({
    legalEntity: LegalEntityCode,
    fiscalYear: z.coerce.number().pipe(FiscalYear),
    /** One period, or from `period` to `to`; absent: the whole year. */
    period: Period.optional(),
    to: Period.optional(),
    groupBy: GroupBy.default([{ dimension: 'account' }]),
  })
  .strict();

const ConsumptionEventBody = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('committed'),
      documentId: Code,
      lineNo: z.number().int().positive(),
      sequence: z.number().int().nonnegative(),
      account: Code,
      costCenter: Code,
      period: Period,
      dimensions: OtherDimensions.optional(),
      amount: Money.refine((m) => toMinor(m.amount, m.currency) >= 0n, 'must not be negative'),
      reservationKey: IdempotencyKey.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('invoiced'),
      documentId: Code,
      lineNo: z.number().int().positive(),
      invoiceId: z.string().min(1).max(100),
      account: Code,
      costCenter: Code,
      period: Period,
      dimensions: OtherDimensions.optional(),
      amount: Money,
    })
    .strict(),
  z.object({ type: z.literal('closed'), documentId: Code, lineNo: z.number().int().positive() }).strict(),
]);
const ConsumptionBody = z
  .object({
    legalEntity: LegalEntityCode,
    sourceSystem: z.string().min(1).max(50),
    events: z.array(ConsumptionEventBody).min(1).max(500),
  })
  .strict();

/**
 * The budget control API that procurement and the ERP call before they spend: check (answers only),
 * reserve (answers and holds the funds under the caller's Idempotency-Key), and the balance of a bucket.
 */
export function budgetControlRoutes({ db, config, client, cache }: ControlRouteDeps): Router {
  const router = Router();
  const reservations = createReservationQueue(db);
  const spenders = requireRole('requester', 'controller', 'integration_admin');
  // One limit for checks and reservations: both are the synchronous path procurement waits on.
  const admitted = shedBeyond(config.budgetControl.maxInFlight);

  router.post('/checks', admitted, spenders, async (req, res) => {
    const body = FundsBody.parse(req.body);
    const { lines, controls } = await controlsFor(db, body, cache);
    const answer = await checkFunds(
      db,
      { requester: principalOf(req).id, legalEntity: body.legalEntity, correlationId: randomUUID(), lines },
      controls,
    );
    res.json(answer);
  });

  router.post('/reservations', admitted, spenders, async (req, res) => {
    const idempotencyKey = idempotencyKeyOf(req);
    const body = FundsBody.parse(req.body);
    const correlationId = req.header('x-correlation-id') ?? randomUUID();
    const reserve = async () => {
      const { lines, controls } = await controlsFor(db, body, cache);
      return reservations.reserve(
        {
          requester: principalOf(req).id,
          idempotencyKey,
          legalEntity: body.legalEntity,
          correlationId,
          lines,
          ttl: config.budgetControl.reservationTtl,
        },
        controls,
      );
    };
    let result = await reserve();
    // The entity's control budgets changed after this process read them: read them again and decide anew.
    for (let tries = 0; result.kind === 'model_changed' && tries < 3; tries++) {
      cache.entities.clear();
      result = await reserve();
    }
    if (result.kind === 'model_changed')
      throw new HttpError(
        503,
        'control_model_changing',
        `${body.legalEntity}'s control budgets are being changed; try again`,
      );
    if (result.kind === 'key_reused') {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        `Idempotency-Key ${idempotencyKey} was already used for another request; use a new key for new content`,
      );
    }
    if (result.kind === 'period_locked') {
      // The close locked the period after the calendar was read (the database decided): as a closed period.
      throw new HttpError(422, 'period_closed', 'a line falls in a closed period', {
        issues: body.lines.flatMap((l, i) =>
          result.periods.includes(l.period)
            ? [
                {
                  field: `lines.${i}.period`,
                  message: `period ${l.period} of ${body.legalEntity} is locked by its close`,
                },
              ]
            : [],
        ),
      });
    }
    if (result.kind === 'inactive') {
      // Closed after the API read it as active (the database decided, ordered with the closure).
      throw unknownReference(
        result.values.map((v) => ({
          field: `lines.${v.lineNo - 1}.${v.dimension}`,
          message:
            v.dimension === 'account'
              ? `account ${v.code} is not active on ${v.onDate}`
              : `cost center ${v.code} of ${body.legalEntity} is not active on ${v.onDate}`,
        })),
      );
    }
    if (result.kind === 'replayed') res.setHeader('Idempotent-Replayed', 'true');
    res.status(result.answer.reserved ? 201 : 200).json({ idempotencyKey, ...result.answer });
  });

  router.post('/reservations/:key/release', spenders, async (req, res) => {
    const key = IdempotencyKey.safeParse(req.params.key);
    const body = z.object({ legalEntity: LegalEntityCode }).strict().parse(req.body);
    if (!key.success) throw new HttpError(404, 'not_found', 'no such reservation');
    await knownLegalEntity(db, body.legalEntity);
    const released = await releaseReservation(db, {
      requester: principalOf(req).id,
      idempotencyKey: key.data,
      legalEntity: body.legalEntity,
    });
    if (!released.length) {
      throw new HttpError(
        409,
        'nothing_held',
        `reservation ${key.data} of ${principalOf(req).id} holds nothing (unknown, rejected or already released)`,
      );
    }
    res.json({
      idempotencyKey: key.data,
      released: released.map((l) => ({
        account: l.account,
        costCenter: l.costCenter,
        period: l.period,
        amount: { amount: fromMinor(toMinor(l.amount, l.currency), l.currency), currency: l.currency },
      })),
    });
  });

  router.get('/balances', async (req, res) => {
    const q = BalanceQuery.parse(req.query);
    const currency = (await entityContext(db, q.legalEntity, cache)).entity.functionalCurrency;
    // The bucket is validated as a one-cent line would be: the same names, periods and rules.
    const { entity, model, controls } = await controlsFor(
      db,
      {
        legalEntity: q.legalEntity,
        lines: [
          {
            account: q.account,
            costCenter: q.costCenter,
            period: q.period,
            amount: { amount: '0.01', currency },
          },
        ],
      },
      cache,
      { read: true },
    );
    const control = controls[0]!;
    const rows = (await bucketBalances(db, entity.code, q, control.pooledPeriods)).filter(
      (r) => r.currency === entity.functionalCurrency,
    );
    const total = (pick: (r: (typeof rows)[number]) => string) =>
      rows.reduce((acc, r) => acc + toMinor(pick(r), r.currency), 0n);
    const [budget, transferred, reserved, committed, actual] = [
      total((r) => r.budget),
      total((r) => r.transferred),
      total((r) => r.reserved),
      total((r) => r.committed),
      total((r) => r.actual),
    ];
    const money = (minor: bigint) => ({
      amount: fromMinor(minor, entity.functionalCurrency),
      currency: entity.functionalCurrency,
    });
    res.json({
      legalEntity: entity.code,
      bucket: { account: q.account, costCenter: q.costCenter, period: q.period },
      periodBasis: model.periodBasis,
      pooledPeriods: control.pooledPeriods,
      controlLevel: control.level,
      tolerancePercent: control.tolerancePercent,
      budget: money(budget),
      // The part of the budget approved transfers and supplements moved here (negative: moved away).
      transferred: money(transferred),
      reserved: money(reserved),
      committed: money(committed),
      actual: money(actual),
      available: money(budget - reserved - committed - actual),
      // Each period's figures, with the budget version they came from.
      periods: rows.map((r) => ({
        period: r.period,
        budget: money(toMinor(r.budget, r.currency)),
        transferred: money(toMinor(r.transferred, r.currency)),
        reserved: money(toMinor(r.reserved, r.currency)),
        committed: money(toMinor(r.committed, r.currency)),
        actual: money(toMinor(r.actual, r.currency)),
        versionId: r.versionId,
      })),
      // What stands behind the figures: reservations, document lines (invoices count in actuals by their period), transfers.
      behind: await bucketActivity(db, entity.code, q, control.pooledPeriods, 100),
    });
  });

  /**
   * The entity's balances over a year or a range of its periods, grouped by any dimension or hierarchy
   * level (`groupBy=costCenter@0,account`): budget, transferred, reserved, committed, actual and available
   * per group, each currency apart, adding up to the totals.
   */
  router.get('/balances/grouped', async (req, res) => {
    const q = GroupedBalanceQuery.parse(req.query);
    const entity = await knownLegalEntity(db, q.legalEntity);
    const year = await fiscalYearPeriods(db, entity.fiscalCalendar, q.fiscalYear, entity.code);
    const from = q.period ?? year[0]?.period;
    const to = q.to ?? q.period ?? year[year.length - 1]?.period;
    const unknown = [
      ...(q.period && !year.some((p) => p.period === q.period) ? ['period'] : []),
      ...(q.to && !year.some((p) => p.period === q.to) ? ['to'] : []),
    ];
    if (!year.length || unknown.length)
      throw unknownReference(
        (year.length ? unknown : ['fiscalYear']).map((field) => ({
          field,
          message: `not a period of ${entity.fiscalCalendar} FY${q.fiscalYear}`,
        })),
      );
    const periods = year.filter((p) => p.period >= from! && p.period <= to!);
    const { trees, asOf } = await groupingTrees(db, entity, q.fiscalYear, q.groupBy, periods.at(-1)?.endDate);
    const fields = ['budget', 'transferred', 'reserved', 'committed', 'actual'] as const;
    const rows = (
      await bucketFiguresOver(
        db,
        entity.code,
        periods.map((p) => p.period),
      )
    ).map((b) => ({
      dimensions: { account: b.account, costCenter: b.costCenter },
      currency: b.currency,
      figures: {
        budget: b.budget,
        transferred: b.transferred,
        reserved: b.reserved,
        committed: b.committed,
        actual: b.actual,
      },
    }));
    const grouped = groupFigures(rows, q.groupBy, trees, fields);
    // Available as the bucket answer gives it: budget − reserved − committed − actual.
    const withAvailable = (f: Record<string, string>, currency: string) => ({
      ...f,
      available: fromMinor(
        toMinor(f.budget!, currency) -
          toMinor(f.reserved!, currency) -
          toMinor(f.committed!, currency) -
          toMinor(f.actual!, currency),
        currency,
      ),
    });
    res.json({
      legalEntity: entity.code,
      fiscalYear: q.fiscalYear,
      periods: periods.map((p) => p.period),
      groupBy: q.groupBy.map(termLabel),
      asOf,
      groups: grouped.groups.map((g) => ({
        key: g.key,
        currency: g.currency,
        ...withAvailable(g.figures, g.currency),
      })),
      totals: grouped.totals.map((t) => ({ currency: t.currency, ...withAvailable(t.figures, t.currency) })),
    });
  });

  // ── the control model: how an entity's funds are pooled and where its consumption comes from ────────
  router.get('/models/:legalEntity', async (req, res) => {
    const entity = await knownLegalEntity(db, String(req.params.legalEntity));
    res.json({ legalEntity: entity.code, ...(await loadControlModel(db, entity.code)) });
  });

  router.put('/models/:legalEntity', requireRole('controller'), async (req, res) => {
    const body = ModelBody.parse(req.body);
    const entity = await knownLegalEntity(db, String(req.params.legalEntity));
    await db.transaction((tx) =>
      changeControlModel(tx, {
        legalEntity: entity.code,
        ...body,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    cache.entities.clear();
    res.json({ legalEntity: entity.code, ...(await loadControlModel(db, entity.code)) });
  });

  // ── consumption: commitments, invoices and closes of the documents that consume reservations ─────────
  router.post('/consumption-events', spenders, async (req, res) => {
    const body = ConsumptionBody.parse(req.body);
    const entity = await knownLegalEntity(db, body.legalEntity);
    const model = (await loadControlModel(db, entity.code))!;
    const flows = consumptionFlows(model.consumptionSource);
    if (!flows.events) {
      throw new HttpError(
        409,
        'consumption_from_erp',
        `${entity.code} takes its commitments and actuals from its ERP; consumption events would count them twice`,
      );
    }
    // The buckets events name are checked like a reservation's lines: known, active, open, in the entity's currency.
    const located = body.events.flatMap((e) => (e.type === 'closed' ? [] : [e]));
    if (located.length) {
      await controlsFor(db, { legalEntity: entity.code, lines: located }, cache, {
        path: (i) => `events.${body.events.indexOf(located[i]!)}`,
      });
    }
    const principal = principalOf(req).id;
    const correlationId = req.header('x-correlation-id') ?? randomUUID();
    const results = [];
    for (const e of body.events) {
      const outcome = await db.transaction((tx) =>
        applyConsumptionEvent(tx, {
          ...e,
          legalEntity: entity.code,
          sourceSystem: body.sourceSystem,
          reservation:
            e.type === 'committed' && e.reservationKey
              ? { requester: principal, idempotencyKey: e.reservationKey }
              : undefined,
          invoicedIsActual: flows.invoicedEventsAreActuals,
          by: principal,
          correlationId,
        }),
      );
      results.push({ documentId: e.documentId, lineNo: e.lineNo, type: e.type, outcome });
    }
    // The planning platform follows within seconds: the entity's near-real-time workflow delivers.
    if (results.some((r) => r.outcome === 'applied'))
      await notifyChange({ client, config }, entity.code, { source: 'procurement' });
    res.json({ results });
  });

  return router;
}
