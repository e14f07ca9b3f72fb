import { listen, type RunningServer } from '../../api/listen';
import { createSapConnector } from '../../activities/connectors/sap/connector';
import { type ErpConnector, type LedgerQuery } from '../../activities/connectors/types';
import { FailureType } from '../../domain/failures';
import { SAP_COMPANY_CODE, sapBooks } from '../../simulators/scenario/europe';
import { createSapSimulator, type SapSimulator } from '../../simulators/sap/simulator';
import { syncAllActuals } from '../harness/connectors';
import { failureOf } from '../harness/failures';

/**
 * SAP S/4HANA as an entity's books, the adapter against its simulator over real HTTP: journal entry items page
 * by page with a creation-date watermark, purchase-order account assignments at their open amount, exchange
 * rates per unit, cost centers and G/L accounts.
 */

const YEAR = 2031;
let sim: SapSimulator;
let server: RunningServer;
let erp: ErpConnector;
const query = (over: Partial<LedgerQuery> = {}): LedgerQuery => ({
  company: SAP_COMPANY_CODE,
  fromDate: `${YEAR}-01-01`,
  toDate: `${YEAR}-12-31`,
  pageSize: 2,
  ...over,
});

const syncAll = (q: LedgerQuery) => syncAllActuals(erp, q);

beforeAll(async () => {
  sim = createSapSimulator({ serverPageSize: 3 });
  server = await listen(sim.app, 0);
  erp = createSapConnector({
    baseUrl: server.url,
    username: 'CLOSELOOP',
    password: 'dev-secret',
    timeoutMs: 2000,
    pageSize: 1000,
    chartOfAccounts: 'YCOA',
    rateTypeNames: { average: 'M', spot: 'B' },
  });
  const books = sapBooks(YEAR);
  sim.postJournalEntries(books.journal);
  sim.putPurchaseOrders(books.purchaseOrders);
  sim.putExchangeRates(books.exchangeRates);
  sim.putCostCenters(books.costCenters);
  sim.putGLAccounts(books.glAccounts);
});
afterAll(() => server.close());
beforeEach(() => sim.faults.clear());

describe('SAP books: journal entry items (A_OperationalAcctgDocItemCube)', () => {
  test("every profit-and-loss item of the company code's window, page by page (__next), each its document's line", async () => {
    const { pages, lines, watermark } = await syncAll(query());
    // Jan–Mar payroll and rent, and February's goods receipt: 7 items; the vendor lines are balance sheet.
    expect(lines).toHaveLength(7);
    expect(pages.length).toBeGreaterThan(2);
    expect(watermark).toBe(`${YEAR}-03-25`);
    expect(lines.find((l) => l.documentId === `1010/${YEAR}/100000002`)).toEqual({
      documentId: `1010/${YEAR}/100000002`,
      lineNo: 1,
      revision: 0,
      dimensions: { account: '64050000', costCenter: '10101620' },
      postingDate: `${YEAR}-01-25`,
      amount: { amount: '10780.00', currency: 'EUR' },
      description: `Rent ${YEAR}-01`,
    });
  });

  test('the next sync reads from the watermark: the same day again, and what was created since', async () => {
    const first = await syncAll(query());
    sim.postJournalEntries([
      {
        CompanyCode: SAP_COMPANY_CODE,
        FiscalYear: String(YEAR),
        AccountingDocument: '100000099',
        AccountingDocumentItem: '001',
        // Posted late into February, created in April: still read.
        PostingDate: `${YEAR}-02-28`,
        AccountingDocumentCreationDate: `${YEAR}-04-02`,
        GLAccount: '61001000',
        CostCenter: '10101610',
        TransactionCurrency: 'EUR',
        AmountInTransactionCurrency: '-1200.00',
      },
    ]);
    const next = await syncAll(query({ watermark: first.watermark }));
    expect(next.lines.map((l) => [l.documentId, l.amount.amount])).toEqual(
      expect.arrayContaining([[`1010/${YEAR}/100000099`, '-1200.00']]),
    );
    expect(
      next.lines.every((l) => l.postingDate >= `${YEAR}-02-28` || l.postingDate === `${YEAR}-03-25`),
    ).toBe(true);
    expect(next.watermark).toBe(`${YEAR}-04-02`);
  });

  test('a 429 is retried after Retry-After; a cursor this adapter did not write is refused', async () => {
    sim.faults.inject({
      kind: 'status',
      status: 429,
      retryAfterSeconds: 2,
      path: 'A_OperationalAcctgDocItemCube',
    });
    const throttled = await failureOf(erp.fetchActualsPage(query()));
    expect(throttled).toMatchObject({ nonRetryable: false, nextRetryDelay: 2000 });
    const odd = await failureOf(erp.fetchActualsPage(query(), Buffer.from('{"x":1}').toString('base64url')));
    expect(odd.type).toBe(FailureType.ConnectorProtocol);
  });
});

describe('SAP books: purchase orders (A_PurchaseOrder → items → account assignments, schedule lines)', () => {
  test('each open assignment at its net amount less what the books already count against its item', async () => {
    const open = await erp.fetchOpenCommitments(query());
    expect(open).toEqual([
      {
        documentId: '4500000010/00010',
        lineNo: 1,
        revision: 0,
        dimensions: { account: '62030000', costCenter: '10101610' },
        date: `${YEAR}-02-01`,
        openAmount: { amount: '6000.00', currency: 'EUR' },
      },
      {
        documentId: '4500000011/00010',
        lineNo: 1,
        revision: 0,
        dimensions: { account: '62030000', costCenter: '10101610' },
        date: `${YEAR}-05-01`,
        openAmount: { amount: '3000.00', currency: 'EUR' },
      },
    ]);
  });
});

describe('SAP books: exchange rates and master data', () => {
  test('rates of the mapped types, per one unit, each until the next', async () => {
    const rates = await erp.fetchExchangeRates({ fromDate: `${YEAR}-01-01` });
    expect(rates).toEqual(
      expect.arrayContaining([
        {
          rateType: 'average',
          from: 'USD',
          to: 'EUR',
          validFrom: `${YEAR}-01-01`,
          validTo: null,
          rate: '0.92000',
        },
        {
          rateType: 'average',
          from: 'JPY',
          to: 'EUR',
          validFrom: `${YEAR}-01-01`,
          validTo: null,
          rate: '0.0062',
        },
      ]),
    );
    expect(rates).toHaveLength(2);
  });

  test('cost centers of the company code and the G/L accounts of the chart, with names, kinds and dates', async () => {
    const records = await erp.fetchMasterData({ company: SAP_COMPANY_CODE });
    expect(records).toEqual(
      expect.arrayContaining([
        {
          dimension: 'account',
          sourceValue: '61001000',
          name: 'Salaries and wages',
          kind: 'expense',
          suspended: false,
          activeFrom: null,
          activeTo: null,
        },
        {
          dimension: 'costCenter',
          sourceValue: '10101610',
          name: 'Berlin engineering',
          suspended: false,
          activeFrom: '2020-01-01',
          activeTo: null,
        },
      ]),
    );
    expect(records).toHaveLength(6);
  });
});
