import { type RunningServer } from '../../api/listen';
import { createProcurementSimulator, type ProcurementSimulator } from '../../simulators/procurement';
import { d365LedgerDimension } from '../../simulators/scenario/services-company';
import { apiClient } from '../harness/http';
import { seedBudget } from '../harness/budget-control';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The seed's procurement scenario end to end: requisitions raised in the Coupa-style simulator are
 * budget-checked synchronously by closeloop (approved, warned, rejected), an override and a freeze act on
 * them, the approved one becomes a purchase order whose changes, invoices and close reach closeloop as
 * webhooks delivered twice and out of order, a transfer moves budget between cost centers and lands in
 * Dynamics 365, and the balances end right.
 */
describe('procurement scenario', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  let coupa: ProcurementSimulator;
  let coupaServer: RunningServer;
  let coupaCall: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, d365: { budgetBalanceUpdateMs: 0 } });
    request = apiClient(stack.api!.url);
    coupa = createProcurementSimulator({
      closeloopUrl: stack.api!.url,
      apiKey: 'dev-procurement',
      legalEntity: 'ACME-US',
      retryBaseMs: 50,
      erpInvoiceExport: {
        url: stack.env.D365_BASE_URL!,
        company: 'acus',
        ledgerDimension: d365LedgerDimension,
      },
    });
    coupaServer = await coupa.listen();
    coupaCall = apiClient(coupaServer.url);
  });
  afterAll(async () => {
    await coupa?.settled();
    await coupaServer?.close();
    await stack?.stop();
  });

  const budget = (account: string, costCenter: string, period: string, amount: string) =>
    seedBudget(stack.db, account, costCenter, period, amount);
  const requisition = (account: string, costCenter: string, period: string, total: string) =>
    coupaCall('POST', '/api/requisitions', {
      body: {
        'requested-by': 'maria@acme.example',
        'requisition-lines': [{ account, 'cost-center': costCenter, period, total, currency: 'USD' }],
      },
    });
  const figures = async (account: string, costCenter: string, period: string) => {
    const b = (
      await request(
        'GET',
        `/v1/budget-control/balances?legalEntity=ACME-US&account=${account}&costCenter=${costCenter}&period=${period}`,
        { key: 'dev-controller' },
      )
    ).body as Record<string, { amount: string }>;
    return Object.fromEntries(
      ['budget', 'reserved', 'committed', 'actual', 'available'].map((k) => [k, b[k]!.amount]),
    );
  };

  test('requisitions are approved, warned and rejected; overrides, freezes, purchase orders, invoices and a transfer end in the right balances', async () => {
    const fy = await stack.newFiscalYear();
    const march = `${fy}-03`;
    await budget('610200', 'CC-200', march, '20000.00');
    await budget('610200', 'CC-100', march, '10000.00');
    await budget('600100', 'CC-300', `${fy}-01`, '5000.00');
    // The seed's set-up: commitments come from Coupa's events, actuals from the Dynamics 365 ledger.
    const model = await request('PUT', '/v1/budget-control/models/ACME-US', {
      key: 'dev-controller',
      body: { consumptionSource: 'mixed', reason: 'Coupa owns orders, Dynamics 365 owns the books' },
    });
    expect(model).toMatchObject({ status: 200, body: { consumptionSource: 'mixed' } });

    // ── requisitions, budget-checked synchronously ──────────────────────────────────────────────────
    const a = await requisition('610200', 'CC-200', march, '12500.00');
    expect(a.body).toMatchObject({
      status: 'pending_approval',
      'budget-check': {
        outcome: 'approved',
        lines: [
          expect.objectContaining({
            controlLevel: 'absolute',
            tolerancePercent: '5',
            availableBefore: '20000.00',
            availableAfter: '7500.00',
          }),
        ],
      },
    });
    const b = await requisition('610200', 'CC-200', march, '8000.00');
    expect(b.body).toMatchObject({ status: 'pending_approval', 'budget-check': { outcome: 'warning' } });
    const c = await requisition('610200', 'CC-200', march, '2000.00');
    expect(c.body).toMatchObject({ status: 'budget_rejected', 'budget-check': { outcome: 'rejected' } });

    // ── override: the integration asks, a controller approves, Coupa resubmits and the funds are held ─
    const override = await request('POST', '/v1/budget-control/overrides', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': String(c.body['reservation-key']) },
      body: {
        legalEntity: 'ACME-US',
        lines: [
          {
            account: '610200',
            costCenter: 'CC-200',
            period: march,
            amount: { amount: '2000.00', currency: 'USD' },
          },
        ],
        reason: 'client workshop travel, agreed with the engagement lead',
      },
    });
    expect(override.status).toBe(202);
    await request('POST', `/v1/budget-control/overrides/${String(override.body.id)}/decision`, {
      key: 'dev-controller',
      body: { decision: 'approve', comment: 'billable to the client' },
    });
    const resubmitted = await coupaCall('POST', `/api/requisitions/${String(c.body.id)}/resubmit`);
    expect(resubmitted.body).toMatchObject({
      status: 'pending_approval',
      'budget-check': { reserved: true, override: { approvedBy: 'dave@acme.example' } },
    });

    // ── freeze: CC-300 stops at once, and starts again only by its own act ─────────────────────────────
    const freeze = await request('POST', '/v1/budget-control/freezes', {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', costCenter: 'CC-300', reason: 'spend review after audit finding' },
    });
    const frozen = await requisition('600100', 'CC-300', `${fy}-01`, '100.00');
    expect(frozen.body).toMatchObject({ status: 'budget_rejected' });
    expect(JSON.stringify(frozen.body['budget-check'])).toMatch(/frozen \(cost center CC-300\) by dave/);
    await request('POST', `/v1/budget-control/freezes/${String(freeze.body.id)}/unfreeze`, {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', reason: 'review closed' },
    });
    expect((await requisition('600100', 'CC-300', `${fy}-01`, '100.00')).body.status).toBe(
      'pending_approval',
    );

    // ── the purchase order's life, its webhooks duplicated, retried and so out of order ───────────────
    coupa.webhookFaults({ duplicate: 3, failFirst: 2 });
    const ordered = await coupaCall('POST', `/api/requisitions/${String(a.body.id)}/approve`, {
      body: { approver: 'tom@acme.example' },
    });
    const po = String((ordered.body['purchase-order'] as { id: string }).id);
    await coupaCall('POST', `/api/purchase_orders/${po}/invoices`, {
      body: { 'invoice-number': 'INV-1', 'invoice-lines': [{ 'line-num': 1, total: '5000.00' }] },
    });
    await coupaCall('POST', `/api/purchase_orders/${po}/change`, {
      body: { 'order-lines': [{ 'line-num': 1, total: '12000.00' }] },
    });
    await coupaCall('POST', `/api/purchase_orders/${po}/invoices`, {
      body: { 'invoice-number': 'INV-2', 'invoice-lines': [{ 'line-num': 1, total: '7000.00' }] },
    });
    await coupa.settled();
    await coupaCall('POST', `/api/purchase_orders/${po}/close`);
    // Requisition B is withdrawn: its funds come back.
    await coupaCall('POST', `/api/requisitions/${String(b.body.id)}/cancel`);
    await coupa.settled();
    const deliveries = coupa.deliveries();
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    expect(deliveries.some((d) => d.attempts > 1)).toBe(true);
    // The invoices relieved the commitment; their actuals are in Dynamics 365 until the ledger is synced.
    expect(await figures('610200', 'CC-200', march)).toMatchObject({ committed: '0.00', actual: '0.00' });
    const order = (await coupaCall('GET', `/api/purchase_orders/${po}`)).body as {
      invoices: { 'erp-export': { status: string } }[];
    };
    expect(order.invoices.map((i) => i['erp-export'].status)).toEqual(['posted', 'posted']);
    const synced = await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, wait: true },
    });
    expect(synced).toMatchObject({
      status: 200,
      body: { years: [{ actuals: { inserted: 2 }, commitments: { skipped: expect.any(String) } }] },
    });
    expect(await figures('610200', 'CC-200', march)).toMatchObject({ committed: '0.00', actual: '12000.00' });

    // ── a transfer from CC-100 to CC-200, approved by someone else, reaches Dynamics 365 ─────────────
    const transfer = await request('POST', '/v1/budget-control/transfers', {
      key: 'dev-controller',
      headers: { 'idempotency-key': `travel-${fy}` },
      body: {
        legalEntity: 'ACME-US',
        kind: 'transfer',
        from: { account: '610200', costCenter: 'CC-100', period: march },
        to: { account: '610200', costCenter: 'CC-200', period: march },
        amount: { amount: '2000.00', currency: 'USD' },
        reason: 'travel budget follows the engagement',
      },
    });
    await request('POST', `/v1/budget-control/transfers/${String(transfer.body.id)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve' },
    });
    for (let i = 0; i < 200; i++) {
      const t = await request('GET', `/v1/budget-control/transfers/${String(transfer.body.id)}`, {
        key: 'dev-controller',
      });
      if (t.body.status === 'published') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(
      stack.d365
        .budgetEntries()
        .filter((e) => e.ReasonComment === `closeloop transfer:${String(transfer.body.id)}`),
    ).toHaveLength(1);

    // ── budget vs reserved vs committed vs actual vs available, by cost center ───────────────────────
    expect(await figures('610200', 'CC-200', march)).toEqual({
      budget: '22000.00',
      reserved: '2000.00',
      committed: '0.00',
      actual: '12000.00',
      available: '8000.00',
    });
    expect(await figures('610200', 'CC-100', march)).toEqual({
      budget: '8000.00',
      reserved: '0.00',
      committed: '0.00',
      actual: '0.00',
      available: '8000.00',
    });
    expect(await figures('600100', 'CC-300', `${fy}-01`)).toMatchObject({
      reserved: '100.00',
      available: '4900.00',
    });
  });
});
