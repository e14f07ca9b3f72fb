import { eq } from 'drizzle-orm';
import { findVersion } from '../../db/queries/budget-versions';
import { planningPlatformOn, switchPlanningPlatform } from '../../db/queries/planning-platforms';
import { auditLog, forecastLines, forecasts } from '../../db/schema';
import { monthlyFiscalPeriods } from '../../domain/reference';
import { adaptiveMonth } from '../../simulators/adaptive/simulator';
import { budgetRows } from '../../simulators/scenario/services-company';
import { decisionSignal } from '../../workflows/definitions';
import { awaitingApproval, erpBudgetTotal, sumAmounts, waitForStatus } from '../harness/cycle';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Planning platform per entity, as data: ACME-US moves from Anaplan to Workday Adaptive Planning at a date, and
 * from that day its budget cycle runs the same loop against Adaptive (the version exported leaf by leaf from its
 * level, approved, published to Dynamics 365, reconciled) and its figures go back to Adaptive, not Anaplan.
 */
describe('an entity switched from Anaplan to Adaptive Planning', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ api: true });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const today = () => new Date().toISOString().slice(0, 10);
  const SETTINGS = { level: 'ACME-US', forecastVersion: 'Forecast', sheet: 'closeloop Figures' };
  const switchTo = (platform: string, validFrom: string, settings: Record<string, string> = SETTINGS) =>
    stack.db.transaction((tx) =>
      switchPlanningPlatform(tx, {
        legalEntity: 'ACME-US',
        platform,
        settings,
        validFrom,
        by: 'ian@acme.example',
        reason: 'FP&A moves to Adaptive Planning',
        correlationId: 'adaptive-switch',
      }),
    );

  test('an integration admin switches the platform through the API from a day: dated, validated, audited, once', async () => {
    const request = apiClient(stack.api!.url);
    const PATH = '/v1/legal-entities/ACME-US/planning-platforms';
    const on = today();
    const body = {
      platform: 'adaptive',
      settings: SETTINGS,
      validFrom: on,
      reason: 'FP&A moves to Adaptive',
    };
    const before = await request('GET', PATH, { key: 'dev-planner' });
    expect(before.body).toMatchObject({
      inForce: 'anaplan',
      platforms: [{ platform: 'anaplan', validTo: null }],
    });

    expect((await request('POST', PATH, { key: 'dev-planner', body })).status).toBe(403);
    const noLevel = await request('POST', PATH, {
      key: 'dev-admin',
      body: { ...body, settings: { forecastVersion: 'Forecast', sheet: 'closeloop Figures' } },
    });
    expect(noLevel.status).toBe(400);
    expect(JSON.stringify(noLevel.body)).toContain('settings.level');

    const switched = await request('POST', PATH, { key: 'dev-admin', body });
    expect(switched.status).toBe(201);
    expect(switched.body).toMatchObject({ switched: true, ended: { platform: 'anaplan', validTo: on } });
    const again = await request('POST', PATH, { key: 'dev-admin', body });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ switched: false, reason: 'unchanged' });
    const behind = await request('POST', PATH, {
      key: 'dev-admin',
      body: { platform: 'anaplan', validFrom: '2020-01-01', reason: 'back' },
    });
    expect(behind.status).toBe(409);
    expect(behind.body).toMatchObject({ error: 'later_switch' });

    const after = await request('GET', PATH, { key: 'dev-planner' });
    expect(after.body).toMatchObject({ inForce: 'adaptive' });
    expect(
      (after.body.platforms as { platform: string; validTo: string | null }[]).map((p) => [
        p.platform,
        p.validTo,
      ]),
    ).toEqual([
      ['anaplan', on],
      ['adaptive', null],
    ]);
    expect((await planningPlatformOn(stack.db, 'ACME-US', '2020-06-30'))?.platform).toBe('anaplan');
    const audited = await stack.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'planning_platform.switched'));
    expect(audited).toEqual([
      expect.objectContaining({
        actor: 'ian@acme.example',
        details: expect.objectContaining({ platform: 'adaptive' }),
      }),
    ]);
  });

  test('from that day the cycle imports from Adaptive and the forecast goes back there', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const rows = budgetRows(fiscalYear, 1);
    const total = sumAmounts(rows.map((r) => r.amount));
    const months = new Map(
      monthlyFiscalPeriods(fiscalYear).map((p) => [p.period, adaptiveMonth(p.startDate)]),
    );
    const accounts = [...new Set(rows.map((r) => r.dimensions.account!))];
    const costCenters = [...new Set(rows.map((r) => r.dimensions.costCenter!))];
    stack.adaptive.putAccounts([{ code: 'Expenses', children: accounts.map((code) => ({ code })) }]);
    stack.adaptive.putLevels([
      { code: 'ACME-US', currency: 'USD', children: costCenters.map((code) => ({ code })) },
    ]);
    stack.adaptive.putPlanVersion(
      `BUDGET FY${fiscalYear} v1`,
      rows.map((r) => ({
        account: r.dimensions.account!,
        level: r.dimensions.costCenter!,
        month: months.get(r.period)!,
        amount: r.amount,
      })),
    );
    stack.adaptive.putPlanVersion('Forecast');
    if ((await planningPlatformOn(stack.db, 'ACME-US', today()))?.platform !== 'adaptive')
      await switchTo('adaptive', today());

    const ref = { legalEntity: 'ACME-US', fiscalYear, scenario: 'BUDGET' as const, version: 1 };
    const handle = await stack.startCycle(ref, { chunkSize: 50 });
    const waiting = await waitForStatus(handle, awaitingApproval);
    expect(waiting).toMatchObject({ lineCount: rows.length, total: { amount: total, currency: 'USD' } });
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);
    expect(result.reconciliation).toEqual([
      expect.objectContaining({ target: 'd365', sourceTotal: total, targetTotal: total, mismatchedCount: 0 }),
    ]);
    expect((await findVersion(stack.db, ref))?.sourceSystem).toBe('adaptive');

    // The forecast went back to Adaptive, cell for cell: elapsed months' actuals into its Actuals version, the
    // months to come into its plan version (a zero is no cell: importing one erases it).
    const [forecast] = await stack.db
      .select()
      .from(forecasts)
      .where(eq(forecasts.versionName, result.forecast!.versionName));
    expect(forecast?.status).toBe('published');
    const lines = await stack.db
      .select()
      .from(forecastLines)
      .where(eq(forecastLines.forecastKey, forecast!.forecastKey));
    expect(lines).toHaveLength(result.forecast!.lineCount);
    const expected = (basis: 'actual' | 'projection') =>
      new Map(
        lines
          .filter((l) => l.basis === basis && Number(l.amount) !== 0)
          .map((l) => [`${l.account}|${l.costCenter}|${months.get(l.period)}`, l.amount]),
      );
    const asNumbers = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [k, Number(v)]));
    expect(asNumbers(stack.adaptive.sheet('Forecast', 'closeloop Figures'))).toEqual(
      asNumbers(expected('projection')),
    );
    expect(asNumbers(stack.adaptive.sheet('Actuals', 'closeloop Figures'))).toEqual(
      asNumbers(expected('actual')),
    );
    expect(expected('projection').size).toBeGreaterThan(0);
  });
  test('put back the same day, the entity is on Anaplan again from that day (the switch replaced)', async () => {
    const request = apiClient(stack.api!.url);
    const PATH = '/v1/legal-entities/ACME-US/planning-platforms';
    const back = await request('POST', PATH, {
      key: 'dev-admin',
      body: { platform: 'anaplan', settings: {}, validFrom: today(), reason: 'the move waits a quarter' },
    });
    expect(back.status).toBe(201);
    const after = await request('GET', PATH, { key: 'dev-planner' });
    expect(after.body).toMatchObject({ inForce: 'anaplan' });
    expect(
      (after.body.platforms as { platform: string; validTo: string | null }[]).map((p) => [
        p.platform,
        p.validTo,
      ]),
    ).toEqual([
      ['anaplan', today()],
      ['anaplan', null],
    ]);
    // Each switch of the day is audited: to Adaptive, then back.
    const audited = await stack.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'planning_platform.switched'));
    expect(audited.map((a) => (a.details as { platform: string }).platform)).toEqual(['adaptive', 'anaplan']);
  });
});
