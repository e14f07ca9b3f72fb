import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActualsSyncResult, CommitmentsSyncResult, SyncInput } from '../activities/actuals';
import { longSync, type ErpRetryOverride } from './activity-profiles';

export interface ErpSyncInput extends SyncInput {
  erpRetry?: ErpRetryOverride;
}

export interface ErpSyncResult {
  actuals: Omit<ActualsSyncResult, 'watermark'>;
  commitments: CommitmentsSyncResult;
}

/**
 * Brings an entity's posted actuals and open purchase orders of one fiscal year from its ERP into the
 * balances, now (a budget cycle does the same in its reconcile stage). Each step resumes from its watermark
 * and counts a line once, so running it again, or during another sync, counts nothing twice; figures the
 * entity takes from consumption events are skipped. Workflow ID `erp-sync:<entity>:FY<year>`.
 */
export async function erpSync(input: ErpSyncInput): Promise<ErpSyncResult> {
  const sync = proxyActivities<Activities>(longSync(input.erpRetry));
  const { legalEntity, fiscalYear, correlationId } = input;
  const { watermark: _watermark, ...actuals } = await sync.syncActuals({
    legalEntity,
    fiscalYear,
    correlationId,
  });
  const commitments = await sync.syncCommitments({ legalEntity, fiscalYear, correlationId });
  return { actuals, commitments };
}
