import { ScheduleNotFoundError } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { ensureSchedules, erpSyncScheduleId, masterDataScheduleId } from '../../api/schedules';
import { d365LedgerDimension } from '../../simulators/scenario/services-company';
import { decisionSignal } from '../../workflows/definitions';
import { type ErpSyncResult } from '../../workflows/erp-sync';
import { type MasterDataSyncResult } from '../../workflows/master-data-sync';
import { awaitingApproval, planVersion, waitForStatus } from '../harness/cycle';
import { apiClient } from '../harness/http';

const ENTITIES = ['ACME-CORP', 'ACME-DE', 'ACME-MFG', 'ACME-NL', 'ACME-NW', 'ACME-UK', 'ACME-US'];
import { startStack, type TestStack } from '../harness/stack';

/**
 * The standing and the near-real-time flows: a Temporal Schedule per entity created from configuration
 * (idempotently), whose action is the entity's ERP sync; and a Dynamics 365 business event that reaches the
 * balances and the planning platform within seconds, through the entity's `erp-events` workflow.
 */
describe('scheduled and event-driven flows', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, env: { EVENT_DEBOUNCE: '300ms', ERP_SYNC_INTERVAL: '1 hour' } });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    for (const id of ENTITIES.flatMap((e) => [erpSyncScheduleId(e), masterDataScheduleId(e)])) {
      await stack.client.schedule
        .getHandle(id)
        .delete()
        .catch((e: unknown) => {
          if (!(e instanceof ScheduleNotFoundError)) throw e;
        });
    }
    await stack?.stop();
  });

  test('the schedules come from configuration: created once, unchanged by a restart, paused stays paused; triggering runs the sync', async () => {
    const ids = await ensureSchedules(stack.client, stack.config, stack.db);
    // One pair per active entity of the demo data (the services company, its subsidiaries, the manufacturer,
    // group corporate finance, European operations on SAP and the acquired subsidiary on NetSuite).
    expect(ids).toEqual(
      ENTITIES.flatMap((e) => [
        { scheduleId: `erp-sync:${e}`, every: '1 hour' },
        { scheduleId: `master-data:${e}`, every: '1 day' },
      ]),
    );
    const handle = stack.client.schedule.getHandle('erp-sync:ACME-US');
    const first = await handle.describe();
    expect(first.spec.intervals).toEqual([expect.objectContaining({ every: 3_600_000 })]);
    expect(first.policies).toMatchObject({ overlap: 'BUFFER_ONE', catchupWindow: 3_600_000 });
    expect(first.action).toMatchObject({
      workflowType: 'erpSync',
      args: [{ legalEntity: 'ACME-US', deliver: true }],
    });

    // A restart changes nothing; an operator's pause survives it.
    await handle.pause('maintenance window');
    await ensureSchedules(stack.client, stack.config, stack.db);
    const again = await handle.describe();
    expect(again.info.lastUpdatedAt).toEqual((await handle.describe()).info.lastUpdatedAt);
    expect(again.state.paused).toBe(true);
    expect(again.spec).toEqual(first.spec);
    await handle.unpause('maintenance over');

    // "Trigger now" from Temporal UI or `temporal schedule trigger`: one ERP sync of every open year.
    await handle.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(workflowId).toMatch(/^erp-sync:ACME-US:scheduled-/);
    const result = (await stack.client.workflow.getHandle(workflowId!).result()) as ErpSyncResult;
    expect(result.legalEntity).toBe('ACME-US');
    expect(result.years.length).toBeGreaterThan(0);
    expect(result.years[0]).toMatchObject({ actuals: expect.any(Object), commitments: expect.any(Object) });
  });

  test("each entity syncs at its tier and its master data daily; a scheduler's change of tier reaches the schedule", async () => {
    await ensureSchedules(stack.client, stack.config, stack.db);
    const master = stack.client.schedule.getHandle(masterDataScheduleId('ACME-US'));
    const described = await master.describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 86_400_000 })]);
    // A daily run missed by an outage is still run: the catch-up window is at least one interval.
    expect(described.policies).toMatchObject({ overlap: 'BUFFER_ONE', catchupWindow: 86_400_000 });
    expect(described.action).toMatchObject({
      workflowType: 'masterDataSync',
      args: [
        expect.objectContaining({
          legalEntity: 'ACME-US',
          approvers: expect.arrayContaining(['carol@acme.example']),
          integrationAdmins: ['ian@acme.example'],
        }),
      ],
    });

    const erp = stack.client.schedule.getHandle(erpSyncScheduleId('ACME-US'));
    const daily = await request('PUT', '/v1/legal-entities/ACME-US/sync-tier', {
      key: 'dev-scheduler',
      body: { tier: 'daily' },
    });
    expect(daily.status).toBe(200);
    expect(daily.body).toMatchObject({ tier: 'daily', interval: '1 day' });
    expect((await erp.describe()).spec.intervals).toEqual([expect.objectContaining({ every: 86_400_000 })]);
    const refused = await request('PUT', '/v1/legal-entities/ACME-US/sync-tier', {
      key: 'dev-planner',
      body: { tier: 'hourly' },
    });
    expect(refused.status).toBe(403);
    const bad = await request('PUT', '/v1/legal-entities/ACME-US/sync-tier', {
      key: 'dev-scheduler',
      body: { tier: 'weekly' },
    });
    expect(bad.status).toBe(400);
    const back = await request('PUT', '/v1/legal-entities/ACME-US/sync-tier', {
      key: 'dev-scheduler',
      body: { tier: 'near_real_time' },
    });
    expect(back.body).toMatchObject({ interval: '1 hour' });
    expect((await erp.describe()).spec.intervals).toEqual([expect.objectContaining({ every: 3_600_000 })]);

    // "Trigger now" on the master-data schedule runs the entity's master data sync.
    await master.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      workflowId = (await master.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(workflowId).toMatch(/^master-data:ACME-US:scheduled-/);
    const result = (await stack.client.workflow.getHandle(workflowId!).result()) as MasterDataSyncResult;
    expect(result).toMatchObject({ accounts: expect.any(Object), costCenters: expect.any(Object) });
  });

  test('a posted vendor invoice reaches the balances and Anaplan within seconds, by business event', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fiscalYear, 1);
    const cycle = await stack.startCycle(ref, { asOfPeriod: `${fiscalYear}-03` });
    await waitForStatus(cycle, awaitingApproval);
    await cycle.signal(
      decisionSignal,
      await stack.signed(cycle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    expect((await cycle.result()).status).toBe('completed');
    const pushesBefore = stack.anaplan.forecasts().length;

    stack.d365.setBusinessEventEndpoint({
      url: `${stack.api!.url}/v1/webhooks/d365/business-events`,
      headers: { 'x-api-key': 'dev-admin' },
    });
    const started = Date.now();
    // Two invoices in a burst, and the second business event sent twice.
    for (const n of [1, 2]) {
      stack.d365.postVendorInvoice({
        dataAreaId: 'acus',
        InvoiceNumber: `INV-${fiscalYear}-${n}`,
        InvoiceDate: `${fiscalYear}-02-20`,
        CurrencyCode: 'USD',
        lines: [
          {
            LedgerDimensionDisplayValue: d365LedgerDimension('610200', 'CC-100', `${fiscalYear}-02-20`),
            Amount: '700.00',
          },
        ],
      });
    }
    const event = stack.d365.businessEvents().at(-1)!.event;
    const repeat = await request('POST', '/v1/webhooks/d365/business-events', {
      key: 'dev-admin',
      body: event,
    });
    expect(repeat.status).toBe(202);

    const actual = async () =>
      (
        (await stack.db.execute(sql`
        select coalesce(sum(actual), 0)::text as actual from control_balances
         where legal_entity = 'ACME-US' and account = '610200' and cost_center = 'CC-100'
           and period = ${`${fiscalYear}-02`}`)) as unknown as { actual: string }[]
      )[0]!.actual;
    let seen = '0';
    while (Date.now() - started < 20_000) {
      seen = await actual();
      if (Number(seen) >= 1400 && stack.anaplan.forecasts().length > pushesBefore) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(Number(seen)).toBe(1400);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(20_000);
    const forecast = stack.anaplan.forecasts().find((f) => f.versionName.includes(`FY${fiscalYear}`));
    const february = forecast?.rows.find(
      (r) => r.account === '610200' && r.costCenter === 'CC-100' && r.period === `${fiscalYear}-02`,
    );
    expect(february).toBeDefined();

    // The entity's near-real-time workflow counted the repeated event once.
    const status = await stack.client.workflow.getHandle('erp-events:ACME-US').query('status');
    expect(status).toMatchObject({ legalEntity: 'ACME-US', duplicates: 1 });
    // An event from a company closeloop does not know is refused, so its sender keeps it.
    const unknown = await request('POST', '/v1/webhooks/d365/business-events', {
      key: 'dev-admin',
      body: { ...event, BusinessEventLegalEntity: 'ZZZZ', EventId: 'x-1' },
    });
    expect(unknown).toMatchObject({ status: 422, body: { error: 'unknown_company' } });
  });

  test("lines in other currencies are converted with the entity's rate type at their date; a currency without a rate waits in the dead letters until a rate comes, then replays once", async () => {
    const fy = await stack.newFiscalYear();
    stack.d365.seedExchangeRates([
      {
        ExchangeRateTypeName: 'Average',
        FromCurrencyCode: 'EUR',
        ToCurrencyCode: 'USD',
        ValidFrom: `${fy}-01-01`,
        Rate: '1.0850',
      },
      {
        ExchangeRateTypeName: 'Default',
        FromCurrencyCode: 'EUR',
        ToCurrencyCode: 'USD',
        ValidFrom: `${fy}-01-01`,
        Rate: '1.2000',
      },
    ]);
    const entry = (n: number, currency: string, amount: string) => ({
      DataArea: 'acus',
      JournalNumber: `FX-${fy}`,
      Voucher: `FXV-${fy}-${n}`,
      AccountingDate: `${fy}-04-10`,
      LedgerAccount: d365LedgerDimension('630400', 'CC-200', `${fy}-04-10`),
      AccountingCurrencyAmount: '0.00',
      TransactionCurrencyAmount: amount,
      TransactionCurrencyCode: currency,
    });
    stack.d365.seedLedgerEntries([entry(1, 'EUR', '100.00'), entry(2, 'GBP', '50.00')]);
    const sync = () =>
      request('POST', '/v1/erp-syncs', {
        key: 'dev-scheduler',
        body: { legalEntity: 'ACME-US', fiscalYear: fy, wait: true },
      });
    expect((await sync()).body).toMatchObject({ years: [{ actuals: { inserted: 1, exceptions: 1 } }] });
    const actual = async () =>
      (
        (await stack.db.execute(sql`
        select coalesce(sum(actual), 0)::text as actual from control_balances
         where legal_entity = 'ACME-US' and account = '630400' and cost_center = 'CC-200'
           and period = ${`${fy}-04`}`)) as unknown as { actual: string }[]
      )[0]!.actual;
    // 100.00 EUR at the Average rate (1.0850), not the spot (Default) one.
    expect(Number(await actual())).toBe(108.5);

    const open = await request(
      'GET',
      '/v1/source-exceptions?legalEntity=ACME-US&stream=actuals&status=open',
      {
        key: 'dev-admin',
      },
    );
    const dead = (
      open.body.exceptions as { id: string; errorCode: string; payload: { documentId: string } }[]
    ).filter((e) => e.payload.documentId.includes(`FXV-${fy}-2`));
    expect(dead).toEqual([expect.objectContaining({ errorCode: 'fx_rate_missing' })]);

    // Treasury enters the GBP rate; the next sync takes it; support replays the dead letter, twice.
    stack.d365.seedExchangeRates([
      {
        ExchangeRateTypeName: 'Average',
        FromCurrencyCode: 'GBP',
        ToCurrencyCode: 'EUR',
        ValidFrom: `${fy}-01-01`,
        Rate: '1.1700',
      },
    ]);
    await sync();
    const replay = () =>
      request('POST', '/v1/source-exceptions/reprocess', {
        key: 'dev-admin',
        body: { legalEntity: 'ACME-US', ids: [dead[0]!.id] },
      });
    expect((await replay()).body).toMatchObject({ reprocessed: 1, stillFailing: 0 });
    expect((await replay()).status).toBe(422);
    // 50.00 GBP → EUR → USD: 50 × 1.17 × 1.085 = 63.4725 → 63.47
    expect(Number(await actual())).toBe(108.5 + 63.47);
  });

  test('a late, back-dated posting into a closed period is flagged as a dead letter by the sync, never counted silently', async () => {
    const fy = await stack.newFiscalYear();
    await stack.db.execute(sql`update fiscal_periods set status = 'closed' where period = ${`${fy}-01`}`);
    stack.d365.seedLedgerEntries([
      {
        DataArea: 'acus',
        JournalNumber: `LATE-${fy}`,
        Voucher: `LATE-${fy}-1`,
        AccountingDate: `${fy}-01-31`,
        LedgerAccount: d365LedgerDimension('640500', 'CC-400', `${fy}-01-31`),
        AccountingCurrencyAmount: '250.00',
        TransactionCurrencyCode: 'USD',
      },
    ]);
    const synced = await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, wait: true },
    });
    expect(synced.body).toMatchObject({ years: [{ actuals: { inserted: 0, exceptions: 1 } }] });
    const open = await request(
      'GET',
      '/v1/source-exceptions?legalEntity=ACME-US&stream=actuals&status=open',
      {
        key: 'dev-admin',
      },
    );
    expect(
      (open.body.exceptions as { recordKey: string; errorCode: string; errorMessage: string }[]).filter((e) =>
        e.recordKey.includes(`LATE-${fy}`),
      ),
    ).toEqual([
      expect.objectContaining({
        errorCode: 'period_closed',
        errorMessage: `${fy}-01-31 is in period ${fy}-01, which is closed`,
      }),
    ]);
  });
});
