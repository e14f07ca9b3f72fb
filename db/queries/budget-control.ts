import { createHash } from 'node:crypto';
import { z } from 'zod';
import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  CONTROL_LEVELS,
  decideLine,
  decideRequest,
  percentOfHundredths,
  toleranceHundredths,
  type ControlLevel,
  type LineDecision,
  type LineOutcome,
} from '../../domain/budget-control';
import { type BudgetControl, wholeCombination } from '../../domain/control-budgets';
import { countedMinor } from '../../domain/projects';
import { auditStream } from '../../domain/identity';
import { fromMinor, minorUnitsOf, toMinor } from '../../domain/money';
import { type Database, type DbOrTx } from '../client';
import { controlBalances, controlBudgetBalances } from '../schema';
import { appendAudit } from './audit';
import { freezeOn, type FreezeRow } from './freezes';
import { transfersTouching } from './transfers';

/**
 * The synchronous budget check and reservation. The database decides a batch of requests in one call of
 * closeloop_reserve_funds_batch (migration 0029): each request's idempotency record, the funds check of every
 * line and the holds commit together or not at all; the balances are locked in a fixed order (so batches
 * never deadlock) and funds are held only while the rule's limit allows and no freeze covers the bucket.
 * This module turns what the database recorded into answers; the pure rules are in domain/budget-control.
 */

export interface FundsLine {
  account: string;
  costCenter: string;
  period: string;
  amount: string;
  currency: string;
  /** The line's other dimensions (department, project, fund…), when it names any. */
  dimensions?: Record<string, string>;
}

/**
 * What the control model says about a line: its bucket's rule and the periods its funds are pooled over, and
 * every control budget it falls in (issue 22), each decided as well.
 */
export interface LineControl {
  level: ControlLevel;
  tolerancePercent: string;
  pooledPeriods: string[];
  budgets?: BudgetControl[];
  /** The entity's control budgets version `budgets` were read on (legal_entities.control_budgets_version). */
  budgetsVersion?: number;
}

/** How a line stood in one of the control budgets it falls in. */
export interface ControlBudgetAnswer {
  controlBudget: string;
  code: string;
  values: Record<string, string | null>;
  outcome: LineOutcome;
  reason: string;
  controlLevel: ControlLevel;
  tolerancePercent: string;
  pooledPeriods: string[];
  /** What the line counts for in it: its amount, with indirect cost where a grant charges it. */
  counted: string;
  budget: string;
  availableBefore: string;
  availableAfter: string;
}

export interface FundsRequest {
  requester: string;
  idempotencyKey: string;
  legalEntity: string;
  correlationId: string;
  lines: FundsLine[];
  /** How long held funds stay held unless consumed or released ("30 days"); forever when absent. */
  ttl?: string;
}

export interface LineAnswer {
  lineNo: number;
  account: string;
  costCenter: string;
  period: string;
  amount: { amount: string; currency: string };
  outcome: LineOutcome;
  reason: string;
  controlLevel: ControlLevel;
  tolerancePercent: string;
  pooledPeriods: string[];
  budget: string;
  availableBefore: string;
  availableAfter: string;
  /** Every control budget the line falls in, in lock order; the line passes only if each of them allows it. */
  controlBudgets: ControlBudgetAnswer[];
}

export interface FundsAnswer {
  legalEntity: string;
  outcome: LineOutcome;
  /** True when the funds are now held under the request's key. */
  reserved: boolean;
  /** The controller's approval of a rejected request, when its funds are held by override. */
  override?: z.infer<typeof Override>;
  lines: LineAnswer[];
  decidedAt: string;
}

export type ReserveResult =
  | { kind: 'decided'; answer: FundsAnswer }
  | { kind: 'replayed'; answer: FundsAnswer }
  | { kind: 'key_reused' }
  /** A line falls in a period its entity's close has locked: nothing was reserved or recorded. */
  | { kind: 'period_locked'; periods: string[] }
  /** A line's account or cost center is not active on its period's first day: nothing was reserved or recorded. */
  | { kind: 'inactive'; values: InactiveValue[] }
  /** The entity's control budgets changed after the lines' budgets were read: decide again on the new model. */
  | { kind: 'model_changed' };

