import { listen, type RunningServer } from '../../api/listen';
import {
  type BudgetChunkPublication,
  type BudgetTarget,
  type TargetBudgetLine,
} from '../../activities/connectors/types';
import { FailureType } from '../../domain/failures';
import { createOracleSimulator, type OracleSimulator } from '../../simulators/oracle/simulator';
import { failureOf } from '../harness/failures';
import { oracleConnectorAt } from '../harness/oracle';

/**
 * Oracle Fusion as a budget target: budgetary control budget entries against the simulator over real HTTP,
 * sent once whatever is lost or retried, refused into periods the ledger does not take budgets into, and read
 * back as what Oracle did with each of them.
 */

const LEDGER = '300000046975971';
const BUDGET = 'MFG Operating';
// January is closed in the ledger, February to April take budgets (open, future enterable, never opened).
const STATUSES = ['C', 'O', 'F', 'N'] as const;

let sim: OracleSimulator;
let server: RunningServer;
let erp: BudgetTarget;
const target = {
  company: LEDGER,
  postingModel: 'control-budget' as const,
  settings: { controlBudget: BUDGET, dimensionFormat: 'company-account-costCenter' },
};

const line = (lineNumber: number, month: number, account: string, amount: string): TargetBudgetLine => ({
  lineNumber,
  dimensions: { ledger: 'PRIMARY', company: '101', account, costCenter: 'ENG' },
  period: `2027-0${month}`,
  date: `2027-0${month}-01`,
  amount: { amount, currency: 'USD' },
});
const chunk = (
  key: string,
  lines: TargetBudgetLine[],
  purpose: 'original' | 'revision' = 'original',
): BudgetChunkPublication => ({
  idempotencyKey: key,
  correlationId: 'test',
  target,
  purpose,
  description: key,
  lines,
});
const balance = (period: string, account: string) =>
  sim.controlBudgetBalances().find((b) => b.period === period && b.account === account)?.budget;

beforeAll(async () => {
  sim = createOracleSimulator();
  server = await listen(sim.app, 0);
  erp = oracleConnectorAt(server.url);
});
afterAll(() => server.close());
beforeEach(async () => {
  await fetch(`${server.url}/__sim/reset`, { method: 'POST' });
  sim.setAccountingPeriods(
    STATUSES.map((s, i) => ({
      PeriodNameId: `${['Jan', 'Feb', 'Mar', 'Apr'][i]}-27`,
      ApplicationId: 101,
      LedgerId: Number(LEDGER),
      ClosingStatus: s,
      StartDate: `2027-0${i + 1}-01`,
      EndDate: new Date(Date.UTC(2027, i + 1, 0)).toISOString().slice(0, 10),
    })),
  );
  sim.setControlBudgets([{ name: BUDGET, ledgerId: Number(LEDGER), currency: 'USD' }]);
});

