import { Context } from '@temporalio/activity';
import { chunk } from '../domain/chunking';
import { chunkPublicationKey, chunkReversalKey, versionKey } from '../domain/identity';
import { mapDimensions, type MissingMapping } from '../domain/mapping';
import { type BudgetVersionRef } from '../domain/model';
import {
  fiscalYearPeriods,
  getLegalEntity,
  loadMappings,
  type LegalEntityRow,
} from '../db/queries/reference';
import { appendAudit } from '../db/queries/audit';
import {
  getVersion,
  setVersionStatus,
  siblingVersions,
  versionLines,
  versionRef,
} from '../db/queries/budget-versions';
import {
  chunksOf,
  findPublication,
  getChunk,
  getPublication,
  publicationsOfVersion,
  type PublicationRow,
} from '../db/queries/publications';
import { type Database, type Tx } from '../db/client';
import { publicationChunks, publications } from '../db/schema';
import { and, eq } from 'drizzle-orm';
import { type BudgetChunkPublication, type ErpBudgetLine } from './connectors/types';
import { type ActivityDeps, erpFor } from './deps';
import { mappingMissing, notFound } from './failures';

export interface PublicationTarget {
  target: string;
  erpCompany: string;
}

export interface PreparePublicationInput {
  versionId: string;
  target: string;
  revision: number;
  chunkSize: number;
  correlationId: string;
}

export interface PreparedPublication {
  publicationId: string;
  chunkCount: number;
  lineCount: number;
}

export interface ChunkRef {
  publicationId: string;
  chunkIndex: number;
}

export interface ChunkOutcome {
  chunkIndex: number;
  documentNumber: string;
  alreadyPosted: boolean;
}

async function loadPublicationContext(db: Database, publicationId: string) {
  const publication = await getPublication(db, publicationId);
  if (!publication) throw notFound(`publication ${publicationId} does not exist`);
  const version = await getVersion(db, publication.versionId);
  if (!version) throw notFound(`budget version ${publication.versionId} does not exist`);
  const entity = await getLegalEntity(db, version.legalEntity);
  if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
  return { publication, version, entity, ref: versionRef(version) };
}

/** Canonical lines → ERP lines on the first day of their period, with every missing mapping reported at once. */
async function erpLinesFor(
  db: Database,
  entity: LegalEntityRow,
  versionId: string,
  fiscalYear: number,
  target: string,
  range?: { from: number; to: number },
): Promise<ErpBudgetLine[]> {
  const [lines, mappings, periods] = await Promise.all([
    versionLines(db, versionId, range),
    loadMappings(db, target),
    fiscalYearPeriods(db, entity.fiscalCalendar, fiscalYear),
  ]);
  const startOf = new Map(periods.map((p) => [p.period, p.startDate]));
  const missing: (MissingMapping & { lineNo: number })[] = [];
  const out: ErpBudgetLine[] = [];
  for (const l of lines) {
    const date = startOf.get(l.period);
    if (!date) throw notFound(`period ${l.period} is not in ${entity.fiscalCalendar} FY${fiscalYear}`);
    const mapped = mapDimensions(mappings, { account: l.account, costCenter: l.costCenter }, date);
    if ('missing' in mapped) {
      missing.push(...mapped.missing.map((m) => ({ ...m, lineNo: l.lineNo })));
      continue;
    }
    out.push({
      lineNumber: l.lineNo,
      ...mapped.segments,
      period: l.period,
      date,
      amount: l.amount,
      currency: l.currency,
    });
  }
  if (missing.length) {
    const listed = missing
      .slice(0, 20)
      .map((m) => `line ${m.lineNo}: ${m.dimension} ${m.code} on ${m.onDate}`)
      .join('; ');
    throw mappingMissing(`${missing.length} dimension value(s) have no ${target} mapping: ${listed}`, {
      missing,
    });
  }
  return out;
}

/** The ERP lines of one stored chunk: its line range of the version, mapped as of each line's period. */
function chunkLines(
  db: Database,
  ctx: Awaited<ReturnType<typeof loadPublicationContext>>,
  row: { firstLineNo: number; lastLineNo: number },
): Promise<ErpBudgetLine[]> {
  return erpLinesFor(db, ctx.entity, ctx.version.id, ctx.version.fiscalYear, ctx.publication.target, {
    from: row.firstLineNo,
    to: row.lastLineNo,
  });
}