/** A dimension value the database found inactive when it decided (a closure may have come in between). */
export interface InactiveValue {
  /** The request's line, 1-based. */
  lineNo: number;
  dimension: 'account' | 'costCenter';
  code: string;
  onDate: string;
}

/** The request's content as its idempotency record hashes it. */
export const hashOf = (r: Pick<FundsRequest, 'legalEntity' | 'lines'>) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        r.legalEntity,
        r.lines.map((l) => {
          const line = [l.account, l.costCenter, l.period, l.amount, l.currency];
          // Other dimensions join the hash only when named, so the records of earlier requests still match.
          const other = Object.entries(l.dimensions ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
          return other.length ? [...line, other] : line;
        }),
      ]),
    )
    .digest('hex');

const periodList = (periods: string[]) =>
  sql`(${sql.join(
    periods.map((p) => sql`${p}`),
    sql`, `,
  )})`;

const bucketWhere = (legalEntity: string, l: FundsLine) => sql`
  legal_entity = ${legalEntity} and account = ${l.account} and cost_center = ${l.costCenter}
  and currency = ${l.currency}`;

/** A control budget's figures for a line, and its decision. */
interface BudgetDecided {
  control: BudgetControl;
  decision: LineDecision;
  budget: bigint;
  counted: bigint;
}

function answerLine(
  lineNo: number,
  l: FundsLine,
  c: LineControl,
  d: LineDecision,
  budget: bigint,
  budgets: BudgetDecided[] = [],
): LineAnswer {
  const money = (minor: bigint) => fromMinor(minor, l.currency);
  // The line's outcome is the worst of its bucket's and its control budgets'; the reason names the first that
  // refuses (or warns) when the bucket itself allows it.
  const outcome = decideRequest([d.outcome, ...budgets.map((b) => b.decision.outcome)]);
  const decisive = budgets.find((b) => b.decision.outcome === outcome);
  const reason =
    d.outcome === outcome || !decisive
      ? d.reason
      : `control budget ${decisive.control.key}: ${decisive.decision.reason}`;
  return {
    lineNo,
    account: l.account,
    costCenter: l.costCenter,
    period: l.period,
    amount: { amount: money(toMinor(l.amount, l.currency)), currency: l.currency },
    outcome,
    reason,
    controlLevel: c.level,
    tolerancePercent: c.tolerancePercent,
    pooledPeriods: c.pooledPeriods,
    budget: money(budget),
    availableBefore: money(d.availableBefore),
    availableAfter: money(d.availableAfter),
    controlBudgets: budgets.map((b) => ({
      controlBudget: b.control.key,
      code: b.control.code,
      values: b.control.values,
      outcome: b.decision.outcome,
      reason: b.decision.reason,
      controlLevel: b.control.level,
      tolerancePercent: b.control.tolerancePercent,
      pooledPeriods: b.control.pooledPeriods,
      counted: money(b.counted),
      budget: money(b.budget),
      availableBefore: money(b.decision.availableBefore),
      availableAfter: money(b.decision.availableAfter),
    })),
  };
}

/** The pooled budget and consumption (actual + committed + reserved) of a line's bucket, in minor units. */
async function pooled(tx: DbOrTx, legalEntity: string, l: FundsLine, periods: string[]) {
  const [row] = (await tx.execute(sql`
    select coalesce(sum(budget), 0)::text as budget,
           coalesce(sum(reserved + committed + actual), 0)::text as consumed
      from ${controlBalances}
     where ${bucketWhere(legalEntity, l)} and period in ${periodList(periods)}`)) as unknown as {
    budget: string;
    consumed: string;
  }[];
  return { budget: toMinor(row!.budget, l.currency), consumed: toMinor(row!.consumed, l.currency) };
}

