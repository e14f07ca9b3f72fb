import { apiKeyOf } from '../../config';
import { sql } from 'drizzle-orm';
import { type ApprovalChainState, awaitedApprovers } from '../../domain/approval-chain';
import { planVersion } from '../harness/cycle';
import { apiClient, cyclePath, pollCycle } from '../harness/http';
import { closeloopCli, runTemporalCommand } from '../harness/cli';
import { startStack, type TestStack } from '../harness/stack';
import { decisionSignal } from '../../workflows/definitions';

interface InboxItem {
  cycleId: string;
  stage: { number: number; of: number };
  levels: { key: string; required: number; approvals: number }[];
  links: { review: string; decision: string };
}

/**
 * An approver's inbox and review on the real stack, under the services company's policy: each item is a
 * cycle whose open stage awaits the caller (nothing shows before its stage opens, or once they decided),
 * and its review shows the version beside the active budget, its largest changes and who decided so far.
 */
describe('approver inbox and review over the API', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, approvalPolicies: true, mail: true });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const keyOf = (principal: string) => apiKeyOf(stack.config, principal)!;
  const inbox = async (key: string) =>
    (await request('GET', '/v1/approvals?assignee=me', { key })).body.items as InboxItem[];
  const start = async (fy: number, version: number) => {
    planVersion(stack, fy, version);
    const started = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, version, asOfPeriod: `${fy}-03` },
    });
    expect(started.status).toBe(202);
    const cycleId = started.body.cycleId as string;
    await pollCycle(request, cycleId, (s) => s.status === 'awaiting_approval');
    return cycleId;
  };
  /**
   * Everyone awaited approves, stage by stage, until the chain is through: the first awaited, or whom
   * `choose` picks among them (a delegate, say).
   */
  async function approveAll(
    cycleId: string,
    choose: (awaited: string[], stage: number) => string = (awaited) => awaited[0]!,
  ) {
    for (;;) {
      const s = await pollCycle(request, cycleId, () => true);
      if (!['awaiting_approval', 'escalated'].includes(s.status)) return s;
      const awaited = awaitedApprovers(s.approval as ApprovalChainState);
      if (!awaited.length) {
        // through the chain: the cycle is recording the decision
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const decided = await request('POST', `${cyclePath(cycleId)}/decision`, {
        key: keyOf(choose(awaited, s.approval!.current)),
        body: { decision: 'approve' },
      });
      expect(decided.status).toBe(200);
    }
  }

  test('the inbox lists what awaits the caller at the open stage; the review shows the change', async () => {
    const fy = await stack.newFiscalYear();
    const v1 = await start(fy, 1);
    expect((await inbox('dev-olivia')).map((i) => i.cycleId)).toEqual([v1]);
    expect(await inbox('dev-approver')).toEqual([]); // FP&A's stage has not opened
    const done = await approveAll(v1);
    await pollCycle(request, v1, (s) => s.status === 'completed');
    expect(done.status).not.toBe('expired');

    const v2 = await start(fy, 2);
    const [item] = await inbox('dev-paul');
    expect(item).toMatchObject({
      cycleId: v2,
      stage: { number: 1, of: 2 },
      levels: [{ key: 'cost center owners:CC-200', required: 1, approvals: 0 }],
    });
    const review = await request('GET', item!.links.review, { key: 'dev-paul' });
    expect(review.status).toBe(200);
    // v2 raises Engineering's salaries by 2%: 120,000.00 a month, 12 periods.
    expect(review.body.largestChanges).toEqual([
      {
        dimensions: { account: '600100', costCenter: 'CC-200' },
        currency: 'USD',
        proposed: '1468800.00',
        active: '1440000.00',
        change: '28800.00',
        changePercent: '2.00',
      },
    ]);
    expect((review.body.lines as unknown[]).length).toBe(11);
    // The same review by cost center: Engineering carries the whole change, and the groups add up.
    const byCostCenter = await request('GET', `${item!.links.review}?groupBy=costCenter`, {
      key: 'dev-paul',
    });
    expect(byCostCenter.body.groupBy).toEqual(['costCenter']);
    const groups = byCostCenter.body.groups as { key: { costCenter: string }; change: string }[];
    expect(groups.find((g) => g.key.costCenter === 'CC-200')).toMatchObject({
      change: '28800.00',
      changePercent: expect.any(String),
    });
    expect(groups.filter((g) => g.key.costCenter !== 'CC-200').every((g) => g.change === '0.00')).toBe(true);
    expect(byCostCenter.body.totals).toEqual([
      expect.objectContaining({ currency: 'USD', change: '28800.00' }),
    ]);

    const decided = await request('POST', item!.links.decision, {
      key: 'dev-paul',
      body: { decision: 'approve' },
    });
    expect(decided.status).toBe(200);
    expect(await inbox('dev-paul')).toEqual([]);
    const after = await request('GET', item!.links.review, { key: 'dev-olivia' });
    expect(
      (after.body.approval as ApprovalChainState).stages[0]!.find(
        (l) => l.key === 'cost center owners:CC-200',
      )!.approvals,
    ).toEqual([expect.objectContaining({ principal: 'paul@acme.example' })]);

    // Another principal's inbox is a controller's to read.
    expect(
      (await request('GET', '/v1/approvals?assignee=olivia@acme.example', { key: 'dev-planner' })).status,
    ).toBe(403);
    const hers = await request('GET', '/v1/approvals?assignee=olivia@acme.example', {
      key: 'dev-controller',
    });
    expect((hers.body.items as InboxItem[]).map((i) => i.cycleId)).toEqual([v2]);
  }, 120_000);

  test('an approver away delegates: the delegate sees it, decides in their place, both are recorded', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const delegate = (key: string, to: string) =>
      request('POST', '/v1/approvals/delegations', {
        key,
        body: { delegate: to, from: today, to: later, reason: 'on leave' },
      });
    expect((await delegate('dev-paul', 'paul@acme.example')).status).toBe(400);
    expect((await delegate('dev-paul', 'grace@acme.example')).status).toBe(201);
    // The submitter cannot be made anyone's delegate on her own version.
    expect((await delegate('dev-olivia', 'alice@acme.example')).status).toBe(201);
    const fy = await stack.newFiscalYear();
    const cycleId = await start(fy, 1);

    const [item] = await inbox('dev-grace');
    expect(item).toMatchObject({
      cycleId,
      levels: [{ key: 'cost center owners:CC-200', onBehalfOf: 'paul@acme.example' }],
    });
    const own = await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-planner',
      body: { decision: 'approve' },
    });
    expect(own.status).toBe(403);
    expect(
      (
        await request('POST', `${cyclePath(cycleId)}/decision`, {
          key: 'dev-grace',
          body: { decision: 'approve' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await request('POST', `${cyclePath(cycleId)}/decision`, {
          key: 'dev-paul',
          body: { decision: 'approve' },
        })
      ).status,
    ).toBe(409);
    const s = await pollCycle(request, cycleId, () => true);
    expect(s.approval!.stages[0]!.find((l) => l.key === 'cost center owners:CC-200')!.approvals).toEqual([
      expect.objectContaining({ principal: 'grace@acme.example', onBehalfOf: 'paul@acme.example' }),
    ]);
    const [audit] = (await stack.db.execute(sql`
      select actor, details->>'onBehalfOf' as "onBehalfOf" from audit_log
       where entity_id = ${s.versionId!} and action = 'approval.level_approved'`)) as unknown as {
      actor: string;
      onBehalfOf: string;
    }[];
    expect(audit).toEqual({ actor: 'grace@acme.example', onBehalfOf: 'paul@acme.example' });
    const mine = await request('GET', '/v1/approvals/delegations', { key: 'dev-paul' });
    expect(mine.body.delegations).toEqual([
      expect.objectContaining({ principal: 'paul@acme.example', delegate: 'grace@acme.example' }),
    ]);
  }, 120_000);

  test('a delegate who gives the decisive approval is named with the approver in every record of the decision', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    // The CFO is away: carol approves the last stage for him.
    const delegation = await request('POST', '/v1/approvals/delegations', {
      key: 'dev-victor',
      body: { delegate: 'carol@acme.example', from: today, to: later, reason: 'on leave' },
    });
    expect(delegation.status).toBe(201);
    try {
      const fy = await stack.newFiscalYear();
      const cycleId = await start(fy, 1);
      await approveAll(cycleId, (awaited, stage) =>
        stage === 2 ? 'carol@acme.example' : awaited.find((p) => p !== 'carol@acme.example')!,
      );
      const s = await pollCycle(request, cycleId, (c) => c.status === 'completed');
      expect(s.decision).toMatchObject({
        decision: 'approve',
        principal: 'carol@acme.example',
        onBehalfOf: 'victor@acme.example',
      });
      const [audit] = (await stack.db.execute(sql`
        select actor, details->>'onBehalfOf' as "onBehalfOf" from audit_log
         where entity_id = ${s.versionId!} and action = 'budget_version.approved'`)) as unknown as {
        actor: string;
        onBehalfOf: string;
      }[];
      expect(audit).toEqual({ actor: 'carol@acme.example', onBehalfOf: 'victor@acme.example' });
      const [version] = (await stack.db.execute(sql`
        select decided_by as "decidedBy", decided_on_behalf_of as "onBehalfOf" from budget_versions
         where id = ${s.versionId!}`)) as unknown as { decidedBy: string; onBehalfOf: string }[];
      expect(version).toEqual({ decidedBy: 'carol@acme.example', onBehalfOf: 'victor@acme.example' });
    } finally {
      await request('DELETE', `/v1/approvals/delegations/${delegation.body.id as string}`, {
        key: 'dev-victor',
      });
    }
  }, 120_000);

  test('the CLI: inbox, review and approve as the approver of the API key', async () => {
    const cli = async (key: string, ...args: string[]) =>
      (await closeloopCli(stack, key, 'approvals', ...args)).stdout;
    const fy = await stack.newFiscalYear();
    const cycleId = await start(fy, 1);
    const inboxOut = await cli('dev-rachel', 'inbox');
    expect(inboxOut).toMatch(/^\d+ awaiting rachel@acme\.example/);
    expect(inboxOut).toContain(`${cycleId}  4940100.00 USD  stage 1/3  cost center owners:CC-400 (0/1)`);
    expect(await cli('dev-rachel', 'review', cycleId)).toContain('no active budget: every line is new');
    expect(await cli('dev-rachel', 'approve', cycleId, '--comment', 'G&A fine')).toContain(
      `${cycleId}: authorize / awaiting_approval`,
    );
    expect(await cli('dev-rachel', 'inbox')).not.toContain(cycleId);
    expect(await cli('dev-olivia', 'review', cycleId)).toMatch(
      /stage 1 \(open\): .*cost center owners:CC-400 approved by rachel@acme.example/,
    );
  }, 120_000);

  test('from Temporal UI or the temporal CLI: the payload closeloop signs for the approver counts once', async () => {
    const fy = await stack.newFiscalYear();
    const cycleId = await start(fy, 1);
    const payloadFor = (key: string, body: object = { decision: 'approve' }) =>
      request('POST', `/v1/approvals/${encodeURIComponent(cycleId)}/signal-payload`, { key, body });

    // Only someone the open stage awaits is handed a payload; rejecting needs a comment, as by the API.
    expect((await payloadFor('dev-frank')).body).toMatchObject({ error: 'not_awaited' });
    expect((await payloadFor('dev-quinn', { decision: 'reject' })).status).toBe(400);
    const handed = await payloadFor('dev-quinn');
    expect(handed.status).toBe(201);
    expect(handed.body).toMatchObject({
      workflowId: cycleId,
      signal: 'decision',
      stage: 1,
      payload: { decision: 'approve', principal: 'quinn@acme.example', token: expect.any(String) },
    });
    expect(Date.parse(handed.body.expiresAt as string) - Date.now()).toBeLessThanOrEqual(15 * 60_000);

    // The command it hands over, run with the Temporal CLI as an approver would paste it.
    const command = handed.body.command as string;
    expect(command).toMatch(/^temporal workflow signal --address \S+ --namespace \S+ --workflow-id '/);
    const run = () => runTemporalCommand(command);
    await run();
    let s = await pollCycle(request, cycleId, (st) =>
      st.approval!.stages[0]!.some((l) => l.approvals.some((a) => a.principal === 'quinn@acme.example')),
    );
    // The same payload again (copied from the workflow's history, say) is a replay: refused and audited.
    await run();
    s = await pollCycle(request, cycleId, (st) => st.refusedSignals.length === 1);
    expect(s.refusedSignals[0]).toMatchObject({ principal: 'quinn@acme.example', reason: /^Replayed/ });

    // The inbox hands each item's approval ready to paste, signed for the caller, and never for another's inbox.
    const mine = await request('GET', '/v1/approvals?assignee=me', { key: 'dev-rachel' });
    const item = (
      mine.body.items as (InboxItem & { approveBySignal: { payload: object; command: string } })[]
    ).find((i) => i.cycleId === cycleId)!;
    expect(item.approveBySignal.payload).toMatchObject({
      decision: 'approve',
      principal: 'rachel@acme.example',
    });
    expect(item.approveBySignal.command).toContain(`--workflow-id '${cycleId}' --name decision`);
    const viewed = await request('GET', '/v1/approvals?assignee=rachel@acme.example', {
      key: 'dev-controller',
    });
    expect((viewed.body.items as object[]).every((i) => !('approveBySignal' in i))).toBe(true);

    // The approvers' CLI hands the same payload, ready to paste into Temporal UI's Send a Signal.
    const out = (await closeloopCli(stack, 'dev-rachel', 'approvals', 'payload', cycleId)).stdout;
    expect(out).toContain('Paste into Temporal UI');
    const pasted = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as Record<string, string>;
    expect(pasted).toMatchObject({ decision: 'approve', principal: 'rachel@acme.example' });
    await stack.client.workflow.getHandle(cycleId).signal(decisionSignal, pasted as never);
    await pollCycle(request, cycleId, (st) =>
      st.approval!.stages[0]!.some((l) => l.approvals.some((a) => a.principal === 'rachel@acme.example')),
    );
    await stack.client.workflow.getHandle(cycleId).terminate('test done');
  }, 120_000);

  test('a delegation made while a version waits reaches its chain; a revoked one leaves it', async () => {
    const fy = await stack.newFiscalYear();
    const cycleId = await start(fy, 1);
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const delegate = async (key: string, to: string) =>
      (
        await request('POST', '/v1/approvals/delegations', {
          key,
          body: { delegate: to, from: today, to: later, reason: 'called away' },
        })
      ).body.id as string;
    const delegatesOf = async (costCenter: string) =>
      (await pollCycle(request, cycleId, () => true)).approval!.stages[0]!.find(
        (l) => l.key === `cost center owners:${costCenter}`,
      )!.delegates;

    // Quinn is called away after the version reached her: Frank decides for her from now on.
    await delegate('dev-quinn', 'frank@acme.example');
    await pollCycle(
      request,
      cycleId,
      (s) => !!s.approval!.stages[0]!.find((l) => l.key.endsWith('CC-300'))!.delegates,
    );
    expect(await delegatesOf('CC-300')).toEqual({ 'frank@acme.example': 'quinn@acme.example' });
    // …and is told so by mail (the stage's first request went out before the delegation).
    const toFrank = async () =>
      (await stack.mail!.messages())
        .filter((m) => m.to.includes('frank@acme.example') && m.subject.includes(`FY${fy}:`))
        .map((m) => m.subject.split(':')[0]);
    for (let i = 0; i < 40 && !(await toFrank()).length; i++) await new Promise((r) => setTimeout(r, 250));
    expect(await toFrank()).toEqual(['Approval delegated to you']);
    expect((await inbox('dev-frank')).map((i) => i.cycleId)).toContain(cycleId);
    const byFrank = await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-frank',
      body: { decision: 'approve', comment: 'for Quinn' },
    });
    expect(byFrank.status).toBe(200);

    // Rachel hands hers to Victor, then comes back and revokes it: Victor may no longer decide.
    const id = await delegate('dev-rachel', 'victor@acme.example');
    await pollCycle(
      request,
      cycleId,
      (s) => !!s.approval!.stages[0]!.find((l) => l.key.endsWith('CC-400'))!.delegates,
    );
    expect((await request('DELETE', `/v1/approvals/delegations/${id}`, { key: 'dev-rachel' })).status).toBe(
      200,
    );
    await pollCycle(
      request,
      cycleId,
      (s) => !s.approval!.stages[0]!.find((l) => l.key.endsWith('CC-400'))!.delegates,
    );
    const byVictor = await request('POST', `${cyclePath(cycleId)}/decision`, {
      key: 'dev-victor',
      body: { decision: 'approve' },
    });
    expect(byVictor.body).toMatchObject({ error: 'NotAnApprover' });
    const s = await pollCycle(request, cycleId, () => true);
    expect(s.approval!.stages[0]!.find((l) => l.key.endsWith('CC-300'))!.approvals).toEqual([
      expect.objectContaining({ principal: 'frank@acme.example', onBehalfOf: 'quinn@acme.example' }),
    ]);
    await stack.client.workflow.getHandle(cycleId).terminate('test done');
  }, 120_000);

  test('a delegation ends early when its approver revokes it (theirs only), audited', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const created = await request('POST', '/v1/approvals/delegations', {
      key: 'dev-rachel',
      body: { delegate: 'frank@acme.example', from: today, to: later, reason: 'conference' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const revoke = (key: string) => request('DELETE', `/v1/approvals/delegations/${id}`, { key });
    expect((await revoke('dev-frank')).status).toBe(404);
    expect((await revoke('dev-rachel')).body).toMatchObject({
      id,
      delegate: 'frank@acme.example',
      revoked: true,
    });
    expect((await revoke('dev-rachel')).status).toBe(404);
    const left = await request('GET', '/v1/approvals/delegations', { key: 'dev-rachel' });
    expect(left.body.delegations).toEqual([]);
    const audit = (await stack.db.execute(sql`
      select action, actor from audit_log where entity_id = ${id} order by seq`)) as unknown as {
      action: string;
      actor: string;
    }[];
    expect(audit).toEqual([
      { action: 'approval.delegated', actor: 'rachel@acme.example' },
      { action: 'approval.delegation_revoked', actor: 'rachel@acme.example' },
    ]);
  }, 60_000);
});
