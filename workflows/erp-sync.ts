import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActualsSyncResult, CommitmentsSyncResult } from '../activities/actuals';
import { longSync, planningCall, type ErpRetryOverride } from './activity-profiles';

/** Patch ID: a round first takes the ERP's exchange rates, so lines in other currencies are converted. */
export const EXCHANGE_RATES_SYNCED = 'erp-sync-takes-exchange-rates';

export interface ErpSyncInput {
  legalEntity: string;
  /** One fiscal year; absent: every year of the entity with a period still open (a standing sync). */
  fiscalYear?: number;
  /** Deliver commitments and actuals to the planning platform afterwards (the active version's reforecast). */
  deliver?: boolean;
  /** The period to deliver as of; absent: the latest period with posted actuals (see deliveryAsOf). */
  deliverAsOf?: string;
  /** false: only deliver (nothing new came from the ERP, e.g. procurement's events moved the balances). */
  fromErp?: boolean;
  /** false: the exchange rates were just taken for this entity (the group close takes them once per ERP). */
  takeRates?: boolean;
  /** Absent: the workflow ID (a scheduled run has one of its own). */
  correlationId?: string;
  erpRetry?: ErpRetryOverride;
}

export type Delivery =
  | { versionName: string; lineCount: number; total: { amount: string; currency: string } }
  | { skipped: string };

export interface ErpSyncYear {
  fiscalYear: number;
  actuals?: Omit<ActualsSyncResult, 'watermark'>;
  commitments?: CommitmentsSyncResult;
  delivered?: Delivery;
}

export interface ErpSyncResult {
  legalEntity: string;
  years: ErpSyncYear[];
}

/**
 * One round of an entity's ERP sync: actuals and open purchase orders from its ERP into the balances, year by
 * year, then (when asked) the figures as they stand to the planning platform. Each step resumes from its
 * watermark and counts a line once, so a round run twice, or alongside another, counts nothing twice; figures
 * the entity takes from consumption events are skipped. Shared by the scheduled and the event-driven syncs.
 */
export async function syncRound(
  input: ErpSyncInput,
  /**
   * The rates patch as a workflow that runs local activities settled it before any ran (a patch marker recorded
   * after a local activity's in the same workflow task does not replay after a reset); absent: settled here.
   */
  opts: { ratesPatched?: boolean } = {},
): Promise<ErpSyncResult> {
  const sync = proxyActivities<Activities>(longSync(input.erpRetry));
  const { legalEntity } = input;
  const correlationId = input.correlationId ?? workflowInfo().workflowId;
  // Patched: rounds recorded before rates were taken from the ERP replay without this step.
  if (
    input.fromErp !== false &&
    input.takeRates !== false &&
    (opts.ratesPatched ?? patched(EXCHANGE_RATES_SYNCED))
  )
    await sync.syncExchangeRates({ legalEntity });
  const fiscalYears =
    input.fiscalYear !== undefined ? [input.fiscalYear] : await sync.openFiscalYears({ legalEntity });
  const years: ErpSyncYear[] = [];
  for (const fiscalYear of fiscalYears) {
    const year: ErpSyncYear = { fiscalYear };
    if (input.fromErp !== false) {
      const { watermark: _watermark, ...actuals } = await sync.syncActuals({
        legalEntity,
        fiscalYear,
        correlationId,
      });
      year.actuals = actuals;
      year.commitments = await sync.syncCommitments({ legalEntity, fiscalYear, correlationId });
    }
    if (input.deliver) {
      const asOf = input.deliverAsOf ?? (await sync.deliveryAsOf({ legalEntity, fiscalYear }));
      if (!asOf) {
        year.delivered = { skipped: `no period of FY${fiscalYear} or the year before to deliver as of` };
      } else {
        const planning = proxyActivities<Activities>(planningCall(input.erpRetry));
        const forecast = await planning.reforecastActiveVersion({
          legalEntity,
          fiscalYear,
          asOfPeriod: asOf,
          correlationId,
        });
        year.delivered =
          'skipped' in forecast
            ? forecast
            : { versionName: forecast.versionName, lineCount: forecast.lineCount, total: forecast.total };
      }
    }
    years.push(year);
  }
  return { legalEntity, years };
}

/**
 * An entity's ERP sync, now: started by its Temporal Schedule (`erp-sync:<entity>`, every tier's interval),
 * by `POST /v1/erp-syncs`, or by hand from Temporal UI.
 */
export async function erpSync(input: ErpSyncInput): Promise<ErpSyncResult> {
  return syncRound(input);
}
