import { asc, eq } from 'drizzle-orm';
import { type DbOrTx } from '../client';
import { reconciliationExceptions, reconciliationResults, reconciliationRuns } from '../schema';

/** The stored reconciliation of a version: per target, its totals, per period/account lines and exceptions. */
export async function reconciliationReport(db: DbOrTx, versionId: string) {
  const runs = await db.select().from(reconciliationRuns).where(eq(reconciliationRuns.versionId, versionId)).orderBy(asc(reconciliationRuns.target));
  return Promise.all(
    runs.map(async (run) => ({
      ...run,
      lines: await db
        .select()
        .from(reconciliationResults)
        .where(eq(reconciliationResults.runId, run.id))
        .orderBy(asc(reconciliationResults.period), asc(reconciliationResults.account)),
      exceptions: await db
        .select()
        .from(reconciliationExceptions)
        .where(eq(reconciliationExceptions.runId, run.id))
        .orderBy(asc(reconciliationExceptions.period), asc(reconciliationExceptions.account)),
    })),
  );
}
