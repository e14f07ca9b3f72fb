import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { BudgetVersionRef, PeriodCode } from '../../domain/model';
import { type ErpSyncInput, type ErpSyncResult } from '../../workflows/erp-sync';
import { requireRole } from '../auth';
import { temporalUiLink } from '../control-decisions';
import { knownLegalEntity } from '../references';

const SyncBody = z
  .object({
    legalEntity: BudgetVersionRef.shape.legalEntity,
    /** One fiscal year; absent: every year of the entity with an open period. */
    fiscalYear: BudgetVersionRef.shape.fiscalYear.optional(),
    /** Then deliver commitments and actuals to the planning platform (the active version's reforecast)… */
    deliver: z.boolean().default(false),
    /** …as of this period (absent: the latest period with posted actuals). Implies deliver. */
    deliverAsOf: PeriodCode.optional(),
    /** Answer with the sync's result (it takes seconds) instead of 202 at once. */
    wait: z.boolean().default(false),
  })
  .strict();

export const erpSyncWorkflowId = (legalEntity: string, fiscalYear?: number) =>
  `erp-sync:${legalEntity}:${fiscalYear === undefined ? 'open-years' : `FY${fiscalYear}`}`;

/**
 * Runs an entity's ERP sync now (actuals and open purchase orders of a fiscal year): what the budget cycle's
 * reconcile stage does, on demand. A sync already running for the entity and year is joined, not doubled.
 */
export function erpSyncRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router();

  router.post('/', requireRole('scheduler', 'controller', 'integration_admin'), async (req, res) => {
    const body = SyncBody.parse(req.body);
    const entity = await knownLegalEntity(db, body.legalEntity);
    const workflowId = erpSyncWorkflowId(entity.code, body.fiscalYear);
    const input: ErpSyncInput = {
      legalEntity: entity.code,
      fiscalYear: body.fiscalYear,
      deliver: body.deliver || body.deliverAsOf !== undefined,
      deliverAsOf: body.deliverAsOf,
      correlationId: req.header('x-correlation-id') ?? randomUUID(),
    };
    const handle = await client.workflow.start('erpSync', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `ERP sync of ${entity.code} ${body.fiscalYear === undefined ? '(open years)' : `FY${body.fiscalYear}`}`,
    });
    const links = { temporalUi: temporalUiLink(config, workflowId) };
    if (!body.wait) {
      res.status(202).json({ workflowId, runId: handle.firstExecutionRunId, links });
      return;
    }
    const result = (await handle.result()) as ErpSyncResult;
    res.json({ workflowId, runId: handle.firstExecutionRunId, ...result, links });
  });

  return router;
}
