import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { type Duration, msToNumber } from '@temporalio/common';
import { type Config } from '../config';
import { type Database } from '../db/client';
import { activeLegalEntities } from '../db/queries/reference';
import { SearchAttributes } from '../workflows/definitions';
import type { ErpSyncInput } from '../workflows/erp-sync';

export const erpSyncScheduleId = (legalEntity: string) => `erp-sync:${legalEntity}`;

/**
 * The standing syncs, as Temporal Schedules created from configuration: per legal entity, its ERP sync
 * (actuals and open purchase orders of every year with an open period, then delivery to the planning
 * platform) every ERP_SYNC_INTERVAL. Near real time is not a schedule: webhooks start the entity's
 * `erp-events` workflow.
 *
 * Policies, chosen on purpose:
 * - overlap BUFFER_ONE: a sync still running when the next is due is not run twice at once, and the next one
 *   still runs after it (what arrived meanwhile is not left for a whole interval);
 * - catch-up window ERP_SYNC_CATCHUP_WINDOW: after downtime, missed runs within it are run (buffered to one by
 *   the overlap policy), older ones are skipped: the watermarks make one run enough;
 * - failures do not pause the schedule: the next run retries from the same watermark.
 */
export function scheduleDefinitions(config: Config, legalEntity: string) {
  const input: ErpSyncInput = { legalEntity, deliver: true };
  return {
    scheduleId: erpSyncScheduleId(legalEntity),
    spec: { intervals: [{ every: config.flows.erpSyncInterval as Duration }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'erpSync',
      workflowId: `erp-sync:${legalEntity}:scheduled`,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: SearchAttributes.LegalEntity, value: legalEntity }],
    },
    policies: {
      overlap: ScheduleOverlapPolicy.BUFFER_ONE,
      catchupWindow: config.flows.erpSyncCatchupWindow as Duration,
      pauseOnFailure: false,
    },
    state: { note: `ERP sync of ${legalEntity} (closeloop configuration)` },
  };
}

/**
 * Creates the schedules the configuration asks for; one that exists is brought to the configuration only
 * where it differs (so a restart changes nothing, and a changed interval reaches the schedule). A schedule
 * paused by an operator stays paused.
 */
export async function ensureSchedules(client: Client, config: Config, db: Database): Promise<string[]> {
  const ids: string[] = [];
  for (const entity of await activeLegalEntities(db)) {
    const def = scheduleDefinitions(config, entity.code);
    ids.push(def.scheduleId);
    try {
      await client.schedule.create(def);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      const handle = client.schedule.getHandle(def.scheduleId);
      const current = await handle.describe();
      const every = current.spec.intervals?.[0]?.every;
      const same =
        current.spec.intervals?.length === 1 &&
        every !== undefined &&
        msToNumber(every) === msToNumber(def.spec.intervals[0]!.every) &&
        current.policies.overlap === def.policies.overlap &&
        msToNumber(current.policies.catchupWindow) === msToNumber(def.policies.catchupWindow);
      if (!same) {
        await handle.update((prev) => ({ ...prev, spec: def.spec, policies: def.policies }));
      }
    }
  }
  return ids;
}
