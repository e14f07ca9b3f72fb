import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { type Duration } from '@temporalio/common';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import {
  addDimensionMapping,
  costCentersOn,
  endDimensionMapping,
  deactivateMasterRecord,
  listMasterDataChanges,
  mappingsOf,
  masterDataChangeById,
} from '../../db/queries/master-data';
import { masterDataChangeStatus } from '../../db/schema';
import { DimensionCode, ErpSystem, IsoDate, LegalEntityCode } from '../../domain/model';
import { publishedValue } from '../../domain/mapping';
import { masterDataChangeWorkflowId } from '../../workflows/definitions';
import type { MasterDataSyncResult, MasterDataSyncWorkflowInput } from '../../workflows/master-data-sync';
import { principalOf, requireRole } from '../auth';
import { decisionRoutes, Reason, temporalUiLink } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';
import { approvalRoster } from '../start-cycle';

const Code = z.string().trim().min(1).max(40);
const today = () => new Date().toISOString().slice(0, 10);

const SyncBody = z
  .object({
    legalEntity: LegalEntityCode,
    /** Answer with the sync's result instead of 202 at once. */
    wait: z.boolean().default(false),
  })
  .strict();

const CostCentersQuery = z.object({ legalEntity: LegalEntityCode, asOf: IsoDate.optional() }).strict();

