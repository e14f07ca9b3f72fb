import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActualsSyncResult, CommitmentsSyncResult, SyncInput } from '../activities/actuals';
import { longSync, planningCall, type ErpRetryOverride } from './activity-profiles';

export interface ErpSyncInput extends SyncInput {
  /** Then deliver the commitments and actuals to the planning platform: the reforecast as of this period. */
  deliverAsOf?: string;
  erpRetry?: ErpRetryOverride;
}

export interface ErpSyncResult {
  actuals: Omit<ActualsSyncResult, 'watermark'>;
  commitments: CommitmentsSyncResult;
  delivered?:
    | { versionName: string; lineCount: number; total: { amount: string; currency: string } }
    | {
        skipped: string;
      };
}

/**
 * Brings an entity's posted actuals and open purchase orders of one fiscal year from its ERP into the
 * balances, now (a budget cycle does the same in its reconcile stage), and, when asked, delivers the
 * commitments and actuals as they then stand to the planning platform (the active version's reforecast). Each step resumes from its watermark
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
  if (!input.deliverAsOf) return { actuals, commitments };
  const planning = proxyActivities<Activities>(planningCall(input.erpRetry));
  const forecast = await planning.reforecastActiveVersion({
    legalEntity,
    fiscalYear,
    asOfPeriod: input.deliverAsOf,
    correlationId,
  });
  const delivered =
    'skipped' in forecast
      ? forecast
      : { versionName: forecast.versionName, lineCount: forecast.lineCount, total: forecast.total };
  return { actuals, commitments, delivered };
}
