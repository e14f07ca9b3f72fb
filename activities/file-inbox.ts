import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { type Readable, Transform } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { stringify as writeCsv } from 'csv-stringify/sync';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import {
  CONTROL_SUFFIX,
  type ControlFile,
  FeedDefinition,
  formatScaled,
  isTemporaryName,
  parseControlFile,
  scaledDecimal,
} from '../domain/file-feeds';
import {
  csvColumns,
  decoderFor,
  type FieldError,
  type FileLayout,
  INVALID_CHARACTER,
  readCsvRecord,
  readFixedLine,
  type ReadRecord,
} from '../domain/file-layout';
import { describeIssues } from '../domain/zod-issues';
import {
  claimInboxFile,
  fileFeed,
  type FileFeedRow,
  finishInboxFile,
  inboxFileLoading,
  loadedUnderName,
} from '../db/queries/file-feeds';
import { type BulkLoadProgress, loadLedgerItems } from './bulk-load';
import { type LedgerExportItem } from './connectors/types';
import { type ActivityDeps } from './deps';
import { notFound } from './failures';
import { type InboxFolder, openInbox } from './file-transport';
import { withHeartbeat } from './heartbeat';

/**
 * A watched inbox's two steps: see which files are complete (scanInbox), then take each (takeInboxFile):
 * verify it whole (its header, each record, its trailer's or control file's count and total, its checksum), load
 * it through the same path as every ledger load, and move it to `archive/` or, refused, to `rejected/` with a
 * report beside it naming each bad row. The processed-file ledger (inbox_files) recognises content already
 * taken, under any name. Files are read as streams, twice (verify, then load): never whole in memory.
 */

export interface InboxEntry {
  name: string;
  size: number;
}

export interface InboxScan {
  ready: InboxEntry[];
  /** Files left for a later pickup, each with why (still growing, no trailer or control file yet). */
  waiting: { name: string; reason: string }[];
}

export interface TakenFile {
  name: string;
  status: 'loaded' | 'rejected' | 'duplicate' | 'waiting';
  reason?: string;
  movedTo?: string;
  report?: string;
  counts?: BulkLoadProgress;
}

/** Bad rows a report names at most (the count says how many there were). */
const REPORT_ROWS = 10_000;
const BATCH = 5_000;

const loadFeed = async (db: ActivityDeps['db'], code: string) => {
  const row = await fileFeed(db, code);
  if (!row) throw notFound(`file feed ${code} does not exist`);
  // Stored definitions were parsed when declared; parsed again so a definition from an older release still reads.
  const parsed = FeedDefinition.safeParse(row.definition);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `file feed ${code}'s definition no longer reads: ${describeIssues(parsed.error)}`,
      FailureType.ValidationFailed,
    );
  return { row, definition: parsed.data };
};

/** The last line of a file (its last 64 KiB read), for a trailer's presence. */
async function lastLine(inbox: InboxFolder, path: string, size: number): Promise<string> {
  const lines = (await inbox.tail(path, size, 65_536)).toString('latin1').split(/\r?\n/).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

/** A file's SHA-256 as it streams. */
async function sha256Of(inbox: InboxFolder, path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of inbox.read(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file's text in its layout's encoding, as it streams. */
function decoded(
  inbox: InboxFolder,
  path: string,
  layout: FileLayout,
  onBytes?: (bytes: Buffer) => void,
): Readable {
  const decoder = decoderFor(layout.encoding);
  return inbox.read(path).pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        onBytes?.(chunk);
        done(null, decoder.write(chunk));
      },
      flush(done) {
        done(null, decoder.end());
      },
    }),
  );
}

type NumberedRecord = { line: number; raw: string; record: ReadRecord };

const undecodable = (layout: FileLayout, raw: string): ReadRecord => ({
  kind: 'invalid',
  errors: [{ field: '(record)', value: raw, reason: `bytes that are not ${layout.encoding}` }],
});

