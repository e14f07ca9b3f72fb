import { budgetRows } from '../../simulators/scenario/services-company';
import { seedServicesCompany } from '../../simulators/scenario/seed';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { erpBudgetTotal, planVersion, sumAmounts } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

const PLANNER = 'dev-planner';
const APPROVER = 'dev-approver';

/**
 * A version may go round the loop more than once on purpose: resubmitted after a rejection, or reforecast
 * again next month. Each trip is a cycle revision; a duplicate start of a revision is still refused, and a
 * version has one open cycle at a time.
 */
describe('cycle revisions', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function start(fiscalYear: number, version: number, extra: Record<string, unknown> = {}) {
    return request('POST', '/v1/budget-cycles', {
      key: PLANNER,
      body: { legalEntity: 'ACME-US', fiscalYear, version, chunkSize: 50, ...extra },
    });
  }
  const poll = (cycleId: string, until: (s: BudgetCycleStatus) => boolean) =>
    pollCycle(request, cycleId, until);
  const decide = (cycleId: string, body: object) =>
    request('POST', `${cyclePath(cycleId)}/decision`, { key: APPROVER, body });

  test('a rejected version, fixed in the planning platform, goes round again as revision 2', async () => {
    const fiscalYear = await stack.newFiscalYear();
    planVersion(stack, fiscalYear, 1);
    const first = await start(fiscalYear, 1);
    expect(first.status).toBe(202);
    const r1 = first.body.cycleId as string;
    await poll(r1, (s) => s.status === 'awaiting_approval');
    expect((await decide(r1, { decision: 'reject', comment: 'Travel is too high' })).status).toBe(200);
    await poll(r1, (s) => s.status === 'rejected');
    // The status reads rejected just before the workflow closes the cycle in the database and ends.
    await stack.client.workflow.getHandle(r1).result();

    // The planner lowers travel in the planning platform and submits the same version again.
    const fixed = budgetRows(fiscalYear, 1).map((r) =>
      r.dimensions.account === '610200' ? { ...r, amount: (Number(r.amount) / 2).toFixed(2) } : r,
    );
    planVersion(stack, fiscalYear, 1, fixed);
    const sameRevision = await start(fiscalYear, 1);
    expect(sameRevision.status).toBe(409);
    expect(sameRevision.body).toMatchObject({ error: 'already_started', cycleId: r1, nextRevision: 2 });

    const second = await start(fiscalYear, 1, { revision: 2 });
    expect(second.status).toBe(202);
    const r2 = second.body.cycleId as string;
    expect(r2).toBe(`budget-cycle:ACME-US:FY${fiscalYear}:BUDGET:v1:r2`);
    const waiting = await poll(r2, (s) => s.status === 'awaiting_approval');
    expect(waiting.total).toEqual({ amount: sumAmounts(fixed.map((r) => r.amount)), currency: 'USD' });
    expect((await start(fiscalYear, 1, { revision: 2 })).status).toBe(409);

    expect((await decide(r2, { decision: 'approve', comment: 'better' })).status).toBe(200);
    const done = await poll(r2, (s) => s.status === 'completed');
    expect(done.reconciliation[0]).toMatchObject({ exceptionCount: 0 });
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(sumAmounts(fixed.map((r) => r.amount)));
  });

  test('the active budget goes round again next month to reforecast, with no new approval and nothing posted again', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { total } = seedServicesCompany(
      { d365: stack.d365, anaplan: stack.anaplan },
      { fiscalYear, version: 1, actualsThrough: `${fiscalYear}-03` },
    );
    const first = await start(fiscalYear, 1, { asOfPeriod: `${fiscalYear}-03` });
    const r1 = first.body.cycleId as string;
    await poll(r1, (s) => s.status === 'awaiting_approval');
    await decide(r1, { decision: 'approve' });
    const march = await poll(r1, (s) => s.status === 'completed');
    await stack.client.workflow.getHandle(r1).result();
    const entries = stack.d365.budgetEntries().length;

    // April closes: its actuals arrive, and the scheduler runs the loop again as of April.
    seedServicesCompany(
      { d365: stack.d365, anaplan: stack.anaplan },
      { fiscalYear, version: 1, actualsThrough: `${fiscalYear}-04` },
    );
    const second = await start(fiscalYear, 1, { revision: 2, asOfPeriod: `${fiscalYear}-04` });
    expect(second.status).toBe(202);
    const april = await poll(second.body.cycleId as string, (s) => s.status === 'completed');
    expect(april.decision).toMatchObject({ principal: 'carol@acme.example', carriedOver: true });
    expect(april.history.map((h) => h.stage)).not.toContain('authorize');
    expect(april.publications).toEqual([expect.objectContaining({ status: 'published', revision: 1 })]);
    expect(stack.d365.budgetEntries()).toHaveLength(entries);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    expect(april.actualsSynced?.inserted).toBe(11);
    expect(april.forecast?.versionName).toBe(`FC FY${fiscalYear} ACME-US from v1 @${fiscalYear}-04`);
    expect(april.forecast?.total).not.toEqual(march.forecast?.total);
  });

  test('a version has one open cycle at a time; a cycle terminated in Temporal UI no longer blocks the next', async () => {
    const fiscalYear = await stack.newFiscalYear();
    planVersion(stack, fiscalYear, 1);
    const first = await start(fiscalYear, 1);
    const r1 = first.body.cycleId as string;
    await poll(r1, (s) => s.status === 'awaiting_approval');
    const blocked = await start(fiscalYear, 1, { revision: 2 });
    expect(blocked.status).toBe(409);
    expect(blocked.body).toMatchObject({ error: 'cycle_open', cycleId: r1 });

    await stack.client.workflow.getHandle(r1).terminate('support: wrong calendar');
    const second = await start(fiscalYear, 1, { revision: 2 });
    expect(second.status).toBe(202);
    await poll(second.body.cycleId as string, (s) => s.status === 'awaiting_approval');
  });
});
