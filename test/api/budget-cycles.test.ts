import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { loadConfig } from '../../config';
import { clientRetryInterceptor } from '../../config/temporal-connection';
import { openDatabase } from '../../db/client';
import { budgetCycles, budgetVersions } from '../../db/schema';
import { listen } from '../../api/listen';
import { planVersion, waitForStatus } from '../harness/cycle';
import { apiClient, cyclePath } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

const PLANNER = 'dev-planner';
const APPROVER = 'dev-approver';

describe('budget cycle API', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('every route needs a known API key', async () => {
    expect((await request('GET', '/v1/budget-cycles')).status).toBe(401);
    expect((await request('GET', '/v1/budget-cycles', { key: 'nope' })).status).toBe(401);
  });

  test('a bad start request gets 400 with every offending field and starts nothing', async () => {
    const res = await request('POST', '/v1/budget-cycles', {
      key: PLANNER,
      body: { legalEntity: 'acme us', fiscalYear: 1999, version: 0, approvalTimeout: 'soon', extra: true },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    const fields = (res.body.issues as { field: string }[]).map((i) => i.field).sort();
    expect(fields).toEqual(
      expect.arrayContaining(['approvalTimeout', 'fiscalYear', 'legalEntity', 'version']),
    );
    expect(JSON.stringify(res.body.issues)).toMatch(/extra/);
    expect(
      (await request('POST', '/v1/budget-cycles', { key: PLANNER, rawBody: '{"legalEntity":' })).status,
    ).toBe(400);
    expect(await stack.db.select().from(budgetVersions)).toEqual([]);
    const list = await request('GET', '/v1/budget-cycles', { key: PLANNER });
    expect(list.body.cycles).toEqual([]);
  });

  test('an approver may not start a cycle', async () => {
    const res = await request('POST', '/v1/budget-cycles', {
      key: APPROVER,
      body: { legalEntity: 'ACME-US', fiscalYear: 2027, version: 1 },
    });
    expect(res.status).toBe(403);
  });

  test('references the database does not know are refused with 422 naming each, and nothing starts', async () => {
    const unknownEntity = await request('POST', '/v1/budget-cycles', {
      key: PLANNER,
      body: { legalEntity: 'ACME-XX', fiscalYear: 2027, version: 1 },
    });
    expect(unknownEntity.status).toBe(422);
    expect(unknownEntity.body).toMatchObject({
      error: 'unknown_reference',
      issues: [{ field: 'legalEntity', message: expect.stringMatching(/ACME-XX/) }],
    });
    const unknownYearAndPeriod = await request('POST', '/v1/budget-cycles', {
      key: PLANNER,
      body: { legalEntity: 'ACME-US', fiscalYear: 2090, version: 1, asOfPeriod: '2090-04' },
    });
    expect(unknownYearAndPeriod.status).toBe(422);
    expect((unknownYearAndPeriod.body.issues as { field: string }[]).map((i) => i.field)).toEqual([
      'fiscalYear',
      'asOfPeriod',
    ]);
    expect(await stack.db.select().from(budgetCycles)).toEqual([]);
    expect((await request('GET', '/v1/budget-cycles', { key: PLANNER })).body.cycles).toEqual([]);
    expect((await request('GET', '/v1/budget-cycles?legalEntity=ACME-XX', { key: PLANNER })).status).toBe(
      422,
    );
  });

  test('an oversized body is refused with 413 and the limit, never a 500', async () => {
    const huge = JSON.stringify({
      legalEntity: 'ACME-US',
      fiscalYear: 2027,
      version: 1,
      pad: 'x'.repeat(1 << 20),
    });
    const res = await request('POST', '/v1/budget-cycles', { key: PLANNER, rawBody: huge });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'body_too_large', limitBytes: 256 * 1024 });
    const decision = await request('POST', `${cyclePath('budget-cycle:ACME-US:FY2027:BUDGET:v1')}/decision`, {
      key: APPROVER,
      rawBody: huge,
    });
    expect(decision.status).toBe(413);
  });

  test('start → 202 with Location; a second start → 409; decisions are gated, refused or accepted as users expect', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { ref, total } = planVersion(stack, fiscalYear, 3);
    const started = await request('POST', '/v1/budget-cycles', {
      key: PLANNER,
      body: {
        legalEntity: ref.legalEntity,
        fiscalYear: ref.fiscalYear,
        version: ref.version,
        asOfPeriod: '2027-03',
      },
    });
    expect(started.status).toBe(202);
    const cycleId = `budget-cycle:ACME-US:FY${fiscalYear}:BUDGET:v3`;
    expect(started.body.cycleId).toBe(cycleId);
    const location = started.headers.get('location')!;
    expect(location).toBe(cyclePath(cycleId));

    const twin = await request('POST', '/v1/budget-cycles', {
      key: PLANNER,
      body: { legalEntity: 'ACME-US', fiscalYear, version: 3 },
    });
    expect(twin.status).toBe(409);
    expect(twin.body).toMatchObject({ error: 'already_started', cycleId, nextRevision: 2 });

    const handle = stack.client.workflow.getHandle(started.body.cycleId as string);
    await waitForStatus(handle as never, (s) => s.status === 'awaiting_approval');
    const got = await request('GET', location, { key: PLANNER });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      stage: 'authorize',
      status: 'awaiting_approval',
      lineCount: 132,
      total: { amount: total, currency: 'USD' },
    });

    const bad = await request('POST', `${location}/decision`, { key: APPROVER, body: { decision: 'maybe' } });
    expect(bad.status).toBe(400);
    expect((bad.body.issues as { field: string }[])[0]!.field).toBe('decision');
    const noComment = await request('POST', `${location}/decision`, {
      key: APPROVER,
      body: { decision: 'reject' },
    });
    expect(noComment.status).toBe(400);
    expect(JSON.stringify(noComment.body.issues)).toMatch(/comment/);

    const own = await request('POST', `${location}/decision`, {
      key: PLANNER,
      body: { decision: 'approve' },
    });
    expect(own.status).toBe(403);
    expect(own.body.error).toBe('SegregationOfDuties');
    const admin = await request('POST', `${location}/decision`, {
      key: 'dev-admin',
      body: { decision: 'approve' },
    });
    expect(admin.status).toBe(403);

    const approved = await request('POST', `${location}/decision`, {
      key: APPROVER,
      body: { decision: 'approve', comment: 'fine' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.decision).toMatchObject({ decision: 'approve', principal: 'carol@acme.example' });

    const second = await request('POST', `${location}/decision`, {
      key: 'dev-controller',
      body: { decision: 'reject', comment: 'late' },
    });
    expect(second.status).toBe(409);

    await handle.result();
    const rec = await request('GET', `${location}/reconciliation`, { key: PLANNER });
    expect(rec.status).toBe(200);
    const [run] = rec.body.runs as {
      target: string;
      sourceTotal: string;
      targetTotal: string;
      exceptionCount: number;
      lines: unknown[];
    }[];
    expect(run).toMatchObject({ target: 'd365', exceptionCount: 0, sourceTotal: total, targetTotal: total });
    expect(run!.lines).toHaveLength(6 * 12);

    const closed = await request('POST', `${location}/decision`, {
      key: APPROVER,
      body: { decision: 'approve' },
    });
    expect(closed.status).toBe(409);
    const audit = await request('GET', `${location}/audit`, { key: PLANNER });
    expect((audit.body.entries as { action: string }[]).map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'budget_version.imported',
        'budget_version.approved',
        'budget_version.activated',
      ]),
    );
    const list = await request('GET', `/v1/budget-cycles?legalEntity=ACME-US&fiscalYear=${fiscalYear}`, {
      key: PLANNER,
    });
    expect(list.body.cycles).toEqual([expect.objectContaining({ cycleId })]);
  });

  test('unknown cycles are 404, malformed IDs 400', async () => {
    expect(
      (await request('GET', cyclePath('budget-cycle:ACME-US:FY2027:BUDGET:v999'), { key: PLANNER })).status,
    ).toBe(404);
    expect(
      (
        await request('POST', `${cyclePath('budget-cycle:ACME-US:FY2027:BUDGET:v999')}/decision`, {
          key: APPROVER,
          body: { decision: 'approve' },
        })
      ).status,
    ).toBe(404);
    const bad = await request('GET', cyclePath('not-a-cycle'), { key: PLANNER });
    expect(bad.status).toBe(400);
    expect((bad.body.issues as { field: string }[])[0]!.field).toBe('cycleId');
    expect((await request('GET', '/v1/budget-cycles?stage=sleeping', { key: PLANNER })).status).toBe(400);
    expect(
      (await request('GET', '/v1/budget-cycles?limit=0&colour=red', { key: PLANNER })).body.issues,
    ).toHaveLength(2);
    for (const sub of ['reconciliation', 'audit', 'decision']) {
      const res = await request(
        sub === 'decision' ? 'POST' : 'GET',
        `${cyclePath('budget-cycle:ACME-US:FY27:BUDGET:v1')}/${sub}`,
        { key: APPROVER, body: sub === 'decision' ? { decision: 'approve' } : undefined },
      );
      expect(res.status).toBe(400);
    }
    const notImported = await request(
      'GET',
      `${cyclePath('budget-cycle:ACME-US:FY2027:BUDGET:v998')}/reconciliation`,
      { key: PLANNER },
    );
    expect(notImported.status).toBe(404);
  });
});

