import { z } from 'zod';
import { listen, type RunningServer } from '../../api/listen';
import { createSapOData, parseBatchResponse, serializeBatch } from '../../activities/connectors/sap/odata';
import { errorReason } from '../../activities/connectors/http';
import { FailureType } from '../../domain/failures';
import { createSapSimulator, type SapSimulator } from '../../simulators/sap/simulator';
import { failureOf } from '../harness/failures';

/**
 * SAP S/4HANA's OData V2 as the adapter speaks it, against the simulator over real HTTP: the CSRF handshake
 * and its refetch, `$batch` change sets with a partial failure, V2 paging by `__next`, SAP's error body, and
 * special periods 13–16.
 */

let sim: SapSimulator;
let server: RunningServer;
const config = (url: string, pageSize = 100) => ({
  baseUrl: url,
  username: 'CLOSELOOP',
  password: 'dev-secret',
  timeoutMs: 2000,
  pageSize,
});
const item = (period: string, account: string, amount: string, company = '1010') => ({
  PlanningCategory: 'PLN',
  LedgerFiscalYear: period.slice(4),
  CompanyCode: company,
  FiscalYearPeriod: period,
  GLAccount: account,
  CostCenter: '10101101',
  CompanyCodeCurrency: 'EUR',
  AmountInCompanyCodeCurrency: amount,
});
const planData = (items: ReturnType<typeof item>[]) => ({
  PlanDataAggrgnLvlFieldsString:
    'LedgerFiscalYear,PlanningCategory,CompanyCode,FiscalYearPeriod,GLAccount,CostCenter,AmountInCompanyCodeCurrency,CompanyCodeCurrency',
  PlanDataRplcScopeFieldsString: 'LedgerFiscalYear,PlanningCategory,CompanyCode,FiscalYearPeriod',
  to_FinPlanningEntryItemTP: { results: items },
});
const amounts = () =>
  Object.fromEntries(
    sim
      .planData('1010', 'PLN')
      .map((e) => [`${e.FiscalYearPeriod} ${e.GLAccount}`, e.AmountInCompanyCodeCurrency]),
  );

beforeEach(async () => {
  sim = createSapSimulator({ serverPageSize: 3 });
  server = await listen(sim.app, 0);
  sim.setCompanyCodes([{ CompanyCode: '1010', Currency: 'EUR', FiscalYearVariant: 'K4', specialPeriods: 4 }]);
});
afterEach(() => server.close());

