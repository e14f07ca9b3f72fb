import { sql } from 'drizzle-orm';
import { budgetRows } from '../../simulators/scenario/services-company';
import { erpBudgetTotal, planVersion, sumAmounts } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

const PLANNER = 'dev-planner';
const APPROVER = 'dev-approver';
const CONTROLLER = 'dev-controller';

/**
 * Scenario as data: versions carry their scenario from the planning platform; one scenario per entity and
 * year is in control (published, reserved against); any other is validated, approved and kept for reports.
 */
describe('scenarios', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const budgets = (fiscalYear: number) => `/v1/legal-entities/ACME-US/budgets/${fiscalYear}`;
  async function approveThrough(scenario: string, fiscalYear: number, version: number, until: string) {
    const started = await request('POST', '/v1/budget-cycles', {
      key: PLANNER,
      body: { legalEntity: 'ACME-US', fiscalYear, scenario, version, chunkSize: 50 },
    });
    expect(started.status).toBe(202);
    const cycleId = started.body.cycleId as string;
    await pollCycle(request, cycleId, (s) => s.status === 'awaiting_approval');
    const decided = await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: APPROVER,
      body: { decision: 'approve', comment: 'ok' },
    });
    expect(decided.status).toBe(200);
    return { cycleId, status: await pollCycle(request, cycleId, (s) => s.status === until) };
  }

  test('a DOWNSIDE version is approved and kept, never published; the BUDGET in control is; both are reportable', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const control = await request('GET', `${budgets(fiscalYear)}/control-scenario`, { key: PLANNER });
    expect(control.body).toMatchObject({ scenario: 'BUDGET', changedBy: null });

    // The planning platform's downside: every line at 80%.
    const base = budgetRows(fiscalYear, 1);
    const downside = base.map((r) => ({ ...r, amount: ((Number(r.amount) * 8) / 10).toFixed(2) }));
    stack.anaplan.putBudgetVersion({
      legalEntity: 'ACME-US',
      fiscalYear,
      scenario: 'DOWNSIDE',
      version: 1,
      rows: downside,
    });
    const kept = await approveThrough('DOWNSIDE', fiscalYear, 1, 'kept');
    expect(kept.cycleId).toBe(`budget-cycle:ACME-US:FY${fiscalYear}:DOWNSIDE:v1`);
    expect(kept.status.stage).toBe('done');
    expect(kept.status.outcomeReason).toContain('DOWNSIDE is not the scenario in control');
    expect(kept.status.publications).toEqual([]);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe('0.00');
    const [held] = (await stack.db.execute(sql`
      select count(*)::int as n from control_balances cb join budget_versions v on v.id = cb.version_id
       where v.legal_entity = 'ACME-US' and v.fiscal_year = ${fiscalYear}`)) as unknown as { n: number }[];
    expect(held!.n).toBe(0);
    const [audited] = (await stack.db.execute(sql`
      select details from audit_log where action = 'budget_version.kept'
         and entity_id = (select id::text from budget_versions where legal_entity = 'ACME-US'
                            and fiscal_year = ${fiscalYear} and scenario = 'DOWNSIDE')`)) as unknown as {
      details: Record<string, unknown>;
    }[];
    expect(audited!.details).toMatchObject({ scenario: 'DOWNSIDE', controlScenario: 'BUDGET' });

    const budget = planVersion(stack, fiscalYear, 1, base);
    await approveThrough('BUDGET', fiscalYear, 1, 'completed');
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(budget.total);

    // The downside against the budget, by cost center: the groups add up to the totals.
    const report = await request(
      'GET',
      `${budgets(fiscalYear)}/report?scenario=DOWNSIDE&compareTo=BUDGET&groupBy=costCenter`,
      { key: PLANNER },
    );
    expect(report.status).toBe(200);
    const downsideTotal = sumAmounts(downside.map((r) => r.amount));
    expect(report.body).toMatchObject({
      scenario: 'DOWNSIDE',
      inControl: false,
      version: { number: 1, status: 'active' },
      compareTo: { scenario: 'BUDGET', number: 1 },
      groupBy: ['costCenter'],
      totals: [
        {
          currency: 'USD',
          figures: {
            amount: downsideTotal,
            compared: budget.total,
            difference: sumAmounts([downsideTotal, `-${budget.total}`]),
          },
        },
      ],
    });
    const groups = report.body.groups as { key: { costCenter: string }; figures: { amount: string } }[];
    expect(new Set(groups.map((g) => g.key.costCenter))).toEqual(
      new Set(base.map((r) => r.dimensions.costCenter)),
    );
    expect(sumAmounts(groups.map((g) => g.figures.amount))).toBe(downsideTotal);

    // Without a scenario: the one in control.
    const inControl = await request('GET', `${budgets(fiscalYear)}/report?groupBy=account,costCenter`, {
      key: PLANNER,
    });
    expect(inControl.body).toMatchObject({ scenario: 'BUDGET', inControl: true, compareTo: null });
    expect((inControl.body.totals as { figures: { amount: string } }[])[0]!.figures.amount).toBe(
      budget.total,
    );

    // The same as a spreadsheet: the grouping's column, the currency and the figures, then the total.
    const csv = await fetch(
      `${stack.api!.url}${budgets(fiscalYear)}/report?scenario=DOWNSIDE&compareTo=BUDGET&groupBy=costCenter&format=csv`,
      { headers: { 'x-api-key': PLANNER } },
    );
    const csvRows = (await csv.text()).trim().split('\n');
    expect(csvRows[0]).toBe('costCenter,currency,amount,compared,difference');
    expect(csvRows.at(-1)).toBe(
      `TOTAL,USD,${downsideTotal},${budget.total},${sumAmounts([downsideTotal, `-${budget.total}`])}`,
    );

    // With both past approval, control cannot move to the downside: the answer names why.
    const refused = await request('PUT', `${budgets(fiscalYear)}/control-scenario`, {
      key: CONTROLLER,
      body: { scenario: 'DOWNSIDE', reason: 'Board adopted the downside' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('control_scenario_in_use');
    expect(refused.body.message).toContain('BUDGET v1 is active');
    expect(refused.body.message).toContain('DOWNSIDE v1 is active');
  });

  test('a controller puts FORECAST in control of a year before anything is approved, audited; its versions then publish', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const path = `${budgets(fiscalYear)}/control-scenario`;
    const body = { scenario: 'FORECAST', reason: 'FY control moves to the rolling forecast' };
    expect((await request('PUT', path, { key: PLANNER, body })).status).toBe(403);
    const bad = await request('PUT', path, { key: CONTROLLER, body: { scenario: 'forecast', reason: 'x' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('scenario');

    const changed = await request('PUT', path, { key: CONTROLLER, body });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      scenario: 'FORECAST',
      changed: true,
      changedBy: 'dave@acme.example',
    });
    // Again: nothing changes.
    expect((await request('PUT', path, { key: CONTROLLER, body })).body).toMatchObject({ changed: false });
    const [audit] = (await stack.db.execute(sql`
      select actor, details from audit_log where action = 'budget.control_scenario_changed'
         and entity_id = ${`ACME-US:FY${fiscalYear}`}`)) as unknown as {
      actor: string;
      details: Record<string, unknown>;
    }[];
    expect(audit).toMatchObject({
      actor: 'dave@acme.example',
      details: { from: 'BUDGET', to: 'FORECAST', reason: body.reason },
    });

    // Now a BUDGET version is kept and the FORECAST publishes.
    const rows = budgetRows(fiscalYear, 1);
    planVersion(stack, fiscalYear, 1, rows);
    await approveThrough('BUDGET', fiscalYear, 1, 'kept');
    stack.anaplan.putBudgetVersion({
      legalEntity: 'ACME-US',
      fiscalYear,
      scenario: 'FORECAST',
      version: 1,
      rows,
    });
    await approveThrough('FORECAST', fiscalYear, 1, 'completed');
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(sumAmounts(rows.map((r) => r.amount)));
  });

  test('a report names what it cannot group by or find', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const noDim = await request('GET', `${budgets(fiscalYear)}/report?groupBy=plant`, { key: PLANNER });
    expect(noDim.status).toBe(422);
    expect(JSON.stringify(noDim.body)).toContain('no dimension plant');
    const badTerm = await request('GET', `${budgets(fiscalYear)}/report?groupBy=Account`, { key: PLANNER });
    expect(badTerm.status).toBe(400);
    const none = await request('GET', `${budgets(fiscalYear)}/report?scenario=BASE`, { key: PLANNER });
    expect(none.status).toBe(404);
    expect(none.body.message).toContain('BASE has no active version');
  });
});
