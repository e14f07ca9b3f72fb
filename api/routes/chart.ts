import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { type Duration } from '@temporalio/common';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import {
  addChartDimension,
  type ChartDeclaration,
  chartCheckContext,
  chartOn,
  chartVersions,
  crossValidationRulesOf,
  declareChart,
  dimensionValueLists,
  ERP_SYNCED_DIMENSIONS,
  hierarchyEdges,
  loadDimensionValues,
  loadHierarchy,
  putCrossValidationRule,
} from '../../db/queries/chart';
import { type MasterDataChangeRow } from '../../db/queries/master-data';
import {
  ChartDimension,
  chartDimensionCodes,
  ChartSpec,
  DimensionCode,
  Dimensions,
  DimensionValueCode,
} from '../../domain/chart';
import { combinationChecker } from '../../domain/combination-check';
import { CrossValidationRule } from '../../domain/cross-validation';
import { nestedTree } from '../../domain/hierarchy';
import { IsoDate, LegalEntityCode } from '../../domain/model';
import { masterDataChangeWorkflowId } from '../../workflows/definitions';
import type { MasterDataChangeInput } from '../../workflows/master-data-change';
import { principalOf, requireRole } from '../auth';
import { Reason, temporalUiLink } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';
import { approvalRoster } from '../start-cycle';

const today = () => new Date().toISOString().slice(0, 10);
const AsOfQuery = z.object({ asOf: IsoDate.optional() }).strict();
const System = z.string().regex(/^[a-z][a-z0-9_]{1,29}$/, 'must name a system such as "d365" or "closeloop"');

const ChartBody = z
  .object({ dimensions: ChartSpec.shape.dimensions, validFrom: IsoDate, reason: Reason })
  .strict();
const DimensionBody = z.object({ dimension: ChartDimension, validFrom: IsoDate, reason: Reason }).strict();
const ValuesBody = z
  .object({
    /** The system of record the list comes from. */
    source: System,
    values: z
      .array(
        z
          .object({
            code: DimensionValueCode,
            name: z.string().min(1).max(200),
            active: z.boolean().default(true),
            validFrom: IsoDate,
            /** Exclusive end; null while open-ended. */
            validTo: IsoDate.nullable().default(null),
          })
          .strict(),
      )
      .min(1)
      .max(10_000),
  })
  .strict();
