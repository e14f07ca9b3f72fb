import { sql } from 'drizzle-orm';
import { MANUFACTURER } from '../../db/seed/manufacturer';
import { activateBudgetLines } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Projects and grants (issue 22) on the manufacturer: a grant-funded project's funding is controlled life to
 * date across fiscal years, its indirect cost counting against the award where the grant says so; spend
 * outside the award period, on a planned or closed project, is refused with the reason; closing a project
 * while money stands on it is refused, naming what stands.
 */
describe('projects and grants', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: false });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const projects = `/v1/legal-entities/${MANUFACTURER}/projects`;
  const putProject = (code: string, body: object) =>
    request('PUT', `${projects}/${code}`, { key: 'dev-admin', body: { source: 'd365', ...body } });
  const periodsOf = async (fiscalYear: number) =>
    (
      await request('GET', `/v1/legal-entities/${MANUFACTURER}/periods?fiscalYear=${fiscalYear}`, {
        key: 'dev-planner',
      })
    ).body.periods as { period: string; startDate: string; endDate: string }[];
  const reserve = (key: string, period: string, amount: string, project: string) =>
    request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': key },
      body: {
        legalEntity: MANUFACTURER,
        lines: [
          {
            account: '520300',
            costCenter: 'CC-700',
            period,
            amount: { amount, currency: 'USD' },
            dimensions: { department: 'ENG', project },
          },
        ],
      },
    });
  type Line = { reason: string; controlBudgets: Record<string, unknown>[] };
  const lineOf = (r: { body: Record<string, unknown> }) => (r.body.lines as Line[])[0]!;

  test('a grant runs out across a year boundary, indirect cost included; outside its award, planned or closed, spend is refused', async () => {
    const fy = await stack.newFiscalYear();
    const next = await stack.newFiscalYear();
    const [thisYear, nextYear] = [await periodsOf(fy), await periodsOf(next)];
    const [nov, dec, jan, apr] = [thisYear[10]!, thisYear[11]!, nextYear[0]!, nextYear[3]!];
    // The bucket has room in both years; the grant is what limits.
    for (const [year, period] of [
      [fy, dec],
      [next, jan],
      [next, apr],
    ] as const)
      await activateBudgetLines(stack.db, {
        legalEntity: MANUFACTURER,
        fiscalYear: year,
        currency: 'USD',
        periods: [period.period],
        lines: [
          {
            dimensions: {
              company: MANUFACTURER,
              ledger: 'PRIMARY',
              account: '520300',
              costCenter: 'CC-700',
              department: 'ENG',
            },
            period: period.period,
            amount: '10000.00',
          },
        ],
      });
    const grant = {
      grantId: 'NSF-2291',
      name: 'Line 3 automation research',
      awarded: { amount: '1000.00', currency: 'USD' },
      awardFrom: nov.startDate,
      awardTo: nextYear[1]!.endDate,
      indirectRatePercent: '10',
      indirectCountsAgainstFunding: true,
    };
    const bad = await putProject('P-101', {
      name: 'Line 3 automation',
      status: 'active',
      grant: { ...grant, awardTo: '2000-01-01' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('awardTo');
    const put = await putProject('P-101', { name: 'Line 3 automation', status: 'active', grant });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ outcome: 'created', overBudget: [] });
    expect(
      (await putProject('P-101', { name: 'Line 3 automation', status: 'active', grant })).body,
    ).toMatchObject({
      outcome: 'unchanged',
    });
    expect((await putProject('P-102', { name: 'Monterrey expansion', status: 'planned' })).status).toBe(201);
    const listed = await request('GET', projects, { key: 'dev-planner' });
    expect(listed.body.projects).toEqual([
      expect.objectContaining({
        code: 'P-101',
        status: 'active',
        grant: expect.objectContaining({ grantId: 'NSF-2291' }),
      }),
      expect.objectContaining({ code: 'P-102', status: 'planned', grant: null }),
    ]);

    // December: 600 plus 10% indirect = 660 of the 1000 awarded.
    const december = await reserve(`grant-dec-${fy}`, dec.period, '600.00', 'P-101');
    expect(december.status).toBe(201);
    expect(lineOf(december).controlBudgets).toEqual([
      expect.objectContaining({
        controlBudget: 'FUNDING[project=P-101]',
        counted: '660.00',
        budget: '1000.00',
        availableAfter: '340.00',
        pooledPeriods: [nov.period, dec.period],
      }),
    ]);
    // January of the next fiscal year draws on what the award has left: 320 (352 with indirect) does not fit.
    const tooMuch = await reserve(`grant-jan-a-${fy}`, jan.period, '320.00', 'P-101');
    expect(tooMuch.body).toMatchObject({ outcome: 'rejected', reserved: false });
    expect(lineOf(tooMuch).reason).toBe(
      'control budget FUNDING[project=P-101]: over budget (absolute control)',
    );
    expect(lineOf(tooMuch).controlBudgets[0]).toMatchObject({
      counted: '352.00',
      availableBefore: '340.00',
      pooledPeriods: expect.arrayContaining([
        nov.period,
        dec.period,
        ...thisYear.slice(12).map((p) => p.period),
        jan.period,
      ]),
    });
    expect((await reserve(`grant-jan-b-${fy}`, jan.period, '300.00', 'P-101')).status).toBe(201);

    // April is after the award: refused with the reason, whatever the funds.
    const april = await reserve(`grant-apr-${fy}`, apr.period, '1.00', 'P-101');
    expect(april.status).toBe(422);
    expect(april.body).toMatchObject({ error: 'project_not_open' });
    expect(JSON.stringify(april.body)).toContain(
      `period ${apr.period} is outside the award period of grant NSF-2291`,
    );
    const planned = await reserve(`planned-${fy}`, jan.period, '1.00', 'P-102');
    expect(JSON.stringify(planned.body)).toContain('project P-102 is planned, not active yet');

    // Closing: refused while reservations stand on P-101; P-102 has nothing on it and closes.
    const refused = await request('POST', `${projects}/P-101/close`, {
      key: 'dev-controller',
      body: { reason: 'research complete' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: 'money_stands_on_project',
      standing: { reservations: 2 },
    });
    const closed = await request('POST', `${projects}/P-102/close`, {
      key: 'dev-controller',
      body: { reason: 'expansion cancelled' },
    });
    expect(closed.body).toMatchObject({ outcome: 'closed' });
    const onClosed = await reserve(`closed-${fy}`, jan.period, '1.00', 'P-102');
    expect(JSON.stringify(onClosed.body)).toContain('project P-102 is closed');
    const audit = (await stack.db.execute(sql`
      select action from audit_log where stream = ${`control:${MANUFACTURER}`} and entity_type = 'project' order by seq`)) as unknown as {
      action: string;
    }[];
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['project.created', 'project.closure_refused', 'project.changed']),
    );

    // Released, the funding is given back with its indirect cost.
    await request('POST', `/v1/budget-control/reservations/grant-dec-${fy}/release`, {
      key: 'dev-procurement',
      body: { legalEntity: MANUFACTURER },
    });
    const match = await request('POST', `/v1/budget-control/control-budgets/${MANUFACTURER}/match`, {
      key: 'dev-controller',
      body: { dimensions: { account: '520300', costCenter: 'CC-700', project: 'P-101' }, period: jan.period },
    });
    expect(match.body.budgets).toEqual([
      expect.objectContaining({
        controlBudget: 'FUNDING[project=P-101]',
        figures: [
          expect.objectContaining({
            budget: { amount: '1000.00', currency: 'USD' },
            reserved: { amount: '330.00', currency: 'USD' },
            available: { amount: '670.00', currency: 'USD' },
          }),
        ],
      }),
    ]);
  });
});
