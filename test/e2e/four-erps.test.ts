import { sql } from 'drizzle-orm';
import { fromMinor, toMinor } from '../../domain/money';
import { CORPORATE_LEDGER, corporateBudgetRows } from '../../simulators/scenario/corporate';
import { ACQUIRED, acquiredBudgetRows } from '../../simulators/scenario/acquired';
import { NL_COMPANY_CODE, SAP_PLANNING_CATEGORY, europeBudgetRows } from '../../simulators/scenario/europe';
import {
  seedAcquiredBooks,
  seedCorporateBooks,
  seedEuropeBooks,
  seedOracleLedger,
} from '../../simulators/scenario/seed';
import { planVersion, resetCycle, workflowTaskPoints } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

const GROUP = '/v1/group-budget-cycles';
const ENTITIES = ['ACME-US', 'ACME-CORP', 'ACME-NL', ACQUIRED] as const;
const SYSTEM_OF: Record<string, string> = { 'ACME-CORP': 'oracle', 'ACME-NL': 'sap', [ACQUIRED]: 'netsuite' };

/**
 * The seed's manufacturer estate on all four ERPs: one group version over the US services company (Dynamics
 * 365), corporate finance (Oracle Fusion GL budget balances), European operations (SAP S/4HANA plan data) and
 * the acquired subsidiary (NetSuite budgets), all or nothing. SAP refuses the plan data at first: the others
 * stand down, each ERP taking back what it was sent; once SAP takes it again a retry lands the group, each ERP
 * holding each budget once and each reconciled in the one store; a reset in Temporal UI posts nothing twice; and
 * each entity's actuals and open orders come back from its own ERP into budget control and the forecast.
 */
