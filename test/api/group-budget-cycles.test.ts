import { fromMinor, toMinor } from '../../domain/money';
import { subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { planVersion, resetCycle, workflowTaskPoints } from '../harness/cycle';
import { consumeMarchTravel, oracleTotal, routeUsToOracle } from '../harness/oracle';
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

  const start = (fiscalYear: number, policy?: string) =>
    request('POST', GROUP, {
      key: 'dev-planner',
      body: {
        group: 'ACME-GROUP',
        legalEntities: ['ACME-US', 'ACME-UK'],
        fiscalYear,
        version: 1,
        chunkSize: 50,
        ...(policy ? { policy } : {}),
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
  const groupId = (fiscalYear: number) => `group-budget-cycle:ACME-GROUP:FY${fiscalYear}:BUDGET:v1`;
  /** What Dynamics 365 holds of an entity's budget for the year (its company, in its currency). */
  const erpTotalOf = async (legalEntity: 'ACME-UK', fiscalYear: number) => {
    const totals = await stack.erps.d365.fetchBudgetTotals({
      target: { company: 'acuk', settings: { budgetModel: 'FY-BUDGET', budgetCode: 'Original' } },
      // The UK's April–March year FY<n> ends in March of n.
      fromDate: `${fiscalYear - 1}-04-01`,
      toDate: `${fiscalYear}-03-31`,
    });
    return fromMinor(
      totals.reduce((t, x) => t + toMinor(x.amount.amount, 'GBP'), 0n),
      'GBP',
    );
  };
  /** The orders are cancelled in Oracle and support retries the US publication: the group completes. */
  async function retryTheUsOnceFixed(fiscalYear: number, usCycle: string) {
    consumeMarchTravel(stack, fiscalYear, '0.00');
    await stack.client.workflow
      .getHandle(usCycle)
      .signal('retry-publication', { principal: 'sam@acme.example', reason: 'orders cancelled' });
    const done = await pollGroup(groupId(fiscalYear), (g) => g.status === 'completed');
    expect(done.entities.map((e) => [e.legalEntity, e.state])).toEqual([
      ['ACME-US', 'completed'],
      ['ACME-UK', 'completed'],
    ]);
    return done;
  }
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
    const groupCycleId = groupId(fiscalYear);
    expect(started.body).toMatchObject({
      groupCycleId,
      cycleIds: [
        `budget-cycle:ACME-US:FY${fiscalYear}:BUDGET:v1`,
        `budget-cycle:ACME-UK:FY${fiscalYear}:BUDGET:v1`,
      ],
    });
    // Started again, the group version is refused whole: its cycles are registered already.
    expect((await start(fiscalYear)).status).toBe(409);

    const waiting = await pollGroup(groupCycleId, (g) =>
      g.entities.every((e) => (e as { status?: string }).status === 'awaiting_approval'),
    );
    expect(waiting).toMatchObject({ status: 'running', policy: 'independent', execution: 'RUNNING' });
    await approveAll(started.body.cycleIds as string[]);

    // The parent's status reads completed just before its execution closes.
    const done = await pollGroup(
      groupCycleId,
      (g) => g.status === 'completed' && (g as { execution?: string }).execution === 'COMPLETED',
    );
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
    const groupCycleId = groupId(fiscalYear);
    const partly = await pollGroup(groupCycleId, (g) => g.entities.some((e) => e.state === 'completed'));
    expect(partly).toMatchObject({ status: 'running' });
    expect(partly.entities.map((e) => [e.legalEntity, e.state, e.status])).toEqual([
      ['ACME-US', 'running', 'publication_failed'],
      ['ACME-UK', 'completed', 'completed'],
    ]);

    const done = await retryTheUsOnceFixed(fiscalYear, usCycle);
    expect(done.entities[0]!.reconciliation).toEqual([
      expect.objectContaining({ target: 'd365', exceptionCount: 0, targetTotal: totals.us }),
      expect.objectContaining({ target: 'oracle', exceptionCount: 0, targetTotal: totals.us }),
    ]);
  });

  test('all or nothing: the UK waits for the US; Oracle refusing the US takes the UK back out until the retry, then both land once', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const totals = await planGroup(fiscalYear);
    consumeMarchTravel(stack, fiscalYear, '99999999.00');
    const started = await start(fiscalYear, 'all-or-nothing');
    expect(started.status).toBe(202);
    const [usCycle, ukCycle] = started.body.cycleIds as [string, string];
    const groupCycleId = groupId(fiscalYear);
    await approveAll([ukCycle]);
    // Published, the UK waits for the rest of the group before its budget is in control.
    await pollCycle(request, ukCycle, (s) => s.status === 'awaiting_group');
    expect(await erpTotalOf('ACME-UK', fiscalYear)).toBe(totals.uk);

    await approveAll([usCycle]);
    await pollCycle(request, usCycle, (s) => s.status === 'publication_failed');
    const stood = await pollCycle(request, ukCycle, (s) => s.status === 'stood_down');
    expect(stood.outcomeReason).toBe('ACME-US failed to publish: the group version lands all or nothing');
    expect(await erpTotalOf('ACME-UK', fiscalYear)).toBe('0.00');
    const waiting = await pollGroup(groupCycleId, (g) => g.entities.every((e) => e.state === 'running'));
    expect(waiting.entities.map((e) => [e.legalEntity, e.group])).toEqual([
      ['ACME-US', 'failed'],
      ['ACME-UK', 'stood_down'],
    ]);

    const done = await retryTheUsOnceFixed(fiscalYear, usCycle);
    // Each ERP holds each budget once: the UK's first postings were taken back out, its second stand.
    expect(done.entities[1]!.reconciliation).toEqual([
      expect.objectContaining({ target: 'd365', exceptionCount: 0, targetTotal: totals.uk }),
    ]);
    expect(await erpTotalOf('ACME-UK', fiscalYear)).toBe(totals.uk);
    expect(oracleTotal(stack, fiscalYear)).toBe(totals.us);

    // Support resets the group's parent in Temporal UI at its first workflow task: its cycles run again,
    // carry their approvals and publications over, and nothing is posted twice in either ERP.
    const entries = stack.d365.budgetEntries().length;
    const [first] = await workflowTaskPoints(stack.client.workflow.getHandle(groupCycleId));
    const replayed = (await resetCycle(stack, groupCycleId, first!)) as unknown as { status: string };
    expect(replayed.status).toBe('completed');
    const again = await pollGroup(groupCycleId, (g) => g.status === 'completed');
    expect(again.entities.map((e) => [e.legalEntity, e.state])).toEqual([
      ['ACME-US', 'completed'],
      ['ACME-UK', 'completed'],
    ]);
    expect(stack.d365.budgetEntries()).toHaveLength(entries);
    expect(await erpTotalOf('ACME-UK', fiscalYear)).toBe(totals.uk);
    expect(oracleTotal(stack, fiscalYear)).toBe(totals.us);
  }, 120_000);

  test('all or nothing: a group that can no longer land everywhere takes back what its other entities posted', async () => {
    const fiscalYear = await stack.newFiscalYear();
    await planGroup(fiscalYear);
    const started = await start(fiscalYear, 'all-or-nothing');
    const [usCycle, ukCycle] = started.body.cycleIds as [string, string];
    await approveAll([ukCycle]);
    await pollCycle(request, ukCycle, (s) => s.status === 'awaiting_group');
    await pollCycle(request, usCycle, (s) => s.status === 'awaiting_approval');
    await request('POST', `${cyclePath(usCycle)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'reject', comment: 'not this year' },
    });
    const done = await pollGroup(groupId(fiscalYear), (g) => g.status === 'completed');
    expect(done.entities.map((e) => [e.legalEntity, e.state])).toEqual([
      ['ACME-US', 'rejected'],
      ['ACME-UK', 'withdrawn'],
    ]);
    expect(done.entities[1]!.reason).toContain("ACME-US's cycle ended rejected");
    expect(await erpTotalOf('ACME-UK', fiscalYear)).toBe('0.00');
  });
});
