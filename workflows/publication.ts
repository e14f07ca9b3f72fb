import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite, erpCall, type ErpRetryOverride } from './activity-profiles';

export interface PublicationInput {
  versionId: string;
  target: string;
  /** Attempt number for this version and target; part of every chunk's idempotency key. */
  revision: number;
  chunkSize: number;
  correlationId: string;
  erpRetry?: ErpRetryOverride;
}

export interface PublicationResult {
  publicationId: string;
  target: string;
  revision: number;
  chunkCount: number;
  documentNumbers: string[];
}

export interface PublicationProgress {
  target: string;
  revision: number;
  chunkCount?: number;
  /** Lines (differences) the publication sends in all. */
  lineCount?: number;
  posted: number;
  reversed: number;
  state: 'preparing' | 'posting' | 'compensating' | 'published' | 'failed';
}

export const publicationProgressQuery = defineQuery<PublicationProgress>('status');

export const PUBLICATION_FAILED = 'PublicationFailed';

/**
 * Publishes one approved version to one ERP in chunks. Each posted chunk pushes its undo step; if a chunk
 * fails for good, the posted ones are reversed newest first (saga) and the failure is raised to the cycle.
 */
export async function publication(input: PublicationInput): Promise<PublicationResult> {
  const db = proxyActivities<Activities>(dbWrite);
  const erp = proxyActivities<Activities>(erpCall(input.erpRetry));
  const progress: PublicationProgress = {
    target: input.target,
    revision: input.revision,
    posted: 0,
    reversed: 0,
    state: 'preparing',
  };
  setHandler(publicationProgressQuery, () => progress);

  const prepared = await db.preparePublication({
    versionId: input.versionId,
    target: input.target,
    revision: input.revision,
    chunkSize: input.chunkSize,
    correlationId: input.correlationId,
  });
  progress.chunkCount = prepared.chunkCount;
  progress.lineCount = prepared.lineCount;
  progress.state = 'posting';
  // What Temporal UI shows while it runs (metadata only: no command, so replay is unchanged).
  const show = () =>
    setCurrentDetails(
      `**${input.target}**, revision ${input.revision}: ${progress.state}, ${progress.posted} of ${prepared.chunkCount} chunks posted (${prepared.lineCount} lines)${progress.reversed ? `, ${progress.reversed} reversed` : ''}`,
    );
  show();

  const compensations: (() => Promise<unknown>)[] = [];
  const documentNumbers: string[] = [];
  try {
    for (let chunkIndex = 0; chunkIndex < prepared.chunkCount; chunkIndex++) {
      const ref = { publicationId: prepared.publicationId, chunkIndex };
      const outcome = await erp.publishChunk(ref);
      compensations.unshift(() => erp.reverseChunk(ref));
      documentNumbers.push(outcome.documentNumber);
      progress.posted++;
      show();
    }
  } catch (err) {
    progress.state = 'compensating';
    const reason =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    // Compensation must run to the end even if the cycle is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      for (const undo of compensations) {
        await undo();
        progress.reversed++;
        show();
      }
      await db.failPublication({ publicationId: prepared.publicationId, error: reason });
    });
    progress.state = 'failed';
    show();
    throw ApplicationFailure.create({
      type: PUBLICATION_FAILED,
      message: `publication to ${input.target} failed after ${progress.posted} of ${prepared.chunkCount} chunks; ${progress.reversed} reversed: ${reason}`,
      nonRetryable: true,
      details: [{ posted: progress.posted, reversed: progress.reversed, reason }],
      cause: err instanceof Error ? err : undefined,
    });
  }

  await db.completePublication({ publicationId: prepared.publicationId });
  progress.state = 'published';
  show();
  return {
    publicationId: prepared.publicationId,
    target: input.target,
    revision: input.revision,
    chunkCount: prepared.chunkCount,
    documentNumbers,
  };
}
