import { sql } from 'drizzle-orm';
import { type Database } from '../client';

/**
 * Runs `fn` while holding a transaction-scoped advisory lock on `key`, so that two attempts anywhere in the
 * deployment (two cycles reversing the same superseded chunk, a retry racing a slow attempt) never create
 * the same ERP document side by side, nor two uploads share a planning model's one import file. The lock goes with the transaction: when `fn` ends, or when a
 * worker dies and its connection with it, the next attempt proceeds at once.
 */
export async function withKeyLock<T>(db: Database, key: string, fn: () => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`erp-document:${key}`}, 0))`);
    return fn();
  });
}
