import { randomUUID } from 'node:crypto';
import { type Client, QueryRejectedError, WorkflowClient, WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { auditTrail } from '../../db/queries/audit';
import { findVersion } from '../../db/queries/budget-versions';
import { getCycle, recordRefusedDecision } from '../../db/queries/cycles';
import { publicationsOfVersion } from '../../db/queries/publications';
import { reconciliationReport } from '../../db/queries/reconciliation';
import { type PeriodMove } from '../../domain/budget-validation';
import { type BudgetCycleId, parseBudgetCycleWorkflowId } from '../../domain/identity';
import { BudgetVersionRef, DurationText, PeriodCode } from '../../domain/model';
import { BudgetDecisionKind } from '../../domain/approval';
import { decideUpdate, SearchAttributes, statusQuery } from '../../workflows/definitions';
import { principalOf, requireRole } from '../auth';
import { HttpError, refusalOf } from '../errors';
import { callerToken } from '../caller-token';
import { knownLegalEntity } from '../references';
import { buildCycleInput, startBudgetCycle } from '../start-cycle';

const Duration = DurationText;

const StartCycleBody = z
  .object({
    legalEntity: BudgetVersionRef.shape.legalEntity,
    fiscalYear: BudgetVersionRef.shape.fiscalYear,
    scenario: BudgetVersionRef.shape.scenario.default('BUDGET'),
    version: BudgetVersionRef.shape.version,
    /** 1 for a version's first trip around the loop; 2, 3… to go round again (resubmit, reforecast). */
    revision: z.number().int().min(1).max(999).optional(),
    asOfPeriod: PeriodCode.optional(),
    approvalTimeout: Duration.optional(),
    escalationTimeout: Duration.optional(),
    /** How often those awaited are reminded while a stage waits. */
    reminderInterval: Duration.optional(),
    chunkSize: z.number().int().min(1).max(5000).optional(),
  })
  .strict();

const DecisionBody = z
  .object({ decision: BudgetDecisionKind, comment: z.string().trim().max(2000).optional() })
  .strict();

const ListQuery = z
  .object({
    legalEntity: BudgetVersionRef.shape.legalEntity.optional(),
    fiscalYear: z.coerce.number().int().min(2000).max(2100).optional(),
    stage: z.enum(['plan', 'authorize', 'execute', 'reconcile', 'reforecast', 'done']).optional(),
    status: z
      .string()
      .regex(/^[a-z_]+$/)
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const CycleIdParam = z.object({
  cycleId: z.string().transform((id, ctx): BudgetCycleId & { cycleId: string } => {
    const parsed = parseBudgetCycleWorkflowId(id);
    if (parsed) return { cycleId: id, ...parsed };
    ctx.addIssue({
      code: 'custom',
      message:
        'must be a budget cycle ID such as "budget-cycle:ACME-US:FY2027:BUDGET:v3" (or "…:v3:r2" for a later revision)',
    });
    return z.NEVER;
  }),
});

export interface BudgetCycleRoutesDeps {
  config: Config;
  client: Client;
  db: Database;
}

export function budgetCycleRoutes({ config, client, db }: BudgetCycleRoutesDeps): Router {
  const router = Router();
  // Status reads of open cycles: the server refuses a query to a closed one (its result answers instead), so
  // the query can be sent beside the describe rather than after it, never replaying a finished cycle.
  const openCycles = new WorkflowClient({
    connection: client.connection,
    namespace: client.options.namespace,
    queryRejectCondition: 'NOT_OPEN',
  });
  const self = (cycleId: string) => `/v1/budget-cycles/${encodeURIComponent(cycleId)}`;
  const uiLink = (cycleId: string) =>
    `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(cycleId)}`;

  async function describeCycle(cycleId: string) {
    const handle = client.workflow.getHandle(cycleId);
    const description = await handle.describe();
    if (description.type !== 'budgetCycle')
      throw new WorkflowNotFoundError('not a budget cycle', cycleId, undefined);
    return { handle, description };
  }

  router.post('/', requireRole('planner', 'scheduler', 'controller'), async (req, res) => {
    const body = StartCycleBody.parse(req.body);
    const { asOfPeriod, approvalTimeout, escalationTimeout, reminderInterval, chunkSize, revision, ...ref } =
      body;
    const correlationId = req.header('x-correlation-id') ?? undefined;
    const input = buildCycleInput(
      config,
      {
        ref,
        revision,
        asOfPeriod,
        approvalTimeout,
        escalationTimeout,
        reminderInterval,
        chunkSize,
        correlationId,
      },
      principalOf(req),
    );
    const handle = await startBudgetCycle({ client, config, db }, input);
    res
      .status(202)
      .location(self(handle.workflowId))
      .json({
        cycleId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        revision: input.revision,
        correlationId: input.correlationId,
        links: { self: self(handle.workflowId), temporalUi: uiLink(handle.workflowId) },
      });
  });

  router.get('/', async (req, res) => {
    const q = ListQuery.parse(req.query);
    if (q.legalEntity) await knownLegalEntity(db, q.legalEntity);
    const clauses = [`WorkflowType = 'budgetCycle'`];
    if (q.legalEntity) clauses.push(`${SearchAttributes.LegalEntity.name} = '${q.legalEntity}'`);
    if (q.fiscalYear) clauses.push(`${SearchAttributes.FiscalYear.name} = ${q.fiscalYear}`);
    if (q.stage) clauses.push(`${SearchAttributes.CycleStage.name} = '${q.stage}'`);
    if (q.status) clauses.push(`${SearchAttributes.CycleStatus.name} = '${q.status}'`);
    const cycles = [];
    for await (const wf of client.workflow.list({ query: clauses.join(' AND ') })) {
      const sa = wf.typedSearchAttributes;
      cycles.push({
        cycleId: wf.workflowId,
        execution: wf.status.name,
        stage: sa.get(SearchAttributes.CycleStage),
        status: sa.get(SearchAttributes.CycleStatus),
        legalEntity: sa.get(SearchAttributes.LegalEntity),
        fiscalYear: sa.get(SearchAttributes.FiscalYear),
        startedAt: wf.startTime.toISOString(),
        closedAt: wf.closeTime?.toISOString(),
        links: { self: self(wf.workflowId) },
      });
      if (cycles.length >= q.limit) break;
    }
    res.json({ cycles });
  });

  router.get('/:cycleId', async (req, res) => {
    const { cycleId } = CycleIdParam.parse(req.params).cycleId;
    const queried = openCycles
      .getHandle(cycleId)
      .query(statusQuery)
      .catch((err: unknown) => (err instanceof QueryRejectedError ? undefined : Promise.reject(err)));
    const described = describeCycle(cycleId);
    // Whichever fails first is the answer (a query to a missing cycle fails as the describe does).
    const [{ handle, description }, open] = await Promise.all([described, queried]);
    // A completed cycle returns its final status as its result, which Temporal keeps: no worker needed to read it.
    const status =
      open ??
      (description.status.name === 'COMPLETED' ? await handle.result() : await handle.query(statusQuery));
    res.json({
      ...status,
      execution: description.status.name,
      links: {
        self: self(cycleId),
        temporalUi: uiLink(cycleId),
        reconciliation: `${self(cycleId)}/reconciliation`,
      },
    });
  });

  /** A decision the cycle refused is recorded in its audit trail with who asked and why, then answered. */
  async function auditRefusal(
    id: BudgetCycleId & { cycleId: string },
    principal: string,
    request: Record<string, unknown>,
    err: HttpError,
  ) {
    const cycle = await getCycle(db, id.cycleId);
    const version = cycle ? undefined : await findVersion(db, id.ref);
    await db.transaction((tx) =>
      recordRefusedDecision(tx, {
        cycle: cycle ?? {
          cycleId: id.cycleId,
          legalEntity: id.ref.legalEntity,
          correlationId: version?.correlationId ?? id.cycleId,
        },
        principal,
        via: 'api',
        request,
        code: err.code,
        reason: err.message,
        eventId: randomUUID(),
      }),
    );
  }

  router.post(
    '/:cycleId/decision',
    requireRole('approver', 'controller', 'planner', 'integration_admin'),
    async (req, res) => {
      const id = CycleIdParam.parse(req.params).cycleId;
      const body = DecisionBody.parse(req.body);
      const principal = principalOf(req).id;
      const { handle, description } = await describeCycle(id.cycleId);
      try {
        if (description.status.name !== 'RUNNING') {
          throw new HttpError(
            409,
            'cycle_closed',
            `the cycle is ${description.status.name.toLowerCase()}; no decision can be taken`,
          );
        }
        // Segregation of duties is decided by the workflow's update validator, the same rule a signal meets.
        const token = await callerToken(config, id.cycleId, principal, body.decision);
        const status = await handle.executeUpdate(decideUpdate, { args: [{ ...body, principal, token }] });
        res.json(status);
      } catch (err) {
        const refused = refusalOf(err);
        if (refused) await auditRefusal(id, principal, body, refused);
        throw refused ?? err;
      }
    },
  );

  async function versionOf(id: BudgetCycleId) {
    const version = await findVersion(db, id.ref);
    if (!version) throw new HttpError(404, 'not_found', 'this version has not been imported');
    return version;
  }

  router.get('/:cycleId/reconciliation', async (req, res) => {
    const id = CycleIdParam.parse(req.params).cycleId;
    const version = await versionOf(id);
    // The expected figures are the version's lines, which carry any change to a closed period that the
    // entity's policy moved to the next open one: each line names the moves that touch it.
    const moves = version.periodMoves as PeriodMove[];
    const runs = (await reconciliationReport(db, version.id)).map((run) => ({
      ...run,
      lines: run.lines.map((l) => {
        const touching = moves.filter(
          (m) => m.dimensions.account === l.account && (m.from === l.period || m.to === l.period),
        );
        return touching.length ? { ...l, periodMoves: touching } : l;
      }),
    }));
    res.json({ cycleId: id.cycleId, versionId: version.id, periodMoves: moves, runs });
  });

  /**
   * The cycle's audit trail: everything done under its correlation ID (start, import, decisions and refused
   * decisions or signals, chunk postings and reversals, activation, reconciliation, actuals, forecast) and
   * everything about its version and the version's publications, whichever cycle wrote it.
   */
  router.get('/:cycleId/audit', async (req, res) => {
    const id = CycleIdParam.parse(req.params).cycleId;
    const [cycle, version] = await Promise.all([getCycle(db, id.cycleId), findVersion(db, id.ref)]);
    if (!cycle && !version) throw new HttpError(404, 'not_found', 'no such budget cycle');
    const correlationId = cycle?.correlationId ?? version!.correlationId;
    const publicationIds = version ? (await publicationsOfVersion(db, version.id)).map((p) => p.id) : [];
    res.json({
      cycleId: id.cycleId,
      versionId: version?.id,
      correlationId,
      entries: await auditTrail(db, {
        correlationIds: [correlationId],
        versionId: version?.id,
        publicationIds,
      }),
    });
  });

  return router;
}
