import { createHash } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  decideLine,
  decideRequest,
  type ControlLevel,
  type LineDecision,
  type LineOutcome,
} from '../../domain/budget-control';
import { fromMinor, minorUnitsOf, toMinor } from '../../domain/money';
import { type Database, type DbOrTx, type Tx } from '../client';
import { controlBalances, fundsRequests, fundsReservations } from '../schema';
import { freezeOn, frozenBucket, type FreezeRow } from './freezes';

/**
 * The synchronous budget check and reservation. One short transaction decides a whole request: its
 * idempotency record, the funds check of every line and the reservations commit together or not at all.
 * The database decides each line: the pooled balances are locked (in a fixed order, so requests never
 * deadlock) and the reservation is one conditional update that only applies while the funds allow it.
 */

export interface FundsLine {
  account: string;
  costCenter: string;
  period: string;
  amount: string;
  currency: string;
}

/** What the control model says about a line: its rule and the periods its funds are pooled over. */
export interface LineControl {
  level: ControlLevel;
  tolerancePercent: string;
  pooledPeriods: string[];
}

export interface FundsRequest {
  requester: string;
  idempotencyKey: string;
  legalEntity: string;
  correlationId: string;
  lines: FundsLine[];
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
}

export interface FundsAnswer {
  legalEntity: string;
  outcome: LineOutcome;
  /** True when the funds are now held under the request's key. */
  reserved: boolean;
  lines: LineAnswer[];
  decidedAt: string;
}

export type ReserveResult =
  | { kind: 'decided'; answer: FundsAnswer }
  | { kind: 'replayed'; answer: FundsAnswer }
  | { kind: 'key_reused' };

const hashOf = (r: FundsRequest) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        r.legalEntity,
        r.lines.map((l) => [l.account, l.costCenter, l.period, l.amount, l.currency]),
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

function answerLine(
  lineNo: number,
  l: FundsLine,
  c: LineControl,
  d: LineDecision,
  budget: bigint,
): LineAnswer {
  const money = (minor: bigint) => fromMinor(minor, l.currency);
  return {
    lineNo,
    account: l.account,
    costCenter: l.costCenter,
    period: l.period,
    amount: { amount: money(toMinor(l.amount, l.currency)), currency: l.currency },
    outcome: d.outcome,
    reason: d.reason,
    controlLevel: c.level,
    tolerancePercent: c.tolerancePercent,
    pooledPeriods: c.pooledPeriods,
    budget: money(budget),
    availableBefore: money(d.availableBefore),
    availableAfter: money(d.availableAfter),
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
    const d = frozenDecision(
      await freezeOn(db, request.legalEntity, l.account, l.costCenter),
      decideLine({ ...c, budget, consumed, requested: toMinor(l.amount, l.currency) }),
    );
    lines.push(answerLine(i + 1, l, c, d, budget));
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
  ]
    .filter(Boolean)
    .join(', ');
  return {
    ...decision,
    outcome: 'rejected',
    reason: `frozen (${scope || 'the whole legal entity'}) by ${frozen.frozenBy} since ${frozen.frozenAt.toISOString()}: ${frozen.reason}`,
  };
}

class RequestRejected extends Error {
  constructor(readonly lines: LineAnswer[]) {
    super('rejected');
  }
}

/**
 * Reserves one line: the pooled balances are locked, then the line's balance takes the reservation in one
 * conditional update that applies only when an absolute rule's limit still holds it. Returns the decision.
 */
async function reserveLine(tx: Tx, legalEntity: string, l: FundsLine, c: LineControl) {
  const requested = toMinor(l.amount, l.currency);
  const scale = 10 ** minorUnitsOf(l.currency);
  const [whole, fraction = ''] = c.tolerancePercent.split('.');
  const toleranceHundredths = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  // The balance row must exist for the update to hold the funds; both are sent together, in this order.
  const ensure = tx.execute(sql`
    insert into ${controlBalances} (legal_entity, account, cost_center, period, currency)
    values (${legalEntity}, ${l.account}, ${l.costCenter}, ${l.period}, ${l.currency})
    on conflict do nothing`);
  const take = tx.execute(sql`
    with pool as (
      select budget, reserved, committed, actual
        from ${controlBalances}
       where ${bucketWhere(legalEntity, l)} and period in ${periodList(c.pooledPeriods)}
       order by period
         for update
    ), totals as (
      select coalesce(sum(budget), 0) as budget, coalesce(sum(reserved + committed + actual), 0) as consumed
        from pool
    )
    update ${controlBalances} as cb
       set reserved = cb.reserved + ${l.amount}::numeric, updated_at = now()
      from totals
     where cb.legal_entity = ${legalEntity} and cb.account = ${l.account} and cb.cost_center = ${l.costCenter}
       and cb.period = ${l.period} and cb.currency = ${l.currency}
       and not ${frozenBucket(legalEntity, l.account, l.costCenter)}
       and (${c.level !== 'absolute'}
            or totals.consumed + ${l.amount}::numeric
               <= floor(totals.budget * (10000 + ${toleranceHundredths}) / 10000 * ${scale}) / ${scale})
    returning totals.budget::text as budget, totals.consumed::text as consumed`);
  const applied = (await Promise.all([ensure, take]))[1] as unknown as { budget: string; consumed: string }[];
  // Not applied: a freeze or the limit refused it. The pooled rows are locked by this transaction, so reading
  // them now gives exactly the figures the update was refused on.
  const figures = applied[0]
    ? { budget: toMinor(applied[0].budget, l.currency), consumed: toMinor(applied[0].consumed, l.currency) }
    : await pooled(tx, legalEntity, l, c.pooledPeriods);
  const frozen = applied[0] ? undefined : await freezeOn(tx, legalEntity, l.account, l.costCenter);
  const decision = frozenDecision(frozen, decideLine({ ...c, ...figures, requested }));
  if (!applied[0] && decision.outcome !== 'rejected') {
    throw new Error(
      `the database refused a reservation the rule allows (${l.account}/${l.costCenter}/${l.period})`,
    );
  }
  return { decision, budget: figures.budget };
}

