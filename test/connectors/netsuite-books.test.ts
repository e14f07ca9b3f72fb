import { listen, type RunningServer } from '../../api/listen';
import { createNetSuiteConnector, idempotencyUuid } from '../../activities/connectors/netsuite/connector';
import { type NetSuiteConfig } from '../../activities/connectors/netsuite/rest';
import {
  type BudgetChunkPublication,
  type ErpConnector,
  type LedgerQuery,
  type TargetBudgetLine,
} from '../../activities/connectors/types';
import { FailureType } from '../../domain/failures';
import { monthlyFiscalPeriods } from '../../domain/reference';
import { createNetSuiteSimulator, type NetSuiteSimulator } from '../../simulators/netsuite/simulator';
import {
  NETSUITE_BUDGET_CATEGORY,
  NETSUITE_FIRST_MONTH,
  NETSUITE_SUBSIDIARY,
  netsuiteBooks,
} from '../../simulators/scenario/acquired';
import { syncAllActuals } from '../harness/connectors';
import { failureOf } from '../harness/failures';

/**
 * NetSuite both ways, the adapter against its simulator over real HTTP. As a budget target: `budgetImport`
 * records, one per account and year with an amount for each posting period of NetSuite's fiscal year (which starts
 * in April here), set whole, created once under their keys, read back with SuiteQL, closed periods named. As the
 * books: posted lines by SuiteQL page by page and narrowed under the row cap, open purchase order lines, currency
 * rates, accounts and departments.
 */

const YEAR = 2031;
const TBA = { consumerKey: 'ck', consumerSecret: 'cs', tokenId: 'tk', tokenSecret: 'ts' };
const MONTHS = monthlyFiscalPeriods(YEAR, NETSUITE_FIRST_MONTH);
let sim: NetSuiteSimulator;
let server: RunningServer | undefined;
let erp: ErpConnector;

