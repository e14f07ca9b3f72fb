import { randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { stringify } from 'csv-stringify/sync';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { periodCloseReport } from '../../db/queries/close-report';
import { periodCloseScope } from '../../db/queries/period-close';
import { getLegalEntity } from '../../db/queries/reference';
import { REPORT_FIGURE_COLUMNS, REPORT_LINE_COLUMNS, reportTotals } from '../../domain/close-report';
import { DurationText as DurationString, LegalEntityCode } from '../../domain/model';
import {
  periodCloseEntityWorkflowId,
  periodCloseWorkflowId,
  retryStepSignal,
  SearchAttributes,
} from '../../workflows/definitions';
import { GroupBy, termLabel } from '../../domain/report-grouping';
import type { PeriodCloseEntityInput } from '../../workflows/period-close-entity';
import type { PeriodCloseInput, PeriodCloseStatus } from '../../workflows/period-close';
import { principalOf, requireRole } from '../auth';
import { closeReportGroups } from '../report-groups';
import { closeSignOffPolicy } from '../close-sign-off';
import {
  ControlDecisionBody,
  decideByUpdate,
  Reason,
  temporalUiLink,
  workflowStatus,
} from '../control-decisions';
import { HttpError } from '../errors';

export const CloseMonth = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a calendar month such as "2027-03"');

const StartBody = z
  .object({
    period: CloseMonth,
    /** Absent: every active legal entity. */
    legalEntities: z.array(LegalEntityCode).min(1).optional(),
    /** Shorter waits for a rehearsal or a test; absent: the configuration's. */
    escalateAfter: DurationString.optional(),
    expireAfter: DurationString.optional(),
  })
  .strict();
const RerunBody = z
  .object({
    reason: Reason,
    escalateAfter: DurationString.optional(),
    expireAfter: DurationString.optional(),
  })
  .strict();
const RetryBody = z.object({ reason: Reason.optional() }).strict();
const ReportQuery = z
  .object({ format: z.enum(['json', 'csv']).default('json'), groupBy: GroupBy.optional() })
  .strict();

/**
 * Period close for schedulers: start the close of a month (once: a second start is refused), follow it per
 * entity, sign off an entity (controllers), retry an entity's failed step, re-run one entity's close on
 * purpose, and read the group's close report (JSON or CSV).
 */
export function periodCloseRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router();
  const monthOf = (raw: unknown) => CloseMonth.parse(raw);
  const links = (month: string) => ({
    self: `/v1/period-closes/${month}`,
    report: `/v1/period-closes/${month}/report`,
    temporalUi: temporalUiLink(config, periodCloseWorkflowId(month)),
  });
  const scopeOf = async (month: string, legalEntity: string) => {
    const code = LegalEntityCode.parse(legalEntity);
    const [entry] = await periodCloseScope(db, month, [code]);
    if (!entry) throw new HttpError(404, 'not_found', `no legal entity ${code}`);
    if (!entry.fiscalPeriod)
      throw new HttpError(422, 'not_in_calendar', `no period of ${code}'s calendar ends in ${month}`);
    return { ...entry, fiscalPeriod: entry.fiscalPeriod, fiscalYear: entry.fiscalYear! };
  };

  router.post('/', requireRole('scheduler', 'controller'), async (req, res) => {
    const body = StartBody.parse(req.body);
    const month = body.period;
    const workflowId = periodCloseWorkflowId(month);
    const input: PeriodCloseInput = {
      month,
      legalEntities: body.legalEntities,
      requestedBy: principalOf(req).id,
      signOff: closeSignOffPolicy(config, body),
    };
    try {
      await client.workflow.start('periodClose', {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: SearchAttributes.FiscalPeriod, value: month }],
        staticSummary: `Period close of ${month}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new HttpError(
          409,
          'close_already_started',
          `the close of ${month} was already started (${workflowId}); re-run one entity with POST ${links(month).self}/entities/<entity>/rerun`,
        );
      throw err;
    }
    res
      .status(202)
      .location(links(month).self)
      .json({ period: month, workflowId, links: links(month) });
  });

  /** The close and each entity's progress (their own status queries, or results once ended). */
  router.get('/:period', async (req, res) => {
    const month = monthOf(req.params.period);
    const close = (await workflowStatus(
      client,
      periodCloseWorkflowId(month),
    )) as Partial<PeriodCloseStatus> & {
      execution: string;
    };
    if (close.execution === 'NOT_STARTED')
      throw new HttpError(404, 'not_found', `the close of ${month} has not been started`);
    const entities = await Promise.all(
      (close.entities ?? []).map(async (e) => ({
        ...e,
        ...(e.workflowId ? { workflow: await workflowStatus(client, e.workflowId) } : {}),
      })),
    );
    res.json({ ...close, entities, links: links(month) });
  });

  router.post('/:period/entities/:entity/sign-off', requireRole('controller'), async (req, res) => {
    const month = monthOf(req.params.period);
    const entry = await scopeOf(month, String(req.params.entity));
    const body = ControlDecisionBody.parse(req.body);
    const workflowId = periodCloseEntityWorkflowId(month, entry.legalEntity);
    const status = await decideByUpdate(
      { client, db, config },
      {
        workflowId,
        legalEntity: entry.legalEntity,
        entityType: 'period_close',
        entityId: `${entry.legalEntity}:${entry.fiscalPeriod}`,
        correlationId: workflowId,
      },
      principalOf(req).id,
      body,
    );
    res.json(status);
  });

  /** Support: run an entity's failed step again (what Temporal UI's `retry-step` signal does). */
  router.post(
    '/:period/entities/:entity/retry',
    requireRole('scheduler', 'controller', 'integration_admin'),
    async (req, res) => {
      const month = monthOf(req.params.period);
      const entry = await scopeOf(month, String(req.params.entity));
      const body = RetryBody.parse(req.body ?? {});
      const workflowId = periodCloseEntityWorkflowId(month, entry.legalEntity);
      const before = (await workflowStatus(client, workflowId)) as { execution: string; status?: string };
      if (before.execution !== 'RUNNING' || before.status !== 'step_failed')
        throw new HttpError(
          409,
          'nothing_to_retry',
          `${workflowId} has no failed step (${before.status ?? before.execution})`,
        );
      await client.workflow
        .getHandle(workflowId)
        .signal(retryStepSignal, { principal: principalOf(req).id, reason: body.reason });
      res.status(202).json({ workflowId, retried: true });
    },
  );

  /**
   * Re-runs one entity's close on purpose (after a reopen, a rejection or an unsigned end): the same steps
   * under a new correlation, so its marks are its own; refused while the entity's close still runs.
   */
  router.post('/:period/entities/:entity/rerun', requireRole('scheduler', 'controller'), async (req, res) => {
    const month = monthOf(req.params.period);
    const entry = await scopeOf(month, String(req.params.entity));
    const body = RerunBody.parse(req.body);
    const workflowId = periodCloseEntityWorkflowId(month, entry.legalEntity);
    const correlationId = `${workflowId}:rerun:${randomUUID()}`;
    const input: PeriodCloseEntityInput = {
      month,
      legalEntity: entry.legalEntity,
      fiscalPeriod: entry.fiscalPeriod,
      fiscalYear: entry.fiscalYear,
      requestedBy: principalOf(req).id,
      signOff: closeSignOffPolicy(config, body),
      correlationId,
    };
    try {
      await client.workflow.start('periodCloseEntity', {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: SearchAttributes.LegalEntity, value: entry.legalEntity },
          { key: SearchAttributes.FiscalPeriod, value: month },
          { key: SearchAttributes.FiscalYear, value: entry.fiscalYear },
        ],
        staticSummary: `Re-run of the close of ${entry.fiscalPeriod} for ${entry.legalEntity}: ${body.reason}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new HttpError(
          409,
          'close_running',
          `${workflowId} is still running; retry its failed step instead`,
        );
      throw err;
    }
    res.status(202).json({ workflowId, correlationId, links: links(month) });
  });

  /** The group's close report: each entity's report of its period, and the totals per currency. */
  router.get('/:period/report', async (req, res) => {
    const month = monthOf(req.params.period);
    const q = ReportQuery.parse(req.query);
    const scope = (await periodCloseScope(db, month)).filter((e) => e.fiscalPeriod);
    const entities = await Promise.all(
      scope.map(async (e) => {
        const entity = (await getLegalEntity(db, e.legalEntity))!;
        const report = await periodCloseReport(db, entity, e.fiscalPeriod!);
        const signOff = report.lockHistory.filter((h) => h.action === 'period.signed_off').pop();
        // Each entity grouped under its own chart and hierarchies.
        const grouped =
          q.groupBy && (await closeReportGroups(db, entity, e.fiscalPeriod!, report.lines, q.groupBy));
        return {
          ...report,
          ...(grouped ? { grouped } : {}),
          signedOff: signOff ? { by: signOff.actor, at: signOff.at } : null,
        };
      }),
    );
    const group = reportTotals(entities.flatMap((r) => r.lines));
    if (q.format === 'json') return void res.json({ period: month, entities, totals: group });
    // Grouped: each entity's groups and totals in the place of its buckets.
    const labels = q.groupBy?.map(termLabel) ?? [];
    const figureColumns = q.groupBy ? [...labels, ...REPORT_FIGURE_COLUMNS] : [...REPORT_LINE_COLUMNS];
    const columns = ['legalEntity', 'fiscalPeriod', 'status', ...figureColumns, 'signedOffBy', 'signedOffAt'];
    const totalRow = (t: object) => ({ ...t, [figureColumns[0]!]: 'TOTAL' });
    const rows = [
      ...entities.flatMap((r) => {
        const common = {
          legalEntity: r.legalEntity,
          fiscalPeriod: r.period,
          status: r.status,
          signedOffBy: r.signedOff?.by,
          signedOffAt: r.signedOff?.at,
        };
        if (r.grouped)
          return [
            ...r.grouped.groups.map(({ key, ...g }) => ({ ...common, ...key, ...g })),
            ...r.grouped.totals.map((t) => ({ ...common, ...totalRow(t) })),
          ];
        return [
          ...r.lines.map((l) => ({ ...common, ...l })),
          ...r.totals.map((t) => ({ ...common, ...totalRow(t) })),
        ];
      }),
      ...group.map((t) => ({ ...totalRow(t), legalEntity: 'GROUP' })),
    ].map((l) => columns.map((c) => String((l as Record<string, unknown>)[c] ?? '')));
    res
      .type('text/csv')
      .attachment(`close-${month}.csv`)
      .send(stringify([columns, ...rows]));
  });

  return router;
}
