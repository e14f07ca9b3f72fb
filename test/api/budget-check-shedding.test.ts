import { seedBudget, usdLine } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Load shedding on the synchronous path: beyond BUDGET_CHECK_MAX_IN_FLIGHT requests in progress, the API
 * answers 503 with Retry-After before deciding anything, so callers that retry with the same Idempotency-Key
 * are decided once, and every request is taken on again once the load drops.
 */
describe('budget check under overload', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: false, env: { BUDGET_CHECK_MAX_IN_FLIGHT: '2' } });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  test('beyond its limit it sheds with 503 and Retry-After; retried keys reserve once; it recovers', async () => {
    const fy = await stack.newFiscalYear();
    await seedBudget(stack.db, '600100', 'CC-200', `${fy}-02`, '1000.00');
    const reserve = (i: number) =>
      request('POST', '/v1/budget-control/reservations', {
        key: 'dev-procurement',
        headers: { 'idempotency-key': `shed-${fy}-${i}` },
        body: { legalEntity: 'ACME-US', lines: [usdLine('600100', 'CC-200', `${fy}-02`, '10.00')] },
      });
    const keys = Array.from({ length: 40 }, (_x, i) => i);
    const first = await Promise.all(keys.map(reserve));
    const shed = first.filter((r) => r.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    expect(shed[0]!.headers.get('retry-after')).toBe('1');
    expect(shed[0]!.body).toMatchObject({ error: 'overloaded' });
    expect(first.every((r) => r.status === 201 || r.status === 503)).toBe(true);

    // Every caller retries what was shed (and, once more, what was not): each key reserves once.
    let pending = keys.filter((i) => first[i]!.status === 503);
    for (let round = 0; pending.length && round < 50; round++) {
      const again = await Promise.all(pending.map(reserve));
      pending = pending.filter((_i, j) => again[j]!.status === 503);
    }
    expect(pending).toEqual([]);
    // Once the load drops, every request is taken on: one at a time, each key answers with its decision.
    const replays = [];
    for (const i of keys) replays.push(await reserve(i));
    expect(replays.map((r) => r.status)).toEqual(keys.map(() => 201));
    expect(replays.every((r) => r.headers.get('idempotent-replayed') === 'true')).toBe(true);
    const balance = await request(
      'GET',
      `/v1/budget-control/balances?legalEntity=ACME-US&account=600100&costCenter=CC-200&period=${fy}-02`,
      { key: 'dev-controller' },
    );
    expect(balance.body).toMatchObject({ reserved: { amount: '400.00' }, available: { amount: '600.00' } });
  });
});
