import { type ChildProcess } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { findVersion } from '../../db/queries/budget-versions';
import { publicationChunks, publications } from '../../db/schema';
import { decisionSignal } from '../../workflows/definitions';
import { awaitingApproval, erpBudgetTotal, planVersion, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';
import { killHard, workerProcess } from '../harness/worker-process';

/**
 * Production runs workers as separate processes that can die at any moment. A worker killed in the middle
 * of posting a chunk stops heartbeating; within the heartbeat timeout another worker takes the chunk over,
 * resumes the same ERP document, and nothing is posted twice.
 */
describe('a worker that dies mid-publication', () => {
  let stack: TestStack;
  let doomed: ChildProcess | undefined;
  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    killHard(doomed);
    await stack?.stop();
  });

  test('another worker takes over within about 20 seconds, and the ERP sees every line once', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { ref, total, rows } = planVersion(stack, fiscalYear, 1);
    // The first worker waits on the ERP as long as it takes, like a worker on a hung connection.
    doomed = await workerProcess(stack, { D365_TIMEOUT_MS: '120000' });
    const handle = await stack.startCycle(ref, { publication: { chunkSize: 40 } });
    await waitForStatus(handle, awaitingApproval);
    stack.d365.faults.inject({
      kind: 'latency',
      latencyMs: 90_000,
      times: 1,
      method: 'POST',
      path: '$batch',
    });
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    for (let i = 0; i < 300 && stack.d365.faults.fired.latency === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(stack.d365.faults.fired.latency).toBe(1);

    killHard(doomed);
    const killedAt = Date.now();
    await stack.startWorker();

    // The chunk the dead worker was posting is finished by the new one.
    const version = await findVersion(stack.db, ref);
    const [publication] = await stack.db
      .select()
      .from(publications)
      .where(eq(publications.versionId, version!.id));
    let takenOverAfterMs = -1;
    for (let i = 0; i < 600; i++) {
      const [first] = await stack.db
        .select()
        .from(publicationChunks)
        .where(eq(publicationChunks.publicationId, publication!.id))
        .orderBy(publicationChunks.chunkIndex)
        .limit(1);
      if (first?.status === 'posted') {
        takenOverAfterMs = Date.now() - killedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`chunk taken over and posted ${takenOverAfterMs} ms after the worker was killed`);
    expect(takenOverAfterMs).toBeGreaterThan(0);
    expect(takenOverAfterMs).toBeLessThan(20_000);

    const result = await handle.result();
    expect(result.status).toBe('completed');
    // The request the dead worker left hanging finally reaches the ERP: it finds the line already there.
    stack.d365.faults.release();
    await new Promise((r) => setTimeout(r, 200));
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    const entries = stack.d365.budgetEntries().filter((e) => e.ReasonComment.includes(`FY${fiscalYear}`));
    expect(entries).toHaveLength(4);
    expect(entries.flatMap((e) => e.lines)).toHaveLength(rows.length);
  }, 120_000);
});