/** Every record of a file with its line number, read by its layout, as the file streams. */
async function* recordsOf(
  inbox: InboxFolder,
  path: string,
  layout: FileLayout,
  onBytes?: (bytes: Buffer) => void,
): AsyncIterable<NumberedRecord> {
  if (layout.format === 'fixed') {
    let line = 0;
    for await (const raw of createInterface({
      input: decoded(inbox, path, layout, onBytes),
      crlfDelay: Infinity,
    })) {
      line++;
      if (!raw.trim()) continue;
      yield {
        line,
        raw,
        record: raw.includes(INVALID_CHARACTER) ? undecodable(layout, raw) : readFixedLine(layout, raw),
      };
    }
    return;
  }
  const parser = decoded(inbox, path, layout, onBytes).pipe(
    parseCsv({ delimiter: layout.delimiter, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  let positions: number[] | undefined;
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    const raw = record.join(layout.delimiter);
    if (!positions) {
      const found = csvColumns(layout, record);
      if ('errors' in found) {
        yield {
          line: info.lines,
          raw,
          record: {
            kind: 'invalid',
            errors: found.errors.map((reason) => ({ field: '(header)', value: raw, reason })),
          },
        };
        return;
      }
      positions = found.positions;
      yield { line: info.lines, raw, record: { kind: 'header' } };
      continue;
    }
    yield {
      line: info.lines,
      raw,
      record: raw.includes(INVALID_CHARACTER)
        ? undecodable(layout, raw)
        : readCsvRecord(layout, positions, record),
    };
  }
}

interface Verification {
  details: number;
  total: bigint;
  trailer?: { count: number; total: bigint };
  badRows: number;
  report: { line: number; error: FieldError }[];
  /** Why the file as a whole is refused (header, trailer, counts, checksum), if it is. */
  refusals: string[];
}

/** Reads a file whole once: its SHA-256, its records, its counts and control total, what is wrong with it. */
async function verify(
  inbox: InboxFolder,
  path: string,
  layout: FileLayout,
  progress: (read: number) => void,
): Promise<Verification & { sha256: string }> {
  const v: Verification = { details: 0, total: 0n, badRows: 0, report: [], refusals: [] };
  const hash = createHash('sha256');
  let afterTrailer = false;
  for await (const { line, record } of recordsOf(inbox, path, layout, (bytes) => hash.update(bytes))) {
    if (afterTrailer) v.refusals.push(`line ${line} follows the trailer`);
    if (record.kind === 'invalid') {
      v.badRows++;
      for (const error of record.errors) if (v.report.length < REPORT_ROWS) v.report.push({ line, error });
      if (record.errors.some((e) => e.field === '(header)'))
        v.refusals.push('the header does not match the layout');
      continue;
    }
    if (record.kind === 'trailer') {
      if (v.trailer) v.refusals.push(`line ${line} is a second trailer`);
      v.trailer = { count: Number(record.values.count), total: scaledDecimal(record.values.total!) };
      afterTrailer = true;
      continue;
    }
    if (record.kind !== 'detail') continue;
    v.details++;
    v.total += scaledDecimal(record.values.amount!);
    if (v.details % BATCH === 0) progress(v.details);
  }
  return { ...v, sha256: hash.digest('hex') };
}

/** The detail records as ledger lines, in batches: every other field of the layout is a dimension. */
async function* ledgerItems(
  inbox: InboxFolder,
  path: string,
  layout: FileLayout,
): AsyncIterable<LedgerExportItem[]> {
  let batch: LedgerExportItem[] = [];
  for await (const { record } of recordsOf(inbox, path, layout)) {
    if (record.kind !== 'detail') continue;
    const { documentId, lineNo, revision, postingDate, amount, currency, description, ...dimensions } =
      record.values;
    batch.push({
      documentId: documentId!,
      lineNo: Number(lineNo),
      revision: revision === undefined ? 1 : Number(revision),
      dimensions,
      postingDate: postingDate!,
      amount: { amount: amount!, currency: currency! },
      ...(description ? { description } : {}),
    });
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

type Folder = 'archive' | 'rejected';

/** Where a file a lost attempt already moved is: archive/ or rejected/, under its name or its name and hash. */
interface Located {
  folder: Folder;
  stored: string;
}

/**
 * Moves a file (and its control file) into a folder of the inbox, never over an earlier file of that name. A
 * file a lost attempt moved already (`from`) stays where it is.
 */
async function moveInto(inbox: InboxFolder, folder: Folder, name: string, sha256: string, from?: Located) {
  const { target, movedTo } = await placeIn(inbox, folder, name, sha256, from);
  if (from?.folder === folder) return { target, movedTo };
  const source = from ? `${from.folder}/${from.stored}` : name;
  await inbox.move(source, movedTo);
  await inbox.move(source + CONTROL_SUFFIX, movedTo + CONTROL_SUFFIX);
  return { target, movedTo };
}

/** The name a file will have in a folder of the inbox (moveInto), decided before it is moved. */
async function placeIn(inbox: InboxFolder, folder: Folder, name: string, sha256: string, from?: Located) {
  if (from?.folder === folder) return { target: from.stored, movedTo: `${folder}/${from.stored}` };
  await inbox.ensureFolder(folder);
  const target = (await inbox.names(folder)).includes(name) ? `${name}.${sha256.slice(0, 12)}` : name;
  return { target, movedTo: `${folder}/${target}` };
}

async function movedEarlier(inbox: InboxFolder, name: string): Promise<(Located & { path: string })[]> {
  const found: (Located & { path: string })[] = [];
  for (const folder of ['archive', 'rejected'] as const)
    for (const stored of await inbox.names(folder))
      if (
        stored.startsWith(name) &&
        (stored === name || /^\.[0-9a-f]{12}$/.test(stored.slice(name.length))) &&
        !stored.endsWith(CONTROL_SUFFIX)
      )
        found.push({ folder, stored, path: `${folder}/${stored}` });
  return found;
}

export function createFileInboxActivities(deps: Pick<ActivityDeps, 'db'>) {
  const { db } = deps;

  async function refuse(
    feed: FileFeedRow,
    inbox: InboxFolder,
    file: { name: string; sha256: string; size: number; id?: string },
    status: 'rejected' | 'duplicate',
    reasons: string[],
    rows: { line: number; error: FieldError }[],
    extra: Record<string, unknown>,
    correlationId: string,
    from?: Located,
  ): Promise<TakenFile> {
    // Recorded before it is moved: a file moved and then lost to a crash would be nowhere in the ledger.
    const { target, movedTo } = await placeIn(inbox, 'rejected', file.name, file.sha256, from);
    const report = `${target}.errors.csv`;
    await db.transaction((tx) =>
      finishInboxFile(tx, {
        ...file,
        feedCode: feed.code,
        legalEntity: feed.legalEntity,
        status,
        outcome: { reasons, ...extra },
        movedTo,
        report: `rejected/${report}`,
        correlationId,
      }),
    );
    // The report beside the file: what is wrong with the file as a whole, then each bad row.
    await inbox.write(
      `rejected/${report}`,
      writeCsv([
        ['line', 'field', 'value', 'reason'],
        ...reasons.map((r) => ['', '(file)', '', r]),
        ...rows.map((r) => [String(r.line), r.error.field, r.error.value, r.error.reason]),
      ]),
    );
    await moveInto(inbox, 'rejected', file.name, file.sha256, from);
    return { name: file.name, status, reason: reasons.join('; '), movedTo, report: `rejected/${report}` };
  }

  return {
    /**
     * Which files of a feed's inbox are complete: not under a temporary name, not changed within the feed's
     * settle time, with their control file (control-file readiness) or ending in a trailer (a layout with one).
     */
    async scanInbox(input: { feed: string }): Promise<InboxScan> {
      const { definition } = await loadFeed(db, input.feed);
      const inbox = await openInbox(definition.transport);
      try {
        const now = Date.now();
        const files = await inbox.list();
        const names = new Set(files.map((f) => f.name));
        const scan: InboxScan = { ready: [], waiting: [] };
        for (const s of files.sort((a, b) => (a.name < b.name ? -1 : 1))) {
          const { name } = s;
          if (isTemporaryName(name) || name.endsWith(CONTROL_SUFFIX) || name.endsWith('.errors.csv'))
            continue;
          if (now - s.modifiedMs < definition.settleSeconds * 1000) {
            scan.waiting.push({
              name,
              reason: `changed within the last ${definition.settleSeconds} s: still growing`,
            });
            continue;
          }
          if (definition.readiness === 'control-file') {
            if (!names.has(name + CONTROL_SUFFIX)) {
              scan.waiting.push({ name, reason: `no control file ${name}${CONTROL_SUFFIX} yet` });
              continue;
            }
          } else if (definition.layout.format === 'fixed' && definition.layout.recordType?.trailer) {
            const { recordType } = definition.layout;
            const last = await lastLine(inbox, name, s.size);
            if (
              last.slice(recordType.start - 1, recordType.start - 1 + recordType.length).trim() !==
              recordType.trailer
            ) {
              scan.waiting.push({ name, reason: 'no trailer record yet: half-written' });
              continue;
            }
          }
          scan.ready.push({ name, size: s.size });
        }
        return scan;
      } finally {
        await inbox.close();
      }
    },

    /**
     * Takes one complete file: recognised when its content was taken before (under any name), refused whole
     * when it does not verify, else loaded (its lines counted once each) and archived. Idempotent: a retry after
     * a lost worker resumes the claimed load, and a file no longer in the inbox was already moved.
     */
    takeInboxFile: (input: { feed: string; name: string }): Promise<TakenFile> =>
      withHeartbeat(async ({ progress }) => {
        const { row: feed, definition } = await loadFeed(db, input.feed);
        const inbox = await openInbox(definition.transport);
        try {
          let path = input.name;
          let size = await inbox.size(path);
          // Gone from the inbox: a lost attempt may have moved it before recording so; its claim says which.
          let from: Located | undefined;
          if (size === undefined) {
            for (const moved of await movedEarlier(inbox, input.name)) {
              const hash = await sha256Of(inbox, moved.path);
              if (await inboxFileLoading(db, feed.code, hash)) {
                [path, from, size] = [moved.path, moved, await inbox.size(moved.path)];
                break;
              }
            }
            if (size === undefined)
              return {
                name: input.name,
                status: 'waiting',
                reason: 'no longer in the inbox (already taken)',
              };
          }
          // Its hash is taken as it is verified: the file is read once for both, then once more to load.
          const v = await verify(inbox, path, definition.layout, (read) =>
            progress({ phase: 'verifying', read }),
          );
          const file = { name: input.name, sha256: v.sha256, size };
          const correlationId = `file:${feed.code}:${file.sha256.slice(0, 16)}`;

          let control: ControlFile | undefined;
          const refusals: string[] = [];
          if (definition.readiness === 'control-file') {
            const parsed = parseControlFile((await inbox.readText(path + CONTROL_SUFFIX)) ?? '');
            if (!parsed.success) refusals.push(`control file: ${describeIssues(parsed.error)}`);
            else control = parsed.data;
            if (control?.sha256 && control.sha256 !== file.sha256)
              refusals.push(
                `checksum: the control file says ${control.sha256}, the file's SHA-256 is ${file.sha256}`,
              );
          }

          const claim = await db.transaction((tx) =>
            claimInboxFile(tx, { feedCode: feed.code, ...file, correlationId }),
          );
          if (!claim.claimed)
            return refuse(
              feed,
              inbox,
              file,
              'duplicate',
              [
                `the same content was taken before as ${claim.earlier.name} (${claim.earlier.status}, ${claim.earlier.createdAt.toISOString()}): a file is loaded once; a corrected re-extract is loaded with reprocess --reason`,
              ],
              [],
              { earlier: claim.earlier.id },
              correlationId,
            );
          const claimed = { ...file, id: claim.file.id };
          const sameName = await loadedUnderName(db, feed.code, input.name);
          // A reprocess was asked for by a person, with a reason: a same-named file loaded before does not stop it.
          if (sameName && sameName.sha256 !== file.sha256 && !claim.file.reprocessReason)
            refusals.push(
              `a file named ${input.name} was loaded before with other content (${sameName.createdAt.toISOString()}): a corrected re-extract is loaded with reprocess --reason`,
            );

          refusals.push(...v.refusals);
          const expected = control
            ? { count: control.rows, total: scaledDecimal(control.total), from: 'control file' }
            : v.trailer && { ...v.trailer, from: 'trailer' };
          if (!expected && definition.readiness === 'rename' && definition.layout.format === 'fixed')
            refusals.push('no trailer record');
          if (expected && expected.count !== v.details + v.badRows)
            refusals.push(
              `row count: the ${expected.from} says ${expected.count}, the file has ${v.details + v.badRows}`,
            );
          if (expected && v.badRows === 0 && expected.total !== v.total)
            refusals.push(
              `control total: the ${expected.from} says ${formatScaled(expected.total)}, the amounts sum to ${formatScaled(v.total)}`,
            );
          if (v.badRows) refusals.push(`${v.badRows} record(s) do not read by the layout (listed below)`);
          const checks = { details: v.details, total: formatScaled(v.total), badRows: v.badRows };
          if (refusals.length)
            return refuse(feed, inbox, claimed, 'rejected', refusals, v.report, checks, correlationId, from);

          const counts = await loadLedgerItems(db, {
            legalEntity: feed.legalEntity,
            items: ledgerItems(inbox, path, definition.layout),
            correlationId,
            onProgress: (p) => progress({ phase: 'loading', ...p }),
          });
          const { movedTo } = await moveInto(inbox, 'archive', input.name, file.sha256, from);
          await db.transaction((tx) =>
            finishInboxFile(tx, {
              ...claimed,
              feedCode: feed.code,
              legalEntity: feed.legalEntity,
              status: 'loaded',
              outcome: {
                ...checks,
                ...counts,
                ...(control?.submittedBy ? { submittedBy: control.submittedBy } : {}),
              },
              movedTo,
              correlationId,
            }),
          );
          return { name: input.name, status: 'loaded', movedTo, counts };
        } finally {
          await inbox.close();
        }
      }),
  };
}
