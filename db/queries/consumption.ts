import { and, eq, sql } from 'drizzle-orm';
import { wholeCombination } from '../../domain/control-budgets';
import { auditStream } from '../../domain/identity';
import { fromMinor, toMinor } from '../../domain/money';
import { type Tx } from '../client';
import { consumptionEvents, consumptionLines } from '../schema';
import { appendAudit } from './audit';
import { addToBalance } from './balances';
import { releaseReservation } from './budget-control';

/**
 * The consumption lifecycle of a source document line (a purchase-order line): its commitment (latest by the
 * source's sequence; it consumes the requisition's reservation), the invoices that turn it into actuals, and
 * its close. Each event is kept once by its business identity; the line's state is changed under its row
 * lock, and the balances move by exactly the difference the event makes. So events may come late, twice or
 * out of order, and the balances still end right: the open commitment is always the latest commitment less
 * what was invoiced, never below zero, and nothing once the line is closed.
 */

export type ConsumptionEventType = 'committed' | 'invoiced' | 'closed';

export interface ConsumptionEvent {
  legalEntity: string;
  sourceSystem: string;
  documentId: string;
  lineNo: number;
  type: ConsumptionEventType;
  /** committed: the source's version of the line; a lower one arriving late changes nothing. */
  sequence?: number;
  /** invoiced: the invoice (and line) it comes from; each counts once. */
  invoiceId?: string;
  account?: string;
  costCenter?: string;
  period?: string;
  /** The line's other dimensions (department, project…), counted in the control budgets they fall in. */
  dimensions?: Record<string, string>;
  amount?: { amount: string; currency: string };
  /** committed: the reservation (requisition) this line consumes. */
  reservation?: { requester: string; idempotencyKey: string };
  /**
   * invoiced: whether the invoice counts as actual spend here (entity source `events`), or only relieves the
   * commitment because the ERP's ledger brings the actual (source `mixed`).
   */
  invoicedIsActual: boolean;
  by: string;
  correlationId: string;
}

export type ConsumptionOutcome = 'applied' | 'duplicate' | 'stale';

const eventRef = (e: ConsumptionEvent) =>
  e.type === 'committed' ? `v${e.sequence}` : e.type === 'invoiced' ? e.invoiceId! : 'close';

