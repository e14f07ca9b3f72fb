import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createD365Connector } from '../../activities/connectors/d365';
import { type BudgetChunkPublication, type ErpConnector } from '../../activities/connectors/types';
import { createD365Simulator, type D365Simulator } from '../../simulators/d365';
import { type RunningServer } from '../../api/listen';
import { D365_TARGET } from '../harness/cycle';
import { failureOf } from '../harness/failures';

/** The Dynamics 365 adapter against its simulator over real HTTP: protocol, idempotency, error classes. */

function chunk(key: string, amounts: string[], account = '60010'): BudgetChunkPublication {
  return {
    idempotencyKey: key,
    correlationId: `corr-${key}`,
    target: D365_TARGET,
    description: 'test',
    lines: amounts.map((amount, i) => ({
      lineNumber: i + 1,
      dimensions: { account, costCenter: '100' },
      period: `2027-0${i + 1}`,
      date: `2027-0${i + 1}-01`,
      amount: { amount, currency: 'USD' },
    })),
  };
}

describe('Dynamics 365 connector', () => {
  let sim: D365Simulator;
  let server: RunningServer;
  let erp: ErpConnector;
  const totals = async () =>
    (await erp.fetchBudgetTotals({ target: D365_TARGET, fromDate: '2027-01-01', toDate: '2027-12-31' }))
      .map((t) => `${t.dimensions.account}/${t.dimensions.costCenter}/${t.date}=${t.amount.amount}`)
      .sort();

  beforeEach(async () => {
    sim = createD365Simulator({ knownMainAccounts: ['60010', '61020'], maxPageSize: 1000 });
    server = await sim.listen(0);
    erp = createD365Connector({
      baseUrl: server.url,
      tokenUrl: `${server.url}/closeloop-dev/oauth2/v2.0/token`,
      clientId: 'closeloop',
      clientSecret: 'dev-secret',
      timeoutMs: 1000,
      pageSize: 2,
    });
  });
  afterEach(async () => {
    await server.close();
  });

  test('posts a chunk once; the same key again posts nothing and says so', async () => {
    const first = await erp.publishBudgetChunk(chunk('k1', ['100.10', '200.20', '0.05']));
    expect(first).toMatchObject({ documentNumber: 'BRE-000001', lineCount: 3, alreadyPosted: false });
    const again = await erp.publishBudgetChunk(chunk('k1', ['100.10', '200.20', '0.05']));
    expect(again).toMatchObject({ documentNumber: 'BRE-000001', alreadyPosted: true });
    expect(sim.budgetEntries()).toHaveLength(1);
    expect(sim.budgetEntries()[0]).toMatchObject({
      Status: 'Completed',
      IntegrationCorrelationId: 'corr-k1',
      DocumentNumber: 'k1',
    });
    expect(await totals()).toEqual([
      '60010/100/2027-01-01=100.10',
      '60010/100/2027-02-01=200.20',
      '60010/100/2027-03-01=0.05',
    ]);
  });

  test('a 503 burst is a retryable failure; retrying lands the chunk exactly once', async () => {
    sim.faults.inject({ kind: 'status', status: 503, times: 3, method: 'POST' });
    for (let attempt = 0; attempt < 3; attempt++) {
      const f = await failureOf(erp.publishBudgetChunk(chunk('k2', ['10.00', '20.00'])));
      expect(f).toMatchObject({ type: 'ConnectorUnavailable', nonRetryable: false });
    }
    await erp.publishBudgetChunk(chunk('k2', ['10.00', '20.00']));
    expect(sim.budgetEntries()).toHaveLength(1);
    expect(sim.budgetTotals()).toEqual({ acus: '30.00' });
  });

  test('a 429 carries Retry-After into the next retry delay', async () => {
    sim.faults.inject({ kind: 'status', status: 429, retryAfterSeconds: 7, times: 1 });
    const f = await failureOf(erp.publishBudgetChunk(chunk('k3', ['1.00'])));
    expect(f).toMatchObject({ type: 'ConnectorUnavailable', nonRetryable: false, nextRetryDelay: 7000 });
  });

  test('a response slower than the timeout is a retryable failure', async () => {
    sim.faults.inject({
      kind: 'latency',
      latencyMs: 1500,
      times: 1,
      method: 'GET',
      path: 'BudgetRegisterEntryHeaders',
    });
    const f = await failureOf(erp.publishBudgetChunk(chunk('slow', ['1.00'])));
    expect(f).toMatchObject({ type: 'ConnectorUnavailable', nonRetryable: false });
    expect(f.message).toMatch(/timed out after 1000 ms/);
    expect(sim.faults.fired.latency).toBe(1);
  });

  test('an answer lost after commit does not post twice on retry', async () => {
    sim.faults.inject({
      kind: 'drop-after-commit',
      times: 1,
      method: 'POST',
      path: 'BudgetRegisterEntryLines',
    });
    const f = await failureOf(erp.publishBudgetChunk(chunk('k4', ['5.00', '6.00'])));
    expect(f.type).toBe('ConnectorUnavailable');
    await erp.publishBudgetChunk(chunk('k4', ['5.00', '6.00']));
    expect(sim.budgetEntries()[0]!.lines).toHaveLength(2);
    expect(sim.budgetTotals()).toEqual({ acus: '11.00' });
  });

  test('a 400 is non-retryable and carries the OData message', async () => {
    const f = await failureOf(erp.publishBudgetChunk(chunk('k5', ['1.00'], '65060')));
    expect(f).toMatchObject({ type: 'ConnectorRejected', nonRetryable: true });
    expect(f.message).toMatch(/Main account 65060 does not exist/);
  });

  test('the reversal nets the chunk to zero, and is itself idempotent', async () => {
    const c = chunk('k6', ['123.45', '0.55']);
    await erp.publishBudgetChunk(c);
    const reversal = { ...c, idempotencyKey: 'k6:reversal', originalIdempotencyKey: 'k6' };
    await erp.reverseBudgetChunk(reversal);
    expect(await erp.reverseBudgetChunk(reversal)).toMatchObject({ alreadyPosted: true });
    expect(sim.budgetTotals()).toEqual({ acus: '0.00' });
    expect(sim.budgetEntries()).toHaveLength(2);
  });

  test('a wrong client secret is a non-retryable ConnectorUnauthorized; an expired token is renewed', async () => {
    await erp.publishBudgetChunk(chunk('k7', ['1.00']));
    sim.expireTokens();
    expect(await erp.publishBudgetChunk(chunk('k7', ['1.00']))).toMatchObject({ alreadyPosted: true });
    const bad = createD365Connector({
      baseUrl: server.url,
      tokenUrl: `${server.url}/closeloop-dev/oauth2/v2.0/token`,
      clientId: 'closeloop',
      clientSecret: 'wrong',
      timeoutMs: 1000,
      pageSize: 10,
    });
    expect(await failureOf(bad.publishBudgetChunk(chunk('k8', ['1.00'])))).toMatchObject({
      type: 'ConnectorUnauthorized',
      nonRetryable: true,
    });
  });

  test('actuals are read page by page after the watermark; a duplicate delivery is passed through for the store to drop', async () => {
    sim.seedLedgerEntries(
      ['1.00', '2.00', '3.00', '4.00', '5.00'].map((amount, i) => ({
        dataAreaId: 'acus',
        JournalNumber: `GJ-${i}`,
        LineNumber: 1,
        AccountingDate: `2027-01-1${i}`,
        LedgerAccount: '60010-100',
        AccountingCurrencyAmount: amount,
        TransactionCurrencyCode: 'USD',
      })),
    );
    const query = { company: 'acus', fromDate: '2027-01-01', toDate: '2027-12-31' };
    const readAll = async (watermark?: string) => {
      const docs: string[] = [];
      let cursor: string | undefined;
      let mark = watermark ?? '';
      let pages = 0;
      do {
        const page = await erp.fetchActualsPage({ ...query, watermark }, cursor);
        docs.push(
          ...page.lines.map(
            (l) => `${l.documentId}:${l.amount.amount}:${l.dimensions.account}/${l.dimensions.costCenter}`,
          ),
        );
        cursor = page.cursor;
        mark = page.watermark;
        pages++;
      } while (cursor);
      return { docs, mark, pages };
    };
    const all = await readAll();
    expect(all.pages).toBe(3);
    expect(all.docs).toEqual([
      'GJ-0:1.00:60010/100',
      'GJ-1:2.00:60010/100',
      'GJ-2:3.00:60010/100',
      'GJ-3:4.00:60010/100',
      'GJ-4:5.00:60010/100',
    ]);
    expect(await readAll(all.mark)).toEqual({ docs: [], mark: all.mark, pages: 1 });

    sim.seedLedgerEntries([
      {
        dataAreaId: 'acus',
        JournalNumber: 'GJ-9',
        LineNumber: 1,
        AccountingDate: '2027-02-01',
        LedgerAccount: '61020-200',
        AccountingCurrencyAmount: '9.99',
        TransactionCurrencyCode: 'USD',
      },
    ]);
    sim.faults.inject({ kind: 'duplicate', times: 1, path: 'GeneralJournalAccountEntries' });
    const more = await readAll(all.mark);
    expect(more.docs).toEqual(['GJ-9:9.99:61020/200', 'GJ-9:9.99:61020/200']);
  });

  test('a ledger line keeps the amount that goes with its currency code: the transaction amount', async () => {
    sim.seedLedgerEntries([
      {
        dataAreaId: 'acus',
        JournalNumber: 'GJ-FX',
        LineNumber: 1,
        AccountingDate: '2027-02-10',
        LedgerAccount: '61020-300',
        AccountingCurrencyAmount: '110.00',
        TransactionCurrencyAmount: '100.00',
        TransactionCurrencyCode: 'EUR',
      },
    ]);
    const page = await erp.fetchActualsPage({
      company: 'acus',
      fromDate: '2027-01-01',
      toDate: '2027-12-31',
    });
    expect(page.lines.map((l) => l.amount)).toEqual([{ amount: '100.00', currency: 'EUR' }]);
  });

  test('open purchase-order lines are read across pages, closed ones left out', async () => {
    sim.seedPurchaseOrderLines(
      [1, 2, 3].map((n) => ({
        dataAreaId: 'acus',
        PurchaseOrderNumber: `PO-${n}`,
        LineNumber: 1,
        RequestedDeliveryDate: '2027-04-01',
        LedgerDimensionDisplayValue: '63040-100',
        RemainingPurchaseAmount: `${n}000.00`,
        CurrencyCode: 'USD',
        PurchaseOrderLineStatus: n === 3 ? 'Received' : 'Backorder',
        LineVersion: n,
      })),
    );
    const open = await erp.fetchOpenCommitments({
      company: 'acus',
      fromDate: '2027-01-01',
      toDate: '2027-12-31',
    });
    expect(open.map((o) => `${o.documentId}:${o.openAmount.amount}:r${o.revision}`)).toEqual([
      'PO-1:1000.00:r1',
      'PO-2:2000.00:r2',
    ]);
  });
});

