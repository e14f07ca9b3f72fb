import { sql } from 'drizzle-orm';
import { reserveFunds } from '../../db/queries/budget-control';
import { MANUFACTURER } from '../../db/seed/manufacturer';
import { activateBudgetLines } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Reservations decided across every control budget a line falls in (issue 22), on the manufacturer's chart:
 * a line is held in its bucket and in each of its control budgets or in none of them, a request all or
 * nothing; the database decides, so 64 concurrent requests never pass a limit; a life-to-date budget pools
 * across fiscal years; changing the model mid-year re-evaluates what stands and refuses nothing held.
 */
describe('reservations on control budgets', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: false });
    request = apiClient(stack.api!.url);
    // Travel is under operating expenses: a travel line falls in both budgets.
    await putBudget('OPEX-DEPT', {
      description: 'operating expenses per department, by quarter',
      covers: { account: [{ under: 'OPEX' }] },
      per: 'department',
      level: 'absolute',
      periodBasis: 'quarter',
      validFrom: '2020-01-01',
    });
    await putBudget('TRAVEL-CC', {
      description: 'travel per cost center, year to date',
      covers: { account: [{ under: 'TRAVEL' }] },
      per: 'costCenter',
      level: 'absolute',
      periodBasis: 'ytd',
      validFrom: '2020-01-01',
    });
  });
  afterAll(() => stack?.stop());

  const base = `/v1/budget-control/control-budgets/${MANUFACTURER}`;
  async function putBudget(code: string, body: object) {
    const put = await request('PUT', `${base}/${code}`, {
      key: 'dev-controller',
      body: { reason: 'the manufacturer controls spend on its own dimensions', ...body },
    });
    expect([200, 201]).toContain(put.status);
    return put.body as { overBudget: { controlBudget: string; period: string }[] };
  }
  const dims = (account: string, costCenter: string, department: string, more: object = {}) => ({
    company: MANUFACTURER,
    ledger: 'PRIMARY',
    account,
    costCenter,
    department,
    ...more,
  });
  async function budgetYear(
    fiscalYear: number,
    lines: { dims: Record<string, string>; period: string; amount: string }[],
  ) {
    await activateBudgetLines(stack.db, {
      legalEntity: MANUFACTURER,
      fiscalYear,
      currency: 'USD',
      periods: Array.from({ length: 13 }, (_x, i) => `${fiscalYear}-${String(i + 1).padStart(2, '0')}`),
      lines: lines.map((l) => ({ dimensions: l.dims, period: l.period, amount: l.amount })),
    });
  }
  const line = (
    account: string,
    costCenter: string,
    department: string,
    period: string,
    amount: string,
    more: Record<string, string> = {},
  ) => ({
    account,
    costCenter,
    period,
    amount: { amount, currency: 'USD' },
    dimensions: { department, ...more },
  });
  type LineAnswer = { reason: string; controlBudgets: { controlBudget: string; pooledPeriods: string[] }[] };
  const linesOf = (r: { body: Record<string, unknown> }) => r.body.lines as LineAnswer[];
  const reserve = (key: string, lines: unknown[]) =>
    request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': key },
      body: { legalEntity: MANUFACTURER, lines },
    });
  const budgetBalances = async (code: string, period: string) =>
    Object.fromEntries(
      (
        (await request('GET', `${base}/${code}/balances?period=${period}`, { key: 'dev-controller' })).body
          .budgets as { controlBudget: string; budget: { amount: string }; reserved: { amount: string } }[]
      ).map((b) => [b.controlBudget, { budget: b.budget.amount, reserved: b.reserved.amount }]),
    );

  test('a line is checked in every budget it falls in and held in all of them; a later line failing refuses the whole request', async () => {
    const fy = await stack.newFiscalYear();
    const p1 = `${fy}-01`;
    await budgetYear(fy, [
      { dims: dims('600100', 'CC-790', 'ENG'), period: p1, amount: '5000.00' },
      { dims: dims('600100', 'CC-790', 'SALES'), period: p1, amount: '500.00' },
      { dims: dims('610200', 'CC-790', 'SALES'), period: p1, amount: '1000.00' },
    ]);
    expect(await budgetBalances('OPEX-DEPT', p1)).toMatchObject({
      'OPEX-DEPT[department=ENG]': { budget: '5000.00', reserved: '0.00' },
      'OPEX-DEPT[department=SALES]': { budget: '1500.00', reserved: '0.00' },
    });

    const travel = await reserve(`travel-${fy}`, [line('610200', 'CC-790', 'SALES', p1, '300.00')]);
    expect(travel.status).toBe(201);
    expect(linesOf(travel)[0]!).toMatchObject({
      outcome: 'approved',
      controlBudgets: [
        expect.objectContaining({
          controlBudget: 'OPEX-DEPT[department=SALES]',
          outcome: 'approved',
          budget: '1500.00',
          availableAfter: '1200.00',
        }),
        expect.objectContaining({
          controlBudget: 'TRAVEL-CC[costCenter=CC-790]',
          outcome: 'approved',
          budget: '1000.00',
          availableAfter: '700.00',
        }),
      ],
    });

    // Line 1 fits everywhere; line 2 fits its bucket and travel's budget, but not what line 1 leaves of
    // Sales' operating expenses: the request is refused and nothing is held.
    const refused = await reserve(`two-lines-${fy}`, [
      line('600100', 'CC-790', 'SALES', p1, '1000.00'),
      line('610200', 'CC-790', 'SALES', p1, '300.00'),
    ]);
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ outcome: 'rejected', reserved: false });
    expect(linesOf(refused)[0]).toMatchObject({ outcome: 'approved' });
    expect(linesOf(refused)[1]).toMatchObject({
      outcome: 'rejected',
      reason: 'control budget OPEX-DEPT[department=SALES]: over budget (absolute control)',
      availableBefore: '700.00',
      controlBudgets: [
        expect.objectContaining({
          controlBudget: 'OPEX-DEPT[department=SALES]',
          outcome: 'rejected',
          availableBefore: '200.00',
        }),
        expect.objectContaining({ controlBudget: 'TRAVEL-CC[costCenter=CC-790]', outcome: 'approved' }),
      ],
    });
    expect(await budgetBalances('OPEX-DEPT', p1)).toMatchObject({
      'OPEX-DEPT[department=SALES]': { budget: '1500.00', reserved: '300.00' },
    });
    expect(await budgetBalances('TRAVEL-CC', p1)).toMatchObject({
      'TRAVEL-CC[costCenter=CC-790]': { budget: '1000.00', reserved: '300.00' },
    });

    // The balance of any combination: every budget it falls in, with its figures.
    const match = await request('POST', `${base}/match`, {
      key: 'dev-planner',
      body: { dimensions: { account: '610200', costCenter: 'CC-790', department: 'SALES' }, period: p1 },
    });
    expect(match.body.budgets).toEqual([
      expect.objectContaining({
        controlBudget: 'OPEX-DEPT[department=SALES]',
        pooledPeriods: [`${fy}-01`, `${fy}-02`, `${fy}-03`],
        figures: [expect.objectContaining({ available: { amount: '1200.00', currency: 'USD' } })],
      }),
      expect.objectContaining({
        controlBudget: 'TRAVEL-CC[costCenter=CC-790]',
        figures: [expect.objectContaining({ reserved: { amount: '300.00', currency: 'USD' } })],
      }),
    ]);

    // A release gives back in every budget the line held in.
    const released = await request('POST', `/v1/budget-control/reservations/travel-${fy}/release`, {
      key: 'dev-procurement',
      body: { legalEntity: MANUFACTURER },
    });
    expect(released.status).toBe(200);
    expect(await budgetBalances('OPEX-DEPT', p1)).toMatchObject({
      'OPEX-DEPT[department=SALES]': { reserved: '0.00' },
    });
    expect(await budgetBalances('TRAVEL-CC', p1)).toMatchObject({
      'TRAVEL-CC[costCenter=CC-790]': { reserved: '0.00' },
    });

    // A dimension value the chart does not know is refused, naming it; nothing is reserved.
    const unknown = await reserve(`unknown-${fy}`, [line('610200', 'CC-790', 'LEGAL', p1, '1.00')]);
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain('lines.0.dimensions.department');
  });

  test('64 concurrent reservations against room for 10 in one of two overlapping budgets: exactly 10 held in both', async () => {
    const fy = await stack.newFiscalYear();
    const p2 = `${fy}-02`;
    // Travel of CC-790 has 5000 (Engineering's 4000 and Sales' 1000); Sales' operating expenses only 1000.
    await budgetYear(fy, [
      { dims: dims('610200', 'CC-790', 'ENG'), period: p2, amount: '4000.00' },
      { dims: dims('610200', 'CC-790', 'SALES'), period: p2, amount: '1000.00' },
    ]);
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_x, i) =>
        reserve(`race-${fy}-${i}`, [line('610200', 'CC-790', 'SALES', p2, '100.00')]),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 200 && a.body.outcome === 'rejected')).toHaveLength(54);
    expect(await budgetBalances('OPEX-DEPT', p2)).toMatchObject({
      'OPEX-DEPT[department=SALES]': { budget: '1000.00', reserved: '1000.00' },
    });
    expect(await budgetBalances('TRAVEL-CC', p2)).toMatchObject({
      'TRAVEL-CC[costCenter=CC-790]': { budget: '5000.00', reserved: '1000.00' },
    });
    const [bucket] = (await stack.db.execute(sql`
      select reserved::text from control_balances
       where legal_entity = ${MANUFACTURER} and account = '610200' and cost_center = 'CC-790' and period = ${p2}`)) as unknown as {
      reserved: string;
    }[];
    expect(bucket!.reserved).toBe('1000.000000');
  });

  test('a life-to-date budget pools a project across fiscal years', async () => {
    const fy = await stack.newFiscalYear();
    const next = await stack.newFiscalYear();
    expect(next).toBe(fy + 1);
    const p12 = `${fy}-12`;
    await putBudget('PROJECTS-LTD', {
      description: 'each project over its life',
      covers: { project: [{ present: true }] },
      per: 'project',
      level: 'absolute',
      periodBasis: 'life_to_date',
      validFrom: `${fy - 1}-12-01`,
    });
    const project = { project: 'P-101' };
    await budgetYear(fy, [
      { dims: dims('520300', 'CC-700', 'ENG', project), period: p12, amount: '1000.00' },
    ]);
    await budgetYear(next, [
      { dims: dims('520300', 'CC-700', 'ENG'), period: `${next}-01`, amount: '9000.00' },
    ]);
    expect(
      (await reserve(`ltd-a-${fy}`, [line('520300', 'CC-700', 'ENG', p12, '800.00', project)])).status,
    ).toBe(201);
    // January of the next year: the bucket has room (9000), the project only what its life has left (200).
    const january = await reserve(`ltd-b-${fy}`, [
      line('520300', 'CC-700', 'ENG', `${next}-01`, '300.00', project),
    ]);
    expect(january.body).toMatchObject({ outcome: 'rejected', reserved: false });
    const ltd = linesOf(january)[0]!.controlBudgets.find(
      (b) => b.controlBudget === 'PROJECTS-LTD[project=P-101]',
    )!;
    expect(ltd).toMatchObject({ outcome: 'rejected', budget: '1000.00', availableBefore: '200.00' });
    expect(ltd.pooledPeriods).toContain(p12);
    expect(ltd.pooledPeriods).toContain(`${next}-01`);
    expect(
      (await reserve(`ltd-c-${fy}`, [line('520300', 'CC-700', 'ENG', `${next}-01`, '200.00', project)]))
        .status,
    ).toBe(201);
  });

  test('changing the model mid-year re-evaluates what stands: nothing held is refused, the change names budgets now over, a release gives back everywhere', async () => {
    const fy = await stack.newFiscalYear();
    const p4 = `${fy}-04`;
    const detroit = { location: 'DETROIT' };
    const monterrey = { location: 'MONTERREY', productLine: 'VALVES' };
    await budgetYear(fy, [{ dims: dims('610200', 'CC-710', 'OPS', detroit), period: p4, amount: '2000.00' }]);
    expect(
      (await reserve(`mid-${fy}`, [line('610200', 'CC-710', 'OPS', p4, '1500.00', monterrey)])).status,
    ).toBe(201);
    // Travel gets a budget per plant mid-year. The reservation already held counts in Monterrey's at once
    // (re-evaluated, not refused), and the change names the budget it leaves over.
    const changed = await putBudget('TRAVEL-LOC', {
      description: 'travel per plant',
      covers: { account: [{ under: 'TRAVEL' }] },
      per: 'location',
      level: 'absolute',
      periodBasis: 'period',
      validFrom: '2020-01-01',
    });
    expect(changed.overBudget.filter((o) => o.period === p4)).toEqual([
      {
        controlBudget: 'TRAVEL-LOC[location=MONTERREY]',
        period: p4,
        currency: 'USD',
        budget: '0.00',
        consumed: '1500.00',
      },
    ]);
    expect(await budgetBalances('TRAVEL-LOC', p4)).toMatchObject({
      'TRAVEL-LOC[location=DETROIT]': { budget: '2000.00', reserved: '0.00' },
      'TRAVEL-LOC[location=MONTERREY]': { budget: '0.00', reserved: '1500.00' },
    });
    const audit = (await stack.db.execute(sql`
      select action from audit_log where stream = ${`control:${MANUFACTURER}`} and entity_id = ${`${MANUFACTURER}:TRAVEL-LOC`}
       order by seq`)) as unknown as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(['control_budget.created']);
    // New spend is decided on the new model: Monterrey's travel has nothing left.
    const more = await reserve(`mid-more-${fy}`, [line('610200', 'CC-710', 'OPS', p4, '10.00', monterrey)]);
    expect(linesOf(more)[0]!.reason).toBe(
      'control budget TRAVEL-LOC[location=MONTERREY]: over budget (absolute control)',
    );

    // A request read on the model before the change is refused by the database, to be decided again.
    const stale = await reserveFunds(
      stack.db,
      {
        requester: 'test',
        idempotencyKey: `stale-${fy}`,
        legalEntity: MANUFACTURER,
        correlationId: 'test',
        lines: [{ account: '610200', costCenter: 'CC-710', period: p4, amount: '1.00', currency: 'USD' }],
      },
      [{ level: 'absolute', tolerancePercent: '0', pooledPeriods: [p4], budgets: [], budgetsVersion: 0 }],
    );
    expect(stale).toEqual({ kind: 'model_changed' });

    const released = await request('POST', `/v1/budget-control/reservations/mid-${fy}/release`, {
      key: 'dev-procurement',
      body: { legalEntity: MANUFACTURER },
    });
    expect(released.status).toBe(200);
    for (const [code, key] of [
      ['TRAVEL-LOC', 'TRAVEL-LOC[location=MONTERREY]'],
      ['OPEX-DEPT', 'OPEX-DEPT[department=OPS]'],
      ['TRAVEL-CC', 'TRAVEL-CC[costCenter=CC-710]'],
    ] as const)
      expect((await budgetBalances(code, p4))[key]).toMatchObject({ reserved: '0.00' });
  });

  test('a freeze on a project stops every line on it, whatever its account or cost center; lifted, they pass', async () => {
    const fy = await stack.newFiscalYear();
    const p5 = `${fy}-05`;
    const project = { project: 'P-102' };
    await budgetYear(fy, [
      { dims: dims('520300', 'CC-700', 'ENG', project), period: p5, amount: '5000.00' },
      { dims: dims('520300', 'CC-700', 'ENG'), period: p5, amount: '5000.00' },
    ]);
    const bad = await request('POST', '/v1/budget-control/freezes', {
      key: 'dev-controller',
      body: { legalEntity: MANUFACTURER, dimensions: { project: 'P-999' }, reason: 'audit finding' },
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('dimensions.project');
    const frozen = await request('POST', '/v1/budget-control/freezes', {
      key: 'dev-controller',
      body: { legalEntity: MANUFACTURER, dimensions: project, reason: 'grant audit finding' },
    });
    expect(frozen.status).toBe(201);
    const onProject = await reserve(`frozen-${fy}`, [line('520300', 'CC-700', 'ENG', p5, '10.00', project)]);
    expect(onProject.body).toMatchObject({ outcome: 'rejected', reserved: false });
    expect(linesOf(onProject)[0]!.reason).toMatch(/^frozen \(project P-102\) by dave@acme.example/);
    // The same bucket without the project is not frozen.
    expect((await reserve(`not-frozen-${fy}`, [line('520300', 'CC-700', 'ENG', p5, '10.00')])).status).toBe(
      201,
    );
    const lifted = await request('POST', `/v1/budget-control/freezes/${frozen.body.id as string}/unfreeze`, {
      key: 'dev-controller',
      body: { legalEntity: MANUFACTURER, reason: 'finding closed' },
    });
    expect(lifted.status).toBe(200);
    expect(
      (await reserve(`thawed-${fy}`, [line('520300', 'CC-700', 'ENG', p5, '10.00', project)])).status,
    ).toBe(201);
  });

  test('a control-model change made through one API process is obeyed at once by a reservation another decides', async () => {
    const fy = await stack.newFiscalYear();
    const p7 = `${fy}-07`;
    const versionOf = async () =>
      (
        (await stack.db.execute(
          sql`select control_budgets_version as v from legal_entities where code = ${MANUFACTURER}`,
        )) as unknown as { v: number }[]
      )[0]!.v;
    const before = await versionOf();
    // Another process read the model (period basis "period") and is about to decide on it…
    const stale = {
      requester: 'other-process',
      legalEntity: MANUFACTURER,
      correlationId: 'test',
      lines: [{ account: '640500', costCenter: 'CC-790', period: p7, amount: '1.00', currency: 'USD' }],
    };
    const controls = [
      {
        level: 'absolute' as const,
        tolerancePercent: '0',
        pooledPeriods: [p7],
        budgets: [],
        budgetsVersion: before,
      },
    ];
    // …while a controller changes it through this one.
    const changed = await request('PUT', `/v1/budget-control/models/${MANUFACTURER}`, {
      key: 'dev-controller',
      body: { periodBasis: 'quarter', reason: 'pool the plants by quarter' },
    });
    expect(changed.status).toBe(200);
    expect(await versionOf()).toBe(before + 1);
    expect(await reserveFunds(stack.db, { ...stale, idempotencyKey: `stale-model-${fy}` }, controls)).toEqual(
      {
        kind: 'model_changed',
      },
    );
    // Read again, on the new model, it is decided (and nothing was recorded for the stale attempt).
    const fresh = await reserveFunds(stack.db, { ...stale, idempotencyKey: `stale-model-${fy}` }, [
      { ...controls[0]!, budgetsVersion: before + 1 },
    ]);
    expect(fresh.kind).toBe('decided');
    // Put back as it was for the other tests.
    await request('PUT', `/v1/budget-control/models/${MANUFACTURER}`, {
      key: 'dev-controller',
      body: { periodBasis: 'period', reason: 'back to periods' },
    });
  });
});