const ChangesQuery = z
  .object({
    legalEntity: LegalEntityCode.optional(),
    status: z.enum(masterDataChangeStatus).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const DeactivationBody = z
  .object({
    legalEntity: LegalEntityCode,
    /** The first day it is no longer active (exclusive end); default: today. */
    validTo: IsoDate.optional(),
    reason: Reason,
  })
  .strict();

const MappingsQuery = z
  .object({ erpSystem: ErpSystem, dimension: DimensionCode.optional(), code: Code.optional() })
  .strict();

const MappingKeyFields = {
  erpSystem: ErpSystem,
  dimension: DimensionCode,
  canonicalCode: Code,
  erpValue: Code,
};
const MappingBody = z
  .object({
    ...MappingKeyFields,
    /** From this day on, `erpValue` stands for the canonical value; no other mapping ends. */
    validFrom: IsoDate,
    /** The first day it no longer holds (exclusive); open-ended when absent. */
    validTo: IsoDate.optional(),
  })
  .strict()
  .refine((b) => !b.validTo || b.validTo > b.validFrom, {
    path: ['validTo'],
    message: 'must be after validFrom',
  });
const MappingEndBody = z
  .object({
    ...MappingKeyFields,
    /** The first day `erpValue` no longer stands for the canonical value (exclusive end). */
    validTo: IsoDate,
    reason: Reason,
  })
  .strict();

export const masterDataSyncWorkflowId = (legalEntity: string) => `master-data:${legalEntity}:now`;

/**
 * Master data as closeloop holds it, and the acts around it: run an entity's master data sync now, list and
 * decide the changes that wait for approval (a cost center moving under another parent), close a cost
 * center (refused while money stands on it), and change a dimension mapping from a date.
 */
export function masterDataRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router();

  router.post('/syncs', requireRole('scheduler', 'controller', 'integration_admin'), async (req, res) => {
    const body = SyncBody.parse(req.body);
    const entity = await knownLegalEntity(db, body.legalEntity);
    const roster = approvalRoster(config);
    const input: MasterDataSyncWorkflowInput = {
      legalEntity: entity.code,
      approvers: roster.approvers,
      integrationAdmins: roster.integrationAdmins,
      approvalTimeout: config.flows.masterDataApprovalTimeout as Duration,
      correlationId: req.header('x-correlation-id') ?? randomUUID(),
    };
    const workflowId = masterDataSyncWorkflowId(entity.code);
    const handle = await client.workflow.start('masterDataSync', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      // A sync already running for the entity is joined, not doubled.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Master data sync of ${entity.code}`,
    });
    const links = { temporalUi: temporalUiLink(config, workflowId) };
    if (!body.wait) {
      res.status(202).json({ workflowId, runId: handle.firstExecutionRunId, links });
      return;
    }
    const result = (await handle.result()) as MasterDataSyncResult;
    res.json({ workflowId, runId: handle.firstExecutionRunId, ...result, links });
  });

  router.get('/cost-centers', async (req, res) => {
    const q = CostCentersQuery.parse(req.query);
    const entity = await knownLegalEntity(db, q.legalEntity);
    const asOf = q.asOf ?? today();
    res.json({ legalEntity: entity.code, asOf, costCenters: await costCentersOn(db, entity.code, asOf) });
  });

  router.post(
    '/cost-centers/:code/deactivation',
    requireRole('controller', 'integration_admin'),
    async (req, res) => {
      const body = DeactivationBody.parse(req.body);
      const entity = await knownLegalEntity(db, body.legalEntity);
      const code = Code.parse(req.params.code);
      const known = (await costCentersOn(db, entity.code, today())).some((c) => c.code === code);
      if (!known)
        throw unknownReference([
          { field: 'code', message: `${code} is not a cost center of ${entity.code}` },
        ]);
      const validTo = body.validTo ?? today();
      const outcome = await db.transaction((tx) =>
        deactivateMasterRecord(
          tx,
          {
            legalEntity: entity.code,
            by: principalOf(req).id,
            correlationId: req.header('x-correlation-id') ?? randomUUID(),
          },
          { dimension: 'costCenter', code, validTo },
        ),
      );
      if (outcome.outcome === 'refused') {
        throw new HttpError(409, 'deactivation_refused', outcome.reason, { blockers: outcome.blockers });
      }
      res.json({ legalEntity: entity.code, code, validTo, outcome: outcome.outcome, reason: body.reason });
    },
  );

  router.get('/changes', async (req, res) => {
    const q = ChangesQuery.parse(req.query);
    if (q.legalEntity) await knownLegalEntity(db, q.legalEntity);
    const rows = await listMasterDataChanges(db, {
      legalEntity: q.legalEntity,
      statuses: q.status ? [q.status] : undefined,
      limit: q.limit,
    });
    res.json({ changes: rows });
  });

  const changes = Router();
  decisionRoutes(
    changes,
    { db, client, config },
    {
      noun: 'master data change',
      entityType: 'master_data_change',
      load: masterDataChangeById,
      workflowId: (c) =>
        masterDataChangeWorkflowId({ legalEntity: c.legalEntity, code: c.code, changeId: c.id }),
      self: (id) => `/v1/master-data/changes/${id}`,
      deciders: ['approver', 'controller', 'planner', 'integration_admin'],
    },
  );
  router.use('/changes', changes);

  router.get('/mappings', async (req, res) => {
    const q = MappingsQuery.parse(req.query);
    res.json({
      mappings: await mappingsOf(db, {
        erpSystem: q.erpSystem,
        dimension: q.dimension,
        canonicalCode: q.code,
      }),
    });
  });

  /** Every dated mapping of the canonical value, and those in force on `onDate` (which one budgets go to). */
  const mappingsAnswer = async (
    key: { erpSystem: string; dimension: string; canonicalCode: string },
    onDate: string,
  ) => {
    const mappings = await mappingsOf(db, key);
    const inForce = mappings.filter(
      (m) => m.validFrom <= onDate && (m.validTo === null || m.validTo > onDate),
    );
    const published = publishedValue(
      inForce.map((m) => ({ ...m, systemValue: m.erpValue })),
      onDate,
    );
    return {
      inForce: {
        onDate,
        mappings: inForce.map((m) => ({ ...m, publishedTo: m.erpValue === published?.erpValue })),
      },
      mappings,
    };
  };

  // Adding a source value and ending one are separate acts: adding never ends another value's mapping.
  router.put('/mappings', requireRole('integration_admin'), async (req, res) => {
    const body = MappingBody.parse(req.body);
    const added = await db.transaction((tx) =>
      addDimensionMapping(tx, {
        ...body,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (added.outcome === 'overlaps') {
      throw new HttpError(
        409,
        'mapping_overlaps',
        `${body.erpSystem} ${body.dimension} ${body.erpValue} already stands for ${added.standing
          .map((s) => `${s.canonicalCode} from ${s.validFrom}${s.validTo ? ` to ${s.validTo}` : ''}`)
          .join(', ')}; end that mapping first (POST /v1/master-data/mappings/end)`,
        { standing: added.standing },
      );
    }
    res.json({
      outcome: added.outcome,
      mapping: added.mapping,
      ...(await mappingsAnswer(body, body.validFrom)),
    });
  });

  router.post('/mappings/end', requireRole('integration_admin'), async (req, res) => {
    const body = MappingEndBody.parse(req.body);
    const ended = await db.transaction((tx) =>
      endDimensionMapping(tx, {
        ...body,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (!ended) {
      throw new HttpError(
        409,
        'mapping_not_in_force',
        `${body.erpSystem} ${body.dimension} ${body.erpValue} does not stand for ${body.canonicalCode} on the day before ${body.validTo}`,
      );
    }
    res.json({ outcome: 'ended', mapping: ended, ...(await mappingsAnswer(body, body.validTo)) });
  });

  return router;
}
