import { type erpSync } from '../../workflows/erp-sync';
import { decisionSignal } from '../../workflows/definitions';
import { subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { awaitingApproval, planVersion, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Anaplan has one data source file per import: two entities' forecasts pushed at the same moment (a group
 * close reforecasts every entity) must not overwrite each other's upload before its import runs. With the
 * import task slowed down, both deliveries run side by side; each forecast version lands whole.
 */
describe('forecast imports into one planning model, side by side', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  async function activate(legalEntity: 'ACME-US' | 'ACME-UK', fy: number) {
    if (legalEntity === 'ACME-US') planVersion(stack, fy, 1);
    else
      stack.anaplan.putBudgetVersion({
        legalEntity,
        fiscalYear: fy,
        scenario: 'BUDGET',
        version: 1,
        rows: subsidiaryBudgetRows(legalEntity, fy),
      });
    const handle = await stack.startCycle({ legalEntity, fiscalYear: fy, scenario: 'BUDGET', version: 1 });
    await waitForStatus(handle, awaitingApproval);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    expect((await handle.result()).status).toBe('completed');
  }

  test('two entities delivered at once: each forecast version is imported with its own rows', async () => {
    const fy = await stack.newFiscalYear();
    await activate('ACME-US', fy);
    await activate('ACME-UK', fy);
    // Each import task waits a second after its file was uploaded: time enough for the other upload.
    stack.anaplan.faults.inject({
      kind: 'latency',
      latencyMs: 1000,
      times: 2,
      method: 'POST',
      path: '/imports/',
    });
    const asOf = `${fy}-06`;
    const deliver = (legalEntity: string) =>
      stack.client.workflow.execute<typeof erpSync>('erpSync', {
        workflowId: `forecast-concurrency:${legalEntity}:${fy}`,
        taskQueue: stack.config.temporal.taskQueue,
        args: [{ legalEntity, fiscalYear: fy, fromErp: false, deliver: true, deliverAsOf: asOf }],
      });
    const [us, uk] = await Promise.all([deliver('ACME-US'), deliver('ACME-UK')]);
    expect(stack.anaplan.faults.fired.latency).toBe(2);
    const imported = (entity: string) =>
      stack.anaplan.forecasts().find((f) => f.versionName === `FC FY${fy} ${entity} from v1 @${asOf}`);
    const usLines = (us.years[0]!.delivered as { lineCount: number }).lineCount;
    const ukLines = (uk.years[0]!.delivered as { lineCount: number }).lineCount;
    expect(imported('ACME-US')?.rows).toHaveLength(usLines);
    expect(imported('ACME-UK')?.rows).toHaveLength(ukLines);
    expect(imported('ACME-UK')!.rows.every((r) => r.currency === 'GBP')).toBe(true);
  }, 120_000);
});