/**
 * Checks and reserves a request under its Idempotency-Key, all lines or none. A repeat of the key with the
 * same content returns the stored answer (arriving concurrently, it waits for the first to commit); with
 * other content it is refused. A rejected request is stored too, so its repeat is rejected the same way.
 */
export async function reserveFunds(
  db: Database,
  request: FundsRequest,
  controls: LineControl[],
): Promise<ReserveResult> {
  const requestHash = hashOf(request);
  return db.transaction(async (tx) => {
    const claimed = await tx
      .insert(fundsRequests)
      .values({
        requester: request.requester,
        idempotencyKey: request.idempotencyKey,
        requestHash,
        legalEntity: request.legalEntity,
        outcome: 'approved',
        status: 'reserved',
        answer: {},
        correlationId: request.correlationId,
      })
      .onConflictDoNothing()
      .returning({ key: fundsRequests.idempotencyKey });
    if (!claimed.length) {
      const [earlier] = await tx
        .select()
        .from(fundsRequests)
        .where(
          and(
            eq(fundsRequests.requester, request.requester),
            eq(fundsRequests.idempotencyKey, request.idempotencyKey),
          ),
        );
      return earlier!.requestHash === requestHash
        ? { kind: 'replayed', answer: earlier!.answer as FundsAnswer }
        : { kind: 'key_reused' };
    }

    // Lines in one fixed order (bucket, then period), so two requests lock shared balances alike.
    const order = request.lines
      .map((l, i) => ({ l, i }))
      .sort((a, b) =>
        `${a.l.account}|${a.l.costCenter}|${a.l.currency}|${a.l.period}`.localeCompare(
          `${b.l.account}|${b.l.costCenter}|${b.l.currency}|${b.l.period}`,
        ),
      );
    const reserveAll = async (t: Tx) => {
      const answered: LineAnswer[] = new Array<LineAnswer>(request.lines.length);
      for (const { l, i } of order) {
        const { decision, budget } = await reserveLine(t, request.legalEntity, l, controls[i]!);
        answered[i] = answerLine(i + 1, l, controls[i]!, decision, budget);
      }
      // All or nothing: one refused line undoes the others' reservations.
      if (answered.some((a) => a.outcome === 'rejected')) throw new RequestRejected(answered);
      return answered;
    };
    let lines: LineAnswer[];
    try {
      // One line has nothing to undo when it is refused (its update did not apply): no savepoint needed.
      lines = request.lines.length === 1 ? await reserveAll(tx) : await tx.transaction(reserveAll);
    } catch (err) {
      if (!(err instanceof RequestRejected)) throw err;
      lines = err.lines;
    }
    const outcome = decideRequest(lines.map((l) => l.outcome));
    const answer: FundsAnswer = {
      legalEntity: request.legalEntity,
      outcome,
      reserved: outcome !== 'rejected',
      lines,
      decidedAt: new Date().toISOString(),
    };
    // Sent together: the connection pipelines them, in order, in one round trip.
    const record = tx
      .update(fundsRequests)
      .set({ outcome, status: outcome === 'rejected' ? 'rejected' : 'reserved', answer })
      .where(
        and(
          eq(fundsRequests.requester, request.requester),
          eq(fundsRequests.idempotencyKey, request.idempotencyKey),
        ),
      );
    const hold = answer.reserved
      ? tx.insert(fundsReservations).values(
          request.lines.map((l, i) => ({
            requester: request.requester,
            idempotencyKey: request.idempotencyKey,
            lineNo: i + 1,
            legalEntity: request.legalEntity,
            account: l.account,
            costCenter: l.costCenter,
            period: l.period,
            currency: l.currency,
            amount: l.amount,
          })),
        )
      : undefined;
    await Promise.all([record, hold]);
    return { kind: 'decided', answer };
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
