import { randomUUID } from 'node:crypto';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import { chartVersions } from '../../db/queries/chart';
import { addRoute, changeTargetSettings, endRoute, routesOf } from '../../db/queries/routes';
import { chartDimensionCodes } from '../../domain/chart';
import { DimensionCode, ErpSystem, IsoDate, LegalEntityCode } from '../../domain/model';
import { PostingModel } from '../../domain/posting-model';
import { inForceOn, postingModelOf, POSTING_MODELS_BY_ERP, requiredSettings } from '../../domain/routing';
import { principalOf, requireRole } from '../auth';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';

const SettingKey = z.string().regex(/^[a-z][a-zA-Z0-9]{0,49}$/, 'must be a camelCase setting name');
const SettingValue = z.string().min(1).max(500);
const SettingsBody = z
  .object({
    /** Keys to set (a string) or remove (null); keys not named stay as they are. */
    settings: z.record(SettingKey, SettingValue.nullable()),
    reason: Reason,
  })
  .strict();

const Company = z.string().min(1).max(60);
const RouteBody = z
  .object({
    target: ErpSystem,
    /** The company (Dynamics 365) or ledger (Oracle) receiving the entity's budgets. */
    company: Company,
    /** How the target is to hold them; absent: the ERP's own. */
    postingModel: PostingModel.optional(),
    settings: z.record(SettingKey, SettingValue).default({}),
    validFrom: IsoDate,
    /** Targets the entity stops publishing to on the same day (it moves from one ERP to another). */
    replaces: z.array(ErpSystem).max(5).default([]),
    reason: Reason,
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.postingModel && !POSTING_MODELS_BY_ERP[b.target].includes(b.postingModel))
      return ctx.addIssue({
        code: 'custom',
        path: ['postingModel'],
        message: `is not a way ${b.target} holds budgets (${POSTING_MODELS_BY_ERP[b.target].join(', ')}: see docs/revisions.md)`,
      });
    const model = postingModelOf({ target: b.target, postingModel: b.postingModel ?? null });
    for (const key of requiredSettings(b.target, model))
      if (!b.settings[key])
        ctx.addIssue({
          code: 'custom',
          path: ['settings', key],
          message: `is required for ${b.target} to hold budgets as ${model}`,
        });
  });
const EndBody = z.object({ validTo: IsoDate, reason: Reason }).strict();
const OnQuery = z.object({ on: IsoDate.optional() }).strict();

/** A form of the dimensions names only dimensions of the entity's chart (any of its versions). */
async function checkDimensionFormat(db: Database, legalEntity: string, format: string | null | undefined) {
  if (!format) return;
  const known = chartDimensionCodes(await chartVersions(db, legalEntity));
  const bad = format.split('-').filter((d) => !DimensionCode.safeParse(d).success || !known.includes(d));
  if (bad.length)
    throw unknownReference(
      bad.map((d) => ({
        field: 'settings.dimensionFormat',
        message: `${d} is not a dimension of ${legalEntity}'s chart`,
      })),
    );
}

const entityOf = (db: Database, req: Request) =>
  knownLegalEntity(db, LegalEntityCode.parse((req.params as { code?: string }).code), 'code');

const today = () => new Date().toISOString().slice(0, 10);

/**
 * Routing as data: where an entity's approved budgets go, from when, on what terms (db/queries/routes). Mounted
 * twice: at /v1/legal-entities/:code/routes, every route with its dates, a new route (the entity moves or
 * gains a target) and the end of one; at /v1/legal-entities/:code/publication-targets, the routes in force
 * today and each target's own form, its settings read by its adapter (for Dynamics 365 the budget model and
 * codes, and `dimensionFormat`, the segment order of its display values).
 */
export function routingRoutes({ db }: { db: Database }) {
  const router = Router({ mergeParams: true });
  const context = (req: Request) => ({
    by: principalOf(req).id,
    correlationId: req.header('x-correlation-id') ?? randomUUID(),
  });

  router.get('/', async (req, res) => {
    const entity = await entityOf(db, req);
    const on = OnQuery.parse(req.query).on ?? today();
    res.json({
      legalEntity: entity.code,
      on,
      routes: (await routesOf(db, entity.code)).map((r) => ({
        ...r,
        postingModel: postingModelOf(r),
        inForce: inForceOn(r, on),
      })),
    });
  });

  router.post('/', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(db, req);
    const body = RouteBody.parse(req.body);
    await checkDimensionFormat(db, entity.code, body.settings.dimensionFormat);
    const outcome = await db.transaction((tx) =>
      addRoute(tx, {
        legalEntity: entity.code,
        target: body.target,
        company: body.company,
        postingModel: body.postingModel ?? null,
        settings: body.settings,
        validFrom: body.validFrom,
        replaces: body.replaces,
        reason: body.reason,
        ...context(req),
      }),
    );
    if (outcome.outcome === 'later_route')
      throw new HttpError(
        409,
        'later_route',
        `${entity.code} already has a route to ${body.target} starting on or after ${body.validFrom}: end or replace that one first`,
        { standing: outcome.standing },
      );
    res.status(outcome.outcome === 'added' ? 201 : 200).json(outcome);
  });

  router.post('/:target/end', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(db, req);
    const body = EndBody.parse(req.body);
    const ended = await db.transaction((tx) =>
      endRoute(tx, { legalEntity: entity.code, target: String(req.params.target), ...body, ...context(req) }),
    );
    if (!ended)
      throw new HttpError(
        404,
        'not_found',
        `${entity.code} has no route to ${req.params.target} in force on ${body.validTo}`,
      );
    res.json({ outcome: 'ended', route: ended });
  });

  return router;
}

/** The routes in force today, one per target, and a change of a target's settings on its latest route. */
export function publicationTargetRoutes({ db }: { db: Database }) {
  const router = Router({ mergeParams: true });

  router.get('/', async (req, res) => {
    const entity = await entityOf(db, req);
    const on = today();
    const targets = (await routesOf(db, entity.code))
      .filter((r) => inForceOn(r, on))
      .map((r) => ({ ...r, postingModel: postingModelOf(r) }));
    res.json({ legalEntity: entity.code, targets });
  });

  router.patch('/:target', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(db, req);
    const body = SettingsBody.parse(req.body);
    await checkDimensionFormat(db, entity.code, body.settings.dimensionFormat);
    const changed = await db.transaction((tx) =>
      changeTargetSettings(tx, {
        legalEntity: entity.code,
        target: String(req.params.target),
        set: body.settings,
        by: principalOf(req).id,
        reason: body.reason,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (!changed)
      throw new HttpError(404, 'not_found', `${entity.code} has no publication target ${req.params.target}`);
    res.json({ ...changed.target, changed: changed.changed });
  });

  return router;
}