describe('API when its dependencies are down', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function appWith(config: ReturnType<typeof loadConfig>, databaseUrl: string) {
    const connection = Connection.lazy({
      address: config.temporal.address,
      connectTimeout: '1 second',
      interceptors: [clientRetryInterceptor()],
    });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const database = openDatabase(databaseUrl, { poolSize: 1 });
    const server = await listen(createApp({ config, client, db: database.db }), 0);
    return {
      request: apiClient(server.url),
      close: async () => {
        await server.close();
        await database.close();
        await connection.close().catch(() => undefined);
      },
    };
  }

  test('Temporal down: a start answers 503 and leaves no trace (its registration is rolled back)', async () => {
    const config = loadConfig({
      DATABASE_URL: stack.databaseUrl,
      API_PORT: '0',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    const app = await appWith(config, stack.databaseUrl);
    try {
      const start = await app.request('POST', '/v1/budget-cycles', {
        key: PLANNER,
        body: { legalEntity: 'ACME-US', fiscalYear: 2027, version: 1 },
      });
      expect(start.status).toBe(503);
      expect(start.body.error).toBe('temporal_unavailable');
      expect(start.headers.get('retry-after')).toBe('5');
      expect(await stack.db.select().from(budgetCycles)).toEqual([]);
      expect((await app.request('GET', '/health')).status).toBe(503);
    } finally {
      await app.close();
    }
  });

  test('PostgreSQL down: answers 503 and changes nothing', async () => {
    const dead = 'postgres://postgres@127.0.0.1:1/closeloop';
    const config = loadConfig({ DATABASE_URL: dead, API_PORT: '0', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    const app = await appWith(config, dead);
    try {
      const start = await app.request('POST', '/v1/budget-cycles', {
        key: PLANNER,
        body: { legalEntity: 'ACME-US', fiscalYear: 2027, version: 1 },
      });
      expect(start.status).toBe(503);
      expect(start.body.error).toBe('database_unavailable');
      const rec = await app.request(
        'GET',
        `${cyclePath('budget-cycle:ACME-US:FY2027:BUDGET:v1')}/reconciliation`,
        { key: PLANNER },
      );
      expect(rec.status).toBe(503);
      expect(rec.body.error).toBe('database_unavailable');
    } finally {
      await app.close();
    }
  });
});
