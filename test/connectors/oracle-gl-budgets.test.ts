import { parse } from 'csv-parse/sync';
import { listen, type RunningServer } from '../../api/listen';
import { INTERFACE_COLUMNS, interfaceCsv, runNameOf } from '../../activities/connectors/oracle/gl-budgets';
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
 * Oracle Fusion's GL budget balances against the simulator over real HTTP: importBulkData of the GL budget
 * interface, the ESS job waited on (success, warning, error, a job still running), a load that replaces the
 * balances it names, a lost answer that does not load twice, throttling, and the balances read back.
 */

const LEDGER = 300000046976001;
const LEDGER_NAME = 'ACME Corporate USD';
const BUDGET = 'Corporate Plan';
// January is closed; February and March take budgets.
const STATUSES = ['C', 'O', 'F'] as const;

let sim: OracleSimulator;
let server: RunningServer;
let erp: BudgetTarget;
const target = {
  company: String(LEDGER),
  postingModel: 'replace-scope' as const,
  settings: { budgetName: BUDGET, ledgerName: LEDGER_NAME },
};

const line = (lineNumber: number, month: number, account: string, amount: string): TargetBudgetLine => ({
  lineNumber,
  dimensions: { ledger: 'PRIMARY', account, costCenter: '1810' },
  period: `2027-0${month}`,
  date: `2027-0${month}-01`,
  amount: { amount, currency: 'USD' },
});
const load = (key: string, lines: TargetBudgetLine[]): BudgetChunkPublication => ({
  idempotencyKey: key,
  correlationId: 'test',
  target,
  purpose: 'original',
  description: key,
  lines,
});
const balances = () =>
  Object.fromEntries(
    sim.budgetBalances(LEDGER, BUDGET).map((b) => [`${b.period} ${b.combination}`, b.amount]),
  );

async function start(essReadsRunning = 1, waitMs?: number) {
  sim = createOracleSimulator({ essReadsRunning });
  server = await listen(sim.app, 0);
  erp = oracleConnectorAt(server.url, { waitMs });
  sim.setLedgers([{ LedgerId: LEDGER, Name: LEDGER_NAME }]);
  sim.setAccountingPeriods(
    STATUSES.map((s, i) => ({
      PeriodNameId: `${['Jan', 'Feb', 'Mar'][i]}-27`,
      ApplicationId: 101,
      LedgerId: LEDGER,
      ClosingStatus: s,
      StartDate: `2027-0${i + 1}-01`,
      EndDate: new Date(Date.UTC(2027, i + 1, 0)).toISOString().slice(0, 10),
    })),
  );
}
beforeEach(() => start());
afterEach(() => server.close());

