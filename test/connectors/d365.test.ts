import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createD365Connector, type D365ConnectorConfig } from '../../activities/connectors/d365';
import { type BudgetChunkPublication, type ErpConnector } from '../../activities/connectors/types';
import { createD365Simulator, type D365Simulator, type D365SimulatorOptions } from '../../simulators/d365';
import { type RunningServer } from '../../api/listen';
import { D365_TARGET } from '../harness/cycle';
import { failureOf } from '../harness/failures';

/** The Dynamics 365 adapter against its simulator over real HTTP: protocol, idempotency, error classes. */

function chunk(key: string, amounts: string[], account = '60010'): BudgetChunkPublication {
  return {
    idempotencyKey: key,
    correlationId: `corr-${key}`,
    target: D365_TARGET,
    purpose: 'original',
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

const connectorFor = (url: string, over: Partial<D365ConnectorConfig> = {}) =>
  createD365Connector({
    baseUrl: url,
    tokenUrl: `${url}/closeloop-dev/oauth2/v2.0/token`,
    clientId: 'closeloop',
    clientSecret: 'dev-secret',
    timeoutMs: 1000,
    pageSize: 2,
    completionWaitMs: 500,
    completionPollMs: 10,
    ...over,
  });

/** A raw call to the simulator's data service, as any OData client would make it. */
async function raw(server: RunningServer, method: string, url: string, body?: unknown, ieee754 = true) {
  const token = (await (
    await fetch(`${server.url}/closeloop-dev/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'closeloop',
        client_secret: 'dev-secret',
      }),
    })
  ).json()) as { access_token: string };
  const type = `application/json${ieee754 ? ';IEEE754Compatible=true' : ''}`;
  const res = await fetch(`${server.url}/data/${url}`, {
    method,
    headers: { Authorization: `Bearer ${token.access_token}`, Accept: type, 'Content-Type': type },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { innererror: { message: string } } },
  };
}

function withSimulator(
  options: D365SimulatorOptions,
  body: (ctx: { sim: D365Simulator; server: RunningServer; erp: ErpConnector }) => Promise<void>,
) {
  return async () => {
    const sim = createD365Simulator(options);
    const server = await sim.listen(0);
    try {
      await body({ sim, server, erp: connectorFor(server.url) });
    } finally {
      await server.close();
    }
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
    // "Update budget balances" runs as soon as an entry is quiet, like a batch job recurring every moment.
    sim = createD365Simulator({ knownMainAccounts: ['60010', '61020'], budgetBalanceUpdateMs: 0 });
    server = await sim.listen(0);
    erp = connectorFor(server.url);
  });
  afterEach(async () => {
    await server.close();
  });

  test('posts a chunk as one budget register entry, completed by Update budget balances; the same key again posts nothing', async () => {
    const first = await erp.publishBudgetChunk(chunk('k1', ['100.10', '200.20', '0.05']));
    expect(first).toMatchObject({ documentNumber: 'BRE-000001', lineCount: 3, alreadyPosted: false });
    const again = await erp.publishBudgetChunk(chunk('k1', ['100.10', '200.20', '0.05']));
    expect(again).toMatchObject({ documentNumber: 'BRE-000001', alreadyPosted: true });
    const entries = sim.budgetEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      dataAreaId: 'acus',
      LegalEntityId: 'acus',
      BudgetModelId: 'FY-BUDGET',
      BudgetCode: 'Original',
      Status: 'Completed',
      WorkflowStatus: 'None',
      ReasonComment: 'closeloop k1',
      DefaultDate: '2027-01-01T12:00:00Z',
    });
    expect(entries[0]!.lines[1]).toMatchObject({
      LineNumber: '2',
      EntryDate: '2027-02-01T12:00:00Z',
      DimensionDisplayValue: '60010-100',
      TransactionCurrencyAmount: '200.20',
      CurrencyCode: 'USD',
      AmountType: 'Expense',
      BudgetCheckResult: 'NoCheck',
    });
    expect(await totals()).toEqual([
      '60010/100/2027-01-01=100.10',
      '60010/100/2027-02-01=200.20',
      '60010/100/2027-03-01=0.05',
    ]);
  });

  test('a key too long for ReasonComment goes as its digest, and is found again', async () => {
    const key = `ACME-US-PROFESSIONAL-SERVICES:FY2027:BUDGET:v12:d365:c140:r3:reversal`;
    await erp.publishBudgetChunk(chunk(key, ['1.00']));
    expect(await erp.publishBudgetChunk(chunk(key, ['1.00']))).toMatchObject({ alreadyPosted: true });
    const [entry] = sim.budgetEntries();
    expect(entry!.ReasonComment).toMatch(/^closeloop #[0-9a-f]{40}$/);
    expect(sim.budgetEntries()).toHaveLength(1);
  });

  test('a line with a dimension the display value format has no segment for is refused, never dropped', async () => {
    const withDepartment = chunk('k-dept', ['10.00']);
    withDepartment.lines[0]!.dimensions = { ...withDepartment.lines[0]!.dimensions, department: 'D10' };
    const before = sim.budgetEntries().length;
    const f = await failureOf(erp.publishBudgetChunk(withDepartment));
    expect(f).toMatchObject({ type: 'MappingMissing', nonRetryable: true });
    expect(f.message).toMatch(/no segment for department/);
    expect(sim.budgetEntries()).toHaveLength(before);
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
    expect(f.message).toMatch(/exeeded the limit of 6000/);
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

  test('lines go in one change set: an answer lost after commit does not post twice, a refused line posts none', async () => {
    sim.faults.inject({ kind: 'drop-after-commit', times: 1, method: 'POST', path: '$batch' });
    const f = await failureOf(erp.publishBudgetChunk(chunk('k4', ['5.00', '6.00'])));
    expect(f.type).toBe('ConnectorUnavailable');
    await erp.publishBudgetChunk(chunk('k4', ['5.00', '6.00']));
    expect(sim.budgetEntries()[0]!.lines).toHaveLength(2);
    expect(sim.budgetTotals()).toEqual({ acus: '11.00' });

    // Line 2 is on an account the ERP refuses: line 1 is not left behind on its own.
    const mixed = chunk('k5', ['1.00', '2.00']);
    mixed.lines[1]!.dimensions.account = '65060';
    const refused = await failureOf(erp.publishBudgetChunk(mixed));
    expect(refused).toMatchObject({ type: 'ConnectorRejected', nonRetryable: true });
    // The reason is in innererror; the top-level message of the real service is "An error has occurred.".
    expect(refused.message).toMatch(/Main account 65060 does not exist/);
    const entry = sim.budgetEntries().find((e) => e.ReasonComment === 'closeloop k5')!;
    expect(entry).toMatchObject({ Status: 'Draft', lines: [] });
  });

  test('two attempts at the same chunk at once create one entry when they post under `exclusive`', async () => {
    // D365 does not refuse a second header with the same ReasonComment; the caller's lock is what prevents it.
    const locks = new Map<string, Promise<unknown>>();
    const exclusive = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
      const run = (locks.get(key) ?? Promise.resolve()).then(fn, fn);
      locks.set(
        key,
        run.catch(() => undefined),
      );
      return run;
    };
    const c = chunk('twice', ['7.00', '8.00']);
    const results = await Promise.all([
      erp.publishBudgetChunk(c, { exclusive }),
      erp.publishBudgetChunk(c, { exclusive }),
    ]);
    expect(new Set(results.map((r) => r.documentNumber)).size).toBe(1);
    expect(sim.budgetEntries()).toHaveLength(1);
    expect(sim.budgetTotals()).toEqual({ acus: '15.00' });
  });

  test('the reversal is a new entry that nets the chunk to zero, and is itself idempotent', async () => {
    const c = chunk('k6', ['123.45', '0.55']);
    await erp.publishBudgetChunk(c);
    const reversal = { ...c, idempotencyKey: 'k6:reversal', originalIdempotencyKey: 'k6' };
    await erp.reverseBudgetChunk(reversal);
    expect(await erp.reverseBudgetChunk(reversal)).toMatchObject({ alreadyPosted: true });
    expect(sim.budgetTotals()).toEqual({ acus: '0.00' });
    expect(sim.budgetEntries()).toHaveLength(2);
  });

  test('a completed entry cannot be changed', async () => {
    const posted = await erp.publishBudgetChunk(chunk('k7', ['1.00']));
    const line = await raw(server, 'POST', 'BudgetRegisterEntryLines', {
      dataAreaId: 'acus',
      LegalEntityId: 'acus',
      EntryNumber: posted.documentNumber,
      LineNumber: '9',
      EntryDate: '2027-01-01T12:00:00Z',
      DimensionDisplayValue: '60010-100',
      TransactionCurrencyAmount: '5.00',
      CurrencyCode: 'USD',
    });
    expect(line.status).toBe(400);
    expect(line.body.error!.innererror.message).toMatch(/completed and cannot be changed/);
  });

  test('a wrong client secret is a non-retryable ConnectorUnauthorized; an expired token is renewed', async () => {
    await erp.publishBudgetChunk(chunk('k8', ['1.00']));
    sim.expireTokens();
    expect(await erp.publishBudgetChunk(chunk('k8', ['1.00']))).toMatchObject({ alreadyPosted: true });
    const bad = connectorFor(server.url, { clientSecret: 'wrong' });
    const f = await failureOf(bad.publishBudgetChunk(chunk('k9', ['1.00'])));
    expect(f).toMatchObject({ type: 'ConnectorUnauthorized', nonRetryable: true });
    expect(f.message).toMatch(/AADSTS7000215/);
  });

  test('actuals are read page by page after the watermark; a duplicate delivery is passed through for the store to drop', async () => {
    sim.seedLedgerEntries(
      ['1.00', '2.00', '3.00', '4.00', '5.00'].map((amount, i) => ({
        DataArea: 'acus',
        JournalNumber: `GJ-${i}`,
        Voucher: `V-${i}`,
        AccountingDate: `2027-01-1${i}`,
        LedgerAccount: '60010-100',
        AccountingCurrencyAmount: amount,
        TransactionCurrencyCode: 'USD',
      })),
    );
    // Another company's lines and a tax-layer line are not this company's actuals.
    sim.seedLedgerEntries([
      {
        DataArea: 'acgb',
        JournalNumber: 'GJ-X',
        Voucher: 'V-X',
        AccountingDate: '2027-01-05',
        LedgerAccount: '60010-100',
        AccountingCurrencyAmount: '7.00',
        TransactionCurrencyCode: 'GBP',
      },
      {
        DataArea: 'acus',
        JournalNumber: 'GJ-T',
        Voucher: 'V-T',
        AccountingDate: '2027-01-05',
        LedgerAccount: '60010-100',
        AccountingCurrencyAmount: '8.00',
        TransactionCurrencyCode: 'USD',
        PostingLayer: 'Tax',
      },
    ]);
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
            (l) =>
              `${l.documentId.split('/')[0]}:${l.amount.amount}:${l.dimensions.account}/${l.dimensions.costCenter}`,
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
        DataArea: 'acus',
        JournalNumber: 'GJ-9',
        Voucher: 'V-9',
        AccountingDate: '2027-02-01',
        LedgerAccount: '61020-200',
        AccountingCurrencyAmount: '9.99',
        TransactionCurrencyCode: 'USD',
      },
    ]);
    sim.faults.inject({ kind: 'duplicate', times: 1, path: 'GeneralJournalAccountEntries' });
    const more = await readAll(all.mark);
    expect(more.docs).toEqual(['GJ-9:9.99:61020/200', 'GJ-9:9.99:61020/200']);
    expect(BigInt(more.mark)).toBeGreaterThan(BigInt(all.mark));
  });

  test('a ledger line keeps the amount that goes with its currency code: the transaction amount', async () => {
    sim.seedLedgerEntries([
      {
        DataArea: 'acus',
        JournalNumber: 'GJ-FX',
        Voucher: 'V-FX',
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

  test('open lines of confirmed purchase orders are the commitments, in the currency of their header', async () => {
    const line = (n: number, amount: string, status: 'Backorder' | 'Received' = 'Backorder') => ({
      LineNumber: n,
      RequestedDeliveryDate: '2027-04-01',
      DefaultLedgerDimensionDisplayValue: '63040-100',
      LineAmount: amount,
      PurchaseOrderLineStatus: status,
    });
    sim.seedPurchaseOrders([
      {
        dataAreaId: 'acus',
        PurchaseOrderNumber: 'PO-1',
        CurrencyCode: 'USD',
        lines: [line(1, '1000.00'), line(2, '2000.00'), line(3, '3000.00', 'Received')],
      },
      { dataAreaId: 'acus', PurchaseOrderNumber: 'PO-2', CurrencyCode: 'EUR', lines: [line(1, '400.00')] },
      {
        dataAreaId: 'acus',
        PurchaseOrderNumber: 'PO-3',
        CurrencyCode: 'USD',
        DocumentApprovalStatus: 'Draft',
        lines: [line(1, '900.00')],
      },
    ]);
    const open = await erp.fetchOpenCommitments({
      company: 'acus',
      fromDate: '2027-01-01',
      toDate: '2027-12-31',
    });
    expect(
      open.map((o) => `${o.documentId}/${o.lineNo}:${o.openAmount.amount} ${o.openAmount.currency}`).sort(),
    ).toEqual(['PO-1/1:1000.00 USD', 'PO-1/2:2000.00 USD', 'PO-2/1:400.00 EUR']);
  });
});

describe('Dynamics 365 exchange rates', () => {
  test(
    "rates come with closeloop's rate type; types closeloop does not map and rates ended before the window are not read",
    withSimulator({}, async ({ sim, erp }) => {
      const r = (
        type: string,
        from: string,
        to: string,
        validFrom: string,
        rate: string,
        validTo?: string,
      ) => ({
        ExchangeRateTypeName: type,
        FromCurrencyCode: from,
        ToCurrencyCode: to,
        ValidFrom: validFrom,
        ...(validTo ? { ValidTo: validTo } : {}),
        Rate: rate,
      });
      sim.seedExchangeRates([
        r('Average', 'EUR', 'USD', '2027-01-01', '1.0850'),
        r('Default', 'EUR', 'USD', '2027-01-01', '1.0900', '2027-01-31'),
        r('Budget', 'GBP', 'EUR', '2027-01-01', '1.1700'),
        r('Corporate', 'EUR', 'USD', '2027-01-01', '1.5000'),
        r('Average', 'EUR', 'USD', '2025-01-01', '1.0100', '2025-12-31'),
      ]);
      const rates = await erp.fetchExchangeRates({ fromDate: '2026-06-01' });
      expect(rates.sort((a, b) => a.rateType.localeCompare(b.rateType))).toEqual([
        {
          rateType: 'average',
          from: 'EUR',
          to: 'USD',
          validFrom: '2027-01-01',
          validTo: null,
          rate: '1.0850',
        },
        {
          rateType: 'budget',
          from: 'GBP',
          to: 'EUR',
          validFrom: '2027-01-01',
          validTo: null,
          rate: '1.1700',
        },
        {
          rateType: 'spot',
          from: 'EUR',
          to: 'USD',
          validFrom: '2027-01-01',
          validTo: '2027-01-31',
          rate: '1.0900',
        },
      ]);
    }),
  );
});

describe('Dynamics 365 master data', () => {
  test(
    "main accounts and the company's cost centers come with their dates, suspension and parent in the published hierarchy",
    withSimulator({}, async ({ sim, erp }) => {
      sim.seedMainAccounts([
        { MainAccountId: '60010', Name: 'Salaries and wages', ActiveFrom: '2020-01-01' },
        { MainAccountId: '40010', Name: 'Consulting revenue', MainAccountType: 'Revenue' },
        { MainAccountId: '69990', Name: 'Legacy', ActiveTo: '2026-06-30', IsSuspended: 'Yes' },
        { MainAccountId: '99999', Name: 'Total operating expenses', MainAccountType: 'Total' },
        { ChartOfAccounts: 'Other', MainAccountId: '11111', Name: 'Another chart' },
      ]);
      sim.seedDimensionValues([
        { DimensionValue: '010', Description: 'Client services' },
        { DimensionValue: '100', Description: 'Consulting delivery', LegalEntityId: 'acus' },
        { DimensionValue: '700', Description: 'Another company', LegalEntityId: 'demf' },
        { FinancialDimension: 'Department', DimensionValue: 'D1', Description: 'Not a cost center' },
      ]);
      // Published twice: the move from April is seen before it takes effect.
      sim.publishHierarchyChanges([
        { ChildOrganization: '100', ParentOrganization: '', validFrom: '2020-01-01' },
        { ChildOrganization: '100', ParentOrganization: '010', validFrom: '2027-04-01' },
      ]);
      const records = await erp.fetchMasterData({ company: 'ACUS' });
      expect(records).toEqual([
        {
          dimension: 'account',
          sourceValue: '60010',
          name: 'Salaries and wages',
          kind: 'expense',
          suspended: false,
          activeFrom: '2020-01-01',
          activeTo: null,
        },
        {
          dimension: 'account',
          sourceValue: '40010',
          name: 'Consulting revenue',
          kind: 'revenue',
          suspended: false,
          activeFrom: null,
          activeTo: null,
        },
        {
          dimension: 'account',
          sourceValue: '69990',
          name: 'Legacy',
          kind: 'expense',
          suspended: true,
          activeFrom: null,
          activeTo: '2026-06-30',
        },
        {
          dimension: 'costCenter',
          sourceValue: '010',
          name: 'Client services',
          suspended: false,
          activeFrom: null,
          activeTo: null,
          parent: null,
          parentFrom: null,
        },
        {
          dimension: 'costCenter',
          sourceValue: '100',
          name: 'Consulting delivery',
          suspended: false,
          activeFrom: null,
          activeTo: null,
          parent: '010',
          parentFrom: '2027-04-01',
        },
      ]);
    }),
  );
});

describe('Dynamics 365 completion: waiting for Update budget balances, workflows and budget checks', () => {
  test(
    'an entry still in Draft when the wait ends is a retryable failure; the retry finds it completed',
    withSimulator({ budgetBalanceUpdateMs: null }, async ({ sim, erp }) => {
      const c = chunk('wait', ['10.00']);
      const f = await failureOf(erp.publishBudgetChunk(c));
      expect(f).toMatchObject({ type: 'ConnectorUnavailable', nonRetryable: false });
      expect(f.message).toMatch(/still Draft: awaiting "Update budget balances"/);
      sim.updateBudgetBalances();
      expect(await erp.publishBudgetChunk(c)).toMatchObject({
        documentNumber: 'BRE-000001',
        alreadyPosted: true,
      });
      expect(sim.budgetEntries()).toHaveLength(1);
    }),
  );

  test(
    'an entry on a budget code with a workflow waits for it; a rejection is final',
    withSimulator({ budgetBalanceUpdateMs: 0, workflowBudgetCodes: ['Original'] }, async ({ sim, erp }) => {
      const approved = await failureOf(erp.publishBudgetChunk(chunk('wf1', ['10.00'])));
      expect(approved.message).toMatch(/awaiting its budget workflow/);
      sim.decideWorkflow('BRE-000001', 'Approved');
      expect(await erp.publishBudgetChunk(chunk('wf1', ['10.00']))).toMatchObject({ alreadyPosted: true });

      await failureOf(erp.publishBudgetChunk(chunk('wf2', ['20.00'])));
      sim.decideWorkflow('BRE-000002', 'Rejected');
      const rejected = await failureOf(erp.publishBudgetChunk(chunk('wf2', ['20.00'])));
      expect(rejected).toMatchObject({ type: 'ConnectorRejected', nonRetryable: true });
      expect(rejected.message).toMatch(/rejected in its budget workflow/);
      expect(sim.budgetTotals()).toEqual({ acus: '10.00' });
    }),
  );

  test(
    'under budget control, a cut below what was already spent fails the budget check and is final',
    withSimulator({ budgetBalanceUpdateMs: 0, budgetControl: true }, async ({ sim, erp }) => {
      await erp.publishBudgetChunk(chunk('bc1', ['1000.00']));
      sim.seedLedgerEntries([
        {
          DataArea: 'acus',
          JournalNumber: 'GJ-1',
          Voucher: 'V-1',
          AccountingDate: '2027-01-20',
          LedgerAccount: '60010-100',
          AccountingCurrencyAmount: '800.00',
          TransactionCurrencyCode: 'USD',
        },
      ]);
      const f = await failureOf(erp.publishBudgetChunk(chunk('bc2', ['-300.00'])));
      expect(f).toMatchObject({ type: 'ConnectorRejected', nonRetryable: true });
      expect(f.message).toMatch(/budget check failed on line\(s\) 1 of budget register entry BRE-000002/);
      expect(sim.budgetEntries()[0]!.lines[0]).toMatchObject({ BudgetCheckResult: 'Passed' });
      expect(sim.budgetTotals()).toEqual({ acus: '1000.00' });
    }),
  );
});

describe('Dynamics 365 simulator refuses what the real service refuses', () => {
  test(
    'unknown fields, wrong literal forms, enum operators, missing key parts and non-string decimals',
    withSimulator({}, async ({ server }) => {
      const header = {
        dataAreaId: 'acus',
        LegalEntityId: 'acus',
        BudgetModelId: 'FY-BUDGET',
        BudgetCode: 'Original',
        DefaultDate: '2027-01-01T12:00:00Z',
      };
      const unknown = await raw(server, 'POST', 'BudgetRegisterEntryHeaders', {
        ...header,
        DocumentNumber: 'x',
        Description: 'y',
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error!.innererror.message).toMatch(
        /DocumentNumber: The property 'DocumentNumber' does not exist/,
      );
      const dateOnly = await raw(server, 'POST', 'BudgetRegisterEntryHeaders', {
        ...header,
        DefaultDate: '2027-01-01',
      });
      expect(dateOnly.body.error!.innererror.message).toMatch(/Edm.DateTimeOffset/);
      const created = await raw(server, 'POST', 'BudgetRegisterEntryHeaders', header);
      expect(created.status).toBe(201);
      const entry = String(created.body.EntryNumber);
      const numberLine = await raw(server, 'POST', 'BudgetRegisterEntryLines', {
        dataAreaId: 'acus',
        LegalEntityId: 'acus',
        EntryNumber: entry,
        LineNumber: 1,
        EntryDate: '2027-01-01T12:00:00Z',
        DimensionDisplayValue: '60010-100',
        TransactionCurrencyAmount: 10.1,
        CurrencyCode: 'USD',
      });
      expect(numberLine.body.error!.innererror.message).toMatch(
        /LineNumber: must be a string Edm.Decimal under IEEE754Compatible/,
      );

      const plainEnum = await raw(
        server,
        'GET',
        `BudgetRegisterEntryHeaders?$filter=${encodeURIComponent("Status eq 'Completed'")}`,
      );
      expect(plainEnum.status).toBe(400);
      expect(plainEnum.body.error!.innererror.message).toMatch(/incompatible types/);
      const enumGt = await raw(
        server,
        'GET',
        `BudgetRegisterEntryHeaders?$filter=${encodeURIComponent("Status gt Microsoft.Dynamics.DataEntities.BudgetTransactionStatus'Draft'")}`,
      );
      expect(enumGt.status).toBe(400);
      const qualified = await raw(
        server,
        'GET',
        `BudgetRegisterEntryHeaders?$filter=${encodeURIComponent("Status eq Microsoft.Dynamics.DataEntities.BudgetTransactionStatus'Draft'")}`,
      );
      expect(qualified).toMatchObject({
        status: 200,
        body: { value: [expect.objectContaining({ EntryNumber: entry })] },
      });
      const unknownOption = await raw(server, 'GET', 'BudgetRegisterEntryHeaders?$apply=groupby');
      expect(unknownOption.status).toBe(400);

      const partialKey = await raw(
        server,
        'GET',
        `BudgetRegisterEntryHeaders(dataAreaId='acus',EntryNumber='${entry}')`,
      );
      expect(partialKey.status).toBe(400);
      const fullKey = await raw(
        server,
        'GET',
        `BudgetRegisterEntryHeaders(dataAreaId='acus',LegalEntityId='acus',EntryNumber='${entry}')`,
      );
      expect(fullKey).toMatchObject({ status: 200, body: { EntryNumber: entry, ExpenseBudgetTotal: '0' } });
      // Without IEEE754Compatible, decimals are JSON numbers.
      const numbers = await raw(
        server,
        'GET',
        `BudgetRegisterEntryHeaders(dataAreaId='acus',LegalEntityId='acus',EntryNumber='${entry}')`,
        undefined,
        false,
      );
      expect(numbers.body.ExpenseBudgetTotal).toBe(0);
    }),
  );
});

describe('Dynamics 365 reversal of an original the ERP no longer holds', () => {
  test(
    'posts nothing and says the original is missing',
    withSimulator({}, async ({ sim, erp }) => {
      const c = chunk('gone', ['10.00']);
      const result = await erp.reverseBudgetChunk({
        ...c,
        idempotencyKey: 'gone:reversal',
        originalIdempotencyKey: 'gone',
      });
      expect(result).toMatchObject({ originalMissing: true, lineCount: 0 });
      expect(sim.budgetEntries()).toEqual([]);
    }),
  );
});

describe('Dynamics 365 simulator state file', () => {
  test('a restarted simulator remembers postings, and seeding the same ledger twice adds nothing', async () => {
    const stateFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'd365-state-')), 'd365.json');
    const entry = {
      DataArea: 'acus',
      JournalNumber: 'GJ-1',
      Voucher: 'V-1',
      AccountingDate: '2027-01-05',
      LedgerAccount: '60010-100',
      AccountingCurrencyAmount: '10.00',
      TransactionCurrencyCode: 'USD',
    };
    await withSimulator({ stateFile, budgetBalanceUpdateMs: 0 }, async ({ sim, erp }) => {
      await erp.publishBudgetChunk(chunk('persisted', ['42.00']));
      sim.seedLedgerEntries([entry]);
    })();
    await withSimulator({ stateFile }, async ({ sim, erp }) => {
      sim.seedLedgerEntries([entry]);
      expect(sim.budgetTotals()).toEqual({ acus: '42.00' });
      expect(await erp.publishBudgetChunk(chunk('persisted', ['42.00']))).toMatchObject({
        alreadyPosted: true,
      });
      const page = await erp.fetchActualsPage({
        company: 'acus',
        fromDate: '2027-01-01',
        toDate: '2027-12-31',
      });
      expect(page.lines).toHaveLength(1);
    })();
  });
});
