import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { setSyncTier } from '../../db/queries/reference';
import { LegalEntityCode } from '../../domain/model';
import { SYNC_TIERS } from '../../domain/sync-tiers';
import { principalOf, requireRole } from '../auth';
import { knownLegalEntity } from '../references';
import { ensureEntitySchedules, syncInterval } from '../schedules';

const TierBody = z.object({ tier: z.enum(SYNC_TIERS) }).strict();

/**
 * A scheduler sets how soon an entity's actuals and commitments are synced: its tier is stored (audited) and
 * its `erp-sync:<entity>` schedule takes the tier's interval at once. An operator's pause stays.
 */
export function legalEntityRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router();
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
