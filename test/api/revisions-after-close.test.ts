import { sql } from 'drizzle-orm';
import { type PeriodMove } from '../../domain/budget-validation';
import { budgetRows } from '../../simulators/scenario/services-company';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { erpBudgetTotal, planVersion } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * A budget is revised after a period close, as finance teams do every month: the closed period keeps what is
 * in control, and the revision reaches Dynamics 365 as its differences only, under a budget code of the
 * Revision type, none of them dated in a closed period.
 */
describe('revising a budget after a period close', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  type Row = ReturnType<typeof budgetRows>[number];
  const poll = (cycleId: string, until: (s: BudgetCycleStatus) => boolean) =>
    pollCycle(request, cycleId, until);
  async function cycle(fiscalYear: number, version: number, rows: Row[]) {
    planVersion(stack, fiscalYear, version, rows);
    const started = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity: 'ACME-US', fiscalYear, version, chunkSize: 50 },
    });
    expect(started.status).toBe(202);
    const cycleId = started.body.cycleId as string;
    const waiting = await poll(cycleId, (s) => s.status !== 'importing');
    return { cycleId, waiting };
  }
  async function approveAndFinish(cycleId: string) {
    const decided = await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve' },
    });
    expect(decided.status).toBe(200);
    return poll(cycleId, (s) => ['completed', 'publication_failed'].includes(s.status));
  }
  const lock = async (period: string) =>
    expect(
      (
        await request('POST', `/v1/legal-entities/ACME-US/periods/${period}/lock`, {
          key: 'dev-controller',
          body: {},
        })
      ).body,
    ).toMatchObject({ outcome: 'locked' });
  const isLine = (r: Row, account: string, costCenter: string, period: string) =>
    r.dimensions.account === account && r.dimensions.costCenter === costCenter && r.period === period;
  const plus = (amount: string, more: string) => (Number(amount) + Number(more)).toFixed(2);
  /** Entries of the company's budget model in the ERP, with their lines, after the first `skip`. */
  const entriesAfter = (skip: number) =>
    stack.d365
      .budgetEntries()
      .slice(skip)
      .map((e) => ({
        code: e.BudgetCode,
        lines: e.lines.map((l) => ({
          date: String(l.EntryDate).slice(0, 10),
          account: String(l.DimensionDisplayValue),
          amount: String(l.TransactionCurrencyAmount),
        })),
      }));

  test('after the March close, a revision that changes one June line sends Dynamics 365 that one line, in June, as a revision; a change to March is refused naming it', async () => {
    const fy = await stack.newFiscalYear();
    const v1 = budgetRows(fy, 1);
    const first = await cycle(fy, 1, v1);
    expect((await approveAndFinish(first.cycleId)).status).toBe('completed');
    await lock(`${fy}-03`);
    const before = stack.d365.budgetEntries().length;

    // Version 2: March carries exactly what is in control; one June line grows by 1,000.00.
    const v2 = v1.map((r) =>
      isLine(r, '600100', 'CC-100', `${fy}-06`) ? { ...r, amount: plus(r.amount, '1000.00') } : r,
    );
    const second = await cycle(fy, 2, v2);
    expect(second.waiting).toMatchObject({ status: 'awaiting_approval', issueCount: 0 });
    const done = await approveAndFinish(second.cycleId);
    expect(done.status).toBe('completed');
    expect(done.reconciliation[0]).toMatchObject({ exceptionCount: 0 });

    expect(entriesAfter(before)).toEqual([
      {
        code: 'Revision',
        lines: [{ date: `${fy}-06-01`, account: '60010-100', amount: '1000.00' }],
      },
    ]);
    const v2Total = (await request('GET', cyclePath(second.cycleId), { key: 'dev-planner' })).body.total as {
      amount: string;
    };
    expect(await erpBudgetTotal(stack, fy)).toBe(v2Total.amount);
    const [balance] = (await stack.db.execute(sql`
      select budget::numeric(18,2)::text as budget from control_balances
       where legal_entity = 'ACME-US' and account = '600100' and cost_center = 'CC-100' and period = ${`${fy}-06`}`)) as unknown as {
      budget: string;
    }[];
    expect(balance!.budget).toBe(v2.find((r) => isLine(r, '600100', 'CC-100', `${fy}-06`))!.amount);

    // Version 3 changes a March line: refused before anyone is asked, naming the line and the change.
    const march = v2.find((r) => isLine(r, '610200', 'CC-300', `${fy}-03`))!;
    const v3 = v2.map((r) => (r === march ? { ...r, amount: plus(r.amount, '250.00') } : r));
    const third = await cycle(fy, 3, v3);
    expect(third.waiting.status).toBe('invalid');
    expect(third.waiting.issues).toEqual([
      expect.objectContaining({
        lineNo: v3.indexOf(v3.find((r) => isLine(r, '610200', 'CC-300', `${fy}-03`))!) + 1,
        code: 'period_closed',
        message: `610200/CC-300 in closed period ${fy}-03 would change from ${march.amount} to ${plus(march.amount, '250.00')} USD; a closed period keeps what is in control (${march.amount})`,
      }),
    ]);
    expect(entriesAfter(before)).toHaveLength(1);

    // A version equal to what is in control becomes active and posts nothing at all.
    const fourth = await cycle(fy, 4, v2);
    const same = await approveAndFinish(fourth.cycleId);
    expect(same).toMatchObject({
      status: 'completed',
      publications: [{ status: 'published', chunkCount: 0 }],
    });
    expect(same.reconciliation[0]).toMatchObject({ exceptionCount: 0 });
    expect(entriesAfter(before)).toHaveLength(1);
  });

  test('where the entity moves changes to the next open period, the move shows in the cycle, the review and reconciliation, and posts in April', async () => {
    await stack.db.execute(
      sql`update legal_entities set closed_period_policy = 'next_open_period' where code = 'ACME-US'`,
    );
    try {
      const fy = await stack.newFiscalYear();
      const v1 = budgetRows(fy, 1);
      expect((await approveAndFinish((await cycle(fy, 1, v1)).cycleId)).status).toBe('completed');
      await lock(`${fy}-03`);
      const before = stack.d365.budgetEntries().length;

      const v2 = v1.map((r) =>
        isLine(r, '600100', 'CC-100', `${fy}-03`) ? { ...r, amount: plus(r.amount, '500.00') } : r,
      );
      const { cycleId, waiting } = await cycle(fy, 2, v2);
      const move: PeriodMove = {
        dimensions: { account: '600100', costCenter: 'CC-100' },
        from: `${fy}-03`,
        to: `${fy}-04`,
        amount: { amount: '500.00', currency: 'USD' },
      };
      expect(waiting).toMatchObject({ status: 'awaiting_approval', periodMoves: [move] });
      const review = await request('GET', `/v1/approvals/${encodeURIComponent(cycleId)}/review`, {
        key: 'dev-approver',
      });
      expect(review.body).toMatchObject({ periodMoves: [move] });

      const done = await approveAndFinish(cycleId);
      expect(done.status).toBe('completed');
      expect(done.reconciliation[0]).toMatchObject({ exceptionCount: 0 });
      expect(entriesAfter(before)).toEqual([
        { code: 'Revision', lines: [{ date: `${fy}-04-01`, account: '60010-100', amount: '500.00' }] },
      ]);
      const rec = await request('GET', `${cyclePath(cycleId)}/reconciliation`, { key: 'dev-planner' });
      expect(rec.body.periodMoves).toEqual([move]);
      const lines = (
        rec.body.runs as {
          lines: { period: string; account: string; sourceAmount: string; periodMoves?: PeriodMove[] }[];
        }[]
      )[0]!.lines;
      const april = lines.find((l) => l.period === `${fy}-04` && l.account === '600100')!;
      const marchLine = lines.find((l) => l.period === `${fy}-03` && l.account === '600100')!;
      expect(april.periodMoves).toEqual([move]);
      expect(marchLine.periodMoves).toEqual([move]);
      // March keeps what is in control; April expects its own plan plus the move.
      const sum = (period: string) =>
        v1
          .filter((r) => r.dimensions.account === '600100' && r.period === period)
          .reduce((t, r) => t + Math.round(Number(r.amount) * 100), 0);
      expect(marchLine.sourceAmount).toBe((sum(`${fy}-03`) / 100).toFixed(2));
      expect(april.sourceAmount).toBe(((sum(`${fy}-04`) + 50_000) / 100).toFixed(2));
    } finally {
      await stack.db.execute(
        sql`update legal_entities set closed_period_policy = 'dead_letter' where code = 'ACME-US'`,
      );
    }
  });
});