describe('SAP OData V2: CSRF, $batch, paging, errors', () => {
  test('a change fetches a token with the session cookies; an ended session is answered Required and fetched again, once', async () => {
    const odata = createSapOData(config(server.url), 'API_FINPLANNINGDATA_SRV');
    const [first] = await odata.batch([
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([item('001.2028', '61000000', '100.000')]),
        },
      ],
    ]);
    expect(first).toMatchObject({ ok: true, responses: [{ status: 201 }] });
    sim.endSessions();
    const [again] = await odata.batch([
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([item('001.2028', '61000000', '150.000')]),
        },
      ],
    ]);
    expect(again).toMatchObject({ ok: true });
    expect(amounts()).toEqual({ '001.2028 61000000': '150.000' });
    // A server that keeps answering Required is not asked forever: the second refusal fails the change.
    const res = await fetch(`${server.url}/sap/opu/odata/sap/API_FINPLANNINGDATA_SRV/$batch`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('CLOSELOOP:dev-secret').toString('base64')}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-csrf-token')).toBe('Required');
  });

  test('change sets succeed or fail whole: a refused one leaves nothing, the others apply; its error names each property', async () => {
    const odata = createSapOData(config(server.url), 'API_FINPLANNINGDATA_SRV');
    const outcome = await odata.batch([
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([item('002.2028', '61000000', '200.000')]),
        },
      ],
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([item('003.2028', '61000000', '300.000')]),
        },
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([
            item('004.2028', '61000000', '1.0001'),
            item('004.2028', '62000000', '1.000', '9999'),
          ]),
        },
      ],
    ]);
    expect(outcome[0]).toMatchObject({ ok: true, responses: [{ status: 201 }] });
    expect(outcome[1]).toMatchObject({ ok: false, error: { status: 400 } });
    // The second change set's first request was rolled back with it.
    expect(amounts()).toEqual({ '002.2028 61000000': '200.000' });
    const reason = errorReason(JSON.stringify((outcome[1] as { error: { body: unknown } }).error.body));
    expect(reason).toContain('Plan data could not be imported');
    expect(reason).toContain('(to_FinPlanningEntryItemTP/1/AmountInCompanyCodeCurrency)');
    expect(reason).toContain('Company code 9999 does not exist');
  });

  test('a revision replaces its scope: what the period held is gone, other periods stay', async () => {
    const odata = createSapOData(config(server.url), 'API_FINPLANNINGDATA_SRV');
    await odata.batch([
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([
            item('005.2028', '61000000', '10.000'),
            item('005.2028', '62000000', '20.000'),
            item('006.2028', '61000000', '30.000'),
          ]),
        },
      ],
    ]);
    await odata.batch([
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([item('005.2028', '61000000', '11.000')]),
        },
      ],
    ]);
    expect(amounts()).toEqual({ '005.2028 61000000': '11.000', '006.2028 61000000': '30.000' });
  });

  test('special periods: 013–016 exist under a variant that has them, 017 never', async () => {
    const odata = createSapOData(config(server.url), 'API_FINPLANNINGDATA_SRV');
    const [ok, refused] = await odata.batch([
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([item('013.2028', '61000000', '5.000'), item('016.2028', '61000000', '6.000')]),
        },
      ],
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData([item('017.2028', '61000000', '7.000')]),
        },
      ],
    ]);
    expect(ok).toMatchObject({ ok: true });
    expect(refused).toMatchObject({ ok: false });
    expect(errorReason(JSON.stringify((refused as { error: { body: unknown } }).error.body))).toContain(
      'has no period 017',
    );
  });

  test('V2 paging: every page by __next ($skiptoken), each item parsed', async () => {
    const odata = createSapOData(config(server.url), 'API_FINPLANNINGDATA_SRV');
    await odata.batch([
      [
        {
          method: 'POST',
          path: 'FinancialPlanData',
          body: planData(
            ['001', '002', '003', '004', '005', '006', '007'].map((p) =>
              item(`${p}.2028`, '61000000', '1.000'),
            ),
          ),
        },
      ],
    ]);
    const read = createSapOData(config(server.url), 'API_FINPLANNINGENTRYITEM_SRV');
    const pages: number[] = [];
    for await (const page of read.collection(
      'A_FinPlanningEntryItem',
      z.object({ FiscalYearPeriod: z.string() }),
      {
        filter: "CompanyCode eq '1010' and PlanningCategory eq 'PLN'",
      },
    ))
      pages.push(page.length);
    expect(pages).toEqual([3, 3, 1]);
  });

  test('the $batch wire format: CRLF, change sets with Content-Id, absolute paths; a response parsed by its boundary', () => {
    const body = serializeBatch('batch_x', '/sap/opu/odata/sap/API_FINPLANNINGDATA_SRV', [
      [{ method: 'POST', path: 'FinancialPlanData', body: { a: 1 } }],
    ]);
    expect(body.split('\r\n').slice(0, 11)).toEqual([
      '--batch_x',
      expect.stringMatching(/^Content-Type: multipart\/mixed; boundary=changeset_[0-9a-f-]{36}$/),
      '',
      expect.stringMatching(/^--changeset_/),
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      expect.stringMatching(/^Content-Id: [0-9a-f-]{36}$/),
      '',
      'POST /sap/opu/odata/sap/API_FINPLANNINGDATA_SRV/FinancialPlanData HTTP/1.1',
      'Content-Type: application/json',
      'Accept: application/json',
    ]);
    expect(body.includes('\n') && !/[^\r]\n/.test(body)).toBe(true);
    const parsed = parseBatchResponse(
      'multipart/mixed; boundary=b1',
      [
        '--b1',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        'HTTP/1.1 400 Bad Request',
        'Content-Type: application/json',
        '',
        '{"error":{"code":"X"}}',
        '--b1--',
      ].join('\r\n'),
    );
    expect(parsed).toEqual([{ status: 400, body: { error: { code: 'X' } } }]);
  });

  test('wrong credentials are refused for good; a 503 is retryable', async () => {
    const wrong = createSapOData({ ...config(server.url), password: 'x' }, 'API_FINPLANNINGDATA_SRV');
    const refused = await failureOf(wrong.batch([[{ method: 'POST', path: 'FinancialPlanData', body: {} }]]));
    expect(refused).toMatchObject({ type: FailureType.ConnectorUnauthorized, nonRetryable: true });
    sim.faults.inject({ kind: 'status', status: 503, method: 'POST', path: '$batch' });
    const odata = createSapOData(config(server.url), 'API_FINPLANNINGDATA_SRV');
    const down = await failureOf(
      odata.batch([
        [
          {
            method: 'POST',
            path: 'FinancialPlanData',
            body: planData([item('001.2028', '61000000', '1.000')]),
          },
        ],
      ]),
    );
    expect(down).toMatchObject({ type: FailureType.ConnectorUnavailable, nonRetryable: false });
  });
});
