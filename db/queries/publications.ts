import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { budgetVersions, publicationChunks, publications } from '../schema';
import { appendAudit } from './audit';
import { markVersionPublicationFailed } from './budget-versions';

export type PublicationRow = typeof publications.$inferSelect;
export type PublicationChunkRow = typeof publicationChunks.$inferSelect;

export async function findPublication(db: DbOrTx, versionId: string, target: string, revision: number) {
  const [row] = await db
    .select()
    .from(publications)
    .where(
      and(
        eq(publications.versionId, versionId),
        eq(publications.target, target),
        eq(publications.revision, revision),
      ),
    );
  return row;
}

export async function getPublication(db: DbOrTx, publicationId: string) {
  const [row] = await db.select().from(publications).where(eq(publications.id, publicationId));
  return row;
}

export async function publicationsOfVersion(db: DbOrTx, versionId: string) {
  return db
    .select()
    .from(publications)
    .where(eq(publications.versionId, versionId))
    .orderBy(asc(publications.target), desc(publications.revision));
}

export async function getChunk(db: DbOrTx, publicationId: string, chunkIndex: number) {
  const [row] = await db
    .select()
    .from(publicationChunks)
    .where(
      and(eq(publicationChunks.publicationId, publicationId), eq(publicationChunks.chunkIndex, chunkIndex)),
    );
  return row;
}

export async function chunksOf(db: DbOrTx, publicationId: string) {
  return db
    .select()
    .from(publicationChunks)
    .where(eq(publicationChunks.publicationId, publicationId))
    .orderBy(asc(publicationChunks.chunkIndex));
}

/**
 * The revision a publication of (version, target) should run under: the standing one when a publication is
 * under way or done (a reset or a later cycle resumes it, posting nothing new), otherwise the next after
 * the last failed or reversed one.
 */
export async function nextPublicationRevision(
  db: DbOrTx,
  versionId: string,
  target: string,
): Promise<{ revision: number; published: PublicationRow | undefined }> {
  const rows = await db
    .select()
    .from(publications)
    .where(and(eq(publications.versionId, versionId), eq(publications.target, target)))
    .orderBy(desc(publications.revision));
  const standing = rows.find((p) => p.status === 'publishing' || p.status === 'published');
  if (standing)
    return { revision: standing.revision, published: standing.status === 'published' ? standing : undefined };
  return { revision: (rows[0]?.revision ?? 0) + 1, published: undefined };
}

function publicationAudit(
  tx: Tx,
  p: Pick<PublicationRow, 'id' | 'correlationId'> & { legalEntity: string },
  e: { action: string; eventKey: string; correlationId?: string; details: Record<string, unknown> },
) {
  return appendAudit(tx, {
    stream: auditStream.budget(p.legalEntity),
    actor: 'closeloop',
    action: e.action,
    entityType: 'publication',
    entityId: p.id,
    correlationId: e.correlationId ?? p.correlationId,
    eventKey: e.eventKey,
    details: e.details,
  });
}

export interface PlannedChunk {
  idempotencyKey: string;
  firstLineNo: number;
  lastLineNo: number;
  lineCount: number;
}

/**
 * Fixes a publication's chunk plan (and so every idempotency key) before anything is posted. Returns the
 * stored publication; when another run planned it first, that plan stands.
 */
export async function planPublication(
  tx: Tx,
  p: {
    versionId: string;
    legalEntity: string;
    target: string;
    revision: number;
    company: string;
    settings: Record<string, string>;
    chunkSize: number;
    correlationId: string;
    chunks: PlannedChunk[];
  },
): Promise<PublicationRow> {
  const [publication] = await tx
    .insert(publications)
    .values({
      versionId: p.versionId,
      target: p.target,
      revision: p.revision,
      erpCompany: p.company,
      settings: p.settings,
      status: 'publishing',
      chunkSize: p.chunkSize,
      chunkCount: p.chunks.length,
      correlationId: p.correlationId,
    })
    .onConflictDoNothing()
    .returning();
  if (!publication) return (await findPublication(tx, p.versionId, p.target, p.revision))!;
  if (p.chunks.length) {
    await tx
      .insert(publicationChunks)
      .values(p.chunks.map((c, chunkIndex) => ({ publicationId: publication.id, chunkIndex, ...c })));
  }
  await publicationAudit(
    tx,
    { ...publication, legalEntity: p.legalEntity },
    {
      action: 'publication.started',
      eventKey: `publication-started:${publication.id}`,
      details: {
        versionId: p.versionId,
        target: p.target,
        revision: p.revision,
        chunkCount: p.chunks.length,
        chunkSize: p.chunkSize,
      },
    },
  );
  return publication;
}

