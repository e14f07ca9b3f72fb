import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import { ACTUALS_STREAM } from '../../db/queries/actuals';
import { MASTER_DATA_STREAM } from '../../db/queries/master-data-sync';
import { PROJECTS_STREAM } from '../../db/queries/projects';
import { replaySourceExceptions } from '../../db/queries/replay';
import { listSourceExceptions } from '../../db/queries/source-exceptions';
import { sourceExceptionStatus } from '../../db/schema';
import { LegalEntityCode } from '../../domain/model';
import { principalOf, requireRole } from '../auth';
import { knownLegalEntity, unknownReference } from '../references';

const ListQuery = z
  .object({
    legalEntity: LegalEntityCode.optional(),
    stream: z.enum(['actuals', 'commitments', MASTER_DATA_STREAM, PROJECTS_STREAM]).optional(),
    status: z.enum(sourceExceptionStatus).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const ReprocessBody = z
  .object({
    legalEntity: LegalEntityCode,
    /**
     * Posted ledger lines and master records replay on their own; purchase-order lines are settled by the
     * next snapshot.
     */
    stream: z.enum([ACTUALS_STREAM, MASTER_DATA_STREAM]).default(ACTUALS_STREAM),
    /** Only these exceptions; all open ones of the entity when absent. */
    ids: z.array(z.uuid()).min(1).max(10_000).optional(),
    /** Only those with this error code (e.g. fx_rate_missing once the rate exists). */
    errorCode: z.string().min(1).max(50).optional(),
  })
  .strict();

/**
 * Records a source delivered that could not be counted (no mapping, outside the calendar, a currency the
 * entity cannot take), kept with their error: support lists them, fixes the cause, and replays them.
 */
export function sourceExceptionRoutes({ db }: { db: Database }): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const q = ListQuery.parse(req.query);
    if (q.legalEntity) await knownLegalEntity(db, q.legalEntity);
    const rows = await listSourceExceptions(db, {
      legalEntity: q.legalEntity,
      stream: q.stream,
      statuses: q.status ? [q.status] : undefined,
      limit: q.limit,
    });
    res.json({ exceptions: rows });
  });

  router.post('/reprocess', requireRole('integration_admin', 'controller'), async (req, res) => {
    const body = ReprocessBody.parse(req.body);
    const entity = await knownLegalEntity(db, body.legalEntity);
    if (body.ids) {
      const open = new Set(
        (
          await listSourceExceptions(db, {
            legalEntity: entity.code,
            stream: body.stream,
            statuses: ['open'],
            ids: body.ids,
            limit: body.ids.length,
          })
        ).map((e) => e.id),
      );
      const unknown = body.ids.flatMap((id, i) => (open.has(id) ? [] : [{ id, i }]));
      if (unknown.length)
        throw unknownReference(
          unknown.map(({ id, i }) => ({
            field: `ids.${i}`,
            message: `${id} is not an open ${body.stream} exception of ${entity.code}`,
          })),
        );
    }
    const correlationId = req.header('x-correlation-id') ?? randomUUID();
    const result = await replaySourceExceptions(db, entity, {
      stream: body.stream,
      by: principalOf(req).id,
      correlationId,
      ids: body.ids,
      errorCodes: body.errorCode ? [body.errorCode] : undefined,
    });
    res.json({ legalEntity: entity.code, stream: body.stream, correlationId, ...result });
  });

  return router;
}
