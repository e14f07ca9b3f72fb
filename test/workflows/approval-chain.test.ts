import { sql } from 'drizzle-orm';
import { findVersion } from '../../db/queries/budget-versions';
import { decideUpdate, decisionSignal, statusQuery } from '../../workflows/definitions';
import { awaitingApproval, planVersion, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The services company's approval policy on the dev server: the version's cost-center owners approve in
 * parallel, then any 2 of the 3 FP&A approvers, then the CFO (a first budget is all new money). Decisions
 * come by update (the API) or by signal (Temporal UI); one that does not count at the open stage is
 * refused; a rejection anywhere ends the cycle; a stage nobody decides on is escalated, then expires.
 */
describe('budgetCycle: the approval chain of the entity policy', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ approvalPolicies: true });
  });
  afterAll(() => stack?.stop());

  const approve = (principal: string) => ({ decision: 'approve' as const, principal });
  /** A refused update answers with the refusal as its failure's cause (the validator's error). */
  const refusal = async (update: Promise<unknown>) => {
    try {
      await update;
      return 'accepted';
    } catch (err) {
      const cause = (err as { cause?: { type?: string; message: string } }).cause;
      return cause ? `${cause.type}: ${cause.message}` : String(err);
    }
  };
  const audit = async (versionId: string) => [
    ...((await stack.db.execute(sql`
        select action, actor, details->'levels' as levels from audit_log
         where entity_id = ${versionId} and action like 'approval.%' order by seq`)) as unknown as {
      action: string;
      actor: string;
      levels: string[];
    }[]),
  ];

  test('owners in parallel, then 2 of 3 FP&A, then the CFO; by update and by signal; refusals', async () => {
    const fy = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fy, 1);
    const handle = await stack.startCycle(ref);
    const waiting = await waitForStatus(handle, awaitingApproval);
    expect(waiting.approval!.stages.map((s) => s.map((l) => `${l.key}/${l.required}`))).toEqual([
      [
        'cost center owners:CC-100/1',
        'cost center owners:CC-200/1',
        'cost center owners:CC-300/1',
        'cost center owners:CC-400/1',
      ],
      ['FP&A/2'],
      ['CFO/1'],
    ]);

    // FP&A cannot decide before the owners: refused by the update's validator, nothing enters history.
    expect(
      await refusal(handle.executeUpdate(decideUpdate, { args: [approve('carol@acme.example')] })),
    ).toMatch(/DecisionRefused: carol@acme.example is not an approver at the open stage/);
    await handle.executeUpdate(decideUpdate, { args: [approve('olivia@acme.example')] });
    await handle.signal(decisionSignal, approve('paul@acme.example'));
    await handle.signal(decisionSignal, approve('alice@acme.example')); // the submitter: refused
    await handle.executeUpdate(decideUpdate, { args: [approve('quinn@acme.example')] });
    const owners = await handle.executeUpdate(decideUpdate, { args: [approve('rachel@acme.example')] });
    expect(owners.approval!.current).toBe(1);

    await handle.executeUpdate(decideUpdate, { args: [approve('carol@acme.example')] });
    expect(
      await refusal(handle.executeUpdate(decideUpdate, { args: [approve('carol@acme.example')] })),
    ).toMatch(/DecisionRefused: carol@acme.example already approved at this stage/);
    await handle.signal(decisionSignal, approve('grace@acme.example'));
    await waitForStatus(handle, (s) => s.approval!.current === 2);
    await handle.executeUpdate(decideUpdate, {
      args: [{ ...approve('victor@acme.example'), comment: 'FY plan approved' }],
    });

    const done = await handle.result();
    expect(done.status).toBe('completed');
    expect(done.decision).toMatchObject({ decision: 'approve', principal: 'victor@acme.example' });
    expect(done.approval!.stages.flat().every((l) => l.status === 'approved')).toBe(true);
    expect(done.refusedSignals).toEqual([
      expect.objectContaining({
        principal: 'alice@acme.example',
        reason: expect.stringMatching(/^SegregationOfDuties/),
      }),
    ]);
    expect((await audit(done.versionId!)).map((a) => a.actor)).toEqual([
      'olivia@acme.example',
      'paul@acme.example',
      'quinn@acme.example',
      'rachel@acme.example',
      'carol@acme.example',
      'grace@acme.example',
      'victor@acme.example',
    ]);
  }, 60_000);

  test('a rejection at the owners’ stage ends the cycle rejected, naming who and why', async () => {
    const fy = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fy, 1);
    const handle = await stack.startCycle(ref);
    await waitForStatus(handle, awaitingApproval);
    await handle.executeUpdate(decideUpdate, { args: [approve('olivia@acme.example')] });
    await handle.signal(decisionSignal, {
      decision: 'reject',
      principal: 'paul@acme.example',
      comment: 'CC-200 salaries are above headcount plan',
    });
    const done = await handle.result();
    expect(done.status).toBe('rejected');
    expect(done.decision).toMatchObject({ decision: 'reject', principal: 'paul@acme.example' });
    expect((await findVersion(stack.db, ref))?.status).toBe('rejected');
    expect((await audit(done.versionId!)).map((a) => `${a.action} ${a.actor} ${a.levels.join(',')}`)).toEqual(
      [
        'approval.level_approved olivia@acme.example cost center owners:CC-100',
        'approval.level_rejected paul@acme.example cost center owners:CC-200',
      ],
    );
  }, 60_000);

  test('a stage nobody decides on is escalated to those awaited, then expires', async () => {
    const fy = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fy, 1);
    const handle = await stack.startCycle(ref, {
      approvalTimeout: '1 second',
      escalationTimeout: '1 second',
    });
    await waitForStatus(handle, awaitingApproval);
    await handle.executeUpdate(decideUpdate, { args: [approve('olivia@acme.example')] });
    const done = await handle.result();
    expect(done.status).toBe('expired');
    expect(done.escalatedAt).toBeDefined();
    const [escalation] = (await stack.db.execute(sql`
      select details->'escalateTo' as "escalateTo" from audit_log
       where entity_id = ${done.versionId!} and action = 'budget_version.approval_escalated'`)) as unknown as {
      escalateTo: string[];
    }[];
    expect(escalation!.escalateTo).toEqual([
      'paul@acme.example',
      'quinn@acme.example',
      'rachel@acme.example',
    ]);
    expect((await handle.query(statusQuery)).approval!.current).toBe(0);
  }, 60_000);
});
