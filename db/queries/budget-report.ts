import { sql } from 'drizzle-orm';
import { type TreeAsOf, treeAsOf } from '../../domain/hierarchy';
import { type Dimensions } from '../../domain/model';
import { type DbOrTx } from '../client';
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
