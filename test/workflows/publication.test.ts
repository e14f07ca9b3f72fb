import { eq } from 'drizzle-orm';
import { findVersion } from '../../db/queries/budget-versions';
import { publicationChunks, publications } from '../../db/schema';
import { decisionSignal, retryPublicationSignal } from '../../workflows/definitions';
import { type PublicationInput, type publication } from '../../workflows/publication';
import {
  awaitingApproval,
  erpBudgetTotal,
  planVersion,
  resetCycle,
  waitForStatus,
  workflowTaskPoints,
} from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

const fastRetry = { initialInterval: '100ms', maximumAttempts: 6 } as const;

/** Plans a version of its own fiscal year, starts its cycle and approves it by signal. */
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
  await handle.signal(
    decisionSignal,
    await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
  );
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
    const fiscalYear = await stack.newFiscalYear();
    const { handle, total } = await approve(stack, fiscalYear, 1, 40);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(stack.d365.faults.fired.status).toBe(4);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    expect(result.reconciliation[0]).toMatchObject({ exceptionCount: 0, targetTotal: total });
  });

  test('a reset in Temporal UI replays the whole cycle without posting anything twice', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { handle, total } = await approve(stack, fiscalYear, 1, 40);
    expect((await handle.result()).status).toBe('completed');
    const [firstTask] = await workflowTaskPoints(handle);
    const replayed = await resetCycle(stack, handle.workflowId, firstTask!);
    expect(replayed.status).toBe('completed');
    expect(replayed.decision?.principal).toBe('carol@acme.example');
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    expect(replayed.reconciliation[0]).toMatchObject({ exceptionCount: 0, targetTotal: total });
    expect(replayed.actualsSynced).toMatchObject({ inserted: 0 });
  });

  test('an answer lost after the ERP committed does not post twice', async () => {
    stack.d365.faults.inject({ kind: 'drop-after-commit', times: 2, method: 'POST', path: '/data/' });
    const fiscalYear = await stack.newFiscalYear();
    const { handle, total } = await approve(stack, fiscalYear, 1, 50);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(stack.d365.faults.fired['drop-after-commit']).toBe(2);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
  });

  test('publishing the same version again under the same business keys posts nothing new', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { handle, ref, total } = await approve(stack, fiscalYear, 1, 50);
    expect((await handle.result()).status).toBe('completed');
    const version = await findVersion(stack.db, ref);
    const [first] = await stack.db.select().from(publications).where(eq(publications.versionId, version!.id));
    // Forget what the database knows, so only the ERP's idempotency stands between us and a double post.
    await stack.db.update(publications).set({ status: 'publishing' }).where(eq(publications.id, first!.id));
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
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    expect(
      stack.d365.budgetEntries().filter((e) => e.ReasonComment.includes(`FY${fiscalYear}`)),
    ).toHaveLength(first!.chunkCount);
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
    const fiscalYear = await stack.newFiscalYear();
    const { handle, ref, total } = await approve(stack, fiscalYear, 1, 10, {
      initialInterval: '100ms',
      maximumAttempts: 2,
    });
    const failed = await waitForStatus(handle, (s) => s.status === 'publication_failed');
    expect(failed.publications[0]).toMatchObject({ target: 'd365', status: 'failed' });
    expect(failed.publications[0]!.error).toMatch(/65060|rejected|400/i);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe('0.00');

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
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    expect(result.reconciliation[0]).toMatchObject({ exceptionCount: 0 });

    // A reset of the whole cycle resumes revision 2 (the database knows it stands) and posts nothing new.
    const [firstTask] = await workflowTaskPoints(handle);
    const replayed = await resetCycle(stack, handle.workflowId, firstTask!);
    expect(replayed.status).toBe('completed');
    expect(replayed.publications).toEqual([expect.objectContaining({ revision: 2, status: 'published' })]);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
  });
});
