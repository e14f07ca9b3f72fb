import { apiKeyOf } from '../../config';
import { budgetRows } from '../../simulators/scenario/services-company';
import { type ApprovalChainState, awaitedApprovers } from '../../domain/approval-chain';
import { erpBudgetTotal, planVersion } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { closeloopCli, runTemporalCommand } from '../harness/cli';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The services company's approval chain end to end, the way its approvers use it: mails from the chain,
 * decisions over the API, with the approvers' CLI and with a signed payload sent by the Temporal CLI; FP&A
 * sends the first revision back, the planner fixes it in Anaplan and resubmits, and the second revision
 * walks the whole chain (CFO included) into Dynamics 365. What was decided on the first stays audited.
 */
describe('services company: the approval chain through the API and the CLI', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, approvalPolicies: true, mail: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const cli = async (key: string, ...args: string[]) =>
    (await closeloopCli(stack, key, 'approvals', ...args)).stdout;
  const keyOf = (principal: string) => apiKeyOf(stack.config, principal)!;
  /** The subjects of the mails the sink holds for an address, once one contains `expected` (within 20 s). */
  const mailsTo = async (address: string, expected: string) => {
    let subjects: string[] = [];
    for (let i = 0; i < 80 && !subjects.some((x) => x.includes(expected)); i++) {
      if (i) await new Promise((r) => setTimeout(r, 250));
      subjects = (await stack.mail!.messages()).filter((m) => m.to.includes(address)).map((m) => m.subject);
    }
    return subjects;
  };
  const awaitedAt = async (cycleId: string, stage: number) => {
    const s = await pollCycle(
      request,
      cycleId,
      (st) => st.approval?.current === stage && awaitedApprovers(st.approval).length > 0,
    );
    return awaitedApprovers(s.approval as ApprovalChainState);
  };
  const approveByApi = async (cycleId: string, principal: string) =>
    expect(
      (
        await request('POST', `${cyclePath(cycleId)}/decision`, {
          key: keyOf(principal),
          body: { decision: 'approve', comment: 'ok' },
        })
      ).status,
    ).toBe(200);

  test('owners, FP&A send-back, resubmission, owners, FP&A 2 of 3, CFO: published, all of it audited', async () => {
    const fy = await stack.newFiscalYear();
    planVersion(stack, fy, 1);
    const start = (revision?: number) =>
      request('POST', '/v1/budget-cycles', {
        key: 'dev-planner',
        body: { legalEntity: 'ACME-US', fiscalYear: fy, version: 1, asOfPeriod: `${fy}-03`, revision },
      });
    const first = await start();
    expect(first.status).toBe(202);
    const r1 = first.body.cycleId as string;

    // Stage 1: each cost center's owner, told by mail, decides their way.
    expect((await awaitedAt(r1, 0)).sort()).toEqual([
      'olivia@acme.example',
      'paul@acme.example',
      'quinn@acme.example',
      'rachel@acme.example',
    ]);
    const { total: r1Total } = await pollCycle(request, r1, () => true);
    expect(await mailsTo('olivia@acme.example', 'Approval requested')).toEqual([
      `Approval requested: ACME-US:FY${fy}:BUDGET:v1 (USD ${r1Total!.amount})`,
    ]);
    expect(await cli('dev-olivia', 'approve', r1, '--comment', 'CC-100 ok')).toContain('awaiting_approval');
    await approveByApi(r1, 'paul@acme.example');
    const payload = await cli('dev-quinn', 'payload', r1);
    const command = payload.split('\n').find((l) => l.startsWith('temporal workflow signal'))!;
    await runTemporalCommand(command);
    // A signal answers no one: quinn sees her approval in the cycle's status once its token is verified.
    await pollCycle(request, r1, (st) =>
      st.approval!.stages[0]!.some((l) => l.approvals.some((a) => a.principal === 'quinn@acme.example')),
    );
    await approveByApi(r1, 'rachel@acme.example');

    // Stage 2: FP&A (any 2 of carol, frank, grace); grace sends it back for changes from the CLI.
    expect((await awaitedAt(r1, 1)).sort()).toEqual([
      'carol@acme.example',
      'frank@acme.example',
      'grace@acme.example',
    ]);
    expect(await cli('dev-grace', 'send-back', r1, '--comment', 'Phase the CC-300 hires from Q2')).toContain(
      'authorize / sent_back',
    );
    const sentBack = await pollCycle(request, r1, (s) => s.status === 'sent_back');
    expect(sentBack.decision).toMatchObject({ decision: 'send_back', principal: 'grace@acme.example' });
    await stack.client.workflow.getHandle(r1).result();
    expect(await mailsTo('alice@acme.example', 'Sent back')).toEqual([
      `Sent back for changes: ACME-US:FY${fy}:BUDGET:v1 (USD ${r1Total!.amount})`,
    ]);

    // The planner phases the hires in Anaplan and submits revision 2: the chain starts again from the owners.
    const fixed = budgetRows(fy, 1).map((r) =>
      r.dimensions.costCenter === 'CC-300' && r.period < `${fy}-04` ? { ...r, amount: '0.00' } : r,
    );
    const { total } = planVersion(stack, fy, 1, fixed);
    const second = await start(2);
    expect(second.status).toBe(202);
    const r2 = second.body.cycleId as string;
    for (const owner of await awaitedAt(r2, 0)) await approveByApi(r2, owner);
    await approveByApi(r2, 'carol@acme.example');
    await approveByApi(r2, 'frank@acme.example');
    // Stage 3: a first budget is all new money, so the CFO approves too (from the CLI).
    expect(await awaitedAt(r2, 2)).toEqual(['victor@acme.example']);
    expect(await cli('dev-victor', 'inbox')).toContain(r2);
    await cli('dev-victor', 'approve', r2, '--comment', `FY${fy} plan approved`);
    const done = await pollCycle(request, r2, (s) => s.status === 'completed');
    expect(done.decision).toMatchObject({ decision: 'approve', principal: 'victor@acme.example' });
    expect(await erpBudgetTotal(stack, fy)).toBe(total);

    // The version's audit trail holds both revisions' decisions, in order, with the send-back's reason.
    const audit = await request('GET', `${cyclePath(r2)}/audit`, { key: 'dev-controller' });
    const levels = (audit.body.entries as { action: string; actor: string; details: { comment?: string } }[])
      .filter((e) => e.action.startsWith('approval.level_'))
      .map((e) => `${e.action.replace('approval.level_', '')} ${e.actor.split('@')[0]}`);
    expect(levels.slice(0, 5)).toEqual([
      'approved olivia',
      'approved paul',
      'approved quinn',
      'approved rachel',
      'sent_back grace',
    ]);
    expect(levels.slice(5, 9).sort()).toEqual([
      'approved olivia',
      'approved paul',
      'approved quinn',
      'approved rachel',
    ]);
    expect(levels.slice(9)).toEqual(['approved carol', 'approved frank', 'approved victor']);
  }, 240_000);
});
