import { and, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { fromMinor, toMinor } from '../../domain/money';
import {
  type CanonicalSourceLine,
  canonicaliseSourceLine,
  type SourceLineInput,
} from '../../domain/source-lines';
import { type DbOrTx, type Tx } from '../client';
import { commitmentLines, type ReplacedCommitment } from '../schema';
import { addToBalance } from './balances';
import { closeSourceException, keepUncountableLine } from './source-exceptions';
import { type SourceContext, sourceLineRow } from './source-lines';
import { storeWatermark, type WatermarkKey } from './watermarks';

export const COMMITMENTS_STREAM = 'commitments' as const;

export interface CommitmentRecord {
  sourceSystem: string;
  legalEntity: string;
  /** Identity of the line in its source (source + document + line); its revision orders its versions. */
  recordKey: string;
  documentId: string;
  lineNo: number;
  revision: number;
  correlationId: string;
}

/** The snapshot's time, from the database's clock, so every worker orders snapshots the same way. */
export async function snapshotTime(db: DbOrTx): Promise<string> {
  const [row] = (await db.execute(
    sql`select to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`,
  )) as unknown as {
    at: string;
  }[];
  return row!.at;
}

/**
 * Open purchase-order lines are a snapshot of the source. Snapshots of one entity apply one at a time (a
 * transaction-scoped advisory lock), and only when newer than the last one applied: the conditional
 * watermark's returned row says so. A stale snapshot — read before one that has already been applied —
 * changes nothing, so it can never release a line the newer snapshot holds.
 */
export async function beginCommitmentSnapshot(tx: Tx, k: WatermarkKey, takenAt: string): Promise<boolean> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`commitments:${k.sourceSystem}:${k.legalEntity}:${k.scope}`}, 0))`,
  );
  return storeWatermark(tx, k, takenAt, 'forward-only');
}

const key = (
  legalEntity: string,
  c: Pick<ReplacedCommitment, 'account' | 'costCenter' | 'period' | 'currency'> & {
    dimensions?: Record<string, string> | null;
  },
) => ({
  legalEntity,
  account: c.account,
  costCenter: c.costCenter,
  period: c.period,
  currency: c.currency,
  ...(c.dimensions ? { dimensions: c.dimensions } : {}),
});

const negated = (amount: string, currency: string) => fromMinor(-toMinor(amount, currency), currency);

const replacedValues = sql`jsonb_build_object(
  'revision', ${commitmentLines}.revision, 'account', ${commitmentLines}.account,
  'costCenter', ${commitmentLines}.cost_center, 'period', ${commitmentLines}.period,
  'openAmount', ${commitmentLines}.open_amount::text, 'currency', ${commitmentLines}.currency,
  'dimensions', ${commitmentLines}.dimensions)`;

/**
 * Applies one open line of a snapshot. The upsert decides: it inserts a new line, replaces a line at a
 * lower revision (or the same revision with other values), or does nothing; its returned row (with what it
 * replaced) says which, and the balance moves by exactly that difference. Two syncs delivering the same
 * line can therefore never both add it.
 */
export async function applyCommitmentLine(
  tx: Tx,
  r: CommitmentRecord,
  line: CanonicalSourceLine,
): Promise<'inserted' | 'replaced' | 'unchanged'> {
  const values = {
    ...sourceLineRow(r, line),
    openAmount: line.amount.amount,
    currency: line.amount.currency,
    correlationId: r.correlationId,
    replaced: null,
  };
  const [row] = await tx
    .insert(commitmentLines)
    .values(values)
    .onConflictDoUpdate({
      target: [commitmentLines.sourceSystem, commitmentLines.documentId, commitmentLines.lineNo],
      set: {
        revision: sql`excluded.revision`,
        legalEntity: sql`excluded.legal_entity`,
        dimensions: sql`excluded.dimensions`,
        account: sql`excluded.account`,
        costCenter: sql`excluded.cost_center`,
        period: sql`excluded.period`,
        openAmount: sql`excluded.open_amount`,
        currency: sql`excluded.currency`,
        correlationId: sql`excluded.correlation_id`,
        replaced: replacedValues,
        updatedAt: sql`now()`,
      },
      setWhere: sql`excluded.revision > ${commitmentLines}.revision
        or (excluded.revision = ${commitmentLines}.revision
            and (excluded.open_amount, excluded.dimensions, excluded.account, excluded.cost_center, excluded.period,
                 excluded.currency)
                is distinct from (${commitmentLines}.open_amount, ${commitmentLines}.dimensions,
                                  ${commitmentLines}.account, ${commitmentLines}.cost_center,
                                  ${commitmentLines}.period, ${commitmentLines}.currency))`,
    })
    .returning();
  if (!row) return 'unchanged';
  if (row.replaced && toMinor(row.replaced.openAmount, row.replaced.currency) !== 0n) {
    await addToBalance(
      tx,
      key(r.legalEntity, row.replaced),
      'committed',
      negated(row.replaced.openAmount, row.replaced.currency),
    );
  }
  await addToBalance(tx, key(r.legalEntity, row), 'committed', row.openAmount);
  await closeSourceException(tx, {
    sourceSystem: r.sourceSystem,
    stream: COMMITMENTS_STREAM,
    recordKey: r.recordKey,
    status: 'resolved',
    by: 'closeloop',
    correlationId: r.correlationId,
    auditStream: auditStream.commitments(r.legalEntity),
  });
  return row.replaced ? 'replaced' : 'inserted';
}

/** Stored open lines of an entity from one source (with their business identity). */
export function openCommitmentLines(db: DbOrTx, sourceSystem: string, legalEntity: string) {
  return db
    .select()
    .from(commitmentLines)
    .where(
      and(
        eq(commitmentLines.sourceSystem, sourceSystem),
        eq(commitmentLines.legalEntity, legalEntity),
        sql`${commitmentLines.openAmount} <> 0`,
      ),
    );
}

/**
 * A stored open line the latest snapshot no longer holds is released to zero; the update decides (only a
 * line still open changes) and returns what it released.
 */
export async function releaseCommitmentLine(
  tx: Tx,
  r: Pick<CommitmentRecord, 'sourceSystem' | 'legalEntity' | 'documentId' | 'lineNo' | 'correlationId'>,
): Promise<boolean> {
  const [row] = await tx
    .update(commitmentLines)
    .set({ openAmount: '0', replaced: replacedValues, correlationId: r.correlationId, updatedAt: new Date() })
    .where(
      and(
        eq(commitmentLines.sourceSystem, r.sourceSystem),
        eq(commitmentLines.documentId, r.documentId),
        eq(commitmentLines.lineNo, r.lineNo),
        sql`${commitmentLines.openAmount} <> 0`,
      ),
    )
    .returning();
  if (!row?.replaced) return false;
  await addToBalance(
    tx,
    key(r.legalEntity, row.replaced),
    'committed',
    negated(row.replaced.openAmount, row.replaced.currency),
  );
  return true;
}

export interface SourceCommitmentRecord {
  documentId: string;
  lineNo: number;
  revision: number;
  dimensions: SourceLineInput['dimensions'];
  date: string;
  openAmount: SourceLineInput['amount'];
}

/** The identity of a purchase-order line across its revisions. */
export const commitmentRecordKey = (
  sourceSystem: string,
  r: Pick<SourceCommitmentRecord, 'documentId' | 'lineNo'>,
) => `${sourceSystem}:${r.documentId}:${r.lineNo}`;

/**
 * One open line of a snapshot, end to end in the caller's transaction: canonicalised and applied, or kept
 * with its error (a later snapshot that carries it cleanly resolves the exception).
 */
export async function processCommitmentLine(
  tx: Tx,
  ctx: SourceContext,
  record: SourceCommitmentRecord,
  correlationId: string,
): Promise<'inserted' | 'replaced' | 'unchanged' | 'kept' | 'kept_again' | 'closed'> {
  const recordKey = commitmentRecordKey(ctx.sourceSystem, record);
  const canonical = canonicaliseSourceLine(
    { dimensions: record.dimensions, date: record.date, amount: record.openAmount },
    ctx,
  );
  if ('error' in canonical) {
    return keepUncountableLine(tx, {
      sourceSystem: ctx.sourceSystem,
      legalEntity: ctx.legalEntity,
      stream: COMMITMENTS_STREAM,
      recordKey,
      payload: { ...record },
      error: canonical.error,
      correlationId,
    });
  }
  return applyCommitmentLine(
    tx,
    {
      sourceSystem: ctx.sourceSystem,
      legalEntity: ctx.legalEntity,
      recordKey,
      documentId: record.documentId,
      lineNo: record.lineNo,
      revision: record.revision,
      correlationId: `${correlationId}:${recordKey}:r${record.revision}`,
    },
    canonical.line,
  );
}
