import { sql } from 'drizzle-orm';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Control budgets as data on the manufacturer's chart (issue 22, first step): a controller puts control
 * budgets on any dimensions and hierarchy levels, audited; a combination is matched to every budget it falls
 * in. (Reservations against them come next.)
 */
describe('control budgets as data', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: false });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const base = '/v1/budget-control/control-budgets/ACME-MFG';
  const put = (code: string, body: object, key = 'dev-controller') =>
    request('PUT', `${base}/${code}`, { key, body: { reason: 'FY2027 control model', ...body } });
  const opexByDepartment = {
    description: 'operating expenses per department',
    covers: { account: [{ under: 'OPEX' }] },
    per: 'department',
    level: 'absolute',
    periodBasis: 'quarter',
    validFrom: '2027-01-01',
  };
  const travelByCostCenter = {
    description: 'travel per cost center, 5% tolerance',
    covers: { account: [{ under: 'TRAVEL' }] },
    per: 'costCenter',
    level: 'absolute',
    tolerancePercent: '5',
    periodBasis: 'ytd',
    validFrom: '2027-01-01',
  };

  test('a controller puts control budgets on any dimension; a line falls in every one that covers it', async () => {
    expect((await put('OPEX-DEPT', opexByDepartment)).status).toBe(201);
    expect((await put('TRAVEL-CC', travelByCostCenter)).status).toBe(201);
    // The same again changes nothing; a change is audited with what it replaced.
    expect((await put('OPEX-DEPT', opexByDepartment)).body).toMatchObject({ outcome: 'unchanged' });
    expect((await put('OPEX-DEPT', { ...opexByDepartment, level: 'advisory' })).body).toMatchObject({
      outcome: 'changed',
    });
    const audit = (await stack.db.execute(sql`
      select action, details->'previous'->>'level' as previous from audit_log
       where stream = 'control:ACME-MFG' and entity_id = 'ACME-MFG:OPEX-DEPT' order by seq`)) as unknown as {
      action: string;
      previous: string | null;
    }[];
    expect(audit).toEqual([
      { action: 'control_budget.created', previous: null },
      { action: 'control_budget.changed', previous: 'absolute' },
    ]);

    const listed = await request('GET', base, { key: 'dev-planner' });
    expect((listed.body.controlBudgets as { code: string }[]).map((b) => b.code)).toEqual([
      'OPEX-DEPT',
      'TRAVEL-CC',
    ]);

    const match = async (dimensions: Record<string, string>) =>
      (
        await request('POST', `${base}/match`, {
          key: 'dev-planner',
          body: { dimensions, date: '2027-03-01' },
        })
      ).body.budgets as { controlBudget: string; level: string }[];
    // Travel (under OPEX in the seeded hierarchy) falls in both; materials in neither.
    expect(await match({ account: '610200', costCenter: 'CC-790', department: 'SALES' })).toEqual([
      expect.objectContaining({ controlBudget: 'OPEX-DEPT[department=SALES]', level: 'advisory' }),
      expect.objectContaining({ controlBudget: 'TRAVEL-CC[costCenter=CC-790]', level: 'absolute' }),
    ]);
    expect(await match({ account: '640500', costCenter: 'CC-790', department: 'OPS' })).toEqual([
      expect.objectContaining({ controlBudget: 'OPEX-DEPT[department=OPS]' }),
    ]);
    expect(await match({ account: '500100', department: 'OPS' })).toEqual([]);
  });

  test('a bad control budget is refused naming its fields, a planner cannot put one, a dimension must be in the chart', async () => {
    const bad = await put('bad code', { ...opexByDepartment, level: 'strict', periodBasis: 'forever' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/code/);
    expect(JSON.stringify(bad.body)).toMatch(/level/);
    expect(JSON.stringify(bad.body)).toMatch(/periodBasis/);
    expect(
      (await put('GRANTS', { ...opexByDepartment, covers: { fund: ['GRANT-*'] } }, 'dev-planner')).status,
    ).toBe(403);
    const unknown = await put('GRANTS', { ...opexByDepartment, covers: { fund: ['GRANT-*'] }, per: 'fund' });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain("ACME-MFG's chart has no dimension fund");
  });
});
