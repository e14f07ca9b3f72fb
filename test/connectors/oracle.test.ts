import { readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { z } from 'zod';
import { listen, type RunningServer } from '../../api/listen';
import { readEssJobState } from '../../activities/connectors/oracle/ess';
import { callbackOutcome, EssCallback, essOutcome } from '../../domain/oracle-ess';
import { readLedgerPeriods, takesBudgets } from '../../activities/connectors/oracle/periods';
import { createOracleRest, REST_PATH } from '../../activities/connectors/oracle/rest';
import { FailureType } from '../../domain/failures';
import { createOracleSimulator, type OracleSimulator } from '../../simulators/oracle/simulator';
import { failureOf } from '../harness/failures';

/** The Oracle Fusion REST adapter against its simulator over real HTTP: paging, filters, error classes. */

const LEDGER = '300000046975971';
const OTHER_LEDGER = '300000046975999';
const statuses = ['C', 'C', 'P', 'O', 'O', 'F', 'N'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul'];

let sim: OracleSimulator;
let server: RunningServer;
const rest = (over: { pageSize?: number; password?: string } = {}) =>
  createOracleRest({
    baseUrl: server.url,
    username: 'closeloop',
    password: over.password ?? 'dev-secret',
    timeoutMs: 1000,
    pageSize: over.pageSize ?? 3,
  });

/** The dates of month `i` (0: January) of 2027. */
const monthOf = (i: number) => ({
  StartDate: `2027-${String(i + 1).padStart(2, '0')}-01`,
  EndDate: new Date(Date.UTC(2027, i + 1, 0)).toISOString().slice(0, 10),
});

beforeAll(async () => {
  sim = createOracleSimulator();
  server = await sim.listen();
});
afterAll(() => server.close());
beforeEach(() => {
  sim.faults.clear();
  sim.setAccountingPeriods([
    ...statuses.map((s, i) => ({
      PeriodNameId: `${MONTHS[i]}-27`,
      ApplicationId: 101,
      LedgerId: Number(LEDGER),
      ClosingStatus: s,
      ...monthOf(i),
    })),
    // Another ledger's period, and the same ledger's period in another application: neither is read.
    {
      PeriodNameId: 'Jan-27',
      ApplicationId: 101,
      LedgerId: Number(OTHER_LEDGER),
      ClosingStatus: 'O',
      ...monthOf(0),
    },
    {
      PeriodNameId: 'Jan-27',
      ApplicationId: 200,
      LedgerId: Number(LEDGER),
      ClosingStatus: 'O',
      ...monthOf(0),
    },
  ]);
});

describe("Oracle Fusion: a ledger's periods (accountingPeriodStatusLOV)", () => {
  test('every period of the ledger, across pages, with its General Ledger status', async () => {
    const periods = await readLedgerPeriods(rest({ pageSize: 3 }), LEDGER);
    expect(periods).toEqual([
      { period: 'Jan-27', status: 'closed', startDate: monthOf(0).StartDate, endDate: monthOf(0).EndDate },
      { period: 'Feb-27', status: 'closed', startDate: monthOf(1).StartDate, endDate: monthOf(1).EndDate },
      {
        period: 'Mar-27',
        status: 'permanently_closed',
        startDate: monthOf(2).StartDate,
        endDate: monthOf(2).EndDate,
      },
      { period: 'Apr-27', status: 'open', startDate: monthOf(3).StartDate, endDate: monthOf(3).EndDate },
      { period: 'May-27', status: 'open', startDate: monthOf(4).StartDate, endDate: monthOf(4).EndDate },
      {
        period: 'Jun-27',
        status: 'future_enterable',
        startDate: monthOf(5).StartDate,
        endDate: monthOf(5).EndDate,
      },
      {
        period: 'Jul-27',
        status: 'never_opened',
        startDate: monthOf(6).StartDate,
        endDate: monthOf(6).EndDate,
      },
    ]);
    expect(periods.filter((p) => takesBudgets(p.status)).map((p) => p.period)).toEqual([
      'Apr-27',
      'May-27',
      'Jun-27',
      'Jul-27',
    ]);
  });

  test('the collection as the framework answers it: envelope, paging, row-match q under version 2', async () => {
    const auth = `Basic ${Buffer.from('closeloop:dev-secret').toString('base64')}`;
    const url = `${server.url}${REST_PATH}/accountingPeriodStatusLOV?limit=5&offset=5&q=${encodeURIComponent(`ApplicationId = 101 and LedgerId = ${LEDGER}`)}`;
    const res = await fetch(url, { headers: { Authorization: auth, 'REST-Framework-Version': '2' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ count: 2, hasMore: false, limit: 5, offset: 5 });
    expect((body.items as { PeriodNameId: string }[]).map((i) => i.PeriodNameId)).toEqual([
      'Jun-27',
      'Jul-27',
    ]);
    // Version 1 (the server's default) reads q as query-by-example: the same expression silently matches
    // nothing, which is why the adapter pins its framework version.
    const v1 = await fetch(url.replace('offset=5', 'offset=0'), { headers: { Authorization: auth } });
    expect(v1.status).toBe(200);
    expect(await v1.json()).toMatchObject({ items: [], count: 0, hasMore: false });
  });

  test('a 503, and a 429 with Retry-After, are retryable; Retry-After sets the next attempt', async () => {
    sim.faults.inject({ kind: 'status', status: 503, path: 'accountingPeriodStatusLOV' });
    const unavailable = await failureOf(readLedgerPeriods(rest(), LEDGER));
    expect(unavailable.type).toBe(FailureType.ConnectorUnavailable);
    expect(unavailable.nonRetryable).toBe(false);

    sim.faults.inject({
      kind: 'status',
      status: 429,
      retryAfterSeconds: 7,
      path: 'accountingPeriodStatusLOV',
    });
    const throttled = await failureOf(readLedgerPeriods(rest(), LEDGER));
    expect(throttled.type).toBe(FailureType.ConnectorUnavailable);
    expect(throttled.nextRetryDelay).toBe(7000);
    // Once the faults are spent, the read goes through.
    expect(await readLedgerPeriods(rest(), LEDGER)).toHaveLength(7);
  });

  test('a failure on a later page fails the read whole: no partial list of periods', async () => {
    const pages = rest({ pageSize: 3 }).collection(
      'accountingPeriodStatusLOV',
      z.object({ PeriodNameId: z.string() }),
      { q: `ApplicationId = 101 and LedgerId = ${LEDGER}` },
    );
    expect((await pages.next()).value).toHaveLength(3);
    sim.faults.inject({ kind: 'status', status: 503, path: 'accountingPeriodStatusLOV' });
    expect((await failureOf(pages.next())).type).toBe(FailureType.ConnectorUnavailable);
    sim.faults.inject({ kind: 'status', status: 503, path: 'accountingPeriodStatusLOV' });
    await failureOf(readLedgerPeriods(rest({ pageSize: 100 }), LEDGER));
  });

  test('wrong credentials are refused for good; a ledger id that is not a number is refused before any call', async () => {
    const refused = await failureOf(readLedgerPeriods(rest({ password: 'wrong' }), LEDGER));
    expect(refused.type).toBe(FailureType.ConnectorUnauthorized);
    expect(refused.nonRetryable).toBe(true);
    const invalid = await failureOf(readLedgerPeriods(rest(), 'US PRIMARY'));
    expect(invalid.type).toBe(FailureType.ValidationFailed);
  });

  test("an answer whose shape is not the framework's is a protocol failure, not a guess", async () => {
    // A server that says there is more but sends nothing, and one that leaves out the envelope's fields.
    const answers = [
      { items: [], count: 0, hasMore: true, limit: 3, offset: 0 },
      {
        items: [
          { PeriodNameId: 'Jan-27', ApplicationId: 101, LedgerId: 1, ClosingStatus: 'O', ...monthOf(0) },
        ],
      },
      {
        items: [
          { PeriodNameId: 'Jan-27', ApplicationId: 101, LedgerId: 1, ClosingStatus: 'X', ...monthOf(0) },
        ],
        count: 1,
        hasMore: false,
        limit: 3,
        offset: 0,
      },
    ];
    for (const answer of answers) {
      const app = express();
      app.get(`${REST_PATH}/accountingPeriodStatusLOV`, (_req, res) => {
        res.json(answer);
      });
      const odd = await listen(app);
      try {
        const failure = await failureOf(
          readLedgerPeriods(
            createOracleRest({
              baseUrl: odd.url,
              username: 'u',
              password: 'p',
              timeoutMs: 1000,
              pageSize: 3,
            }),
            '1',
          ),
        );
        expect(failure.type).toBe(FailureType.ConnectorProtocol);
      } finally {
        await odd.close();
      }
    }
  });
});

describe('Oracle Fusion: ESS jobs (erpintegrations)', () => {
  test('a request read through the status finder, while it runs and once it ended', async () => {
    sim.setEssJobState('603547', 'RUNNING');
    expect(essOutcome(await readEssJobState(rest(), '603547'))).toBe('running');
    // The REST answer may spell a state with spaces.
    sim.setEssJobState('603547', 'ERROR MANUAL RECOVERY');
    expect(await readEssJobState(rest(), '603547')).toBe('ERROR_MANUAL_RECOVERY');
    expect(essOutcome('ERROR_MANUAL_RECOVERY')).toBe('failed');
    sim.setEssJobState('603547', 'WARNING');
    expect(essOutcome(await readEssJobState(rest(), '603547'))).toBe('warning');
    sim.setEssJobState('603547', 'SUCCEEDED');
    expect(essOutcome(await readEssJobState(rest(), '603547'))).toBe('succeeded');
  });

  test('a request the ERP does not know, or a state it does not document, is a protocol failure', async () => {
    expect((await failureOf(readEssJobState(rest(), '999'))).type).toBe(FailureType.ConnectorProtocol);
    sim.setEssJobState('603550', 'DONE-ISH');
    expect((await failureOf(readEssJobState(rest(), '603550'))).type).toBe(FailureType.ConnectorProtocol);
  });

  test("the callback as Oracle's own example shows it: the request and its child jobs", () => {
    const callback = EssCallback.parse(contract('ess-callback.json').body);
    expect(callbackOutcome(callback, '603547')).toEqual({
      outcome: 'succeeded',
      jobs: [
        { name: 'Load Interface File for Import', requestId: '603547', state: 'SUCCEEDED' },
        { name: 'Load File to Interface', requestId: '603549', state: 'SUCCEEDED' },
      ],
    });
    // Another request's callback says nothing of this one.
    expect(callbackOutcome(callback, '1')).toBeUndefined();
    // A child that failed fails the request, whatever the parent says.
    const failedChild = structuredClone(callback);
    failedChild.JOBS[0]!.CHILD![0]!.STATUS = 'ERROR';
    expect(callbackOutcome(failedChild, '603547')?.outcome).toBe('failed');
    // The request id is a string of digits, as in Oracle's example; a number is refused, naming the field.
    const numeric = EssCallback.safeParse({
      JOBS: [{ JOBNAME: 'x', REQUESTID: 603547, STATUS: 'SUCCEEDED' }],
    });
    expect(numeric.success).toBe(false);
    expect(numeric.error?.issues[0]?.path).toEqual(['JOBS', 0, 'REQUESTID']);
  });
});

const contract = (file: string) =>
  JSON.parse(readFileSync(path.join(__dirname, '..', 'contracts', 'oracle', file), 'utf8')) as {
    body: unknown;
  };