/** A chunk the ERP accepted: pending → posted, once. Returns false when the chunk was not pending. */
export async function markChunkPosted(
  tx: Tx,
  c: {
    publication: PublicationRow;
    legalEntity: string;
    chunk: PublicationChunkRow;
    documentNumber: string;
    lineCount: number;
    alreadyPosted: boolean;
  },
): Promise<boolean> {
  const rows = await tx
    .update(publicationChunks)
    .set({ status: 'posted', documentNumber: c.documentNumber, postedAt: new Date() })
    .where(
      and(
        eq(publicationChunks.publicationId, c.chunk.publicationId),
        eq(publicationChunks.chunkIndex, c.chunk.chunkIndex),
        eq(publicationChunks.status, 'pending'),
      ),
    )
    .returning({ chunkIndex: publicationChunks.chunkIndex });
  if (!rows.length) return false;
  await publicationAudit(
    tx,
    { ...c.publication, legalEntity: c.legalEntity },
    {
      action: 'budget_chunk.posted',
      eventKey: c.chunk.idempotencyKey,
      details: {
        chunkIndex: c.chunk.chunkIndex,
        target: c.publication.target,
        documentNumber: c.documentNumber,
        lineCount: c.lineCount,
        alreadyPosted: c.alreadyPosted,
      },
    },
  );
  return true;
}

/** A posted chunk the ERP reversed: posted → reversed, once. */
export async function markChunkReversed(
  tx: Tx,
  c: {
    publication: PublicationRow;
    legalEntity: string;
    chunk: PublicationChunkRow;
    reversalKey: string;
    documentNumber: string;
    originalMissing: boolean;
    correlationId: string;
  },
): Promise<boolean> {
  const rows = await tx
    .update(publicationChunks)
    .set({ status: 'reversed', reversalDocumentNumber: c.documentNumber || null, reversedAt: new Date() })
    .where(
      and(
        eq(publicationChunks.publicationId, c.chunk.publicationId),
        eq(publicationChunks.chunkIndex, c.chunk.chunkIndex),
        eq(publicationChunks.status, 'posted'),
      ),
    )
    .returning({ chunkIndex: publicationChunks.chunkIndex });
  if (!rows.length) return false;
  await publicationAudit(
    tx,
    { ...c.publication, legalEntity: c.legalEntity },
    {
      // Support staff must see that the ERP no longer held the original: reconciliation will tell the rest.
      action: c.originalMissing ? 'budget_chunk.reversal_skipped_original_missing' : 'budget_chunk.reversed',
      eventKey: c.reversalKey,
      correlationId: c.correlationId,
      details: {
        chunkIndex: c.chunk.chunkIndex,
        target: c.publication.target,
        documentNumber: c.documentNumber,
        reverses: c.chunk.documentNumber,
      },
    },
  );
  return true;
}

const versionEntity = async (tx: Tx, versionId: string) =>
  (
    await tx
      .select({ legalEntity: budgetVersions.legalEntity })
      .from(budgetVersions)
      .where(eq(budgetVersions.id, versionId))
  )[0]!.legalEntity;

/**
 * Every chunk posted: the publication is published. The version itself becomes active only when every
 * target has published (see activateVersion).
 */
export async function completePublication(tx: Tx, publication: PublicationRow): Promise<boolean> {
  const rows = await tx
    .update(publications)
    .set({ status: 'published', completedAt: new Date() })
    .where(and(eq(publications.id, publication.id), eq(publications.status, 'publishing')))
    .returning({ id: publications.id });
  if (!rows.length) return false;
  const chunks = await chunksOf(tx, publication.id);
  await publicationAudit(
    tx,
    { ...publication, legalEntity: await versionEntity(tx, publication.versionId) },
    {
      action: 'publication.published',
      eventKey: `publication-published:${publication.id}`,
      details: {
        target: publication.target,
        revision: publication.revision,
        documents: chunks.map((c) => c.documentNumber),
      },
    },
  );
  return true;
}

/** A chunk failed for good and the posted ones were reversed: the publication failed. */
export async function failPublication(tx: Tx, publication: PublicationRow, error: string): Promise<boolean> {
  const rows = await tx
    .update(publications)
    .set({ status: 'failed', error, completedAt: new Date() })
    .where(and(eq(publications.id, publication.id), eq(publications.status, 'publishing')))
    .returning({ id: publications.id });
  if (!rows.length) return false;
  await markVersionPublicationFailed(tx, publication.versionId);
  await publicationAudit(
    tx,
    { ...publication, legalEntity: await versionEntity(tx, publication.versionId) },
    {
      action: 'publication.failed',
      eventKey: `publication-failed:${publication.id}`,
      details: { target: publication.target, revision: publication.revision, error },
    },
  );
  return true;
}

/** Every posted chunk of the publication was reversed (superseded, withdrawn, or another target failed). */
export async function markPublicationReversed(
  tx: Tx,
  publication: PublicationRow,
  r: { reason: string; chunksReversed: number; correlationId: string },
): Promise<boolean> {
  const rows = await tx
    .update(publications)
    .set({ status: 'reversed', error: r.reason, completedAt: new Date() })
    .where(
      and(eq(publications.id, publication.id), inArray(publications.status, ['publishing', 'published'])),
    )
    .returning({ id: publications.id });
  if (!rows.length) return false;
  await publicationAudit(
    tx,
    { ...publication, legalEntity: await versionEntity(tx, publication.versionId) },
    {
      action: 'publication.reversed',
      eventKey: `publication-reversed:${publication.id}`,
      correlationId: r.correlationId,
      details: {
        target: publication.target,
        revision: publication.revision,
        reason: r.reason,
        chunksReversed: r.chunksReversed,
      },
    },
  );
  return true;
}
