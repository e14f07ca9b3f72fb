import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import {
  bucketBalances,
  checkFunds,
  createReservationQueue,
  releaseReservation,
  type FundsLine,
  type LineControl,
} from '../../db/queries/budget-control';
import { loadControlModel } from '../../db/queries/control-model';
import { applyConsumptionEvent } from '../../db/queries/consumption';
import { freeze, listFreezes, unfreeze } from '../../db/queries/freezes';
import { activeDimensionValues, calendarPeriods } from '../../db/queries/reference';
import { pooledPeriods, ruleFor } from '../../domain/budget-control';
import { LegalEntityCode } from '../../domain/model';
import { fromMinor, Money, toMinor } from '../../domain/money';
import { type FieldIssue } from '../../domain/zod-issues';
import { principalOf, requireRole } from '../auth';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';

const Period = z.string().regex(/^\d{4}-\d{2}$/, 'must be a fiscal period such as 2027-03');
const Code = z.string().min(1).max(50);

const FundsBody = z
  .object({
    legalEntity: LegalEntityCode,
    lines: z
      .array(
        z
          .object({
            account: Code,
            costCenter: Code,
            period: Period,
            amount: Money.refine((m) => toMinor(m.amount, m.currency) > 0n, 'must be more than zero'),
          })
          .strict(),
      )
      .min(1)
      .max(500),
  })
  .strict();
type FundsBody = z.infer<typeof FundsBody>;

const BalanceQuery = z
  .object({ legalEntity: LegalEntityCode, account: Code, costCenter: Code, period: Period })
  .strict();

const IdempotencyKey = z.string().min(1).max(200);

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

const Reason = z.string().trim().min(3, 'a reason is required').max(1000);
const FreezeBody = z
  .object({
    legalEntity: LegalEntityCode,
    account: Code.optional(),
    costCenter: Code.optional(),
    reason: Reason,
  })
  .strict();
const UnfreezeBody = z.object({ legalEntity: LegalEntityCode, reason: Reason }).strict();
const FreezeQuery = z
  .object({ legalEntity: LegalEntityCode, inForce: z.enum(['true', 'false']).default('true') })
  .strict();

/**
 * Configuration read on every request (the entity, its control model and calendar, whether a dimension value is
 * active) changes rarely; it is kept for a few seconds so the synchronous path spends its time on the decision.
 * Freezes and balances are never cached: the reservation's own transaction reads them.
 */
const CONFIG_TTL_MS = 5_000;
class Expiring<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  /** A cached value that is not `usable` (it lacks what the request names) is read again, not trusted. */
  async get(key: string, load: () => Promise<T>, usable: (v: T) => boolean = () => true): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < CONFIG_TTL_MS) {
      const cached = await hit.value.catch(() => undefined);
      if (cached !== undefined && usable(cached)) return cached;
    }
    const value = load();
    this.entries.set(key, { at: Date.now(), value });
    value.catch(() => this.entries.delete(key));
    if (this.entries.size > 100_000) this.entries.clear();
    return value;
  }
}

/**
 * Reads what the control model says about each line, and refuses (naming every offending field) what names
 * something unknown, inactive or closed, or a currency the entity does not budget in: nothing is reserved.
 */
