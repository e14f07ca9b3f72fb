import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { decisionSignal } from '../../workflows/definitions';
import { awaitingApproval, planVersion, waitForStatus } from '../harness/cycle';
import { apiClient } from '../harness/http';
import { oracleGlTotal, routeUsToOracle } from '../harness/oracle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Oracle's import callback relayed to closeloop (POST /v1/webhooks/oracle/ess-callbacks): each request's end
 * recorded once and audited, bad bodies refused naming the field, and a GL budget load waiting on a job that
 * Oracle still shows running taking its end from the callback.
 */
const callback = (
  JSON.parse(
    readFileSync(path.join(__dirname, '..', 'contracts', 'oracle', 'ess-callback.json'), 'utf8'),
  ) as { body: { JOBS: { REQUESTID: string; STATUS: string; CHILD?: { STATUS: string }[] }[] } }
).body;

describe('Oracle ESS callbacks relayed to the API', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  test("Oracle's example callback: recorded with its child jobs, once; a failed child fails the request", async () => {
    const sent = structuredClone(callback);
    sent.JOBS[0]!.REQUESTID = '990001';
    const first = await request('POST', '/v1/webhooks/oracle/ess-callbacks', {
      key: 'dev-admin',
      body: sent,
    });
    expect(first).toMatchObject({
      status: 202,
      body: { requests: [{ requestId: '990001', outcome: 'succeeded', result: 'recorded' }] },
    });
    const again = await request('POST', '/v1/webhooks/oracle/ess-callbacks', {
      key: 'dev-admin',
      body: sent,
    });
    expect(again.body).toMatchObject({ requests: [{ result: 'unchanged' }] });
    const audit = (await stack.db.execute(
      sql`select action, entity_id from audit_log where stream = 'erp-jobs:oracle' and entity_id = '990001'`,
    )) as unknown as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(['job.reported']);

    const failedChild = structuredClone(sent);
    failedChild.JOBS[0]!.REQUESTID = '990002';
    failedChild.JOBS[0]!.CHILD![0]!.STATUS = 'ERROR';
    const failed = await request('POST', '/v1/webhooks/oracle/ess-callbacks', {
      key: 'dev-admin',
      body: failedChild,
    });
    expect(failed.body).toMatchObject({ requests: [{ requestId: '990002', outcome: 'failed' }] });
  });

  test('a body that is not a callback is refused naming the field; only an integration administrator relays', async () => {
    const numeric = await request('POST', '/v1/webhooks/oracle/ess-callbacks', {
      key: 'dev-admin',
      body: { JOBS: [{ JOBNAME: 'x', REQUESTID: 1, STATUS: 'SUCCEEDED' }] },
    });
    expect(numeric.status).toBe(400);
    expect(JSON.stringify(numeric.body)).toContain('REQUESTID');
    const planner = await request('POST', '/v1/webhooks/oracle/ess-callbacks', {
      key: 'dev-planner',
      body: callback,
    });
    expect(planner.status).toBe(403);
  });

  test('a GL budget load whose job Oracle still shows running ends when the callback says so', async () => {
    const fiscalYear = await stack.newFiscalYear();
    await routeUsToOracle(stack, fiscalYear, undefined, 'replace-scope');
    stack.oracle.setEssReadsRunning(1_000_000);
    try {
      const planned = planVersion(stack, fiscalYear, 1);
      const handle = await stack.startCycle(planned.ref, { publication: { chunkSize: 500 } });
      await waitForStatus(handle, awaitingApproval);
      await handle.signal(
        decisionSignal,
        await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
      );
      let running: string | undefined;
      for (let i = 0; i < 300 && !running; i++) {
        running = stack.oracle.essRequests().find((r) => r.state === 'RUNNING')?.requestId;
        if (!running) await new Promise((r) => setTimeout(r, 100));
      }
      expect(running).toBeDefined();
      const relayed = structuredClone(callback);
      relayed.JOBS[0]!.REQUESTID = running!;
      const posted = await request('POST', '/v1/webhooks/oracle/ess-callbacks', {
        key: 'dev-admin',
        body: relayed,
      });
      expect(posted.status).toBe(202);
      const result = await handle.result();
      expect(result.status).toBe('completed');
      expect(oracleGlTotal(stack, fiscalYear)).toBe(planned.total);
      // Oracle itself still shows the job running: the callback ended the wait.
      expect(stack.oracle.essRequests().find((r) => r.requestId === running)?.state).toBe('RUNNING');
    } finally {
      stack.oracle.setEssReadsRunning(1);
    }
  }, 120_000);
});
