import { insertRecordset } from './bulk-insert';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { budgetVersions, publicationChunks, publicationLines, publications } from '../schema';
import { toMinor } from '../../domain/money';
import { budgetKey, type KeyedAmount } from '../../domain/revision';
import { appendAudit } from './audit';
import { fiscalYearPeriods, type LegalEntityRow } from './reference';
import { routesOfFiscalYear } from './routes';
import { type PostingModel } from '../../domain/posting-model';
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

/** A publication's lines from `range.from` to `range.to` (a chunk's), in order. */
export function publicationLinesOf(db: DbOrTx, publicationId: string, range: { from: number; to: number }) {
  return db
    .select()
    .from(publicationLines)
    .where(
      and(
        eq(publicationLines.publicationId, publicationId),
        sql`${publicationLines.lineNo} between ${range.from} and ${range.to}`,
      ),
    )
    .orderBy(asc(publicationLines.lineNo));
}

/**
 * What a budget (entity, fiscal year, scenario) holds on each target: the lines of every posted chunk of
 * every publication of its versions, summed per combination and period (a reversed chunk counts for nothing:
 * its reversal took it back out). This is what a revision's differences are taken against.
 */
export async function budgetHeld(
  db: DbOrTx,
  b: { legalEntity: string; fiscalYear: number; scenario: string; target?: string },
  /** Only what is held in these periods and/or on these combinations (a chunk's units, domain/routing). */
  within?: { periods?: string[]; combinations?: Record<string, string>[] },
) {
  return (await db.execute(sql`
    select p.target, l.dimensions, l.period, l.currency, sum(l.amount)::text as amount
      from publications p
      join budget_versions v on v.id = p.version_id
      join publication_chunks c on c.publication_id = p.id and c.status = 'posted'
      join publication_lines l on l.publication_id = p.id and l.line_no between c.first_line_no and c.last_line_no
     where v.legal_entity = ${b.legalEntity} and v.fiscal_year = ${b.fiscalYear} and v.scenario = ${b.scenario}
       ${b.target === undefined ? sql`` : sql`and p.target = ${b.target}`}
       ${within?.periods ? sql`and l.period in (select jsonb_array_elements_text(${JSON.stringify(within.periods)}::jsonb))` : sql``}
       ${within?.combinations ? sql`and l.dimensions in (select jsonb_array_elements(${JSON.stringify(within.combinations)}::jsonb))` : sql``}
     group by p.target, l.dimensions, l.period, l.currency
     order by p.target, l.period, l.dimensions::text`)) as unknown as {
    target: string;
    dimensions: Record<string, string>;
    period: string;
    currency: string;
    amount: string;
  }[];
}

/** Every chunk closeloop posted to a target for a budget (with its reversal's document, if taken back), in order. */
export async function chunksPosted(
  db: DbOrTx,
  b: { legalEntity: string; fiscalYear: number; scenario: string; target: string },
) {
  return (await db.execute(sql`
    select c.publication_id as "publicationId", c.first_line_no as "firstLineNo", c.last_line_no as "lastLineNo",
           c.document_number as "documentNumber", c.reversal_document_number as "reversalDocumentNumber"
      from publications p
      join budget_versions v on v.id = p.version_id
      join publication_chunks c on c.publication_id = p.id
     where v.legal_entity = ${b.legalEntity} and v.fiscal_year = ${b.fiscalYear} and v.scenario = ${b.scenario}
       and p.target = ${b.target} and c.document_number is not null
     order by p.created_at, c.chunk_index`)) as unknown as {
    publicationId: string;
    firstLineNo: number;
    lastLineNo: number;
    documentNumber: string;
    reversalDocumentNumber: string | null;
  }[];
}

/**
 * Whether a later publication of another version of the same budget to the same target stands on this one:
 * it was planned as its differences from what the target held, this one's postings included, so taking this
 * one back out would leave the target below the newer version.
 */
export async function isBuiltUpon(db: DbOrTx, p: PublicationRow): Promise<boolean> {
  const rows = (await db.execute(sql`
    select 1 from publications q
      join budget_versions qv on qv.id = q.version_id
      join budget_versions pv on pv.id = ${p.versionId}
     where q.target = ${p.target} and q.version_id <> ${p.versionId} and q.basis = 'delta'
       and q.status in ('publishing', 'published')
       and q.created_at > (select created_at from publications where id = ${p.id})
       and qv.legal_entity = pv.legal_entity and qv.fiscal_year = pv.fiscal_year and qv.scenario = pv.scenario
     limit 1`)) as unknown as unknown[];
  return rows.length > 0;
}

/**
 * What is in control in a budget's closed periods (the entity's calendar and locks say which), per
 * combination and period: the net each of the entity's active targets holds, in minor units, in target
 * order (a target holding nothing of a combination holds zero of it). A revision must carry these there.
 */
export async function inControlInClosedPeriods(
  db: DbOrTx,
  entity: Pick<LegalEntityRow, 'code' | 'fiscalCalendar'>,
  b: { fiscalYear: number; scenario: string },
): Promise<
  {
    dimensions: Record<string, string>;
    period: string;
    currency: string;
    byTarget: { target: string; minor: bigint }[];
  }[]
> {
  const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, b.fiscalYear, entity.code);
  const closed = new Set(periods.filter((p) => p.status === 'closed').map((p) => p.period));
  if (!closed.size) return [];
  const targets = [...new Set((await routesOfFiscalYear(db, entity, b.fiscalYear)).map((t) => t.target))];
  const held = await budgetHeld(db, { legalEntity: entity.code, ...b });
  const byKey = new Map<
    string,
    {
      dimensions: Record<string, string>;
      period: string;
      currency: string;
      perTarget: Map<string, bigint>;
    }
  >();
  for (const h of held) {
    if (!closed.has(h.period) || !targets.includes(h.target)) continue;
    const key = `${budgetKey(h)}|${h.currency}`;
    const line = byKey.get(key) ?? { ...h, perTarget: new Map<string, bigint>() };
    line.perTarget.set(h.target, (line.perTarget.get(h.target) ?? 0n) + toMinor(h.amount, h.currency));
    byKey.set(key, line);
  }
  return [...byKey.values()].map(({ perTarget, ...l }) => ({
    dimensions: l.dimensions,
    period: l.period,
    currency: l.currency,
    byTarget: targets.map((target) => ({ target, minor: perTarget.get(target) ?? 0n })),
  }));
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

/** A line a publication posts, numbered within it (chunks are ranges of these numbers). */
export type PlannedLine = KeyedAmount & { lineNo: number };

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
    postingModel: PostingModel;
    chunkSize: number;
    correlationId: string;
    purpose: 'original' | 'revision';
    lines: PlannedLine[];
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
      postingModel: p.postingModel,
      status: 'publishing',
      basis: 'delta',
      purpose: p.purpose,
      chunkSize: p.chunkSize,
      chunkCount: p.chunks.length,
      lineCount: p.lines.length,
      correlationId: p.correlationId,
    })
    .onConflictDoNothing()
    .returning();
  if (!publication) return (await findPublication(tx, p.versionId, p.target, p.revision))!;
  await insertRecordset(
    tx,
    'publication_lines',
    {
      publication_id: 'uuid',
      line_no: 'int',
      dimensions: 'jsonb',
      period: 'text',
      amount: 'numeric',
      currency: 'text',
    },
    p.lines.map((l) => ({
      publication_id: publication.id,
      line_no: l.lineNo,
      dimensions: l.dimensions,
      period: l.period,
      amount: l.amount,
      currency: l.currency,
    })),
  );
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
        purpose: p.purpose,
        lineCount: p.lines.length,
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
