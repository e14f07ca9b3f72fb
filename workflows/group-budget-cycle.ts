import { ParentClosePolicy, setHandler, startChild } from '@temporalio/workflow';
import { chunk } from '../domain/chunking';
import { budgetCycleWorkflowId, versionKey } from '../domain/identity';
import { budgetCycle } from './budget-cycle';
import { type BudgetCycleInput, type CycleStatus } from './budget-cycle-state';
import { groupCycleStatusQuery, SearchAttributes } from './definitions';

/**
 * How the entities of a group version stand or fall together when one of their publications fails for
 * good. `independent`: each entity's publication stays or rolls back on its own (no controller wants the US
 * budget pulled because Europe's ERP failed).
 */
export type GroupFailurePolicy = 'independent';

export interface GroupBudgetCycleInput {
  /** The group's code (`ACME-GROUP`): the parent's workflow ID names it. */
  group: string;
  fiscalYear: number;
  scenario: string;
  version: number;
  policy: GroupFailurePolicy;
  requestedBy: string;
  /** One budget cycle per legal entity, each built (and registered) as a cycle the API starts alone. */
  cycles: BudgetCycleInput[];
  /** How many entities' cycles are started per workflow task. */
  startBatch?: number;
}

export interface GroupCycleProgress {
  legalEntity: string;
  cycleId: string;
  /** `running` until the entity's cycle ends; then its final status (or `failed`: the workflow failed). */
  state: 'running' | CycleStatus | 'failed';
  reason?: string;
}

export interface GroupBudgetCycleStatus {
  group: string;
  fiscalYear: number;
  scenario: string;
  version: number;
  policy: GroupFailurePolicy;
  status: 'running' | 'completed';
  entities: GroupCycleProgress[];
}

/**
 * A group version (workflow ID `group-budget-cycle:ACME-GROUP:FY2027:BUDGET:v1`): one planning version
 * covering several legal entities, fanned out into one budget cycle per entity as a child workflow with the
 * cycle's own ID, each under its entity's chart of accounts, approval policy and routes, approved, published
 * and reconciled on its own. The parent shows them together and completes when every one has ended. A reset or
 * termination of the parent ends its running cycles with it; started again, each carries over what its
 * version already went through (an approval stands, a publication is resumed, never posted twice).
 */
export async function groupBudgetCycle(input: GroupBudgetCycleInput): Promise<GroupBudgetCycleStatus> {
  const state: GroupBudgetCycleStatus = {
    group: input.group,
    fiscalYear: input.fiscalYear,
    scenario: input.scenario,
    version: input.version,
    policy: input.policy,
    status: 'running',
    entities: input.cycles.map((c) => ({
      legalEntity: c.ref.legalEntity,
      cycleId: budgetCycleWorkflowId(c.ref, c.revision ?? 1),
      state: 'running',
    })),
  };
  setHandler(groupCycleStatusQuery, () => state);

  const ended: Promise<void>[] = [];
  for (const batch of chunk(input.cycles, input.startBatch ?? 50)) {
    const started = await Promise.all(
      batch.map((cycle) => {
        const entity = state.entities.find((e) => e.legalEntity === cycle.ref.legalEntity)!;
        return startChild(budgetCycle, {
          workflowId: entity.cycleId,
          args: [cycle],
          parentClosePolicy: ParentClosePolicy.TERMINATE,
          typedSearchAttributes: [
            { key: SearchAttributes.LegalEntity, value: cycle.ref.legalEntity },
            { key: SearchAttributes.FiscalYear, value: cycle.ref.fiscalYear },
            { key: SearchAttributes.BudgetVersion, value: versionKey(cycle.ref) },
            { key: SearchAttributes.CycleStage, value: 'plan' },
            { key: SearchAttributes.CycleStatus, value: 'importing' },
          ],
          staticSummary: `Budget cycle ${versionKey(cycle.ref)} of group ${input.group} (${input.policy})`,
          staticDetails: `correlation ID ${cycle.correlationId}`,
        }).then((handle) => ({ entity, handle }));
      }),
    );
    for (const { entity, handle } of started)
      ended.push(
        handle.result().then(
          (r) => void Object.assign(entity, { state: r.status, reason: r.outcomeReason }),
          (err: Error) =>
            void Object.assign(entity, {
              state: 'failed',
              reason: (err.cause as Error | undefined)?.message ?? err.message,
            }),
        ),
      );
  }
  await Promise.all(ended);
  state.status = 'completed';
  return state;
}
