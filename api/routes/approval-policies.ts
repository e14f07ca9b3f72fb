import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import {
  changeApprovalPolicy,
  changeCostCenterOwners,
  changeDimensionOwners,
  costCenterOwnersOn,
  currentApprovalPolicy,
  dimensionOwnersOn,
} from '../../db/queries/approval-policies';
import { chartVersions, dimensionValueLists } from '../../db/queries/chart';
import { chartDimensionCodes } from '../../domain/chart';
import {
  ApprovalLevelSpec,
  ApprovalPolicySpec,
  ownedDimensions,
  routeVersion,
  UnroutableVersion,
} from '../../domain/approval-policy';
import { IsoDate, LegalEntityCode } from '../../domain/model';
import { Money } from '../../domain/money';
import { principalOf, requireRole } from '../auth';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';
import { approvalRoster } from '../start-cycle';

const Principal = z.string().trim().min(1).max(200);
const PolicyBody = z
  .object({
    stages: z.array(z.array(ApprovalLevelSpec).min(1)).min(1),
    /** The revision the editor read (0 when the entity has no policy yet): a stale edit is refused. */
    expectedRevision: z.number().int().min(0),
    reason: Reason,
  })
  .strict();
const OwnersBody = z.object({ owners: z.array(Principal).min(1), from: IsoDate, reason: Reason }).strict();
const PreviewBody = z
  .object({
    submittedBy: Principal,
    total: Money,
    activeTotal: Money.optional(),
    costCenters: z.array(z.object({ costCenter: z.string().min(1), total: Money }).strict()).min(1),
    /** For dimension owners levels: the values of each dimension the version would have lines on. */
    dimensions: z
      .record(z.string(), z.array(z.object({ value: z.string().min(1), total: Money }).strict()))
      .optional(),
  })
  .strict();

/**
 * Approval policies held as data per legal entity, edited by command: a controller reads the policy with
 * its revision, sends the whole policy back with that revision and a reason (a stale edit is refused),
 * hands cost centers to their owners, and previews the route a version of given figures would take.
 * Integration administrators cannot change who approves budgets (segregation of duties).
 */
