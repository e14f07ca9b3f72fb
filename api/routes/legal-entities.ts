import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { stringify as writeCsv } from 'csv-stringify/sync';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { periodCloseReport } from '../../db/queries/close-report';
import { controlScenarioOf } from '../../db/queries/control-scenarios';
import { lockEntityPeriod, reopenEntityPeriod } from '../../db/queries/period-locks';
import { assignCalendar, calendarPeriods, setSyncTier } from '../../db/queries/reference';
import { getCalendar } from '../../db/queries/fiscal-calendars';
import { REPORT_FIGURE_COLUMNS, REPORT_LINE_COLUMNS } from '../../domain/close-report';
import { FiscalYear, LegalEntityCode, PeriodCode, Scenario } from '../../domain/model';
import { moneyFromMinor } from '../../domain/money';
import { GroupBy } from '../../domain/report-grouping';
import { inControlInClosedPeriods } from '../../db/queries/publications';
import { SYNC_TIERS } from '../../domain/sync-tiers';
import { principalOf, requireRole } from '../auth';
import { type ControlCache } from '../control-context';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';
import { closeReportGroups, groupedTable } from '../report-groups';
import { ensureEntitySchedules, syncInterval } from '../schedules';

const TierBody = z.object({ tier: z.enum(SYNC_TIERS) }).strict();
const CalendarBody = z.object({ calendar: z.string().min(2).max(30), reason: Reason }).strict();
const PeriodsQuery = z.object({ fiscalYear: z.coerce.number().pipe(FiscalYear).optional() }).strict();
const ReopenBody = z.object({ reason: Reason }).strict();
const ReportQuery = z
  .object({ format: z.enum(['json', 'csv']).default('json'), groupBy: GroupBy.optional() })
  .strict();
const ClosedPeriodsQuery = z.object({ scenario: Scenario.optional() }).strict();

/**
 * A scheduler sets how soon an entity's actuals and commitments are synced: its tier is stored (audited) and
 * its `erp-sync:<entity>` schedule takes the tier's interval at once. An operator's pause stays.
 */
