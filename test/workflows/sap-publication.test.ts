import { addRoute } from '../../db/queries/routes';
import { fromMinor, toMinor } from '../../domain/money';
import { SAP_COMPANY_CODE, SAP_PLANNING_CATEGORY } from '../../simulators/scenario/europe';
import { subsidiaryBudgetRows, subsidiaryDimensionValues } from '../../simulators/scenario/subsidiaries';
import { decisionSignal } from '../../workflows/definitions';
import { awaitingApproval, resetAtTasks, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The German company's budget published to SAP S/4HANA beside Dynamics 365: plan data of its company code,
 * each period a scope SAP replaces whole, so a revision rewrites the periods it changes, reconciliation reads
 * the plan data back, and a reset in Temporal UI writes nothing twice.
 */
describe('publishing to SAP S/4HANA plan data', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
    stack.d365.seedDimensionValues(subsidiaryDimensionValues());
  });
  afterAll(() => stack?.stop());

  const sapTotal = (fiscalYear: number) =>
    fromMinor(
      stack.sap
        .planData(SAP_COMPANY_CODE, SAP_PLANNING_CATEGORY)
        .filter((e) => e.LedgerFiscalYear === String(fiscalYear))
        .reduce(
          (t, e) => t + toMinor(e.AmountInCompanyCodeCurrency.replace(/(\.\d{2})\d$/, '$1'), 'EUR'),
          0n,
        ),
      'EUR',
    );

  async function approved(
    fiscalYear: number,
    version: number,
    rows = subsidiaryBudgetRows('ACME-DE', fiscalYear),
  ) {
    const ref = { legalEntity: 'ACME-DE', fiscalYear, scenario: 'BUDGET' as const, version };
    stack.anaplan.putBudgetVersion({ ...ref, rows });
    const handle = await stack.startCycle(ref, { publication: { chunkSize: 10 } });
    await waitForStatus(handle, awaitingApproval);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    const total = fromMinor(
      rows.reduce((t, r) => t + toMinor(r.amount, 'EUR'), 0n),
      'EUR',
    );
    return { handle, total };
  }

  test("each version rewrites the periods it changes; reconciled from SAP's plan data; a reset writes nothing twice", async () => {
    const fiscalYear = await stack.newFiscalYear();
    const routed = await stack.db.transaction((tx) =>
      addRoute(tx, {
        legalEntity: 'ACME-DE',
        target: 'sap',
        company: SAP_COMPANY_CODE,
        postingModel: 'replace-scope',
        settings: { planningCategory: SAP_PLANNING_CATEGORY, fiscalYearVariant: 'K4' },
        validFrom: `${fiscalYear}-01-01`,
        replaces: [],
        by: 'test',
        reason: 'European operations plan in SAP S/4HANA',
        correlationId: `sap-route-${fiscalYear}`,
      }),
    );
    expect(routed.outcome).toBe('added');

    const first = await approved(fiscalYear, 1);
    const one = await first.handle.result();
    expect(one.status).toBe('completed');
    expect(one.reconciliation).toContainEqual(
      expect.objectContaining({ target: 'sap', exceptionCount: 0, targetTotal: first.total }),
    );
    expect(sapTotal(fiscalYear)).toBe(first.total);

    // Version 2 raises Berlin engineering's salaries from July: those six periods are written again.
    const rows = subsidiaryBudgetRows('ACME-DE', fiscalYear).map((r) =>
      r.dimensions.costCenter === 'CC-610' &&
      r.dimensions.account === '600100' &&
      r.period >= `${fiscalYear}-07`
        ? { ...r, amount: fromMinor((toMinor(r.amount, 'EUR') * 105n) / 100n, 'EUR') }
        : r,
    );
    const second = await approved(fiscalYear, 2, rows);
    const two = await second.handle.result();
    expect(two.status).toBe('completed');
    expect(two.reconciliation).toContainEqual(
      expect.objectContaining({ target: 'sap', exceptionCount: 0, targetTotal: second.total }),
    );
    expect(sapTotal(fiscalYear)).toBe(second.total);
    // Each period holds each combination once: the replace left no trace of version 1 in a changed period.
    const july = stack.sap
      .planData(SAP_COMPANY_CODE, SAP_PLANNING_CATEGORY)
      .filter((e) => e.FiscalYearPeriod === `007.${fiscalYear}`);
    expect(july).toHaveLength(3);

    const resets = await resetAtTasks(stack, second.handle, 4, async (replayed) => {
      expect(replayed.status).toBe('completed');
      expect(sapTotal(fiscalYear)).toBe(second.total);
    });
    expect(resets).toBeGreaterThan(1);
  }, 300_000);
});
