import { type Readable } from 'node:stream';
import { type BulkActualRow, ACTUALS_STREAM, bulkIngestActuals } from '../db/queries/actuals';
import { auditSync } from '../db/queries/watermarks';
import { getLegalEntity } from '../db/queries/reference';
import { loadSourceContext } from '../db/queries/source-lines';
import { keepUncountableLine } from '../db/queries/source-exceptions';
import { sourceRecordKey } from '../domain/identity';
import { canonicaliseSourceLine, SourceLineErrorCode } from '../domain/source-lines';
import { type ActivityDeps, erpFor } from './deps';
import { notFound } from './failures';

export interface BulkLoadProgress {
  read: number;
  inserted: number;
  duplicates: number;
  deadLetters: number;
}

export interface BulkLoadResult extends BulkLoadProgress {
  batches: number;
}

/**
 * The month-end bulk load of an entity's posted actuals from its ERP's ledger export: streamed row by row
 * (the file is never held whole), each row turned into a canonical line (mapping and period by posting date,
 * other currencies converted) and counted by the same business key as the hourly sync, thousands a statement,
 * with the next batch read while the last is written. A row that cannot be counted is kept in the dead letters
 * with its reason. Running the same file twice, or a file overlapping the syncs, counts every line once.
 */
export async function loadLedgerExport(
  deps: Pick<ActivityDeps, 'db' | 'erps'>,
  opts: {
    legalEntity: string;
    file: Readable;
    correlationId: string;
    batchSize?: number;
    /** Batches written at once (default 2). */
    inFlight?: number;
    onProgress?: (p: BulkLoadProgress) => void;
  },
): Promise<BulkLoadResult> {
  const { db } = deps;
  const entity = await getLegalEntity(db, opts.legalEntity);
  if (!entity) throw notFound(`legal entity ${opts.legalEntity} does not exist`);
  const ctx = await loadSourceContext(db, entity);
  const batchSize = opts.batchSize ?? 5000;
  const result: BulkLoadResult = { read: 0, inserted: 0, duplicates: 0, deadLetters: 0, batches: 0 };
  const inFlight = opts.inFlight ?? 2;
  let batch: BulkActualRow[] = [];
  const writing = new Set<Promise<void>>();

  // Batches are written while the next are read, up to `inFlight` at once (each in its own transaction; the
  // balances they touch are locked in one order, so concurrent batches wait for each other, never deadlock).
  const write = (rows: BulkActualRow[]) => {
    const p = db
      .transaction((tx) => bulkIngestActuals(tx, ctx, rows, opts.correlationId))
      .then((inserted) => {
        result.inserted += inserted;
        result.duplicates += rows.length - inserted;
        result.batches++;
        opts.onProgress?.({ ...result });
      })
      .finally(() => writing.delete(p));
    writing.add(p);
  };
  const drain = async (below: number) => {
    while (writing.size > below) await Promise.race(writing);
  };
  const keep = (
    recordKey: string,
    payload: Record<string, unknown>,
    code: SourceLineErrorCode,
    message: string,
  ) =>
    db.transaction((tx) =>
      keepUncountableLine(tx, {
        sourceSystem: ctx.sourceSystem,
        legalEntity: ctx.legalEntity,
        stream: ACTUALS_STREAM,
        recordKey,
        payload,
        error: { code, message },
        correlationId: opts.correlationId,
      }),
    );

  for await (const items of erpFor(deps, entity.erpSystem).readLedgerExport(opts.file)) {
    for (const item of items) {
      result.read++;
      if ('invalid' in item) {
        result.deadLetters++;
        await keep(
          `${ctx.sourceSystem}:file:${opts.correlationId}:line${item.invalid.line}`,
          { line: item.invalid.line, row: item.invalid.row },
          SourceLineErrorCode.InvalidRecord,
          `line ${item.invalid.line}: ${item.invalid.reason}`,
        );
        continue;
      }
      const recordKey = sourceRecordKey({ sourceSystem: ctx.sourceSystem, ...item });
      const canonical = canonicaliseSourceLine(
        { dimensions: item.dimensions, date: item.postingDate, amount: item.amount },
        ctx,
      );
      if ('error' in canonical) {
        result.deadLetters++;
        await keep(recordKey, { ...item }, canonical.error.code, canonical.error.message);
        continue;
      }
      batch.push({ recordKey, ...item, line: canonical.line });
      if (batch.length >= batchSize) {
        await drain(inFlight - 1);
        write(batch);
        batch = [];
      }
    }
  }
  if (batch.length) write(batch);
  await drain(0);
  await db.transaction((tx) =>
    auditSync(
      tx,
      {
        sourceSystem: ctx.sourceSystem,
        legalEntity: ctx.legalEntity,
        stream: ACTUALS_STREAM,
        scope: 'bulk-load',
      },
      {
        action: 'actuals.bulk_loaded',
        mark: 'file',
        correlationId: opts.correlationId,
        details: { ...result },
      },
    ),
  );
  return result;
}
