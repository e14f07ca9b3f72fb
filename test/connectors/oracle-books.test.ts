import { listen, type RunningServer } from '../../api/listen';
import { type ErpConnector, type LedgerQuery } from '../../activities/connectors/types';
import { FailureType } from '../../domain/failures';
import { CORPORATE_LEDGER } from '../../db/seed/corporate';
import { seedCorporateBooks } from '../../simulators/scenario/seed';
import { createOracleSimulator, type OracleSimulator } from '../../simulators/oracle/simulator';
import { syncAllActuals } from '../harness/connectors';
import { failureOf } from '../harness/failures';
import { oracleConnectorAt } from '../harness/oracle';

/**
 * Oracle Fusion as an entity's books, the adapter against its simulator over real HTTP: posted journals page by
 * page with a watermark, open purchase-order distributions, daily rates and the chart's value sets.
 */

const YEAR = 2031;
let sim: OracleSimulator;
let server: RunningServer;
let erp: ErpConnector;

const query = (over: Partial<LedgerQuery> = {}): LedgerQuery => ({
  company: CORPORATE_LEDGER.id,
  settings: {
    budgetName: CORPORATE_LEDGER.budgetName,
    ledgerName: CORPORATE_LEDGER.name,
    soldToLegalEntity: CORPORATE_LEDGER.legalEntityName,
  },
  fromDate: `${YEAR}-01-01`,
  toDate: `${YEAR}-12-31`,
  ...over,
});

const syncAll = (q: LedgerQuery) => syncAllActuals(erp, q);

beforeAll(async () => {
  sim = createOracleSimulator();
  server = await listen(sim.app, 0);
  erp = oracleConnectorAt(server.url, { pageSize: 2 });
});
afterAll(() => server.close());
beforeEach(() => {
  sim.faults.clear();
  seedCorporateBooks(sim, { fiscalYear: YEAR, actualsThrough: `${YEAR}-03` });
});

describe('Oracle Fusion books: posted journals (journalBatches → journalHeaders → journalLines)', () => {
  test('every posted line of the ledger, batch pages in posting order, each line its own identity', async () => {
    // Another ledger's journal in a batch of its own, and a credit line in corporate's.
    sim.postJournalBatch({
      BatchName: 'US ONLY',
      PostedDate: `${YEAR}-02-26`,
      journals: [
        {
          JournalName: 'US accrual',
          LedgerName: 'ACME US Primary',
          CurrencyCode: 'USD',
          DefaultEffectiveDate: `${YEAR}-02-20`,
          lines: [{ AccountCombination: '6001-1100', EnteredDr: '999.00' }],
        },
      ],
    });
    sim.postJournalBatch({
      BatchName: 'CORP RECLASS',
      PostedDate: `${YEAR}-03-27`,
      journals: [
        {
          JournalName: 'Reclass audit fees',
          LedgerName: CORPORATE_LEDGER.name,
          CurrencyCode: 'USD',
          DefaultEffectiveDate: `${YEAR}-03-27`,
          lines: [
            { AccountCombination: '6304-1820', EnteredCr: '1250.50', Description: 'out of audit' },
            { AccountCombination: '6304-1810', EnteredDr: '1250.50', Description: 'into treasury' },
          ],
        },
      ],
    });
    const { pages, lines, watermark } = await syncAll(query());
    // Five batches at two a page: three pages, the cursor carrying the offset.
    expect(pages).toHaveLength(3);
    // Jan–Mar: 5 plan lines a month in two journals, and the reclass; nothing of the US ledger.
    expect(lines).toHaveLength(17);
    expect(lines.some((l) => l.dimensions.costCenter === '1100')).toBe(false);
    expect(new Set(lines.map((l) => `${l.documentId}#${l.lineNo}`)).size).toBe(17);
    expect(watermark).toBe(`${YEAR}-03-27`);
    const reclass = lines.filter(
      (l) => l.description?.startsWith('out of') || l.description?.startsWith('into'),
    );
    expect(reclass.map((l) => [l.dimensions, l.amount, l.postingDate, l.revision])).toEqual([
      [{ account: '6304', costCenter: '1820' }, { amount: '-1250.50', currency: 'USD' }, `${YEAR}-03-27`, 0],
      [{ account: '6304', costCenter: '1810' }, { amount: '1250.50', currency: 'USD' }, `${YEAR}-03-27`, 0],
    ]);
    const january = lines.find((l) => l.postingDate === `${YEAR}-01-20` && l.dimensions.account === '6001');
    expect(january).toMatchObject({
      dimensions: { account: '6001', costCenter: '1810' },
      amount: { amount: '87300.00', currency: 'USD' },
    });
  });

  test('the next sync reads from the watermark: only the last day again, and what was posted since', async () => {
    const first = await syncAll(query());
    sim.postJournalBatch({
      BatchName: 'CORP APRIL',
      PostedDate: `${YEAR}-04-25`,
      journals: [
        {
          JournalName: 'April travel',
          LedgerName: CORPORATE_LEDGER.name,
          CurrencyCode: 'USD',
          DefaultEffectiveDate: `${YEAR}-04-20`,
          lines: [{ AccountCombination: '6102-1820', EnteredDr: '4100.00' }],
        },
      ],
    });
    const next = await syncAll(query({ watermark: first.watermark }));
    const seen = new Set(first.lines.map((l) => `${l.documentId}#${l.lineNo}`));
    const fresh = next.lines.filter((l) => !seen.has(`${l.documentId}#${l.lineNo}`));
    expect(fresh.map((l) => l.amount.amount)).toEqual(['4100.00']);
    expect(next.watermark).toBe(`${YEAR}-04-25`);
    // The watermark's own day is read again (Oracle's posted date has no time): the same identities.
    expect(next.lines.length - fresh.length).toBeLessThanOrEqual(first.lines.length);
  });

  test("a journal outside the fiscal year's window belongs to that year's sync", async () => {
    const { lines } = await syncAll(query({ fromDate: `${YEAR}-02-01`, toDate: `${YEAR}-02-28` }));
    expect(new Set(lines.map((l) => l.postingDate))).toEqual(new Set([`${YEAR}-02-20`]));
  });

  test('a route without the ledger name is refused, naming the setting; throttling is retried after Retry-After', async () => {
    const refused = await failureOf(erp.fetchActualsPage(query({ settings: {} })));
    expect(refused.type).toBe(FailureType.ValidationFailed);
    expect(refused.message).toContain('ledgerName');
    sim.faults.inject({ kind: 'status', status: 429, retryAfterSeconds: 3, path: 'journalHeaders' });
    const throttled = await failureOf(erp.fetchActualsPage(query()));
    expect(throttled.nonRetryable).toBe(false);
    expect(throttled.nextRetryDelay).toBe(3000);
  });
});