export function approvalPolicyRoutes({ db, config }: { db: Database; config: Config }) {
  const router = Router();
  const entityOf = (raw: unknown) => knownLegalEntity(db, LegalEntityCode.parse(raw), 'legalEntity');
  const today = () => new Date().toISOString().slice(0, 10);

  router.get('/:legalEntity', async (req, res) => {
    const entity = await entityOf(req.params.legalEntity);
    const policy = await currentApprovalPolicy(db, entity.code);
    if (!policy)
      throw new HttpError(
        404,
        'no_policy',
        `${entity.code} has no approval policy: its versions go to the approvers' roster`,
      );
    const dimensionOwners: Record<string, Record<string, string[]>> = {};
    for (const d of ownedDimensions(policy.spec))
      dimensionOwners[d] = await dimensionOwnersOn(db, entity.code, d, today());
    res.json({ ...policy, owners: await costCenterOwnersOn(db, entity.code, today()), dimensionOwners });
  });

  router.put('/:legalEntity', requireRole('controller'), async (req, res) => {
    const entity = await entityOf(req.params.legalEntity);
    const body = PolicyBody.parse(req.body);
    const spec = ApprovalPolicySpec.parse({ legalEntity: entity.code, stages: body.stages });
    // An owners level names a dimension of the entity's chart.
    const known = chartDimensionCodes(await chartVersions(db, entity.code));
    const unknown = ownedDimensions(spec).filter((d) => !known.includes(d));
    if (unknown.length)
      throw unknownReference(
        unknown.map((d) => ({ field: 'stages', message: `${entity.code}'s chart has no dimension ${d}` })),
      );
    const outcome = await db.transaction((tx) =>
      changeApprovalPolicy(tx, {
        legalEntity: entity.code,
        spec,
        expectedRevision: body.expectedRevision,
        reason: body.reason,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (outcome.outcome === 'stale')
      throw new HttpError(
        409,
        'stale_policy_revision',
        `the policy is at revision ${outcome.currentRevision}, not ${body.expectedRevision}: read it again and re-apply your change`,
        { currentRevision: outcome.currentRevision },
      );
    res.json({ legalEntity: entity.code, revision: outcome.revision, spec });
  });

  router.put('/:legalEntity/cost-centers/:costCenter/owners', requireRole('controller'), async (req, res) => {
    const entity = await entityOf(req.params.legalEntity);
    const body = OwnersBody.parse(req.body);
    const costCenter = String(req.params.costCenter);
    const known = await db.query.costCenters.findFirst({
      where: (c, { and, eq }) => and(eq(c.code, costCenter), eq(c.legalEntity, entity.code)),
    });
    if (!known) throw new HttpError(404, 'not_found', `${entity.code} has no cost center ${costCenter}`);
    const changed = await db.transaction((tx) =>
      changeCostCenterOwners(tx, {
        legalEntity: entity.code,
        costCenter,
        owners: body.owners,
        from: body.from,
        reason: body.reason,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    res.json({ legalEntity: entity.code, costCenter, from: body.from, ...changed });
  });

  /** Hands a value of any dimension of the entity's chart to its owners from a date (a project's manager). */
  router.put(
    '/:legalEntity/dimensions/:dimension/values/:code/owners',
    requireRole('controller'),
    async (req, res) => {
      const entity = await entityOf(req.params.legalEntity);
      const body = OwnersBody.parse(req.body);
      const dimension = String(req.params.dimension);
      const code = String(req.params.code);
      if (!chartDimensionCodes(await chartVersions(db, entity.code)).includes(dimension))
        throw new HttpError(404, 'not_found', `${entity.code}'s chart has no dimension ${dimension}`);
      if (dimension === 'costCenter' || dimension === 'account')
        throw new HttpError(
          422,
          'owned_elsewhere',
          dimension === 'costCenter'
            ? `cost center owners are handed over at /v1/approval-policies/${entity.code}/cost-centers/${code}/owners`
            : 'accounts have no owners: route by cost center or another dimension',
        );
      const list = (await dimensionValueLists(db, entity.code, [dimension])).get(dimension);
      if (list && !list.has(code))
        throw new HttpError(404, 'not_found', `${entity.code} has no ${dimension} ${code}`);
      const changed = await db.transaction((tx) =>
        changeDimensionOwners(tx, {
          legalEntity: entity.code,
          dimension,
          code,
          owners: body.owners,
          from: body.from,
          reason: body.reason,
          by: principalOf(req).id,
          correlationId: req.header('x-correlation-id') ?? randomUUID(),
        }),
      );
      res.json({ legalEntity: entity.code, dimension, code, from: body.from, ...changed });
    },
  );

  /** The route a version with these figures would take under the entity's current policy. */
  router.post('/:legalEntity/route-preview', async (req, res) => {
    const entity = await entityOf(req.params.legalEntity);
    const body = PreviewBody.parse(req.body);
    const policy = await currentApprovalPolicy(db, entity.code);
    if (!policy) throw new HttpError(404, 'no_policy', `${entity.code} has no approval policy`);
    try {
      const dimensionValues: NonNullable<Parameters<typeof routeVersion>[1]['dimensionValues']> = {};
      for (const d of ownedDimensions(policy.spec))
        dimensionValues[d] = {
          values: body.dimensions?.[d] ?? [],
          owners: await dimensionOwnersOn(db, entity.code, d, today()),
        };
      const { dimensions: _values, ...figures } = body;
      const route = routeVersion(policy.spec, {
        ...figures,
        dimensionValues,
        owners: await costCenterOwnersOn(db, entity.code, today()),
        integrationAdmins: approvalRoster(config).integrationAdmins,
      });
      res.json({ legalEntity: entity.code, policyRevision: policy.revision, ...route });
    } catch (err) {
      if (err instanceof UnroutableVersion)
        throw new HttpError(422, 'unroutable', err.message, { level: err.level });
      throw err;
    }
  });

  return router;
}