export function legalEntityRoutes({
  db,
  client,
  config,
  cache,
}: {
  db: Database;
  client: Client;
  config: Config;
  cache: ControlCache;
}) {
  const router = Router();
  const target = async (params: { code?: unknown; period?: unknown }) => {
    const code = LegalEntityCode.parse(params.code);
    const period = PeriodCode.parse(params.period);
    return { entity: await knownLegalEntity(db, code, 'code'), period };
  };
  const correlationOf = (req: { header(name: string): string | undefined }) =>
    req.header('x-correlation-id') ?? randomUUID();

  /** The entity's periods as it sees them: the calendar's status, or closed where its close locked one. */
  router.get('/:code/periods', async (req, res) => {
    const entity = await knownLegalEntity(db, LegalEntityCode.parse(req.params.code), 'code');
    const q = PeriodsQuery.parse(req.query);
    const periods = await calendarPeriods(db, entity.fiscalCalendar, entity.code);
    res.json({
      legalEntity: entity.code,
      periods: periods.filter((p) => q.fiscalYear === undefined || p.fiscalYear === q.fiscalYear),
    });
  });

  /**
   * What a revision of the entity's budget must carry in the year's closed periods: per combination and
   * period, what is in control there (what its targets hold). A planning platform locks these; a version
   * that changes them is refused or has the change moved, as the entity's policy says.
   */
  router.get('/:code/budgets/:fiscalYear/closed-periods', async (req, res) => {
    const entity = await knownLegalEntity(db, LegalEntityCode.parse(req.params.code), 'code');
    const fiscalYear = z.coerce.number().pipe(FiscalYear).parse(req.params.fiscalYear);
    // The scenario in control of the year unless another is named.
    const scenario =
      ClosedPeriodsQuery.parse(req.query).scenario ??
      (await controlScenarioOf(db, entity.code, fiscalYear)).scenario;
    const periods = (await calendarPeriods(db, entity.fiscalCalendar, entity.code)).filter(
      (p) => p.fiscalYear === fiscalYear,
    );
    if (!periods.length)
      throw unknownReference([
        { field: 'fiscalYear', message: `${fiscalYear} is not in ${entity.fiscalCalendar}` },
      ]);
    const lines = await inControlInClosedPeriods(db, entity, { fiscalYear, scenario });
    res.json({
      legalEntity: entity.code,
      fiscalYear,
      scenario,
      closedPeriodPolicy: entity.closedPeriodPolicy,
      closedPeriods: periods.filter((p) => p.status === 'closed').map((p) => p.period),
      lines: lines.map((l) => ({
        dimensions: l.dimensions,
        period: l.period,
        // Targets that disagree cannot be revised there until reconciled: each one's figure is listed.
        inControl: l.byTarget.every((t) => t.minor === l.byTarget[0]!.minor)
          ? moneyFromMinor(l.byTarget[0]!.minor, l.currency)
          : null,
        byTarget: l.byTarget.map((t) => ({ target: t.target, amount: moneyFromMinor(t.minor, l.currency) })),
      })),
    });
  });

  /**
   * The entity's close report of a period: per bucket and in total budget, reserved, committed, actual and
   * variance (absolute and %), reconciliation exceptions and dead letters of the period with their state,
   * and the lock with every lock and reopen. `?format=csv` gives the lines and totals as a CSV a controller
   * opens in a spreadsheet.
   */
  router.get('/:code/periods/:period/report', async (req, res) => {
    const { entity, period } = await target(req.params);
    const q = ReportQuery.parse(req.query);
    const report = await periodCloseReport(db, entity, period);
    // Grouped by any dimension or hierarchy level: the groups and their totals instead of the buckets.
    const grouped = q.groupBy && (await closeReportGroups(db, entity, period, report.lines, q.groupBy));
    if (q.format === 'json') return void res.json(grouped ? { ...report, ...grouped } : report);
    if (grouped) {
      const table = groupedTable(
        grouped.groupBy,
        REPORT_FIGURE_COLUMNS,
        grouped,
        (row, column) => row[column as (typeof REPORT_FIGURE_COLUMNS)[number]],
      );
      return void res.type('text/csv').attachment(`close-${entity.code}-${period}.csv`).send(writeCsv(table));
    }
    const columns = [...REPORT_LINE_COLUMNS];
    const rows = [
      ...report.lines,
      ...report.totals.map((t) => ({ ...t, account: 'TOTAL', costCenter: '' })),
    ].map((l) => columns.map((c) => (l as unknown as Record<string, unknown>)[c] ?? ''));
    res
      .type('text/csv')
      .attachment(`close-${entity.code}-${period}.csv`)
      .send(writeCsv([columns, ...rows]));
  });

  /**
   * Locks a period for the entity (a controller, or its period close): its reservations and actuals dated
   * there are refused or routed as its policy says from then on. Locking again changes nothing.
   */
  router.post('/:code/periods/:period/lock', requireRole('controller', 'scheduler'), async (req, res) => {
    const { entity, period } = await target(req.params);
    const outcome = await db.transaction((tx) =>
      lockEntityPeriod(tx, {
        legalEntity: entity.code,
        period,
        by: principalOf(req).id,
        correlationId: correlationOf(req),
      }),
    );
    if (outcome === 'not_in_calendar')
      throw unknownReference([{ field: 'period', message: `${period} is not in ${entity.fiscalCalendar}` }]);
    cache.entities.clear();
    res.json({ legalEntity: entity.code, period, outcome });
  });

  /** Reopens a locked period with a reason (a controller; audited, and visible in the close report). */
  router.post('/:code/periods/:period/reopen', requireRole('controller'), async (req, res) => {
    const { entity, period } = await target(req.params);
    const body = ReopenBody.parse(req.body);
    const outcome = await db.transaction((tx) =>
      reopenEntityPeriod(tx, {
        legalEntity: entity.code,
        period,
        by: principalOf(req).id,
        reason: body.reason,
        correlationId: correlationOf(req),
      }),
    );
    if (outcome === 'not_locked')
      throw new HttpError(409, 'not_locked', `${period} is not locked for ${entity.code}`);
    cache.entities.clear();
    res.json({ legalEntity: entity.code, period, outcome, reason: body.reason });
  });

  /**
   * An integration administrator puts an entity on a fiscal calendar (a 4-4-5 one, say), audited; refused
   * (409, naming what) once it has booked anything by its periods.
   */
  router.put('/:code/fiscal-calendar', requireRole('integration_admin'), async (req, res) => {
    const entity = await knownLegalEntity(db, LegalEntityCode.parse(req.params.code), 'code');
    const body = CalendarBody.parse(req.body);
    if (!(await getCalendar(db, body.calendar)))
      throw unknownReference([
        { field: 'calendar', message: `${body.calendar} is not a fiscal calendar closeloop knows` },
      ]);
    const assigned = (await db.transaction((tx) =>
      assignCalendar(tx, {
        legalEntity: entity.code,
        calendar: body.calendar,
        by: principalOf(req).id,
        reason: body.reason,
        correlationId: correlationOf(req),
      }),
    ))!;
    if (assigned.outcome === 'refused')
      throw new HttpError(
        409,
        'calendar_in_use',
        `${entity.code} stays on ${entity.fiscalCalendar}: it has ${assigned.booked.join(', ')} by that calendar's periods`,
        { booked: assigned.booked },
      );
    // Every budget-control route sees the entity's new periods at once.
    cache.entities.clear();
    res.json({
      legalEntity: entity.code,
      fiscalCalendar: assigned.calendar,
      changed: assigned.outcome === 'assigned',
    });
  });

  router.put('/:code/sync-tier', requireRole('scheduler', 'integration_admin'), async (req, res) => {
    const code = LegalEntityCode.parse(req.params.code);
    const body = TierBody.parse(req.body);
    await knownLegalEntity(db, code, 'code');
    const entity = await db.transaction((tx) =>
      setSyncTier(tx, {
        legalEntity: code,
        tier: body.tier,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    const schedules = await ensureEntitySchedules(client, config, entity!);
    res.json({ legalEntity: code, tier: body.tier, interval: syncInterval(config, entity!), schedules });
  });
  return router;
}
