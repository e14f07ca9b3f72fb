import { sql } from 'drizzle-orm';
import { type Tx } from '../client';

/**
 * Inserts many rows in statements of one JSON parameter each (`jsonb_to_recordset`): for the large line sets of a
 * version, a publication or a forecast, building drizzle's multi-row VALUES costs the worker more than Postgres
 * takes to insert them. `columns` names each column with its Postgres type; a row's keys are the column names.
 */
export async function insertRecordset(
  tx: Tx,
  table: string,
  columns: Record<string, string>,
  rows: readonly Record<string, unknown>[],
  perStatement = 20_000,
): Promise<void> {
  const names = Object.keys(columns);
  const list = sql.raw(names.map((n) => `"${n}"`).join(', '));
  const types = sql.raw(names.map((n) => `"${n}" ${columns[n]}`).join(', '));
  for (let i = 0; i < rows.length; i += perStatement) {
    const json = JSON.stringify(rows.slice(i, i + perStatement));
    await tx.execute(
      sql`insert into ${sql.identifier(table)} (${list}) select ${list} from jsonb_to_recordset(${json}::jsonb) as x(${types})`,
    );
  }
}
