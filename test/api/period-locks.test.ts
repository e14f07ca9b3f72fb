import { sql } from 'drizzle-orm';
import { lockEntityPeriod } from '../../db/queries/period-locks';
import { d365LedgerDimension } from '../../simulators/scenario/services-company';
import { seedBudget, usdLine } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * A period locked for one legal entity (what its close does): its reservations and its actuals dated in the
 * period are refused or kept aside from then on, never counted silently; a controller reopens it with a
 * reason, audited, and both paths take the period again.
 */
describe('period lock and reopen of a legal entity', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const reserve = (key: string, period: string) =>
    request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': key },
      body: { legalEntity: 'ACME-US', lines: [usdLine('640500', 'CC-400', period, '100.00')] },
    });
  const periodPath = (period: string, act: string) => `/v1/legal-entities/ACME-US/periods/${period}/${act}`;

  test('after the lock, budget checks and actuals in the period are refused; after a reopen with a reason they go through', async () => {
    const fy = await stack.newFiscalYear();
    const period = `${fy}-02`;
    await seedBudget(stack.db, '640500', 'CC-400', period, '1000.00');

    const locked = await request('POST', periodPath(period, 'lock'), { key: 'dev-controller', body: {} });
    expect(locked.body).toMatchObject({ outcome: 'locked' });
    const again = await request('POST', periodPath(period, 'lock'), { key: 'dev-scheduler', body: {} });
    expect(again.body).toMatchObject({ outcome: 'already_locked' });
    const periods = await request('GET', `/v1/legal-entities/ACME-US/periods?fiscalYear=${fy}`, {
      key: 'dev-planner',
    });
    const statuses = Object.fromEntries(
      (periods.body.periods as { period: string; status: string }[]).map((p) => [p.period, p.status]),
    );
    expect(statuses).toMatchObject({ [`${fy}-01`]: 'open', [period]: 'closed', [`${fy}-03`]: 'open' });

    const refused = await reserve(`lock-${fy}-1`, period);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: 'period_closed' });
    expect((await reserve(`lock-${fy}-2`, `${fy}-04`)).status).not.toBe(422);
    // Reads answer for a locked period: its balance and what stands behind it; only writes are refused.
    const balance = await request(
      'GET',
      `/v1/budget-control/balances?legalEntity=ACME-US&account=640500&costCenter=CC-400&period=${period}`,
      { key: 'dev-controller' },
    );
    expect(balance.status).toBe(200);
    expect(balance.body).toMatchObject({
      bucket: { period },
      budget: { amount: '1000.00', currency: 'USD' },
      available: { amount: '1000.00', currency: 'USD' },
      behind: expect.any(Object),
    });
    const check = await request('POST', '/v1/budget-control/checks', {
      key: 'dev-procurement',
      body: { legalEntity: 'ACME-US', lines: [usdLine('640500', 'CC-400', period, '1.00')] },
    });
    expect(check.body).toMatchObject({ error: 'period_closed' });

    // An invoice posted in the locked period reaches the sync: kept as a dead letter, not counted.
    stack.d365.seedLedgerEntries([
      {
        DataArea: 'acus',
        JournalNumber: `LOCK-${fy}`,
        Voucher: `LOCK-${fy}-1`,
        AccountingDate: `${period}-20`,
        LedgerAccount: d365LedgerDimension('640500', 'CC-400', `${period}-20`),
        AccountingCurrencyAmount: '250.00',
        TransactionCurrencyCode: 'USD',
      },
    ]);
    const synced = await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, wait: true },
    });
    expect(synced.body).toMatchObject({ years: [{ actuals: { inserted: 0, exceptions: 1 } }] });

    // Reopening needs a controller and a reason.
    expect(
      (await request('POST', periodPath(period, 'reopen'), { key: 'dev-controller', body: {} })).status,
    ).toBe(400);
    expect(
      (
        await request('POST', periodPath(period, 'reopen'), {
          key: 'dev-approver',
          body: { reason: 'late invoice' },
        })
      ).status,
    ).toBe(403);
    const reopened = await request('POST', periodPath(period, 'reopen'), {
      key: 'dev-controller',
      body: { reason: 'late vendor invoice to book' },
    });
    expect(reopened.body).toMatchObject({ outcome: 'reopened' });
    expect(
      (
        await request('POST', periodPath(period, 'reopen'), {
          key: 'dev-controller',
          body: { reason: 'again' },
        })
      ).status,
    ).toBe(409);
    const trail = (await stack.db.execute(sql`
      select action, actor, details->>'reason' as reason from audit_log
       where stream = 'period-close:ACME-US' and entity_id = ${`ACME-US:${period}`} order by seq`)) as unknown as {
      action: string;
      actor: string;
      reason: string | null;
    }[];
    expect(trail).toEqual([
      { action: 'period.locked', actor: 'dave@acme.example', reason: null },
      { action: 'period.reopened', actor: 'dave@acme.example', reason: 'late vendor invoice to book' },
    ]);

    expect((await reserve(`lock-${fy}-3`, period)).status).toBe(201);
    const replay = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US', errorCode: 'period_closed' },
    });
    expect(replay.body).toMatchObject({ reprocessed: 1, stillFailing: 0 });
  });

  test('the close report shows budget, committed, actual and variance, the dead letters of the period, and the lock history; as JSON and CSV', async () => {
    const fy = await stack.newFiscalYear();
    const period = `${fy}-05`;
    await seedBudget(stack.db, '640500', 'CC-400', period, '3000.00');
    await seedBudget(stack.db, '610200', 'CC-100', period, '800.00');
    stack.d365.seedLedgerEntries([
      {
        DataArea: 'acus',
        JournalNumber: `REP-${fy}`,
        Voucher: `REP-${fy}-1`,
        AccountingDate: `${period}-12`,
        LedgerAccount: d365LedgerDimension('640500', 'CC-400', `${period}-12`),
        AccountingCurrencyAmount: '2000.00',
        TransactionCurrencyCode: 'USD',
      },
      {
        DataArea: 'acus',
        JournalNumber: `REP-${fy}`,
        Voucher: `REP-${fy}-2`,
        AccountingDate: `${period}-14`,
        LedgerAccount: d365LedgerDimension('610200', 'CC-100', `${period}-14`),
        AccountingCurrencyAmount: '900.00',
        TransactionCurrencyCode: 'USD',
      },
      {
        DataArea: 'acus',
        JournalNumber: `REP-${fy}`,
        Voucher: `REP-${fy}-3`,
        AccountingDate: `${period}-15`,
        LedgerAccount: '99999-100',
        AccountingCurrencyAmount: '5.00',
        TransactionCurrencyCode: 'USD',
      },
    ]);
    await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, wait: true },
    });
    await request('POST', periodPath(period, 'lock'), { key: 'dev-controller', body: {} });
    await request('POST', periodPath(period, 'reopen'), {
      key: 'dev-controller',
      body: { reason: 'accrual fix' },
    });
    await request('POST', periodPath(period, 'lock'), { key: 'dev-scheduler', body: {} });

    const report = await request('GET', `/v1/legal-entities/ACME-US/periods/${period}/report`, {
      key: 'dev-planner',
    });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      status: 'closed',
      lock: { lockedBy: 'sam@acme.example' },
      totals: [
        {
          currency: 'USD',
          budget: '3800.00',
          actual: '2900.00',
          variance: '900.00',
          variancePercent: '23.68',
        },
      ],
      lines: [
        expect.objectContaining({
          account: '610200',
          costCenter: 'CC-100',
          variance: '-100.00',
          variancePercent: '-12.50',
        }),
        expect.objectContaining({
          account: '640500',
          costCenter: 'CC-400',
          variance: '1000.00',
          variancePercent: '33.33',
        }),
      ],
      deadLetters: [{ stream: 'actuals', errorCode: 'unmapped_dimension', status: 'open', count: 1 }],
    });
    expect(
      (report.body.lockHistory as { action: string; reason: string | null }[]).map((h) => [
        h.action,
        h.reason,
      ]),
    ).toEqual([
      ['period.locked', null],
      ['period.reopened', 'accrual fix'],
      ['period.locked', null],
    ]);

    // Grouped by the cost-center hierarchy's top level (client services above CC-100, corporate functions
    // above CC-400) and by account: the groups add up to the same totals.
    const grouped = await request(
      'GET',
      `/v1/legal-entities/ACME-US/periods/${period}/report?groupBy=costCenter@0,account`,
      { key: 'dev-planner' },
    );
    expect(grouped.status).toBe(200);
    expect(grouped.body).toMatchObject({
      groupBy: ['costCenter@0', 'account'],
      groups: [
        { key: { 'costCenter@0': 'CC-010', account: '610200' }, budget: '800.00', actual: '900.00' },
        { key: { 'costCenter@0': 'CC-020', account: '640500' }, budget: '3000.00', variancePercent: '33.33' },
      ],
      totals: report.body.totals,
    });
    const groupedCsv = await fetch(
      `${stack.api!.url}/v1/legal-entities/ACME-US/periods/${period}/report?format=csv&groupBy=costCenter@0`,
      { headers: { 'x-api-key': 'dev-planner' } },
    );
    expect((await groupedCsv.text()).trim().split('\n')).toEqual([
      'costCenter@0,currency,budget,reserved,committed,actual,variance,variancePercent',
      'CC-010,USD,800.00,0.00,0.00,900.00,-100.00,-12.50',
      'CC-020,USD,3000.00,0.00,0.00,2000.00,1000.00,33.33',
      'TOTAL,USD,3800.00,0.00,0.00,2900.00,900.00,23.68',
    ]);

    const csv = await fetch(
      `${stack.api!.url}/v1/legal-entities/ACME-US/periods/${period}/report?format=csv`,
      {
        headers: { 'x-api-key': 'dev-planner' },
      },
    );
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).trim().split('\n')).toEqual([
      'account,costCenter,currency,budget,reserved,committed,actual,variance,variancePercent',
      '610200,CC-100,USD,800.00,0.00,0.00,900.00,-100.00,-12.50',
      '640500,CC-400,USD,3000.00,0.00,0.00,2000.00,1000.00,33.33',
      'TOTAL,,USD,3800.00,0.00,0.00,2900.00,900.00,23.68',
    ]);
  });

  test('a period outside the calendar cannot be locked, and only a controller or scheduler locks', async () => {
    const unknown = await request('POST', periodPath('2099-02', 'lock'), { key: 'dev-controller', body: {} });
    expect(unknown.status).toBe(422);
    const planner = await request('POST', periodPath('2027-02', 'lock'), { key: 'dev-planner', body: {} });
    expect(planner.status).toBe(403);
    // One period rule everywhere: a code not of the form YYYY-NN is a 400 naming the field; a well-formed
    // code the entity's calendar does not have is a 422, for a lock as for a reservation.
    for (const [code, status] of [
      ['2027-3', 400],
      ['2027-00', 400],
      ['2027-14', 422],
    ] as const) {
      const lock = await request('POST', periodPath(code, 'lock'), { key: 'dev-controller', body: {} });
      expect([code, lock.status]).toEqual([code, status]);
      const reservation = await reserve(`period-rule-${code}`, code);
      expect([code, reservation.status]).toEqual([code, status]);
      if (status === 400)
        expect(reservation.body.issues).toEqual([expect.objectContaining({ field: 'lines.0.period' })]);
    }
  });

  test('a lock that lands while the API still holds the open calendar is decided by the database', async () => {
    const fy = await stack.newFiscalYear();
    const period = `${fy}-05`;
    await seedBudget(stack.db, '640500', 'CC-400', period, '1000.00');
    expect((await reserve(`race-${fy}-1`, period)).status).toBe(201);
    // The close's lock, written straight to the database: the API's entity cache (a few seconds) still
    // has the period open.
    await stack.db.transaction((tx) =>
      lockEntityPeriod(tx, {
        legalEntity: 'ACME-US',
        period,
        by: 'dave@acme.example',
        correlationId: `race-${fy}`,
      }),
    );
    const refused = await reserve(`race-${fy}-2`, period);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      error: 'period_closed',
      issues: [{ field: 'lines.0.period', message: expect.stringContaining('locked by its close') }],
    });
    // Nothing was held or recorded for the refused request: its key is free for a corrected request.
    const [held] = (await stack.db.execute(sql`
      select count(*)::int as n from funds_requests where idempotency_key = ${`race-${fy}-2`}`)) as unknown as {
      n: number;
    }[];
    expect(held!.n).toBe(0);
  });
});
