import { asc, eq } from 'drizzle-orm';
import { money } from '../../domain/money';
import { type DbOrTx } from '../client';
import { reconciliationExceptions, reconciliationResults, reconciliationRuns } from '../schema';

/** Numeric columns come back with the column's six decimals; present them in the currency's own scale. */
const fmt = (amount: string, currency: string) => money(amount, currency).amount;

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