/** A control budget's budget and consumption over its pooled periods, in minor units. */
async function pooledBudget(tx: DbOrTx, legalEntity: string, c: BudgetControl, currency: string) {
  const [row] = (await tx.execute(sql`
    select coalesce(sum(budget), 0)::text as budget,
           coalesce(sum(reserved + committed + actual), 0)::text as consumed
      from ${controlBudgetBalances}
     where legal_entity = ${legalEntity} and budget_key = ${c.key} and currency = ${currency}
       and period in ${periodList(c.pooledPeriods)}`)) as unknown as { budget: string; consumed: string }[];
  return { budget: toMinor(row!.budget, currency), consumed: toMinor(row!.consumed, currency) };
}

/** Answers whether the request would pass, reserving nothing (a read; the reservation decides for real). */
export async function checkFunds(
  db: DbOrTx,
  request: Omit<FundsRequest, 'idempotencyKey'>,
  controls: LineControl[],
) {
  const lines: LineAnswer[] = [];
  for (const [i, l] of request.lines.entries()) {
    const c = controls[i]!;
    const { budget, consumed } = await pooled(db, request.legalEntity, l, c.pooledPeriods);
    const requested = toMinor(l.amount, l.currency);
    const d = frozenDecision(
      await freezeOn(db, request.legalEntity, l.account, l.costCenter, l.dimensions),
      decideLine({ ...c, budget, consumed, requested }),
    );
    const budgets: BudgetDecided[] = [];
    for (const control of c.budgets ?? []) {
      const figures = await pooledBudget(db, request.legalEntity, control, l.currency);
      const counted = countedMinor(control, requested);
      budgets.push({
        control,
        budget: figures.budget,
        counted,
        decision: decideLine({ ...control, ...figures, requested: counted }),
      });
    }
    lines.push(answerLine(i + 1, l, c, d, budget, budgets));
  }
  return {
    legalEntity: request.legalEntity,
    outcome: decideRequest(lines.map((l) => l.outcome)),
    reserved: false,
    lines,
    decidedAt: new Date().toISOString(),
  } satisfies FundsAnswer;
}

/** A freeze in force rejects a line whatever its funds; the answer names the freeze. */
function frozenDecision(frozen: FreezeRow | undefined, decision: LineDecision): LineDecision {
  if (!frozen) return decision;
  const scope = [
    frozen.account && `account ${frozen.account}`,
    frozen.costCenter && `cost center ${frozen.costCenter}`,
    ...Object.entries(frozen.dimensions ?? {}).map(([d, v]) => `${d} ${v}`),
  ]
    .filter(Boolean)
    .join(', ');
  return {
    ...decision,
    outcome: 'rejected',
    reason: `frozen (${scope || 'the whole legal entity'}) by ${frozen.frozenBy} since ${frozen.frozenAt.toISOString()}: ${frozen.reason}`,
  };
}

/** What the database records of a decision: the figures each line was decided on, and its rule. */
const Override = z.object({
  overrideId: z.string(),
  requestedBy: z.string(),
  reason: z.string(),
  approvedBy: z.string(),
  approvedAt: z.string(),
});

const DecisionRecord = z.object({
  decidedAt: z.string(),
  reserved: z.boolean(),
  /** Set once a controller approved the rejected request over budget: its funds are held since. */
  override: Override.optional(),
  lines: z.array(
    z.object({
      lineNo: z.number().int(),
      /** Whether the database held this line's funds (before all-or-nothing undid a refused request). */
      taken: z.boolean(),
      budget: z.string(),
      consumed: z.string(),
      level: z.enum(CONTROL_LEVELS),
      toleranceHundredths: z.number().int(),
      pool: z.array(z.string()),
      frozen: z
        .object({
          account: z.string().nullable(),
          cost_center: z.string().nullable(),
          dimensions: z.record(z.string(), z.string()).nullable().optional(),
          frozen_by: z.string(),
          frozen_at: z.string(),
          reason: z.string(),
        })
        .nullable(),
      /** The control budgets the line fell in and the figures each decided on (absent before issue 22). */
      budgets: z
        .array(
          z.object({
            key: z.string(),
            code: z.string(),
            values: z.record(z.string(), z.string().nullable()),
            ok: z.boolean(),
            /** What the line counted for there (absent: its amount). */
            amount: z.string().optional(),
            budget: z.string(),
            consumed: z.string(),
            level: z.enum(CONTROL_LEVELS),
            toleranceHundredths: z.number().int(),
            pool: z.array(z.string()),
          }),
        )
        .default([]),
    }),
  ),
});
type DecisionRecord = z.infer<typeof DecisionRecord>;

