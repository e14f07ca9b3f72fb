import { sql } from 'drizzle-orm';
import { findVersion } from '../../db/queries/budget-versions';
import { signDecisionToken } from '../../domain/decision-token';
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
         where entity_id = ${versionId} and action like 'approval.level_%' order by seq`)) as unknown as {
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
      await refusal(
        handle.executeUpdate(decideUpdate, {
          args: [await stack.signed(handle.workflowId, approve('carol@acme.example'))],
        }),
      ),
    ).toMatch(/DecisionRefused: carol@acme.example is not an approver at the open stage/);
    await handle.executeUpdate(decideUpdate, {
      args: [await stack.signed(handle.workflowId, approve('olivia@acme.example'))],
    });
    await handle.signal(decisionSignal, await stack.signed(handle.workflowId, approve('paul@acme.example')));
    await handle.signal(decisionSignal, await stack.signed(handle.workflowId, approve('alice@acme.example'))); // the submitter: refused
    // Signals answer no one: both are taken (paul's approval, alice's refusal) before the next decision.
    await waitForStatus(
      handle,
      (st) =>
        st.refusedSignals.length === 1 &&
        st.approval!.stages[0]!.some((l) => l.approvals.some((a) => a.principal === 'paul@acme.example')),
    );
    await handle.executeUpdate(decideUpdate, {
      args: [await stack.signed(handle.workflowId, approve('quinn@acme.example'))],
    });
    const owners = await handle.executeUpdate(decideUpdate, {
      args: [await stack.signed(handle.workflowId, approve('rachel@acme.example'))],
    });
    expect(owners.approval!.current).toBe(1);

    await handle.executeUpdate(decideUpdate, {
      args: [await stack.signed(handle.workflowId, approve('carol@acme.example'))],
    });
    expect(
      await refusal(
        handle.executeUpdate(decideUpdate, {
          args: [await stack.signed(handle.workflowId, approve('carol@acme.example'))],
        }),
      ),
    ).toMatch(/DecisionRefused: carol@acme.example already approved at this stage/);
    await handle.signal(decisionSignal, await stack.signed(handle.workflowId, approve('grace@acme.example')));
    await waitForStatus(handle, (s) => s.approval!.current === 2);
    await handle.executeUpdate(decideUpdate, {
      args: [
        await stack.signed(handle.workflowId, {
          ...approve('victor@acme.example'),
          comment: 'FY plan approved',
        }),
      ],
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
    await handle.executeUpdate(decideUpdate, {
      args: [await stack.signed(handle.workflowId, approve('olivia@acme.example'))],
    });
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, {
        decision: 'reject',
        principal: 'paul@acme.example',
        comment: 'CC-200 salaries are above headcount plan',
      }),
    );
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
    await handle.executeUpdate(decideUpdate, {
      args: [await stack.signed(handle.workflowId, approve('olivia@acme.example'))],
    });
    const done = await handle.result();
    expect(done.status).toBe('expired');
    expect(done.escalatedAt).toBeDefined();
    const [escalation] = (await stack.db.execute(sql`
      select details->'escalateTo' as "escalateTo" from audit_log
       where entity_id = ${done.versionId!} and action = 'budget_version.approval_escalated'`)) as unknown as {
      escalateTo: string[];
    }[];
    // Those still awaited, and the policy's escalation contact.
    expect(escalation!.escalateTo).toEqual([
      'paul@acme.example',
      'quinn@acme.example',
      'rachel@acme.example',
      'helen@acme.example',
    ]);
    expect((await handle.query(statusQuery)).approval!.current).toBe(0);
  }, 60_000);

  test('signals must carry proof: unsigned, forged, expired, replayed, wrong person or level are refused and audited', async () => {
    const fy = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fy, 1);
    const handle = await stack.startCycle(ref);
    await waitForStatus(handle, awaitingApproval);
    const id = handle.workflowId;
    const paul = approve('paul@acme.example');
    const sign = (
      c: { principal: string; stage: number },
      ttl = 600,
      key = stack.config.approvals.signingKey,
    ) => signDecisionToken(key, { ...c, workflowId: id, decision: 'approve' }, ttl).then((t) => t.token);

    const sent = [
      // Anyone with Temporal UI could type this: approving as the CFO without proof.
      approve('victor@acme.example'),
      {
        ...paul,
        token: await sign({ principal: 'paul@acme.example', stage: 0 }, 600, 'not-closeloop'.repeat(4)),
      },
      {
        ...paul,
        token: (
          await signDecisionToken(
            stack.config.approvals.signingKey,
            { principal: 'paul@acme.example', workflowId: id, stage: 0, decision: 'approve' },
            1,
            new Date(Date.now() - 60_000),
          )
        ).token,
      },
      // Olivia's token pasted with Paul's name.
      { ...paul, token: await sign({ principal: 'olivia@acme.example', stage: 0 }) },
      // A token for the FP&A stage while the owners' stage is open.
      { ...paul, token: await sign({ principal: 'paul@acme.example', stage: 1 }) },
    ];
    // The update path too: typed into Temporal UI without closeloop's token, or with someone else's.
    expect(
      await refusal(handle.executeUpdate(decideUpdate, { args: [approve('paul@acme.example')] })),
    ).toMatch(/^DecisionRefused: a decision must carry the token closeloop signs/);
    const olivias = await sign({ principal: 'olivia@acme.example', stage: 0 });
    expect(await refusal(handle.executeUpdate(decideUpdate, { args: [{ ...paul, token: olivias }] }))).toBe(
      'DecisionRefused: the token was signed for olivia@acme.example, not paul@acme.example',
    );
    // The unsigned update never entered history; the one with Olivia's token did, and is audited.
    await waitForStatus(handle, (st) => st.refusedSignals.length === 1);
    for (const [i, payload] of sent.entries()) {
      await handle.signal(decisionSignal, payload);
      await waitForStatus(handle, (st) => st.refusedSignals.length === i + 2);
    }
    // Paul's own token counts once; sent again (copied from the history, say) it is a replay.
    const good = await stack.signed(id, paul);
    await handle.signal(decisionSignal, good);
    await waitForStatus(handle, (st) => st.approval!.stages[0]!.some((l) => l.approvals.length > 0));
    await handle.signal(decisionSignal, good);
    const status = await waitForStatus(handle, (st) => st.refusedSignals.length === sent.length + 2);

    expect(status.refusedSignals.map((r) => r.reason.split(':')[0])).toEqual([
      'WrongPerson',
      'Unsigned',
      'Forged',
      'Expired',
      'WrongPerson',
      'WrongLevel',
      'Replayed',
    ]);
    expect(status.approval!.stages[0]!.flatMap((l) => l.approvals.map((a) => a.principal))).toEqual([
      'paul@acme.example',
    ]);
    // The status shows a refusal as the workflow takes it; its audit entry is written just after.
    const refusedInAudit = async () =>
      (await stack.db.execute(sql`
        select actor, details->>'reason' as reason from audit_log
         where entity_id = ${id} and action = 'budget_cycle.signal_refused' order by seq`)) as unknown as {
        actor: string;
        reason: string;
      }[];
    let audited = await refusedInAudit();
    for (let i = 0; audited.length < 7 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      audited = await refusedInAudit();
    }
    expect(audited.map((a) => `${a.actor} ${a.reason.split(':')[0]}`)).toEqual([
      'paul@acme.example WrongPerson',
      'victor@acme.example Unsigned',
      'paul@acme.example Forged',
      'paul@acme.example Expired',
      'paul@acme.example WrongPerson',
      'paul@acme.example WrongLevel',
      'paul@acme.example Replayed',
    ]);
    await handle.terminate('test done');
  }, 60_000);

  test('sent back for changes, fixed and resubmitted: the chain starts again for revision 2, the old decisions stay', async () => {
    const fy = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fy, 1);
    const r1 = await stack.startCycle(ref);
    await waitForStatus(r1, awaitingApproval);
    for (const owner of ['olivia', 'paul', 'quinn', 'rachel'])
      await r1.executeUpdate(decideUpdate, {
        args: [await stack.signed(r1.workflowId, approve(`${owner}@acme.example`))],
      });
    await r1.signal(
      decisionSignal,
      await stack.signed(r1.workflowId, {
        decision: 'send_back',
        principal: 'frank@acme.example',
        comment: 'Phase the CC-300 hires from Q2',
      }),
    );
    const first = await r1.result();
    expect(first.status).toBe('sent_back');
    expect(first.decision).toMatchObject({ decision: 'send_back', principal: 'frank@acme.example' });
    expect((await findVersion(stack.db, ref))?.status).toBe('sent_back');

    // Fixed in the planning platform and submitted again: a new revision walks the whole chain again.
    planVersion(stack, fy, 1);
    const r2 = await stack.startCycle(ref, { revision: 2 });
    const waiting = await waitForStatus(r2, awaitingApproval);
    expect(waiting.approval!.current).toBe(0);
    expect(waiting.approval!.stages.flat().every((l) => l.approvals.length === 0)).toBe(true);
    expect((await findVersion(stack.db, ref))?.status).toBe('awaiting_approval');
    await r2.executeUpdate(decideUpdate, {
      args: [await stack.signed(r2.workflowId, approve('olivia@acme.example'))],
    });
    expect((await audit(first.versionId!)).map((a) => `${a.action} ${a.actor}`)).toEqual([
      'approval.level_approved olivia@acme.example',
      'approval.level_approved paul@acme.example',
      'approval.level_approved quinn@acme.example',
      'approval.level_approved rachel@acme.example',
      'approval.level_sent_back frank@acme.example',
      'approval.level_approved olivia@acme.example',
    ]);
    await r2.terminate('test done');
  }, 60_000);
});