describe('the manufacturer over Dynamics 365, Oracle Fusion, SAP S/4HANA and NetSuite', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const sum = (amounts: string[], currency: string) =>
    fromMinor(
      amounts.reduce((t, a) => t + toMinor(a, currency), 0n),
      currency,
    );
  /** What each ERP holds of its entity's budget for the year. */
  const held = (fiscalYear: number) => ({
    'ACME-CORP': sum(
      stack.oracle
        .budgetBalances(CORPORATE_LEDGER.id, CORPORATE_LEDGER.budgetName)
        .filter((b) => b.period.endsWith(`-${String(fiscalYear).slice(2)}`))
        .map((b) => b.amount),
      'USD',
    ),
    'ACME-NL': sum(
      stack.sap
        .planData(NL_COMPANY_CODE, SAP_PLANNING_CATEGORY)
        .filter((e) => e.LedgerFiscalYear === String(fiscalYear))
        .map((e) => e.AmountInCompanyCodeCurrency.replace(/(\.\d{2})\d$/, '$1')),
      'EUR',
    ),
    [ACQUIRED]: sum(
      stack.netsuite
        .budgets()
        .filter((b) => b.subsidiary === '7')
        .map((b) => String(b.amount)),
      'USD',
    ),
  });

  async function pollGroup(
    id: string,
    until: (g: {
      status: string;
      entities: { legalEntity: string; state: string; group?: string }[];
    }) => boolean,
  ) {
    for (let i = 0; i < 900; i++) {
      const res = await request('GET', `${GROUP}/${encodeURIComponent(id)}`, { key: 'dev-planner' });
      if (res.status === 200 && until(res.body as never))
        return res.body as Record<string, unknown> & {
          entities: (Record<string, unknown> & { legalEntity: string; state: string })[];
        };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${id} did not get there`);
  }

  test('one group version to four ERPs, all or nothing through a failure in SAP, reset, and the books read back from each', async () => {
    const fy = await stack.newFiscalYear();
    seedOracleLedger(stack.oracle, [fy]);
    seedCorporateBooks(stack.oracle, { fiscalYear: fy });
    seedEuropeBooks(stack.sap, { fiscalYear: fy });
    seedAcquiredBooks(stack.netsuite, { fiscalYear: fy, years: [fy] });
    const us = planVersion(stack, fy, 1);
    const plans = {
      'ACME-CORP': corporateBudgetRows(fy),
      'ACME-NL': europeBudgetRows(fy),
      [ACQUIRED]: acquiredBudgetRows(fy),
    };
    for (const [legalEntity, rows] of Object.entries(plans))
      stack.anaplan.putBudgetVersion({ legalEntity, fiscalYear: fy, scenario: 'BUDGET', version: 1, rows });
    const totals = {
      'ACME-CORP': sum(
        plans['ACME-CORP'].map((r) => r.amount),
        'USD',
      ),
      'ACME-NL': sum(
        plans['ACME-NL'].map((r) => r.amount),
        'EUR',
      ),
      [ACQUIRED]: sum(
        plans[ACQUIRED].map((r) => r.amount),
        'USD',
      ),
    };

    // SAP refuses plan data for the company code (its planning category locked by a planner there).
    stack.sap.faults.inject({
      kind: 'status',
      status: 400,
      method: 'POST',
      path: '$batch',
      times: 1000,
      body: 'Planning category PLN is locked for company code 1710',
    });
    const started = await request('POST', GROUP, {
      key: 'dev-planner',
      body: {
        group: 'ACME-GROUP',
        legalEntities: ENTITIES,
        fiscalYear: fy,
        version: 1,
        policy: 'all-or-nothing',
        chunkSize: 50,
      },
    });
    expect(started.status).toBe(202);
    const groupId = String(started.body.groupCycleId);
    const cycleIds = started.body.cycleIds as string[];
    const nlCycle = cycleIds[ENTITIES.indexOf('ACME-NL')]!;
    for (const id of cycleIds) {
      await pollCycle(request, id, (s) => s.status === 'awaiting_approval');
      expect(
        (
          await request('POST', `${cyclePath(id)}/decision`, {
            key: 'dev-approver',
            body: { decision: 'approve' },
          })
        ).status,
      ).toBe(200);
    }
    const failed = await pollCycle(request, nlCycle, (s) => s.status === 'publication_failed');
    expect(JSON.stringify(failed.publications)).toContain('Planning category PLN is locked');
    const down = await pollGroup(
      groupId,
      (g) => g.entities.filter((e) => e.group === 'stood_down').length === 3,
    );
    expect(down.entities.map((e) => [e.legalEntity, e.group])).toEqual([
      ['ACME-US', 'stood_down'],
      ['ACME-CORP', 'stood_down'],
      ['ACME-NL', 'failed'],
      [ACQUIRED, 'stood_down'],
    ]);
    for (const id of cycleIds.filter((c) => c !== nlCycle))
      await pollCycle(request, id, (s) => s.status === 'stood_down');
    // Each ERP took back what it was sent: Oracle's balances and NetSuite's lines are back where they were.
    expect(held(fy)).toEqual({ 'ACME-CORP': '0.00', 'ACME-NL': '0.00', [ACQUIRED]: '0.00' });

    // The planning category is unlocked; support retries European operations' publication.
    stack.sap.faults.clear();
    await stack.client.workflow
      .getHandle(nlCycle)
      .signal('retry-publication', { principal: 'sam@acme.example', reason: 'PLN unlocked in SAP' });
    const done = await pollGroup(groupId, (g) => g.status === 'completed');
    expect(done.entities.map((e) => [e.legalEntity, e.state])).toEqual(ENTITIES.map((e) => [e, 'completed']));
    const reconciled = Object.fromEntries(
      done.entities.map((e) => [
        e.legalEntity,
        (e.reconciliation as { target: string; exceptionCount: number; targetTotal: string }[]).map((r) => [
          r.target,
          r.exceptionCount,
          r.targetTotal,
        ]),
      ]),
    );
    expect(reconciled).toEqual({
      'ACME-US': [['d365', 0, us.total]],
      'ACME-CORP': [['oracle', 0, totals['ACME-CORP']]],
      'ACME-NL': [['sap', 0, totals['ACME-NL']]],
      [ACQUIRED]: [['netsuite', 0, totals[ACQUIRED]]],
    });
    expect(held(fy)).toEqual(totals);

    // Support resets the group's parent at its first workflow task: nothing is sent to any ERP twice.
    const budgetJobs = stack.netsuite.jobCount();
    const [first] = await workflowTaskPoints(stack.client.workflow.getHandle(groupId));
    const replayed = (await resetCycle(stack, groupId, first!)) as unknown as { status: string };
    expect(replayed.status).toBe('completed');
    await pollGroup(groupId, (g) => g.status === 'completed');
    expect(held(fy)).toEqual(totals);
    expect(stack.netsuite.jobCount()).toBe(budgetJobs);

    // The books come back from each entity's own ERP: actuals and open orders into budget control, the
    // figures to the planning platform as the reforecast.
    // (The cycles' completion already brought each entity's actuals in; a sync now finds them counted.)
    const synced: Record<string, unknown> = {};
    for (const legalEntity of ['ACME-CORP', 'ACME-NL', ACQUIRED]) {
      const res = await request('POST', '/v1/erp-syncs', {
        key: 'dev-scheduler',
        body: { legalEntity, fiscalYear: fy, deliverAsOf: `${fy}-03`, wait: true },
      });
      expect(res.status).toBe(200);
      const year = (
        res.body.years as {
          actuals: { inserted: number };
          commitments: { lines: number };
          delivered: { versionName?: string };
        }[]
      )[0]!;
      const [counted] = (await stack.db.execute(
        sql`select count(*)::int as n from actual_lines where legal_entity = ${legalEntity} and source_system = ${SYSTEM_OF[legalEntity]}`,
      )) as unknown as { n: number }[];
      synced[legalEntity] = [
        year.actuals.inserted,
        counted!.n,
        year.commitments.lines,
        year.delivered.versionName,
      ];
    }
    expect(synced).toEqual({
      // Corporate's January to March journals from its Oracle ledger, and its open orders.
      'ACME-CORP': [0, 15, 2, `FC FY${fy} ACME-CORP from v1 @${fy}-03`],
      // SAP: Jan–Mar payroll and rent and February's goods receipt; two orders still open.
      'ACME-NL': [0, 7, 2, `FC FY${fy} ACME-NL from v1 @${fy}-03`],
      // NetSuite: three months of payroll and rent; two order lines still open.
      [ACQUIRED]: [0, 6, 2, `FC FY${fy} ACME-NW from v1 @${fy}-03`],
    });
    // NetSuite's sales line is on an account the group chart does not map: kept with its reason, not dropped.
    const kept = await request(
      'GET',
      `/v1/source-exceptions?legalEntity=${ACQUIRED}&stream=actuals&status=open`,
      {
        key: 'dev-admin',
      },
    );
    expect(kept.body.exceptions).toEqual([
      expect.objectContaining({ recordKey: expect.stringContaining('6001') }),
    ]);
    // In budget control (pooled by quarter): Rotterdam's salaries as SAP posted them, and the software orders
    // still open in SAP and in NetSuite in the first quarter.
    const balance = async (legalEntity: string, account: string, costCenter: string) =>
      (
        await request(
          'GET',
          `/v1/budget-control/balances?legalEntity=${legalEntity}&account=${account}&costCenter=${costCenter}&period=${fy}-01`,
          { key: 'dev-controller' },
        )
      ).body as Record<string, { amount: string; currency: string }>;
    expect((await balance('ACME-NL', '600100', 'CC-930')).actual).toEqual({
      amount: '161700.00',
      currency: 'EUR',
    });
    expect((await balance('ACME-NL', '620300', 'CC-930')).committed).toEqual({
      amount: '6000.00',
      currency: 'EUR',
    });
    expect((await balance(ACQUIRED, '620300', 'CC-910')).committed).toEqual({
      amount: '6000.00',
      currency: 'USD',
    });
    expect((await balance(ACQUIRED, '600100', 'CC-910')).actual).toEqual({
      amount: '91350.00',
      currency: 'USD',
    });
  }, 300_000);
});