/** The answer a decision record gives, line by line: the same record always renders the same answer. */
function render(request: FundsRequest, record: DecisionRecord): FundsAnswer {
  const lines = record.lines
    .map((r) => {
      const l = request.lines[r.lineNo - 1]!;
      const control: LineControl = {
        level: r.level,
        tolerancePercent: percentOfHundredths(r.toleranceHundredths),
        pooledPeriods: r.pool,
      };
      const budget = toMinor(r.budget, l.currency);
      const consumed = toMinor(r.consumed, l.currency);
      const frozen = r.frozen && {
        account: r.frozen.account,
        costCenter: r.frozen.cost_center,
        dimensions: r.frozen.dimensions ?? null,
        frozenBy: r.frozen.frozen_by,
        frozenAt: new Date(r.frozen.frozen_at),
        reason: r.frozen.reason,
      };
      const requested = toMinor(l.amount, l.currency);
      const decision = frozenDecision(
        (frozen as FreezeRow | null | undefined) ?? undefined,
        decideLine({ ...control, budget, consumed, requested }),
      );
      const budgets = r.budgets.map((b): BudgetDecided => {
        const c: BudgetControl = {
          key: b.key,
          code: b.code,
          values: b.values,
          level: b.level,
          tolerancePercent: percentOfHundredths(b.toleranceHundredths),
          pooledPeriods: b.pool,
        };
        const figures = { budget: toMinor(b.budget, l.currency), consumed: toMinor(b.consumed, l.currency) };
        const counted = b.amount === undefined ? requested : toMinor(b.amount, l.currency);
        const d = decideLine({ ...c, ...figures, requested: counted });
        if (b.ok !== (d.outcome !== 'rejected'))
          throw new Error(
            `budget control disagreement on line ${r.lineNo}, control budget ${b.key}: the database ${b.ok ? 'allowed' : 'refused'} it, the rule says ${d.outcome}`,
          );
        return { control: c, budget: figures.budget, counted, decision: d };
      });
      const line = answerLine(r.lineNo, l, control, decision, budget, budgets);
      // The database held the funds by its formula; the rules here explain it. Should they ever disagree, the
      // answer would misstate money: refuse to answer rather than say something the balances do not.
      if (r.taken !== (line.outcome !== 'rejected')) {
        throw new Error(
          `budget control disagreement on line ${r.lineNo}: the database ${r.taken ? 'held' : 'refused'} the funds, the rule says ${line.outcome}`,
        );
      }
      return line;
    })
    .sort((a, b) => a.lineNo - b.lineNo);
  return {
    legalEntity: request.legalEntity,
    outcome: decideRequest(lines.map((l) => l.outcome)),
    reserved: record.reserved,
    ...(record.override ? { override: record.override } : {}),
    lines,
    decidedAt: record.decidedAt,
  };
}

/**
 * Checks and reserves a request under its Idempotency-Key, all lines or none, in one round trip: the
 * database function closeloop_reserve_funds_batch (migration 0029, as a batch of one) claims the key, refuses
 * a line in a locked period or on an account or cost center not active then (ordered with closures by advisory
 * locks), locks the pooled balances in a fixed order (so requests never deadlock), holds the funds only while
 * the rule allows it and no freeze covers the bucket, and records the figures it decided on. A repeat of the key with the same
 * content returns that record (arriving concurrently, it waits for the first to commit); with other content
 * it is refused. A rejected request is recorded too, so its repeat is rejected the same way.
 */
export async function reserveFunds(
  db: Database,
  request: FundsRequest,
  controls: LineControl[],
): Promise<ReserveResult> {
  const [result] = await reserveFundsBatch(db, [{ request, controls }]);
  return result!;
}

/**
 * Decides requests in the order given, in one call of closeloop_reserve_funds_batch (migration 0029): each
 * on the balances the earlier ones left, each all or nothing; a result per request, in the same order.
 */