function chunkRequest(
  ctx: Awaited<ReturnType<typeof loadPublicationContext>>,
  idempotencyKey: string,
  chunkIndex: number,
  lines: ErpBudgetLine[],
): BudgetChunkPublication {
  return {
    idempotencyKey,
    correlationId: ctx.publication.correlationId,
    company: ctx.entity.erpCompany,
    budgetModel: ctx.entity.erpBudgetModel,
    budgetCode: ctx.entity.erpBudgetCode,
    description: `closeloop ${versionKey(ctx.ref)} chunk ${chunkIndex + 1}/${ctx.publication.chunkCount} r${ctx.publication.revision}`,
    lines,
  };
}

/** Audit entry about a publication; written in the transaction of the change it records. */
function auditPublication(
  tx: Tx,
  e: { action: string; publicationId: string; correlationId: string; eventKey: string },
  details: Record<string, unknown>,
) {
  return appendAudit(tx, {
    actor: 'closeloop',
    action: e.action,
    entityType: 'publication',
    entityId: e.publicationId,
    correlationId: e.correlationId,
    eventKey: e.eventKey,
    details,
  });
}

export function createPublicationActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;

  async function reverseOneChunk(publicationId: string, chunkIndex: number): Promise<boolean> {
    const ctx = await loadPublicationContext(db, publicationId);
    const row = await getChunk(db, publicationId, chunkIndex);
    if (!row) throw notFound(`chunk ${chunkIndex} of publication ${publicationId} does not exist`);
    // A chunk that never completed left at most a draft in the ERP, which counts nowhere: nothing to undo.
    if (row.status !== 'posted') return false;
    const lines = await chunkLines(db, ctx, row);
    const reversalKey = chunkReversalKey(row.idempotencyKey);
    const posted = await erpFor(deps, ctx.publication.target).reverseBudgetChunk({
      ...chunkRequest(ctx, reversalKey, chunkIndex, lines),
      description: `closeloop reversal of ${row.idempotencyKey}`,
      originalIdempotencyKey: row.idempotencyKey,
    });
    await db.transaction(async (tx) => {
      await tx
        .update(publicationChunks)
        .set({
          status: 'reversed',
          reversalDocumentNumber: posted.documentNumber || null,
          reversedAt: new Date(),
        })
        .where(
          and(
            eq(publicationChunks.publicationId, publicationId),
            eq(publicationChunks.chunkIndex, chunkIndex),
          ),
        );
      await auditPublication(
        tx,
        {
          // Support staff must see that the ERP no longer held the original: reconciliation will tell the rest.
          action: posted.originalMissing
            ? 'budget_chunk.reversal_skipped_original_missing'
            : 'budget_chunk.reversed',
          publicationId,
          correlationId: ctx.publication.correlationId,
          eventKey: reversalKey,
        },
        {
          chunkIndex,
          target: ctx.publication.target,
          documentNumber: posted.documentNumber,
          reverses: row.documentNumber,
        },
      );
    });
    return true;
  }

  async function reverseAllPosted(publication: PublicationRow, reason: string): Promise<number> {
    let reversed = 0;
    for (const c of (await chunksOf(db, publication.id)).reverse()) {
      if (await reverseOneChunk(publication.id, c.chunkIndex)) reversed++;
      Context.current().heartbeat({ chunkIndex: c.chunkIndex });
    }
    await db.transaction(async (tx) => {
      await tx
        .update(publications)
        .set({ status: 'reversed', error: reason, completedAt: new Date() })
        .where(eq(publications.id, publication.id));
      await auditPublication(
        tx,
        {
          action: 'publication.reversed',
          publicationId: publication.id,
          correlationId: publication.correlationId,
          eventKey: `publication-reversed:${publication.id}`,
        },
        { target: publication.target, revision: publication.revision, reason, chunksReversed: reversed },
      );
    });
    return reversed;
  }

  return {
    /** Routing: the ERP that owns the legal entity's books receives its budget. */
    async planPublicationTargets(input: { versionId: string }): Promise<PublicationTarget[]> {
      const version = await getVersion(db, input.versionId);
      if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
      const entity = await getLegalEntity(db, version.legalEntity);
      if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
      return [{ target: entity.erpSystem, erpCompany: entity.erpCompany }];
    },

    /**
     * Fixes the chunk plan (and so every idempotency key) in the database before anything is posted. Running
     * it again — a retry or a reset — returns the stored plan, never a new one.
     */
    async preparePublication(input: PreparePublicationInput): Promise<PreparedPublication> {
      const version = await getVersion(db, input.versionId);
      if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
      const ref: BudgetVersionRef = versionRef(version);
      const existing = await findPublication(db, input.versionId, input.target, input.revision);
      if (existing)
        return { publicationId: existing.id, chunkCount: existing.chunkCount, lineCount: version.lineCount };
      const entity = await getLegalEntity(db, version.legalEntity);
      if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
      // Validates every mapping up front: a missing one fails before the first posting, not halfway.
      const lines = await erpLinesFor(db, entity, version.id, version.fiscalYear, input.target);
      const chunks = chunk(lines, input.chunkSize);
      return db.transaction(async (tx) => {
        const [publication] = await tx
          .insert(publications)
          .values({
            versionId: version.id,
            target: input.target,
            revision: input.revision,
            erpCompany: entity.erpCompany,
            status: 'publishing',
            chunkSize: input.chunkSize,
            chunkCount: chunks.length,
            correlationId: input.correlationId,
          })
          .onConflictDoNothing()
          .returning({ id: publications.id });
        if (!publication) {
          const raced = await findPublication(tx, input.versionId, input.target, input.revision);
          return { publicationId: raced!.id, chunkCount: raced!.chunkCount, lineCount: lines.length };
        }
        if (chunks.length) {
          await tx.insert(publicationChunks).values(
            chunks.map((c, i) => ({
              publicationId: publication.id,
              chunkIndex: i,
              idempotencyKey: chunkPublicationKey(ref, input.target, i, input.revision),
              firstLineNo: c[0]!.lineNumber,
              lastLineNo: c[c.length - 1]!.lineNumber,
              lineCount: c.length,
            })),
          );
        }
        await setVersionStatus(tx, version.id, 'publishing');
        await auditPublication(
          tx,
          {
            action: 'publication.started',
            publicationId: publication.id,
            correlationId: input.correlationId,
            eventKey: `publication-started:${versionKey(ref)}:${input.target}:r${input.revision}`,
          },
          {
            versionId: version.id,
            target: input.target,
            revision: input.revision,
            chunkCount: chunks.length,
            chunkSize: input.chunkSize,
          },
        );
        return { publicationId: publication.id, chunkCount: chunks.length, lineCount: lines.length };
      });
    },

    /** Execute: post one chunk under its business-identity key; the ERP sees it at most once. */
    async publishChunk(input: ChunkRef): Promise<ChunkOutcome> {
      const ctx = await loadPublicationContext(db, input.publicationId);
      const row = await getChunk(db, input.publicationId, input.chunkIndex);
      if (!row)
        throw notFound(`chunk ${input.chunkIndex} of publication ${input.publicationId} does not exist`);
      if (row.status === 'posted' && row.documentNumber) {
        return { chunkIndex: input.chunkIndex, documentNumber: row.documentNumber, alreadyPosted: true };
      }
      const lines = await chunkLines(db, ctx, row);
      const posted = await erpFor(deps, ctx.publication.target).publishBudgetChunk(
        chunkRequest(ctx, row.idempotencyKey, input.chunkIndex, lines),
      );
      await db.transaction(async (tx) => {
        await tx
          .update(publicationChunks)
          .set({ status: 'posted', documentNumber: posted.documentNumber, postedAt: new Date() })
          .where(
            and(
              eq(publicationChunks.publicationId, input.publicationId),
              eq(publicationChunks.chunkIndex, input.chunkIndex),
            ),
          );
        await auditPublication(
          tx,
          {
            action: 'budget_chunk.posted',
            publicationId: input.publicationId,
            correlationId: ctx.publication.correlationId,
            eventKey: row.idempotencyKey,
          },
          {
            chunkIndex: input.chunkIndex,
            target: ctx.publication.target,
            documentNumber: posted.documentNumber,
            lineCount: posted.lineCount,
            alreadyPosted: posted.alreadyPosted,
          },
        );
      });
      return {
        chunkIndex: input.chunkIndex,
        documentNumber: posted.documentNumber,
        alreadyPosted: posted.alreadyPosted,
      };
    },

    /** Compensation for one chunk; idempotent, and a no-op for a chunk that never posted. */
    async reverseChunk(input: ChunkRef): Promise<boolean> {
      return reverseOneChunk(input.publicationId, input.chunkIndex);
    },

    async completePublication(input: { publicationId: string }): Promise<{ documentNumbers: string[] }> {
      const publication = await getPublication(db, input.publicationId);
      if (!publication) throw notFound(`publication ${input.publicationId} does not exist`);
      const chunks = await chunksOf(db, input.publicationId);
      await db.transaction(async (tx) => {
        await tx
          .update(publications)
          .set({ status: 'published', completedAt: new Date() })
          .where(eq(publications.id, publication.id));
        await setVersionStatus(tx, publication.versionId, 'published');
        await auditPublication(
          tx,
          {
            action: 'publication.published',
            publicationId: publication.id,
            correlationId: publication.correlationId,
            eventKey: `publication-published:${publication.id}`,
          },
          {
            target: publication.target,
            revision: publication.revision,
            documents: chunks.map((c) => c.documentNumber),
          },
        );
      });
      return { documentNumbers: chunks.map((c) => c.documentNumber ?? '') };
    },

    /** Marks a publication failed after its posted chunks were reversed by the workflow's compensation. */
    async failPublication(input: { publicationId: string; error: string }): Promise<void> {
      const publication = await getPublication(db, input.publicationId);
      if (!publication) throw notFound(`publication ${input.publicationId} does not exist`);
      await db.transaction(async (tx) => {
        await tx
          .update(publications)
          .set({ status: 'failed', error: input.error, completedAt: new Date() })
          .where(eq(publications.id, publication.id));
        await setVersionStatus(tx, publication.versionId, 'publication_failed');
        await auditPublication(
          tx,
          {
            action: 'publication.failed',
            publicationId: publication.id,
            correlationId: publication.correlationId,
            eventKey: `publication-failed:${publication.id}`,
          },
          { target: publication.target, revision: publication.revision, error: input.error },
        );
      });
    },

    /** Cross-target compensation: undo a whole publication that succeeded when another target failed. */
    async reversePublication(input: { publicationId: string; reason: string }): Promise<number> {
      const publication = await getPublication(db, input.publicationId);
      if (!publication) throw notFound(`publication ${input.publicationId} does not exist`);
      return reverseAllPosted(publication, input.reason);
    },

    /**
     * The ERP must hold exactly the active version: once a newer version is published, the publications of
     * the version it replaces are reversed, and that version is superseded.
     */
    async supersedePreviousVersions(input: { versionId: string; correlationId: string }): Promise<string[]> {
      const version = await getVersion(db, input.versionId);
      if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
      const superseded: string[] = [];
      for (const previous of [
        ...(await siblingVersions(db, version, 'active')),
        ...(await siblingVersions(db, version, 'published')),
      ]) {
        for (const p of await publicationsOfVersion(db, previous.id)) {
          if (p.status === 'published')
            await reverseAllPosted(p, `superseded by version ${version.versionNumber}`);
        }
        await db.transaction(async (tx) => {
          await setVersionStatus(tx, previous.id, 'superseded');
          await appendAudit(tx, {
            actor: 'closeloop',
            action: 'budget_version.superseded',
            entityType: 'budget_version',
            entityId: previous.id,
            correlationId: input.correlationId,
            eventKey: `superseded:${previous.id}`,
            details: { supersededBy: version.id, versionNumber: version.versionNumber },
          });
        });
        superseded.push(previous.id);
      }
      return superseded;
    },
  };
}
