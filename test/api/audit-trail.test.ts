import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { PROJECT_ROOT } from '../../config/paths';
import { seedServicesCompany } from '../../simulators/scenario/seed';
import { decisionSignal } from '../../workflows/definitions';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

const run = promisify(execFile);

/**
 * Everything a support engineer or an auditor needs to follow a cycle is in its trail, refusals included,
 * and anyone can check the whole log's hash chains from the command line.
 */
describe('audit trail', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const poll = (cycleId: string, until: (s: BudgetCycleStatus) => boolean) =>
    pollCycle(request, cycleId, until);
  async function cycle(fiscalYear: number, version: number, refuseFirst: boolean) {
    seedServicesCompany({ d365: stack.d365, anaplan: stack.anaplan }, { fiscalYear, version });
    const started = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity: 'ACME-US', fiscalYear, version, asOfPeriod: `${fiscalYear}-03`, chunkSize: 50 },
    });
    const cycleId = started.body.cycleId as string;
    await poll(cycleId, (s) => s.status === 'awaiting_approval');
    if (refuseFirst) {
      const own = await request('POST', `${cyclePath(cycleId)}/decision`, {
        key: 'dev-planner',
        body: { decision: 'approve' },
      });
      expect(own.status).toBe(403);
      await stack.client.workflow
        .getHandle(cycleId)
        .signal(
          decisionSignal,
          await stack.signed(cycleId, { decision: 'approve', principal: 'ian@acme.example' }),
        );
      await poll(cycleId, (s) => s.refusedSignals.length === 1);
    }
    await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve' },
    });
    expect((await stack.client.workflow.getHandle(cycleId).result()).status).toBe('completed');
    return cycleId;
  }
  async function trail(cycleId: string) {
    const audit = await request('GET', `${cyclePath(cycleId)}/audit`, { key: 'dev-planner' });
    expect(audit.status).toBe(200);
    return audit.body as {
      correlationId: string;
      entries: { action: string; actor: string; correlationId: string }[];
    };
  }

  test("a cycle's trail holds its postings (a revision's differences only, nothing reversed), actuals, and every refused decision or signal", async () => {
    const fiscalYear = await stack.newFiscalYear();
    const first = await cycle(fiscalYear, 1, false);
    const second = await cycle(fiscalYear, 2, true);
    const [v1, v2] = [await trail(first), await trail(second)];

    const actions = v2.entries.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'budget_cycle.started',
        'budget_version.imported',
        'budget_cycle.decision_refused',
        'budget_cycle.signal_refused',
        'budget_version.approved',
        'publication.started',
        'budget_chunk.posted',
        'publication.published',
        'budget_version.activated',
        'budget_version.superseded',
        'reconciliation.completed',
        'actuals.ingested',
        'forecast.published',
        'budget_cycle.closed',
      ]),
    );
    expect(actions[0]).toBe('budget_cycle.started');
    expect(actions[actions.length - 1]).toBe('budget_cycle.closed');
    const refused = v2.entries.filter((e) => e.action.endsWith('_refused'));
    expect(refused.map((e) => [e.action, e.actor])).toEqual([
      ['budget_cycle.decision_refused', 'alice@acme.example'],
      ['budget_cycle.signal_refused', 'ian@acme.example'],
    ]);
    // A revision posts its differences from what the budget holds: nothing of the older version is reversed.
    expect(actions.filter((a) => a.includes('reversed'))).toEqual([]);
    const started = v2.entries.find((e) => e.action === 'publication.started') as unknown as {
      details: { purpose: string; lineCount: number };
    };
    expect(started.details).toMatchObject({ purpose: 'revision', lineCount: 12 });
    // The older version's trail shows its postings and that it was superseded, by which cycle.
    const v1Actions = v1.entries.map((e) => e.action);
    expect(v1Actions).toEqual(expect.arrayContaining(['budget_chunk.posted', 'budget_version.superseded']));
    expect(v1Actions.filter((a) => a.includes('reversed'))).toEqual([]);
    expect(v1.entries.find((e) => e.action === 'budget_version.superseded')?.correlationId).toBe(
      v2.correlationId,
    );
  });

  test('npm run audit:verify checks every stream from the command line and names the first broken entry', async () => {
    const fiscalYear = await stack.newFiscalYear();
    await cycle(fiscalYear, 1, false);
    const verify = () =>
      run('npx', ['tsx', path.join('scripts', 'audit-verify.ts')], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, DATABASE_URL: stack.databaseUrl },
      }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
    const intact = await verify();
    expect(intact.code).toBe(0);
    expect(intact.out).toMatch(/^ok\s+budget:ACME-US\s+\d+ entries$/m);
    expect(intact.out).toMatch(/^ok\s+actuals:ACME-US/m);
    expect(intact.out).toMatch(/audit log intact/);

    // Someone with database access slips a forged entry into the chain: the command says where.
    const [{ seq }] = (await stack.db.execute(sql`
      insert into audit_log (stream, occurred_at, actor, action, entity_type, entity_id, correlation_id, event_key, details, prev_hash, hash)
      values ('budget:ACME-US', now(), 'mallory', 'budget_version.approved', 'budget_version', 'x', 'x', 'forged', '{}', 'bad', 'bad')
      returning seq`)) as unknown as [{ seq: number }];
    const broken = await verify();
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(
      new RegExp(`^BROKEN\\s+budget:ACME-US\\s+\\d+ entries, first bad entry seq ${seq}$`, 'm'),
    );
    expect(broken.out).toMatch(/^ok\s+actuals:ACME-US/m);
  });
});
