import { WorkflowUpdateFailedError } from '@temporalio/client';
import { type ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { verifyAuditChain } from '../../db/queries/audit';
import { findVersion } from '../../db/queries/budget-versions';
import { auditLog, controlBalances, forecasts } from '../../db/schema';
import { decideUpdate, decisionSignal } from '../../workflows/definitions';
import { awaitingApproval, erpBudgetTotal, planVersion, sumAmounts, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

describe('budget cycle workflow', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('a version approved by signal is published once, activated, reconciled and reforecast', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { ref, total } = planVersion(stack, fiscalYear, 1);
    const handle = await stack.startCycle(ref, { chunkSize: 25 });
    const waiting = await waitForStatus(handle, awaitingApproval);
    expect(waiting).toMatchObject({
      stage: 'authorize',
      lineCount: 132,
      total: { amount: total, currency: 'USD' },
    });

    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, {
        decision: 'approve',
        principal: 'carol@acme.example',
        comment: 'ok',
      }),
    );
    const result = await handle.result();

    expect(result.status).toBe('completed');
    expect(result.decision).toMatchObject({ decision: 'approve', principal: 'carol@acme.example' });
    expect(result.publications).toEqual([
      expect.objectContaining({ target: 'd365', status: 'published', chunkCount: 6 }),
    ]);
    expect(new Set(result.publications[0]!.documentNumbers).size).toBe(6);
    expect(result.reconciliation).toEqual([
      expect.objectContaining({
        target: 'd365',
        sourceTotal: total,
        targetTotal: total,
        mismatchedCount: 0,
        exceptionCount: 0,
      }),
    ]);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe(total);

    const version = await findVersion(stack.db, ref);
    expect(version?.status).toBe('active');
    const balances = await stack.db
      .select()
      .from(controlBalances)
      .where(eq(controlBalances.versionId, version!.id));
    expect(sumAmounts(balances.map((b) => b.budget))).toBe(total);
    expect(result.forecast?.lineCount).toBe(132);
    expect(result.history.map((h) => h.stage)).toEqual([
      'plan',
      'authorize',
      'execute',
      'reconcile',
      'reforecast',
      'done',
    ]);
    expect(await verifyAuditChain(stack.db)).toMatchObject({ ok: true });
  });

  test('forecast rows the planning model ignores are kept with their reasons, and the cycle says it failed', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fiscalYear, 1);
    // The modeller has not added account 610200 to the model's list yet.
    stack.anaplan.setAccountList(['600100', '620300', '630400', '640500', '650600']);
    try {
      const handle = await stack.startCycle(ref, { chunkSize: 50 });
      await waitForStatus(handle, awaitingApproval);
      await handle.signal(
        decisionSignal,
        await stack.signed(handle.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
      );
      const failure = await handle.result().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const causes: string[] = [];
      for (let e: unknown = failure; e instanceof Error; e = e.cause) causes.push(e.message);
      expect(causes.join(' / ')).toMatch(/anaplan ignored \d+ and refused 0 of \d+ forecast rows/);
      const version = await findVersion(stack.db, ref);
      const [forecast] = await stack.db.select().from(forecasts).where(eq(forecasts.versionId, version!.id));
      expect(forecast?.status).toBe('incomplete');
      const [kept] = await stack.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, version!.id), eq(auditLog.action, 'forecast.import_incomplete')));
      const issues = (
        kept!.details as { issues: { severity: string; message: string; row: { Account: string } }[] }
      ).issues;
      expect(issues.length).toBeGreaterThan(0);
      expect(issues.every((i) => i.severity === 'warning' && i.row.Account === '610200')).toBe(true);
      expect(issues[0]!.message).toMatch(/item not found: 610200/);
    } finally {
      stack.anaplan.setAccountList(undefined);
    }
  });

  test('the submitter and an integration admin cannot approve; their update is refused and their signal ignored', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fiscalYear, 1);
    const handle = await stack.startCycle(ref, {}, 'alice@acme.example');
    await waitForStatus(handle, awaitingApproval);

    for (const principal of ['alice@acme.example', 'ian@acme.example']) {
      const refused = await handle
        .executeUpdate(decideUpdate, {
          args: [await stack.signed(handle.workflowId, { decision: 'approve', principal })],
        })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (refused as WorkflowUpdateFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('DecisionRefused');
      expect(cause.details?.[0]).toEqual({ code: 'SegregationOfDuties' });
    }
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'alice@acme.example' }),
    );
    await waitForStatus(handle, (s) => s.refusedSignals.length === 1);
    await handle.signal(decisionSignal, { decision: 'maybe', principal: 'carol@acme.example' } as never);
    const status = await waitForStatus(handle, (s) => s.refusedSignals.length === 2);
    expect(status.status).toBe('awaiting_approval');
    expect(status.refusedSignals[0]!.reason).toMatch(/SegregationOfDuties/);
    expect(status.refusedSignals[1]!.reason).toMatch(/decision/);

    const rejected = await handle.executeUpdate(decideUpdate, {
      args: [
        await stack.signed(handle.workflowId, {
          decision: 'reject',
          principal: 'carol@acme.example',
          comment: 'Travel is too high',
        }),
      ],
    });
    expect(rejected.decision).toMatchObject({ decision: 'reject', comment: 'Travel is too high' });
    // The cycle ends at rejection; whether the second decision meets the validator or a closed workflow, it is refused.
    const again = await handle
      .executeUpdate(decideUpdate, {
        args: [
          await stack.signed(handle.workflowId, { decision: 'approve', principal: 'dave@acme.example' }),
        ],
      })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Error);

    const result = await handle.result();
    expect(result.status).toBe('rejected');
    expect(result.publications).toEqual([]);
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe('0.00');
    expect((await findVersion(stack.db, ref))?.status).toBe('rejected');
  });

  test('an invalid version lists every offending line and never reaches approval or the ERP', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const { ref, rows } = planVersion(stack, fiscalYear, 7);
    rows[0] = { ...rows[0]!, amount: '1,250.00' };
    rows[8] = { ...rows[8]!, dimensions: { ...rows[8]!.dimensions, account: '699900' } }; // retired since July 2026; this row is September
    rows[2] = { ...rows[2]!, period: `${fiscalYear + 40}-01` };
    rows[3] = { ...rows[3]!, dimensions: { ...rows[3]!.dimensions, costCenter: 'CC-900' } };
    stack.anaplan.putBudgetVersion({ ...ref, rows });
    const handle = await stack.startCycle(ref);
    const result = await handle.result();
    expect(result).toMatchObject({ stage: 'plan', status: 'invalid', issueCount: 4 });
    expect(result.issues?.map((i) => [i.lineNo, i.code])).toEqual([
      [1, 'not_decimal'],
      [3, 'period_outside_calendar'],
      [4, 'inactive_value'],
      [9, 'inactive_value'],
    ]);
    expect((await findVersion(stack.db, ref))?.status).toBe('invalid');
    expect(await erpBudgetTotal(stack, fiscalYear)).toBe('0.00');
  });

  test('an unanswered approval escalates, then expires', async () => {
    const { ref } = planVersion(stack, await stack.newFiscalYear(), 8);
    const handle = await stack.startCycle(ref, {
      approvalTimeout: '1 second',
      escalationTimeout: '1 second',
    });
    const result = await handle.result();
    expect(result.status).toBe('expired');
    expect(result.escalatedAt).toBeDefined();
    expect(result.history.map((h) => h.status)).toEqual([
      'importing',
      'awaiting_approval',
      'escalated',
      'expired',
    ]);
    expect((await findVersion(stack.db, ref))?.status).toBe('expired');
  });
});
