import { sql } from 'drizzle-orm';
import { apiKeyOf } from '../../config';
import { MANUFACTURER } from '../../db/seed/manufacturer';
import { type ApprovalChainState, awaitedApprovers } from '../../domain/approval-chain';
import { manufacturerBudgetRows } from '../../simulators/scenario/manufacturer';
import { seedManufacturer } from '../../simulators/scenario/seed';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Approvals by the owners of any dimension's values (issue 22): the manufacturer routes its budget to the
 * manager of each project it has lines on, then to the plant controller. Each project manager approves
 * their own project's step over the API; a project handed to a new manager goes to them; a version with
 * lines on a project without a manager goes to the fallback.
 */
describe('the manufacturer: project managers approve their projects’ lines', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
    seedManufacturer({ d365: stack.d365 });
  });
  afterAll(() => stack?.stop());

  const keyOf = (principal: string) => apiKeyOf(stack.config, principal)!;
  const policyPath = `/v1/approval-policies/${MANUFACTURER}`;

  test('each project’s manager approves its step, then the plant controller; the version is published', async () => {
    const current = await request('GET', policyPath, { key: 'dev-controller' });
    const expectedRevision = current.status === 404 ? 0 : (current.body.revision as number);
    // A policy naming a dimension the chart does not have is refused.
    const unknown = await request('PUT', policyPath, {
      key: 'dev-controller',
      body: {
        expectedRevision,
        reason: 'route by grant',
        stages: [
          [{ kind: 'dimension_owners', name: 'PIs', dimension: 'grant', fallback: ['carol@acme.example'] }],
        ],
      },
    });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain("ACME-MFG's chart has no dimension grant");
    const put = await request('PUT', policyPath, {
      key: 'dev-controller',
      body: {
        expectedRevision,
        reason: 'project managers answer for their projects',
        stages: [
          [
            {
              kind: 'dimension_owners',
              name: 'project managers',
              dimension: 'project',
              fallback: ['carol@acme.example'],
            },
          ],
          [{ kind: 'group', name: 'plant controller', approvers: ['carol@acme.example'] }],
        ],
      },
    });
    expect(put.status).toBe(200);
    const policy = await request('GET', policyPath, { key: 'dev-controller' });
    expect(policy.body.dimensionOwners).toEqual({
      project: { 'P-101': ['priya@acme.example'], 'P-102': ['marco@acme.example'] },
    });

    const fiscalYear = await stack.newFiscalYear();
    stack.anaplan.putBudgetVersion({
      legalEntity: MANUFACTURER,
      fiscalYear,
      scenario: 'BUDGET',
      version: 1,
      rows: manufacturerBudgetRows(fiscalYear),
    });
    const started = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity: MANUFACTURER, fiscalYear, version: 1, chunkSize: 40 },
    });
    expect(started.status).toBe(202);
    const cycleId = started.body.cycleId as string;
    const awaiting = await pollCycle(
      request,
      cycleId,
      (s) =>
        s.status === 'awaiting_approval' && awaitedApprovers(s.approval as ApprovalChainState).length > 0,
    );
    const chain = awaiting.approval as ApprovalChainState;
    expect(awaitedApprovers(chain).sort()).toEqual(['marco@acme.example', 'priya@acme.example']);

    // Priya may approve P-101's step only: the plant controller's stage is not open yet.
    const approve = (principal: string) =>
      request('POST', `${cyclePath(cycleId)}/decision`, {
        key: keyOf(principal),
        body: { decision: 'approve', comment: 'my project is right' },
      });
    expect((await approve('priya@acme.example')).status).toBe(200);
    expect((await approve('carol@acme.example')).status).not.toBe(200);
    expect((await approve('marco@acme.example')).status).toBe(200);
    await pollCycle(request, cycleId, (s) =>
      awaitedApprovers(s.approval as ApprovalChainState).includes('carol@acme.example'),
    );
    expect((await approve('carol@acme.example')).status).toBe(200);
    const done = await pollCycle(request, cycleId, (s) =>
      ['completed', 'publication_failed', 'rejected'].includes(String(s.status)),
    );
    expect(done.status).toBe('completed');

    const levels = (await stack.db.execute(sql`
      select actor, details->'levels' as levels from audit_log
       where stream = ${`budget:${MANUFACTURER}`} and action = 'approval.level_approved'
         and correlation_id in (select correlation_id from audit_log where entity_id like ${`%${fiscalYear}%`})
       order by seq`)) as unknown as { actor: string; levels: unknown }[];
    expect(JSON.stringify(levels)).toContain('project managers:P-101');
    expect(levels.map((l) => l.actor)).toEqual(
      expect.arrayContaining(['priya@acme.example', 'marco@acme.example', 'carol@acme.example']),
    );
  });
});
