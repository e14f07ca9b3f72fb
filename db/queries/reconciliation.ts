import { and, asc, eq } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { money } from '../../domain/money';
import { type Reconciliation } from '../../domain/reconciliation';
import { type DbOrTx, type Tx } from '../client';
import { reconciliationExceptions, reconciliationResults, reconciliationRuns } from '../schema';
import { appendAudit } from './audit';

/** Numeric columns come back with the column's six decimals; present them in the currency's own scale. */
const fmt = (amount: string, currency: string) => money(amount, currency).amount;

export interface UnmappedTargetValue {
  values: Record<string, string>;
  date: string;
  amount: string;
  currency: string;
  reason: string;
}

/**
 * Stores a reconciliation of (version, target), replacing the previous run as a whole so a re-run after a
 * fix shows the new truth, with its audit entry.
 */
export async function storeReconciliation(
  tx: Tx,
  r: {
    versionId: string;
    legalEntity: string;
    target: string;
    currency: string;
    correlationId: string;
    reconciliation: Reconciliation;
    unmapped: UnmappedTargetValue[];
  },
): Promise<{ runId: string; exceptionCount: number }> {
  const rec = r.reconciliation;
  const exceptionCount = rec.exceptions.length + r.unmapped.length;
  await tx
    .delete(reconciliationRuns)
    .where(and(eq(reconciliationRuns.versionId, r.versionId), eq(reconciliationRuns.target, r.target)));
  const [run] = await tx
    .insert(reconciliationRuns)
    .values({
      versionId: r.versionId,
      target: r.target,
      legalEntity: r.legalEntity,
      currency: r.currency,
      sourceTotal: rec.sourceTotal,
      targetTotal: rec.targetTotal,
      matchedCount: rec.matchedCount,
      mismatchedCount: rec.mismatchedCount,
      exceptionCount,
      correlationId: r.correlationId,
    })
    .returning({ id: reconciliationRuns.id });
  const runId = run!.id;
  if (rec.lines.length) {
    await tx
      .insert(reconciliationResults)
      .values(rec.lines.map((l) => ({ runId, ...l, currency: r.currency })));
  }
  const exceptions = [
    ...rec.exceptions.map((e) => ({
      runId,
      kind: e.kind,
      period: e.period,
      account: e.account,
      details: e,
      correlationId: r.correlationId,
    })),
    ...r.unmapped.map((u) => ({
      runId,
      kind: 'unmapped_target_value' as const,
      period: null,
      account: null,
      details: u,
      correlationId: r.correlationId,
    })),
  ];
  if (exceptions.length) await tx.insert(reconciliationExceptions).values(exceptions);
  await appendAudit(tx, {
    stream: auditStream.budget(r.legalEntity),
    actor: 'closeloop',
    action: 'reconciliation.completed',
    entityType: 'budget_version',
    entityId: r.versionId,
    correlationId: r.correlationId,
    eventKey: `reconciliation:${runId}`,
    details: { target: r.target, sourceTotal: rec.sourceTotal, targetTotal: rec.targetTotal, exceptionCount },
  });
  return { runId, exceptionCount };
}

/** The stored reconciliation of a version: per target, its totals, per period/account lines and exceptions. */
export async function reconciliationReport(db: DbOrTx, versionId: string) {
  const runs = await db
    .select()
    .from(reconciliationRuns)
    .where(eq(reconciliationRuns.versionId, versionId))
    .orderBy(asc(reconciliationRuns.target));
  return Promise.all(
    runs.map(async (run) => ({
      ...run,
      sourceTotal: fmt(run.sourceTotal, run.currency),
      targetTotal: fmt(run.targetTotal, run.currency),
      lines: (
        await db
          .select()
          .from(reconciliationResults)
          .where(eq(reconciliationResults.runId, run.id))
          .orderBy(asc(reconciliationResults.period), asc(reconciliationResults.account))
      ).map((l) => ({
        ...l,
        sourceAmount: fmt(l.sourceAmount, l.currency),
        targetAmount: fmt(l.targetAmount, l.currency),
        difference: fmt(l.difference, l.currency),
      })),
      exceptions: await db
        .select()
        .from(reconciliationExceptions)
        .where(eq(reconciliationExceptions.runId, run.id))
        .orderBy(asc(reconciliationExceptions.period), asc(reconciliationExceptions.account)),
    })),
  );
}
