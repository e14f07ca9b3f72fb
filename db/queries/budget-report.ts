import { sql } from 'drizzle-orm';
import { type TreeAsOf, treeAsOf } from '../../domain/hierarchy';
import { type Dimensions } from '../../domain/model';
import { type DbOrTx } from '../client';
import { actualLines, commitmentLines } from '../schema';
import { hierarchyEdges } from './chart';

/** Reads behind reports grouped by any dimension (domain/report-grouping): figures per combination, and trees. */

/** A version's lines summed per combination and currency, over the year or over the periods named. */
export async function versionCombinations(
  db: DbOrTx,
  versionId: string,
  periods?: readonly string[],
): Promise<{ dimensions: Dimensions; currency: string; amount: string }[]> {
  const inPeriods = periods?.length
    ? sql`and period in (${sql.join(
        periods.map((p) => sql`${p}`),
        sql`, `,
      )})`
    : sql``;
  return (await db.execute(sql`
    select dimensions, currency, sum(amount)::text as amount from budget_lines
     where version_id = ${versionId} ${inPeriods}
     group by dimensions, currency`)) as unknown as {
    dimensions: Dimensions;
    currency: string;
    amount: string;
  }[];
}

/** The entity's trees of the dimensions named, as of a date. */
export async function treesAsOf(
  db: DbOrTx,
  legalEntity: string,
  dimensions: readonly string[],
  onDate: string,
): Promise<Map<string, TreeAsOf>> {
  return new Map(
    await Promise.all(
      dimensions.map(async (d) => [d, treeAsOf(await hierarchyEdges(db, legalEntity, d), onDate)] as const),
    ),
  );
}

/**
 * What an entity spent (actuals) or still has on order (open commitments) per combination of the dimensions
 * its ERP gave and currency, over the periods named (in the entity's currency: lines are converted as they
 * are counted).
 */
export async function spendCombinations(
  db: DbOrTx,
  legalEntity: string,
  kind: 'actual' | 'committed',
  periods: readonly string[],
): Promise<{ dimensions: Dimensions; currency: string; amount: string }[]> {
  if (!periods.length) return [];
  const inPeriods = sql.join(
    periods.map((p) => sql`${p}`),
    sql`, `,
  );
  // Actuals count their amount; commitments what is still open on them.
  const [table, amount] =
    kind === 'actual' ? [actualLines, actualLines.amount] : [commitmentLines, commitmentLines.openAmount];
  return (await db.execute(sql`
    select dimensions, currency, sum(${amount})::text as amount from ${table}
     where legal_entity = ${legalEntity} and period in (${inPeriods}) group by dimensions, currency`)) as unknown as {
    dimensions: Dimensions;
    currency: string;
    amount: string;
  }[];
}
