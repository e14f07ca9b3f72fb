import { ApplicationFailure } from '@temporalio/common';
import { unitChunker } from '../domain/chunking';
import { FailureType } from '../domain/failures';
import { chunkPublicationKey, chunkReversalKey, versionKey } from '../domain/identity';
import { type Database } from '../db/client';
import { money } from '../domain/money';
import { scopesAfter } from '../domain/posting-model';
import { getVersion, versionPeriods, versionRef } from '../db/queries/budget-versions';
import {
  budgetHeld,
  chunksOf,
  completePublication,
  differencesOutside,
  failPublication,
  findPublication,
  finishPublicationPlan,
  getChunk,
  getPublication,
  markChunkPosted,
  markChunkReversed,
  markPublicationReversed,
  periodsHeld,
  publicationLinesOf,
  type PublicationChunkRow,
  type PublicationRow,
  startPublicationPlan,
} from '../db/queries/publications';
import { withKeyLock } from '../db/queries/locks';
import { jobCallbackOutcome } from '../db/queries/erp-job-callbacks';
import { fiscalYearPeriods, getLegalEntity } from '../db/queries/reference';
import { targetsOfFiscalYear } from '../db/queries/routes';
import { receives, wholeUnitOf, wholeUnitParts } from '../domain/routing';
import { combinationKey } from '../domain/revision';
import { type BudgetChunkPublication, type TargetBudgetLine } from './connectors/types';
import { type ActivityDeps, erpFor } from './deps';
import {
  type MissingLineMapping,
  missingMappingsFailure,
  targetLineMapper,
  targetLinesFor,
} from './erp-mapping';
import { notFound, periodClosed } from './failures';
import { withHeartbeat } from './heartbeat';
import { loadVersionWithEntity } from './lookups';

/**
 * The posting saga's steps: plan a publication's chunks, post each under its business-identity key,
 * reverse what was posted. Each step is idempotent under retries and Temporal UI resets.
 */

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
  const { version, entity } = await loadVersionWithEntity(db, publication.versionId);
  return { publication, version, entity, ref: versionRef(version) };
}
type PublicationContext = Awaited<ReturnType<typeof loadPublicationContext>>;

async function loadChunk(db: Database, publicationId: string, chunkIndex: number) {
  const row = await getChunk(db, publicationId, chunkIndex);
  if (!row) throw notFound(`chunk ${chunkIndex} of publication ${publicationId} does not exist`);
  return row;
}

/**
 * The target's lines of one stored chunk (its range of the publication's differences), mapped as of each line's
 * period. A target that replaces what it holds in a scope is sent every scope the differences touch at what it
 * is to hold once they are applied, or, to take the chunk back, once they are undone: computed from what
 * closeloop holds there, so a retry sends the same.
 */
async function chunkLines(
  db: Database,
  ctx: PublicationContext,
  row: PublicationChunkRow,
  direction: 'apply' | 'undo' = 'apply',
) {
  const differences = await publicationLinesOf(db, ctx.publication.id, {
    from: row.firstLineNo,
    to: row.lastLineNo,
  });
  const whole = wholeUnitOf(ctx.publication.target, ctx.publication.postingModel);
  // What is held in the chunk's units alone: the rest of the budget is not sent, so it is not read either.
  const parts = wholeUnitParts(ctx.publication.target, ctx.publication.postingModel);
  const within = parts && {
    ...(parts.period ? { periods: [...new Set(differences.map((d) => d.period))] } : {}),
    ...(parts.combination
      ? {
          combinations: [
            ...new Map(differences.map((d) => [combinationKey(d.dimensions), d.dimensions])).values(),
          ],
        }
      : {}),
  };
  const lines = whole
    ? scopesAfter(
        await budgetHeld(db, { ...ctx.ref, target: ctx.publication.target }, within),
        differences,
        direction,
        whole,
      ).map((l, i) => ({
        lineNo: i + 1,
        dimensions: l.dimensions,
        period: l.period,
        amount: l.amount.amount,
        currency: l.amount.currency,
      }))
    : differences;
  return targetLinesFor(db, {
    entity: ctx.entity,
    fiscalYear: ctx.version.fiscalYear,
    target: ctx.publication.target,
    lines,
  });
}

function chunkRequest(
  ctx: PublicationContext,
  idempotencyKey: string,
  chunkIndex: number,
  lines: TargetBudgetLine[],
): BudgetChunkPublication {
  return {
    idempotencyKey,
    correlationId: ctx.publication.correlationId,
    target: {
      company: ctx.publication.erpCompany,
      settings: ctx.publication.settings,
      postingModel: ctx.publication.postingModel,
    },
    purpose: ctx.publication.purpose,
    description: `closeloop ${versionKey(ctx.ref)} chunk ${chunkIndex + 1}/${ctx.publication.chunkCount} r${ctx.publication.revision}`,
    lines,
  };
}

