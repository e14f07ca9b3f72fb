import { listen, type RunningServer } from '../../api/listen';
import { createNetSuiteRest } from '../../activities/connectors/netsuite/rest';
import { FailureType } from '../../domain/failures';
import { createNetSuiteSimulator, type NetSuiteSimulator } from '../../simulators/netsuite/simulator';
import { failureOf } from '../harness/failures';

/**
 * NetSuite's asynchronous creates against the simulator over real HTTP: a job followed to its record, a key
 * already used answered IDEMPOTENCY_ERROR and its first job followed, a lost answer that creates nothing twice, a
 * job that fails, and the account's concurrency limit kept by the slots every request runs in.
 */

const TBA = { consumerKey: 'ck', consumerSecret: 'cs', tokenId: 'tk', tokenSecret: 'ts' };
let sim: NetSuiteSimulator;
let server: RunningServer;

/** A simulated account signed in to by TBA, and the client for it (the simulator's SuiteQL cap its own too). */
async function start(opts: { concurrencyLimit?: number; suiteqlCap?: number } = {}) {
  sim = createNetSuiteSimulator({ tba: TBA, jobReadsPending: 2, ...opts });
  server = await listen(sim.app, 0);
  return createNetSuiteRest({
    accountId: sim.accountId,
    baseUrl: server.url,
    auth: { kind: 'tba', ...TBA },
    timeoutMs: 2000,
    pollIntervalMs: 10,
    waitMs: 2000,
    suiteqlCap: opts.suiteqlCap,
  });
}
afterEach(() => server.close());

const line = {
  subsidiary: { id: '3' },
  memo: 'Accrual',
  line: { items: [{ account: { id: '58' }, debit: 100 }] },
};

describe('NetSuite asynchronous creates', () => {
  test('a create is a job followed until it completes: the record it made', async () => {
    const rest = await start();
    const progress: Record<string, unknown>[] = [];
    const made = await rest.createAsync('journalEntry', line, 'key-1', { progress: (d) => progress.push(d) });
    expect(made).toEqual({
      record: expect.stringMatching(/\/services\/rest\/record\/v1\/journalEntry\/1$/),
      reused: false,
    });
    expect(progress[0]).toEqual({
      idempotencyKey: 'key-1',
      job: expect.stringMatching(/\/async\/v1\/job\/\d+$/),
    });
    expect(sim.records('journalEntry')).toHaveLength(1);
  });

  test('a key already used: IDEMPOTENCY_ERROR, and the first job followed to the same record', async () => {
    const rest = await start();
    const first = await rest.createAsync('journalEntry', line, 'key-2');
    const again = await rest.createAsync('journalEntry', line, 'key-2');
    expect(again).toEqual({ record: first.record, reused: true });
    expect(sim.records('journalEntry')).toHaveLength(1);
  });

  test('an answer lost after NetSuite took the request: the retry follows the first job, nothing is made twice', async () => {
    const rest = await start();
    sim.faults.inject({ kind: 'drop-after-commit', method: 'POST', path: 'journalEntry' });
    const lost = await failureOf(rest.createAsync('journalEntry', line, 'key-3'));
    expect(lost.nonRetryable).toBe(false);
    const retried = await rest.createAsync('journalEntry', line, 'key-3');
    expect(retried.reused).toBe(true);
    expect(sim.records('journalEntry')).toHaveLength(1);
  });

  test("a job that fails: refused for good with NetSuite's reason", async () => {
    const rest = await start();
    sim.refuseNextJob('Invalid account reference key 58 for subsidiary 3.');
    const refused = await failureOf(rest.createAsync('journalEntry', line, 'key-4'));
    expect(refused).toMatchObject({ type: FailureType.ConnectorRejected, nonRetryable: true });
    expect(refused.message).toContain('USER_ERROR Invalid account reference key 58');
  });

  test('the concurrency limit: requests over it are refused (429); run in shared slots, none are', async () => {
    const rest = await start({ concurrencyLimit: 2 });
    sim.faults.inject({ kind: 'latency', latencyMs: 150, path: 'journalEntry', times: 6 });
    const unslotted = await Promise.allSettled(
      [1, 2, 3, 4].map((i) => rest.createAsync('journalEntry', line, `free-${i}`)),
    );
    expect(unslotted.some((r) => r.status === 'rejected' && /429/.test(String(r.reason)))).toBe(true);
    // Two slots shared by every caller (the workers share them through the database: db/queries/locks withSlot).
    let running = 0;
    const waiting: (() => void)[] = [];
    const slot = async <T>(fn: () => Promise<T>): Promise<T> => {
      while (running >= 2) await new Promise<void>((r) => waiting.push(r));
      running++;
      try {
        return await fn();
      } finally {
        running--;
        waiting.shift()?.();
      }
    };
    const slotted = await Promise.all(
      [1, 2, 3, 4].map((i) => rest.createAsync('journalEntry', line, `slot-${i}`, { slot })),
    );
    expect(slotted).toHaveLength(4);
  });
});

describe('NetSuite SuiteQL', () => {
  const rows = Array.from({ length: 25 }, (_, i) => ({
    id: String(i + 1),
    trandate: `2031-01-${String(i + 1).padStart(2, '0')}`,
    amount: '10.00',
  }));

  async function startQuery(cap: number) {
    const rest = await start({ suiteqlCap: cap });
    sim.putTable('TransactionLine', rows);
    return rest;
  }
  const byWindow = (w: { from: string; to: string }) =>
    `SELECT * FROM TransactionLine WHERE trandate BETWEEN '${w.from}' AND '${w.to}' ORDER BY trandate`;

  test('every row of a query under the cap, page by page, with Prefer: transient', async () => {
    const rest = await startQuery(100_000);
    const read = await rest.suiteql(byWindow, { from: '2031-01-01', to: '2031-01-31' });
    expect(read.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  });

  test('more rows than NetSuite serves of one query: the window is halved until each half fits, nothing lost', async () => {
    const rest = await startQuery(8);
    const read = await rest.suiteql(byWindow, { from: '2031-01-01', to: '2031-01-31' });
    expect(read.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual(rows.map((r) => r.id));
    // One day over the cap cannot be narrowed: refused, naming it.
    sim.putTable(
      'TransactionLine',
      Array.from({ length: 9 }, (_, i) => ({ id: String(i), trandate: '2031-02-01' })),
    );
    const refused = await failureOf(rest.suiteql(byWindow, { from: '2031-02-01', to: '2031-02-01' }));
    expect(refused.message).toContain('one day (2031-02-01) has more than 8 rows');
  });
});