describe('Oracle Fusion: budgetary control budget entries', () => {
  test('an entry posts once: its lines on the account combination and period of the ledger, a repeat finds it', async () => {
    const entry = chunk('ACME-MFG:FY2027:BUDGET:v1:oracle:c0:r1', [
      line(1, 2, '51020', '1000.00'),
      line(2, 3, '51020', '250.50'),
    ]);
    const posted = await erp.publishBudgetChunk(entry);
    expect(posted).toEqual({
      idempotencyKey: entry.idempotencyKey,
      documentNumber: entry.idempotencyKey,
      lineCount: 2,
      alreadyPosted: false,
    });
    expect(balance('Feb-27', '101-51020-ENG')).toBe('1000.00');
    expect(balance('Mar-27', '101-51020-ENG')).toBe('250.50');
    expect((await erp.publishBudgetChunk(entry)).alreadyPosted).toBe(true);
    expect(balance('Feb-27', '101-51020-ENG')).toBe('1000.00');
  });

  test('an answer lost after Oracle applied the entry: the retry finds its result and sends nothing', async () => {
    const entry = chunk('k-lost', [line(1, 2, '51020', '400.00')]);
    sim.faults.inject({
      kind: 'drop-after-commit',
      method: 'POST',
      path: 'budgetaryControlBudgetTransactions',
    });
    const lost = await failureOf(erp.publishBudgetChunk(entry));
    expect(lost.nonRetryable).toBe(false);
    expect((await erp.publishBudgetChunk(entry)).alreadyPosted).toBe(true);
    expect(balance('Feb-27', '101-51020-ENG')).toBe('400.00');
  });

  test('throttling and outages are retried, Retry-After honoured; a failed funds check is final and changes nothing', async () => {
    sim.faults.inject({ kind: 'status', status: 429, retryAfterSeconds: 7, method: 'POST' });
    const throttled = await failureOf(
      erp.publishBudgetChunk(chunk('k-429', [line(1, 2, '51020', '100.00')])),
    );
    expect(throttled).toMatchObject({
      type: FailureType.ConnectorUnavailable,
      nonRetryable: false,
      nextRetryDelay: 7000,
    });
    sim.faults.inject({ kind: 'status', status: 503, method: 'GET' });
    expect(
      (await failureOf(erp.publishBudgetChunk(chunk('k-503', [line(1, 2, '51020', '100.00')])))).nonRetryable,
    ).toBe(false);

    // Orders already consume 300 of February: lowering its budget below that fails validation.
    await erp.publishBudgetChunk(chunk('k-orig', [line(1, 2, '51030', '500.00')]));
    sim.setConsumption({
      controlBudget: BUDGET,
      period: 'Feb-27',
      account: '101-51030-ENG',
      currency: 'USD',
      amount: '300.00',
    });
    const refused = await failureOf(
      erp.publishBudgetChunk(chunk('k-cut', [line(1, 2, '51030', '-250.00')], 'revision')),
    );
    expect(refused).toMatchObject({ type: FailureType.ConnectorRejected, nonRetryable: true });
    expect(refused.message).toContain(
      'k-cut failed budgetary control validation: Feb-27 101-51030-ENG: funds available would be -50.00',
    );
    expect(balance('Feb-27', '101-51030-ENG')).toBe('500.00');
  });

  test('a reversal adds the lines negated, once; an entry Oracle never applied needs none', async () => {
    const entry = chunk('k-rev', [line(1, 4, '51020', '75.25')]);
    await erp.publishBudgetChunk(entry);
    const reversal = { ...entry, idempotencyKey: 'k-rev:reversal', originalIdempotencyKey: 'k-rev' };
    expect((await erp.reverseBudgetChunk(reversal)).alreadyPosted).toBe(false);
    expect((await erp.reverseBudgetChunk(reversal)).alreadyPosted).toBe(true);
    expect(balance('Apr-27', '101-51020-ENG')).toBe('0.00');
    const never = await erp.reverseBudgetChunk({
      ...reversal,
      idempotencyKey: 'k-x:reversal',
      originalIdempotencyKey: 'k-x',
    });
    expect(never).toMatchObject({ originalMissing: true, documentNumber: '' });
  });

  test("the ledger's own close: periods it does not take budgets into are named, with why", async () => {
    expect(
      await erp.periodsRefused!(target, ['2027-01-01', '2027-02-01', '2027-04-01', '2027-05-01']),
    ).toEqual([
      { day: '2027-01-01', reason: `Jan-27 is closed in ledger ${LEDGER}` },
      { day: '2027-05-01', reason: `ledger ${LEDGER} has no period containing 2027-05-01` },
    ]);
  });

  test('read back as what Oracle did with each entry closeloop sent: a failed or unknown one holds nothing', async () => {
    const applied = chunk('k-a', [line(1, 2, '51020', '10.00')]);
    await erp.publishBudgetChunk(applied);
    sim.setConsumption({
      controlBudget: BUDGET,
      period: 'Feb-27',
      account: '101-51020-ENG',
      currency: 'USD',
      amount: '10.00',
    });
    await failureOf(erp.publishBudgetChunk(chunk('k-b', [line(1, 2, '51020', '-5.00')], 'revision')));
    const posted = async function* () {
      yield { document: 'k-a', lines: applied.lines };
      yield { document: 'k-b', lines: [line(1, 2, '51020', '-5.00')] };
      yield { document: 'k-never-sent', lines: [line(1, 3, '51020', '99.00')] };
    };
    const totals = await erp.fetchBudgetTotals({
      target,
      posted,
      fromDate: '2027-01-01',
      toDate: '2027-12-31',
    });
    expect(totals).toEqual([
      {
        dimensions: applied.lines[0]!.dimensions,
        date: '2027-02-01',
        amount: { amount: '10.00', currency: 'USD' },
      },
    ]);
  });

  test('a route without the settings of its model, or with a model Oracle does not offer, is refused before any call', async () => {
    const noBudget = await failureOf(
      erp.publishBudgetChunk({
        ...chunk('k-s', [line(1, 2, '51020', '1.00')]),
        target: { ...target, settings: {} },
      }),
    );
    expect(noBudget).toMatchObject({ type: FailureType.ValidationFailed, nonRetryable: true });
    // GL budget balances need the budget's and the ledger's names; annual lines are not a way Oracle holds budgets.
    const gl = await failureOf(
      erp.publishBudgetChunk({
        ...chunk('k-m', [line(1, 2, '51020', '1.00')]),
        target: { ...target, postingModel: 'replace-scope' },
      }),
    );
    expect(gl.message).toContain('needs the settings budgetName');
    const annual = await failureOf(
      erp.publishBudgetChunk({
        ...chunk('k-a', [line(1, 2, '51020', '1.00')]),
        target: { ...target, postingModel: 'annual-lines' },
      }),
    );
    expect(annual.message).toContain('annual-lines is not one of them');
  });
});