function withdrawn(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.PublicationWithdrawn, message, nonRetryable: true });
}

type PublicationDeps = Pick<ActivityDeps, 'db' | 'erps'>;

/** Lines read at a time while a publication is planned, and the missing mappings a refusal keeps. */
const PAGE = 5000;
const MISSING_KEPT = 1000;

/** Reverses one posted chunk in the ERP, then records it; a chunk that never posted has nothing to undo. */
async function reverseOneChunk(
  deps: PublicationDeps,
  ctx: PublicationContext,
  chunkIndex: number,
  correlationId: string,
  progress: (d: Record<string, unknown>) => void,
  resumeFrom?: Record<string, unknown>,
): Promise<boolean> {
  const { db } = deps;
  const row = await loadChunk(db, ctx.publication.id, chunkIndex);
  if (row.status !== 'posted') return false;
  const lines = await chunkLines(db, ctx, row, 'undo');
  const reversalKey = chunkReversalKey(row.idempotencyKey);
  const posted = await erpFor(deps, ctx.publication.target).reverseBudgetChunk(
    {
      ...chunkRequest(ctx, reversalKey, chunkIndex, lines),
      description: `closeloop reversal of ${row.idempotencyKey}`,
      originalIdempotencyKey: row.idempotencyKey,
    },
    {
      progress: (d) => progress({ chunkIndex, ...d }),
      // A previous attempt's word on this chunk's reversal (the adapter checks it names the same document).
      resumeFrom: resumeFrom?.chunkIndex === chunkIndex ? resumeFrom : undefined,
      exclusive: (key, fn) => withKeyLock(db, key, fn),
      jobEnded: (requestId) => jobCallbackOutcome(db, ctx.publication.target, requestId),
    },
  );
  return db.transaction((tx) =>
    markChunkReversed(tx, {
      publication: ctx.publication,
      legalEntity: ctx.version.legalEntity,
      chunk: row,
      reversalKey,
      documentNumber: posted.documentNumber,
      originalMissing: Boolean(posted.originalMissing),
      correlationId,
    }),
  );
}

/**
 * Takes a whole publication back out of its ERP: every posted chunk reversed, newest first, then the
 * publication marked reversed. Idempotent; used by cross-target compensation, supersession and withdrawal.
 */
export async function reversePublicationPostings(
  deps: PublicationDeps,
  publication: PublicationRow,
  reason: string,
  correlationId: string,
): Promise<number> {
  const ctx = await loadPublicationContext(deps.db, publication.id);
  return withHeartbeat(async ({ progress, resumeFrom }) => {
    let reversed = 0;
    for (const c of (await chunksOf(deps.db, publication.id)).reverse()) {
      if (await reverseOneChunk(deps, ctx, c.chunkIndex, correlationId, progress, resumeFrom)) reversed++;
      progress({ publicationId: publication.id, chunkIndex: c.chunkIndex });
    }
    await deps.db.transaction((tx) =>
      markPublicationReversed(tx, publication, { reason, chunksReversed: reversed, correlationId }),
    );
    return reversed;
  });
}