const HierarchyBody = z
  .object({
    /** The date the tree is the source's from. */
    asOf: IsoDate,
    source: System,
    nodes: z
      .array(
        z
          .object({
            code: DimensionValueCode,
            parent: DimensionValueCode.nullable(),
            name: z.string().min(1).max(200).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10_000),
  })
  .strict();
const RuleBody = z.record(z.string(), z.unknown());
const CheckBody = z
  .object({
    /** The first day the lines cover (their period's start): rules and value lists are judged on it. */
    date: IsoDate,
    /** The last day they cover; default `date`. */
    to: IsoDate.optional(),
    combinations: z.array(Dimensions).min(1).max(10_000),
  })
  .strict();

/**
 * A legal entity's chart of accounts as data (mounted at /v1/legal-entities/{code}/chart): the dimensions it
 * books on, from a date; the value lists and hierarchies of its dimensions, loaded from their systems of
 * record; its cross-validation rules; and a check of combinations against all of them. Integration
 * administrators change it (every change audited in `chart:<entity>`); anyone reads it.
 */
export function chartRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router({ mergeParams: true });
  const entityOf = (req: Request) =>
    knownLegalEntity(db, LegalEntityCode.parse((req.params as { code?: string }).code), 'code');
  const actor = (req: Request, legalEntity: string) => ({
    legalEntity,
    by: principalOf(req).id,
    correlationId: req.header('x-correlation-id') ?? randomUUID(),
  });
  const answer = (d: ChartDeclaration) => {
    if (d.outcome === 'refused')
      throw new HttpError(409, 'chart_change_refused', d.problems.join('; '), { problems: d.problems });
    return { outcome: d.outcome, ...d.chart, dimensions: d.chart.spec.dimensions, spec: undefined };
  };
  /** A dimension named in the path must be one the entity's chart has (in any version). */
  const chartDimension = async (legalEntity: string, raw: unknown) => {
    const dimension = DimensionCode.parse(raw);
    const versions = await chartVersions(db, legalEntity);
    if (!chartDimensionCodes(versions).includes(dimension))
      throw unknownReference([
        { field: 'dimension', message: `${legalEntity}'s chart has no dimension ${dimension}` },
      ]);
    return dimension;
  };

  router.get('/', async (req, res) => {
    const entity = await entityOf(req);
    const { asOf = today() } = AsOfQuery.parse(req.query);
    const chart = await chartOn(db, entity.code, asOf);
    if (!chart) throw new HttpError(404, 'not_found', `${entity.code} has no chart in force on ${asOf}`);
    const versions = await chartVersions(db, entity.code);
    res.json({
      legalEntity: entity.code,
      asOf,
      version: chart.version,
      validFrom: chart.validFrom,
      dimensions: chart.spec.dimensions,
      versions: versions.map((v) => ({ version: v.version, validFrom: v.validFrom })),
    });
  });

  router.put('/', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    const body = ChartBody.parse(req.body);
    const spec = ChartSpec.parse({ dimensions: body.dimensions });
    const d = await db.transaction((tx) =>
      declareChart(tx, { ...actor(req, entity.code), spec, validFrom: body.validFrom, reason: body.reason }),
    );
    res.json(answer(d));
  });

  router.post('/dimensions', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    const body = DimensionBody.parse(req.body);
    const d = await db.transaction((tx) => addChartDimension(tx, { ...actor(req, entity.code), ...body }));
    res.status(d.outcome === 'declared' ? 201 : 200).json(answer(d));
  });

  router.get('/dimensions/:dimension/values', async (req, res) => {
    const entity = await entityOf(req);
    const dimension = await chartDimension(entity.code, req.params.dimension);
    const list = (await dimensionValueLists(db, entity.code, [dimension])).get(dimension) ?? new Map();
    const values = [...list.values()]
      .filter((v) => !v.legalEntity || v.legalEntity === entity.code)
      .sort((a, b) => (a.code < b.code ? -1 : 1));
    res.json({ legalEntity: entity.code, dimension, values });
  });

  router.put('/dimensions/:dimension/values', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    const dimension = await chartDimension(entity.code, req.params.dimension);
    if ((ERP_SYNCED_DIMENSIONS as readonly string[]).includes(dimension))
      throw new HttpError(
        409,
        'kept_by_master_data_sync',
        `${dimension} values come from ${entity.code}'s ERP through the master-data sync (POST /v1/master-data/syncs)`,
      );
    const body = ValuesBody.parse(req.body);
    const loaded = await db.transaction((tx) =>
      loadDimensionValues(tx, { ...actor(req, entity.code), dimension, ...body }),
    );
    res.json({ legalEntity: entity.code, dimension, ...loaded });
  });

  router.get('/hierarchies/:dimension', async (req, res) => {
    const entity = await entityOf(req);
    const dimension = await chartDimension(entity.code, req.params.dimension);
    const { asOf = today() } = AsOfQuery.parse(req.query);
    const edges = await hierarchyEdges(db, entity.code, dimension);
    res.json({ legalEntity: entity.code, dimension, asOf, roots: nestedTree(edges, asOf) });
  });

  router.put('/hierarchies/:dimension', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    const dimension = await chartDimension(entity.code, req.params.dimension);
    const body = HierarchyBody.parse(req.body);
    const loaded = await db.transaction((tx) =>
      loadHierarchy(tx, { ...actor(req, entity.code), dimension, ...body }),
    );
    if (loaded.outcome === 'refused')
      throw new HttpError(
        409,
        'hierarchy_cycle',
        `the tree would have a cycle: ${loaded.cycles.map((c) => c.join(' → ')).join('; ')}`,
        { cycles: loaded.cycles },
      );
    const approvals = await Promise.all(loaded.movesRequested.map((c) => startApproval(c, dimension)));
    res.json({
      legalEntity: entity.code,
      dimension,
      asOf: body.asOf,
      added: loaded.added,
      unchanged: loaded.unchanged,
      movesAwaitingApproval: loaded.movesRequested.map((c, i) => ({
        changeId: c.id,
        code: c.code,
        from: c.fromValue,
        to: c.toValue,
        effectiveFrom: c.effectiveFrom,
        workflowId: approvals[i],
        links: { temporalUi: temporalUiLink(config, approvals[i]!) },
      })),
      movesAlreadyAsked: loaded.movesAlreadyAsked,
    });
  });

  /** A move waits for an approver, the same workflow a master-data sync starts for a cost center's move. */
  async function startApproval(change: MasterDataChangeRow, dimension: string): Promise<string> {
    const roster = approvalRoster(config);
    const workflowId = masterDataChangeWorkflowId({
      legalEntity: change.legalEntity,
      code: change.code,
      changeId: change.id,
    });
    const input: MasterDataChangeInput = {
      changeId: change.id,
      legalEntity: change.legalEntity,
      dimension,
      code: change.code,
      from: change.fromValue,
      to: change.toValue,
      effectiveFrom: change.effectiveFrom,
      requestedBy: change.requestedBy,
      approvers: roster.approvers.filter((a) => a !== change.requestedBy),
      integrationAdmins: roster.integrationAdmins,
      timeout: config.flows.masterDataApprovalTimeout as Duration,
      correlationId: change.correlationId,
    };
    await client.workflow.start('masterDataChange', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `${dimension} ${change.code} under ${change.toValue ?? '(top)'} from ${change.effectiveFrom}`,
    });
    return workflowId;
  }

  router.get('/rules', async (req, res) => {
    const entity = await entityOf(req);
    const { asOf } = AsOfQuery.parse(req.query);
    res.json({ legalEntity: entity.code, asOf, rules: await crossValidationRulesOf(db, entity.code, asOf) });
  });

  router.put('/rules/:rule', requireRole('integration_admin'), async (req, res) => {
    const entity = await entityOf(req);
    // The body is the rule without its code, which the path names.
    const parsed = CrossValidationRule.parse({ ...RuleBody.parse(req.body), code: req.params.rule });
    const versions = await chartVersions(db, entity.code);
    const known = new Set(chartDimensionCodes(versions));
    const unknown = [...Object.keys(parsed.condition), ...Object.keys(parsed.validation)].filter(
      (d) => !known.has(d),
    );
    if (unknown.length)
      throw unknownReference(
        [...new Set(unknown)].map((d) => ({
          field: 'rule',
          message: `${entity.code}'s chart has no dimension ${d}`,
        })),
      );
    const put = await db.transaction((tx) =>
      putCrossValidationRule(tx, { ...actor(req, entity.code), rule: parsed }),
    );
    res
      .status(put.outcome === 'created' ? 201 : 200)
      .json({ legalEntity: entity.code, ...put, rule: parsed });
  });

  /**
   * Checks combinations against the chart in force on `date`, as a budget line of that date would be
   * checked before approval: every problem of each, with the rule it broke. Changes nothing.
   */
  router.post('/check', async (req, res) => {
    const entity = await entityOf(req);
    const body = CheckBody.parse(req.body);
    const ctx = await chartCheckContext(db, entity.code, body.date);
    if (!ctx)
      throw unknownReference([
        { field: 'date', message: `${entity.code} has no chart in force on ${body.date}` },
      ]);
    const check = combinationChecker(ctx);
    const results = body.combinations.map((dims, index) => ({
      index,
      dimensions: dims,
      problems: check(dims, {
        legalEntity: entity.code,
        spec: ctx.chart.spec,
        values: (d) => ctx.lists.get(d),
        from: body.date,
        to: body.to ?? body.date,
      }),
    }));
    res.json({
      legalEntity: entity.code,
      chartVersion: ctx.chart.version,
      valid: results.every((r) => r.problems.length === 0),
      results,
    });
  });

  return router;
}
