import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { type BudgetVersionRef } from '../../domain/model';
import { type DbOrTx } from '../client';
import { type BudgetVersionStatus, budgetLines, budgetVersions } from '../schema';

export type BudgetVersionRow = typeof budgetVersions.$inferSelect;
export type BudgetLineRow = typeof budgetLines.$inferSelect;

export async function findVersion(db: DbOrTx, ref: BudgetVersionRef, opts: { forUpdate?: boolean } = {}) {
  const q = db
    .select()
    .from(budgetVersions)
    .where(
      and(
        eq(budgetVersions.legalEntity, ref.legalEntity),
        eq(budgetVersions.fiscalYear, ref.fiscalYear),
        eq(budgetVersions.scenario, ref.scenario),
        eq(budgetVersions.versionNumber, ref.version),
      ),
    );
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  return row;
}

export async function getVersion(db: DbOrTx, versionId: string, opts: { forUpdate?: boolean } = {}) {
  const q = db.select().from(budgetVersions).where(eq(budgetVersions.id, versionId));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  return row;
}

export function versionRef(v: BudgetVersionRow): BudgetVersionRef {
  return {
    legalEntity: v.legalEntity,
    fiscalYear: v.fiscalYear,
    scenario: v.scenario as BudgetVersionRef['scenario'],
    version: v.versionNumber,
  };
}

export async function versionLines(db: DbOrTx, versionId: string, range?: { from: number; to: number }) {
  const where = range
    ? and(
        eq(budgetLines.versionId, versionId),
        sql`${budgetLines.lineNo} between ${range.from} and ${range.to}`,
      )
    : eq(budgetLines.versionId, versionId);
  return db.select().from(budgetLines).where(where).orderBy(asc(budgetLines.lineNo));
}

export async function setVersionStatus(
  db: DbOrTx,
  versionId: string,
  status: BudgetVersionStatus,
  extra: Partial<Pick<BudgetVersionRow, 'decidedBy' | 'decidedAt' | 'decisionComment' | 'activatedAt'>> = {},
) {
  await db
    .update(budgetVersions)
    .set({ status, ...extra })
    .where(eq(budgetVersions.id, versionId));
}

/** Other versions of the same entity, year and scenario currently in `status` (e.g. the active one). */
export async function siblingVersions(db: DbOrTx, v: BudgetVersionRow, status: BudgetVersionStatus) {
  return db
    .select()
    .from(budgetVersions)
    .where(
      and(
        eq(budgetVersions.legalEntity, v.legalEntity),
        eq(budgetVersions.fiscalYear, v.fiscalYear),
        eq(budgetVersions.scenario, v.scenario),
        eq(budgetVersions.status, status),
        ne(budgetVersions.id, v.id),
      ),
    );
}

/** Version totals by period and account, summed in the database (numeric, exact). */
export async function versionTotalsByPeriodAccount(db: DbOrTx, versionId: string) {
  return db
    .select({
      period: budgetLines.period,
      account: budgetLines.account,
      amount: sql<string>`sum(${budgetLines.amount})::text`,
    })
    .from(budgetLines)
    .where(eq(budgetLines.versionId, versionId))
    .groupBy(budgetLines.period, budgetLines.account);
}