async function controlsFor(
  db: Database,
  body: Pick<FundsBody, 'legalEntity' | 'lines'>,
  cache: ControlCache,
) {
  const { entity, model, periods } = await cache.entities.get(
    body.legalEntity,
    async () => {
      const entity = await knownLegalEntity(db, body.legalEntity);
      const model = (await loadControlModel(db, entity.code))!;
      return { entity, model, periods: await calendarPeriods(db, entity.fiscalCalendar) };
    },
    (c) => body.lines.every((l) => c.periods.some((p) => p.period === l.period)),
  );
  const byPeriod = new Map(periods.map((p) => [p.period, p]));
  const unknown: FieldIssue[] = [];
  const closed: FieldIssue[] = [];
  const controls: LineControl[] = [];
  for (const [i, l] of body.lines.entries()) {
    const period = byPeriod.get(l.period);
    if (!period) {
      unknown.push({
        field: `lines.${i}.period`,
        message: `${l.period} is not a period of calendar ${entity.fiscalCalendar}`,
      });
      continue;
    }
    if (period.status !== 'open')
      closed.push({ field: `lines.${i}.period`, message: `period ${l.period} is closed` });
    const active = await cache.dimensions.get(
      `${entity.code}|${l.account}|${l.costCenter}|${period.startDate}`,
      () =>
        activeDimensionValues(
          db,
          entity.code,
          { accounts: [l.account], costCenters: [l.costCenter] },
          period.startDate,
        ),
      (a) => a.accounts.has(l.account) && a.costCenters.has(l.costCenter),
    );
    if (!active.accounts.has(l.account))
      unknown.push({
        field: `lines.${i}.account`,
        message: `account ${l.account} is not active on ${period.startDate}`,
      });
    if (!active.costCenters.has(l.costCenter))
      unknown.push({
        field: `lines.${i}.costCenter`,
        message: `cost center ${l.costCenter} of ${entity.code} is not active on ${period.startDate}`,
      });
    if (l.amount.currency !== entity.functionalCurrency)
      unknown.push({
        field: `lines.${i}.amount.currency`,
        message: `${entity.code} budgets in ${entity.functionalCurrency}, not ${l.amount.currency}`,
      });
    const rule = ruleFor(model.rules, l, period.startDate)!;
    const pool = pooledPeriods(
      l.period,
      model.periodBasis,
      periods.filter((p) => p.fiscalYear === period.fiscalYear),
    )!;
    controls.push({ level: rule.level, tolerancePercent: rule.tolerancePercent, pooledPeriods: pool });
  }
  if (unknown.length) throw unknownReference(unknown);
  if (closed.length)
    throw new HttpError(422, 'period_closed', 'a line falls in a closed period', { issues: closed });
  const lines: FundsLine[] = body.lines.map((l) => ({
    account: l.account,
    costCenter: l.costCenter,
    period: l.period,
    amount: l.amount.amount,
    currency: l.amount.currency,
  }));
  return { entity, model, lines, controls };
}

interface ControlCache {
  entities: Expiring<{
    entity: Awaited<ReturnType<typeof knownLegalEntity>>;
    model: NonNullable<Awaited<ReturnType<typeof loadControlModel>>>;
    periods: Awaited<ReturnType<typeof calendarPeriods>>;
  }>;
  dimensions: Expiring<Awaited<ReturnType<typeof activeDimensionValues>>>;
}

function idempotencyKeyOf(req: Request): string {
  const parsed = IdempotencyKey.safeParse(req.header('idempotency-key'));
  if (!parsed.success) {
    throw new HttpError(
      400,
      'idempotency_key_required',
      'a reservation needs an Idempotency-Key header (1 to 200 characters)',
    );
  }
  return parsed.data;
}

/**
 * The budget control API that procurement and the ERP call before they spend: check (answers only),
 * reserve (answers and holds the funds under the caller's Idempotency-Key), and the balance of a bucket.
 */
