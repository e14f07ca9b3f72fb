import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

/** The drizzle database over its postgres.js client ($client: for what drizzle does not do, such as COPY). */
export type Database = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
/** A transaction handle; every query function accepts either this or the Database. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type DbOrTx = Database | Tx;

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function openDatabase(url: string, options: { poolSize?: number } = {}): DatabaseHandle {
  const sql = postgres(url, {
    max: options.poolSize ?? 10,
    onnotice: () => undefined,
    // numeric stays a string (postgres' default) so money never passes through a float.
    connect_timeout: 10,
  });
  return { db: drizzle(sql, { schema }), sql, close: () => sql.end({ timeout: 5 }) };
}
