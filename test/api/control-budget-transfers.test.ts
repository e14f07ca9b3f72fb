import { MANUFACTURER } from '../../db/seed/manufacturer';
import { seedManufacturer } from '../../simulators/scenario/seed';
import { activateBudgetLines } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Transfers on any dimension (issue 22): budget moves between departments' travel budgets within one cost
 * center's travel bucket, approved and posted to Dynamics 365 with every dimension; a source department short
 * of the amount refuses the transfer and nothing moves; the moves survive a later change of the control model.
 */
describe('transfers between control budgets', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, d365: { budgetBalanceUpdateMs: 0 } });
    request = apiClient(stack.api!.url);
    seedManufacturer({ d365: stack.d365 });
  });
  afterAll(() => stack?.stop());

  const base = `/v1/budget-control/control-budgets/${MANUFACTURER}`;
  const travelByDepartment = async (period: string) =>
    Object.fromEntries(
      (
        (await request('GET', `${base}/TRAVEL-DEPT/balances?period=${period}`, { key: 'dev-controller' }))
          .body.budgets as { controlBudget: string; budget: { amount: string } }[]
      ).map((b) => [b.controlBudget, b.budget.amount]),
    );
  const side = (department: string, period: string) => ({
    account: '610200',
    costCenter: 'CC-790',
    period,
    dimensions: { department },
  });
  async function transfer(key: string, from: object, to: object, amount: string) {
    const asked = await request('POST', '/v1/budget-control/transfers', {
      key: 'dev-controller',
      headers: { 'idempotency-key': key },
      body: {
        legalEntity: MANUFACTURER,
        kind: 'transfer',
        from,
        to,
        amount: { amount, currency: 'USD' },
        reason: 'Engineering travels to the customer site this quarter',
      },
    });
    expect(asked.status).toBe(202);
    const id = asked.body.id as string;
    expect(
      (
        await request('POST', `/v1/budget-control/transfers/${id}/decision`, {
          key: 'dev-approver',
          body: { decision: 'approve', comment: 'agreed by both heads' },
        })
      ).status,
    ).toBe(200);
    for (let i = 0; i < 120; i++) {
      const r = await request('GET', `/v1/budget-control/transfers/${id}`, { key: 'dev-controller' });
      if (['published', 'refused', 'publication_failed'].includes(String(r.body.status))) return r.body;
      await new Promise((res) => setTimeout(res, 250));
    }
    throw new Error(`transfer ${id} did not settle`);
  }

  test('budget moves between departments of one bucket, posted with every dimension; a short source refuses it', async () => {
    const put = await request('PUT', `${base}/TRAVEL-DEPT`, {
      key: 'dev-controller',
      body: {
        description: 'travel per department, by quarter',
        covers: { account: [{ under: 'TRAVEL' }] },
        per: 'department',
        level: 'absolute',
        periodBasis: 'quarter',
        validFrom: '2020-01-01',
        reason: 'travel is a department’s budget',
      },
    });
    expect(put.status).toBe(201);
    const fy = await stack.newFiscalYear();
    const p2 = `${fy}-02`;
    const line = (department: string, amount: string) => ({
      dimensions: {
        company: MANUFACTURER,
        ledger: 'PRIMARY',
        account: '610200',
        costCenter: 'CC-790',
        department,
      },
      period: p2,
      amount,
    });
    await activateBudgetLines(stack.db, {
      legalEntity: MANUFACTURER,
      fiscalYear: fy,
      currency: 'USD',
      periods: [p2],
      lines: [line('SALES', '5000.00'), line('ENG', '1000.00')],
    });
    expect(await travelByDepartment(p2)).toEqual({
      'TRAVEL-DEPT[department=ENG]': '1000.00',
      'TRAVEL-DEPT[department=SALES]': '5000.00',
    });

    const moved = await transfer(`dept-move-${fy}`, side('SALES', p2), side('ENG', p2), '2000.00');
    expect(moved).toMatchObject({ status: 'published', fromDimensions: { department: 'SALES' } });
    expect(await travelByDepartment(p2)).toEqual({
      'TRAVEL-DEPT[department=ENG]': '3000.00',
      'TRAVEL-DEPT[department=SALES]': '3000.00',
    });
    // Posted to acmf with each side's department in its form of the dimensions.
    const entry = stack.d365
      .budgetEntries()
      .find((e) => e.ReasonComment === `closeloop transfer:${String(moved.id)}`)!;
    expect(entry.lines.map((l) => String(l.DimensionDisplayValue)).sort()).toEqual([
      '61020-790-ENG---',
      '61020-790-SLS---',
    ]);

    // Sales has 3000 left: 4000 more is refused on approval, and nothing moves.
    const refused = await transfer(`dept-move-2-${fy}`, side('SALES', p2), side('ENG', p2), '4000.00');
    expect(refused).toMatchObject({
      status: 'refused',
      outcomeReason: `control budget TRAVEL-DEPT[department=SALES] has less than 4000.00 USD available in ${p2} to give`,
    });
    expect(await travelByDepartment(p2)).toEqual({
      'TRAVEL-DEPT[department=ENG]': '3000.00',
      'TRAVEL-DEPT[department=SALES]': '3000.00',
    });

    // A later change of the model re-evaluates every figure: the transfer stays in them.
    expect(
      (
        await request('PUT', `${base}/OPEX-DEPT`, {
          key: 'dev-controller',
          body: {
            description: 'operating expenses per department',
            covers: { account: [{ under: 'OPEX' }] },
            per: 'department',
            level: 'advisory',
            periodBasis: 'quarter',
            validFrom: '2020-01-01',
            reason: 'operating expenses too',
          },
        })
      ).status,
    ).toBe(201);
    expect(await travelByDepartment(p2)).toEqual({
      'TRAVEL-DEPT[department=ENG]': '3000.00',
      'TRAVEL-DEPT[department=SALES]': '3000.00',
    });
  });
});
