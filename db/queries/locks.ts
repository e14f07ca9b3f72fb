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

/**
 * Runs `fn` in one of `limit` slots of `name`, shared by every worker of the deployment: an ERP's account-wide
 * concurrency limit (NetSuite's) is kept by all of closeloop together, not by each process. A slot is a
 * transaction-scoped advisory lock, so a worker that dies frees its slot with its connection. While every slot
 * is taken, `fn` waits, looking again with a growing pause, up to `waitMs`; then `onFull` says what to do.
 */
export async function withSlot<T>(
  db: Database,
  name: string,
  limit: number,
  fn: () => Promise<T>,
  opts: { waitMs: number; onFull: () => Error },
): Promise<T> {
  return withSlots(db, name, limit, 1, () => fn(), opts);
}

/**
 * Runs `fn` holding as many as `want` of the `limit` slots of `name` that are free (at least one), all taken
 * in one statement and let go together when `fn` ends: a batch of requests (a NetSuite chunk's records) takes
 * its slots once, `fn` running as many requests at once as it was given slots, instead of taking one for each
 * request. Waits as `withSlot` does while every slot is taken.
 */
export async function withSlots<T>(
  db: Database,
  name: string,
  limit: number,
  want: number,
  fn: (taken: number) => Promise<T>,
  opts: { waitMs: number; onFull: () => Error },
): Promise<T> {
  const started = Date.now();
  for (let round = 0; ; round++) {
    const taken = await db.transaction(async (tx) => {
      // Free slots in one statement: slots are tried in order and the scan stops once `want` are taken.
      const rows = (await tx.execute(
        sql`select s from generate_series(0, ${limit - 1}::int) s
             where pg_try_advisory_xact_lock(hashtext(${`slot:${name}`}), s) limit ${Math.max(1, want)}`,
      )) as unknown as { s: number }[];
      return rows.length ? { value: await fn(rows.length) } : undefined;
    });
    if (taken) return taken.value;
    if (Date.now() - started >= opts.waitMs) throw opts.onFull();
    await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** round)));
  }
}
