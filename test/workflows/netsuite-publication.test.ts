import { fromMinor, toMinor } from '../../domain/money';
import { acquiredBudgetRows, ACQUIRED, netsuiteBooks } from '../../simulators/scenario/acquired';
import { seedAcquiredBooks } from '../../simulators/scenario/seed';
import { decisionSignal } from '../../workflows/definitions';
import { awaitingApproval, resetAtTasks, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The acquired subsidiary's budget published to its NetSuite account: one `budgetImport` per account and year
 * (NetSuite's fiscal year starting in April, as closeloop's calendar for the entity does), a revision setting the
 * lines it changes whole, reconciliation reading the budgets back with SuiteQL, and a reset in Temporal UI
 * creating nothing twice.
 */
describe('publishing to NetSuite budgets', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  const netsuiteTotal = (fiscalYear: number, yearId: string) =>
    fromMinor(
      stack.netsuite
        .budgets()
        .filter((b) => b.year === yearId && b.subsidiary === '7')
        .reduce((t, b) => t + toMinor(String(b.amount), 'USD'), 0n),
      'USD',
    );

  async function approved(fiscalYear: number, version: number) {
    const rows = acquiredBudgetRows(fiscalYear, version);
    const ref = { legalEntity: ACQUIRED, fiscalYear, scenario: 'BUDGET' as const, version };
    stack.anaplan.putBudgetVersion({ ...ref, rows });
    const handle = await stack.startCycle(ref, { publication: { chunkSize: 10 } });
    await waitForStatus(handle, awaitingApproval);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    const total = fromMinor(
      rows.reduce((t, r) => t + toMinor(r.amount, 'USD'), 0n),
      'USD',
    );
    return { handle, total };
  }

  test("each version sets the lines it changes whole; reconciled from NetSuite's budgets; a reset creates nothing twice", async () => {
    const fiscalYear = await stack.newFiscalYear();
    seedAcquiredBooks(stack.netsuite, { fiscalYear, years: [fiscalYear] });
    const yearId = netsuiteBooks(fiscalYear, { years: [fiscalYear] }).accountingperiod.find(
      (p) => p.isyear === 'T',
    )!.id;

    const first = await approved(fiscalYear, 1);
    const one = await first.handle.result();
    expect(one.status).toBe('completed');
    expect(one.reconciliation).toContainEqual(
      expect.objectContaining({ target: 'netsuite', exceptionCount: 0, targetTotal: first.total }),
    );
    // Three accounts and departments: three budget lines for the year, twelve amounts each.
    expect(stack.netsuite.records('budgetImport')).toHaveLength(3);
    expect(netsuiteTotal(fiscalYear, yearId)).toBe(first.total);

    // Version 2 raises sensor engineering's salaries by 1%: that one line is set again, the others left.
    const second = await approved(fiscalYear, 2);
    const two = await second.handle.result();
    expect(two.status).toBe('completed');
    expect(two.reconciliation).toContainEqual(
      expect.objectContaining({ target: 'netsuite', exceptionCount: 0, targetTotal: second.total }),
    );
    expect(stack.netsuite.records('budgetImport')).toHaveLength(3);
    expect(netsuiteTotal(fiscalYear, yearId)).toBe(second.total);

    const jobs = stack.netsuite.jobCount();
    const resets = await resetAtTasks(stack, second.handle, 4, async (replayed) => {
      expect(replayed.status).toBe('completed');
      expect(netsuiteTotal(fiscalYear, yearId)).toBe(second.total);
      expect(stack.netsuite.records('budgetImport')).toHaveLength(3);
    });
    expect(resets).toBeGreaterThan(1);
    // A replayed publication sends its keys again: NetSuite answers with the first jobs, and starts none.
    expect(stack.netsuite.jobCount()).toBe(jobs);
  }, 300_000);
});
