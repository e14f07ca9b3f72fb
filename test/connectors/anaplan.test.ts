import { type PlanningConnector } from '../../activities/connectors/types';
import { createAnaplanSimulator, type AnaplanSimulator } from '../../simulators/anaplan';
import { type RunningServer } from '../../api/listen';
import { anaplanConnectorFor } from '../harness/connectors';
import { failureOf } from '../harness/failures';

/** The Anaplan adapter against its simulator over real HTTP: tokens, tasks, chunked files, imports. */

const ref = { legalEntity: 'ACME-US', fiscalYear: 2027, scenario: 'BUDGET' as const, version: 4 };
const forecastOf = (amounts: string[]) => ({
  idempotencyKey: 'ACME-US:FY2027:BUDGET:v4:forecast@2027-03',
  correlationId: 'c',
  legalEntity: 'ACME-US',
  fiscalYear: 2027,
  versionName: 'FC FY2027 from v4 @2027-03',
  rows: amounts.map((amount, i) => ({
    account: ['600100', '610200'][i]!,
    costCenter: 'CC-100',
    period: '2027-04',
    amount,
    currency: 'USD',
  })),
});

describe('Anaplan connector', () => {
  let sim: AnaplanSimulator;
  let server: RunningServer;
  let planning: PlanningConnector;
  const connector = (password = 'dev-password') =>
    anaplanConnectorFor(server.url, { password, uploadChunkBytes: 100 });

  beforeEach(async () => {
    sim = createAnaplanSimulator({ taskPolls: 2, chunkSizeBytes: 37 });
    server = await sim.listen(0);
    planning = connector();
  });
  afterEach(async () => {
    await server.close();
  });

  test('a version exported in many small chunks is reassembled exactly, odd text passed through verbatim', async () => {
    const rows = [
      {
        dimensions: { account: '600100', costCenter: 'CC-100', productLine: '' },
        period: '2027-01',
        amount: '85000.00',
        currency: 'USD',
      },
      {
        // A list more than the others (the module's "Product Line"): a column of its own, blank elsewhere.
        dimensions: { account: '610200', costCenter: 'CC "North", East', productLine: 'PL-PUMPS' },
        period: '2027-02',
        amount: '1,250.00',
        currency: 'USD',
      },
      {
        dimensions: { account: '620300', costCenter: 'CC-200', productLine: '' },
        period: '2027-03',
        amount: 'abc',
        currency: 'usd',
      },
    ];
    sim.putBudgetVersion({ ...ref, rows });
    expect(await planning.fetchBudgetVersion(ref)).toEqual(rows);
  });

  test('a version that was never published for integration is a non-retryable NotFound', async () => {
    const f = await failureOf(planning.fetchBudgetVersion({ ...ref, version: 99 }));
    expect(f).toMatchObject({ type: 'NotFound', nonRetryable: true });
    expect(f.message).toMatch(/closeloop_budget_ACME-US_FY2027_BUDGET_v99/);
  });

  test('a 503 on a task poll is retryable and carries Retry-After', async () => {
    sim.putBudgetVersion({ ...ref, rows: [] });
    sim.faults.inject({
      kind: 'status',
      status: 503,
      retryAfterSeconds: 3,
      times: 1,
      method: 'GET',
      path: '/tasks/',
    });
    const f = await failureOf(planning.fetchBudgetVersion(ref));
    expect(f).toMatchObject({ type: 'ConnectorUnavailable', nonRetryable: false, nextRetryDelay: 3000 });
  });

  test('a busy or locked model (409, 423) is retryable, as Anaplan advises waiting for it', async () => {
    sim.putBudgetVersion({ ...ref, rows: [] });
    for (const status of [409, 423]) {
      sim.faults.inject({ kind: 'status', status, times: 1, method: 'POST', path: '/tasks' });
      const f = await failureOf(planning.fetchBudgetVersion(ref));
      expect(f).toMatchObject({ type: 'ConnectorUnavailable', nonRetryable: false });
    }
    expect(await planning.fetchBudgetVersion(ref)).toEqual([]);
  });

  test('a wrong password is non-retryable; an expired token is renewed', async () => {
    sim.putBudgetVersion({ ...ref, rows: [] });
    await planning.fetchBudgetVersion(ref);
    sim.expireTokens();
    expect(await planning.fetchBudgetVersion(ref)).toEqual([]);
    expect(await failureOf(connector('nope').fetchBudgetVersion(ref))).toMatchObject({
      type: 'ConnectorUnauthorized',
      nonRetryable: true,
    });
  });

  test('a forecast import uploads in chunks, stores its rows, and repeating it changes nothing', async () => {
    const forecast = forecastOf(['85000.00', '12000.00']);
    const clean = {
      idempotencyKey: forecast.idempotencyKey,
      rowsImported: 2,
      rowsIgnored: 0,
      rowsFailed: 0,
      issues: [],
    };
    expect(await planning.publishForecast(forecast)).toEqual(clean);
    expect(await planning.publishForecast(forecast)).toEqual(clean);
    const changed = { ...forecast, rows: [forecast.rows[0]!, { ...forecast.rows[1]!, amount: '12500.00' }] };
    await planning.publishForecast(changed);
    const [stored] = sim.forecasts();
    expect(stored!.versionName).toBe(forecast.versionName);
    expect(stored!.rows.map((r) => `${r.account}:${r.amount}`)).toEqual([
      '600100:85000.00',
      '610200:12500.00',
    ]);
  });

  test('a forecast given page by page is uploaded as its pages come, its lines numbered across them', async () => {
    const forecast = forecastOf([]);
    const rows = ['1.00', '2.00', 'three', '4.00'].map((amount, i) => ({
      account: '600100',
      costCenter: 'CC-100',
      period: `2027-0${i + 4}`,
      amount,
      currency: 'USD',
    }));
    async function* pages() {
      // Pages of uneven size, each shorter than an upload chunk's 100 bytes or longer: chunks split anywhere.
      yield rows.slice(0, 1);
      yield rows.slice(1, 4);
    }
    const result = await planning.publishForecast({ ...forecast, rows: pages() });
    expect(result).toMatchObject({ rowsImported: 3, rowsFailed: 1 });
    expect(result.issues.map((i) => i.line)).toEqual([4]);
    const [stored] = sim.forecasts();
    expect(stored!.rows.map((r) => r.amount)).toEqual(['1.00', '2.00', '4.00']);
  });

  test('rows the import refused or ignored come back from the failure dump, each with its line and reason', async () => {
    const forecast = forecastOf(['1.00', 'twelve']);
    const result = await planning.publishForecast(forecast);
    expect(result).toMatchObject({ rowsImported: 1, rowsFailed: 1, rowsIgnored: 0 });
    expect(result.issues).toEqual([
      {
        line: 3,
        severity: 'error',
        message: 'Invalid number: twelve',
        row: expect.objectContaining({ Account: '610200', Amount: 'twelve' }),
      },
    ]);
  });

  test('the model API answers with Anaplan error bodies; a model the user cannot see is a 404', async () => {
    const elsewhere = anaplanConnectorFor(server.url, { modelId: 'NOTMINE' });
    const f = await failureOf(elsewhere.fetchBudgetVersion(ref));
    expect(f).toMatchObject({ type: 'ConnectorRejected', nonRetryable: true });
    expect(f.message).toMatch(/answered 404: Not Found/);
  });

  test('a token near its expiry is refreshed (same value, later expiry), not issued anew', async () => {
    // A 200-second token is always inside the five-minute refresh window: every call refreshes it first.
    const short = createAnaplanSimulator({ tokenTtlSeconds: 200, taskPolls: 0 });
    const s = await short.listen(0);
    try {
      const c = anaplanConnectorFor(s.url);
      short.putBudgetVersion({ ...ref, rows: [] });
      await c.fetchBudgetVersion(ref);
      expect(short.authCalls.authenticate).toBe(1);
      expect(short.authCalls.refresh).toBeGreaterThan(2);
    } finally {
      await s.close();
    }
  });
});
