import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import { freeze, listFreezes, unfreeze } from '../../db/queries/freezes';
import { activeDimensionValues } from '../../db/queries/reference';
import { chartVersions, dimensionValueLists } from '../../db/queries/chart';
import { chartDimensionCodes } from '../../domain/chart';
import { OtherDimensions } from '../control-schemas';
import { LegalEntityCode } from '../../domain/model';
import { type FieldIssue } from '../../domain/zod-issues';
import { principalOf, requireRole } from '../auth';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';

const Code = z.string().min(1).max(50);
const Reason = z.string().trim().min(3, 'a reason is required').max(1000);
const FreezeBody = z
  .object({
    legalEntity: LegalEntityCode,
    account: Code.optional(),
    costCenter: Code.optional(),
    /** Values of other dimensions of the entity's chart to stop ({"project": "P-101"}). */
    dimensions: OtherDimensions.optional(),
    reason: Reason,
  })
  .strict();
const UnfreezeBody = z.object({ legalEntity: LegalEntityCode, reason: Reason }).strict();
const FreezeQuery = z
  .object({ legalEntity: LegalEntityCode, inForce: z.enum(['true', 'false']).default('true') })
  .strict();

/**
 * Freezes: an emergency stop on new reservations for an entity, a cost center or an account, with a reason;
 * lifted by a separate act with its own reason. Controllers only; both acts are audited.
 */
export function controlFreezeRoutes({ db }: { db: Database }): Router {
  const router = Router();

  router.post('/', requireRole('controller'), async (req, res) => {
    const body = FreezeBody.parse(req.body);
    const entity = await knownLegalEntity(db, body.legalEntity);
    const today = new Date().toISOString().slice(0, 10);
    const known = await activeDimensionValues(
      db,
      entity.code,
      { accounts: body.account ? [body.account] : [], costCenters: body.costCenter ? [body.costCenter] : [] },
      today,
    );
    const unknown: FieldIssue[] = [];
    if (body.account && !known.accounts.has(body.account))
      unknown.push({ field: 'account', message: `account ${body.account} is not active` });
    if (body.costCenter && !known.costCenters.has(body.costCenter))
      unknown.push({
        field: 'costCenter',
        message: `cost center ${body.costCenter} of ${entity.code} is not active`,
      });
    const named = Object.entries(body.dimensions ?? {});
    if (named.length) {
      const chart = chartDimensionCodes(await chartVersions(db, entity.code));
      const lists = await dimensionValueLists(
        db,
        entity.code,
        named.map(([d]) => d).filter((d) => chart.includes(d)),
      );
      for (const [d, v] of named) {
        if (!chart.includes(d))
          unknown.push({ field: `dimensions.${d}`, message: `${entity.code}'s chart has no dimension ${d}` });
        else if (lists.get(d) && !lists.get(d)!.has(v))
          unknown.push({ field: `dimensions.${d}`, message: `${entity.code} has no ${d} ${v}` });
      }
    }
    if (unknown.length) throw unknownReference(unknown);
    const row = await db.transaction((tx) =>
      freeze(tx, {
        legalEntity: entity.code,
        account: body.account ?? null,
        costCenter: body.costCenter ?? null,
        dimensions: named.length ? body.dimensions : null,
        reason: body.reason,
        by: principalOf(req).id,
        correlationId: randomUUID(),
      }),
    );
    res.status(201).json(row);
  });

  router.post('/:id/unfreeze', requireRole('controller'), async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw new HttpError(404, 'not_found', 'no such freeze');
    const body = UnfreezeBody.parse(req.body);
    const lifted = await db.transaction((tx) =>
      unfreeze(tx, {
        id: id.data,
        legalEntity: body.legalEntity,
        reason: body.reason,
        by: principalOf(req).id,
        correlationId: randomUUID(),
      }),
    );
    if (!lifted) {
      const all = await listFreezes(db, body.legalEntity, false);
      if (all.some((f) => f.id === id.data))
        throw new HttpError(409, 'already_unfrozen', 'this freeze was already lifted');
      throw new HttpError(404, 'not_found', `no freeze ${id.data} on ${body.legalEntity}`);
    }
    res.json(lifted);
  });

  router.get('/', async (req, res) => {
    const q = FreezeQuery.parse(req.query);
    await knownLegalEntity(db, q.legalEntity);
    res.json({ freezes: await listFreezes(db, q.legalEntity, q.inForce === 'true') });
  });

  return router;
}