describe('Dynamics 365 reversal of an original the ERP no longer holds', () => {
  test('posts nothing and says the original is missing', async () => {
    const sim = createD365Simulator();
    const server = await sim.listen(0);
    try {
      const erp = createD365Connector({
        baseUrl: server.url,
        tokenUrl: `${server.url}/closeloop-dev/oauth2/v2.0/token`,
        clientId: 'closeloop',
        clientSecret: 'dev-secret',
        timeoutMs: 1000,
        pageSize: 10,
      });
      const c = chunk('gone', ['10.00']);
      const result = await erp.reverseBudgetChunk({
        ...c,
        idempotencyKey: 'gone:reversal',
        originalIdempotencyKey: 'gone',
      });
      expect(result).toMatchObject({ originalMissing: true, lineCount: 0 });
      expect(sim.budgetEntries()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('Dynamics 365 simulator state file', () => {
  test('a restarted simulator remembers postings, and seeding the same ledger twice adds nothing', async () => {
    const stateFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'd365-state-')), 'd365.json');
    const entry = {
      dataAreaId: 'acus',
      JournalNumber: 'GJ-1',
      LineNumber: 1,
      AccountingDate: '2027-01-05',
      LedgerAccount: '60010-100',
      AccountingCurrencyAmount: '10.00',
      TransactionCurrencyCode: 'USD',
    };
    const first = createD365Simulator({ stateFile });
    const server = await first.listen(0);
    try {
      const erp = createD365Connector({
        baseUrl: server.url,
        tokenUrl: `${server.url}/closeloop-dev/oauth2/v2.0/token`,
        clientId: 'closeloop',
        clientSecret: 'dev-secret',
        timeoutMs: 1000,
        pageSize: 10,
      });
      await erp.publishBudgetChunk(chunk('persisted', ['42.00']));
      first.seedLedgerEntries([entry]);
    } finally {
      await server.close();
    }
    const second = createD365Simulator({ stateFile });
    second.seedLedgerEntries([entry]);
    expect(second.budgetTotals()).toEqual({ acus: '42.00' });
    const again = await second.listen(0);
    try {
      const erp = createD365Connector({
        baseUrl: again.url,
        tokenUrl: `${again.url}/closeloop-dev/oauth2/v2.0/token`,
        clientId: 'closeloop',
        clientSecret: 'dev-secret',
        timeoutMs: 1000,
        pageSize: 10,
      });
      expect(await erp.publishBudgetChunk(chunk('persisted', ['42.00']))).toMatchObject({
        alreadyPosted: true,
      });
      const page = await erp.fetchActualsPage({
        company: 'acus',
        fromDate: '2027-01-01',
        toDate: '2027-12-31',
      });
      expect(page.lines).toHaveLength(1);
    } finally {
      await again.close();
    }
  });
});