export function createPublicationActivities(deps: PublicationDeps) {
  const { db } = deps;

  return {
    /**
     * Fixes what the publication posts and its chunk plan (and so every idempotency key) in the database before
     * anything is posted. It posts the version's differences from what the budget already holds on the target
     * (everything when nothing is held yet: the original budget), never into a closed period: a version that
     * differs there (approved before the period closed) fails here, posting nothing. Running it again, a retry
     * or a reset, returns the stored plan, never a new one.
     */
    async preparePublication(input: PreparePublicationInput): Promise<PreparedPublication> {
      const version = await getVersion(db, input.versionId);
      if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
      const existing = await findPublication(db, input.versionId, input.target, input.revision);
      if (existing)
        return { publicationId: existing.id, chunkCount: existing.chunkCount, lineCount: existing.lineCount };
      const entity = await getLegalEntity(db, version.legalEntity);
      if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
      const routes = await targetsOfFiscalYear(db, entity, version.fiscalYear);
      const target = routes.find((t) => t.target === input.target);
      if (!target)
        throw notFound(`${entity.code} has no route to ${input.target} in FY${version.fiscalYear}`);
      if (target.conflict)
        throw ApplicationFailure.nonRetryable(target.conflict, FailureType.ValidationFailed);
      const ref = versionRef(version);
      const budget = { ...ref, target: input.target };
      const [periods, proposedIn, heldIn] = await Promise.all([
        fiscalYearPeriods(db, entity.fiscalCalendar, version.fiscalYear, entity.code),
        versionPeriods(db, version.id),
        periodsHeld(db, budget),
      ]);
      const open = new Set(periods.filter((p) => p.status === 'open').map((p) => p.period));
      // A line goes to the target when a route to it is in force on its period's first day; a period outside
      // its routes is neither sent nor taken back out (what it holds there is left as it is).
      const starts = new Map(periods.map((p) => [p.period, p.startDate]));
      const routed = periods.filter((p) => receives(target, p.startDate)).map((p) => p.period);
      const isRouted = (period: string) => receives(target, starts.get(period) ?? '');
      // Every line must reach some ERP: one in a period no route is in force on would be dropped silently.
      const unrouted = proposedIn.filter((p) => !routes.some((t) => receives(t, starts.get(p) ?? '')));
      if (unrouted.length)
        throw ApplicationFailure.nonRetryable(
          `${entity.code} has no route in force on the first day of ${unrouted.map((p) => `${p} (${starts.get(p) ?? 'not in its calendar'})`).join(', ')}, where version ${version.versionNumber} has lines: add a route (POST /v1/legal-entities/${entity.code}/routes) and retry the publication`,
          FailureType.ValidationFailed,
        );
      // The target's own close counts as much as closeloop's: a period it refuses is closed for this plan.
      const erp = erpFor(deps, input.target);
      const location = {
        company: target.company,
        settings: target.settings,
        postingModel: target.postingModel,
      };
      const touched = [...new Set([...proposedIn, ...heldIn])].filter(isRouted);
      const days = touched.map((p) => starts.get(p)!).sort();
      const refused = new Map(
        (erp.periodsRefused ? await erp.periodsRefused(location, days) : []).map((r) => [r.day, r.reason]),
      );
      const openHere = routed.filter((p) => open.has(p) && !refused.has(starts.get(p)!));
      // What is stored, chunked and counted as held is the differences, whatever the model: an additive target
      // is sent them, a replace-scope target the scopes they touch, an annual-lines target the lines
      // (chunkLines). The database computes them, so no version is ever whole in this worker's memory.
      const differences = { versionId: version.id, budget, periods: routed };
      const closed = await differencesOutside(db, differences, openHere);
      if (closed.count) {
        const listed = closed.lines
          .slice(0, 20)
          .map(
            (d) =>
              `${Object.values(d.dimensions).join('/')} ${d.period} by ${d.amount} ${d.currency}${refused.has(starts.get(d.period)!) ? ` (${input.target}: ${refused.get(starts.get(d.period)!)})` : ''}`,
          )
          .join('; ');
        throw periodClosed(
          `version ${version.versionNumber} differs from what ${input.target} holds in ${closed.count} line(s) of closed periods (${listed}): it was approved before they closed; reopen them (in closeloop or in ${input.target}) and retry the publication, or submit a new version`,
          {
            closed: closed.lines.map((d) => ({
              dimensions: d.dimensions,
              period: d.period,
              amount: money(d.amount, d.currency),
            })),
          },
        );
      }
      // A target sent whole units gets each unit's differences together, in chunks that never split a unit.
      const whole = wholeUnitOf(input.target, target.postingModel);
      const parts = wholeUnitParts(input.target, target.postingModel);
      const mapped = await targetLineMapper(db, {
        entity,
        fiscalYear: version.fiscalYear,
        target: input.target,
      });
      const publication = await db.transaction(async (tx) => {
        const started = await startPublicationPlan(tx, {
          versionId: version.id,
          target: input.target,
          revision: input.revision,
          company: target.company,
          settings: target.settings,
          postingModel: target.postingModel,
          chunkSize: input.chunkSize,
          correlationId: input.correlationId,
          purpose: heldIn.some(isRouted) ? 'revision' : 'original',
          differences,
          open: openHere,
          order: parts && !parts.period ? 'combination' : 'period',
        });
        if (!started) return (await findPublication(tx, version.id, input.target, input.revision))!;
        // Maps every line up front, page by page: a missing mapping fails before the first posting, not
        // halfway, and the chunks' bounds are fixed as the lines stream past.
        const chunker = unitChunker(input.chunkSize);
        const missing: MissingLineMapping[] = [];
        let missingCount = 0;
        let lineCount = 0;
        for (;;) {
          const page = await publicationLinesOf(tx, started.id, {
            from: lineCount + 1,
            to: lineCount + PAGE,
          });
          const { missing: unmapped } = mapped(page);
          missingCount += unmapped.length;
          missing.push(...unmapped.slice(0, Math.max(0, MISSING_KEPT - missing.length)));
          for (const l of page) chunker.push(l.lineNo, whole ? whole(l) : String(l.lineNo));
          lineCount += page.length;
          if (page.length < PAGE) break;
        }
        if (missingCount) throw missingMappingsFailure(input.target, missingCount, missing);
        return finishPublicationPlan(tx, started, {
          legalEntity: version.legalEntity,
          lineCount,
          chunks: chunker.finish().map((c, i) => ({
            idempotencyKey: chunkPublicationKey(ref, input.target, i, input.revision),
            firstLineNo: c.first,
            lastLineNo: c.last,
            lineCount: c.count,
          })),
        });
      });
      return {
        publicationId: publication.id,
        chunkCount: publication.chunkCount,
        lineCount: publication.lineCount,
      };
    },

    /**
     * Execute: post one chunk under its business-identity key; the ERP sees it at most once. The heartbeat
     * carries the lines posted so far, so a worker lost mid-chunk is replaced within the heartbeat timeout
     * and the next attempt resumes the same ERP document.
     */
    publishChunk: (input: ChunkRef): Promise<ChunkOutcome> =>
      withHeartbeat(async ({ progress, resumeFrom }) => {
        const ctx = await loadPublicationContext(db, input.publicationId);
        const row = await loadChunk(db, input.publicationId, input.chunkIndex);
        if (row.status === 'posted' && row.documentNumber)
          return { chunkIndex: input.chunkIndex, documentNumber: row.documentNumber, alreadyPosted: true };
        // A reversed chunk (or a publication no longer publishing) never posts again under its old key.
        if (row.status === 'reversed' || ctx.publication.status !== 'publishing') {
          throw withdrawn(
            `${row.idempotencyKey} belongs to a publication that is ${ctx.publication.status} (chunk ${row.status}); publish a new revision instead`,
          );
        }
        const lines = await chunkLines(db, ctx, row);
        const posted = await erpFor(deps, ctx.publication.target).publishBudgetChunk(
          chunkRequest(ctx, row.idempotencyKey, input.chunkIndex, lines),
          {
            progress,
            resumeFrom,
            exclusive: (key, fn) => withKeyLock(db, key, fn),
            jobEnded: (requestId) => jobCallbackOutcome(db, ctx.publication.target, requestId),
          },
        );
        await db.transaction((tx) =>
          markChunkPosted(tx, {
            publication: ctx.publication,
            legalEntity: ctx.version.legalEntity,
            chunk: row,
            documentNumber: posted.documentNumber,
            lineCount: posted.lineCount,
            alreadyPosted: posted.alreadyPosted,
          }),
        );
        return {
          chunkIndex: input.chunkIndex,
          documentNumber: posted.documentNumber,
          alreadyPosted: posted.alreadyPosted,
        };
      }),

    /** Compensation for one chunk; idempotent, and a no-op for a chunk that never posted. */
    async reverseChunk(input: ChunkRef): Promise<boolean> {
      const ctx = await loadPublicationContext(db, input.publicationId);
      return withHeartbeat(({ progress, resumeFrom }) =>
        reverseOneChunk(deps, ctx, input.chunkIndex, ctx.publication.correlationId, progress, resumeFrom),
      );
    },

    async completePublication(input: { publicationId: string }): Promise<{ documentNumbers: string[] }> {
      const publication = await getPublication(db, input.publicationId);
      if (!publication) throw notFound(`publication ${input.publicationId} does not exist`);
      await db.transaction((tx) => completePublication(tx, publication));
      return { documentNumbers: (await chunksOf(db, publication.id)).map((c) => c.documentNumber ?? '') };
    },

    /** Marks a publication failed after its posted chunks were reversed by the workflow's compensation. */
    async failPublication(input: { publicationId: string; error: string }): Promise<void> {
      const publication = await getPublication(db, input.publicationId);
      if (!publication) throw notFound(`publication ${input.publicationId} does not exist`);
      await db.transaction((tx) => failPublication(tx, publication, input.error));
    },

    /** Cross-target compensation: undo a whole publication that succeeded when another target failed. */
    async reversePublication(input: {
      publicationId: string;
      reason: string;
      correlationId?: string;
    }): Promise<number> {
      const publication = await getPublication(db, input.publicationId);
      if (!publication) throw notFound(`publication ${input.publicationId} does not exist`);
      return reversePublicationPostings(
        deps,
        publication,
        input.reason,
        input.correlationId ?? publication.correlationId,
      );
    },
  };
}
