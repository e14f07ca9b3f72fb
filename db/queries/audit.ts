import { createHash } from 'node:crypto';
import { asc, desc, eq, sql } from 'drizzle-orm';
import { type DbOrTx } from '../client';
import { auditLog } from '../schema';

export interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  correlationId: string;
  /** Business identity of the event, so a retried activity records it once. */
  eventKey: string;
  details: Record<string, unknown>;
}

// Any constant works; it only has to be the same for every writer so appends are serialised.
const AUDIT_CHAIN_LOCK = 0x636c6f73;
const GENESIS = '0'.repeat(64);

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
  const body = canonicalJson({ ...e, occurredAt: occurredAt.toISOString() });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * Appends to the hash chain. Call it inside the transaction that makes the change it records, so the
 * change and its audit entry commit together. Returns false when the event was already recorded.
 */
export async function appendAudit(tx: DbOrTx, entry: AuditEntry): Promise<boolean> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
  const existing = await tx
    .select({ seq: auditLog.seq })
    .from(auditLog)
    .where(eq(auditLog.eventKey, entry.eventKey));
  if (existing.length) return false;
  const [last] = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  const prevHash = last?.hash ?? GENESIS;
  const occurredAt = new Date();
  await tx
    .insert(auditLog)
    .values({ ...entry, occurredAt, prevHash, hash: entryHash(prevHash, occurredAt, entry) });
  return true;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** First sequence number whose hash does not match its content or predecessor. */
  brokenAt?: number;
}

/** Recomputes the chain from the start; any edited, inserted or removed row breaks it. */
export async function verifyAuditChain(db: DbOrTx): Promise<AuditVerification> {
  const rows = await db.select().from(auditLog).orderBy(asc(auditLog.seq));
  let prev = GENESIS;
  for (const row of rows) {
    const expected = entryHash(prev, row.occurredAt, {
      actor: row.actor,
      action: row.action,
      entityType: row.entityType,
      entityId: row.entityId,
      correlationId: row.correlationId,
      eventKey: row.eventKey,
      details: row.details as Record<string, unknown>,
    });
    if (row.prevHash !== prev || row.hash !== expected)
      return { ok: false, entries: rows.length, brokenAt: row.seq };
    prev = row.hash;
  }
  return { ok: true, entries: rows.length };
}

export function auditTrail(db: DbOrTx, entityType: string, entityId: string) {
  return db
    .select()
    .from(auditLog)
    .where(sql`${auditLog.entityType} = ${entityType} and ${auditLog.entityId} = ${entityId}`)
    .orderBy(asc(auditLog.seq));
}
