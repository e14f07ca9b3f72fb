import { createReadStream, statSync } from 'node:fs';
import { type Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import { type BulkActualRow, ACTUALS_STREAM, bulkIngestActuals } from '../db/queries/actuals';
import { auditSync } from '../db/queries/watermarks';
import { getLegalEntity } from '../db/queries/reference';
import { loadSourceContext, type SourceContext } from '../db/queries/source-lines';
import { controlBudgetsOfFacts } from '../db/queries/control-budget-balances';
import {
  type LedgerStage,
  NotLineByLine,
  type StagedColumns,
  type StagedKey,
  stageLedgerFile,
} from '../db/queries/ledger-staging';
import { toleranceHundredths } from '../domain/budget-control';
import { quote } from '../domain/fx';
import { minorUnitsOf } from '../domain/money';
import { type LedgerExportItem, type LedgerExportLayout } from './connectors/types';
import { keepUncountableLine } from '../db/queries/source-exceptions';
import { sourceRecordKey } from '../domain/identity';
import { canonicaliseSourceLine, SourceLineErrorCode } from '../domain/source-lines';
import { type ActivityDeps, booksFor } from './deps';
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

/** An ERP whose actuals closeloop reads only through its API (Oracle Fusion's journals). */
const noExportFile = (system: string) =>
  ApplicationFailure.nonRetryable(
    `closeloop reads no ledger export file of ${system}: its actuals come in by the scheduled sync (docs/compatibility.md)`,
    FailureType.ValidationFailed,
  );

/**
 * The month-end bulk load of an entity's posted actuals from its ERP's ledger export: streamed row by row
 * (the file is never held whole), each row turned into a canonical line (mapping and period by posting date,
 * other currencies converted) and counted by the same business key as the hourly sync, thousands a statement,
 * with the next batch read while the last is written. A row that cannot be counted is kept in the dead letters
 * with its reason. Running the same file twice, or a file overlapping the syncs, counts every line once.
 * loadLedgerExportFile is the faster way for a file on disk; this row path is what it falls back on.
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
  const entity = await getLegalEntity(deps.db, opts.legalEntity);
  if (!entity) throw notFound(`legal entity ${opts.legalEntity} does not exist`);
  const erp = booksFor(deps, entity.erpSystem);
  if (!erp.readLedgerExport) throw noExportFile(entity.erpSystem);
  return loadLedgerItems(deps.db, { ...opts, items: erp.readLedgerExport(opts.file) });
}

/**
 * Loads ledger lines however they were read (an ERP's export, a file feed's declared layout) into an entity's
 * actuals: each turned into its canonical line and counted by its business key, in batches; what cannot be
 * counted kept as a dead letter with its reason; the load audited with its counts.
 */
export async function loadLedgerItems(
  db: ActivityDeps['db'],
  opts: {
    legalEntity: string;
    items: AsyncIterable<LedgerExportItem[]>;
    correlationId: string;
    batchSize?: number;
    inFlight?: number;
    onProgress?: (p: BulkLoadProgress) => void;
  },
): Promise<BulkLoadResult> {
  const entity = await getLegalEntity(db, opts.legalEntity);
  if (!entity) throw notFound(`legal entity ${opts.legalEntity} does not exist`);
  const ctx = await loadSourceContext(db, entity);
  const result: BulkLoadResult = { read: 0, inserted: 0, duplicates: 0, deadLetters: 0, batches: 0 };
  const rows = rowLoader(db, ctx, opts, result);
  for await (const items of opts.items) {
    for (const item of items) await rows.take(item);
  }
  await rows.finish();
  await auditLoad(db, ctx, opts.correlationId, result);
  return result;
}

/**
 * Takes a ledger export's items one by one: a line is batched and written (thousands a statement, up to
 * `inFlight` batches at once, the next read while the last is written); what cannot be read or counted is
 * kept as a dead letter with its reason. Counts into `result`.
 */
function rowLoader(
  db: ActivityDeps['db'],
  ctx: SourceContext,
  opts: {
    correlationId: string;
    batchSize?: number;
    inFlight?: number;
    onProgress?: (p: BulkLoadProgress) => void;
  },
  result: BulkLoadResult,
) {
  const batchSize = opts.batchSize ?? 5000;
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

  return {
    async take(item: LedgerExportItem) {
      result.read++;
      if ('invalid' in item) {
        result.deadLetters++;
        await keep(
          `${ctx.sourceSystem}:file:${opts.correlationId}:line${item.invalid.line}`,
          { line: item.invalid.line, row: item.invalid.row },
          SourceLineErrorCode.InvalidRecord,
          `line ${item.invalid.line}: ${item.invalid.reason}`,
        );
        return;
      }
      const recordKey = sourceRecordKey({ sourceSystem: ctx.sourceSystem, ...item });
      const canonical = canonicaliseSourceLine(
        { dimensions: item.dimensions, date: item.postingDate, amount: item.amount },
        ctx,
      );
      if ('error' in canonical) {
        result.deadLetters++;
        await keep(recordKey, { ...item }, canonical.error.code, canonical.error.message);
        return;
      }
      batch.push({ recordKey, ...item, line: canonical.line });
      if (batch.length >= batchSize) {
        await drain(inFlight - 1);
        write(batch);
        batch = [];
      }
    },
    async finish() {
      if (batch.length) write(batch);
      batch = [];
      await drain(0);
    },
  };
}

const auditLoad = (db: ActivityDeps['db'], ctx: SourceContext, correlationId: string, result: object) =>
  db.transaction((tx) =>
    auditSync(
      tx,
      {
        sourceSystem: ctx.sourceSystem,
        legalEntity: ctx.legalEntity,
        stream: ACTUALS_STREAM,
        scope: 'bulk-load',
      },
      { action: 'actuals.bulk_loaded', mark: 'file', correlationId, details: { ...result } },
    ),
  );

/** How a file was loaded: set-based (PostgreSQL parsed it), or row by row, and why. */
export interface FileLoadResult extends BulkLoadResult {
  path: 'set' | 'row';
  /** Why the row path was taken, when it was. */
  reason?: string;
  /** Rows the set path read one by one (malformed, or a line it could not take whole). */
  rowByRow?: number;
}

/**
 * The month-end load of a ledger export file on disk, let PostgreSQL parse it: the file is streamed into a
 * temporary table by COPY; each distinct (account value, posting date, currency) of its well-formed rows is
 * turned into its canonical line by the same code as the row path (mapping, period, closed-period routing,
 * control budgets, FX quote); then one statement converts, deduplicates and counts every row of those keys.
 * Every other row (too few or too many fields, malformed, or whose key or amount the set cannot take whole:
 * a dead letter, a currency decision per amount) is read back and taken one by one as the row path takes it,
 * so reasons read the same. A file whose records are not one a line (a quoted field spanning lines, blank
 * lines between records), or an ERP without a layout, is loaded by the row path instead.
 */
export async function loadLedgerExportFile(
  deps: Pick<ActivityDeps, 'db' | 'erps'>,
  opts: {
    legalEntity: string;
    path: string;
    correlationId: string;
    batchSize?: number;
    onProgress?: (p: BulkLoadProgress) => void;
    /** Files from this size are staged in two parts, in parallel (default 8 MiB). */
    splitFromBytes?: number;
  },
): Promise<FileLoadResult> {
  const { db } = deps;
  const entity = await getLegalEntity(db, opts.legalEntity);
  if (!entity) throw notFound(`legal entity ${opts.legalEntity} does not exist`);
  const erp = booksFor(deps, entity.erpSystem);
  if (!erp.readLedgerExport) throw noExportFile(entity.erpSystem);
  const rowPath = async (reason: string): Promise<FileLoadResult> => ({
    ...(await loadLedgerExport(deps, { ...opts, file: createReadStream(opts.path) })),
    path: 'row',
    reason,
  });
  const layout = erp.ledgerExportLayout;
  if (!layout || !erp.parseLedgerExportRecord)
    return rowPath(`${entity.erpSystem} has no ledger export layout`);
  const header = await headerOf(opts.path);
  const columns = stagedColumns(layout, header);
  if (typeof columns === 'string') return rowPath(columns);

  // A large file is staged in two parts (split at a line break), each on its own connection, so both cores
  // work: one PostgreSQL backend per part parses, converts and inserts. The parts' rows are numbered on.
  const size = statSync(opts.path).size;
  const split =
    size >= (opts.splitFromBytes ?? SPLIT_FROM_BYTES)
      ? await lineBreakAfter(opts.path, Math.floor(size / 2))
      : undefined;
  const parts = split === undefined ? [{ start: 0 }] : [{ start: 0, end: split }, { start: split + 1 }];
  const stages: LedgerStage[] = [];
  try {
    const staged = await Promise.allSettled(
      parts.map((part, i) =>
        stageLedgerFile(db, createReadStream(opts.path, part), columns, { header: i === 0 }),
      ),
    );
    for (const s of staged) if (s.status === 'fulfilled') stages.push(s.value);
    const failed = staged.find((s) => s.status === 'rejected');
    if (failed) {
      const err = failed.reason as unknown;
      // A record spanning lines, or blank lines between records: csv-parse reads such a file, line by line cannot.
      if (err instanceof NotLineByLine)
        return await rowPath(`the file is not one record a line: ${err.message}`);
      throw err;
    }
    const ctx = await loadSourceContext(db, entity);
    const result: FileLoadResult = {
      read: 0,
      inserted: 0,
      duplicates: 0,
      deadLetters: 0,
      batches: 0,
      path: 'set',
      rowByRow: 0,
    };
    const distinct = new Map<string, { account: string; date: string; currency: string }>();
    for (const keys of await Promise.all(stages.map((stage) => stage.keys())))
      for (const k of keys) distinct.set(`${k.account}\u0000${k.date}\u0000${k.currency}`, k);
    const keys = await canonicalKeys(db, ctx, layout, [...distinct.values()]);
    // Each part takes its rows and inserts them at once, on its own connection; a record an earlier part took
    // is that part's (its first row), so no part waits on another's uncommitted lines.
    const taken = await Promise.all(
      stages.map((stage) => stage.take({ sourceSystem: ctx.sourceSystem, keys })),
    );
    const inserted = await Promise.all(
      stages.map((stage, i) =>
        stage.insert(
          { sourceSystem: ctx.sourceSystem, legalEntity: ctx.legalEntity, correlationId: opts.correlationId },
          stages.slice(0, i).map((earlier) => earlier.fastTable),
        ),
      ),
    );
    stages.forEach((_stage, i) => {
      result.read += taken[i]!;
      result.inserted += inserted[i]!;
      result.duplicates += taken[i]! - inserted[i]!;
      result.batches++;
    });
    opts.onProgress?.({ ...result });
    const rows = rowLoader(db, ctx, opts, result);
    let before = 1; // the header's record
    for (const [i, stage] of stages.entries()) {
      // A part whose every row was taken has nothing to read back (the common case: no pass over it again).
      const others = taken[i] === stage.rows ? [] : stage.others(opts.batchSize ?? 5000);
      for await (const batch of others) {
        for (const r of batch) {
          result.rowByRow!++;
          await rows.take(erp.parseLedgerExportRecord(r.fields, header, before + r.n));
        }
      }
      before += stage.rows;
    }
    await rows.finish();
    await auditLoad(db, ctx, opts.correlationId, result);
    return result;
  } finally {
    for (const stage of stages) await stage.release();
  }
}

const SPLIT_FROM_BYTES = 8 * 2 ** 20;

/** The offset of the first line break at or after `from`. */
async function lineBreakAfter(path: string, from: number): Promise<number | undefined> {
  for await (const chunk of createReadStream(path, { start: from, highWaterMark: 64 * 1024 })) {
    const at = (chunk as Buffer).indexOf(10);
    if (at >= 0) return from + at;
    from += (chunk as Buffer).length;
  }
  return undefined;
}

/** The file's header: its first record, as csv-parse reads it (byte-order mark and spaces dropped). */
async function headerOf(path: string): Promise<string[]> {
  const parser = createReadStream(path).pipe(parseCsv({ bom: true, trim: true, to_line: 1 }));
  for await (const record of parser) return record as string[];
  return [];
}

/** Where the layout's columns are in this file's header; a sentence when the set path cannot read it. */
function stagedColumns(layout: LedgerExportLayout, header: string[]): StagedColumns | string {
  const at = (name: string) => header.indexOf(name) + 1;
  const missing = layout.required.filter((c) => !at(c));
  if (missing.length) return `the header lacks ${missing.join(', ')}`;
  if (new Set(header).size !== header.length) return 'the header names a column twice';
  return {
    count: header.length,
    wellFormed: Object.entries(layout.wellFormed).map(([name, pattern]) => ({ column: at(name), pattern })),
    documentId: layout.documentId.map(at),
    postingDate: at(layout.postingDate),
    amount: at(layout.amount),
    currency: at(layout.currency),
    ...(at(layout.description) ? { description: at(layout.description) } : {}),
    account: at(layout.account),
  };
}

/**
 * Each distinct (account value, posting date, currency) turned into its canonical line by the row path's own
 * code, with what the database needs to count every row of it: the FX quote, the currencies' decimals and the
 * control budgets the line falls in. A key the set cannot take whole is left out: its rows go one by one.
 */
async function canonicalKeys(
  db: ActivityDeps['db'],
  ctx: SourceContext,
  layout: LedgerExportLayout,
  keys: { account: string; date: string; currency: string }[],
): Promise<StagedKey[]> {
  const lines = keys.flatMap((k) => {
    // A date PostgreSQL would refuse as a date (2027-02-30) is read one row at a time, as the row path does.
    if (
      Number.isNaN(Date.parse(`${k.date}T00:00:00Z`)) ||
      new Date(`${k.date}T00:00:00Z`).toISOString().slice(0, 10) !== k.date
    )
      return [];
    const canonical = canonicaliseSourceLine(
      {
        dimensions: layout.dimensionsOf(k.account),
        date: k.date,
        amount: { amount: '0', currency: k.currency },
      },
      ctx,
    );
    if ('error' in canonical) return [];
    const q =
      k.currency === ctx.currency
        ? undefined
        : ctx.fx && quote(ctx.fx.rates, ctx.fx.rateType, k.currency, ctx.currency, k.date, ctx.fx.base);
    if (k.currency !== ctx.currency && !q) return [];
    return [{ key: k, line: canonical.line, q }];
  });
  const budgets = await controlBudgetsOfFacts(
    db,
    ctx.legalEntity,
    lines.map((l) => ({ dimensions: l.line.dimensions, period: l.line.period })),
  );
  return lines.map(({ key, line, q }, i) => ({
    ...key,
    dimensions: line.dimensions as Record<string, string>,
    ledgerAccount: line.dimensions.account,
    costCenter: line.dimensions.costCenter ?? '',
    period: line.period,
    routedFrom: line.routedFrom ?? null,
    target: ctx.currency,
    num: q ? String(q.num) : null,
    den: q ? String(q.den) : null,
    fromMinorUnits: minorUnitsOf(key.currency),
    toMinorUnits: minorUnitsOf(ctx.currency),
    budgets: budgets[i]!.map((b) => ({
      k: b.key,
      c: b.code,
      v: b.values,
      h: b.indirectPercent ? toleranceHundredths(b.indirectPercent) : 0,
    })),
  }));
}
