import { sql } from 'drizzle-orm';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * An entity's approval policy held as data and edited by command: read with its revision, replaced whole by
 * a controller with a reason (a stale revision is refused, a bad policy is refused naming its fields, and
 * neither changes anything), cost centers handed to new owners from a date, and the route a version would
 * take previewed. Every change is in the entity's approvals audit stream.
 */
describe('approval policies over the API', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, approvalPolicies: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const usd = (amount: string) => ({ amount, currency: 'USD' });
  const preview = (total: string, activeTotal?: string, submittedBy = 'alice@acme.example') =>
    request('POST', '/v1/approval-policies/ACME-US/route-preview', {
      key: 'dev-planner',
      body: {
        submittedBy,
        total: usd(total),
        ...(activeTotal ? { activeTotal: usd(activeTotal) } : {}),
        costCenters: [
          { costCenter: 'CC-100', total: usd('1.00') },
          { costCenter: 'CC-300', total: usd('1.00') },
        ],
      },
    });
  const keys = (body: Record<string, unknown>) =>
    (body.stages as { key: string; required: number }[][]).map((s) => s.map((l) => `${l.key}/${l.required}`));

  test('the seeded policy, previewed, edited, refused when stale or invalid, and audited', async () => {
    const seeded = await request('GET', '/v1/approval-policies/ACME-US', { key: 'dev-planner' });
    expect(seeded.status).toBe(200);
    expect(seeded.body).toMatchObject({ revision: 1, owners: { 'CC-100': ['olivia@acme.example'] } });
    expect(
      (await request('GET', '/v1/approval-policies/ACME-DE', { key: 'dev-planner' })).body,
    ).toMatchObject({
      error: 'no_policy',
    });

    const small = await preview('1000000.00', '990000.00');
    expect(keys(small.body)).toEqual([
      ['cost center owners:CC-100/1', 'cost center owners:CC-300/1'],
      ['FP&A/2'],
    ]);
    expect(small.body.skipped).toEqual([{ name: 'CFO', reason: 'no threshold of the level is crossed' }]);
    const big = await preview('6000000.00', '5900000.00');
    expect(keys(big.body)).toEqual([
      ['cost center owners:CC-100/1', 'cost center owners:CC-300/1'],
      ['FP&A/2'],
      ['CFO/1'],
    ]);

    // A controller makes FP&A and the CFO one parallel stage, any 1 of FP&A.
    const stages = [
      (seeded.body.spec as { stages: unknown[][] }).stages[0],
      [
        { kind: 'group', name: 'FP&A', approvers: ['carol@acme.example', 'frank@acme.example'] },
        { kind: 'group', name: 'CFO', approvers: ['victor@acme.example'] },
      ],
    ];
    const body = { stages, expectedRevision: 1, reason: 'FY28 approval matrix' };
    expect((await request('PUT', '/v1/approval-policies/ACME-US', { key: 'dev-admin', body })).status).toBe(
      403,
    );
    expect((await request('PUT', '/v1/approval-policies/ACME-US', { key: 'dev-planner', body })).status).toBe(
      403,
    );
    const changed = await request('PUT', '/v1/approval-policies/ACME-US', { key: 'dev-controller', body });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ revision: 2 });
    const stale = await request('PUT', '/v1/approval-policies/ACME-US', { key: 'dev-controller', body });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: 'stale_policy_revision', currentRevision: 2 });
    const invalid = await request('PUT', '/v1/approval-policies/ACME-US', {
      key: 'dev-controller',
      body: {
        stages: [[{ kind: 'group', name: 'FP&A', approvers: ['carol@acme.example'], quorum: 3 }]],
        expectedRevision: 2,
        reason: 'typo',
      },
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('quorum');
    expect(keys((await preview('1000000.00')).body)).toEqual([
      ['cost center owners:CC-100/1', 'cost center owners:CC-300/1'],
      ['FP&A/1', 'CFO/1'],
    ]);

    // CC-300 changes hands from a date; the owner who submits is stood in for by the fallback.
    const handed = await request('PUT', '/v1/approval-policies/ACME-US/cost-centers/CC-300/owners', {
      key: 'dev-controller',
      body: { owners: ['sven@acme.example'], from: '2020-06-01', reason: 'Quinn moved to EMEA' },
    });
    expect(handed.body).toMatchObject({ before: ['quinn@acme.example'], after: ['sven@acme.example'] });
    const own = await preview('1000000.00', undefined, 'sven@acme.example');
    expect((own.body.stages as { key: string; approvers: string[] }[][])[0]).toEqual([
      expect.objectContaining({ key: 'cost center owners:CC-100', approvers: ['olivia@acme.example'] }),
      expect.objectContaining({ key: 'cost center owners:CC-300', approvers: ['carol@acme.example'] }),
    ]);
    expect(
      (
        await request('PUT', '/v1/approval-policies/ACME-US/cost-centers/CC-510/owners', {
          key: 'dev-controller',
          body: { owners: ['x@acme.example'], from: '2020-06-01', reason: 'not this entity' },
        })
      ).status,
    ).toBe(404);

    const audit = (await stack.db.execute(sql`
      select action, actor from audit_log where stream = 'approvals:ACME-US' order by seq`)) as unknown as {
      action: string;
      actor: string;
    }[];
    expect([...audit]).toEqual([
      { action: 'approval_policy.changed', actor: 'dave@acme.example' },
      { action: 'cost_center.owners_changed', actor: 'dave@acme.example' },
    ]);
  });
});
