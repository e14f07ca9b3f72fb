import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { type CommitmentsSyncResult, createActualsActivities } from '../../activities/actuals';
import { ORACLE_LEDGER_ID, ORACLE_LEDGER_NAME } from '../../simulators/scenario/services-company';
import { seedOracleLedger } from '../../simulators/scenario/seed';
import { decisionSignal } from '../../workflows/definitions';
import { type ErpCutoverStatus } from '../../workflows/erp-cutover';
import {
  awaitingApproval,
  erpBudgetTotal,
  planVersion,
  resetCycle,
  sumAmounts as sum,
  waitForStatus,
  workflowTaskPoints,
} from '../harness/cycle';
import { apiClient } from '../harness/http';
import { oracleGlTotal, US_GL_BUDGET } from '../harness/oracle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * ERP migration as an integration administrator runs it over the API: the services company moves from Dynamics
 * 365 to Oracle Fusion (GL budget balances) at July with a parallel run of two periods. A cut-over whose mappings
 * the new ERP lacks is refused naming them; the scheduled one sends Oracle the periods it now receives, compares
 * the parallel run line by line (a difference planted in Oracle is listed, and nothing else), posts nothing twice
 * after a reset in Temporal UI, and a rollback at October sends Dynamics 365 what it missed, exactly once. The
 * actuals follow: Oracle's count from the end of the parallel run to the rollback, and its opening balance
 * journal is kept for support, never counted.
 */
