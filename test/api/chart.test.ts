import { sql } from 'drizzle-orm';
import { insertCostCenters, upsertLegalEntities } from '../../db/queries/reference';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * A chart of accounts as data, over the API, on a manufacturer that books on eight dimensions: the chart is
 * declared, two custom dimensions are added by API call (a new version; the first stays as it was), value
 * lists and an account hierarchy are loaded (a move waits for approval and is read as of two dates), rules
 * are put, and combinations are checked, naming every broken rule.
 */
describe('a chart of accounts per legal entity', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  const MFG = 'CHART-MFG';
  const base = `/v1/legal-entities/${MFG}/chart`;
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: true });
    request = apiClient(stack.api!.url);
    await upsertLegalEntities(stack.db, [
      {
        code: MFG,
        name: 'Acme Manufacturing GmbH',
        functionalCurrency: 'EUR',
        fiscalCalendar: 'CAL-JAN',
        region: 'EMEA',
        erpSystem: 'd365',
        erpCompany: 'chmf',
        planningSystem: 'anaplan',
        controlLevel: 'absolute',
      },
    ]);
    // Cost centers come from the ERP's master-data sync; here, straight into its table.
    await insertCostCenters(stack.db, [
      { code: 'CC-M10', name: 'Assembly line', legalEntity: MFG, validFrom: '2020-01-01' },
    ]);
  });
  afterAll(() => stack?.stop());

  const dim = (code: string, required: boolean, extra: object = {}) => ({
    code,
    kind: 'canonical',
    label: code,
    required,
    valuesFrom: 'd365',
    ...extra,
  });
  const eightDimensions = [
    dim('company', true, { balancing: true }),
    dim('ledger', true, { valuesFrom: 'closeloop' }),
    dim('account', true),
    dim('costCenter', false),
    dim('department', false, { valuesFrom: 'closeloop' }),
    dim('project', false, { valuesFrom: 'closeloop', format: 'P-[0-9]{3}' }),
    dim('productLine', false, { valuesFrom: 'closeloop' }),
    dim('location', false, { valuesFrom: 'closeloop' }),
  ];
  const admin = { key: 'dev-admin' };
  const put = (path: string, body: object) => request('PUT', `${base}${path}`, { ...admin, body });

  test('declares a chart, adds two custom dimensions by API call, and keeps each version', async () => {
    const declared = await put('', {
      dimensions: eightDimensions,
      validFrom: '2027-01-01',
      reason: 'go-live',
    });
    expect(declared.status).toBe(200);
    expect(declared.body).toMatchObject({ outcome: 'declared', version: 1, validFrom: '2027-01-01' });
    // The same declaration again changes nothing.
    expect(
      (await put('', { dimensions: eightDimensions, validFrom: '2027-01-01', reason: 'again' })).body,
    ).toMatchObject({ outcome: 'unchanged', version: 1 });

    const plant = { code: 'plant', kind: 'custom', label: 'Plant', required: false, valuesFrom: 'closeloop' };
    const added = await request('POST', `${base}/dimensions`, {
      ...admin,
      body: { dimension: plant, validFrom: '2027-04-01', reason: 'plants report separately' },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ outcome: 'declared', version: 2 });
    const channel = {
      code: 'salesChannel',
      kind: 'custom',
      label: 'Sales channel',
      required: false,
      valuesFrom: 'closeloop',
      format: '[A-Z]{3}',
    };
    expect(
      (
        await request('POST', `${base}/dimensions`, {
          ...admin,
          body: { dimension: channel, validFrom: '2027-05-01', reason: 'channels' },
        })
      ).body,
    ).toMatchObject({ version: 3 });

    // A line of March keeps the structure it was booked under; June's has the custom dimensions.
    const march = await request('GET', `${base}?asOf=2027-03-15`, { key: 'dev-planner' });
    expect(march.body).toMatchObject({
      version: 1,
      versions: [{ version: 1 }, { version: 2 }, { version: 3 }],
    });
    expect((march.body.dimensions as { code: string }[]).map((d) => d.code)).toHaveLength(8);
    const june = await request('GET', `${base}?asOf=2027-06-01`, { key: 'dev-planner' });
    expect((june.body.dimensions as { code: string }[]).map((d) => d.code).slice(-2)).toEqual([
      'plant',
      'salesChannel',
    ]);

    // Refused, naming why: a custom dimension under a canonical name, a dimension removed, a date not after the latest.
    const asCanonical = await request('POST', `${base}/dimensions`, {
      ...admin,
      body: { dimension: { ...plant, code: 'fund' }, validFrom: '2027-06-01', reason: 'wrong' },
    });
    expect(asCanonical.status).toBe(400);
    expect(JSON.stringify(asCanonical.body)).toMatch(/fund is a canonical dimension/);
    const removed = await put('', {
      dimensions: eightDimensions,
      validFrom: '2027-04-15',
      reason: 'drop the custom ones',
    });
    expect(removed.status).toBe(409);
    expect(removed.body.problems).toEqual([
      expect.stringMatching(/in force from 2027-05-01; a change takes effect after/),
      expect.stringMatching(/plant cannot be removed/),
      expect.stringMatching(/salesChannel cannot be removed/),
    ]);
    // Only an integration administrator changes a chart.
    expect(
      (
        await request('PUT', base, {
          key: 'dev-controller',
          body: { dimensions: eightDimensions, validFrom: '2028-01-01', reason: 'x' },
        })
      ).status,
    ).toBe(403);

    const audit = (await stack.db.execute(sql`
      select action, details->>'version' as version from audit_log where stream = ${`chart:${MFG}`} order by seq`)) as unknown as object[];
    expect(audit).toEqual([
      { action: 'chart.declared', version: '1' },
      { action: 'chart.changed', version: '2' },
      { action: 'chart.changed', version: '3' },
    ]);
  });

  test('loads value lists from their system of record; account and cost center stay with the ERP sync', async () => {
    const values = (dimension: string, list: [string, string, string?][]) =>
      put(`/dimensions/${dimension}/values`, {
        source: 'closeloop',
        values: list.map(([code, name, validTo]) => ({
          code,
          name,
          validFrom: '2020-01-01',
          validTo: validTo ?? null,
        })),
      });
    expect(
      (
        await values('ledger', [
          ['L-IFRS', 'IFRS ledger'],
          ['L-HGB', 'HGB ledger'],
        ])
      ).body,
    ).toMatchObject({
      created: ['L-HGB', 'L-IFRS'],
      changed: [],
      unchanged: 0,
    });
    // Loaded again with one name changed: only that one is written.
    const again = await values('ledger', [
      ['L-IFRS', 'IFRS ledger'],
      ['L-HGB', 'Local GAAP ledger'],
    ]);
    expect(again.body).toMatchObject({ created: [], changed: ['L-HGB'], unchanged: 1 });
    await values('company', [
      ['CHART-MFG', 'Acme Manufacturing GmbH'],
      ['ACME-UK', 'Acme UK'],
    ]);
    await values('department', [
      ['D-10', 'Assembly'],
      ['D-20', 'Quality'],
      ['D-90', 'Plant services', '2027-06-01'],
    ]);
    await values('project', [
      ['P-100', 'New press line'],
      ['P-200', 'Grant: emissions research'],
    ]);
    await values('location', [
      ['MUC', 'Munich'],
      ['LON', 'London'],
    ]);
    await values('productLine', [
      ['PL-PUMPS', 'Pumps'],
      ['PL-VALVES', 'Valves'],
    ]);

    // Any dimension maps to its target's values, dated, as account and cost center always have.
    const mapped = await request('PUT', '/v1/master-data/mappings', {
      ...admin,
      body: {
        erpSystem: 'd365',
        dimension: 'productLine',
        canonicalCode: 'PL-PUMPS',
        erpValue: 'PUMP',
        validFrom: '2027-01-01',
      },
    });
    expect(mapped.status).toBe(200);
    expect(mapped.body).toMatchObject({
      outcome: 'added',
      mapping: { dimension: 'productLine', erpValue: 'PUMP' },
    });
    const read = await request('GET', `${base}/dimensions/ledger/values`, { key: 'dev-planner' });
    expect((read.body.values as { code: string; name: string }[]).map((v) => [v.code, v.name])).toEqual([
      ['L-HGB', 'Local GAAP ledger'],
      ['L-IFRS', 'IFRS ledger'],
    ]);
    const erpKept = await values('account', [['999999', 'Not here']]);
    expect(erpKept.status).toBe(409);
    expect(erpKept.body.error).toBe('kept_by_master_data_sync');
    expect((await values('fund', [['F1', 'Not in the chart']])).status).toBe(422);
  });

  test('an account hierarchy: loaded, a move approved, read as of two dates', async () => {
    const nodes = [
      { code: 'OPEX', parent: null, name: 'Operating expenses' },
      { code: 'TRAVEL', parent: 'OPEX', name: 'Travel' },
      { code: 'FACILITIES', parent: 'OPEX', name: 'Facilities' },
      { code: '640500', parent: 'TRAVEL' },
      { code: '610200', parent: 'FACILITIES' },
    ];
    const loaded = await put('/hierarchies/account', { asOf: '2027-01-01', source: 'd365', nodes });
    expect(loaded.status).toBe(200);
    expect(loaded.body).toMatchObject({
      added: nodes.map((n) => n.code),
      unchanged: 0,
      movesAwaitingApproval: [],
    });

    // The source later puts 640500 under facilities: a move, which waits for an approver.
    const moved = await put('/hierarchies/account', {
      asOf: '2027-07-01',
      source: 'd365',
      nodes: nodes.map((n) => (n.code === '640500' ? { ...n, parent: 'FACILITIES' } : n)),
    });
    expect(moved.body).toMatchObject({ added: [], unchanged: 4 });
    const [move] = moved.body.movesAwaitingApproval as { changeId: string; workflowId: string }[];
    expect(move).toMatchObject({
      code: '640500',
      from: 'TRAVEL',
      to: 'FACILITIES',
      effectiveFrom: '2027-07-01',
    });
    const tree = async (asOf: string) =>
      JSON.stringify(
        (await request('GET', `${base}/hierarchies/account?asOf=${asOf}`, { key: 'dev-planner' })).body.roots,
      );
    expect(await tree('2027-08-01')).toMatch(/"TRAVEL".*"640500"/);
    const approved = await request('POST', `/v1/master-data/changes/${move!.changeId}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve', comment: 'travel booked as facilities from July' },
    });
    expect(approved.body).toMatchObject({ status: 'applied' });
    expect(JSON.parse(await tree('2027-03-15'))).toEqual([
      {
        code: 'OPEX',
        name: 'Operating expenses',
        children: [
          { code: 'FACILITIES', name: 'Facilities', children: [{ code: '610200', children: [] }] },
          { code: 'TRAVEL', name: 'Travel', children: [{ code: '640500', children: [] }] },
        ],
      },
    ]);
    expect(JSON.parse(await tree('2027-08-01'))).toEqual([
      {
        code: 'OPEX',
        name: 'Operating expenses',
        children: [
          {
            code: 'FACILITIES',
            name: 'Facilities',
            children: [
              { code: '610200', children: [] },
              { code: '640500', children: [] },
            ],
          },
          { code: 'TRAVEL', name: 'Travel', children: [] },
        ],
      },
    ]);

    // A tree with a cycle is refused whole.
    const cycle = await put('/hierarchies/account', {
      asOf: '2027-09-01',
      source: 'd365',
      nodes: [{ code: 'OPEX', parent: '610200' }],
    });
    expect(cycle.status).toBe(409);
    expect(cycle.body).toMatchObject({
      error: 'hierarchy_cycle',
      cycles: [['610200', 'FACILITIES', 'OPEX']],
    });
  });

  test('cross-validation rules: every line whose combination is not allowed is named with the rule it broke', async () => {
    const rule = (code: string, body: object) => put(`/rules/${code}`, { validFrom: '2027-01-01', ...body });
    expect(
      (
        await rule('OPEX-CC', {
          description: 'accounts 6* need a cost center',
          condition: { account: ['6*'] },
          validation: { costCenter: [{ present: true }] },
        })
      ).status,
    ).toBe(201);
    await rule('PROJECT-FUND', {
      description: 'projects only on the research product line',
      condition: { project: ['P-2*'] },
      validation: { productLine: ['PL-VALVES'] },
    });
    await rule('LON-UK', {
      description: 'location LON only in ACME-UK',
      condition: { location: ['LON'] },
      validation: { company: ['ACME-UK'] },
    });
    await rule('TRAVEL-NOT-PLANT', {
      description: 'no travel on plant departments',
      condition: { account: [{ under: 'TRAVEL' }] },
      validation: { department: { notIn: ['D-9*'] } },
    });
    expect(
      (
        await rule('BAD', {
          description: 'names a dimension the chart lacks',
          condition: { fund: ['*'] },
          validation: { account: ['1*'] },
        })
      ).status,
    ).toBe(422);

    const check = (date: string, combinations: object[]) =>
      request('POST', `${base}/check`, { key: 'dev-planner', body: { date, combinations } });
    const whole = { company: 'CHART-MFG', ledger: 'L-IFRS', account: '640500', costCenter: 'CC-M10' };
    const checked = await check('2027-03-01', [
      whole,
      { ...whole, costCenter: undefined },
      { ...whole, location: 'LON' },
      { ...whole, department: 'D-90' },
      { ...whole, project: 'P-200', productLine: 'PL-PUMPS' },
      { company: 'CHART-MFG', account: '640500', project: 'X1', plant: 'P1' },
    ]);
    expect(checked.status).toBe(200);
    const problems = (
      checked.body.results as { problems: { code: string; rule?: string; dimension: string }[] }[]
    ).map((r) => r.problems.map((p) => p.rule ?? `${p.dimension}:${p.code}`));
    expect(problems).toEqual([
      [],
      ['OPEX-CC'],
      ['LON-UK'],
      ['TRAVEL-NOT-PLANT'],
      ['PROJECT-FUND'],
      ['plant:not_in_chart', 'ledger:missing_dimension', 'project:bad_format', 'OPEX-CC'],
    ]);
    expect(checked.body.valid).toBe(false);
    // In August 640500 is no longer travel, and D-90 has ended: the same line breaks another thing.
    const august = await check('2027-08-02', [{ ...whole, department: 'D-90' }]);
    expect(
      (august.body.results as { problems: { code: string }[] }[])[0]!.problems.map((p) => p.code),
    ).toEqual(['inactive_value']);
  });
});
