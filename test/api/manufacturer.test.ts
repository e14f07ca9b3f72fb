import { sql } from 'drizzle-orm';
import { upsertLegalEntities } from '../../db/queries/reference';
import { DIMENSION_FORMAT, legalEntity, MANUFACTURER, MFG_CALENDAR } from '../../db/seed/manufacturer';
import { D365_BUDGET_SETTINGS } from '../../db/seed/services-company';
import { MFG_ACCOUNT_STRUCTURE, manufacturerBudgetRows } from '../../simulators/scenario/manufacturer';
import { seedManufacturer } from '../../simulators/scenario/seed';
import { sumAmounts } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The seeded manufacturer end to end on its chart of eight dimensions and its 4-4-5 calendar: a version
 * from the planning platform is validated on the chart (every line that is not allowed named with what it
 * broke), an allowed one is approved and posted to its Dynamics 365 company in that company's own form of
 * the dimensions, and its budget is reported three ways. A custom dimension added by API call reaches the
 * ERP once the target's form holds it, and is named before approval until then.
 */
describe('the manufacturer on its chart of accounts', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
    seedManufacturer({ d365: stack.d365 });
  });
  afterAll(() => stack?.stop());

  const planner = { key: 'dev-planner' };
  const admin = { key: 'dev-admin' };
  const put = (fiscalYear: number, version: number, rows: ReturnType<typeof manufacturerBudgetRows>) =>
    stack.anaplan.putBudgetVersion({
      legalEntity: MANUFACTURER,
      fiscalYear,
      scenario: 'BUDGET',
      version,
      rows,
    });
  async function start(fiscalYear: number, version: number) {
    const started = await request('POST', '/v1/budget-cycles', {
      ...planner,
      body: { legalEntity: MANUFACTURER, fiscalYear, version, chunkSize: 40 },
    });
    expect(started.status).toBe(202);
    return started.body.cycleId as string;
  }
  async function approve(cycleId: string) {
    await pollCycle(request, cycleId, (s) => s.status === 'awaiting_approval');
    const decided = await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve', comment: 'plant budget' },
    });
    expect(decided.status).toBe(200);
    return pollCycle(request, cycleId, (s) => ['completed', 'publication_failed'].includes(s.status));
  }
  const held = (fiscalYear: number, dimensionFormat = DIMENSION_FORMAT) =>
    stack.erps.d365!.fetchBudgetTotals({
      target: { company: 'acmf', settings: { ...D365_BUDGET_SETTINGS, dimensionFormat } },
      fromDate: `${fiscalYear - 1}-12-01`,
      toDate: `${fiscalYear + 1}-01-31`,
    });

  test('validated on eight dimensions, posted in acmf’s form, reported three ways', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const chart = await request('GET', `/v1/legal-entities/${MANUFACTURER}/chart`, planner);
    expect((chart.body.dimensions as { code: string }[]).map((d) => d.code)).toEqual([
      'company',
      'ledger',
      'account',
      'costCenter',
      'department',
      'project',
      'productLine',
      'location',
    ]);
    // Its 4-4-5 year: twelve periods of 4, 4 and 5 weeks, then the adjustment period.
    const periods = (
      await request('GET', `/v1/legal-entities/${MANUFACTURER}/periods?fiscalYear=${fiscalYear}`, planner)
    ).body.periods as { period: string; startDate: string; endDate: string; kind: string }[];
    expect(periods.map((p) => p.kind)).toEqual([...Array(12).fill('regular'), 'adjustment']);
    const days = (p: { startDate: string; endDate: string }) =>
      (Date.parse(p.endDate) - Date.parse(p.startDate)) / 86_400_000 + 1;
    expect(periods.slice(0, 3).map(days)).toEqual([28, 28, 35]);

    // A version with lines the chart does not allow: each is named with what it broke, before approval.
    put(fiscalYear, 1, manufacturerBudgetRows(fiscalYear, { notAllowed: true }));
    const refused = await pollCycle(request, await start(fiscalYear, 1), (s) => s.status === 'invalid');
    const broken = (refused.issues ?? []).map((i) => [i.code, i.rule ?? i.field]);
    expect(broken).toEqual(
      expect.arrayContaining([
        ['cross_validation', 'OPEX-NEEDS-CC'],
        ['cross_validation', 'PROJECTS-ON-COGS'],
        ['cross_validation', 'MONTERREY-VALVES'],
        ['unknown_value', 'department'],
        ['missing_dimension', 'department'],
        // Read from Dynamics 365: acmf's account structure MFG-PL wants both on materials.
        ['target_rule', 'MFG-PL'],
      ]),
    );
    expect(refused.issues!.filter((i) => i.code === 'target_rule').map((i) => i.field)).toEqual([
      'productLine',
      'location',
    ]);
    expect(refused.issueCount).toBe(7);

    // The planner fixes them: approved, posted to acmf with its six segments (company and ledger are acmf).
    const rows = manufacturerBudgetRows(fiscalYear, { version: 2 });
    put(fiscalYear, 2, rows);
    const done = await approve(await start(fiscalYear, 2));
    expect(done.status).toBe('completed');
    expect(done.reconciliation).toEqual([expect.objectContaining({ mismatchedCount: 0 })]);
    const total = sumAmounts(rows.map((r) => r.amount));
    const totals = await held(fiscalYear);
    expect(sumAmounts(totals.map((t) => t.amount.amount))).toBe(total);
    expect(totals).toContainEqual(
      expect.objectContaining({
        dimensions: {
          account: '50010',
          costCenter: '700',
          department: 'OPS',
          productLine: 'PMP',
          location: 'DET',
        },
        date: periods[0]!.startDate,
      }),
    );

    // Three ways: by department, by the account hierarchy's top level, by project and product line.
    const report = async (groupBy: string) => {
      const r = await request(
        'GET',
        `/v1/legal-entities/${MANUFACTURER}/budgets/${fiscalYear}/report?groupBy=${groupBy}`,
        planner,
      );
      expect(r.status).toBe(200);
      const groups = r.body.groups as { key: Record<string, string | null>; figures: { amount: string } }[];
      expect(sumAmounts(groups.map((g) => g.figures.amount))).toBe(total);
      expect(r.body.totals).toEqual([
        { currency: 'USD', figures: { amount: total }, rows: expect.any(Number) },
      ]);
      return groups.map((g) => [Object.values(g.key).join('/'), g.figures.amount]);
    };
    expect((await report('department')).map(([k]) => k)).toEqual(['ENG', 'OPS', 'SALES']);
    const plan = (pick: (r: (typeof rows)[number]) => boolean) =>
      sumAmounts(rows.filter(pick).map((r) => r.amount));
    expect(await report('account@0')).toEqual([
      ['COGS', plan((r) => r.dimensions.account!.startsWith('5'))],
      ['OPEX', plan((r) => r.dimensions.account!.startsWith('6'))],
    ]);
    expect(await report('project,productLine')).toEqual([
      ['/', plan((r) => !r.dimensions.project && !r.dimensions.productLine)],
      ['/PUMPS', plan((r) => !r.dimensions.project && r.dimensions.productLine === 'PUMPS')],
      ['/VALVES', plan((r) => !r.dimensions.project && r.dimensions.productLine === 'VALVES')],
      ['P-101/PUMPS', plan((r) => r.dimensions.project === 'P-101')],
      ['P-102/VALVES', plan((r) => r.dimensions.project === 'P-102')],
    ]);

    // acmf posts actuals in its own form; they come back on every dimension it gave, and the budget against
    // them reads by any of those. A value with no mapping is kept with its reason, never dropped.
    const posted = (voucher: string, ledgerAccount: string, amount: string) => ({
      DataArea: 'acmf',
      JournalNumber: `MFG-${fiscalYear}`,
      Voucher: voucher,
      AccountingDate: periods[1]!.startDate,
      LedgerAccount: ledgerAccount,
      AccountingCurrencyAmount: amount,
      TransactionCurrencyCode: 'USD',
    });
    stack.d365.seedLedgerEntries([
      posted(`MFG-${fiscalYear}-1`, '50010-700-OPS--PMP-DET', '200000.00'),
      posted(`MFG-${fiscalYear}-2`, '52030--ENG-P102-VLV-MTY', '25000.00'),
      posted(`MFG-${fiscalYear}-3`, '61020-790-XYZ---', '10.00'),
    ]);
    const synced = await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: MANUFACTURER, fiscalYear, wait: true },
    });
    expect(synced.status).toBe(200);
    expect(JSON.stringify(synced.body)).toMatch(/"exceptions":1/);
    const versus = await request(
      'GET',
      `/v1/legal-entities/${MANUFACTURER}/budgets/${fiscalYear}/report?groupBy=department&actuals=true&period=${periods[1]!.period}`,
      planner,
    );
    const budgetOf = (department: string) =>
      sumAmounts(
        rows
          .filter((r) => r.period === periods[1]!.period && r.dimensions.department === department)
          .map((r) => r.amount),
      );
    expect(versus.body.groups).toEqual([
      expect.objectContaining({
        key: { department: 'ENG' },
        figures: {
          amount: budgetOf('ENG'),
          actual: '25000.00',
          committed: '0.00',
          variance: sumAmounts([budgetOf('ENG'), '-25000.00']),
        },
      }),
      expect.objectContaining({
        key: { department: 'OPS' },
        figures: expect.objectContaining({ amount: budgetOf('OPS'), actual: '200000.00' }),
      }),
      expect.objectContaining({
        key: { department: 'SALES' },
        figures: expect.objectContaining({ actual: '0.00' }),
      }),
    ]);
  });

  test('a custom dimension added by API call is named before approval until the target’s form holds it', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const base = `/v1/legal-entities/${MANUFACTURER}/chart`;
    const added = await request('POST', `${base}/dimensions`, {
      ...admin,
      body: {
        dimension: {
          code: 'plantShift',
          kind: 'custom',
          label: 'Plant shift',
          required: false,
          valuesFrom: 'closeloop',
        },
        validFrom: `${fiscalYear - 1}-01-01`,
        reason: 'shifts are budgeted apart',
      },
    });
    expect(added.status).toBe(201);
    await request('PUT', `${base}/dimensions/plantShift/values`, {
      ...admin,
      body: {
        source: 'closeloop',
        values: [{ code: 'NIGHT', name: 'Night shift', validFrom: '2020-01-01', validTo: null }],
      },
    });
    const night = (rows: ReturnType<typeof manufacturerBudgetRows>) =>
      rows.map((r) =>
        r.dimensions.account === '510200'
          ? { ...r, dimensions: { ...r.dimensions, plantShift: 'NIGHT' } }
          : r,
      );

    put(fiscalYear, 1, night(manufacturerBudgetRows(fiscalYear)));
    const refused = await pollCycle(request, await start(fiscalYear, 1), (s) => s.status === 'invalid');
    expect(refused.issues![0]).toMatchObject({
      field: 'plantShift',
      code: 'unmapped_value',
      message: expect.stringContaining("plant shift has no place in d365's form"),
    });

    // The integration administrator maps the value and adds the segment to acmf's form.
    const mapped = await request('PUT', '/v1/master-data/mappings', {
      ...admin,
      body: {
        erpSystem: 'd365',
        dimension: 'plantShift',
        canonicalCode: 'NIGHT',
        erpValue: 'N',
        validFrom: '2020-01-01',
      },
    });
    expect(mapped.status).toBe(200);
    const format = `${DIMENSION_FORMAT}-plantShift`;
    // …and acmf's administrator adds the segment to its account structure in Dynamics 365.
    stack.d365.seedAccountStructure({
      ...MFG_ACCOUNT_STRUCTURE,
      segments: [...MFG_ACCOUNT_STRUCTURE.segments, 'PlantShift'],
      allowedValues: MFG_ACCOUNT_STRUCTURE.allowedValues.map((row) => [...row, '*;" "']),
    });
    const badFormat = await request('PATCH', `/v1/legal-entities/${MANUFACTURER}/publication-targets/d365`, {
      ...admin,
      body: { settings: { dimensionFormat: `${format}-fund` }, reason: 'typo' },
    });
    expect(badFormat.status).toBe(422);
    expect(JSON.stringify(badFormat.body)).toContain("fund is not a dimension of ACME-MFG's chart");
    const changed = await request('PATCH', `/v1/legal-entities/${MANUFACTURER}/publication-targets/d365`, {
      ...admin,
      body: { settings: { dimensionFormat: format }, reason: 'acmf added a Shift segment' },
    });
    expect(changed.body).toMatchObject({
      changed: true,
      settings: { dimensionFormat: format, budgetModel: 'FY-BUDGET' },
    });

    const rows = night(manufacturerBudgetRows(fiscalYear, { version: 2 }));
    put(fiscalYear, 2, rows);
    expect((await approve(await start(fiscalYear, 2))).status).toBe('completed');
    expect(await held(fiscalYear, format)).toContainEqual(
      expect.objectContaining({
        dimensions: expect.objectContaining({ account: '51020', plantShift: 'N' }),
      }),
    );
  });

  test('an entity is put on a calendar before it books by its periods, and not after', async () => {
    await upsertLegalEntities(stack.db, [
      {
        ...legalEntity,
        code: 'ACME-MX',
        name: 'Acme Manufacturing Mexico',
        fiscalCalendar: 'CAL-JAN',
        erpCompany: 'acmx',
      },
    ]);
    const path = '/v1/legal-entities/ACME-MX/fiscal-calendar';
    const body = { calendar: MFG_CALENDAR, reason: 'the plants run 4-4-5' };
    expect((await request('PUT', path, { ...planner, body })).status).toBe(403);
    const unknown = await request('PUT', path, { ...admin, body: { ...body, calendar: 'CAL-NONE' } });
    expect(unknown.status).toBe(422);
    const assigned = await request('PUT', path, { ...admin, body });
    expect(assigned.body).toEqual({ legalEntity: 'ACME-MX', fiscalCalendar: MFG_CALENDAR, changed: true });
    expect((await request('PUT', path, { ...admin, body })).body).toMatchObject({ changed: false });
    const [audit] = (await stack.db.execute(sql`
      select details from audit_log where action = 'legal_entity.calendar_assigned' and entity_id = 'ACME-MX'`)) as unknown as {
      details: object;
    }[];
    expect(audit!.details).toEqual({ from: 'CAL-JAN', to: MFG_CALENDAR, reason: body.reason });

    // The manufacturer has budgets by its 4-4-5 periods: it stays on its calendar.
    const refused = await request('PUT', `/v1/legal-entities/${MANUFACTURER}/fiscal-calendar`, {
      ...admin,
      body: { calendar: 'CAL-JAN', reason: 'back to months' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('it has budget versions');
  });
});