describe('an entity moving from Dynamics 365 to Oracle Fusion', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const admin = { key: 'dev-admin' };
  const cutovers = '/v1/legal-entities/ACME-US/cutovers';

  async function approved(fiscalYear: number, version: number) {
    const planned = planVersion(stack, fiscalYear, version);
    const handle = await stack.startCycle(planned.ref, { publication: { chunkSize: 40 } });
    await waitForStatus(handle, awaitingApproval);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    expect((await handle.result()).status).toBe('completed');
    return planned;
  }
  const finished = (workflowId: string) =>
    stack.client.workflow.getHandle(workflowId).result() as Promise<ErpCutoverStatus>;

  test('cut over with a parallel run, compared line by line, reset, then rolled back once', async () => {
    const fy = await stack.newFiscalYear();
    seedOracleLedger(stack.oracle, [fy]);
    const v1 = await approved(fy, 1);
    expect(await erpBudgetTotal(stack, fy)).toBe(v1.total);

    const body = {
      from: 'd365',
      cutoverDate: `${fy}-07-01`,
      parallelPeriods: 2,
      actualsDuringParallel: 'old',
      conversionSources: ['Migration'],
      reason: 'finance moves to Oracle Fusion',
    };
    // SAP cannot map what the entity posts: refused, each missing value named, nothing changed.
    const refused = await request('POST', cutovers, {
      ...admin,
      body: {
        ...body,
        to: {
          target: 'sap',
          company: '1010',
          settings: { planningCategory: 'PLN', fiscalYearVariant: 'K4' },
        },
      },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toBe('mappings_incomplete');
    expect(refused.body.missing).toContainEqual({ dimension: 'costCenter', code: 'CC-100' });
    expect((await request('GET', cutovers, admin)).body.cutovers).toEqual([]);

    const to = {
      target: 'oracle',
      company: String(ORACLE_LEDGER_ID),
      postingModel: 'replace-scope',
      settings: {
        budgetName: US_GL_BUDGET,
        ledgerName: ORACLE_LEDGER_NAME,
        soldToLegalEntity: 'Acme Services US Inc.',
      },
    };
    const scheduled = await request('POST', cutovers, { ...admin, body: { ...body, to } });
    expect(scheduled.status).toBe(201);
    expect(scheduled.body.cutover).toMatchObject({ parallelUntil: `${fy}-09-01`, status: 'scheduled' });
    const cutoverId = (scheduled.body.cutover as { id: string }).id;
    const cut = await finished(scheduled.body.workflowId as string);
    expect(cut.publications).toEqual([
      expect.objectContaining({
        target: 'oracle',
        fiscalYear: fy,
        status: 'published',
        reconciliationExceptions: 0,
      }),
    ]);
    // Oracle holds July to December; Dynamics 365 keeps the whole year it had.
    const july = v1.rows.filter((r) => r.period >= `${fy}-07`);
    expect(oracleGlTotal(stack, fy)).toBe(sum(july.map((r) => r.amount)));
    expect(await erpBudgetTotal(stack, fy)).toBe(v1.total);
    // Over the parallel run both hold the same, line for line.
    expect(cut.comparisons).toEqual([expect.objectContaining({ fiscalYear: fy, differences: 0 })]);

    // A planner changes one July balance in Oracle by hand: the comparison lists that line, and only it.
    const [line] = stack.oracle
      .budgetBalances(ORACLE_LEDGER_ID, US_GL_BUDGET)
      .filter((b) => b.period === `Jul-${String(fy).slice(2)}`);
    stack.oracle.setBudgetBalance({
      ledgerId: ORACLE_LEDGER_ID,
      budget: US_GL_BUDGET,
      period: line!.period,
      combination: line!.combination,
      currency: line!.currency,
      amount: '1.00',
    });
    const compare = await request('POST', `${cutovers}/${cutoverId}/compare`, admin);
    expect(compare.status).toBe(202);
    await finished(compare.body.workflowId as string);
    const shown = await request('GET', `${cutovers}/${cutoverId}`, admin);
    const [comparison] = shown.body.comparisons as {
      differences: { period: string; new: string; difference: string }[];
    }[];
    expect(comparison!.differences).toEqual([expect.objectContaining({ period: `${fy}-07`, new: '1.00' })]);
    stack.oracle.setBudgetBalance({
      ledgerId: ORACLE_LEDGER_ID,
      budget: US_GL_BUDGET,
      period: line!.period,
      combination: line!.combination,
      currency: line!.currency,
      amount: line!.amount,
    });

    // Support resets the cut-over at its first workflow task: it runs again and Oracle is sent nothing new.
    const loads = stack.oracle.budgetBalances(ORACLE_LEDGER_ID, US_GL_BUDGET).length;
    const handle = stack.client.workflow.getHandle(scheduled.body.workflowId as string);
    const [first] = await workflowTaskPoints(handle);
    const replayed = (await resetCycle(stack, handle.workflowId, first!)) as unknown as ErpCutoverStatus;
    expect(replayed.comparisons).toEqual([expect.objectContaining({ differences: 0 })]);
    expect(stack.oracle.budgetBalances(ORACLE_LEDGER_ID, US_GL_BUDGET)).toHaveLength(loads);
    expect(oracleGlTotal(stack, fy)).toBe(sum(july.map((r) => r.amount)));

    // Version 2 is approved after the cut-over: Dynamics 365 gets January to August, Oracle July to December.
    const v2 = await approved(fy, 2);
    expect(oracleGlTotal(stack, fy)).toBe(
      sum(v2.rows.filter((r) => r.period >= `${fy}-07`).map((r) => r.amount)),
    );

    // Rolled back from October: Dynamics 365 is sent version 2 from October on, once, however often it is asked.
    const rollback = await request('POST', `${cutovers}/${cutoverId}/rollback`, {
      ...admin,
      body: { rollbackDate: `${fy}-10-01`, reason: 'Oracle close calendar not ready' },
    });
    expect(rollback.status).toBe(200);
    const back = await finished(rollback.body.workflowId as string);
    expect(back.publications).toEqual([
      expect.objectContaining({
        target: 'd365',
        fiscalYear: fy,
        status: 'published',
        reconciliationExceptions: 0,
      }),
    ]);
    const entries = stack.d365.budgetEntries().length;
    const again = await request('POST', `${cutovers}/${cutoverId}/rollback`, {
      ...admin,
      body: { rollbackDate: `${fy}-10-01`, reason: 'asked twice' },
    });
    expect(again.body.outcome).toBe('already_rolled_back');
    await finished(again.body.workflowId as string);
    expect(stack.d365.budgetEntries()).toHaveLength(entries);
    // What Dynamics 365 holds for October to December is version 2's.
    const d365 = await stack.erps.d365!.fetchBudgetTotals({
      target: { company: 'acus', settings: { budgetModel: 'FY-BUDGET', budgetCode: 'Original' } },
      fromDate: `${fy}-10-01`,
      toDate: `${fy}-12-31`,
    });
    expect(sum(d365.map((t) => t.amount.amount))).toBe(
      sum(v2.rows.filter((r) => r.period >= `${fy}-10`).map((r) => r.amount)),
    );
    // Actuals follow the books: during the parallel run Dynamics 365's count (as the cut-over says), Oracle's
    // kept for the comparison only, Oracle's after it until the rollback; Oracle's opening balance journal
    // (source Migration) is never an actual.
    const journal = (name: string, date: string, source: string, amount: string) =>
      stack.oracle.postJournalBatch({
        BatchName: name,
        PostedDate: date,
        UserJeSourceName: source,
        journals: [
          {
            JournalName: name,
            LedgerName: ORACLE_LEDGER_NAME,
            CurrencyCode: 'USD',
            DefaultEffectiveDate: date,
            UserJeCategoryName: 'Adjustment',
            lines: [{ AccountCombination: '6102-1100', EnteredDr: amount }],
          },
        ],
      });
    // Over the parallel run Dynamics 365 has July's and August's travel; Oracle only July's (kept for comparison).
    stack.d365.seedLedgerEntries(
      [
        [`JUL-${fy}`, `${fy}-07-20`, '100.00'],
        [`AUG-${fy}`, `${fy}-08-20`, '50.00'],
      ].map(([voucher, date, amount]) => ({
        DataArea: 'acus',
        JournalNumber: `PAR-${fy}`,
        Voucher: voucher!,
        AccountingDate: date!,
        LedgerAccount: '61020-100',
        AccountingCurrencyAmount: amount!,
        TransactionCurrencyCode: 'USD',
      })),
    );
    journal(`JUL-${fy}`, `${fy}-07-20`, 'Manual', '100.00');
    journal(`SEP-${fy}`, `${fy}-09-20`, 'Manual', '200.00');
    journal(`OPEN-${fy}`, `${fy}-09-01`, 'Migration', '999.00');
    const synced = await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, wait: true },
    });
    expect(synced.status).toBe(200);
    expect((synced.body.years as { actuals: Record<string, unknown> }[])[0]!.actuals).toMatchObject({
      migrationJournals: 1,
      comparisonOnly: 1,
    });
    const counted = (await stack.db.execute(
      sql`select document_id, amount::text as amount from actual_lines
           where legal_entity = 'ACME-US' and source_system = 'oracle' and posting_date between ${`${fy}-01-01`} and ${`${fy}-12-31`}`,
    )) as unknown as { document_id: string; amount: string }[];
    expect(counted.map((c) => [c.document_id.split('/')[1], Number(c.amount)])).toEqual([[`SEP-${fy}`, 200]]);
    const travel = (await stack.db.execute(
      sql`select coalesce(sum(amount), 0)::text as amount from actual_lines
           where legal_entity = 'ACME-US' and account = '610200' and period in (${`${fy}-07`}, ${`${fy}-08`})`,
    )) as unknown as { amount: string }[];
    expect(Number(travel[0]!.amount)).toBe(150);
    // Compared again: the budgets agree; the books differ by August's line, which Oracle does not have.
    await finished(
      (await request('POST', `${cutovers}/${cutoverId}/compare`, admin)).body.workflowId as string,
    );
    const books = (await request('GET', `${cutovers}/${cutoverId}`, admin)).body as {
      comparisons: { differences: unknown[]; actualDifferences: unknown[]; actualTotals: unknown[] }[];
      parallelActuals: { system: string; kept: number; unmapped: unknown[] }[];
    };
    expect(books.comparisons[0]!.differences).toEqual([]);
    expect(books.comparisons[0]!.actualDifferences).toEqual([
      expect.objectContaining({ period: `${fy}-08`, old: '50.00', new: '0.00', difference: '-50.00' }),
    ]);
    expect(books.comparisons[0]!.actualTotals).toEqual([
      { currency: 'USD', old: '150.00', new: '100.00', difference: '-50.00' },
    ]);
    expect(books.parallelActuals).toEqual([{ system: 'oracle', kept: 1, unmapped: [] }]);
    const discarded = await request(
      'GET',
      '/v1/source-exceptions?legalEntity=ACME-US&stream=actuals&status=discarded',
      admin,
    );
    expect(discarded.body.exceptions).toContainEqual(
      expect.objectContaining({
        errorCode: 'migration_journal',
        recordKey: expect.stringContaining(`OPEN-${fy}`),
      }),
    );

    // Open orders follow the books as of the snapshot's day: Dynamics 365's before the cut-over, Oracle's
    // (where the order was migrated) while its books count, Dynamics 365's again after the rollback; each time the
    // other ERP's copy of the order is released, so it is never committed twice.
    stack.d365.seedPurchaseOrders([
      {
        dataAreaId: 'acus',
        PurchaseOrderNumber: `PO-${fy}-77`,
        CurrencyCode: 'USD',
        lines: [
          {
            LineNumber: 1,
            RequestedDeliveryDate: `${fy}-11-15`,
            DefaultLedgerDimensionDisplayValue: '61020-100',
            LineAmount: '300.00',
            PurchaseOrderLineStatus: 'Backorder',
          },
        ],
      },
    ]);
    stack.oracle.putPurchaseOrders([
      {
        OrderNumber: `PO-${fy}-77`,
        SoldToLegalEntity: 'Acme Services US Inc.',
        CurrencyCode: 'USD',
        lines: [
          {
            LineNumber: 1,
            schedules: [
              {
                ScheduleNumber: 1,
                distributions: [
                  {
                    DistributionNumber: 1,
                    POChargeAccount: '6102-1100',
                    BudgetDate: `${fy}-11-15`,
                    Ordered: '300.00',
                  },
                ],
              },
            ],
          },
        ],
      },
    ]);
    const sourceLines = createActualsActivities({ db: stack.db, erps: stack.erps });
    const committed = async (asOf: string) => {
      const snapshot = (await new MockActivityEnvironment().run(() =>
        sourceLines.syncCommitments({
          legalEntity: 'ACME-US',
          fiscalYear: fy,
          correlationId: `commitments-${asOf}`,
          asOf,
        }),
      )) as CommitmentsSyncResult;
      const [row] = (await stack.db.execute(
        sql`select source_system, coalesce(sum(open_amount), 0)::text as amount from commitment_lines
             where legal_entity = 'ACME-US' and period = ${`${fy}-11`} and open_amount <> 0
             group by source_system`,
      )) as unknown as { source_system: string; amount: string }[];
      return { snapshot, held: row && [row.source_system, Number(row.amount)] };
    };
    expect((await committed(`${fy}-06-15`)).held).toEqual(['d365', 300]);
    const moved = await committed(`${fy}-09-15`);
    expect(moved.held).toEqual(['oracle', 300]);
    expect(moved.snapshot.released).toBe(1);
    expect((await committed(`${fy}-10-15`)).held).toEqual(['d365', 300]);

    const routes = (await request('GET', '/v1/legal-entities/ACME-US/routes', admin)).body.routes as {
      target: string;
      validFrom: string;
      validTo: string | null;
    }[];
    expect(routes.map((r) => [r.target, r.validFrom, r.validTo])).toEqual([
      ['d365', '1900-01-01', `${fy}-09-01`],
      ['d365', `${fy}-10-01`, null],
      ['oracle', `${fy}-07-01`, `${fy}-10-01`],
    ]);
  }, 300_000);
});
