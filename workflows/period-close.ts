import {
  ParentClosePolicy,
  defineQuery,
  patched,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { GroupRatesSync } from '../activities/actuals';
import { chunk } from '../domain/chunking';
import { dbWrite, type ErpRetryOverride, longSync } from './activity-profiles';
import { periodCloseEntityWorkflowId, SearchAttributes } from './definitions';
import { type CloseSignOffPolicy, type EntityCloseOutcome, periodCloseEntity } from './period-close-entity';

export interface PeriodCloseInput {
  /** The calendar month to close (`2027-03`). */
  month: string;
  /** Absent: every active legal entity. */
  legalEntities?: string[];
  requestedBy: string;
  signOff: CloseSignOffPolicy;
  /** How many entities' closes are started per workflow task (keeps each task's commands small). */
  startBatch?: number;
  erpRetry?: ErpRetryOverride;
}

export interface PeriodCloseEntityProgress {
  legalEntity: string;
  currency: string;
  fiscalPeriod: string | null;
  workflowId?: string;
  state: 'pending' | 'running' | 'skipped' | 'failed' | EntityCloseOutcome;
  reason?: string;
}

export interface PeriodCloseStatus {
  month: string;
  status: 'scoping' | 'running' | 'completed';
  entities: PeriodCloseEntityProgress[];
  /** The exchange rates the close took once per ERP for its entities (closes started before: absent). */
  exchangeRates?: GroupRatesSync[];
}

export const CLOSE_RATES_ONCE = 'period-close-rates-once';

export const periodCloseStatusQuery = defineQuery<PeriodCloseStatus>('status');

/**
 * The group's close of a calendar month (workflow ID `period-close:2027-03`): one child workflow per legal
 * entity (`period-close:2027-03:ACME-US`), each with its own history, status query and steps, closing the
 * period of its own calendar that ends in the month. The parent only starts them and gathers their outcomes
 * (a few events per entity, so 500 entities stay far below Temporal's history limits); an entity that fails,
 * waits for its sign-off or ends unsigned never holds up the others. The close completes when every
 * entity's close has ended.
 */
export async function periodClose(input: PeriodCloseInput): Promise<PeriodCloseStatus> {
  const db = proxyActivities<Activities>(dbWrite);
  const state: PeriodCloseStatus = { month: input.month, status: 'scoping', entities: [] };
  setHandler(periodCloseStatusQuery, () => state);

  const scope = await db.periodCloseScope({ month: input.month, legalEntities: input.legalEntities });
  state.entities = scope.map((e) => ({
    legalEntity: e.legalEntity,
    currency: e.currency,
    fiscalPeriod: e.fiscalPeriod,
    ...(e.fiscalPeriod
      ? { state: 'pending' as const }
      : { state: 'skipped' as const, reason: `no period of its calendar ends in ${input.month}` }),
  }));
  state.status = 'running';

  const closing = state.entities.filter((e) => e.fiscalPeriod);
  // One set of exchange rates for the whole close, taken once per ERP; where that failed, each entity's final
  // sync takes them itself. Patched: closes recorded before had every entity take them.
  const ratesTaken = new Set<string>();
  if (closing.length && patched(CLOSE_RATES_ONCE)) {
    const sync = proxyActivities<Activities>(longSync(input.erpRetry));
    state.exchangeRates = await sync.syncGroupExchangeRates({
      legalEntities: closing.map((e) => e.legalEntity),
    });
    for (const r of state.exchangeRates)
      if (!('error' in r)) for (const e of r.legalEntities) ratesTaken.add(e);
  }
  const ended: Promise<void>[] = [];
  for (const batch of chunk(closing, input.startBatch ?? 100)) {
    const started = await Promise.all(
      batch.map((e) => {
        const workflowId = periodCloseEntityWorkflowId(input.month, e.legalEntity);
        const fiscalYear = scope.find((s) => s.legalEntity === e.legalEntity)!.fiscalYear!;
        return startChild(periodCloseEntity, {
          workflowId,
          args: [
            {
              month: input.month,
              legalEntity: e.legalEntity,
              fiscalPeriod: e.fiscalPeriod!,
              fiscalYear,
              requestedBy: input.requestedBy,
              signOff: input.signOff,
              correlationId: workflowId,
              ...(ratesTaken.has(e.legalEntity) ? { ratesTaken: true } : {}),
              erpRetry: input.erpRetry,
            },
          ],
          // A reset or termination of the group's close ends its running entity closes with it; started
          // again, each takes its recorded steps (sign-off included) instead of asking twice.
          parentClosePolicy: ParentClosePolicy.TERMINATE,
          typedSearchAttributes: [
            { key: SearchAttributes.LegalEntity, value: e.legalEntity },
            { key: SearchAttributes.FiscalPeriod, value: input.month },
            { key: SearchAttributes.FiscalYear, value: fiscalYear },
          ],
          staticSummary: `Close of ${e.fiscalPeriod} for ${e.legalEntity} (${input.month} close)`,
        }).then((handle) => ({ e, workflowId, handle }));
      }),
    );
    for (const { e, workflowId, handle } of started) {
      Object.assign(e, { workflowId, state: 'running' });
      ended.push(
        handle.result().then(
          (r) => void Object.assign(e, { state: r.status, reason: undefined }),
          (err: Error) =>
            void Object.assign(e, {
              state: 'failed',
              reason: (err.cause as Error | undefined)?.message ?? err.message,
            }),
        ),
      );
    }
  }
  await Promise.all(ended);
  state.status = 'completed';
  return state;
}