export async function applyConsumptionEvent(tx: Tx, e: ConsumptionEvent): Promise<ConsumptionOutcome> {
  const key = {
    legalEntity: e.legalEntity,
    sourceSystem: e.sourceSystem,
    documentId: e.documentId,
    lineNo: e.lineNo,
  };
  const [fresh] = await tx
    .insert(consumptionEvents)
    .values({ ...key, type: e.type, eventRef: eventRef(e), payload: e, outcome: 'applied' })
    .onConflictDoNothing()
    .returning({ ref: consumptionEvents.eventRef });
  if (!fresh) return 'duplicate';

  await tx.insert(consumptionLines).values(key).onConflictDoNothing();
  const where = and(
    eq(consumptionLines.legalEntity, key.legalEntity),
    eq(consumptionLines.sourceSystem, key.sourceSystem),
    eq(consumptionLines.documentId, key.documentId),
    eq(consumptionLines.lineNo, key.lineNo),
  );
  const [line] = await tx.select().from(consumptionLines).where(where).for('update');
  const before = line!;
  const next = { ...before };
  let outcome: ConsumptionOutcome = 'applied';

  if (e.type === 'committed') {
    if (e.sequence! > before.commitSequence) {
      Object.assign(next, {
        committed: e.amount!.amount,
        currency: e.amount!.currency,
        commitSequence: e.sequence!,
        account: e.account!,
        costCenter: e.costCenter!,
        period: e.period!,
        dimensions: wholeCombination(e.account!, e.costCenter!, e.dimensions),
      });
    } else outcome = 'stale';
    // Which requisition the line consumes is identity, not a version: a late first version still brings it.
    if (e.reservation && !next.reservationKey) {
      next.reservationRequester = e.reservation.requester;
      next.reservationKey = e.reservation.idempotencyKey;
    }
  } else if (e.type === 'invoiced') {
    const currency = e.amount!.currency;
    next.invoiced = fromMinor(
      toMinor(before.invoiced, currency) + toMinor(e.amount!.amount, currency),
      currency,
    );
    next.currency ??= currency;
    if (e.invoicedIsActual)
      await addToBalance(
        tx,
        {
          legalEntity: e.legalEntity,
          account: e.account ?? before.account!,
          costCenter: e.costCenter ?? before.costCenter!,
          period: e.period!,
          currency,
          dimensions: e.account
            ? wholeCombination(e.account, e.costCenter ?? before.costCenter!, e.dimensions)
            : (before.dimensions ?? undefined),
        },
        'actual',
        e.amount!.amount,
      );
  } else {
    next.closed = true;
  }

  // The open commitment: the latest commitment less what was invoiced, never below zero; none once closed.
  const currency = next.currency ?? e.amount?.currency;
  if (currency && next.account && next.costCenter && next.period) {
    const open = next.closed
      ? 0n
      : ((c: bigint) => (c > 0n ? c : 0n))(
          toMinor(next.committed, currency) - toMinor(next.invoiced, currency),
        );
    const counted = toMinor(before.openCounted, currency);
    const moved =
      before.account !== next.account ||
      before.costCenter !== next.costCenter ||
      before.period !== next.period ||
      JSON.stringify(before.dimensions) !== JSON.stringify(next.dimensions);
    if (moved || open !== counted) {
      if (counted !== 0n && before.account && before.costCenter && before.period) {
        await addToBalance(
          tx,
          {
            legalEntity: e.legalEntity,
            account: before.account,
            costCenter: before.costCenter,
            period: before.period,
            currency,
            dimensions: before.dimensions ?? undefined,
          },
          'committed',
          fromMinor(-counted, currency),
        );
      }
      if (open !== 0n) {
        await addToBalance(
          tx,
          {
            legalEntity: e.legalEntity,
            account: next.account,
            costCenter: next.costCenter,
            period: next.period,
            currency,
            dimensions: next.dimensions ?? undefined,
          },
          'committed',
          fromMinor(open, currency),
        );
      }
    }
    next.openCounted = fromMinor(open, currency);
  }
  await tx
    .update(consumptionLines)
    .set({ ...next, updatedAt: sql`now()` })
    .where(where);

  // The requisition's reservation gives way to the commitment (or to the line's close), once.
  if (next.reservationRequester && next.reservationKey && (next.commitSequence >= 0 || next.closed)) {
    await releaseReservation(tx, {
      requester: next.reservationRequester,
      idempotencyKey: next.reservationKey,
      legalEntity: e.legalEntity,
    });
  }
  if (outcome !== 'applied') {
    await tx
      .update(consumptionEvents)
      .set({ outcome })
      .where(
        and(
          eq(consumptionEvents.legalEntity, key.legalEntity),
          eq(consumptionEvents.sourceSystem, key.sourceSystem),
          eq(consumptionEvents.documentId, key.documentId),
          eq(consumptionEvents.lineNo, key.lineNo),
          eq(consumptionEvents.type, e.type),
          eq(consumptionEvents.eventRef, eventRef(e)),
        ),
      );
  }
  await appendAudit(tx, {
    stream: auditStream.control(e.legalEntity),
    actor: e.by,
    action: `consumption.${e.type}`,
    entityType: 'consumption_line',
    entityId: `${e.sourceSystem}:${e.documentId}:${e.lineNo}`,
    correlationId: e.correlationId,
    eventKey: `consumption:${e.legalEntity}:${e.sourceSystem}:${e.documentId}:${e.lineNo}:${e.type}:${eventRef(e)}`,
    details: {
      outcome,
      amount: e.amount ?? null,
      period: e.period ?? null,
      openCommitment: next.openCounted,
    },
  });
  return outcome;
}
