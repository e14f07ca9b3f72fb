import {
  type Client,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { budgetCycleWorkflowId, groupBudgetCycleWorkflowId } from '../../domain/identity';
import { BudgetVersionRef, DurationText, LegalEntityCode, PeriodCode } from '../../domain/model';
import { groupCycleStatusQuery, statusQuery } from '../../workflows/definitions';
import { type groupBudgetCycle } from '../../workflows/group-budget-cycle';
import { principalOf, requireRole } from '../auth';
import { HttpError } from '../errors';
import { buildCycleInput, checkStartReferences, registerForStart } from '../start-cycle';

const GroupCode = z.string().regex(/^[A-Z][A-Z0-9-]{1,29}$/, 'must be a group code such as "ACME-GROUP"');
const StartGroupBody = z
  .object({
    group: GroupCode,
    /** The legal entities the planning version covers: one budget cycle each. */
    legalEntities: z
      .array(LegalEntityCode)
      .min(1)
      .max(500)
      .refine((l) => new Set(l).size === l.length, 'must name each legal entity once'),
    fiscalYear: BudgetVersionRef.shape.fiscalYear,
    scenario: BudgetVersionRef.shape.scenario.default('BUDGET'),
    version: BudgetVersionRef.shape.version,
    /** How the entities stand or fall together when a publication fails for good (docs/routing.md). */
    policy: z.enum(['independent', 'all-or-nothing']).default('independent'),
    asOfPeriod: PeriodCode.optional(),
    approvalTimeout: DurationText.optional(),
    escalationTimeout: DurationText.optional(),
    reminderInterval: DurationText.optional(),
    chunkSize: z.number().int().min(1).max(5000).optional(),
  })
  .strict();

const GroupIdParam = z.object({
  groupCycleId: z.string().regex(/^group-budget-cycle:[A-Z][A-Z0-9-]+:FY\d{4}:[A-Z0-9_-]+:v\d+$/, {
    message: 'must be a group cycle ID such as "group-budget-cycle:ACME-GROUP:FY2027:BUDGET:v1"',
  }),
});

/**
 * A group version: one planning version covering several legal entities, fanned out into one budget cycle per
 * entity under a parent workflow that shows them together. Mounted at /v1/group-budget-cycles.
 */
export function groupBudgetCycleRoutes({
  config,
  client,
  db,
}: {
  config: Config;
  client: Client;
  db: Database;
}) {
  const router = Router();
  const self = (id: string) => `/v1/group-budget-cycles/${encodeURIComponent(id)}`;
  const uiLink = (id: string) =>
    `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(id)}`;

  router.post('/', requireRole('planner', 'scheduler', 'controller'), async (req, res) => {
    const body = StartGroupBody.parse(req.body);
    const principal = principalOf(req);
    const groupCycleId = groupBudgetCycleWorkflowId(body);
    const correlationId = req.header('x-correlation-id') ?? groupCycleId;
    const cycles = body.legalEntities.map((legalEntity) =>
      buildCycleInput(
        config,
        {
          ref: { legalEntity, fiscalYear: body.fiscalYear, scenario: body.scenario, version: body.version },
          asOfPeriod: body.asOfPeriod,
          approvalTimeout: body.approvalTimeout,
          escalationTimeout: body.escalationTimeout,
          reminderInterval: body.reminderInterval,
          chunkSize: body.chunkSize,
          // One correlation for the whole group version: its lineage reads across entities and ERPs.
          correlationId: `${correlationId}:${legalEntity}`,
        },
        principal,
      ),
    );
    for (const cycle of cycles) await checkStartReferences(db, cycle);
    // Every entity's cycle is registered, or none is: a group version starts whole.
    const handle = await db.transaction(async (tx) => {
      for (const cycle of cycles) await registerForStart(tx, { client, db }, cycle);
      return client.workflow.start<typeof groupBudgetCycle>('groupBudgetCycle', {
        taskQueue: config.temporal.taskQueue,
        workflowId: groupCycleId,
        args: [
          {
            group: body.group,
            fiscalYear: body.fiscalYear,
            scenario: body.scenario,
            version: body.version,
            policy: body.policy,
            requestedBy: principal.id,
            cycles,
          },
        ],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `Group version ${body.group} FY${body.fiscalYear} ${body.scenario} v${body.version}: ${cycles.length} entities (${body.policy})`,
      });
    });
    res
      .status(202)
      .location(self(handle.workflowId))
      .json({
        groupCycleId: handle.workflowId,
        cycleIds: cycles.map((c) => budgetCycleWorkflowId(c.ref, c.revision)),
        links: { self: self(handle.workflowId), temporalUi: uiLink(handle.workflowId) },
      });
  });

  /** The group version and each entity's cycle as it stands now (its own status, read live). */
  router.get('/:groupCycleId', async (req, res) => {
    const { groupCycleId } = GroupIdParam.parse(req.params);
    const handle = client.workflow.getHandle<typeof groupBudgetCycle>(groupCycleId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new HttpError(404, 'not_found', `no group cycle ${groupCycleId}`);
      throw err;
    }
    const group =
      description.status.name === 'COMPLETED'
        ? await handle.result()
        : await handle.query(groupCycleStatusQuery);
    const entities = await Promise.all(
      group.entities.map(async (e) => {
        const cycle = await client.workflow
          .getHandle(e.cycleId)
          .query(statusQuery)
          .catch(() => undefined);
        return {
          ...e,
          ...(cycle
            ? {
                stage: cycle.stage,
                status: cycle.status,
                publications: cycle.publications,
                reconciliation: cycle.reconciliation,
              }
            : {}),
          links: {
            self: `/v1/budget-cycles/${encodeURIComponent(e.cycleId)}`,
            temporalUi: uiLink(e.cycleId),
          },
        };
      }),
    );
    res.json({
      ...group,
      entities,
      execution: description.status.name,
      links: { self: self(groupCycleId), temporalUi: uiLink(groupCycleId) },
    });
  });

  return router;
}
