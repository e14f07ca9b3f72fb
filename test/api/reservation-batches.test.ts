import { sql } from 'drizzle-orm';
import { createControlCache, controlsFor } from '../../api/control-context';
import { type ReserveResult, reserveFundsBatch } from '../../db/queries/budget-control';
import { MANUFACTURER } from '../../db/seed/manufacturer';
import { activateBudgetLines, seedBudget, usdLine } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * A batch of reservations is decided by the database in one call (closeloop_reserve_funds_batch, migration
 * 0029): in arrival order, each on the balances the earlier ones left, each request all or nothing across its
 * lines and the control budgets they fall in. These tests hand the database batches whose order matters.
 */
describe('reservations decided as one batch', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  const cache = createControlCache();
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: false });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  type Line = ReturnType<typeof usdLine> & { dimensions?: Record<string, string> };
  /** The requests as the API would hand them to the database, read on the control model as it stands. */
  async function batch(items: { key: string; legalEntity?: string; lines: Line[] }[]) {
    const prepared = [];
    for (const item of items) {
      const legalEntity = item.legalEntity ?? 'ACME-US';
      const { lines, controls } = await controlsFor(stack.db, { legalEntity, lines: item.lines }, cache);
      prepared.push({
        request: {
          requester: 'batch-test',
          idempotencyKey: item.key,
          legalEntity,
          correlationId: 'test',
          lines,
        },
        controls,
      });
    }
    return reserveFundsBatch(stack.db, prepared);
  }
  const answer = (r: ReserveResult) => {
    if (r.kind !== 'decided' && r.kind !== 'replayed') throw new Error(`not decided: ${r.kind}`);
    return r.answer;
  };
  const reserved = async (legalEntity: string, account: string, costCenter: string, period: string) => {
    const [row] = (await stack.db.execute(sql`
      select coalesce(sum(reserved), 0)::numeric(20, 2)::text as reserved from control_balances
       where legal_entity = ${legalEntity} and account = ${account} and cost_center = ${costCenter}
         and period = ${period}`)) as unknown as { reserved: string }[];
    return row!.reserved;
  };

  test('earlier reservations of a batch exhaust the bucket for later ones, in arrival order', async () => {
    const fy = await stack.newFiscalYear();
    await seedBudget(stack.db, '600100', 'CC-200', `${fy}-02`, '100.00');
    await seedBudget(stack.db, '600100', 'CC-300', `${fy}-02`, '100.00');
    // The same three requests in two orders, each on its own bucket (a quarter pools 01–03).
    const results = await batch([
      { key: `a-${fy}`, lines: [usdLine('600100', 'CC-200', `${fy}-02`, '60.00')] },
      { key: `b-${fy}`, lines: [usdLine('600100', 'CC-200', `${fy}-03`, '50.00')] },
      { key: `c-${fy}`, lines: [usdLine('600100', 'CC-200', `${fy}-01`, '40.00')] },
      { key: `b2-${fy}`, lines: [usdLine('600100', 'CC-300', `${fy}-03`, '50.00')] },
      { key: `a2-${fy}`, lines: [usdLine('600100', 'CC-300', `${fy}-02`, '60.00')] },
      { key: `c2-${fy}`, lines: [usdLine('600100', 'CC-300', `${fy}-01`, '40.00')] },
    ]);
    const answers = results.map(answer);
    expect(answers.map((a) => a.outcome)).toEqual([
      'approved',
      'rejected',
      'approved',
      'approved',
      'rejected',
      'approved',
    ]);
    expect(answers.map((a) => a.lines[0]!.availableBefore)).toEqual([
      '100.00',
      '40.00',
      '40.00',
      '100.00',
      '50.00',
      '50.00',
    ]);
    expect(answers[1]!.lines[0]!.reason).toBe('over budget (absolute control)');
    expect(await reserved('ACME-US', '600100', 'CC-200', `${fy}-02`)).toBe('60.00');
    expect(await reserved('ACME-US', '600100', 'CC-200', `${fy}-01`)).toBe('40.00');
    expect(await reserved('ACME-US', '600100', 'CC-300', `${fy}-03`)).toBe('50.00');
    // What the database recorded answers a repeat the same way, and the balances do not move again.
    const again = await batch([
      { key: `b-${fy}`, lines: [usdLine('600100', 'CC-200', `${fy}-03`, '50.00')] },
    ]);
    expect(again[0]).toEqual({ kind: 'replayed', answer: answers[1] });
  });

  test('a frozen bucket inside a batch is refused alone; the requests around it are decided as usual', async () => {
    const fy = await stack.newFiscalYear();
    await seedBudget(stack.db, '630400', 'CC-100', `${fy}-01`, '1000.00');
    await seedBudget(stack.db, '630400', 'CC-300', `${fy}-01`, '1000.00');
    const frozen = await request('POST', '/v1/budget-control/freezes', {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', costCenter: 'CC-100', reason: 'audit of CC-100 within a batch' },
    });
    expect(frozen.status).toBe(201);
    try {
      const answers = (
        await batch([
          { key: `before-${fy}`, lines: [usdLine('630400', 'CC-300', `${fy}-01`, '100.00')] },
          { key: `frozen-${fy}`, lines: [usdLine('630400', 'CC-100', `${fy}-01`, '1.00')] },
          { key: `after-${fy}`, lines: [usdLine('630400', 'CC-300', `${fy}-01`, '100.00')] },
        ])
      ).map(answer);
      expect(answers.map((a) => a.outcome)).toEqual(['approved', 'rejected', 'approved']);
      expect(answers[1]!.lines[0]!.reason).toMatch(/^frozen \(cost center CC-100\) by .*audit of CC-100/);
      expect(answers[2]!.lines[0]!.availableBefore).toBe('900.00');
      expect(await reserved('ACME-US', '630400', 'CC-100', `${fy}-01`)).toBe('0.00');
    } finally {
      const lifted = await request('POST', `/v1/budget-control/freezes/${String(frozen.body.id)}/unfreeze`, {
        key: 'dev-controller',
        body: { legalEntity: 'ACME-US', reason: 'audit closed' },
      });
      expect(lifted.status).toBe(200);
    }
  });

  test('a key that comes twice in a batch is decided once: the same content replays, other content is refused', async () => {
    const fy = await stack.newFiscalYear();
    await seedBudget(stack.db, '600100', 'CC-100', `${fy}-04`, '500.00');
    const lines = [usdLine('600100', 'CC-100', `${fy}-04`, '120.00')];
    const results = await batch([
      { key: `dup-${fy}`, lines },
      { key: `other-${fy}`, lines: [usdLine('600100', 'CC-100', `${fy}-04`, '10.00')] },
      { key: `dup-${fy}`, lines },
      { key: `dup-${fy}`, lines: [usdLine('600100', 'CC-100', `${fy}-04`, '1.00')] },
    ]);
    expect(results.map((r) => r.kind)).toEqual(['decided', 'decided', 'replayed', 'key_reused']);
    expect(answer(results[2]!)).toEqual(answer(results[0]!));
    expect(await reserved('ACME-US', '600100', 'CC-100', `${fy}-04`)).toBe('130.00');
    const [held] = (await stack.db.execute(sql`
      select count(*)::int as n from funds_reservations
       where requester = 'batch-test' and idempotency_key = ${`dup-${fy}`}`)) as unknown as { n: number }[];
    expect(held!.n).toBe(1);
  });

  test('the same bucket twice in one request: the second line sees the first held; refused, both are given back', async () => {
    const fy = await stack.newFiscalYear();
    await seedBudget(stack.db, '600100', 'CC-200', `${fy}-07`, '100.00');
    const answers = (
      await batch([
        {
          key: `twice-over-${fy}`,
          lines: [
            usdLine('600100', 'CC-200', `${fy}-07`, '60.00'),
            usdLine('600100', 'CC-200', `${fy}-07`, '50.00'),
          ],
        },
        {
          key: `twice-fits-${fy}`,
          lines: [
            usdLine('600100', 'CC-200', `${fy}-07`, '60.00'),
            usdLine('600100', 'CC-200', `${fy}-07`, '40.00'),
          ],
        },
      ])
    ).map(answer);
    expect(answers.map((a) => a.outcome)).toEqual(['rejected', 'approved']);
    expect(answers[0]!.lines.map((l) => l.outcome)).toEqual(['approved', 'rejected']);
    expect(answers[0]!.lines.map((l) => l.availableBefore)).toEqual(['100.00', '40.00']);
    // The refused request's first line was given back before the next request was decided.
    expect(answers[1]!.lines.map((l) => l.availableBefore)).toEqual(['100.00', '40.00']);
    expect(answers[1]!.lines.map((l) => l.availableAfter)).toEqual(['40.00', '0.00']);
    expect(await reserved('ACME-US', '600100', 'CC-200', `${fy}-07`)).toBe('100.00');
  });

  test('a request whose later line fails in another control budget holds nothing, and the next request of the batch sees it so', async () => {
    const put = await request('PUT', `/v1/budget-control/control-budgets/${MANUFACTURER}/OPEX-DEPT-B`, {
      key: 'dev-controller',
      body: {
        reason: 'batch test: operating expenses per department',
        description: 'operating expenses per department, by quarter',
        covers: { account: [{ under: 'OPEX' }] },
        per: 'department',
        level: 'absolute',
        periodBasis: 'quarter',
        validFrom: '2020-01-01',
      },
    });
    expect([200, 201]).toContain(put.status);
    const fy = await stack.newFiscalYear();
    const p1 = `${fy}-01`;
    const dims = (account: string, department: string) => ({
      company: MANUFACTURER,
      ledger: 'PRIMARY',
      account,
      costCenter: 'CC-790',
      department,
    });
    await activateBudgetLines(stack.db, {
      legalEntity: MANUFACTURER,
      fiscalYear: fy,
      currency: 'USD',
      periods: Array.from({ length: 13 }, (_x, i) => `${fy}-${String(i + 1).padStart(2, '0')}`),
      lines: [
        { dimensions: dims('600100', 'SALES'), period: p1, amount: '5000.00' },
        { dimensions: dims('610200', 'ENG'), period: p1, amount: '1000.00' },
        { dimensions: dims('610200', 'SALES'), period: p1, amount: '5000.00' },
      ],
    });
    const line = (account: string, department: string, amount: string): Line => ({
      ...usdLine(account, 'CC-790', p1, amount),
      dimensions: { department },
    });
    // Line 1 (Sales' opex) fits; line 2's bucket (travel of CC-790, 6000.00) has room, but Engineering's
    // operating expenses have only 1000.00 for 1500.00: the request is refused, and the next one finds the
    // 5000.00 of line 1's bucket and the 10000.00 of Sales' operating expenses whole.
    const answers = (
      await batch([
        {
          key: `later-line-${fy}`,
          legalEntity: MANUFACTURER,
          lines: [line('600100', 'SALES', '4000.00'), line('610200', 'ENG', '1500.00')],
        },
        { key: `next-${fy}`, legalEntity: MANUFACTURER, lines: [line('600100', 'SALES', '5000.00')] },
      ])
    ).map(answer);
    expect(answers[0]).toMatchObject({ outcome: 'rejected', reserved: false });
    expect(answers[0]!.lines.map((l) => l.outcome)).toEqual(['approved', 'rejected']);
    expect(answers[0]!.lines[1]!.reason).toMatch(
      /^control budget OPEX-DEPT-B\[department=ENG\]: over budget/,
    );
    expect(answers[1]).toMatchObject({ outcome: 'approved', reserved: true });
    expect(answers[1]!.lines[0]!.availableBefore).toBe('5000.00');
    expect(answers[1]!.lines[0]!.controlBudgets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          controlBudget: 'OPEX-DEPT-B[department=SALES]',
          availableBefore: '10000.00',
          availableAfter: '5000.00',
        }),
      ]),
    );
    const budgets = (await stack.db.execute(sql`
      select budget_key as key, sum(reserved)::numeric(20, 2)::text as reserved from control_budget_balances
       where legal_entity = ${MANUFACTURER} and code = 'OPEX-DEPT-B' and period = ${p1}
       group by budget_key order by 1`)) as unknown as { key: string; reserved: string }[];
    expect(budgets).toEqual([
      { key: 'OPEX-DEPT-B[department=ENG]', reserved: '0.00' },
      { key: 'OPEX-DEPT-B[department=SALES]', reserved: '5000.00' },
    ]);
    expect(await reserved(MANUFACTURER, '610200', 'CC-790', p1)).toBe('0.00');
  });
});