describe('Oracle Fusion books: open purchase orders (purchaseOrders → lines → schedules → distributions)', () => {
  test("each open distribution of the entity's orders at what is not yet invoiced, on its budget date", async () => {
    const open = await erp.fetchOpenCommitments(query());
    expect(open).toEqual([
      {
        documentId: `CORP-${YEAR}-0101/1/1`,
        lineNo: 1,
        revision: 1,
        dimensions: { account: '6304', costCenter: '1820' },
        date: `${YEAR}-04-15`,
        openAmount: { amount: '30000.00', currency: 'USD' },
      },
      {
        documentId: `CORP-${YEAR}-0102/1/1`,
        lineNo: 1,
        revision: 0,
        dimensions: { account: '6304', costCenter: '1810' },
        date: `${YEAR}-05-01`,
        openAmount: { amount: '18000.00', currency: 'USD' },
      },
    ]);
  });

  test('a fully invoiced distribution and a closed order are no longer open', async () => {
    const [audit, treasury] = (await import('../../simulators/scenario/corporate')).corporatePurchaseOrders(
      YEAR,
    );
    sim.putPurchaseOrders([
      {
        ...audit!,
        Revision: 2,
        lines: [
          {
            LineNumber: 1,
            schedules: [
              {
                ScheduleNumber: 1,
                distributions: [
                  {
                    ...audit!.lines[0]!.schedules[0]!.distributions[0]!,
                    AmountBilled: '60000.00',
                  },
                ],
              },
            ],
          },
        ],
      },
      { ...treasury!, StatusCode: 'CLOSED' },
    ]);
    expect(await erp.fetchOpenCommitments(query())).toEqual([]);
    const refused = await failureOf(erp.fetchOpenCommitments(query({ settings: { ledgerName: 'x' } })));
    expect(refused.message).toContain('soldToLegalEntity');
  });
});

describe('Oracle Fusion books: rates and the chart', () => {
  test('daily rates of the mapped conversion types, each valid on its day', async () => {
    sim.putRates([
      {
        FromCurrency: 'EUR',
        ToCurrency: 'USD',
        UserConversionType: 'User',
        ConversionDate: `${YEAR}-01-02`,
        ConversionRate: '9.9',
      },
    ]);
    const rates = await erp.fetchExchangeRates({ fromDate: `${YEAR}-01-02` });
    expect(rates).toEqual(
      expect.arrayContaining([
        {
          rateType: 'average',
          from: 'EUR',
          to: 'USD',
          validFrom: `${YEAR}-01-02`,
          validTo: `${YEAR}-01-03`,
          rate: '1.085',
        },
      ]),
    );
    // Two pairs on two days from the 2nd; the unmapped 'User' type and the 1st are not read.
    expect(rates).toHaveLength(4);
  });

  test('the account and cost center values: summaries left out, kinds and end dates read', async () => {
    const records = await erp.fetchMasterData({ company: CORPORATE_LEDGER.id });
    expect(records.some((r) => 'sourceValue' in r && r.sourceValue === '6000')).toBe(false);
    expect(records).toEqual(
      expect.arrayContaining([
        {
          dimension: 'account',
          sourceValue: '6999',
          name: 'Legacy consulting fees',
          kind: 'expense',
          suspended: false,
          activeFrom: null,
          activeTo: '2026-06-30',
        },
        {
          dimension: 'costCenter',
          sourceValue: '1810',
          name: 'Group treasury',
          suspended: false,
          activeFrom: null,
          activeTo: null,
        },
      ]),
    );
    sim.putValueSet('ACME_COST_CENTER', [{ Value: '1830', EnabledFlag: 'N' }]);
    const again = await erp.fetchMasterData({ company: CORPORATE_LEDGER.id });
    expect(again.filter((r) => 'dimension' in r && r.dimension === 'costCenter')).toEqual([
      {
        dimension: 'costCenter',
        sourceValue: '1830',
        name: '1830',
        suspended: true,
        activeFrom: null,
        activeTo: null,
      },
    ]);
  });
});
