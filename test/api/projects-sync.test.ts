import { MANUFACTURER } from '../../db/seed/manufacturer';
import { seedManufacturer } from '../../simulators/scenario/seed';
import { activateBudgetLines } from '../harness/budget-control';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Projects and grants from their system of record (issue 22): the master-data sync reads acmf's projects,
 * grants and funding sources from Dynamics 365 and puts each project with its lifecycle and award; a project
 * without a mapping is kept where support sees it; a project Dynamics 365 finishes while closeloop still
 * holds money on it stays open here, kept with the reason, and closes on a later read once the money is gone.
 */
describe('projects and grants from Dynamics 365', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
    seedManufacturer({ d365: stack.d365 });
  });
  afterAll(() => stack?.stop());

  const sync = async () => {
    const res = await request('POST', '/v1/master-data/syncs', {
      key: 'dev-admin',
      body: { legalEntity: MANUFACTURER, wait: true },
    });
    expect(res.status).toBe(200);
    return res.body.projects as {
      created: string[];
      changed: string[];
      closed: string[];
      closureRefused: { code: string }[];
      notApplied: { source: string; reason: string }[];
    };
  };
  const openExceptions = async () =>
    (
      (
        await request('GET', `/v1/source-exceptions?legalEntity=${MANUFACTURER}&stream=projects`, {
          key: 'dev-admin',
        })
      ).body.exceptions as { recordKey: string; errorCode: string; status: string }[]
    ).filter((e) => e.status === 'open');

  test('the sync puts projects with their awards, keeps what it cannot apply, and closes a finished project once no money stands on it', async () => {
    const fy = await stack.newFiscalYear();
    const periods = (
      await request('GET', `/v1/legal-entities/${MANUFACTURER}/periods?fiscalYear=${fy}`, {
        key: 'dev-planner',
      })
    ).body.periods as { period: string; startDate: string; endDate: string }[];
    // A project of this run's own: a value of the project dimension, mapped to its Dynamics 365 ID.
    const code = `P-${String(fy).slice(-3)}`;
    const erpId = `P${String(fy).slice(-3)}`;
    expect(
      (
        await request('PUT', `/v1/legal-entities/${MANUFACTURER}/chart/dimensions/project/values`, {
          key: 'dev-admin',
          body: {
            source: 'closeloop',
            values: [{ code, name: 'Sensor retrofit', validFrom: '2020-01-01' }],
          },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await request('PUT', '/v1/master-data/mappings', {
          key: 'dev-admin',
          body: {
            erpSystem: 'd365',
            dimension: 'project',
            canonicalCode: code,
            erpValue: erpId,
            validFrom: '2020-01-01',
          },
        })
      ).status,
    ).toBe(200);
    const grant = {
      id: `DOE-${fy}`,
      name: 'Sensor retrofit research',
      awardedAmount: '2000.00',
      startDate: periods[0]!.startDate,
      expirationDate: periods[2]!.endDate,
    };
    stack.d365.seedProject({
      company: 'acmf',
      id: erpId,
      name: 'Sensor retrofit',
      stage: 'InProcess',
      grant,
    });
    stack.d365.seedProject({ company: 'acmf', id: `X${fy}`, name: 'Not mapped', stage: 'InProcess' });

    const first = await sync();
    expect([...first.created, ...first.changed]).toContain(code);
    expect(first.notApplied).toEqual(
      expect.arrayContaining([
        { source: `X${fy}`, reason: `project X${fy} has no mapping to a value of the project dimension` },
      ]),
    );
    expect(await openExceptions()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ recordKey: `project:X${fy}`, errorCode: 'mapping_missing' }),
      ]),
    );
    const listed = (
      await request('GET', `/v1/legal-entities/${MANUFACTURER}/projects`, { key: 'dev-planner' })
    ).body.projects as {
      code: string;
      status: string;
      grant: { awarded: { amount: string }; awardTo: string } | null;
    }[];
    expect(listed.find((p) => p.code === code)).toMatchObject({
      status: 'active',
      grant: {
        grantId: `DOE-${fy}`,
        awarded: { amount: '2000.00', currency: 'USD' },
        awardTo: periods[2]!.endDate,
      },
    });
    // A second read changes nothing.
    const again = await sync();
    expect([...again.created, ...again.changed]).not.toContain(code);

    // Money held on the project, then Dynamics 365 finishes it: it stays open here, kept with the reason.
    await activateBudgetLines(stack.db, {
      legalEntity: MANUFACTURER,
      fiscalYear: fy,
      currency: 'USD',
      periods: [periods[1]!.period],
      lines: [
        {
          dimensions: {
            company: MANUFACTURER,
            ledger: 'PRIMARY',
            account: '520300',
            costCenter: 'CC-700',
            department: 'ENG',
          },
          period: periods[1]!.period,
          amount: '10000.00',
        },
      ],
    });
    const held = await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `sync-${fy}` },
      body: {
        legalEntity: MANUFACTURER,
        lines: [
          {
            account: '520300',
            costCenter: 'CC-700',
            period: periods[1]!.period,
            amount: { amount: '100.00', currency: 'USD' },
            dimensions: { department: 'ENG', project: code },
          },
        ],
      },
    });
    expect(held.status).toBe(201);
    expect((held.body.lines as { controlBudgets: { controlBudget: string }[] }[])[0]!.controlBudgets).toEqual(
      [expect.objectContaining({ controlBudget: `FUNDING[project=${code}]`, budget: '2000.00' })],
    );
    stack.d365.seedProject({ company: 'acmf', id: erpId, name: 'Sensor retrofit', stage: 'Finished', grant });
    const finished = await sync();
    expect(finished.closureRefused.map((c) => c.code)).toEqual([code]);
    expect(await openExceptions()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ recordKey: `close:${code}`, errorCode: 'closure_refused' }),
      ]),
    );
    await request('POST', `/v1/budget-control/reservations/sync-${fy}/release`, {
      key: 'dev-procurement',
      body: { legalEntity: MANUFACTURER },
    });
    expect((await sync()).closed).toEqual([code]);
    expect((await openExceptions()).map((e) => e.recordKey)).not.toContain(`close:${code}`);
    const after = (
      await request('GET', `/v1/legal-entities/${MANUFACTURER}/projects`, { key: 'dev-planner' })
    ).body.projects as { code: string; status: string }[];
    expect(after.find((p) => p.code === code)!.status).toBe('closed');
  });
});
