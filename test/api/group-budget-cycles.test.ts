import { fromMinor, toMinor } from '../../domain/money';
import { subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { planVersion } from '../harness/cycle';
import { consumeMarchTravel, routeUsToOracle } from '../harness/oracle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

const GROUP = '/v1/group-budget-cycles';

/**
 * A group version: one planning version covering the US services company (published to Dynamics 365 and to
 * corporate finance's Oracle control budget) and the UK subsidiary (Dynamics 365), fanned out into one cycle
 * per entity under a parent that shows them together. Under the default policy the entities are independent:
 * Oracle refusing the US budget leaves the UK's published.
 */
describe('group versions', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function planGroup(fiscalYear: number) {
    await routeUsToOracle(stack, fiscalYear);
    const us = planVersion(stack, fiscalYear, 1);
    const ukRows = subsidiaryBudgetRows('ACME-UK', fiscalYear);
    stack.anaplan.putBudgetVersion({
      legalEntity: 'ACME-UK',
      fiscalYear,
      scenario: 'BUDGET',
      version: 1,
      rows: ukRows,
    });
    const uk = fromMinor(
      ukRows.reduce((t, r) => t + toMinor(r.amount, 'GBP'), 0n),
      'GBP',
    );
    return { us: us.total, uk };
  }

  const start = (fiscalYear: number) =>
    request('POST', GROUP, {
      key: 'dev-planner',
      body: {
        group: 'ACME-GROUP',
        legalEntities: ['ACME-US', 'ACME-UK'],
        fiscalYear,
        version: 1,
        chunkSize: 50,
      },
    });
  const approveAll = async (cycleIds: string[]) => {
    for (const id of cycleIds) {
      await pollCycle(request, id, (s) => s.status === 'awaiting_approval');
      expect(
        (
          await request('POST', `${cyclePath(id)}/decision`, {
            key: 'dev-approver',
            body: { decision: 'approve' },
          })
        ).status,
      ).toBe(200);
    }
  };
  async function pollGroup(
    id: string,
    until: (g: { status: string; entities: { state: string }[] }) => boolean,
  ) {
    for (let i = 0; i < 300; i++) {
      const res = await request('GET', `${GROUP}/${encodeURIComponent(id)}`, { key: 'dev-planner' });
      if (res.status === 200 && until(res.body as never))
        return res.body as Record<string, unknown> & { entities: Record<string, unknown>[] };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${id} did not get there`);
  }

  test('one version, one cycle per entity, each published where its routes say and reconciled; shown together', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const totals = await planGroup(fiscalYear);
    const started = await start(fiscalYear);
    expect(started.status).toBe(202);
    const groupId = `group-budget-cycle:ACME-GROUP:FY${fiscalYear}:BUDGET:v1`;
    expect(started.body).toMatchObject({
      groupCycleId: groupId,
      cycleIds: [
        `budget-cycle:ACME-US:FY${fiscalYear}:BUDGET:v1`,
        `budget-cycle:ACME-UK:FY${fiscalYear}:BUDGET:v1`,
      ],
    });
    // Started again, the group version is refused whole: its cycles are registered already.
    expect((await start(fiscalYear)).status).toBe(409);

    const waiting = await pollGroup(groupId, (g) =>
      g.entities.every((e) => (e as { status?: string }).status === 'awaiting_approval'),
    );
    expect(waiting).toMatchObject({ status: 'running', policy: 'independent', execution: 'RUNNING' });
    await approveAll(started.body.cycleIds as string[]);

    const done = await pollGroup(groupId, (g) => g.status === 'completed');
    expect(done.execution).toBe('COMPLETED');
    expect(done.entities).toEqual([
      expect.objectContaining({
        legalEntity: 'ACME-US',
        state: 'completed',
        publications: [
          expect.objectContaining({ target: 'd365', status: 'published' }),
          expect.objectContaining({ target: 'oracle', status: 'published' }),
        ],
        reconciliation: [
          expect.objectContaining({ target: 'd365', exceptionCount: 0, targetTotal: totals.us }),
          expect.objectContaining({ target: 'oracle', exceptionCount: 0, targetTotal: totals.us }),
        ],
      }),
      expect.objectContaining({
        legalEntity: 'ACME-UK',
        state: 'completed',
        reconciliation: [
          expect.objectContaining({
            target: 'd365',
            exceptionCount: 0,
            targetTotal: totals.uk,
            currency: 'GBP',
          }),
        ],
      }),
    ]);
  });

  test("independent entities: Oracle refusing the US budget leaves the UK's published; a retry after the fix publishes the US once", async () => {
    const fiscalYear = await stack.newFiscalYear();
    const totals = await planGroup(fiscalYear);
    consumeMarchTravel(stack, fiscalYear, '99999999.00');
    const started = await start(fiscalYear);
    const [usCycle, ukCycle] = started.body.cycleIds as [string, string];
    await approveAll([usCycle, ukCycle]);
    const failed: BudgetCycleStatus = await pollCycle(
      request,
      usCycle,
      (s) => s.status === 'publication_failed',
    );
    expect(failed.publications.find((p) => p.target === 'oracle' && p.status === 'failed')?.error).toContain(
      'failed budgetary control validation',
    );
    const uk = await pollCycle(request, ukCycle, (s) => s.status === 'completed');
    expect(uk.reconciliation[0]).toMatchObject({ targetTotal: totals.uk, exceptionCount: 0 });
    const groupId = `group-budget-cycle:ACME-GROUP:FY${fiscalYear}:BUDGET:v1`;
    const partly = await pollGroup(groupId, (g) => g.entities.some((e) => e.state === 'completed'));
    expect(partly).toMatchObject({ status: 'running' });
    expect(partly.entities.map((e) => [e.legalEntity, e.state, e.status])).toEqual([
      ['ACME-US', 'running', 'publication_failed'],
      ['ACME-UK', 'completed', 'completed'],
    ]);

    consumeMarchTravel(stack, fiscalYear, '0.00');
    await stack.client.workflow
      .getHandle(usCycle)
      .signal('retry-publication', { principal: 'sam@acme.example', reason: 'orders cancelled' });
    const done = await pollGroup(groupId, (g) => g.status === 'completed');
    expect(done.entities.map((e) => [e.legalEntity, e.state])).toEqual([
      ['ACME-US', 'completed'],
      ['ACME-UK', 'completed'],
    ]);
    expect(done.entities[0]!.reconciliation).toEqual([
      expect.objectContaining({ target: 'd365', exceptionCount: 0, targetTotal: totals.us }),
      expect.objectContaining({ target: 'oracle', exceptionCount: 0, targetTotal: totals.us }),
    ]);
  });
});
