import { sql } from 'drizzle-orm';
import { retryPublicationSignal } from '../../workflows/definitions';
import { erpBudgetTotal, planVersion } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

const admin = { key: 'dev-admin' };
const ROUTES = '/v1/legal-entities/ACME-US/routes';

/**
 * Routing as data: which ERP receives an entity's budgets is a table of dated routes an integration
 * administrator changes through the API, every change audited; a publication sends each line to the routes
 * in force on its period's first day, and a line no route takes is never dropped silently.
 */
describe('routing as data', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('routes are dated and audited; a version with lines no route takes fails to publish until one does', async () => {
    const listed = await request('GET', ROUTES, admin);
    expect(listed.status).toBe(200);
    expect(listed.body.routes).toEqual([
      expect.objectContaining({
        target: 'd365',
        company: 'acus',
        postingModel: 'additive',
        validFrom: '1900-01-01',
        validTo: null,
        inForce: true,
      }),
    ]);

    const fiscalYear = await stack.newFiscalYear();
    const july = `${fiscalYear}-07-01`;
    // Only an integration administrator changes routing, and only to a way the ERP holds budgets.
    const settings = { budgetModel: 'FY-BUDGET', budgetCode: 'Original' };
    const body = {
      target: 'd365',
      company: 'acus',
      settings,
      validFrom: july,
      reason: 'acus resumes in July',
    };
    expect((await request('POST', ROUTES, { key: 'dev-planner', body })).status).toBe(403);
    const badModel = await request('POST', ROUTES, {
      ...admin,
      body: { ...body, postingModel: 'replace-scope' },
    });
    expect(badModel.status).toBe(400);
    expect(JSON.stringify(badModel.body)).toContain('postingModel');
    const noSettings = await request('POST', ROUTES, { ...admin, body: { ...body, settings: {} } });
    expect(noSettings.status).toBe(400);
    expect(JSON.stringify(noSettings.body)).toContain('is required for d365 to hold budgets as additive');

    const ended = await request('POST', `${ROUTES}/d365/end`, {
      ...admin,
      body: { validTo: july, reason: 'acus is closed for the second half' },
    });
    expect(ended.status).toBe(200);
    expect(ended.body.route).toMatchObject({ target: 'd365', validFrom: '1900-01-01', validTo: july });
    const onJuly = await request('GET', `${ROUTES}?on=${july}`, admin);
    expect(onJuly.body.routes).toEqual([expect.objectContaining({ inForce: false })]);

    // The version's July to December lines have nowhere to go: nothing is posted, and the cycle says why.
    const { total } = planVersion(stack, fiscalYear, 1);
    const started = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity: 'ACME-US', fiscalYear, version: 1, chunkSize: 50 },
    });
    const cycleId = started.body.cycleId as string;
    await pollCycle(request, cycleId, (s) => s.status === 'awaiting_approval');
    await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve' },
    });
    const failed = await pollCycle(request, cycleId, (s) => s.status === 'publication_failed');
    expect(failed.publications[0]!.error).toContain(
      `ACME-US has no route in force on the first day of ${fiscalYear}-07 (${july}), ${fiscalYear}-08 (${fiscalYear}-08-01)`,
    );
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe('0.00');

    // A route from July on: asked for twice it is added once; one starting earlier would overlap it.
    const added = await request('POST', ROUTES, { ...admin, body });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ outcome: 'added', ended: [] });
    expect((await request('POST', ROUTES, { ...admin, body })).body.outcome).toBe('already_routed');
    const overlapping = await request('POST', ROUTES, {
      ...admin,
      body: { ...body, validFrom: `${fiscalYear}-03-01` },
    });
    expect(overlapping.status).toBe(409);
    expect(overlapping.body).toMatchObject({ error: 'later_route' });

    await stack.client.workflow.getHandle(cycleId).signal(retryPublicationSignal, {
      principal: 'sam@acme.example',
      reason: 'acus routed again from July',
    });
    await pollCycle(request, cycleId, (s) => s.status === 'completed');
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);

    const trail = (await stack.db.execute(sql`
      select action, entity_id as "entityId" from audit_log where stream = 'routing:ACME-US' order by seq`)) as unknown as {
      action: string;
      entityId: string;
    }[];
    expect(trail).toEqual([
      { action: 'route.ended', entityId: 'ACME-US:d365:1900-01-01' },
      { action: 'route.added', entityId: `ACME-US:d365:${july}` },
    ]);
  });
});
