import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import {
  comparisonsOf,
  parallelActualsOf,
  cutoverOf,
  cutoversOf,
  rollBackCutover,
  scheduleCutover,
  unmappedFor,
} from '../../db/queries/cutovers';
import { calendarPeriods } from '../../db/queries/reference';
import { ACTUALS_DURING_PARALLEL, parallelRunEnd } from '../../domain/cutover';
import { ErpSystem, IsoDate, LegalEntityCode } from '../../domain/model';
import { PostingModel } from '../../domain/posting-model';
import { postingModelOf, POSTING_MODELS_BY_ERP, requiredSettings } from '../../domain/routing';
import { cutoverWorkflowId } from '../../workflows/definitions';
import { type ErpCutoverInput } from '../../workflows/erp-cutover';
import { principalOf, requireRole } from '../auth';
import { Reason, temporalUiLink } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity } from '../references';

const SettingKey = z.string().regex(/^[a-z][a-zA-Z0-9]{0,49}$/, 'must be a camelCase setting name');
const CutoverBody = z
  .object({
    /** The ERP the entity leaves (its route in force on the cut-over day). */
    from: ErpSystem,
    /** The ERP it moves to, and where there (as a route names it). */
    to: z
      .object({
        target: ErpSystem,
        company: z.string().min(1).max(60),
        postingModel: PostingModel.optional(),
        settings: z.record(SettingKey, z.string().min(1).max(500)).default({}),
      })
      .strict(),
    /** The first day the new ERP receives the budget: a period's first day. */
    cutoverDate: IsoDate,
    /** How many periods from the cut-over both ERPs receive it (0: none). */
    parallelPeriods: z.number().int().min(0).max(24).default(0),
    /** Whose actuals count for budget control during the parallel run; the other's are for comparison. */
    actualsDuringParallel: z.enum(ACTUALS_DURING_PARALLEL).default('old'),
    /** The new ERP's journal sources (or categories) that are the migration's own: never counted as actuals. */
    conversionSources: z.array(z.string().min(1).max(80)).max(20).default([]),
    reason: Reason,
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.from === b.to.target)
      ctx.addIssue({ code: 'custom', path: ['to', 'target'], message: 'must be another ERP than `from`' });
    if (b.to.postingModel && !POSTING_MODELS_BY_ERP[b.to.target].includes(b.to.postingModel))
      ctx.addIssue({
        code: 'custom',
        path: ['to', 'postingModel'],
        message: `is not a way ${b.to.target} holds budgets (${POSTING_MODELS_BY_ERP[b.to.target].join(', ')})`,
      });
    const model = postingModelOf({ target: b.to.target, postingModel: b.to.postingModel ?? null });
    for (const key of requiredSettings(b.to.target, model))
      if (!b.to.settings[key])
        ctx.addIssue({
          code: 'custom',
          path: ['to', 'settings', key],
          message: `is required for ${b.to.target} to hold budgets as ${model}`,
        });
  });
const RollbackBody = z.object({ rollbackDate: IsoDate, reason: Reason }).strict();
const CutoverId = z.string().uuid();

/**
 * ERP migration as an integration administrator runs it (domain/cutover, docs/migration.md): a cut-over is
 * scheduled at a day, refused while the new ERP cannot map what the entity posts; its routes change together and
 * a workflow sends the new ERP the budgets it now receives, then compares the parallel run; a rollback makes the
 * old ERP the target again and sends it what it missed. Mounted at /v1/legal-entities/:code/cutovers.
 */
