import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { wholeCombination } from '../../domain/control-budgets';
import { type DbOrTx } from '../client';
import { budgetLines, controlBalances } from '../schema';
import { activateControlBudgets, addToControlBudgets } from './control-budget-balances';

export type ControlBalanceRow = typeof controlBalances.$inferSelect;

/** A balance bucket: entity, dimensions, period and the currency its amounts are in. */
export interface BalanceKey {
  legalEntity: string;
  account: string;
  costCenter: string;
  period: string;
  currency: string;
  /** The fact's whole combination, for the control budgets it falls in (absent: account and cost center). */
  dimensions?: Record<string, string>;
}

/**
 * Makes a version the control budget: budget = the version's amount per dimension, period and currency plus
 * what approved transfers moved there, in one statement; balances that belonged to another version of this
 * entity and year and are not in this one keep only their transfers. Spend columns are untouched. Running it
 * twice gives the same balances. Buckets are account × cost center × period; a line of a chart where the
 * cost center is optional and left out goes to the account's bucket without one ('').
 */
export async function activateVersionBudget(
  tx: DbOrTx,
  v: { id: string; legalEntity: string; periods: string[] },
) {
  await tx.execute(sql`
    insert into ${controlBalances} (legal_entity, account, cost_center, period, currency, budget, version_id, updated_at)
    select ${v.legalEntity}, ${budgetLines.account}, coalesce(${budgetLines.costCenter}, ''), ${budgetLines.period},
           ${budgetLines.currency}, sum(${budgetLines.amount}), ${v.id}::uuid, now()
      from ${budgetLines}
     where ${budgetLines.versionId} = ${v.id}::uuid
     group by ${budgetLines.account}, coalesce(${budgetLines.costCenter}, ''), ${budgetLines.period}, ${budgetLines.currency}
    on conflict (legal_entity, account, cost_center, period, currency)
    do update set budget = excluded.budget + ${controlBalances}.transferred, version_id = excluded.version_id, updated_at = now()`);
  await activateControlBudgets(tx, v);
  if (v.periods.length) {
    await tx
      .update(controlBalances)
      .set({ budget: sql`${controlBalances.transferred}`, versionId: v.id, updatedAt: new Date() })
      .where(
        and(
          eq(controlBalances.legalEntity, v.legalEntity),
          inArray(controlBalances.period, v.periods),
          sql`${controlBalances.versionId} is distinct from ${v.id}::uuid`,
        ),
      );
  }
}

/**
 * Adds to one spend column of a balance in one statement (the database adds, so concurrent writers never
 * lose an update), creating the balance with zero budget when spend comes first; and to each control budget
 * the fact falls in, first (budgets are locked before buckets everywhere).
 */
export async function addToBalance(
  tx: DbOrTx,
  key: BalanceKey,
  column: 'actual' | 'committed' | 'reserved',
  delta: string,
) {
  await addToControlBudgets(
    tx,
    {
      legalEntity: key.legalEntity,
      dimensions: key.dimensions ?? wholeCombination(key.account, key.costCenter),
      period: key.period,
      currency: key.currency,
    },
    column,
    delta,
  );
  const col = sql.identifier(column);
  await tx.execute(sql`
    insert into ${controlBalances} (legal_entity, account, cost_center, period, currency, ${col}, updated_at)
    values (${key.legalEntity}, ${key.account}, ${key.costCenter}, ${key.period}, ${key.currency}, ${delta}::numeric, now())
    on conflict (legal_entity, account, cost_center, period, currency)
    do update set ${col} = ${controlBalances}.${col} + ${delta}::numeric, updated_at = now()`);
}

/** Where a page of buckets ends: the next page starts after it (account, cost center, period). */
export interface BucketKey {
  account: string;
  costCenter: string;
  period: string;
}

/**
 * One page of an entity's control balances in one currency over the periods named, in bucket order
 * (account, cost center, period) after `after`: a reader takes them page by page, never all at once.
 */
export async function balancesPage(
  db: DbOrTx,
  b: { legalEntity: string; periods: readonly string[]; currency: string },
  after: BucketKey | undefined,
  limit: number,
) {
  if (!b.periods.length) return [];
  return db
    .select()
    .from(controlBalances)
    .where(
      and(
        eq(controlBalances.legalEntity, b.legalEntity),
        eq(controlBalances.currency, b.currency),
        inArray(controlBalances.period, [...b.periods]),
        after
          ? sql`(${controlBalances.account}, ${controlBalances.costCenter}, ${controlBalances.period}) > (${after.account}, ${after.costCenter}, ${after.period})`
          : undefined,
      ),
    )
    .orderBy(asc(controlBalances.account), asc(controlBalances.costCenter), asc(controlBalances.period))
    .limit(limit);
}

/**
 * An entity's control balances summed per bucket and currency over the periods named (a report groups them
 * further by any dimension or hierarchy level).
 */
export async function bucketFiguresOver(db: DbOrTx, legalEntity: string, periods: readonly string[]) {
  if (!periods.length) return [];
  return (await db.execute(sql`
    select account, cost_center as "costCenter", currency, sum(budget)::text as budget,
           sum(transferred)::text as transferred, sum(reserved)::text as reserved,
           sum(committed)::text as committed, sum(actual)::text as actual
      from ${controlBalances}
     where legal_entity = ${legalEntity} and period in (${sql.join(
       periods.map((p) => sql`${p}`),
       sql`, `,
     )})
     group by account, cost_center, currency`)) as unknown as {
    account: string;
    costCenter: string;
    currency: string;
    budget: string;
    transferred: string;
    reserved: string;
    committed: string;
    actual: string;
  }[];
}
