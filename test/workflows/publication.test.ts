import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { eq } from 'drizzle-orm';
import { findVersion } from '../../db/queries/budget-versions';
import { publicationChunks, publications } from '../../db/schema';
import { decisionSignal, retryPublicationSignal } from '../../workflows/definitions';
import { type budgetCycle } from '../../workflows/budget-cycle';
import { type PublicationInput, type publication } from '../../workflows/publication';
import { awaitingApproval, erpBudgetTotal, planVersion, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

const fastRetry = { initialInterval: '100ms', maximumAttempts: 6 } as const;

async function approve(
  stack: TestStack,
  fiscalYear: number,
  version: number,
  chunkSize: number,
  erpRetry: PublicationInput['erpRetry'] = fastRetry,
) {
  const planned = planVersion(stack, fiscalYear, version);
  const handle = await stack.startCycle(planned.ref, { publication: { chunkSize, erpRetry } });
  await waitForStatus(handle, awaitingApproval);
  await handle.signal(decisionSignal, { decision: 'approve', principal: 'carol@acme.example' });
  return { ...planned, handle };
}

describe('publication to the ERP', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  afterEach(() => stack.d365.faults.clear());

  test('a burst of ERP 5xx answers is retried and the version lands exactly once', async () => {
    stack.d365.faults.inject({ kind: 'status', status: 503, times: 3, method: 'POST', path: '/data/' });
    stack.d365.faults.inject({
      kind: 'status',
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
      method: 'POST',
      path: '/data/',
    });
    const { handle, total } = await approve(stack, 2027, 1, 40);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(stack.d365.faults.fired.status).toBe(4);
    expect(await erpBudgetTotal(stack, 2027)).toBe(total);
    expect(result.reconciliation[0]).toMatchObject({ exceptionCount: 0, targetTotal: total });
  });

  test('a reset in Temporal UI replays the whole cycle without posting anything twice', async () => {
    const cycleId = 'budget-cycle:ACME-US:FY2027:BUDGET:v1';
    const handle = stack.client.workflow.getHandle<typeof budgetCycle>(cycleId);
    const before = await erpBudgetTotal(stack, 2027);
    const { events } = await handle.fetchHistory();
    const firstTask = events!.find(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    )!;
    // What support staff do with "Reset" in Temporal UI: a new run from the first workflow task; the
    // approval signal is reapplied, so the new run goes around the loop again with every activity re-run.
    const { runId } = await stack.client.workflowService.resetWorkflowExecution({
      namespace: stack.config.temporal.namespace,
      workflowExecution: { workflowId: cycleId },
      workflowTaskFinishEventId: firstTask.eventId,
      requestId: randomUUID(),
      reason: 'test: support staff reset',
      resetReapplyType: temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
    });
    const replayed = await stack.client.workflow.getHandle<typeof budgetCycle>(cycleId, runId!).result();
    expect(replayed.status).toBe('completed');
    expect(replayed.decision?.principal).toBe('carol@acme.example');
    expect(await erpBudgetTotal(stack, 2027)).toBe(before);
    expect(replayed.reconciliation[0]).toMatchObject({ exceptionCount: 0, targetTotal: before });
    expect(replayed.actualsSynced).toMatchObject({ inserted: 0 });
  });

  test('an answer lost after the ERP committed does not post twice', async () => {
    stack.d365.faults.inject({ kind: 'drop-after-commit', times: 2, method: 'POST', path: '/data/' });
    const { handle, total } = await approve(stack, 2028, 1, 50);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(stack.d365.faults.fired['drop-after-commit']).toBe(2);
    expect(await erpBudgetTotal(stack, 2028)).toBe(total);
  });

  test('publishing the same version again under the same business keys posts nothing new', async () => {
    const version = await findVersion(stack.db, {
      legalEntity: 'ACME-US',
      fiscalYear: 2028,
      scenario: 'BUDGET',
      version: 1,
    });
    expect(version).toBeDefined();
    const [first] = await stack.db.select().from(publications).where(eq(publications.versionId, version!.id));
    const before = await erpBudgetTotal(stack, 2028);
    // Forget what the database knows, so only the ERP's idempotency stands between us and a double post.
    await stack.db
      .update(publicationChunks)
      .set({ status: 'pending', documentNumber: null })
      .where(eq(publicationChunks.publicationId, first!.id));

    const again = await stack.client.workflow.execute<typeof publication>('publication', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `publication-repeat-${first!.id}`,
      args: [
        {
          versionId: version!.id,
          target: 'd365',
          revision: first!.revision,
          chunkSize: first!.chunkSize,
          correlationId: 'repeat',
        },
      ],
    });
    expect(again.chunkCount).toBe(first!.chunkCount);
    expect(await erpBudgetTotal(stack, 2028)).toBe(before);
  });
});

describe('publication that fails for good', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // The ERP refuses main account 65060 (training): the chunk holding those lines fails with a 4xx.
    stack = await startStack({
      d365: { knownMainAccounts: ['60010', '61020', '62030', '62035', '63040', '64050'] },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('reverses the chunks already posted, reports publication_failed, and publishes a new revision when support retries', async () => {
    const { handle, ref, total } = await approve(stack, 2027, 1, 10, {
      initialInterval: '100ms',
      maximumAttempts: 2,
    });
    const failed = await waitForStatus(handle, (s) => s.status === 'publication_failed');
    expect(failed.publications[0]).toMatchObject({ target: 'd365', status: 'failed' });
    expect(failed.publications[0]!.error).toMatch(/65060|rejected|400/i);
    expect(await erpBudgetTotal(stack, 2027)).toBe('0.00');

    const version = await findVersion(stack.db, ref);
    expect(version?.status).toBe('publication_failed');
    const [pub] = await stack.db.select().from(publications).where(eq(publications.versionId, version!.id));
    const chunks = await stack.db
      .select()
      .from(publicationChunks)
      .where(eq(publicationChunks.publicationId, pub!.id));
    const reversed = chunks.filter((c) => c.status === 'reversed');
    expect(reversed.length).toBeGreaterThan(0);
    expect(chunks.filter((c) => c.status === 'posted')).toEqual([]);

    // A malformed retry signal changes nothing and says why.
    await handle.signal(retryPublicationSignal, { who: 'sam' } as never);
    const refused = await waitForStatus(handle, (s) => s.refusedSignals.length === 1);
    expect(refused.refusedSignals[0]!.reason).toMatch(/invalid retry-publication: principal/);
    expect(refused.status).toBe('publication_failed');

    // Support staff fix the ERP's chart of accounts, then retry: the next revision posts under new keys.
    stack.d365.setKnownMainAccounts(undefined);
    await handle.signal(retryPublicationSignal, {
      principal: 'sam@acme.example',
      reason: 'account 65060 opened in D365',
    });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.publications.map((p) => [p.revision, p.status])).toEqual([
      [1, 'failed'],
      [2, 'published'],
    ]);
    expect(result.publicationRetries).toEqual([
      expect.objectContaining({ principal: 'sam@acme.example', reason: 'account 65060 opened in D365' }),
    ]);
    expect(await erpBudgetTotal(stack, 2027)).toBe(total);
    expect(result.reconciliation[0]).toMatchObject({ exceptionCount: 0 });
  });
});
