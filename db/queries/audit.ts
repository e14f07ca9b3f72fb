import { createHash } from 'node:crypto';
import { and, asc, desc, eq, inArray, or, sql } from 'drizzle-orm';
import { type DbOrTx } from '../client';
import { auditLog } from '../schema';

export interface AuditEntry {
  /** The hash chain this entry joins (see `auditStream` in domain/identity). */
  stream: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  correlationId: string;
  /** Business identity of the event, so a retried activity records it once. */
  eventKey: string;
  details: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);
/** Rows from before streams existed: one chain, hashed without a stream. */
const LEGACY_STREAM = 'legacy';

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function entryHash(prevHash: string, occurredAt: Date, e: AuditEntry): string {
  const { stream, ...rest } = e;
  const body = canonicalJson({
    ...rest,
    ...(stream === LEGACY_STREAM ? {} : { stream }),
    occurredAt: occurredAt.toISOString(),
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * Appends to the entry's stream. Call it inside the transaction that makes the change it records, so the
 * change and its audit entry commit together. Appends to one stream are serialised by a transaction-scoped
 * advisory lock on that stream only. Returns false when the event was already recorded.
 */
export async function appendAudit(tx: DbOrTx, entry: AuditEntry): Promise<boolean> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`audit:${entry.stream}`}, 0))`);
  const [last] = await tx
    .select({ hash: auditLog.hash })
    .from(auditLog)
    .where(eq(auditLog.stream, entry.stream))
    .orderBy(desc(auditLog.seq))
    .limit(1);
  const prevHash = last?.hash ?? GENESIS;
  const occurredAt = new Date();
  const inserted = await tx
    .insert(auditLog)
    .values({ ...entry, occurredAt, prevHash, hash: entryHash(prevHash, occurredAt, entry) })
    .onConflictDoNothing({ target: auditLog.eventKey })
    .returning({ seq: auditLog.seq });
  return inserted.length > 0;
}

export interface StreamVerification {
  stream: string;
  entries: number;
  ok: boolean;
  /** First sequence number whose hash does not match its content or its predecessor in the stream. */
  brokenAt?: number;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  streams: StreamVerification[];
  /** The first break found, in stream order. */
  brokenAt?: number;
}

/** Recomputes every stream's chain from its start; any edited, inserted or removed row breaks it. */
export async function verifyAuditChain(
  db: DbOrTx,
  opts: { stream?: string } = {},
): Promise<AuditVerification> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(opts.stream ? eq(auditLog.stream, opts.stream) : undefined)
    .orderBy(asc(auditLog.stream), asc(auditLog.seq));
  const streams: StreamVerification[] = [];
  let current: StreamVerification | undefined;
  let prev = GENESIS;
  for (const row of rows) {
    if (current?.stream !== row.stream) {
      current = { stream: row.stream, entries: 0, ok: true };
      streams.push(current);
      prev = GENESIS;
    }
    current.entries++;
    if (!current.ok) continue;
    const expected = entryHash(prev, row.occurredAt, {
      stream: row.stream,
      actor: row.actor,
      action: row.action,
      entityType: row.entityType,
      entityId: row.entityId,
      correlationId: row.correlationId,
      eventKey: row.eventKey,
      details: row.details as Record<string, unknown>,
    });
    if (row.prevHash !== prev || row.hash !== expected) {
      current.ok = false;
      current.brokenAt = row.seq;
    }
    prev = row.hash;
  }
  const broken = streams.find((s) => !s.ok);
  return { ok: !broken, entries: rows.length, streams, brokenAt: broken?.brokenAt };
}

/**
 * What an auditor needs to follow one budget cycle: every entry carrying its correlation IDs (the cycle's
 * own effects, from import to forecast, including refused decisions and signals) and every entry about the
 * version and its publications, whichever cycle wrote it.
 */
export function auditTrail(
  db: DbOrTx,
  subject: { correlationIds: string[]; versionId?: string; publicationIds?: string[] },
) {
  const clauses = [
    subject.correlationIds.length ? inArray(auditLog.correlationId, subject.correlationIds) : undefined,
    subject.versionId
      ? and(eq(auditLog.entityType, 'budget_version'), eq(auditLog.entityId, subject.versionId))
      : undefined,
    subject.publicationIds?.length
      ? and(eq(auditLog.entityType, 'publication'), inArray(auditLog.entityId, subject.publicationIds))
      : undefined,
  ].filter((c) => c !== undefined);
  if (!clauses.length) return Promise.resolve([]);
  return db
    .select()
    .from(auditLog)
    .where(or(...clauses))
    .orderBy(asc(auditLog.seq));
}