export function budgetControlRoutes({ db, config }: { db: Database; config: Config }): Router {
  const router = Router();
  const cache: ControlCache = { entities: new Expiring(), dimensions: new Expiring() };
  const reservations = createReservationQueue(db);
  const spenders = requireRole('requester', 'controller', 'integration_admin');

  router.post('/checks', spenders, async (req, res) => {
    const body = FundsBody.parse(req.body);
    const { lines, controls } = await controlsFor(db, body, cache);
    const answer = await checkFunds(
      db,
      { requester: principalOf(req).id, legalEntity: body.legalEntity, correlationId: randomUUID(), lines },
      controls,
    );
    res.json(answer);
  });

  router.post('/reservations', spenders, async (req, res) => {
    const idempotencyKey = idempotencyKeyOf(req);
    const body = FundsBody.parse(req.body);
    const { lines, controls } = await controlsFor(db, body, cache);
    const result = await reservations.reserve(
      {
        requester: principalOf(req).id,
        idempotencyKey,
        legalEntity: body.legalEntity,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
        lines,
        ttl: config.budgetControl.reservationTtl,
      },
      controls,
    );
    if (result.kind === 'key_reused') {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        `Idempotency-Key ${idempotencyKey} was already used for another request; use a new key for new content`,
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
    const currency = (await knownLegalEntity(db, q.legalEntity)).functionalCurrency;
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
    );
    const control = controls[0]!;
    const rows = (await bucketBalances(db, entity.code, q, control.pooledPeriods)).filter(
      (r) => r.currency === entity.functionalCurrency,
    );
    const total = (pick: (r: (typeof rows)[number]) => string) =>
      rows.reduce((acc, r) => acc + toMinor(pick(r), r.currency), 0n);
    const [budget, reserved, committed, actual] = [
      total((r) => r.budget),
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
      reserved: money(reserved),
      committed: money(committed),
      actual: money(actual),
      available: money(budget - reserved - committed - actual),
      // Each period's figures, with the budget version they came from.
      periods: rows.map((r) => ({
        period: r.period,
        budget: money(toMinor(r.budget, r.currency)),
        reserved: money(toMinor(r.reserved, r.currency)),
        committed: money(toMinor(r.committed, r.currency)),
        actual: money(toMinor(r.actual, r.currency)),
        versionId: r.versionId,
      })),
    });
  });

  // ── consumption: commitments, invoices and closes of the documents that consume reservations ─────────
  router.post('/consumption-events', spenders, async (req, res) => {
    const body = ConsumptionBody.parse(req.body);
    const entity = await knownLegalEntity(db, body.legalEntity);
    const model = (await loadControlModel(db, entity.code))!;
    if (model.consumptionSource !== 'events') {
      throw new HttpError(
        409,
        'consumption_from_erp',
        `${entity.code} takes its commitments and actuals from its ERP; consumption events would count them twice`,
      );
    }
    // The buckets events name are checked like a reservation's lines: known, active, open, in the entity's currency.
    const located = body.events.flatMap((e) => (e.type === 'closed' ? [] : [e]));
    if (located.length) {
      await controlsFor(db, { legalEntity: entity.code, lines: located.map((e) => ({ ...e })) }, cache).catch(
        (err: unknown) => {
          if (err instanceof HttpError && Array.isArray(err.extra.issues)) {
            const at = new Map(located.map((e, i) => [i, body.events.indexOf(e)]));
            err.extra.issues = (err.extra.issues as FieldIssue[]).map((issue) => ({
              ...issue,
              field: issue.field.replace(/^lines\.(\d+)/, (_m, i: string) => `events.${at.get(Number(i))}`),
            }));
          }
          throw err;
        },
      );
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
          by: principal,
          correlationId,
        }),
      );
      results.push({ documentId: e.documentId, lineNo: e.lineNo, type: e.type, outcome });
    }
    res.json({ results });
  });

  // ── freezes: an emergency stop on new reservations, lifted by a separate act ──────────────────────────
  router.post('/freezes', requireRole('controller'), async (req, res) => {
    const body = FreezeBody.parse(req.body);
    const entity = await knownLegalEntity(db, body.legalEntity);
    const today = new Date().toISOString().slice(0, 10);
    const known = await activeDimensionValues(
      db,
      entity.code,
      { accounts: body.account ? [body.account] : [], costCenters: body.costCenter ? [body.costCenter] : [] },
      today,
    );
    const unknown: FieldIssue[] = [];
    if (body.account && !known.accounts.has(body.account))
      unknown.push({ field: 'account', message: `account ${body.account} is not active` });
    if (body.costCenter && !known.costCenters.has(body.costCenter))
      unknown.push({
        field: 'costCenter',
        message: `cost center ${body.costCenter} of ${entity.code} is not active`,
      });
    if (unknown.length) throw unknownReference(unknown);
    const row = await db.transaction((tx) =>
      freeze(tx, {
        legalEntity: entity.code,
        account: body.account ?? null,
        costCenter: body.costCenter ?? null,
        reason: body.reason,
        by: principalOf(req).id,
        correlationId: randomUUID(),
      }),
    );
    res.status(201).json(row);
  });

  router.post('/freezes/:id/unfreeze', requireRole('controller'), async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw new HttpError(404, 'not_found', 'no such freeze');
    const body = UnfreezeBody.parse(req.body);
    const lifted = await db.transaction((tx) =>
      unfreeze(tx, {
        id: id.data,
        legalEntity: body.legalEntity,
        reason: body.reason,
        by: principalOf(req).id,
        correlationId: randomUUID(),
      }),
    );
    if (!lifted) {
      const all = await listFreezes(db, body.legalEntity, false);
      if (all.some((f) => f.id === id.data))
        throw new HttpError(409, 'already_unfrozen', 'this freeze was already lifted');
      throw new HttpError(404, 'not_found', `no freeze ${id.data} on ${body.legalEntity}`);
    }
    res.json(lifted);
  });

  router.get('/freezes', async (req, res) => {
    const q = FreezeQuery.parse(req.query);
    await knownLegalEntity(db, q.legalEntity);
    res.json({ freezes: await listFreezes(db, q.legalEntity, q.inForce === 'true') });
  });

  return router;
}
