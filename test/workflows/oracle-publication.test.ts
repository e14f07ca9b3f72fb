import { decisionSignal, retryPublicationSignal } from '../../workflows/definitions';
import { ORACLE_CONTROL_BUDGET, ORACLE_LEDGER_ID } from '../../simulators/scenario/services-company';
import { seedOracleLedger } from '../../simulators/scenario/seed';
import { consumeMarchTravel, oracleGlTotal, oracleTotal, routeUsToOracle } from '../harness/oracle';
import { awaitingApproval, erpBudgetTotal, planVersion, resetAtTasks, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * One entity's budget published to two ERPs that hold it differently: Dynamics 365's additive budget register
 * entries and Oracle Fusion's control budget (budgetary control entries), routed as data. Oracle's own period
 * close and a failed funds check each stop the publication before or while it posts, leaving neither ERP
 * holding it; a retry after the cause is fixed publishes once; a reset in Temporal UI posts nothing twice.
 */
describe('publishing to Dynamics 365 and Oracle Fusion', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function approved(fiscalYear: number, version = 1) {
    const planned = planVersion(stack, fiscalYear, version);
    const handle = await stack.startCycle(planned.ref, { publication: { chunkSize: 20 } });
    await waitForStatus(handle, awaitingApproval);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    return { ...planned, handle };
  }

  test('both ERPs hold the approved budget, each reconciled; a reset at any point posts nothing twice', async () => {
    const fiscalYear = await stack.newFiscalYear();
    await routeUsToOracle(stack, fiscalYear);
    const { handle, total } = await approved(fiscalYear);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.publications.map((p) => [p.target, p.status])).toEqual([
      ['d365', 'published'],
      ['oracle', 'published'],
    ]);
    expect(result.reconciliation).toEqual([
      expect.objectContaining({ target: 'd365', exceptionCount: 0, targetTotal: total }),
      expect.objectContaining({ target: 'oracle', exceptionCount: 0, targetTotal: total }),
    ]);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    expect(oracleTotal(stack, fiscalYear)).toBe(total);
    // Oracle's accounts are its own natural account and cost center values.
    expect(stack.oracle.controlBudgetBalances()).toContainEqual(
      expect.objectContaining({
        controlBudget: ORACLE_CONTROL_BUDGET,
        account: '6001-1100',
        currency: 'USD',
      }),
    );

    const entries = stack.d365.budgetEntries().length;
    const resets = await resetAtTasks(stack, handle, 3, async (replayed) => {
      expect(replayed.status).toBe('completed');
      expect(oracleTotal(stack, fiscalYear)).toBe(total);
      expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    });
    expect(resets).toBeGreaterThan(2);
    expect(stack.d365.budgetEntries()).toHaveLength(entries);
  }, 300_000);

  test('a period Oracle has closed stops the publication before anything posts; reopened there, a retry publishes once', async () => {
    const fiscalYear = await stack.newFiscalYear();
    // Corporate finance closed January in the Oracle ledger; closeloop's own calendar still has it open.
    await routeUsToOracle(stack, fiscalYear, (month) => (month === 1 ? 'C' : 'O'));
    const { handle, total } = await approved(fiscalYear);
    const failed = await waitForStatus(handle, (s) => s.status === 'publication_failed');
    const oracle = failed.publications.find((p) => p.target === 'oracle' && p.status === 'failed');
    expect(oracle?.error).toContain(
      `(oracle: Jan-${String(fiscalYear).slice(2)} is closed in ledger ${ORACLE_LEDGER_ID})`,
    );
    expect(oracleTotal(stack, fiscalYear)).toBe('0.00');
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe('0.00');

    seedOracleLedger(stack.oracle, [fiscalYear]);
    await handle.signal(retryPublicationSignal, {
      principal: 'sam@acme.example',
      reason: 'Jan reopened in Oracle',
    });
    expect((await handle.result()).status).toBe('completed');
    expect(oracleTotal(stack, fiscalYear)).toBe(total);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
  });

  test('a failed funds check in Oracle takes the budget back out of Dynamics 365; after the fix a retry publishes once', async () => {
    const fiscalYear = await stack.newFiscalYear();
    await routeUsToOracle(stack, fiscalYear);
    // Orders already consume more of March's travel budget in Oracle than the new budget gives it.
    consumeMarchTravel(stack, fiscalYear, '99999999.00');
    const { handle, total } = await approved(fiscalYear);
    const failed = await waitForStatus(handle, (s) => s.status === 'publication_failed');
    expect(failed.publications.find((p) => p.target === 'oracle' && p.status === 'failed')?.error).toContain(
      'failed budgetary control validation',
    );
    // The saga took Dynamics 365's entries back out: no ERP holds a version that is not in control.
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe('0.00');
    expect(oracleTotal(stack, fiscalYear)).toBe('0.00');

    consumeMarchTravel(stack, fiscalYear, '0.00');
    await handle.signal(retryPublicationSignal, {
      principal: 'sam@acme.example',
      reason: 'orders cancelled',
    });
    expect((await handle.result()).status).toBe('completed');
    expect(oracleTotal(stack, fiscalYear)).toBe(total);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
  });

  test("GL budget balances: each version's load replaces what they hold, reconciled from them; a reset loads nothing twice", async () => {
    const fiscalYear = await stack.newFiscalYear();
    await routeUsToOracle(stack, fiscalYear, undefined, 'replace-scope');
    const first = await approved(fiscalYear, 1);
    const one = await first.handle.result();
    expect(one.status).toBe('completed');
    expect(one.reconciliation).toContainEqual(
      expect.objectContaining({ target: 'oracle', exceptionCount: 0, targetTotal: first.total }),
    );
    expect(oracleGlTotal(stack, fiscalYear)).toBe(first.total);

    // Version 2 raises Engineering's salaries: its load sets those balances to v2's amounts, the rest stay.
    const second = await approved(fiscalYear, 2);
    const two = await second.handle.result();
    expect(two.status).toBe('completed');
    expect(two.reconciliation).toContainEqual(
      expect.objectContaining({ target: 'oracle', exceptionCount: 0, targetTotal: second.total }),
    );
    expect(oracleGlTotal(stack, fiscalYear)).toBe(second.total);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(second.total);

    const resets = await resetAtTasks(stack, second.handle, 4, async (replayed) => {
      expect(replayed.status).toBe('completed');
      expect(oracleGlTotal(stack, fiscalYear)).toBe(second.total);
    });
    expect(resets).toBeGreaterThan(1);
  }, 300_000);
});
