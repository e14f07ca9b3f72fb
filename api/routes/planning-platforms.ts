import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import {
  planningPlatformOn,
  planningPlatformsOf,
  switchPlanningPlatform,
} from '../../db/queries/planning-platforms';
import { IsoDate, LegalEntityCode } from '../../domain/model';
import { PlanningPlatform, REQUIRED_PLANNING_SETTINGS } from '../../domain/planning-platforms';
import { principalOf, requireRole } from '../auth';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity } from '../references';

const SwitchBody = z
  .object({
    platform: PlanningPlatform,
    settings: z.record(z.string().regex(/^[a-z][a-zA-Z0-9]{0,49}$/), z.string().min(1).max(500)).default({}),
    validFrom: IsoDate,
    reason: Reason,
  })
  .strict()
  .superRefine((b, ctx) => {
    for (const { key, why } of REQUIRED_PLANNING_SETTINGS[b.platform])
      if (!b.settings[key])
        ctx.addIssue({
          code: 'custom',
          path: ['settings', key],
          message: `is required on ${b.platform}: ${why}`,
        });
  });
const OnQuery = z.object({ on: IsoDate.optional() }).strict();

/**
 * Planning as data: the platform an entity's budgets come from and its forecasts go back to, dated
 * (db/queries/planning-platforms). `GET` lists them with the one in force on a day; `POST` switches the entity
 * to a platform from a day (integration admins), audited.
 */
export function planningPlatformRoutes({ db }: { db: Database }) {
  const router = Router({ mergeParams: true });
  const entityOf = (code: unknown) => knownLegalEntity(db, LegalEntityCode.parse(code), 'code');

  router.get('/', async (req, res) => {
    const entity = await entityOf((req.params as { code?: string }).code);
    const on = OnQuery.parse(req.query).on ?? new Date().toISOString().slice(0, 10);
    const inForce = await planningPlatformOn(db, entity.code, on);
    res.json({
      legalEntity: entity.code,
      on,
      inForce: inForce?.platform ?? null,
      platforms: await planningPlatformsOf(db, entity.code),
    });
  });

  router.post('/', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf((req.params as { code?: string }).code);
    const body = SwitchBody.parse(req.body);
    const outcome = await db.transaction((tx) =>
      switchPlanningPlatform(tx, {
        legalEntity: entity.code,
        ...body,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (!outcome.switched && outcome.reason === 'later_switch')
      throw new HttpError(
        409,
        'later_switch',
        `${entity.code} already moves to ${outcome.later.platform} on ${outcome.later.validFrom}, after ${body.validFrom}`,
        { later: outcome.later },
      );
    res.status(outcome.switched ? 201 : 200).json(outcome);
  });

  return router;
}
