import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type SourceLineError } from '../../domain/source-lines';
import { type DbOrTx, type Tx } from '../client';
import { sourceExceptions } from '../schema';
import { appendAudit } from './audit';

export type SourceExceptionRow = typeof sourceExceptions.$inferSelect;
export type SourceExceptionStatus = SourceExceptionRow['status'];

export interface KeptRecord {
  sourceSystem: string;
  legalEntity: string;
  /** What kind of record: `actuals`, `commitments`, … */
  stream: string;
  /** Business identity of the record in its source; a repeated delivery is the same row. */
  recordKey: string;
  payload: Record<string, unknown>;
  errorCode: string;
  errorMessage: string;
  correlationId: string;
  /** The audit stream the first sighting is recorded in. */
  auditStream: string;
  /**
   * `discarded`: kept for support to see, never to be replayed (a record that is not what the stream counts,
   * such as a migration's opening balance journal). Open by default.
   */
  status?: 'open' | 'discarded';
}

/**
 * Keeps a record that could not be processed, with its error. A repeated delivery of an open exception
 * counts another occurrence and keeps the latest error; one already reprocessed, resolved or discarded is
 * left as it is. Returns whether this call created the exception (its first sighting is audited).
 */
export async function keepSourceException(
  tx: Tx,
  r: KeptRecord,
): Promise<'created' | 'seen_again' | 'closed'> {
  const [row] = await tx
    .insert(sourceExceptions)
    .values({
      sourceSystem: r.sourceSystem,
      legalEntity: r.legalEntity,
      stream: r.stream,
      recordKey: r.recordKey,
      payload: r.payload,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      correlationId: r.correlationId,
      status: r.status ?? 'open',
    })
    .onConflictDoUpdate({
      target: [sourceExceptions.sourceSystem, sourceExceptions.stream, sourceExceptions.recordKey],
      set: {
        occurrences: sql`${sourceExceptions.occurrences} + 1`,
        lastSeenAt: sql`now()`,
        errorCode: sql`excluded.error_code`,
        errorMessage: sql`excluded.error_message`,
        payload: sql`excluded.payload`,
      },
      setWhere: eq(sourceExceptions.status, 'open'),
    })
    .returning({ id: sourceExceptions.id, occurrences: sourceExceptions.occurrences });
  if (!row) return 'closed';
  if (row.occurrences > 1) return 'seen_again';
  await appendAudit(tx, {
    stream: r.auditStream,
    actor: 'closeloop',
    action: 'source_record.kept_as_exception',
    entityType: 'source_exception',
    entityId: row.id,
    correlationId: r.correlationId,
    eventKey: `exception:${r.sourceSystem}:${r.stream}:${r.recordKey}`,
    details: { recordKey: r.recordKey, errorCode: r.errorCode, errorMessage: r.errorMessage },
  });
  return 'created';
}

/**
 * Closes an open exception once its record went through (replayed by support, or delivered again after the
 * cause was fixed). Returns false when there was no open exception for the record.
 */
export async function closeSourceException(
  tx: Tx,
  c: {
    sourceSystem: string;
    stream: string;
    recordKey: string;
    status: 'reprocessed' | 'resolved';
    by: string;
    correlationId: string;
    auditStream: string;
  },
): Promise<boolean> {
  const [row] = await tx
    .update(sourceExceptions)
    .set({ status: c.status, resolvedAt: new Date(), resolvedBy: c.by })
    .where(
      and(
        eq(sourceExceptions.sourceSystem, c.sourceSystem),
        eq(sourceExceptions.stream, c.stream),
        eq(sourceExceptions.recordKey, c.recordKey),
        eq(sourceExceptions.status, 'open'),
      ),
    )
    .returning({ id: sourceExceptions.id });
  if (!row) return false;
  await appendAudit(tx, {
    stream: c.auditStream,
    actor: c.by,
    action: `source_record.${c.status}`,
    entityType: 'source_exception',
    entityId: row.id,
    correlationId: c.correlationId,
    eventKey: `exception-${c.status}:${row.id}`,
    details: { recordKey: c.recordKey },
  });
  return true;
}

export function listSourceExceptions(
  db: DbOrTx,
  q: {
    legalEntity?: string;
    stream?: string;
    statuses?: SourceExceptionStatus[];
    ids?: string[];
    limit: number;
  },
) {
  return db
    .select()
    .from(sourceExceptions)
    .where(
      and(
        q.legalEntity ? eq(sourceExceptions.legalEntity, q.legalEntity) : undefined,
        q.stream ? eq(sourceExceptions.stream, q.stream) : undefined,
        q.statuses?.length ? inArray(sourceExceptions.status, q.statuses) : undefined,
        q.ids?.length ? inArray(sourceExceptions.id, q.ids) : undefined,
      ),
    )
    .orderBy(asc(sourceExceptions.firstSeenAt), asc(sourceExceptions.recordKey))
    .limit(q.limit);
}

/**
 * A source line that could not be counted, kept with the reason it could not (see keepSourceException).
 * 'closed': an exception for the record was already replayed or resolved, so the line itself went through.
 */
export async function keepUncountableLine(
  tx: Tx,
  l: {
    sourceSystem: string;
    legalEntity: string;
    stream: 'actuals' | 'commitments';
    recordKey: string;
    payload: Record<string, unknown>;
    error: SourceLineError;
    correlationId: string;
  },
): Promise<'kept' | 'kept_again' | 'closed'> {
  const kept = await keepSourceException(tx, {
    sourceSystem: l.sourceSystem,
    legalEntity: l.legalEntity,
    stream: l.stream,
    recordKey: l.recordKey,
    payload: l.payload,
    errorCode: l.error.code,
    errorMessage: l.error.message,
    correlationId: l.correlationId,
    auditStream: auditStream[l.stream](l.legalEntity),
  });
  return kept === 'created' ? 'kept' : kept === 'seen_again' ? 'kept_again' : 'closed';
}

/** What a replay of dead letters is asked with, whatever the stream. */
export interface ReplayRequest {
  by: string;
  correlationId: string;
  /** Only these dead letters; every open one of the stream when absent. */
  ids?: string[];
  /** Only dead letters with these error codes (e.g. after adding a rate: fx_rate_missing). */
  errorCodes?: string[];
  onProgress?: (done: number, total: number) => void;
}

/** The open dead letters of one source, entity and stream a replay takes, narrowed as it asks. */
export function openSourceExceptions(
  db: DbOrTx,
  q: { sourceSystem: string; legalEntity: string; stream: string } & Pick<
    ReplayRequest,
    'ids' | 'errorCodes'
  >,
) {
  return db
    .select()
    .from(sourceExceptions)
    .where(
      and(
        eq(sourceExceptions.sourceSystem, q.sourceSystem),
        eq(sourceExceptions.legalEntity, q.legalEntity),
        eq(sourceExceptions.stream, q.stream),
        eq(sourceExceptions.status, 'open'),
        q.ids?.length ? inArray(sourceExceptions.id, q.ids) : undefined,
        q.errorCodes?.length ? inArray(sourceExceptions.errorCode, q.errorCodes) : undefined,
      ),
    );
}