export async function reserveFundsBatch(
  db: Database,
  batch: { request: FundsRequest; controls: LineControl[] }[],
): Promise<ReserveResult[]> {
  const payload = batch.map(({ request, controls }) => ({
    requester: request.requester,
    key: request.idempotencyKey,
    hash: hashOf(request),
    legalEntity: request.legalEntity,
    correlationId: request.correlationId,
    lines: functionLines(request, controls),
    ttl: request.ttl,
  }));
  const [row] = (await db.execute(
    sql`select closeloop_reserve_funds_batch(${JSON.stringify(payload)}::jsonb) as results`,
  )) as unknown as { results: FunctionResult[] }[];
  return row!.results.map((r, i) => resultOf(batch[i]!.request, r));
}

type FunctionResult =
  | { kind: 'decided' | 'replayed'; record: unknown }
  | { kind: 'key_reused' }
  | { kind: 'period_locked'; periods: string[] }
  | { kind: 'inactive'; values: InactiveValue[] }
  | { kind: 'model_changed' };

/** The lines as the database function takes them: with their rule, in lock order (bucket, then period). */
function functionLines(request: FundsRequest, controls: LineControl[]) {
  return request.lines
    .map((l, i) => {
      const c = controls[i]!;
      return {
        lineNo: i + 1,
        ...l,
        level: c.level,
        toleranceHundredths: toleranceHundredths(c.tolerancePercent),
        scale: 10 ** minorUnitsOf(l.currency),
        pool: c.pooledPeriods,
        budgetsVersion: c.budgetsVersion ?? 0,
        dimensions: wholeCombination(l.account, l.costCenter, l.dimensions),
        budgets: (c.budgets ?? []).map((b) => ({
          key: b.key,
          code: b.code,
          values: b.values,
          level: b.level,
          toleranceHundredths: toleranceHundredths(b.tolerancePercent),
          pool: b.pooledPeriods,
          ...(b.indirectPercent
            ? { amount: fromMinor(countedMinor(b, toMinor(l.amount, l.currency)), l.currency) }
            : {}),
        })),
      };
    })
    .sort((a, b) =>
      `${a.account}|${a.costCenter}|${a.currency}|${a.period}`.localeCompare(
        `${b.account}|${b.costCenter}|${b.currency}|${b.period}`,
      ),
    );
}

function resultOf(request: FundsRequest, result: FunctionResult): ReserveResult {
  if (result.kind === 'key_reused') return { kind: 'key_reused' };
  if (result.kind === 'period_locked') return { kind: 'period_locked', periods: result.periods };
  if (result.kind === 'inactive') return { kind: 'inactive', values: result.values };
  if (result.kind === 'model_changed') return { kind: 'model_changed' };
  return { kind: result.kind, answer: render(request, DecisionRecord.parse(result.record)) };
}

/**
 * Reservations arriving together are decided together: while a batch is with the database, new requests
 * queue, and the next batch takes them all in one call of closeloop_reserve_funds_batch (migration 0029), which
 * decides them in arrival order with a fixed number of statements whatever the batch's size. Under load, one
 * commit serves many decisions, and a hot bucket's row is locked once per batch instead of once per request;
 * a lone request goes at once, as its own batch. Should a batch fail as a whole (a deadlock with another
 * writer), each of its requests is decided again on its own.
 */
