import { randomUUID } from 'node:crypto';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import { chartVersions } from '../../db/queries/chart';
import { activePublicationTargets, changeTargetSettings } from '../../db/queries/reference';
import { chartDimensionCodes } from '../../domain/chart';
import { DimensionCode, LegalEntityCode } from '../../domain/model';
import { principalOf, requireRole } from '../auth';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';

const SettingKey = z.string().regex(/^[a-z][a-zA-Z0-9]{0,49}$/, 'must be a camelCase setting name');
const SettingsBody = z
  .object({
    /** Keys to set (a string) or remove (null); keys not named stay as they are. */
    settings: z.record(SettingKey, z.string().min(1).max(500).nullable()),
    reason: Reason,
  })
  .strict();

/**
 * Where an entity's approved budgets go, and each target's own form: its settings, read by its adapter
 * (for Dynamics 365 the budget model and codes, and `dimensionFormat`, the segment order of its display
 * values). Mounted at /v1/legal-entities/:code/publication-targets.
 */
export function publicationTargetRoutes({ db }: { db: Database }) {
  const router = Router({ mergeParams: true });
  const entityOf = (req: Request) =>
    knownLegalEntity(db, LegalEntityCode.parse((req.params as { code?: string }).code), 'code');

  router.get('/', async (req, res) => {
    const entity = await entityOf(req);
    res.json({ legalEntity: entity.code, targets: await activePublicationTargets(db, entity.code) });
  });

  router.patch('/:target', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    const body = SettingsBody.parse(req.body);
    // A form of the dimensions names only dimensions of the entity's chart (any of its versions).
    const format = body.settings.dimensionFormat;
    if (format) {
      const known = chartDimensionCodes(await chartVersions(db, entity.code));
      const codes = format.split('-');
      const bad = codes.filter((d) => !DimensionCode.safeParse(d).success || !known.includes(d));
      if (bad.length)
        throw unknownReference(
          bad.map((d) => ({
            field: 'settings.dimensionFormat',
            message: `${d} is not a dimension of ${entity.code}'s chart`,
          })),
        );
    }
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