async function start(
  opts: {
    suiteqlCap?: number;
    closedThrough?: string;
    concurrencyLimit?: number;
    slots?: NetSuiteConfig['slots'];
  } = {},
) {
  sim = createNetSuiteSimulator({
    tba: TBA,
    jobReadsPending: 1,
    suiteqlCap: opts.suiteqlCap,
    concurrencyLimit: opts.concurrencyLimit,
  });
  server = await listen(sim.app, 0);
  erp = createNetSuiteConnector({
    accountId: sim.accountId,
    baseUrl: server.url,
    auth: { kind: 'tba', ...TBA },
    timeoutMs: 2000,
    pollIntervalMs: 10,
    waitMs: 2000,
    suiteqlCap: opts.suiteqlCap,
    concurrencyLimit: opts.concurrencyLimit,
    slots: opts.slots,
  });
  const tables = netsuiteBooks(YEAR);
  if (opts.closedThrough)
    tables.accountingperiod = tables.accountingperiod.map((p) =>
      p.isyear === 'F' && p.isquarter === 'F' && p.enddate <= opts.closedThrough! ? { ...p, closed: 'T' } : p,
    );
  for (const [name, rows] of Object.entries(tables)) sim.putTable(name, rows);
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const target = {
  company: NETSUITE_SUBSIDIARY,
  settings: { category: NETSUITE_BUDGET_CATEGORY },
  postingModel: 'annual-lines' as const,
};
const line = (
  n: number,
  month: number,
  account: string,
  department: string,
  amount: string,
): TargetBudgetLine => ({
  lineNumber: n,
  dimensions: { account, costCenter: department },
  period: MONTHS[month]!.period,
  date: MONTHS[month]!.startDate,
  amount: { amount, currency: 'USD' },
});
const chunk = (key: string, lines: TargetBudgetLine[]): BudgetChunkPublication => ({
  idempotencyKey: key,
  correlationId: 'test',
  target,
  purpose: 'original',
  description: key,
  lines,
});
const query = (over: Partial<LedgerQuery> = {}): LedgerQuery => ({
  company: NETSUITE_SUBSIDIARY,
  fromDate: MONTHS[0]!.startDate,
  toDate: MONTHS[11]!.endDate,
  ...over,
});

describe('NetSuite budgets (budgetImport, annual lines)', () => {
  test("a line per account and year, each period its place in NetSuite's fiscal year, amounts exact", async () => {
    await start();
    const posted = await erp.publishBudgetChunk(
      chunk('v1-c0', [
        line(1, 0, '354', '21', '31000.00'),
        line(2, 11, '354', '21', '31000.10'),
        line(3, 2, '358', '22', '8000.05'),
      ]),
    );
    expect(posted).toMatchObject({
      lineCount: 3,
      alreadyPosted: false,
      documentNumber: 'budgetImport 1…2 (2)',
    });
    const records = sim.records('budgetImport').map((r) => r.body as Record<string, unknown>);
    expect(records).toHaveLength(2);
    // April is the first period of the year: the line dated in April is periodamount1, March's periodamount12.
    expect(records[0]).toMatchObject({
      subsidiary: { id: '7' },
      category: { id: '2' },
      currency: { id: '1' },
      account: { id: '354' },
      department: { id: '21' },
      periodamount1: 31000,
      periodamount2: 0,
      periodamount12: 31000.1,
    });
    expect(records[1]).toMatchObject({ account: { id: '358' }, periodamount3: 8000.05 });

    const totals = await erp.fetchBudgetTotals({
      target,
      fromDate: MONTHS[0]!.startDate,
      toDate: MONTHS[11]!.endDate,
    });
    const nonZero = totals.filter((t) => t.amount.amount !== '0');
    expect(nonZero).toEqual([
      {
        dimensions: { account: '354', costCenter: '21' },
        date: MONTHS[0]!.startDate,
        amount: { amount: '31000', currency: 'USD' },
      },
      {
        dimensions: { account: '354', costCenter: '21' },
        date: MONTHS[11]!.startDate,
        amount: { amount: '31000.1', currency: 'USD' },
      },
      {
        dimensions: { account: '358', costCenter: '22' },
        date: MONTHS[2]!.startDate,
        amount: { amount: '8000.05', currency: 'USD' },
      },
    ]);
  });

  test("a chunk's records, as many at once as the account takes, under slots taken a few records per lane at a time", async () => {
    // The account takes two requests at once (more are refused with 429): the slots a chunk takes keep it so.
    const leases: { want: number; taken: number }[] = [];
    let free = 2;
    await start({
      concurrencyLimit: 2,
      slots: async (want, fn) => {
        const taken = Math.min(want, free);
        free -= taken;
        leases.push({ want, taken });
        try {
          return await fn(taken);
        } finally {
          free += taken;
        }
      },
    });
    sim.faults.inject({ kind: 'latency', latencyMs: 5, path: 'budgetImport', times: 20 });
    // One record per department: twenty records.
    const departments = Array.from({ length: 20 }, (_, i) => String(100 + i));
    const posted = await erp.publishBudgetChunk(
      chunk(
        'v1-wide',
        departments.map((d, i) => line(i + 1, i % 12, '354', d, '10.00')),
      ),
    );
    expect(posted).toMatchObject({ lineCount: 20, alreadyPosted: false });
    expect(sim.records('budgetImport')).toHaveLength(20);
    // Two lanes, four records each per taking: 20 records in three takings, the last of four records.
    expect(leases).toEqual([
      { want: 2, taken: 2 },
      { want: 2, taken: 2 },
      { want: 2, taken: 2 },
    ]);
  });

  test('sent again under its key (a retry, a reset): the first jobs followed, nothing created twice', async () => {
    await start();
    const c = chunk('v1-c0', [line(1, 0, '354', '21', '100.00')]);
    await erp.publishBudgetChunk(c);
    const again = await erp.publishBudgetChunk(c);
    expect(again.alreadyPosted).toBe(true);
    expect(sim.records('budgetImport')).toHaveLength(1);
  });

  test("a revision sets the line whole: the account's year is replaced, not added to", async () => {
    await start();
    await erp.publishBudgetChunk(
      chunk('v1-c0', [line(1, 0, '354', '21', '100.00'), line(2, 1, '354', '21', '100.00')]),
    );
    await erp.publishBudgetChunk(
      chunk('v2-c0', [line(1, 0, '354', '21', '120.00'), line(2, 1, '354', '21', '100.00')]),
    );
    expect(sim.records('budgetImport')).toHaveLength(1);
    expect(sim.records('budgetImport')[0]!.body).toMatchObject({ periodamount1: 120, periodamount2: 100 });
  });

  test('the key NetSuite is sent is a UUID made from the business key, the same every time', () => {
    expect(idempotencyUuid('k')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(idempotencyUuid('k')).toBe(idempotencyUuid('k'));
    expect(idempotencyUuid('k')).not.toBe(idempotencyUuid('l'));
  });

  test("NetSuite's closed periods are named, so a publication never changes them", async () => {
    await start({ closedThrough: MONTHS[1]!.endDate });
    const refused = await erp.periodsRefused!(target, [
      MONTHS[0]!.startDate,
      MONTHS[1]!.startDate,
      MONTHS[2]!.startDate,
    ]);
    expect(refused.map((r) => r.day)).toEqual([MONTHS[0]!.startDate, MONTHS[1]!.startDate]);
    expect(refused[0]!.reason).toContain('closed');
  });

  test('a route for another posting model, or with bad settings, is refused before anything is sent', async () => {
    await start();
    const wrong = await failureOf(
      erp.publishBudgetChunk({
        ...chunk('x', [line(1, 0, '354', '21', '1.00')]),
        target: { ...target, postingModel: 'additive' },
      }),
    );
    expect(wrong).toMatchObject({ type: FailureType.ValidationFailed, nonRetryable: true });
    const bad = await failureOf(
      erp.publishBudgetChunk({
        ...chunk('y', [line(1, 0, '354', '21', '1.00')]),
        target: { ...target, settings: { category: 'local' } },
      }),
    );
    expect(bad.message).toContain('category');
    expect(sim.records('budgetImport')).toHaveLength(0);
  });

  test("NetSuite's refusal (an account it does not know) fails for good with its reason", async () => {
    await start();
    const refused = await failureOf(erp.publishBudgetChunk(chunk('z', [line(1, 0, '999', '21', '1.00')])));
    expect(refused).toMatchObject({ type: FailureType.ConnectorRejected, nonRetryable: true });
    expect(refused.message).toContain('Invalid account reference key 999');
  });
});

describe('NetSuite books (SuiteQL)', () => {
  test("every posted income statement line of the subsidiary's window, each its transaction's line", async () => {
    await start();
    const { lines, watermark } = await syncAllActuals(erp, query());
    // Three months of payroll and rent, and a sales invoice line; the payable lines are on the balance sheet.
    expect(lines).toHaveLength(7);
    expect(lines.find((l) => l.description === `Rent ${MONTHS[0]!.period}`)).toEqual({
      documentId: '5002',
      lineNo: 1,
      revision: 0,
      dimensions: { account: '358', costCenter: '22' },
      postingDate: `${MONTHS[0]!.startDate.slice(0, 7)}-25`,
      amount: { amount: '7980.5', currency: 'USD' },
      description: `Rent ${MONTHS[0]!.period}`,
    });
    expect(watermark).toBe(`${MONTHS[2]!.startDate.slice(0, 7)}-25`);
    // From the watermark: only that day's lines again (counted once by their identity downstream).
    const again = await syncAllActuals(erp, query({ watermark }));
    expect(again.lines).toHaveLength(2);
  });

  test('more lines than one SuiteQL query serves: the window halved page by page, every line read once', async () => {
    await start({ suiteqlCap: 3 });
    const { pages, lines } = await syncAllActuals(erp, query());
    expect(pages.length).toBeGreaterThan(2);
    const ids = lines.map((l) => `${l.documentId}/${l.lineNo}`);
    expect(new Set(ids).size).toBe(7);
    expect(ids).toHaveLength(7);
  });

  test('open purchase order lines: the quantity not yet billed at its rate; billed or closed orders are not open', async () => {
    await start();
    const open = await erp.fetchOpenCommitments(query());
    expect(open.map((o) => [o.documentId, o.openAmount.amount, o.date, o.dimensions])).toEqual([
      ['7001', '6000.00', `${YEAR - 1}-06-30`, { account: '356', costCenter: '21' }],
      ['7002', '7501.00', `${YEAR - 1}-07-15`, { account: '356', costCenter: '21' }],
    ]);
  });

  test('currency rates: each transaction currency in the base currency, from its effective date', async () => {
    await start();
    const rates = await erp.fetchExchangeRates({ fromDate: `${YEAR - 1}-01-01` });
    expect(rates).toContainEqual({
      rateType: 'spot',
      from: 'CAD',
      to: 'USD',
      validFrom: `${YEAR - 1}-04-01`,
      validTo: null,
      rate: '0.7321',
    });
  });

  test('accounts (income statement ones with their kind) and the subsidiary’s departments as cost centers', async () => {
    await start();
    const records = await erp.fetchMasterData({ company: NETSUITE_SUBSIDIARY });
    expect(records).toContainEqual(
      expect.objectContaining({
        dimension: 'account',
        sourceValue: '354',
        name: 'Salaries and wages',
        kind: 'expense',
      }),
    );
    expect(records.find((r) => 'sourceValue' in r && r.sourceValue === '111')).not.toHaveProperty('kind');
    expect(records).toContainEqual(
      expect.objectContaining({
        dimension: 'costCenter',
        sourceValue: '21',
        name: 'Sensor engineering',
        parent: null,
      }),
    );
  });

  test('a row the adapter cannot read exactly is refused, naming it, never guessed at', async () => {
    await start();
    sim.putTable('transactionaccountingline', [
      { ...netsuiteBooks(YEAR).transactionaccountingline[0]!, amount: '12,50' },
    ]);
    const refused = await failureOf(erp.fetchActualsPage(query()));
    expect(refused.type).toBe(FailureType.ConnectorProtocol);
    expect(refused.message).toContain('amount');
  });
});
