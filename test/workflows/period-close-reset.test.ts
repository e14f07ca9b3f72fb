import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { temporal } from '@temporalio/proto';
import { d365LedgerDimension } from '../../simulators/scenario/services-company';
import { decideRequestUpdate, decisionSignal } from '../../workflows/definitions';
import { type EntityCloseStatus, entityCloseStatusQuery } from '../../workflows/period-close-entity';
import type { PeriodCloseEntityInput, periodCloseEntity } from '../../workflows/period-close-entity';
import { awaitingApproval, planVersion, waitForStatus, workflowTaskPoints } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Support staff may reset an entity's close in Temporal UI at any workflow task, even after it locked the
 * period. Every step is keyed by entity, period and run: a reset run takes the sign-off already recorded and
 * ends closed again, with one lock, one sign-off, one reforecast and the actuals counted once.
 */
describe('a Temporal UI reset of an entity close never double-posts, double-locks or double-reforecasts', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  async function waitFor(id: string, until: (s: EntityCloseStatus) => boolean) {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const s = await stack.client.workflow
        .getHandle(id)
        .query(entityCloseStatusQuery)
        .catch(() => undefined);
      if (s && until(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${id} did not get there within 30 s`);
  }

  /** What the close left behind: its marks by action, the locks, the forecasts and the actuals. */
  async function footprint(month: string, correlationId: string) {
    const [marks, locks, forecasts, actuals, balance] = await Promise.all([
      stack.db.execute(sql`
        select action, count(*)::int as n from audit_log
         where stream = 'period-close:ACME-US' and correlation_id = ${correlationId}
         group by action order by action`),
      stack.db.execute(sql`
        select count(*)::int as n from audit_log
         where action = 'period.locked' and entity_id = ${`ACME-US:${month}`}`),
      stack.db.execute(sql`select count(*)::int as n from forecasts where as_of_period = ${month}`),
      stack.db.execute(sql`
        select count(*)::int as n, coalesce(sum(amount), 0)::numeric(20, 2)::text as total from actual_lines
         where legal_entity = 'ACME-US' and period = ${month}`),
      stack.db.execute(sql`
        select coalesce(sum(actual), 0)::numeric(20, 2)::text as actual from control_balances
         where legal_entity = 'ACME-US' and period = ${month}`),
    ]);
    const forecast = stack.anaplan
      .forecasts()
      .filter((f) => f.versionName.endsWith(`@${month}`))
      .map((f) => f.rows.length);
    return { marks, locks, forecasts, actuals, balance, forecast };
  }

  test('reset at every workflow task after the lock: closed again, nothing twice', async () => {
    const fy = await stack.newFiscalYear();
    const month = `${fy}-03`;
    const planned = planVersion(stack, fy, 1);
    const cycle = await stack.startCycle(planned.ref);
    await waitForStatus(cycle, awaitingApproval);
    await cycle.signal(
      decisionSignal,
      await stack.signed(cycle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    expect((await cycle.result()).status).toBe('completed');
    stack.d365.seedLedgerEntries([
      {
        DataArea: 'acus',
        JournalNumber: `RESET-${fy}`,
        Voucher: `RESET-${fy}-1`,
        AccountingDate: `${month}-20`,
        LedgerAccount: d365LedgerDimension('640500', 'CC-400', `${month}-20`),
        AccountingCurrencyAmount: '1234.56',
        TransactionCurrencyCode: 'USD',
      },
    ]);

    const workflowId = `period-close:${month}:ACME-US`;
    const input: PeriodCloseEntityInput = {
      month,
      legalEntity: 'ACME-US',
      fiscalPeriod: month,
      fiscalYear: fy,
      requestedBy: 'sam@acme.example',
      signOff: {
        controllers: ['dave@acme.example'],
        integrationAdmins: ['ian@acme.example'],
        escalateAfter: '1 minute',
        escalateTo: [],
        expireAfter: '1 minute',
      },
      correlationId: workflowId,
    };
    const handle = await stack.client.workflow.start<typeof periodCloseEntity>('periodCloseEntity', {
      workflowId,
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
    });
    await waitFor(workflowId, (s) => s.status === 'awaiting_sign_off');
    await handle.executeUpdate(decideRequestUpdate, {
      args: [
        await stack.signed(handle.workflowId, {
          decision: 'approve',
          principal: 'dave@acme.example',
          comment: 'March reviewed',
        }),
      ],
    });
    expect((await handle.result()).status).toBe('closed');
    const before = await footprint(month, workflowId);
    expect(before.marks).toEqual(
      expect.arrayContaining([
        { action: 'period.signed_off', n: 1 },
        { action: 'period.locked', n: 1 },
        { action: 'period.reforecast', n: 1 },
        { action: 'period.closed', n: 1 },
      ]),
    );
    expect([...before.forecasts]).toEqual([{ n: 1 }]);
    expect([...before.actuals]).toEqual([{ n: 1, total: '1234.56' }]);
    expect([...before.balance]).toEqual([{ actual: '1234.56' }]);
    expect(before.forecast).toHaveLength(1);

    let resets = 0;
    for (const point of await workflowTaskPoints(handle)) {
      const reset = await stack.client.workflowService
        .resetWorkflowExecution({
          namespace: stack.config.temporal.namespace,
          workflowExecution: { workflowId, runId: point.runId },
          workflowTaskFinishEventId: point.eventId,
          requestId: randomUUID(),
          reason: 'test: support staff reset',
          resetReapplyType: temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
        })
        .catch((err: Error) => {
          if (/must be at the boundary/.test(err.message)) return undefined;
          throw err;
        });
      if (!reset) continue;
      resets++;
      const result = (await stack.client.workflow
        .getHandle(workflowId, reset.runId!)
        .result()) as EntityCloseStatus;
      expect({ point: String(point.eventId), status: result.status }).toEqual({
        point: String(point.eventId),
        status: 'closed',
      });
      expect(result.signOff).toMatchObject({ decision: 'approve', principal: 'dave@acme.example' });
    }
    expect(resets).toBeGreaterThan(5);
    expect(await footprint(month, workflowId)).toEqual(before);
  }, 180_000);
});
