import { and, eq, sql } from 'drizzle-orm';
import { verifyAuditChain } from '../../db/queries/audit';
import { money } from '../../domain/money';
import { actualLines, auditLog, controlBalances, forecastLines } from '../../db/schema';
import { ledgerEntries, openPurchaseOrders } from '../../simulators/scenario/services-company';
import { seedServicesCompany } from '../../simulators/scenario/seed';
import { sumAmounts } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The seed's services company end to end, the way its people use it: a planner starts the FY2027 cycle
 * over the API, an approver approves, and the loop publishes to Dynamics 365, reconciles, ingests Q1
 * actuals and open POs (with a duplicate delivery on the way) and pushes the reforecast to Anaplan.
 */
describe('services company: the whole loop through the API', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ api: true });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('plan → authorize → execute → reconcile → reforecast', async () => {
    const request = apiClient(stack.api!.url);
    const { total } = seedServicesCompany(
      { d365: stack.d365, anaplan: stack.anaplan },
      { fiscalYear: 2027, actualsThrough: '2027-03', version: 1 },
    );
    stack.d365.faults.inject({
      kind: 'duplicate',
      times: 1,
      method: 'GET',
      path: 'GeneralJournalAccountEntries',
    });

    const started = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity: 'ACME-US', fiscalYear: 2027, version: 1, asOfPeriod: '2027-03', chunkSize: 50 },
    });
    expect(started.status).toBe(202);
    const path = cyclePath(started.body.cycleId as string);

    const cycleId = started.body.cycleId as string;
    const poll = (until: (s: BudgetCycleStatus) => boolean) => pollCycle(request, cycleId, until);
    await poll((b) => b.status === 'awaiting_approval');
    const approved = await request('POST', `${path}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve', comment: 'FY27 plan' },
    });
    expect(approved.status).toBe(200);
    const done = await poll((b) => b.status === 'completed');

    // Execute + reconcile: the ERP holds exactly the approved version.
    expect(done.reconciliation).toEqual([
      expect.objectContaining({ sourceTotal: total, targetTotal: total, exceptionCount: 0 }),
    ]);

    // Actuals: 11 lines × 3 months, a duplicate delivery ignored, balances counted once.
    const ledger = ledgerEntries(2027, '2027-03');
    expect(done.actualsSynced).toMatchObject({
      inserted: ledger.length,
      commitments: openPurchaseOrders(2027).length,
    });
    expect((done.actualsSynced as { duplicates: number }).duplicates).toBeGreaterThan(0);
    const [{ n }] = (await stack.db.select({ n: sql<number>`count(*)::int` }).from(actualLines)) as [
      { n: number },
    ];
    expect(n).toBe(ledger.length);
    const balances = await stack.db
      .select()
      .from(controlBalances)
      .where(eq(controlBalances.legalEntity, 'ACME-US'));
    expect(sumAmounts(balances.map((b) => b.actual))).toBe(sumAmounts(ledger.map((l) => l.amount)));
    expect(sumAmounts(balances.map((b) => b.committed))).toBe('106800.00');

    // Reforecast: elapsed periods are actuals; later ones actuals + commitments + remaining budget.
    const forecast = async (costCenter: string, account: string, period: string) => {
      const [row] = await stack.db
        .select()
        .from(forecastLines)
        .where(
          and(
            eq(forecastLines.costCenter, costCenter),
            eq(forecastLines.account, account),
            eq(forecastLines.period, period),
          ),
        );
      return row && { amount: money(row.amount, 'USD').amount, basis: row.basis };
    };
    expect(await forecast('CC-300', '610200', '2027-01')).toEqual({ amount: '16800.00', basis: 'actual' });
    expect(await forecast('CC-100', '630400', '2027-04')).toEqual({
      amount: '45000.00',
      basis: 'projection',
    });
    expect(await forecast('CC-200', '620300', '2027-05')).toEqual({
      amount: '60000.00',
      basis: 'projection',
    });
    expect(await forecast('CC-200', '650600', '2027-05')).toEqual({ amount: '2500.00', basis: 'projection' });
    expect(await forecast('CC-400', '640500', '2027-12')).toEqual({
      amount: '30000.00',
      basis: 'projection',
    });
    const pushed = stack.anaplan.forecasts();
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.rows).toHaveLength(132);

    // Audit: every externally visible effect carries the cycle's correlation ID; the chain is intact.
    const correlationId = started.body.correlationId as string;
    const actions = (
      await stack.db.select().from(auditLog).where(eq(auditLog.correlationId, correlationId))
    ).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'budget_version.imported',
        'budget_version.approved',
        'budget_chunk.posted',
        'publication.published',
        'budget_version.activated',
        'reconciliation.completed',
        'actuals.ingested',
        'forecast.published',
      ]),
    );
    expect(await verifyAuditChain(stack.db)).toMatchObject({ ok: true });
    const tamper = await stack.db.execute(sql`update audit_log set actor = 'mallory'`).catch((e: Error) => e);
    expect(String((tamper as Error).cause)).toMatch(/append-only/);

    // Between cycles, procurement commits 20,000.00 of May travel on CC-100 (budget 12,000.00); the next ERP
    // sync delivers commitments and actuals as they stand to Anaplan, where May now forecasts the commitment.
    const mixed = await request('PUT', '/v1/budget-control/models/ACME-US', {
      key: 'dev-controller',
      body: { consumptionSource: 'mixed', reason: 'Coupa owns the orders' },
    });
    expect(mixed.status).toBe(200);
    const committed = await request('POST', '/v1/budget-control/consumption-events', {
      key: 'dev-procurement',
      body: {
        legalEntity: 'ACME-US',
        sourceSystem: 'coupa',
        events: [
          {
            type: 'committed',
            documentId: 'PO-7001',
            lineNo: 1,
            sequence: 1,
            account: '610200',
            costCenter: 'CC-100',
            period: '2027-05',
            amount: { amount: '20000.00', currency: 'USD' },
          },
        ],
      },
    });
    expect(committed.body).toMatchObject({ results: [{ outcome: 'applied' }] });
    const synced = await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: 'ACME-US', fiscalYear: 2027, deliverAsOf: '2027-03', wait: true },
    });
    expect(synced).toMatchObject({
      status: 200,
      body: { years: [{ fiscalYear: 2027, actuals: { inserted: 0 }, delivered: { lineCount: 132 } }] },
    });
    const may = stack.anaplan
      .forecasts()[0]!
      .rows.find((r) => r.account === '610200' && r.costCenter === 'CC-100' && r.period === '2027-05');
    expect(may).toMatchObject({ amount: '20000.00' });
  });
});