export function createReservationQueue(db: Database, opts: { maxBatch?: number; inFlight?: number } = {}) {
  const maxBatch = opts.maxBatch ?? 200;
  const maxInFlight = opts.inFlight ?? 2;
  type Waiting = {
    request: FundsRequest;
    controls: LineControl[];
    resolve: (r: ReserveResult) => void;
    reject: (e: unknown) => void;
  };
  const queue: Waiting[] = [];
  let inFlight = 0;

  const flush = () => {
    while (inFlight < maxInFlight && queue.length) {
      const batch = queue.splice(0, maxBatch);
      inFlight++;
      void send(batch).finally(() => {
        inFlight--;
        flush();
      });
    }
  };

  async function send(batch: Waiting[]) {
    let results: ReserveResult[];
    try {
      results = await reserveFundsBatch(db, batch);
    } catch {
      await Promise.all(
        batch.map((w) =>
          reserveFunds(db, w.request, w.controls).then(w.resolve, (err: unknown) => w.reject(err)),
        ),
      );
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }

  return {
    reserve(request: FundsRequest, controls: LineControl[]): Promise<ReserveResult> {
      return new Promise((resolve, reject) => {
        queue.push({ request, controls, resolve, reject });
        flush();
      });
    },
  };
}

/**
 * The steps that give released amounts back to their balances, after a step named `released` returning the
 * released lines (several lines on one balance are summed first: an update touches a row once).
 */
const givenBack = sql`per_balance as (
      select legal_entity, account, cost_center, period, currency, sum(amount) as amount
        from released group by legal_entity, account, cost_center, period, currency
    ), given_back as (
      update control_balances cb set reserved = cb.reserved - p.amount, updated_at = now()
        from per_balance p
       where cb.legal_entity = p.legal_entity and cb.account = p.account and cb.cost_center = p.cost_center
         and cb.period = p.period and cb.currency = p.currency
      returning 1
    ), per_budget as (
      -- The control budgets each line held in when it was decided, whatever the model became since.
      select legal_entity, h->>'key' as budget_key, period, currency, sum((h->>'amount')::numeric) as amount
        from released, jsonb_array_elements(holds) h
       group by legal_entity, h->>'key', period, currency
    ), budgets_given_back as (
      update control_budget_balances cb set reserved = cb.reserved - p.amount, updated_at = now()
        from per_budget p
       where cb.legal_entity = p.legal_entity and cb.budget_key = p.budget_key and cb.period = p.period
         and cb.currency = p.currency
      returning 1
    )`;

/**
 * Gives back what a reservation still holds (the requisition was cancelled or withdrawn): in one statement,
 * the held lines turn released, the balances they held give the amounts back, and the request is marked
 * released. Returns the lines released; none when the key holds nothing (unknown, rejected or released).
 */
export async function releaseReservation(
  db: DbOrTx,
  r: { requester: string; idempotencyKey: string; legalEntity: string },
): Promise<{ account: string; costCenter: string; period: string; currency: string; amount: string }[]> {
  return (await db.execute(sql`
    with released as (
      update funds_reservations set status = 'released'
       where requester = ${r.requester} and idempotency_key = ${r.idempotencyKey}
         and legal_entity = ${r.legalEntity} and status = 'held'
      returning legal_entity, account, cost_center, period, currency, amount, holds
    ), ${givenBack}, request as (
      update funds_requests set status = 'released'
       where requester = ${r.requester} and idempotency_key = ${r.idempotencyKey} and exists (select 1 from released)
      returning requester
    )
    -- Every data-modifying step runs whether or not it is read; their rows are not needed here.
    select account, cost_center as "costCenter", period, currency, amount::text as amount from released`)) as unknown as {
    account: string;
    costCenter: string;
    period: string;
    currency: string;
    amount: string;
  }[];
}

/**
 * Gives back what expired reservations still hold, a batch at a time (oldest first; rows another run is
 * releasing are skipped, not waited for): in one statement the held lines turn released, the balances give
 * the amounts back and the requests are marked released. Each one is audited. Returns how many expired.
 */
export async function releaseExpiredReservations(
  db: Database,
  opts: { limit: number; correlationId: string },
) {
  return db.transaction(async (tx) => {
    const expired = (await tx.execute(sql`
      with expired as (
        select requester, idempotency_key, legal_entity, expires_at from funds_requests
         where status = 'reserved' and expires_at <= now()
         order by expires_at
         limit ${opts.limit}
           for update skip locked
      ), released as (
        update funds_reservations fr set status = 'released'
          from expired e
         where fr.requester = e.requester and fr.idempotency_key = e.idempotency_key and fr.status = 'held'
        returning fr.legal_entity, fr.account, fr.cost_center, fr.period, fr.currency, fr.amount, fr.holds
      ), ${givenBack}
      update funds_requests f set status = 'released'
        from expired e
       where f.requester = e.requester and f.idempotency_key = e.idempotency_key
      returning f.requester, f.idempotency_key as "idempotencyKey", f.legal_entity as "legalEntity",
                e.expires_at::text as "expiresAt"`)) as unknown as {
      requester: string;
      idempotencyKey: string;
      legalEntity: string;
      expiresAt: string;
    }[];
    for (const r of expired) {
      await appendAudit(tx, {
        stream: auditStream.control(r.legalEntity),
        actor: 'closeloop',
        action: 'reservation.expired',
        entityType: 'funds_request',
        entityId: `${r.requester}/${r.idempotencyKey}`,
        correlationId: opts.correlationId,
        eventKey: `reservation-expired:${r.requester}/${r.idempotencyKey}`,
        details: { requester: r.requester, idempotencyKey: r.idempotencyKey, expiresAt: r.expiresAt },
      });
    }
    return expired.length;
  });
}

/** A bucket's balances over its pooled periods, period by period, as they stand. */
export function bucketBalances(
  db: DbOrTx,
  legalEntity: string,
  bucket: { account: string; costCenter: string },
  periods: string[],
) {
  return db
    .select()
    .from(controlBalances)
    .where(
      and(
        eq(controlBalances.legalEntity, legalEntity),
        eq(controlBalances.account, bucket.account),
        eq(controlBalances.costCenter, bucket.costCenter),
        inArray(controlBalances.period, periods),
      ),
    )
    .orderBy(controlBalances.period, controlBalances.currency);
}

/**
 * What stands behind a bucket's figures over its pooled periods: the reservations holding funds there, the
 * source document lines committing or invoicing there, and the transfers that moved budget in or out (newest
 * first, at most `limit` of each).
 */
export async function bucketActivity(
  db: DbOrTx,
  legalEntity: string,
  bucket: { account: string; costCenter: string },
  periods: string[],
  limit: number,
) {
  const reservations = (await db.execute(sql`
    select r.requester, r.idempotency_key as "idempotencyKey", r.line_no as "lineNo", r.period,
           r.amount::text as amount, r.currency, f.created_at as "reservedAt", f.expires_at as "expiresAt",
           -- Funds held over budget are shown with the controller who approved it and why.
           case when o.id is null then null
                else jsonb_build_object('overrideId', o.id, 'requestedBy', o.requested_by, 'reason', o.reason,
                                        'approvedBy', o.decided_by, 'approvedAt', o.decided_at) end as override
      from funds_reservations r
      join funds_requests f on f.requester = r.requester and f.idempotency_key = r.idempotency_key
      left join funds_overrides o on o.requester = r.requester and o.idempotency_key = r.idempotency_key
                                 and o.status = 'approved'
     where r.legal_entity = ${legalEntity} and r.account = ${bucket.account} and r.cost_center = ${bucket.costCenter}
       and r.period in ${periodList(periods)} and r.status = 'held'
     order by f.created_at desc
     limit ${limit}`)) as unknown as Record<string, unknown>[];
  const documents = (await db.execute(sql`
    select source_system as "sourceSystem", document_id as "documentId", line_no as "lineNo", period,
           committed::text as committed, invoiced::text as invoiced, open_counted::text as "openCommitment",
           currency, closed, commit_sequence as "sequence", updated_at as "updatedAt"
      from consumption_lines
     where legal_entity = ${legalEntity} and account = ${bucket.account} and cost_center = ${bucket.costCenter}
       and period in ${periodList(periods)}
     order by updated_at desc
     limit ${limit}`)) as unknown as Record<string, unknown>[];
  // Amounts as the API speaks them: the currency's own decimals, with the currency.
  const money = (row: Record<string, unknown>, fields: string[]) => {
    const currency = String(row.currency);
    const out = { ...row };
    for (const f of fields) {
      if (row[f] != null)
        out[f] = { amount: fromMinor(toMinor(String(row[f]), currency), currency), currency };
    }
    delete out.currency;
    return out;
  };
  const transfers = await transfersTouching(db, legalEntity, bucket, periods, limit);
  return {
    reservations: reservations.map((r) => money(r, ['amount'])),
    documents: documents.map((d) => money(d, ['committed', 'invoiced', 'openCommitment'])),
    transfers: transfers.map((t) => money(t, ['amount'])),
  };
}