export function cutoverRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router({ mergeParams: true });
  const entityOf = (req: Request) =>
    knownLegalEntity(db, LegalEntityCode.parse((req.params as { code?: string }).code), 'code');
  const context = (req: Request) => ({
    by: principalOf(req).id,
    correlationId: req.header('x-correlation-id') ?? randomUUID(),
  });
  const start = async (input: ErpCutoverInput) => {
    const workflowId = cutoverWorkflowId(input.legalEntity, input.cutoverId, input.phase);
    await client.workflow.start('erpCutover', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      // A phase already running is joined; one that ended may run again (a compare after a fix).
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Cut-over of ${input.legalEntity}: ${input.phase}`,
    });
    return { workflowId, links: { temporalUi: temporalUiLink(config, workflowId) } };
  };
  const shown = async (id: string) => {
    const cutover = await cutoverOf(db, id);
    return (
      cutover && {
        ...cutover,
        comparisons: await comparisonsOf(db, id),
        // The other ERP's posted lines over the parallel run, kept for the comparison only.
        parallelActuals: await parallelActualsOf(db, id),
      }
    );
  };

  router.get('/', async (req, res) => {
    const entity = await entityOf(req);
    res.json({
      legalEntity: entity.code,
      cutovers: await Promise.all((await cutoversOf(db, entity.code)).map((c) => shown(c.id))),
    });
  });

  router.get('/:id', async (req, res) => {
    const entity = await entityOf(req);
    const found = await shown(CutoverId.parse(req.params.id));
    if (!found || found.legalEntity !== entity.code)
      throw new HttpError(404, 'not_found', `${entity.code} has no cut-over ${req.params.id}`);
    res.json(found);
  });

  router.post('/', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    const body = CutoverBody.parse(req.body);
    const end = parallelRunEnd(
      body.cutoverDate,
      body.parallelPeriods,
      await calendarPeriods(db, entity.fiscalCalendar),
    );
    if ('error' in end) throw new HttpError(422, 'validation_failed', end.error, { field: 'cutoverDate' });
    const missing = await unmappedFor(db, {
      legalEntity: entity.code,
      erpSystem: body.to.target,
      on: body.cutoverDate,
    });
    if (missing.length)
      throw new HttpError(
        422,
        'mappings_incomplete',
        `${body.to.target} cannot map ${missing.length} value(s) ${entity.code} posts from ${body.cutoverDate}: ${missing
          .slice(0, 20)
          .map((m) => `${m.dimension} ${m.code}`)
          .join(', ')}; map them (master data sync, or PUT /v1/master-data/mappings) before the cut-over`,
        { missing },
      );
    const ctx = context(req);
    const outcome = await db.transaction((tx) =>
      scheduleCutover(tx, {
        legalEntity: entity.code,
        fromTarget: body.from,
        toTarget: body.to.target,
        company: body.to.company,
        postingModel: body.to.postingModel ?? null,
        settings: body.to.settings,
        cutoverDate: body.cutoverDate,
        parallelPeriods: body.parallelPeriods,
        parallelUntil: end.until,
        actualsDuringParallel: body.actualsDuringParallel,
        conversionSources: body.conversionSources,
        reason: body.reason,
        ...ctx,
      }),
    );
    if (outcome.outcome === 'refused') throw new HttpError(409, 'conflict', outcome.reason);
    const run = await start({
      cutoverId: outcome.cutover.id,
      legalEntity: entity.code,
      phase: 'cutover',
      chunkSize: config.cycle.chunkSize,
      correlationId: ctx.correlationId,
    });
    res.status(outcome.outcome === 'scheduled' ? 201 : 200).json({
      outcome: outcome.outcome,
      cutover: outcome.cutover,
      ...run,
    });
  });

  router.post('/:id/rollback', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    const id = CutoverId.parse(req.params.id);
    const body = RollbackBody.parse(req.body);
    const ctx = context(req);
    const found = await cutoverOf(db, id);
    if (!found || found.legalEntity !== entity.code)
      throw new HttpError(404, 'not_found', `${entity.code} has no cut-over ${id}`);
    const outcome = await db.transaction((tx) => rollBackCutover(tx, { id, ...body, ...ctx }));
    if (outcome.outcome === 'refused') throw new HttpError(409, 'conflict', outcome.reason);
    const run = await start({
      cutoverId: id,
      legalEntity: entity.code,
      phase: 'rollback',
      chunkSize: config.cycle.chunkSize,
      correlationId: ctx.correlationId,
    });
    res.json({ outcome: outcome.outcome, cutover: outcome.cutover, ...run });
  });

  router.post('/:id/compare', requireRole('integration_admin', 'controller'), async (req, res) => {
    const entity = await entityOf(req);
    const id = CutoverId.parse(req.params.id);
    const found = await cutoverOf(db, id);
    if (!found || found.legalEntity !== entity.code)
      throw new HttpError(404, 'not_found', `${entity.code} has no cut-over ${id}`);
    const run = await start({
      cutoverId: id,
      legalEntity: entity.code,
      phase: 'compare',
      chunkSize: config.cycle.chunkSize,
      correlationId: context(req).correlationId,
    });
    res.status(202).json(run);
  });

  return router;
}
