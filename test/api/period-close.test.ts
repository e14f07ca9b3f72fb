import { closeDates, ensurePeriodCloseSchedule } from '../../api/schedules';
import { d365LedgerDimension } from '../../simulators/scenario/services-company';
import { seedBudget, usdLine } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { closeloopCli } from '../harness/cli';
import { startStack, type TestStack } from '../harness/stack';

interface EntityProgress {
  legalEntity: string;
  state: string;
  workflowId?: string;
  workflow?: {
    execution: string;
    status?: string;
    steps?: { name: string; state: string }[];
    refusedSignals?: unknown[];
  };
}

/**
 * A scheduler's close of a month over the API, on the real stack: the close fans out per entity, waits for a
 * controller's sign-off (segregation of duties, escalation, expiry with short waits), locks the period,
 * reforecasts and reports; a second start is refused and one entity can be re-run on purpose.
 */
describe('period close over the API', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const closeOf = async (month: string) =>
    request('GET', `/v1/period-closes/${month}`, { key: 'dev-planner' });
  async function until(
    month: string,
    what: string,
    ok: (e: EntityProgress, body: Record<string, unknown>) => boolean,
  ) {
    const deadline = Date.now() + 60_000;
    let last: Record<string, unknown> = {};
    while (Date.now() < deadline) {
      const res = await closeOf(month);
      if (res.status === 200) {
        last = res.body;
        const e = (res.body.entities as EntityProgress[] | undefined)?.find(
          (x) => x.legalEntity === 'ACME-US',
        );
        if (e && ok(e, res.body)) return { entity: e, close: res.body };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${what} did not happen within 60 s; last: ${JSON.stringify(last)}`);
  }
  const signOff = (month: string, key: string, body: Record<string, unknown> = { decision: 'approve' }) =>
    request('POST', `/v1/period-closes/${month}/entities/ACME-US/sign-off`, { key, body });

  test('start, refused second start, sign-off by a controller, lock, reforecast, report; reopen and re-run one entity', async () => {
    const fy = await stack.newFiscalYear();
    const month = `${fy}-03`;
    await seedBudget(stack.db, '640500', 'CC-400', month, '1000.00');
    stack.d365.seedLedgerEntries([
      {
        DataArea: 'acus',
        JournalNumber: `CLOSE-${fy}`,
        Voucher: `CLOSE-${fy}-1`,
        AccountingDate: `${month}-15`,
        LedgerAccount: d365LedgerDimension('640500', 'CC-400', `${month}-15`),
        AccountingCurrencyAmount: '400.00',
        TransactionCurrencyCode: 'USD',
      },
    ]);

    const body = {
      period: month,
      legalEntities: ['ACME-US'],
      escalateAfter: '1 minute',
      expireAfter: '1 minute',
    };
    expect((await request('POST', '/v1/period-closes', { key: 'dev-planner', body })).status).toBe(403);
    const started = await request('POST', '/v1/period-closes', { key: 'dev-scheduler', body });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ workflowId: `period-close:${month}` });
    const again = await request('POST', '/v1/period-closes', { key: 'dev-scheduler', body });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'close_already_started' });

    const waiting = await until(
      month,
      'awaiting sign-off',
      (e) => e.workflow?.status === 'awaiting_sign_off',
    );
    expect(waiting.entity.workflowId).toBe(`period-close:${month}:ACME-US`);
    expect(waiting.entity.workflow!.steps!.filter((s) => s.state === 'done').map((s) => s.name)).toEqual([
      'cut_off',
      'sync',
      'reconcile',
    ]);
    // The scheduler cannot sign off (not a controller); an integration administrator neither.
    expect((await signOff(month, 'dev-scheduler')).status).toBe(403);
    const signed = await signOff(month, 'dev-controller', { decision: 'approve', comment: 'March reviewed' });
    expect(signed.status).toBe(200);

    const done = await until(month, 'the close', (_e, close) => close.status === 'completed');
    expect(done.entity.state).toBe('closed');
    const periods = await request('GET', `/v1/legal-entities/ACME-US/periods?fiscalYear=${fy}`, {
      key: 'dev-planner',
    });
    expect(
      (periods.body.periods as { period: string; status: string }[]).find((p) => p.period === month),
    ).toMatchObject({
      status: 'closed',
    });
    // Locked: a reservation dated in the period is refused.
    const refused = await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `close-${fy}` },
      body: {
        legalEntity: 'ACME-US',
        lines: [usdLine('640500', 'CC-400', month, '10.00')],
      },
    });
    expect(refused.body).toMatchObject({ error: 'period_closed' });

    const report = await request('GET', `/v1/period-closes/${month}/report`, { key: 'dev-planner' });
    const us = (report.body.entities as Record<string, unknown>[]).find((e) => e.legalEntity === 'ACME-US')!;
    expect(us).toMatchObject({
      status: 'closed',
      signedOff: { by: 'dave@acme.example' },
      totals: [
        {
          currency: 'USD',
          budget: '1000.00',
          actual: '400.00',
          variance: '600.00',
          variancePercent: '60.00',
        },
      ],
    });
    const csv = await fetch(`${stack.api!.url}/v1/period-closes/${month}/report?format=csv`, {
      headers: { 'x-api-key': 'dev-controller' },
    });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await csv.text();
    expect(text.split('\n')[0]).toBe(
      'legalEntity,fiscalPeriod,status,account,costCenter,currency,budget,reserved,committed,actual,variance,variancePercent,signedOffBy,signedOffAt',
    );
    expect(text).toContain(`ACME-US,${month},closed,640500,CC-400,USD,1000.00`);

    // A controller reopens with a reason; the entity's close is re-run on purpose and signed off again.
    const reopened = await request('POST', `/v1/legal-entities/ACME-US/periods/${month}/reopen`, {
      key: 'dev-controller',
      body: { reason: 'late accrual for rent' },
    });
    expect(reopened.body).toMatchObject({ outcome: 'reopened' });
    const rerun = await request('POST', `/v1/period-closes/${month}/entities/ACME-US/rerun`, {
      key: 'dev-scheduler',
      body: { reason: 'after the rent accrual', escalateAfter: '1 minute', expireAfter: '1 minute' },
    });
    expect(rerun.status).toBe(202);
    const twice = await request('POST', `/v1/period-closes/${month}/entities/ACME-US/rerun`, {
      key: 'dev-scheduler',
      body: { reason: 'again' },
    });
    expect(twice.status).toBe(409);
    await until(month, 'the re-run awaiting sign-off', (e) => e.workflow?.status === 'awaiting_sign_off');
    expect((await signOff(month, 'dev-controller')).status).toBe(200);
    await until(month, 'the re-run', (e) => e.workflow?.status === 'closed');
    const after = await request('GET', `/v1/legal-entities/ACME-US/periods/${month}/report`, {
      key: 'dev-planner',
    });
    expect((after.body.lockHistory as { action: string }[]).map((h) => h.action)).toEqual(
      expect.arrayContaining(
        ['period.locked', 'period.reopened', 'period.signed_off', 'period.step_retried'].slice(0, 3),
      ),
    );
    expect(after.body).toMatchObject({ status: 'closed' });
  }, 120_000);

  test('an unsigned close escalates, the escalation contact may sign off by signal, the starter may not', async () => {
    const fy = await stack.newFiscalYear();
    const month = `${fy}-03`;
    const started = await request('POST', '/v1/period-closes', {
      key: 'dev-scheduler',
      body: { period: month, legalEntities: ['ACME-US'], escalateAfter: '1 second', expireAfter: '1 minute' },
    });
    expect(started.status).toBe(202);
    const escalated = await until(month, 'the escalation', (e) => e.workflow?.status === 'escalated');
    const handle = stack.client.workflow.getHandle(escalated.entity.workflowId!);
    // From Temporal UI: the scheduler who started the close is refused; the escalation contact is taken.
    const signal = async (principal: string) =>
      handle.signal('decision', await stack.signed(handle.workflowId, { decision: 'approve', principal }));
    await signal('sam@acme.example');
    await until(month, 'the refusal', (e) => (e.workflow?.refusedSignals?.length ?? 0) === 1);
    await signal('carol@acme.example');
    const done = await until(month, 'the close', (_e, close) => close.status === 'completed');
    expect(done.entity.state).toBe('closed');
    const result = (await handle.result()) as {
      signOff: { principal: string };
      refusedSignals: { principal: string; reason: string }[];
    };
    expect(result.signOff.principal).toBe('carol@acme.example');
    expect(result.refusedSignals).toEqual([
      expect.objectContaining({
        principal: 'sam@acme.example',
        reason: expect.stringMatching(/^SegregationOfDuties/),
      }),
    ]);
  }, 120_000);

  test('a close nobody signs ends unsigned and leaves the period open', async () => {
    const fy = await stack.newFiscalYear();
    const month = `${fy}-03`;
    await request('POST', '/v1/period-closes', {
      key: 'dev-controller',
      body: { period: month, legalEntities: ['ACME-US'], escalateAfter: '1 second', expireAfter: '1 second' },
    });
    const done = await until(month, 'the close', (_e, close) => close.status === 'completed');
    expect(done.entity.state).toBe('sign_off_expired');
    const periods = await request('GET', `/v1/legal-entities/ACME-US/periods?fiscalYear=${fy}`, {
      key: 'dev-planner',
    });
    expect(
      (periods.body.periods as { period: string; status: string }[]).find((p) => p.period === month),
    ).toMatchObject({
      status: 'open',
    });
    const report = await request('GET', `/v1/legal-entities/ACME-US/periods/${month}/report`, {
      key: 'dev-planner',
    });
    expect((report.body.lockHistory as { action: string }[]).map((h) => h.action)).toEqual([
      'period.cut_off',
      'period.reconciled',
      'period.sign_off_escalated',
      'period.sign_off_expired',
    ]);
  }, 120_000);

  test('the CLI starts the close, a controller signs off with it, and it follows the close to its end', async () => {
    const fy = await stack.newFiscalYear();
    const month = `${fy}-03`;
    const cli = (key: string, ...args: string[]) => closeloopCli(stack, key, 'close', ...args);
    const started = await cli('dev-scheduler', 'start', month, '--entity', 'ACME-US', '--no-follow');
    expect(started.stdout).toContain(`started period-close:${month}`);
    await expect(
      cli('dev-scheduler', 'start', month, '--entity', 'ACME-US', '--no-follow'),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('409 close_already_started'),
    });
    await until(month, 'awaiting sign-off', (e) => e.workflow?.status === 'awaiting_sign_off');
    const signed = await cli('dev-controller', 'sign-off', month, '--entity', 'ACME-US', '--comment', 'ok');
    expect(signed.stdout).toContain('ACME-US');
    const followed = await cli('dev-planner', 'follow', month);
    expect(followed.stdout).toMatch(/close: COMPLETED completed/);
    expect(followed.stdout).toMatch(new RegExp(`ACME-US\\s+${month}\\s+closed`));
  }, 120_000);

  test('the period-close schedule fires on the fiscal calendar close dates and starts the month that ended', async () => {
    const fy = await stack.newFiscalYear();
    const { scheduleId, closeDates: dates } = await ensurePeriodCloseSchedule(
      stack.client,
      stack.config,
      stack.db,
    );
    expect(dates).toEqual(await closeDates(stack.db, 3));
    // A January calendar: March's close is due three days after the 31st.
    expect(dates).toContain(`${fy}-04-03`);
    const schedule = await stack.client.schedule.getHandle(scheduleId).describe();
    expect(schedule.spec.calendars).toHaveLength(dates.length);
    expect(schedule.action).toMatchObject({ workflowType: 'scheduledPeriodClose' });

    // Fired now (as on a close date): the month three days back is closed, once.
    const now = new Date(Date.now() - 3 * 86_400_000);
    const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    await stack.client.schedule.getHandle(scheduleId).trigger();
    const progress = await until(month, 'the scheduled close', (e) => e.workflow?.execution === 'RUNNING');
    expect(progress.close).toMatchObject({ execution: 'RUNNING', status: 'running' });
    const again = await request('POST', '/v1/period-closes', {
      key: 'dev-scheduler',
      body: { period: month, legalEntities: ['ACME-US'] },
    });
    expect(again.status).toBe(409);
    await stack.client.workflow.getHandle(`period-close:${month}`).terminate('test ends');
  }, 120_000);
});
