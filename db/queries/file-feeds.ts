import { and, desc, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { FeedDefinition } from '../../domain/file-feeds';
import { type DbOrTx, type Tx } from '../client';
import { fileFeeds, inboxFiles } from '../schema';
import { appendAudit } from './audit';

/**
 * File feeds (domain/file-feeds) and the processed-file ledger. Which file is taken, and once, is decided by the
 * database: a file's content is claimed by one conditional insert whose returned row says who took it.
 */

export type FileFeedRow = typeof fileFeeds.$inferSelect;
export type InboxFileRow = typeof inboxFiles.$inferSelect;

/** Declares a feed or changes its definition; audited in the entity's actuals stream when anything changed. */
export async function upsertFileFeed(
  tx: Tx,
  f: { code: string; legalEntity: string; definition: FeedDefinition; by: string; correlationId: string },
): Promise<{ feed: FileFeedRow; changed: boolean }> {
  const definition = f.definition as unknown as Record<string, unknown>;
  const [existing] = await tx.select().from(fileFeeds).where(eq(fileFeeds.code, f.code)).for('update');
  // Both read through the schema, so their keys come in one order (as a calendar's spec is compared).
  const same =
    existing?.legalEntity === f.legalEntity &&
    JSON.stringify(FeedDefinition.safeParse(existing.definition).data) === JSON.stringify(f.definition);
  if (existing && same) return { feed: existing, changed: false };
  const [feed] = await tx
    .insert(fileFeeds)
    .values({ code: f.code, legalEntity: f.legalEntity, kind: f.definition.kind, definition })
    .onConflictDoUpdate({
      target: fileFeeds.code,
      set: { legalEntity: f.legalEntity, kind: f.definition.kind, definition, updatedAt: sql`now()` },
    })
    .returning();
  await appendAudit(tx, {
    stream: auditStream.actuals(f.legalEntity),
    actor: f.by,
    action: existing ? 'file_feed.changed' : 'file_feed.declared',
    entityType: 'file_feed',
    entityId: f.code,
    correlationId: f.correlationId,
    eventKey: `file-feed:${f.code}:${f.correlationId}`,
    details: { legalEntity: f.legalEntity, definition, ...(existing ? { before: existing.definition } : {}) },
  });
  return { feed: feed!, changed: true };
}

export async function fileFeed(db: DbOrTx, code: string): Promise<FileFeedRow | undefined> {
  const [row] = await db.select().from(fileFeeds).where(eq(fileFeeds.code, code));
  return row;
}

export function allFileFeeds(db: DbOrTx): Promise<FileFeedRow[]> {
  return db.select().from(fileFeeds).orderBy(fileFeeds.code);
}

/** A feed's files, newest first. */
export function inboxFilesOf(db: DbOrTx, feedCode: string, limit = 200): Promise<InboxFileRow[]> {
  return db
    .select()
    .from(inboxFiles)
    .where(eq(inboxFiles.feedCode, feedCode))
    .orderBy(desc(inboxFiles.createdAt))
    .limit(limit);
}

export type Claim =
  /** This content is this load's to take (new, or a load of it that did not finish: resumed). */
  | { claimed: true; file: InboxFileRow }
  /** Already taken: the earlier file, loaded or refused. */
  | { claimed: false; earlier: InboxFileRow };

/**
 * Claims a file's content for loading: one insert that succeeds for the first taker of (feed, content) only. A
 * load of the same content that never finished (its worker lost) is the caller's to resume: loading counts each
 * line once by its business key, so a resumed load adds nothing twice.
 */
export async function claimInboxFile(
  tx: Tx,
  f: { feedCode: string; name: string; sha256: string; size: number; correlationId: string },
): Promise<Claim> {
  const [inserted] = await tx
    .insert(inboxFiles)
    .values({ ...f, generation: 0, status: 'loading' })
    .onConflictDoNothing()
    .returning();
  if (inserted) return { claimed: true, file: inserted };
  const [earlier] = await tx
    .select()
    .from(inboxFiles)
    .where(and(eq(inboxFiles.feedCode, f.feedCode), eq(inboxFiles.sha256, f.sha256)))
    .orderBy(desc(inboxFiles.generation))
    .limit(1);
  if (earlier!.status === 'loading') return { claimed: true, file: earlier! };
  return { claimed: false, earlier: earlier! };
}

export type ReprocessOutcome =
  | { requested: true; file: InboxFileRow }
  | { requested: false; reason: 'not_found' | 'in_progress'; file?: InboxFileRow };

/**
 * Asks for a file the feed took (loaded, refused or recognised as a duplicate) to be taken again, with why: a
 * new generation of its content, claimed for loading at once, which the next pickup takes from where the file
 * was moved (the ledger and the business keys of its lines still count each line once). Audited; refused while
 * a load of that content is under way.
 */
export async function requestReprocess(
  tx: Tx,
  r: {
    feedCode: string;
    legalEntity: string;
    fileId: string;
    reason: string;
    by: string;
    correlationId: string;
  },
): Promise<ReprocessOutcome> {
  // One request at a time per feed: two would both read the same next generation.
  await tx.execute(sql`select 1 from file_feeds where code = ${r.feedCode} for update`);
  const [file] = await tx
    .select()
    .from(inboxFiles)
    .where(and(eq(inboxFiles.feedCode, r.feedCode), eq(inboxFiles.id, r.fileId)));
  if (!file) return { requested: false, reason: 'not_found' };
  const [loading] = await tx
    .select()
    .from(inboxFiles)
    .where(
      and(
        eq(inboxFiles.feedCode, r.feedCode),
        eq(inboxFiles.sha256, file.sha256),
        eq(inboxFiles.status, 'loading'),
      ),
    );
  if (loading) return { requested: false, reason: 'in_progress', file: loading };
  const [requested] = await tx
    .insert(inboxFiles)
    .values({
      feedCode: r.feedCode,
      name: file.name,
      sha256: file.sha256,
      size: file.size,
      generation: sql`(select greatest(max(generation), 0) + 1 from inbox_files where feed_code = ${r.feedCode} and sha256 = ${file.sha256})`,
      status: 'loading',
      correlationId: r.correlationId,
      reprocessReason: r.reason,
    })
    .returning();
  await appendAudit(tx, {
    stream: auditStream.actuals(r.legalEntity),
    actor: r.by,
    action: 'inbox_file.reprocess_requested',
    entityType: 'inbox_file',
    entityId: requested!.id,
    correlationId: r.correlationId,
    eventKey: `inbox-file:${requested!.id}:reprocess`,
    details: {
      feed: r.feedCode,
      name: file.name,
      sha256: file.sha256,
      of: file.id,
      was: file.status,
      reason: r.reason,
    },
  });
  return { requested: true, file: requested! };
}

/** Whether a load of this content was claimed and never finished (its worker lost). */
export async function inboxFileLoading(db: DbOrTx, feedCode: string, sha256: string): Promise<boolean> {
  const rows = await db
    .select({ id: inboxFiles.id })
    .from(inboxFiles)
    .where(
      and(eq(inboxFiles.feedCode, feedCode), eq(inboxFiles.sha256, sha256), eq(inboxFiles.status, 'loading')),
    );
  return rows.length > 0;
}

/** The last file of this name the feed loaded, whatever its content. */
export async function loadedUnderName(db: DbOrTx, feedCode: string, name: string) {
  const [row] = await db
    .select()
    .from(inboxFiles)
    .where(and(eq(inboxFiles.feedCode, feedCode), eq(inboxFiles.name, name), eq(inboxFiles.status, 'loaded')))
    .orderBy(desc(inboxFiles.createdAt))
    .limit(1);
  return row;
}

/**
 * Records what became of a file a scan found: loaded, rejected (with its report) or recognised as a duplicate,
 * and where it was moved; audited in the entity's actuals stream. A file already finished is left as it is.
 */
export async function finishInboxFile(
  tx: Tx,
  f: {
    id?: string;
    feedCode: string;
    legalEntity: string;
    name: string;
    sha256: string;
    size: number;
    status: 'loaded' | 'rejected' | 'duplicate';
    outcome: Record<string, unknown>;
    movedTo: string;
    report?: string;
    correlationId: string;
  },
): Promise<InboxFileRow> {
  // A duplicate or a file refused before it was claimed has no row yet: it gets one of its own generation.
  const [row] = f.id
    ? await tx
        .update(inboxFiles)
        .set({
          status: f.status,
          outcome: f.outcome,
          movedTo: f.movedTo,
          report: f.report ?? null,
          finishedAt: sql`now()`,
        })
        .where(and(eq(inboxFiles.id, f.id), eq(inboxFiles.status, 'loading')))
        .returning()
    : await tx
        .insert(inboxFiles)
        .values({
          feedCode: f.feedCode,
          name: f.name,
          sha256: f.sha256,
          size: f.size,
          // Kept apart from the generation that loaded this content: a negative generation is never claimed.
          generation: sql`-1 - (select count(*) from inbox_files where feed_code = ${f.feedCode} and sha256 = ${f.sha256} and generation < 0)`,
          status: f.status,
          outcome: f.outcome,
          movedTo: f.movedTo,
          report: f.report ?? null,
          correlationId: f.correlationId,
          finishedAt: sql`now()`,
        })
        .returning();
  if (!row) {
    const [done] = await tx.select().from(inboxFiles).where(eq(inboxFiles.id, f.id!));
    return done!;
  }
  await appendAudit(tx, {
    stream: auditStream.actuals(f.legalEntity),
    actor: `file-feed:${f.feedCode}`,
    action: `inbox_file.${f.status}`,
    entityType: 'inbox_file',
    entityId: row.id,
    correlationId: f.correlationId,
    eventKey: `inbox-file:${row.id}:${f.status}`,
    details: { feed: f.feedCode, name: f.name, sha256: f.sha256, movedTo: f.movedTo, ...f.outcome },
  });
  return row;
}
