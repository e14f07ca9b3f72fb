import { type RunningServer } from '../../api/listen';
import { createAdaptiveConnector } from '../../activities/connectors/adaptive/connector';
import { type AdaptiveXmlApi, createAdaptiveXmlApi } from '../../activities/connectors/adaptive/xml-api';
import { FailureType } from '../../domain/failures';
import { monthlyFiscalPeriods } from '../../domain/reference';
import { createAdaptiveSimulator, type AdaptiveSimulator } from '../../simulators/adaptive/simulator';
import { failureOf } from '../harness/failures';

/**
 * The Adaptive Planning adapter against its simulator over real HTTP (the XML API): a budget version exported
 * leaf by leaf in the entity's level, its months mapped to the fiscal year's periods; a rollup row refused
 * rather than counted; the forecast back as the platform keeps figures (actuals into the Actuals version,
 * moving its pointer, the months to come into the plan version); a row it refuses named; a wrong password.
 */

const FY = 2031;
const PERIODS = monthlyFiscalPeriods(FY);
const SETTINGS = { level: 'ACME-AP', forecastVersion: 'Forecast', sheet: 'closeloop Figures' };
const ref = { legalEntity: 'ACME-AP', fiscalYear: FY, scenario: 'BUDGET' as const, version: 1 };

let sim: AdaptiveSimulator;
let server: RunningServer;
const CONFIG = () => ({
  baseUrl: server.url,
  apiVersion: 40,
  login: 'closeloop@acme.example',
  password: 'dev-password',
  timeoutMs: 5000,
});
const connector = (password = 'dev-password') => createAdaptiveConnector({ ...CONFIG(), password });

beforeEach(async () => {
  sim = createAdaptiveSimulator();
  sim.putAccounts([{ code: 'Expenses', children: [{ code: '610100' }, { code: '620100' }] }]);
  sim.putLevels([
    { code: 'ACME-AP', name: 'ACME-AP', currency: 'SGD', children: [{ code: 'CC-100' }, { code: 'CC-200' }] },
  ]);
  server = await sim.listen(0);
});
afterEach(() => server.close());

describe('Adaptive Planning budgets (exportData)', () => {
  test('leaf values only, in the entity level, each month its fiscal period, exact amounts in the level currency', async () => {
    sim.putPlanVersion('BUDGET FY2031 v1', [
      { account: '610100', level: 'CC-100', month: '01/2031', amount: '1200.50' },
      { account: '610100', level: 'CC-100', month: '12/2031', amount: '1300' },
      { account: '620100', level: 'CC-200', month: '03/2031', amount: '-75.25' },
      // Another year of the plan is outside the fiscal year asked for.
      { account: '620100', level: 'CC-200', month: '01/2032', amount: '999' },
    ]);
    const rows = await connector().fetchBudgetVersion({ ...ref, settings: SETTINGS, periods: PERIODS });
    expect(rows).toEqual([
      {
        dimensions: { account: '610100', costCenter: 'CC-100' },
        period: PERIODS[0]!.period,
        amount: '1200.5',
        currency: 'SGD',
      },
      {
        dimensions: { account: '610100', costCenter: 'CC-100' },
        period: PERIODS[11]!.period,
        amount: '1300.0',
        currency: 'SGD',
      },
      {
        dimensions: { account: '620100', costCenter: 'CC-200' },
        period: PERIODS[2]!.period,
        amount: '-75.25',
        currency: 'SGD',
      },
    ]);
    const exported = sim.calls().find((c) => c.method === 'exportData')!.body;
    expect(exported).toContain('includeRollupAccounts="false"');
    expect(exported).toContain('includeRollupLevels="false"');
    expect(exported).toContain('<timeSpan start="01/2031" end="12/2031"');
  });

  test('a rollup row in an export (Adaptive asked wrongly, or an older API) is refused, never added to its leaves', async () => {
    // The instance answers exportData with the rollup account's row beside its leaves.
    const real = createAdaptiveXmlApi(CONFIG());
    const api: AdaptiveXmlApi = {
      call: async (method, elements) =>
        method === 'exportData'
          ? {
              messages: [],
              output:
                'Account Name,Account Code,Level Name,01/2031\nExpenses,Expenses,CC-100,300\n610100,610100,CC-100,100\n620100,620100,CC-100,200\n',
            }
          : real.call(method, elements),
    };
    const refused = await failureOf(
      createAdaptiveConnector(CONFIG(), api).fetchBudgetVersion({
        ...ref,
        settings: SETTINGS,
        periods: PERIODS,
      }),
    );
    expect(refused).toMatchObject({ type: FailureType.ConnectorProtocol, nonRetryable: true });
    expect(refused.message).toContain('exportData row 2 is a rollup (account Expenses)');
  });

  test('asked for rollups, the simulator adds them as sums: the rule the adapter sends is what keeps totals single', async () => {
    sim.putPlanVersion('BUDGET FY2031 v1', [
      { account: '610100', level: 'CC-100', month: '01/2031', amount: '100' },
      { account: '620100', level: 'CC-200', month: '01/2031', amount: '200' },
    ]);
    const api = createAdaptiveXmlApi(CONFIG());
    const withRollups = await api.call('exportData', {
      version: { '@_name': 'BUDGET FY2031 v1', '@_isDefault': 'false' },
      format: { '@_useInternalCodes': 'true' },
      rules: { '@_includeRollupAccounts': 'true', '@_includeRollupLevels': 'true' },
    });
    expect(String(withRollups.output)).toContain('Expenses,ACME-AP,300.0');
  });

  test('a wrong password is refused for good, as unauthorised', async () => {
    const refused = await failureOf(
      connector('wrong').fetchBudgetVersion({ ...ref, settings: SETTINGS, periods: PERIODS }),
    );
    expect(refused).toMatchObject({ type: FailureType.ConnectorUnauthorized, nonRetryable: true });
    expect(refused.message).toContain('error-authentication-failure');
  });

  test('settings without the level are refused before anything is sent', async () => {
    const refused = await failureOf(
      connector().fetchBudgetVersion({ ...ref, settings: {}, periods: PERIODS }),
    );
    expect(refused).toMatchObject({ type: FailureType.ValidationFailed, nonRetryable: true });
    expect(sim.calls()).toHaveLength(0);
  });
});

