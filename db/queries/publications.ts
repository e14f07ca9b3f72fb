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
type BudgetOnTarget = { legalEntity: string; fiscalYear: number; scenario: string; target?: string };
/** Only what is held in these periods and/or on these combinations (a chunk's units, domain/routing). */
type HeldWithin = { periods?: readonly string[]; combinations?: Record<string, string>[] };

const inList = (values: readonly unknown[]) =>
  sql`(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

/** What a budget holds on each target, summed per combination and period (budgetHeld's query, unordered). */
function heldQuery(b: BudgetOnTarget, within?: HeldWithin) {
  return sql`
    select p.target, l.dimensions, l.period, l.currency, sum(l.amount) as amount
      from publications p
      join budget_versions v on v.id = p.version_id
      join publication_chunks c on c.publication_id = p.id and c.status = 'posted'
      join publication_lines l on l.publication_id = p.id and l.line_no between c.first_line_no and c.last_line_no
     where v.legal_entity = ${b.legalEntity} and v.fiscal_year = ${b.fiscalYear} and v.scenario = ${b.scenario}
       ${b.target === undefined ? sql`` : sql`and p.target = ${b.target}`}
       ${within?.periods ? sql`and l.period in ${inList(within.periods)}` : sql``}
       ${within?.combinations ? sql`and l.dimensions in (select jsonb_array_elements(${JSON.stringify(within.combinations)}::jsonb))` : sql``}
     group by p.target, l.dimensions, l.period, l.currency`;
}

export async function budgetHeld(db: DbOrTx, b: BudgetOnTarget, within?: HeldWithin) {
  return (await db.execute(sql`
    select target, dimensions, period, currency, amount::text as amount from (${heldQuery(b, within)}) held
     order by target, period, dimensions::text`)) as unknown as {
    target: string;
    dimensions: Record<string, string>;
    period: string;
    currency: string;
    amount: string;
  }[];
}

/** The periods a budget holds something in on a target (for a publication's questions to the ERP). */
export async function periodsHeld(db: DbOrTx, b: Required<BudgetOnTarget>): Promise<string[]> {
  const rows = (await db.execute(sql`
    select distinct period from (${heldQuery(b)}) held where amount <> 0 order by period`)) as unknown as {
    period: string;
  }[];
  return rows.map((r) => r.period);
}

/**
 * What a publication of a version to a target posts, as the query of its lines: per combination and period
 * (domain/revision publicationDifferences, in the database), the version's amount minus what the budget holds on
 * the target, where they differ, in the periods the target receives; a combination the version no longer has is
 * taken back out. Computed by PostgreSQL, so a version of any size is never held in the worker's memory.
 */
export interface DifferencesSpec {
  versionId: string;
  budget: Required<BudgetOnTarget>;
  /** The periods routed to the target: lines elsewhere are neither sent nor taken back out. */
  periods: readonly string[];
}

function differencesQuery(d: DifferencesSpec) {
  return sql`
    with should as (
      select dimensions, period, currency, sum(amount) as amount
        from budget_lines
       where version_id = ${d.versionId} and period in ${inList(d.periods)}
       group by dimensions, period, currency),
    held as (${heldQuery(d.budget, { periods: d.periods })})
    select coalesce(s.dimensions, h.dimensions) as dimensions, coalesce(s.period, h.period) as period,
           coalesce(s.currency, h.currency) as currency, coalesce(s.amount, 0) - coalesce(h.amount, 0) as amount
      from should s
      full join held h on h.dimensions = s.dimensions and h.period = s.period and h.currency = s.currency
     where coalesce(s.amount, 0) <> coalesce(h.amount, 0)`;
}

/**
 * The differences that fall outside `open` (periods closed in closeloop or in the target ERP), at most `limit`
 * of them in period order, with how many there are: none of them may be posted, so any refuses the publication.
 */
export async function differencesOutside(
  db: DbOrTx,
  d: DifferencesSpec,
  open: readonly string[],
  limit = 1000,
): Promise<{ count: number; lines: KeyedAmount[] }> {
  const rows = (await db.execute(sql`
    select dimensions, period, currency, amount::text as amount, count(*) over () as count
      from (${differencesQuery(d)}) d
     where period not in ${inList(open)}
     order by period, dimensions, currency
     limit ${limit}`)) as unknown as (KeyedAmount & { count: string })[];
  return {
    count: Number(rows[0]?.count ?? 0),
    lines: rows.map((r) => ({
      dimensions: r.dimensions,
      period: r.period,
      amount: r.amount,
      currency: r.currency,
    })),
  };
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
 * Begins fixing a publication's plan (and so every idempotency key) before anything is posted: its row, then
 * its lines, numbered in `order` (a target sent whole units gets each unit's lines together: by combination
 * when its units are combinations, else by period), all differences in `open` periods, written by one
 * INSERT … SELECT. The chunks are added by finishPublicationPlan in the same transaction. Undefined when another
 * run planned it first: that plan stands (findPublication).
 */
export async function startPublicationPlan(
  tx: Tx,
  p: {
    versionId: string;
    target: string;
    revision: number;
    company: string;
    settings: Record<string, string>;
    postingModel: PostingModel;
    chunkSize: number;
    correlationId: string;
    purpose: 'original' | 'revision';
    differences: DifferencesSpec;
    open: readonly string[];
    order: 'period' | 'combination';
  },
): Promise<PublicationRow | undefined> {
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
      chunkCount: 0,
      lineCount: 0,
      correlationId: p.correlationId,
    })
    .onConflictDoNothing()
    .returning();
  if (!publication) return undefined;
  const order =
    p.order === 'combination' ? sql`dimensions, period, currency` : sql`period, dimensions, currency`;
  await tx.execute(sql`
    insert into publication_lines (publication_id, line_no, dimensions, period, amount, currency)
    select ${publication.id}, row_number() over (order by ${order}), dimensions, period, amount, currency
      from (${differencesQuery(p.differences)}) d
     where period in ${inList(p.open)}`);
  return publication;
}

/** Completes a plan begun by startPublicationPlan: its chunks and counts, and the audit of its start. */
export async function finishPublicationPlan(
  tx: Tx,
  publication: PublicationRow,
  p: { legalEntity: string; lineCount: number; chunks: PlannedChunk[] },
): Promise<PublicationRow> {
  for (let i = 0; i < p.chunks.length; i += 1000)
    await tx
      .insert(publicationChunks)
      .values(
        p.chunks
          .slice(i, i + 1000)
          .map((c, j) => ({ publicationId: publication.id, chunkIndex: i + j, ...c })),
      );
  const [planned] = await tx
    .update(publications)
    .set({ chunkCount: p.chunks.length, lineCount: p.lineCount })
    .where(eq(publications.id, publication.id))
    .returning();
  await publicationAudit(
    tx,
    { ...planned!, legalEntity: p.legalEntity },
    {
      action: 'publication.started',
      eventKey: `publication-started:${publication.id}`,
      details: {
        versionId: publication.versionId,
        target: publication.target,
        revision: publication.revision,
        purpose: publication.purpose,
        lineCount: p.lineCount,
        chunkCount: p.chunks.length,
        chunkSize: publication.chunkSize,
      },
    },
  );
  return planned!;
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
