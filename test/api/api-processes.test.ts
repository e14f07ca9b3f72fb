import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { seedBudget, usdLine } from '../harness/budget-control';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Two API processes behind one port (API_PROCESSES=2, node:cluster): a freeze or a control-model change made
 * through whichever process takes it is obeyed at once by the other, which decides on the database (freezes
 * are read inside the decision; a model change bumps a version the decision checks, so a process deciding on
 * the model it cached is refused and reads it again).
 */
describe('two API processes behind one port', () => {
  let stack: TestStack;
  let api: ChildProcess;
  let url: string;
  beforeAll(async () => {
    stack = await startStack({ api: false, worker: false });
    api = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
      env: { ...process.env, ...stack.env, API_PORT: '0', API_PROCESSES: '2' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      api.once('exit', (code) => reject(new Error(`the API exited with ${code}`)));
      api.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /closeloop API listening on (http:\/\/\S+) \(2 processes\)/.exec(out);
        if (m) resolve(m[1]!.replace(/,$/, ''));
      });
    });
  }, 60_000);
  afterAll(async () => {
    if (api && api.exitCode === null) {
      const exited = new Promise((r) => api.once('exit', r));
      api.kill('SIGTERM');
      await exited;
    }
    await stack?.stop();
  });

  /** One request on a connection of its own, so the cluster hands each to the next process in turn. */
  function request(method: string, path: string, key: string, body?: unknown, headers: object = {}) {
    return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        `${url}${path}`,
        {
          method,
          agent: false,
          headers: { 'content-type': 'application/json', 'x-api-key': key, ...headers },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            }),
          );
        },
      );
      req.once('error', reject);
      req.end(data);
    });
  }
  const reserve = (key: string, period: string) =>
    request(
      'POST',
      '/v1/budget-control/reservations',
      'dev-procurement',
      { legalEntity: 'ACME-US', lines: [usdLine('600100', 'CC-100', period, '1.00')] },
      { 'idempotency-key': key },
    );
  type Answer = { outcome: string; lines: { reason: string; pooledPeriods: string[] }[] };

  test('a freeze and a control-model change made through one process are obeyed by the other at once', async () => {
    const fy = await stack.newFiscalYear();
    const p2 = `${fy}-02`;
    await seedBudget(stack.db, '600100', 'CC-100', p2, '1000.00');
    // Both processes have read ACME-US's model (quarters) and hold it in their caches.
    for (let i = 0; i < 4; i++) {
      const warm = await reserve(`warm-${fy}-${i}`, p2);
      expect(warm.status).toBe(201);
      expect((warm.body as unknown as Answer).lines[0]!.pooledPeriods).toEqual([`${fy}-01`, p2, `${fy}-03`]);
    }

    const frozen = await request('POST', '/v1/budget-control/freezes', 'dev-controller', {
      legalEntity: 'ACME-US',
      costCenter: 'CC-100',
      reason: 'frozen through one process',
    });
    expect(frozen.status).toBe(201);
    for (let i = 0; i < 4; i++) {
      const during = await reserve(`frozen-${fy}-${i}`, p2);
      expect((during.body as unknown as Answer).outcome).toBe('rejected');
      expect((during.body as unknown as Answer).lines[0]!.reason).toMatch(/^frozen \(cost center CC-100\)/);
    }
    const lifted = await request(
      'POST',
      `/v1/budget-control/freezes/${String(frozen.body.id)}/unfreeze`,
      'dev-controller',
      { legalEntity: 'ACME-US', reason: 'lifted through one process' },
    );
    expect(lifted.status).toBe(200);

    // The model changes through one process; every reservation after it, whichever process takes it, pools
    // by period.
    const changed = await request('PUT', '/v1/budget-control/models/ACME-US', 'dev-controller', {
      periodBasis: 'period',
      reason: 'control each month on its own',
    });
    expect(changed.status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const after = await reserve(`after-${fy}-${i}`, p2);
      expect(after.status).toBe(201);
      expect((after.body as unknown as Answer).lines[0]!.pooledPeriods).toEqual([p2]);
    }
  });
});
