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
    onProgress?: (p: BulkLoadProgress) => void;
  },
): Promise<BulkLoadResult> {
  const { db } = deps;
  const entity = await getLegalEntity(db, opts.legalEntity);
  if (!entity) throw notFound(`legal entity ${opts.legalEntity} does not exist`);
  const ctx = await loadSourceContext(db, entity);
  const batchSize = opts.batchSize ?? 5000;
  const result: BulkLoadResult = { read: 0, inserted: 0, duplicates: 0, deadLetters: 0, batches: 0 };
  let batch: BulkActualRow[] = [];
  let writing: Promise<void> = Promise.resolve();

  const write = (rows: BulkActualRow[]) => {
    // One batch in flight while the next is read: the database and the parser work at the same time.
    writing = writing.then(async () => {
      const inserted = await db.transaction((tx) => bulkIngestActuals(tx, ctx, rows, opts.correlationId));
      result.inserted += inserted;
      result.duplicates += rows.length - inserted;
      result.batches++;
      opts.onProgress?.({ ...result });
    });
    return writing;
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

  for await (const item of erpFor(deps, entity.erpSystem).readLedgerExport(opts.file)) {
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
      const full = batch;
      batch = [];
      // Wait for the batch before last: at most one written while this one is read.
      await writing;
      void write(full);
    }
  }
  await writing;
  if (batch.length) await write(batch);
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