describe('Adaptive Planning forecasts (importCubeData)', () => {
  const forecast = (
    rows: { account: string; month: number; amount: string; basis: 'actual' | 'projection' }[],
  ) => ({
    idempotencyKey: 'ACME-AP:FY2031:BUDGET:v1:forecast@2031-03',
    correlationId: 'c',
    legalEntity: 'ACME-AP',
    fiscalYear: FY,
    versionName: 'FC FY2031 ACME-AP from v1 @2031-03',
    settings: SETTINGS,
    periods: PERIODS,
    rows: rows.map((r) => ({
      account: r.account,
      costCenter: 'CC-100',
      period: PERIODS[r.month]!.period,
      amount: r.amount,
      currency: 'SGD',
      basis: r.basis,
    })),
  });

  test('actuals into the Actuals version moving its pointer, the months to come into the plan version', async () => {
    sim.putPlanVersion('Forecast');
    const result = await connector().publishForecast(
      forecast([
        { account: '610100', month: 0, amount: '110.00', basis: 'actual' },
        { account: '610100', month: 2, amount: '130.00', basis: 'actual' },
        { account: '610100', month: 3, amount: '140.00', basis: 'projection' },
        { account: '620100', month: 11, amount: '20.00', basis: 'projection' },
      ]),
    );
    expect(result).toMatchObject({ rowsImported: 3, rowsFailed: 0, rowsIgnored: 0, issues: [] });
    expect(sim.sheet('Actuals', 'closeloop Figures')).toEqual(
      new Map([
        ['610100|CC-100|01/2031', '110.00'],
        ['610100|CC-100|03/2031', '130.00'],
      ]),
    );
    expect(sim.actualsThrough()).toBe('03/2031');
    expect(sim.sheet('Forecast', 'closeloop Figures')).toEqual(
      new Map([
        ['610100|CC-100|04/2031', '140.00'],
        ['620100|CC-100|12/2031', '20.00'],
      ]),
    );
    const imports = sim.calls().filter((c) => c.method === 'importCubeData');
    expect(imports[0]!.body).toContain('planOrActuals="Actuals"');
    expect(imports[0]!.body).toContain('moveBPtr="true"');
    expect(imports[1]!.body).toContain('<version name="Forecast" isDefault="false"');

    // Sent again (a retry after a lost answer), the cells hold the same figures.
    await connector().publishForecast(
      forecast([{ account: '610100', month: 0, amount: '110.00', basis: 'actual' }]),
    );
    expect(sim.sheet('Actuals', 'closeloop Figures').get('610100|CC-100|01/2031')).toBe('110.00');
  });

  test('a row Adaptive refuses is named with its line, the others are imported', async () => {
    sim.putPlanVersion('Forecast');
    const result = await connector().publishForecast(
      forecast([
        { account: '610100', month: 4, amount: '10.00', basis: 'projection' },
        { account: '999999', month: 4, amount: '5.00', basis: 'projection' },
      ]),
    );
    expect(result.rowsImported).toBe(1);
    expect(result.rowsFailed).toBe(1);
    expect(result.issues).toEqual([
      {
        line: 3,
        severity: 'error',
        message: 'error-import-row: Row 3: account 999999 does not exist.',
        row: { Account: '999999', Level: 'CC-100', '05/2031': '5.00' },
      },
    ]);
  });
});
