import { isDeepStrictEqual } from 'node:util';
import { and, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { fromMinor, toMinor } from '../../domain/money';
import { type DbOrTx, type Tx } from '../client';
import { budgetTransfers } from '../schema';
import { appendAudit } from './audit';
import { controlBudgetsOfFacts, lockControlBudgets } from './control-budget-balances';
import { FUNDING } from '../../domain/projects';
import { wholeCombination } from '../../domain/control-budgets';

/**
 * Budget transfers (between two buckets) and supplements (to one): asked for under an Idempotency-Key,
 * approved through the authorize stage, applied to the control balances under a row lock, then published to
 * the ERP. The transfer row's status is the one place that says how far it got, and each step moves it
 * only from the status before, so a retried or reset workflow never applies or publishes twice.
 */

export type TransferRow = typeof budgetTransfers.$inferSelect;

export interface Bucket {
  account: string;
  costCenter: string;
  period: string;
  /** Its other dimensions (department, project…): the control budgets the side falls in. */
  dimensions?: Record<string, string>;
}

const otherDims = (d?: Record<string, string> | null) => (d && Object.keys(d).length ? d : null);

export interface TransferRequest {
  legalEntity: string;
  kind: 'transfer' | 'supplement';
  from?: Bucket;
  to: Bucket;
  amount: string;
  currency: string;
  reason: string;
  requestedBy: string;
  requestKey: string;
  correlationId: string;
}

export type TransferRequestOutcome =
  { kind: 'created' | 'replayed'; transfer: TransferRow } | { kind: 'key_reused'; transfer: TransferRow };

const sameContent = (row: TransferRow, r: TransferRequest) =>
  row.legalEntity === r.legalEntity &&
  row.kind === r.kind &&
  row.fromAccount === (r.from?.account ?? null) &&
  row.fromCostCenter === (r.from?.costCenter ?? null) &&
  row.fromPeriod === (r.from?.period ?? null) &&
  row.toAccount === r.to.account &&
  row.toCostCenter === r.to.costCenter &&
  row.toPeriod === r.to.period &&
  isDeepStrictEqual(row.fromDimensions ?? null, otherDims(r.from?.dimensions)) &&
  isDeepStrictEqual(row.toDimensions ?? null, otherDims(r.to.dimensions)) &&
  row.currency === r.currency &&
  toMinor(row.amount, row.currency) === toMinor(r.amount, r.currency) &&
  row.reason === r.reason;

/** Records a transfer awaiting approval; the same caller and key again returns the first one. */
export async function requestTransfer(tx: Tx, r: TransferRequest): Promise<TransferRequestOutcome> {
  const [created] = await tx
    .insert(budgetTransfers)
    .values({
      legalEntity: r.legalEntity,
      kind: r.kind,
      fromAccount: r.from?.account,
      fromCostCenter: r.from?.costCenter,
      fromPeriod: r.from?.period,
      toAccount: r.to.account,
      toCostCenter: r.to.costCenter,
      toPeriod: r.to.period,
      fromDimensions: otherDims(r.from?.dimensions),
      toDimensions: otherDims(r.to.dimensions),
      amount: r.amount,
      currency: r.currency,
      reason: r.reason,
      requestedBy: r.requestedBy,
      requestKey: r.requestKey,
      correlationId: r.correlationId,
    })
    .onConflictDoNothing({ target: [budgetTransfers.requestedBy, budgetTransfers.requestKey] })
    .returning();
  if (created) {
    await auditTransfer(tx, created, r.requestedBy, 'transfer.requested', {});
    return { kind: 'created', transfer: created };
  }
  const [existing] = await tx
    .select()
    .from(budgetTransfers)
    .where(and(eq(budgetTransfers.requestedBy, r.requestedBy), eq(budgetTransfers.requestKey, r.requestKey)));
  return { kind: sameContent(existing!, r) ? 'replayed' : 'key_reused', transfer: existing! };
}

export function transferById(db: DbOrTx, id: string) {
  return db
    .select()
    .from(budgetTransfers)
    .where(eq(budgetTransfers.id, id))
    .then((rows) => rows[0]);
}

export interface TransferDecision {
  transferId: string;
  decision: 'approve' | 'reject';
  decidedBy: string;
  comment?: string;
  decidedAt: Date;
  correlationId: string;
}

/**
 * Records the approver's decision, and on approval applies it to the control balances, in one transaction:
 * the transfer row is locked by moving it out of awaiting_approval (a second decision finds nothing to
 * move), the source gives the amount only while it has that much available (budget less reserved,
 * committed and actual, in its own period), and the target takes it. A source short of funds leaves the
 * transfer refused, with the reason, and no balance changed. Deciding again changes nothing.
 */
export async function decideTransfer(tx: Tx, d: TransferDecision): Promise<TransferRow> {
  const decided = { decidedBy: d.decidedBy, decisionComment: d.comment, decidedAt: d.decidedAt };
  const details = {
    decidedBy: d.decidedBy,
    comment: d.comment ?? null,
    decidedAt: d.decidedAt.toISOString(),
  };
  if (d.decision === 'reject') {
    const [row] = await tx
      .update(budgetTransfers)
      .set({ status: 'rejected', ...decided })
      .where(and(eq(budgetTransfers.id, d.transferId), eq(budgetTransfers.status, 'awaiting_approval')))
      .returning();
    if (row) await auditTransfer(tx, row, d.decidedBy, 'transfer.rejected', details);
    return row ?? (await transferById(tx, d.transferId))!;
  }
  const [t] = await tx
    .update(budgetTransfers)
    .set({ status: 'applied', appliedAt: sql`now()`, ...decided })
    .where(and(eq(budgetTransfers.id, d.transferId), eq(budgetTransfers.status, 'awaiting_approval')))
    .returning();
  if (!t) return (await transferById(tx, d.transferId))!;
  // The control budgets each side falls in move first (budgets before buckets, as everywhere), then the source
  // bucket gives; a source short of the amount refuses the transfer, and the savepoint undoes what moved.
  const short = await tx
    .transaction(async (sp) => {
      const shortOf = await moveControlBudgets(sp, t);
      if (shortOf) throw new ShortOf(shortOf);
      if (t.kind !== 'transfer') return;
      const given = await sp.execute(sql`
        update control_balances
           set budget = budget - ${t.amount}::numeric, transferred = transferred - ${t.amount}::numeric, updated_at = now()
         where legal_entity = ${t.legalEntity} and account = ${t.fromAccount} and cost_center = ${t.fromCostCenter}
           and period = ${t.fromPeriod} and currency = ${t.currency}
           and budget - reserved - committed - actual >= ${t.amount}::numeric
        returning 1`);
      if (!given.length)
        throw new ShortOf(
          `${t.fromAccount} / ${t.fromCostCenter} / ${t.fromPeriod} has less than ${fromMinor(toMinor(t.amount, t.currency), t.currency)} ${t.currency} available to give`,
        );
    })
    .then(() => undefined)
    .catch((err: unknown) => {
      if (err instanceof ShortOf) return err.message;
      throw err;
    });
  if (short) {
    const [refused] = await tx
      .update(budgetTransfers)
      .set({ status: 'refused', appliedAt: null, outcomeReason: short })
      .where(eq(budgetTransfers.id, t.id))
      .returning();
    await auditTransfer(tx, refused!, d.decidedBy, 'transfer.refused', { ...details, reason: short });
    return refused!;
  }
  await tx.execute(sql`
    insert into control_balances (legal_entity, account, cost_center, period, currency, budget, transferred)
    values (${t.legalEntity}, ${t.toAccount}, ${t.toCostCenter}, ${t.toPeriod}, ${t.currency}, ${t.amount}::numeric, ${t.amount}::numeric)
    on conflict (legal_entity, account, cost_center, period, currency)
    do update set budget = control_balances.budget + excluded.budget,
                  transferred = control_balances.transferred + excluded.transferred, updated_at = now()`);
  await auditTransfer(tx, t, d.decidedBy, 'transfer.applied', details);
  return t;
}

class ShortOf extends Error {}

/**
 * Moves a transfer's amount between the control budgets its sides fall in (a project's funding is its award,
 * never moved): each budget of the source gives it in the source's period only while it has that much
 * available there; each of the target takes it. A budget both sides fall in, in one period, does not move.
 * Returns why a source budget could not give, or nothing when all moved.
 */
async function moveControlBudgets(tx: Tx, t: TransferRow): Promise<string | undefined> {
  const sides = [
    ...(t.kind === 'transfer'
      ? [
          {
            combination: wholeCombination(t.fromAccount!, t.fromCostCenter!, t.fromDimensions),
            period: t.fromPeriod!,
            sign: -1n,
          },
        ]
      : []),
    {
      combination: wholeCombination(t.toAccount, t.toCostCenter, t.toDimensions),
      period: t.toPeriod,
      sign: 1n,
    },
  ];
  await lockControlBudgets(tx, t.legalEntity, 'shared');
  const budgets = await controlBudgetsOfFacts(
    tx,
    t.legalEntity,
    sides.map((s) => ({ dimensions: s.combination, period: s.period })),
  );
  const amount = toMinor(t.amount, t.currency);
  const moves = new Map<
    string,
    { key: string; code: string; values: unknown; period: string; delta: bigint }
  >();
  sides.forEach((side, i) => {
    for (const b of budgets[i]!.filter((x) => x.code !== FUNDING)) {
      const k = `${b.key}\u0000${side.period}`;
      const m = moves.get(k) ?? {
        key: b.key,
        code: b.code,
        values: b.values,
        period: side.period,
        delta: 0n,
      };
      m.delta += side.sign * amount;
      moves.set(k, m);
    }
  });
  for (const m of [...moves.values()]
    .filter((x) => x.delta !== 0n)
    .sort((a, b) => (`${a.key}|${a.period}` < `${b.key}|${b.period}` ? -1 : 1))) {
    const delta = fromMinor(m.delta, t.currency);
    if (m.delta < 0n) {
      const given = await tx.execute(sql`
        update control_budget_balances set budget = budget + ${delta}::numeric, updated_at = now()
         where legal_entity = ${t.legalEntity} and budget_key = ${m.key} and period = ${m.period}
           and currency = ${t.currency} and budget - reserved - committed - actual + ${delta}::numeric >= 0
        returning 1`);
      if (!given.length)
        return `control budget ${m.key} has less than ${fromMinor(-m.delta, t.currency)} ${t.currency} available in ${m.period} to give`;
    } else
      await tx.execute(sql`
        insert into control_budget_balances (legal_entity, budget_key, code, key_values, period, currency, budget, updated_at)
        values (${t.legalEntity}, ${m.key}, ${m.code}, ${JSON.stringify(m.values)}::jsonb, ${m.period}, ${t.currency},
                ${delta}::numeric, now())
        on conflict (legal_entity, budget_key, period, currency)
        do update set budget = control_budget_balances.budget + excluded.budget, updated_at = now()`);
  }
  return undefined;
}

/** Nobody decided in time: the transfer expires, audited, and no balance changed. */
export async function expireTransfer(tx: Tx, o: { transferId: string }) {
  const [row] = await tx
    .update(budgetTransfers)
    .set({ status: 'expired', outcomeReason: 'no approver decided in time' })
    .where(and(eq(budgetTransfers.id, o.transferId), eq(budgetTransfers.status, 'awaiting_approval')))
    .returning();
  if (row) await auditTransfer(tx, row, 'closeloop', 'transfer.expired', {});
  return row ?? (await transferById(tx, o.transferId))!;
}

/** The ERP holds the transfer's budget register entry: recorded once, with its document number. */
export async function markTransferPublished(tx: Tx, p: { transferId: string; documents: string[] }) {
  const [row] = await tx
    .update(budgetTransfers)
    .set({ status: 'published', publishedAt: sql`now()`, erpDocument: p.documents.join(', ') })
    .where(and(eq(budgetTransfers.id, p.transferId), eq(budgetTransfers.status, 'applied')))
    .returning();
  if (row) await auditTransfer(tx, row, 'closeloop', 'transfer.published', { documents: p.documents });
  return row ?? (await transferById(tx, p.transferId))!;
}

/** Transfers in force that moved budget into or out of a bucket, over its pooled periods (newest first). */
export function transfersTouching(
  db: DbOrTx,
  legalEntity: string,
  bucket: { account: string; costCenter: string },
  periods: string[],
  limit: number,
) {
  const inPeriods = sql`(${sql.join(
    periods.map((p) => sql`${p}`),
    sql`, `,
  )})`;
  return db.execute(sql`
    select id, kind, status, amount::text as amount, currency, reason, requested_by as "requestedBy",
           decided_by as "decidedBy", applied_at as "appliedAt", erp_document as "erpDocument",
           case when to_account = ${bucket.account} and to_cost_center = ${bucket.costCenter} then 'in' else 'out' end as direction,
           case when to_account = ${bucket.account} and to_cost_center = ${bucket.costCenter} then to_period else from_period end as period
      from budget_transfers
     where legal_entity = ${legalEntity} and status in ('applied', 'published')
       and ((to_account = ${bucket.account} and to_cost_center = ${bucket.costCenter}
             and to_period in ${inPeriods})
         or (from_account = ${bucket.account} and from_cost_center = ${bucket.costCenter}
             and from_period in ${inPeriods}))
     order by applied_at desc
     limit ${limit}`) as unknown as Promise<Record<string, unknown>[]>;
}

function auditTransfer(
  tx: Tx,
  row: TransferRow,
  actor: string,
  action: string,
  details: Record<string, unknown>,
) {
  return appendAudit(tx, {
    stream: auditStream.control(row.legalEntity),
    actor,
    action,
    entityType: 'budget_transfer',
    entityId: row.id,
    correlationId: row.correlationId,
    eventKey: `${action}:${row.id}`,
    details: {
      kind: row.kind,
      from: row.fromAccount && {
        account: row.fromAccount,
        costCenter: row.fromCostCenter,
        period: row.fromPeriod,
      },
      to: { account: row.toAccount, costCenter: row.toCostCenter, period: row.toPeriod },
      amount: { amount: row.amount, currency: row.currency },
      reason: row.reason,
      ...details,
    },
  });
}