describe('Oracle Fusion: GL budget balances (importBulkData of GL_BUDGET_INTERFACE)', () => {
  test("the interface file: the template's 38 columns without a header, the run name from the business key", () => {
    const key = 'ACME-CORP:FY2027:BUDGET:v1:oracle:c0:r1';
    const rows = parse(
      interfaceCsv({
        key,
        ledgerId: String(LEDGER),
        ledgerName: LEDGER_NAME,
        budgetName: BUDGET,
        balances: [{ period: 'Feb-27', segments: ['6001', '1810'], amount: '1000.00', currency: 'USD' }],
      }),
    ) as string[][];
    expect(INTERFACE_COLUMNS).toHaveLength(38);
    expect(rows).toHaveLength(1);
    const row = Object.fromEntries(INTERFACE_COLUMNS.map((c, i) => [c, rows[0]![i]]));
    expect(row).toMatchObject({
      RUN_NAME: runNameOf(key),
      STATUS: 'NEW',
      LEDGER_ID: String(LEDGER),
      BUDGET_NAME: BUDGET,
      PERIOD_NAME: 'Feb-27',
      CURRENCY_CODE: 'USD',
      SEGMENT1: '6001',
      SEGMENT2: '1810',
      SEGMENT3: '',
      BUDGET_AMOUNT: '1000.00',
      LEDGER_NAME: '',
    });
    // RUN_NAME is VARCHAR2(50); two keys that share a long head still get two names.
    expect(runNameOf(`${key}:${'x'.repeat(80)}`).length).toBeLessThanOrEqual(50);
    expect(runNameOf(`${key}:${'x'.repeat(80)}a`)).not.toBe(runNameOf(`${key}:${'x'.repeat(80)}b`));
  });

  test('a load sets the balances it names, waiting for its job; a later load replaces them, it does not add', async () => {
    const progress: Record<string, unknown>[] = [];
    const first = await erp.publishBudgetChunk(
      load('k1', [line(1, 2, '6001', '1000.00'), line(2, 3, '6001', '250.50')]),
      { progress: (d) => progress.push(d) },
    );
    expect(first).toEqual({
      idempotencyKey: 'k1',
      documentNumber: runNameOf('k1'),
      lineCount: 2,
      alreadyPosted: false,
    });
    // The job was read RUNNING, then SUCCEEDED.
    expect(progress.map((p) => p.state).filter(Boolean)).toEqual(['RUNNING', 'SUCCEEDED']);
    expect(balances()).toEqual({ 'Feb-27 6001-1810': '1000.00', 'Mar-27 6001-1810': '250.50' });
    await erp.publishBudgetChunk(load('k2', [line(1, 2, '6001', '1200.00')]));
    expect(balances()).toEqual({ 'Feb-27 6001-1810': '1200.00', 'Mar-27 6001-1810': '250.50' });
    expect(
      await erp.fetchBudgetTotals({ target, fromDate: '2027-01-01', toDate: '2027-12-31', currency: 'USD' }),
    ).toEqual(
      expect.arrayContaining([
        {
          dimensions: { account: '6001', costCenter: '1810' },
          date: '2027-02-01',
          amount: { amount: '1200', currency: 'USD' },
        },
      ]),
    );
  });

  test('a job that ends in warning or error fails for good, naming the run; the rows it took are loaded', async () => {
    // January is closed in the ledger: its row is refused, February's loads (WARNING).
    const warning = await failureOf(
      erp.publishBudgetChunk(load('k-w', [line(1, 1, '6001', '10.00'), line(2, 2, '6001', '20.00')])),
    );
    expect(warning).toMatchObject({ type: FailureType.ConnectorRejected, nonRetryable: true });
    expect(warning.message).toContain(`${runNameOf('k-w')}`);
    expect(warning.message).toContain('ended WARNING');
    expect(balances()).toEqual({ 'Feb-27 6001-1810': '20.00' });
    expect(sim.interfaceErrors()).toEqual([
      expect.objectContaining({
        runName: runNameOf('k-w'),
        row: 1,
        error: expect.stringContaining('Jan-27'),
      }),
    ]);
    // Nothing it can load: ERROR.
    const error = await failureOf(erp.publishBudgetChunk(load('k-e', [line(1, 1, '6001', '10.00')])));
    expect(error.message).toContain('ended ERROR');
  });

  test('an answer lost after Oracle took the file: the retry reads the balances, finds them loaded, loads nothing', async () => {
    sim.faults.inject({ kind: 'drop-after-commit', method: 'POST', path: 'erpintegrations' });
    const heartbeat: Record<string, unknown>[] = [];
    const lost = await failureOf(
      erp.publishBudgetChunk(load('k-lost', [line(1, 2, '6001', '400.00')]), {
        progress: (d) => heartbeat.push(d),
      }),
    );
    expect(lost.nonRetryable).toBe(false);
    // The attempt said which run it was sending before it sent it; the retry resumes from that.
    expect(heartbeat.at(-1)).toEqual({ runName: runNameOf('k-lost') });
    const retried = await erp.publishBudgetChunk(load('k-lost', [line(1, 2, '6001', '400.00')]), {
      resumeFrom: heartbeat.at(-1),
    });
    expect(retried.alreadyPosted).toBe(true);
    expect(balances()).toEqual({ 'Feb-27 6001-1810': '400.00' });
  });

  test('a Temporal UI reset (no heartbeat) loads the same file again: the same balances, never twice the amount', async () => {
    await erp.publishBudgetChunk(load('k-reset', [line(1, 2, '6001', '400.00')]));
    const again = await erp.publishBudgetChunk(load('k-reset', [line(1, 2, '6001', '400.00')]));
    expect(again.alreadyPosted).toBe(false);
    expect(balances()).toEqual({ 'Feb-27 6001-1810': '400.00' });
  });

  test('a job still running when the attempt stops waiting: the next attempt waits on the same request', async () => {
    await server.close();
    await start(1_000, 200);
    const heartbeat: Record<string, unknown>[] = [];
    const slow = await failureOf(
      erp.publishBudgetChunk(load('k-slow', [line(1, 2, '6001', '75.00')]), {
        progress: (d) => heartbeat.push(d),
      }),
    );
    expect(slow).toMatchObject({ type: FailureType.ConnectorUnavailable, nonRetryable: false });
    const { requestId } = heartbeat.at(-1) as { requestId: string };
    expect(slow.message).toContain(`ESS request ${requestId}`);
    // The job ends; the next attempt reads its state by the id it was given, and loads nothing new.
    sim.setEssJobState(requestId, 'SUCCEEDED');
    const resumed: Record<string, unknown>[] = [];
    const done = await erp.publishBudgetChunk(load('k-slow', [line(1, 2, '6001', '75.00')]), {
      resumeFrom: heartbeat.at(-1),
      progress: (d) => resumed.push(d),
    });
    expect(done.alreadyPosted).toBe(false);
    expect(resumed).toEqual([{ runName: runNameOf('k-slow'), requestId, state: 'SUCCEEDED' }]);
    expect(balances()).toEqual({ 'Feb-27 6001-1810': '75.00' });
  });

  test('throttling on the job state is retried after Retry-After', async () => {
    sim.faults.inject({
      kind: 'status',
      status: 429,
      retryAfterSeconds: 4,
      method: 'GET',
      path: 'erpintegrations',
    });
    const throttled = await failureOf(erp.publishBudgetChunk(load('k-429', [line(1, 2, '6001', '5.00')])));
    expect(throttled).toMatchObject({ nonRetryable: false, nextRetryDelay: 4000 });
  });
});
