import { type Client, MONTHS, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { type Duration, msToNumber, type SearchAttributePair } from '@temporalio/common';
import { type Config } from '../config';
import { type Database } from '../db/client';
import { type LegalEntityRow, activeLegalEntities } from '../db/queries/reference';
import { SearchAttributes } from '../workflows/definitions';
import type { ErpSyncInput } from '../workflows/erp-sync';
import type { FileInboxInput } from '../workflows/file-inbox';
import type { MasterDataSyncWorkflowInput } from '../workflows/master-data-sync';
import type { ScheduledPeriodCloseInput } from '../workflows/scheduled-period-close';
import { closeSignOffPolicy } from './close-sign-off';
import { approvalRoster } from './start-cycle';

export const erpSyncScheduleId = (legalEntity: string) => `erp-sync:${legalEntity}`;
export const masterDataScheduleId = (legalEntity: string) => `master-data:${legalEntity}`;

/** How often an entity's actuals and commitments are synced, by its tier (domain/sync-tiers). */
export function syncInterval(config: Config, entity: Pick<LegalEntityRow, 'syncTier'>): string {
  // Near real time is event driven (webhooks start the entity's erp-events workflow); the hourly schedule
  // stays as the safety net for an event that never arrived.
  return entity.syncTier === 'daily' ? config.flows.erpSyncDailyInterval : config.flows.erpSyncInterval;
}

/**
 * The standing syncs, as Temporal Schedules created from configuration, two per legal entity:
 * - `erp-sync:<entity>`: actuals and open purchase orders of every year with an open period, then delivery to
 *   the planning platform, at the entity's tier (hourly: ERP_SYNC_INTERVAL; daily: ERP_SYNC_DAILY_INTERVAL);
 * - `master-data:<entity>`: chart of accounts, cost centers and their hierarchy from the ERP, every
 *   MASTER_DATA_SYNC_INTERVAL (daily by default).
 *
 * Policies, chosen on purpose:
 * - overlap BUFFER_ONE: a sync still running when the next is due is not run twice at once, and the next one
 *   still runs after it (what arrived meanwhile is not left for a whole interval);
 * - catch-up window: after downtime, missed runs within ERP_SYNC_CATCHUP_WINDOW (at least one interval, so a
 *   daily run missed by an outage still runs) are run, buffered to one by the overlap policy; the watermarks
 *   make one run enough;
 * - failures do not pause a schedule: the next run retries from the same watermark.
 */
export function scheduleDefinitions(config: Config, entity: Pick<LegalEntityRow, 'code' | 'syncTier'>) {
  const roster = approvalRoster(config);
  const catchup = (every: string) =>
    Math.max(msToNumber(config.flows.erpSyncCatchupWindow as Duration), msToNumber(every as Duration));
  const definition = (d: {
    scheduleId: string;
    every: string;
    workflowType: 'erpSync' | 'masterDataSync';
    args: [ErpSyncInput] | [MasterDataSyncWorkflowInput];
    note: string;
  }) => ({
    scheduleId: d.scheduleId,
    spec: { intervals: [{ every: d.every as Duration }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: d.workflowType,
      workflowId: `${d.scheduleId}:scheduled`,
      taskQueue: config.temporal.taskQueue,
      args: d.args,
      typedSearchAttributes: [{ key: SearchAttributes.LegalEntity, value: entity.code }],
    },
    policies: {
      overlap: ScheduleOverlapPolicy.BUFFER_ONE,
      catchupWindow: catchup(d.every),
      pauseOnFailure: false,
    },
    state: { note: `${d.note} (closeloop configuration)` },
  });
  const every = syncInterval(config, entity);
  return [
    definition({
      scheduleId: erpSyncScheduleId(entity.code),
      every,
      workflowType: 'erpSync',
      args: [{ legalEntity: entity.code, deliver: true }],
      note: `ERP sync of ${entity.code}, ${entity.syncTier} tier`,
    }),
    definition({
      scheduleId: masterDataScheduleId(entity.code),
      every: config.flows.masterDataSyncInterval,
      workflowType: 'masterDataSync',
      args: [
        {
          legalEntity: entity.code,
          approvers: roster.approvers,
          integrationAdmins: roster.integrationAdmins,
          approvalTimeout: config.flows.masterDataApprovalTimeout as Duration,
        },
      ],
      note: `Master data sync of ${entity.code}`,
    }),
  ];
}

/**
 * Creates the schedules the configuration asks for; one that exists is brought to the configuration only
 * where it differs (so a restart changes nothing, and a changed interval or tier reaches the schedule). A
 * schedule paused by an operator stays paused.
 */
/** A standing schedule as created: its ID and how often it runs. */
export interface EnsuredSchedule {
  scheduleId: string;
  every: string;
}

export async function ensureSchedules(
  client: Client,
  config: Config,
  db: Database,
): Promise<EnsuredSchedule[]> {
  const ids: EnsuredSchedule[] = [];
  for (const entity of await activeLegalEntities(db))
    ids.push(...(await ensureEntitySchedules(client, config, entity)));
  return ids;
}

/** One entity's schedules, as ensureSchedules brings them to the configuration. */
export async function ensureEntitySchedules(
  client: Client,
  config: Config,
  entity: Pick<LegalEntityRow, 'code' | 'syncTier'>,
): Promise<EnsuredSchedule[]> {
  const ids: EnsuredSchedule[] = [];
  for (const def of scheduleDefinitions(config, entity)) {
    ids.push({ scheduleId: def.scheduleId, every: String(def.spec.intervals[0]!.every) });
    await ensureIntervalSchedule(client, def);
  }
  return ids;
}

/** A schedule that starts a workflow at an interval, as closeloop defines its standing ones. */
export interface IntervalSchedule {
  scheduleId: string;
  spec: { intervals: { every: Duration }[] };
  action: {
    type: 'startWorkflow';
    workflowType: string;
    workflowId: string;
    taskQueue: string;
    args: unknown[];
    typedSearchAttributes: SearchAttributePair[];
  };
  policies: { overlap: ScheduleOverlapPolicy; catchupWindow: number; pauseOnFailure: boolean };
  state: { note: string };
}

/**
 * Creates a schedule that runs a workflow at an interval, or brings the existing one to its definition (its
 * interval, policies and action) without touching its state: a schedule paused by an operator stays paused.
 */
export async function ensureIntervalSchedule(client: Client, def: IntervalSchedule): Promise<void> {
  try {
    await client.schedule.create(def);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = client.schedule.getHandle(def.scheduleId);
    const current = await handle.describe();
    const every = current.spec.intervals?.[0]?.every;
    const action = current.action.type === 'startWorkflow' ? current.action : undefined;
    const same =
      current.spec.intervals?.length === 1 &&
      every !== undefined &&
      msToNumber(every) === msToNumber(def.spec.intervals[0]!.every) &&
      current.policies.overlap === def.policies.overlap &&
      msToNumber(current.policies.catchupWindow) === def.policies.catchupWindow &&
      action?.workflowType === def.action.workflowType &&
      JSON.stringify(action?.args) === JSON.stringify(def.action.args);
    if (!same) {
      await handle.update((prev) => ({
        ...prev,
        spec: def.spec,
        policies: def.policies,
        action: { ...prev.action, ...def.action },
      }));
    }
  }
}

export const fileInboxScheduleId = (feed: string) => `file-inbox:${feed}`;

/**
 * A file feed's pickup (`file-inbox:<feed>`) every `every`: overlap BUFFER_ONE (a pickup still reading a large
 * file is not doubled, and the next runs after it), a catch-up window of one interval (the ledger makes one
 * pickup after downtime enough), failures never pause it.
 */
export function fileInboxSchedule(
  config: Config,
  feed: { code: string; legalEntity: string; every: string },
): IntervalSchedule {
  const scheduleId = fileInboxScheduleId(feed.code);
  return {
    scheduleId,
    spec: { intervals: [{ every: feed.every as Duration }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'fileInbox',
      workflowId: `${scheduleId}:scheduled`,
      taskQueue: config.temporal.taskQueue,
      args: [{ feed: feed.code } satisfies FileInboxInput],
      typedSearchAttributes: [{ key: SearchAttributes.LegalEntity, value: feed.legalEntity }],
    },
    policies: {
      overlap: ScheduleOverlapPolicy.BUFFER_ONE,
      catchupWindow: msToNumber(feed.every as Duration),
      pauseOnFailure: false,
    },
    state: { note: `pickup of file feed ${feed.code} (closeloop file feed)` },
  };
}

export const PERIOD_CLOSE_SCHEDULE_ID = 'period-close';

/**
 * The days the `period-close` schedule fires: each period end of the active entities' fiscal calendars from
 * today on, plus PERIOD_CLOSE_AFTER_DAYS, at 06:00 UTC. Several calendars ending in one month give one date.
 */
export async function closeDates(db: Database, closeAfterDays: number, from = new Date()): Promise<string[]> {
  const rows = (await db.execute(sql`
    select distinct (p.end_date + ${closeAfterDays}::int)::text as due
      from fiscal_periods p join legal_entities e on e.fiscal_calendar = p.calendar and e.active
     where p.end_date + ${closeAfterDays}::int >= ${from.toISOString().slice(0, 10)}::date
     order by 1`)) as unknown as { due: string }[];
  return rows.map((r) => r.due);
}

/**
 * The Temporal Schedule `period-close`, derived from the fiscal calendars: on each close date it starts
 * scheduledPeriodClose, which starts `period-close:<month>` for the month that just ended (left alone when a
 * scheduler started it by hand). Brought to the calendars at every start-up; an operator's pause stays.
 */
export async function ensurePeriodCloseSchedule(client: Client, config: Config, db: Database) {
  const { closeAfterDays } = config.flows.periodClose;
  const dates = await closeDates(db, closeAfterDays);
  const input: ScheduledPeriodCloseInput = { closeAfterDays, signOff: closeSignOffPolicy(config) };
  const def = {
    scheduleId: PERIOD_CLOSE_SCHEDULE_ID,
    spec: {
      calendars: dates.map((d) => ({
        year: Number(d.slice(0, 4)),
        month: MONTHS[Number(d.slice(5, 7)) - 1]!,
        dayOfMonth: Number(d.slice(8, 10)),
        hour: 6,
        comment: `close due ${d}`,
      })),
    },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'scheduledPeriodClose',
      workflowId: `${PERIOD_CLOSE_SCHEDULE_ID}:scheduled`,
      taskQueue: config.temporal.taskQueue,
      args: [input],
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '1 day' as Duration,
      pauseOnFailure: false,
    },
    state: {
      note: `Period close on the fiscal calendars' close dates, ${closeAfterDays} days after each period end (closeloop configuration)`,
    },
  };
  try {
    await client.schedule.create(def);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(def.scheduleId).update((prev) => ({
      ...prev,
      spec: def.spec,
      policies: def.policies,
      action: { ...prev.action, ...def.action },
    }));
  }
  return { scheduleId: def.scheduleId, closeDates: dates };
}
