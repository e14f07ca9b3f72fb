import { findVersion } from '../../db/queries/budget-versions';
import { decisionSignal } from '../../workflows/definitions';
import {
  awaitingApproval,
  erpBudgetTotal,
  planVersion,
  resetCycle,
  type ResetPoint,
  waitForStatus,
  workflowTaskPoints,
} from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Support staff may reset any cycle in Temporal UI at any point. The database decides which version of a
 * budget is in control, so a reset of an older cycle can never undo, reverse or overrule a newer version.
 */
describe('a Temporal UI reset never undoes what a newer version did', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function publish(fiscalYear: number, version: number) {
    const planned = planVersion(stack, fiscalYear, version);
    const handle = await stack.startCycle(planned.ref, { publication: { chunkSize: 40 } });
    await waitForStatus(handle, awaitingApproval);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    const result = await handle.result();
    expect(result.status).toBe('completed');
    return { ...planned, handle };
  }

  /** Activity types the current run scheduled after the reset point (the ones it really ran). */
  async function activitiesRunAfter(cycleId: string, resetPoint: ResetPoint['eventId']) {
    const { events } = await stack.client.workflow.getHandle(cycleId).fetchHistory();
    return events!
      .filter((e) => Number(e.eventId) > Number(resetPoint) && e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!);
  }

  async function expectV2InControl(
    fiscalYear: number,
    v1: { ref: object },
    v2: { ref: object; total: string },
  ) {
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(v2.total);
    expect((await findVersion(stack.db, v2.ref as never))?.status).toBe('active');
    expect((await findVersion(stack.db, v1.ref as never))?.status).toBe('superseded');
  }

  test('resetting v1 at any of its workflow tasks after v2 superseded it leaves v2 in the ERP and in control', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const v1 = await publish(fiscalYear, 1);
    const v2 = await publish(fiscalYear, 2);
    await expectV2InControl(fiscalYear, v1, v2);

    let resets = 0;
    for (const point of await workflowTaskPoints(v1.handle)) {
      // Temporal refuses a few points (a task completed mid-batch); support staff cannot pick those either.
      const replayed = await resetCycle(stack, v1.handle.workflowId, point).catch((err: Error) => {
        if (/must be at the boundary/.test(err.message)) return undefined;
        throw err;
      });
      if (!replayed) continue;
      resets++;
      // Reset past the last business step, the run only replays what v1 did back then and closes the
      // cycle; from anywhere earlier it finds out from the database that v2 is in control, and stops.
      const ranAfterReset = await activitiesRunAfter(v1.handle.workflowId, point.eventId);
      if (replayed.status === 'completed')
        expect(ranAfterReset.filter((a) => a !== 'closeCycle')).toEqual([]);
      else {
        expect({ point: String(point.eventId), status: replayed.status }).toEqual({
          point: String(point.eventId),
          status: 'superseded',
        });
        expect(replayed.outcomeReason).toMatch(/version 2|superseded/);
      }
      await expectV2InControl(fiscalYear, v1, v2);
    }
    expect(resets).toBeGreaterThan(8);
  }, 300_000);

  test('resetting the newer version replays it without touching the ERP', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const v1 = await publish(fiscalYear, 1);
    const v2 = await publish(fiscalYear, 2);
    const entries = stack.d365.budgetEntries().length;
    const [first] = await workflowTaskPoints(v2.handle);
    const replayed = await resetCycle(stack, v2.handle.workflowId, first!);
    expect(replayed.status).toBe('completed');
    expect(replayed.reconciliation[0]).toMatchObject({ exceptionCount: 0, targetTotal: v2.total });
    await expectV2InControl(fiscalYear, v1, v2);
    expect(stack.d365.budgetEntries()).toHaveLength(entries);
  });

  test('two versions publishing at the same time: whichever activates first, the newer one ends in control', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const cycles = await Promise.all(
      [1, 2].map(async (version) => {
        const planned = planVersion(stack, fiscalYear, version);
        const handle = await stack.startCycle(planned.ref, { publication: { chunkSize: 20 } });
        await waitForStatus(handle, awaitingApproval);
        return { ...planned, handle };
      }),
    );
    await Promise.all(
      cycles.map(async (c) =>
        c.handle.signal(
          decisionSignal,
          await stack.signed(c.handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
        ),
      ),
    );
    const [r1, r2] = await Promise.all(cycles.map((c) => c.handle.result()));
    expect(r2!.status).toBe('completed');
    expect(['completed', 'superseded']).toContain(r1!.status);
    await expectV2InControl(fiscalYear, cycles[0]!, cycles[1]!);
  });

  test('an older version approved after a newer one was activated never reaches the ERP', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const v1plan = planVersion(stack, fiscalYear, 1);
    const v1 = await stack.startCycle(v1plan.ref, { publication: { chunkSize: 40 } });
    await waitForStatus(v1, awaitingApproval);
    const v2 = await publish(fiscalYear, 2);
    const entries = stack.d365.budgetEntries().length;

    await v1.signal(
      decisionSignal,
      await stack.signed(v1.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    const late = await v1.result();
    expect(late.status).toBe('superseded');
    expect(late.outcomeReason).toMatch(/version 2 of this budget is already the control budget/);
    expect(late.publications).toEqual([]);
    expect(stack.d365.budgetEntries()).toHaveLength(entries);
    await expectV2InControl(fiscalYear, v1plan, v2);
  });
});
