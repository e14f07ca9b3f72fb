import { sql } from 'drizzle-orm';
import {
  seedAcquiredBooks,
  seedEuropeBooks,
  seedCorporateBooks,
  seedOracleLedger,
  seedServicesCompany,
  seedSubsidiaries,
} from '../../simulators/scenario/seed';
import { corporateBudgetRows } from '../../simulators/scenario/corporate';
import { subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { europeBudgetRows } from '../../simulators/scenario/europe';
import { acquiredBudgetRows } from '../../simulators/scenario/acquired';
import { fromMinor, toMinor } from '../../domain/money';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

interface EntityProgress {
  legalEntity: string;
  fiscalPeriod?: string;
  state: string;
  workflowId?: string;
  workflow?: {
    execution: string;
    status?: string;
    steps?: { name: string; state: string; error?: unknown }[];
  };
}
interface EntityReport {
  legalEntity: string;
  period: string;
  status: string;
  signedOff: { by: string; at: string } | null;
  totals: { currency: string; budget: string; actual: string; variance: string }[];
}

/**
 * The group's March 2027 close over the API, for the demo entities as `npm start` seeds them: the services
 * company (USD, calendar year), its UK subsidiary (GBP, April–March: March is its period 12), its German
 * one (EUR), all on Dynamics 365; group corporate finance, whose books and budget are in Oracle Fusion;
 * European operations (EUR), whose books and plan data are in SAP S/4HANA; and the acquired Northwind (USD,
 * April–March), whose books and budgets are in NetSuite. Each entity's FY2027 budget is approved and published
 * first; then a scheduler starts the close of every active entity, each reading its actuals from its own ERP, a
 * controller signs each one off, and the report shows each in its own currency.
 */
const ENTITIES = ['ACME-US', 'ACME-UK', 'ACME-DE', 'ACME-CORP', 'ACME-NL', 'ACME-NW'];

describe('group close of 2027-03 for the demo entities', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  async function approveBudget(legalEntity: string) {
    const started = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity, fiscalYear: 2027, version: 1, asOfPeriod: '2027-03' },
    });
    expect(started.status).toBe(202);
    const cycleId = started.body.cycleId as string;
    await pollCycle(request, cycleId, (s) => s.status === 'awaiting_approval');
    const approved = await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve' },
    });
    expect(approved.status).toBe(200);
    return pollCycle(request, cycleId, (s) => ['completed', 'publication_failed'].includes(s.status));
  }

  async function progress(until: (entities: EntityProgress[], status: string) => boolean) {
    const deadline = Date.now() + 90_000;
    let last: unknown;
    while (Date.now() < deadline) {
      const res = await request('GET', '/v1/period-closes/2027-03', { key: 'dev-scheduler' });
      const entities = (res.body.entities ?? []) as EntityProgress[];
      last = {
        status: res.body.status,
        entities: entities.map((e) => `${e.legalEntity}: ${e.state} / ${e.workflow?.status ?? '-'}`),
        failed: entities.flatMap((e) =>
          (e.workflow?.steps ?? [])
            .filter((st) => st.state === 'failed')
            .map((st) => `${e.legalEntity} ${st.name}: ${JSON.stringify(st.error)}`),
        ),
      };
      if (res.status === 200 && until(entities, String(res.body.status))) return entities;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the close did not get there within 90 s; last: ${JSON.stringify(last)}`);
  }

  test('budgets in three currencies, the close fanned out, signed off, locked and reported', async () => {
    seedServicesCompany({ d365: stack.d365, anaplan: stack.anaplan }, { fiscalYear: 2027 });
    seedSubsidiaries({ d365: stack.d365, anaplan: stack.anaplan }, { fiscalYear: 2027 });
    seedOracleLedger(stack.oracle, [2027]);
    seedCorporateBooks(stack.oracle, { fiscalYear: 2027 });
    seedEuropeBooks(stack.sap, { fiscalYear: 2027 });
    seedAcquiredBooks(stack.netsuite, { fiscalYear: 2027 });
    for (const [legalEntity, rows] of Object.entries({
      'ACME-CORP': corporateBudgetRows(2027),
      'ACME-NL': europeBudgetRows(2027),
      'ACME-NW': acquiredBudgetRows(2027),
    }))
      stack.anaplan.putBudgetVersion({ legalEntity, fiscalYear: 2027, scenario: 'BUDGET', version: 1, rows });
    for (const entity of ENTITIES) expect((await approveBudget(entity)).status).toBe('completed');

    const started = await request('POST', '/v1/period-closes', {
      key: 'dev-scheduler',
      body: { period: '2027-03', escalateAfter: '1 minute', expireAfter: '2 minutes' },
    });
    expect(started.status).toBe(202);
    // The manufacturer's 4-4-5 period 3 ends on 3 April: no period of its calendar ends in March, so its
    // entity is skipped, saying so; the other three close.
    const waiting = (
      await progress(
        (es) =>
          es.length === 7 &&
          es.every((e) => e.state === 'skipped' || e.workflow?.status === 'awaiting_sign_off'),
      )
    ).filter((e) => e.state !== 'skipped');
    expect(
      (await request('GET', '/v1/period-closes/2027-03', { key: 'dev-controller' })).body.entities,
    ).toContainEqual(
      expect.objectContaining({
        legalEntity: 'ACME-MFG',
        state: 'skipped',
        reason: 'no period of its calendar ends in 2027-03',
      }),
    );
    expect(Object.fromEntries(waiting.map((e) => [e.legalEntity, e.workflowId]))).toEqual({
      'ACME-CORP': 'period-close:2027-03:ACME-CORP',
      'ACME-US': 'period-close:2027-03:ACME-US',
      'ACME-UK': 'period-close:2027-03:ACME-UK',
      'ACME-DE': 'period-close:2027-03:ACME-DE',
      'ACME-NL': 'period-close:2027-03:ACME-NL',
      'ACME-NW': 'period-close:2027-03:ACME-NW',
    });

    for (const entity of ENTITIES) {
      const signed = await request('POST', `/v1/period-closes/2027-03/entities/${entity}/sign-off`, {
        key: 'dev-controller',
        body: { decision: 'approve', comment: `${entity} March reviewed` },
      });
      expect(signed.status).toBe(200);
    }
    const closed = await progress((_es, status) => status === 'completed');
    expect(closed.filter((e) => e.legalEntity !== 'ACME-MFG').every((e) => e.state === 'closed')).toBe(true);

    const locks = (await stack.db.execute(
      sql`select legal_entity, period from entity_period_locks order by legal_entity`,
    )) as unknown as { legal_entity: string; period: string }[];
    expect(locks.map((l) => `${l.legal_entity} ${l.period}`)).toEqual([
      'ACME-CORP 2027-03',
      'ACME-DE 2027-03',
      'ACME-NL 2027-03',
      'ACME-NW 2027-12',
      'ACME-UK 2027-12',
      'ACME-US 2027-03',
    ]);

    const report = await request('GET', '/v1/period-closes/2027-03/report', { key: 'dev-controller' });
    expect(report.status).toBe(200);
    const byEntity = Object.fromEntries(
      (report.body.entities as EntityReport[]).map((e) => [e.legalEntity, e]),
    );
    // The UK's period 12 (March 2027): its monthly plan, and its actuals at 98% of it.
    const ukBudget = fromMinor(
      subsidiaryBudgetRows('ACME-UK', 2027)
        .filter((r) => r.period === '2027-12')
        .reduce((a, r) => a + toMinor(r.amount, 'GBP'), 0n),
      'GBP',
    );
    expect(byEntity['ACME-UK']).toMatchObject({
      period: '2027-12',
      status: 'closed',
      signedOff: { by: 'dave@acme.example' },
      totals: [
        {
          currency: 'GBP',
          budget: ukBudget,
          actual: fromMinor((toMinor(ukBudget, 'GBP') * 98n) / 100n, 'GBP'),
        },
      ],
    });
    expect(byEntity['ACME-DE']!.totals.map((t) => t.currency)).toEqual(['EUR']);
    expect(byEntity['ACME-US']!.totals.map((t) => t.currency)).toEqual(['USD']);
    // European operations' March from SAP: its plan, and the payroll and rent its company code posted.
    expect(byEntity['ACME-NL']).toMatchObject({
      status: 'closed',
      totals: [{ currency: 'EUR', budget: '70000.00', actual: '64680.00' }],
    });
    // Northwind's period 12 (March 2027) in NetSuite: its plan, nothing posted yet that late in its year.
    expect(byEntity['ACME-NW']).toMatchObject({
      period: '2027-12',
      status: 'closed',
      totals: [{ currency: 'USD', budget: '43500.00', actual: '0.00' }],
    });
    // Corporate's March from its Oracle ledger: its plan, and the journals posted at 97% of it.
    const corporateBudget = fromMinor(
      corporateBudgetRows(2027)
        .filter((r) => r.period === '2027-03')
        .reduce((a, r) => a + toMinor(r.amount, 'USD'), 0n),
      'USD',
    );
    // Its reforecast went to the planning platform from what Oracle posted: March as the ledger holds it.
    const corporateForecast = stack.anaplan
      .forecasts()
      .find((f) => f.versionName === 'FC FY2027 ACME-CORP from v1 @2027-03');
    expect(
      fromMinor(
        corporateForecast!.rows
          .filter((r) => r.period === '2027-03')
          .reduce((a, r) => a + toMinor(r.amount, 'USD'), 0n),
        'USD',
      ),
    ).toBe(fromMinor((toMinor(corporateBudget, 'USD') * 97n) / 100n, 'USD'));
    expect(byEntity['ACME-CORP']).toMatchObject({
      status: 'closed',
      totals: [
        {
          currency: 'USD',
          budget: corporateBudget,
          actual: fromMinor((toMinor(corporateBudget, 'USD') * 97n) / 100n, 'USD'),
        },
      ],
    });
    expect((report.body.totals as { currency: string }[]).map((t) => t.currency).sort()).toEqual([
      'EUR',
      'GBP',
      'USD',
    ]);

    // Locked: a reservation dated in the UK's period 12 is refused, in its own currency too.
    const refused = await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': 'group-close-uk' },
      body: {
        legalEntity: 'ACME-UK',
        lines: [
          {
            account: '610200',
            costCenter: 'CC-510',
            period: '2027-12',
            amount: { amount: '100.00', currency: 'GBP' },
          },
        ],
      },
    });
    expect(refused.body).toMatchObject({ error: 'period_closed' });
  }, 240_000);
});
