import {
  type ChildWorkflowHandle,
  condition,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { chunk } from '../domain/chunking';
import { budgetCycleWorkflowId, versionKey } from '../domain/identity';
import { budgetCycle } from './budget-cycle';
import {
  type BudgetCycleInput,
  type CycleStatus,
  type GroupFailurePolicy,
  type GroupReport,
  type GroupWord,
} from './budget-cycle-state';
import { groupCycleStatusQuery, groupReportSignal, groupWordSignal, SearchAttributes } from './definitions';

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
  /** All or nothing: where the entity stands in the group (published and held, failed, stood down). */
  group?: 'held' | 'failed' | 'stood_down';
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
  const byEntity = new Map(state.entities.map((e) => [e.legalEntity, e]));
  const handles = new Map<string, ChildWorkflowHandle<typeof budgetCycle>>();
  let changed = false;
  const reports = new Map<string, GroupReport>();
  setHandler(groupReportSignal, (r) => {
    if (!byEntity.has(r.legalEntity)) return;
    reports.set(r.legalEntity, r);
    changed = true;
  });
  /** Takes the latest report of each entity's current cycle (reports of earlier runs are stale). */
  const takeReports = () => {
    for (const [legalEntity, r] of reports) {
      const handle = handles.get(legalEntity);
      if (!handle || handle.firstExecutionRunId !== r.runId) continue;
      const entity = byEntity.get(legalEntity)!;
      entity.group = r.report === 'published' ? 'held' : 'failed';
      if (r.reason) entity.reason = r.reason;
      else delete entity.reason;
      reports.delete(legalEntity);
    }
  };

  const ended: Promise<void>[] = [];
  const cycles = input.cycles.map((c) =>
    input.policy === 'all-or-nothing'
      ? { ...c, group: { workflowId: workflowInfo().workflowId, policy: input.policy } }
      : c,
  );
  for (const batch of chunk(cycles, input.startBatch ?? 50)) {
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
        }).then((handle) => {
          handles.set(entity.legalEntity, handle);
          changed = true;
          return { entity, handle };
        });
      }),
    );
    for (const { entity, handle } of started)
      ended.push(
        handle
          .result()
          .then(
            (r) => void Object.assign(entity, { state: r.status, reason: r.outcomeReason }),
            (err: Error) =>
              void Object.assign(entity, {
                state: 'failed',
                reason: (err.cause as Error | undefined)?.message ?? err.message,
              }),
          )
          .finally(() => {
            changed = true;
          }),
      );
  }
  if (input.policy === 'all-or-nothing') await landAllOrNothing();
  await Promise.all(ended);
  state.status = 'completed';
  return state;

  /**
   * All or nothing: every entity's cycle publishes and waits (held); once all are held, each is told to go on
   * and becomes its control budget. While one has failed, the held ones stand down (their postings taken back
   * out) and are told to publish again once none has failed (after the failed one's retry). If a cycle ends
   * before the group went ahead (rejected, expired, given up), the group cannot land everywhere: the others are
   * abandoned, their postings taken back out. Once decided, a cycle that publishes again (reset in Temporal UI)
   * is told the same at once.
   */
  async function landAllOrNothing() {
    const tell = async (legalEntity: string, word: GroupWord['word'], reason: string) =>
      handles.get(legalEntity)?.signal(groupWordSignal, { word, reason });
    let decided: GroupWord | undefined;
    while (state.entities.some((e) => e.state === 'running')) {
      await condition(() => changed);
      changed = false;
      takeReports();
      const running = state.entities.filter((e) => e.state === 'running');
      if (decided) {
        for (const e of running.filter((x) => x.group === 'held')) {
          await tell(e.legalEntity, decided.word, decided.reason);
          delete e.group;
        }
        continue;
      }
      const gone = state.entities.find((e) => e.state !== 'running');
      if (gone) {
        decided = {
          word: 'abandon',
          reason: `${gone.legalEntity}'s cycle ended ${gone.state}${gone.reason ? ` (${gone.reason})` : ''}: the group version cannot land everywhere`,
        };
        for (const e of running) await tell(e.legalEntity, decided.word, decided.reason);
        continue;
      }
      const failed = running.filter((e) => e.group === 'failed');
      if (failed.length) {
        const reason = `${failed.map((e) => e.legalEntity).join(', ')} failed to publish: the group version lands all or nothing`;
        for (const e of running.filter((x) => x.group === 'held')) {
          await tell(e.legalEntity, 'stand-down', reason);
          e.group = 'stood_down';
        }
        continue;
      }
      const stoodDown = running.filter((e) => e.group === 'stood_down');
      for (const e of stoodDown) {
        await tell(e.legalEntity, 'republish', 'every entity of the group can publish again');
        delete e.group;
      }
      if (!stoodDown.length && running.every((e) => e.group === 'held')) {
        decided = { word: 'go', reason: 'every entity of the group is published' };
        for (const e of running) {
          await tell(e.legalEntity, decided.word, decided.reason);
          delete e.group;
        }
      }
    }
  }
}
