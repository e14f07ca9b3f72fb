import { sql } from 'drizzle-orm';
import { apiClient } from '../harness/http';
import { seedBudget, usdLine as line } from '../harness/budget-control';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The long-running acts of budget control, over HTTP on the real stack with a worker: an override of a
 * rejected request waits for a controller, a transfer waits for an approver; neither may be decided by
 * whoever asked, and what they change shows in the balances (and, for a transfer, in Dynamics 365).
 */
describe('budget control: overrides and transfers', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, d365: { budgetBalanceUpdateMs: 0 } });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const budget = (account: string, costCenter: string, period: string, amount: string) =>
    seedBudget(stack.db, account, costCenter, period, amount);
  const balance = async (account: string, costCenter: string, period: string) =>
    (
      await request(
        'GET',
        `/v1/budget-control/balances?legalEntity=ACME-US&account=${account}&costCenter=${costCenter}&period=${period}`,
        { key: 'dev-controller' },
      )
    ).body as {
      budget: { amount: string };
      transferred: { amount: string };
      reserved: { amount: string };
      available: { amount: string };
      behind: {
        reservations: { idempotencyKey: string; override: { approvedBy: string; reason: string } | null }[];
        transfers: { id: string; direction: string; status: string }[];
      };
    };
  const controlAudit = async (entityId: string) =>
    (await stack.db.execute(sql`
      select action, actor from audit_log where entity_id = ${entityId} order by seq`)) as unknown as {
      action: string;
      actor: string;
    }[];
  async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await read();
      if (done(v) || Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('a controller approves a rejected request over budget; the funds are held and the balance shows who and why', async () => {
    const fy = await stack.newFiscalYear();
    await budget('600100', 'CC-200', `${fy}-01`, '1000.00');
    const lines = [line('600100', 'CC-200', `${fy}-01`, '1500.00')];
    const rejected = await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `big-${fy}` },
      body: { legalEntity: 'ACME-US', lines },
    });
    expect(rejected.body).toMatchObject({ outcome: 'rejected', reserved: false });

    const ask = () =>
      request('POST', '/v1/budget-control/overrides', {
        key: 'dev-procurement',
        headers: { 'idempotency-key': `big-${fy}` },
        body: { legalEntity: 'ACME-US', lines, reason: 'conference booked before the budget cut' },
      });
    // Without a reason, or with other lines than were decided, nothing is asked.
    const noReason = await request('POST', '/v1/budget-control/overrides', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `big-${fy}` },
      body: { legalEntity: 'ACME-US', lines },
    });
    expect(noReason).toMatchObject({ status: 400, body: { error: 'validation_failed' } });
    const otherLines = await request('POST', '/v1/budget-control/overrides', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `big-${fy}` },
      body: {
        legalEntity: 'ACME-US',
        lines: [line('600100', 'CC-200', `${fy}-01`, '1.00')],
        reason: 'x y z',
      },
    });
    expect(otherLines).toMatchObject({ status: 409, body: { error: 'content_differs' } });

    const asked = await ask();
    expect(asked).toMatchObject({
      status: 202,
      body: { status: 'pending', approvers: ['dave@acme.example'] },
    });
    const id = asked.body.id as string;
    // Asking again (a retried webhook) is the same override.
    expect(await ask()).toMatchObject({ status: 200, body: { id } });
    // A requester cannot decide; the controller can.
    expect(
      await request('POST', `/v1/budget-control/overrides/${id}/decision`, {
        key: 'dev-procurement',
        body: { decision: 'approve' },
      }),
    ).toMatchObject({ status: 403 });
    const decided = await request('POST', `/v1/budget-control/overrides/${id}/decision`, {
      key: 'dev-controller',
      body: { decision: 'approve', comment: 'one-off, CFO informed' },
    });
    expect(decided).toMatchObject({
      status: 200,
      body: { status: 'approved', decidedBy: 'dave@acme.example' },
    });

    const b = await balance('600100', 'CC-200', `${fy}-01`);
    expect(b).toMatchObject({ reserved: { amount: '1500.00' }, available: { amount: '-500.00' } });
    expect(b.behind.reservations).toEqual([
      expect.objectContaining({
        idempotencyKey: `big-${fy}`,
        override: expect.objectContaining({
          approvedBy: 'dave@acme.example',
          reason: 'conference booked before the budget cut',
        }),
      }),
    ]);
    // The reservation's own key now answers as overridden-and-held; a second decision is refused.
    const replay = await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `big-${fy}` },
      body: { legalEntity: 'ACME-US', lines },
    });
    expect(replay).toMatchObject({
      status: 201,
      body: {
        reserved: true,
        override: { approvedBy: 'dave@acme.example', reason: 'conference booked before the budget cut' },
      },
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(
      await request('POST', `/v1/budget-control/overrides/${id}/decision`, {
        key: 'dev-controller',
        body: { decision: 'reject', comment: 'changed my mind' },
      }),
    ).toMatchObject({ status: 409 });
    expect((await controlAudit(id)).map((a) => a.action)).toEqual(
      expect.arrayContaining(['override.requested', 'override.decision_refused', 'override.approved']),
    );
    // Approved over budget: the held funds release like any reservation's.
    const released = await request('POST', `/v1/budget-control/reservations/big-${fy}/release`, {
      key: 'dev-procurement',
      body: { legalEntity: 'ACME-US' },
    });
    expect(released.status).toBe(200);
    expect((await balance('600100', 'CC-200', `${fy}-01`)).reserved.amount).toBe('0.00');
  });

  test('nobody approves their own override; a freeze is never overridden; an undecided override expires', async () => {
    const fy = await stack.newFiscalYear();
    await budget('600100', 'CC-300', `${fy}-02`, '10.00');
    const lines = [line('600100', 'CC-300', `${fy}-02`, '50.00')];
    await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-controller',
      headers: { 'idempotency-key': `own-${fy}` },
      body: { legalEntity: 'ACME-US', lines },
    });
    const asked = await request('POST', '/v1/budget-control/overrides', {
      key: 'dev-controller',
      headers: { 'idempotency-key': `own-${fy}` },
      body: { legalEntity: 'ACME-US', lines, reason: 'my own request', decisionTimeout: '2s' },
    });
    expect(asked).toMatchObject({ status: 202, body: { approvers: [] } });
    const own = await request('POST', `/v1/budget-control/overrides/${String(asked.body.id)}/decision`, {
      key: 'dev-controller',
      body: { decision: 'approve' },
    });
    expect(own).toMatchObject({ status: 403, body: { error: 'SegregationOfDuties' } });
    // Nobody else decided in time: expired, audited, nothing held.
    const ended = await until(
      () =>
        request('GET', `/v1/budget-control/overrides/${String(asked.body.id)}`, { key: 'dev-controller' }),
      (r) => (r.body.workflow as { execution: string }).execution === 'COMPLETED',
    );
    expect(ended.body).toMatchObject({
      status: 'expired',
      workflow: { execution: 'COMPLETED', status: 'expired' },
    });
    expect((await balance('600100', 'CC-300', `${fy}-02`)).reserved.amount).toBe('0.00');

    // A request rejected by a freeze is not for an override.
    const frozen = await request('POST', '/v1/budget-control/freezes', {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', costCenter: 'CC-300', reason: 'audit finding on CC-300' },
    });
    const small = [line('600100', 'CC-300', `${fy}-02`, '1.00')];
    await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `frozen-${fy}` },
      body: { legalEntity: 'ACME-US', lines: small },
    });
    expect(
      await request('POST', '/v1/budget-control/overrides', {
        key: 'dev-procurement',
        headers: { 'idempotency-key': `frozen-${fy}` },
        body: { legalEntity: 'ACME-US', lines: small, reason: 'urgent' },
      }),
    ).toMatchObject({ status: 409, body: { error: 'frozen' } });
    await request('POST', `/v1/budget-control/freezes/${String(frozen.body.id)}/unfreeze`, {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', reason: 'resolved' },
    });
  });

  test('a transfer is approved by someone other than its requester, moves the budget and reaches Dynamics 365 once', async () => {
    const fy = await stack.newFiscalYear();
    await budget('610200', 'CC-100', `${fy}-03`, '5000.00');
    await budget('610200', 'CC-200', `${fy}-03`, '1000.00');
    const body = {
      legalEntity: 'ACME-US',
      kind: 'transfer',
      from: { account: '610200', costCenter: 'CC-100', period: `${fy}-03` },
      to: { account: '610200', costCenter: 'CC-200', period: `${fy}-03` },
      amount: { amount: '2000.00', currency: 'USD' },
      reason: 'client travel moves to CC-200',
    };
    const ask = () =>
      request('POST', '/v1/budget-control/transfers', {
        key: 'dev-controller',
        headers: { 'idempotency-key': `move-${fy}` },
        body,
      });
    const asked = await ask();
    expect(asked).toMatchObject({ status: 202, body: { status: 'awaiting_approval' } });
    const id = asked.body.id as string;
    expect(await ask()).toMatchObject({ status: 200, body: { id } });
    // Approvers only: requesters may not even ask; the requester may not approve, by API or by signal.
    expect(
      await request('POST', '/v1/budget-control/transfers', {
        key: 'dev-procurement',
        headers: { 'idempotency-key': `move-${fy}` },
        body,
      }),
    ).toMatchObject({ status: 403 });
    expect(
      await request('POST', `/v1/budget-control/transfers/${id}/decision`, {
        key: 'dev-controller',
        body: { decision: 'approve' },
      }),
    ).toMatchObject({ status: 403, body: { error: 'SegregationOfDuties' } });
    await stack.client.workflow
      .getHandle(`budget-transfer:${id}`)
      .signal(
        'decision',
        await stack.signed(`budget-transfer:${id}`, { decision: 'approve', principal: 'dave@acme.example' }),
      );
    // The workflow writes a refused signal's audit entry by itself; wait for it so the approval comes after.
    await until(
      () => controlAudit(id),
      (rows) => rows.filter((a) => a.action === 'transfer.decision_refused').length === 2,
    );
    // Nothing moved before the approval.
    expect((await balance('610200', 'CC-200', `${fy}-03`)).budget.amount).toBe('1000.00');

    const approved = await request('POST', `/v1/budget-control/transfers/${id}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve', comment: 'agreed with both owners' },
    });
    expect(approved).toMatchObject({ status: 200, body: { decidedBy: 'carol@acme.example' } });
    const done = await until(
      () => request('GET', `/v1/budget-control/transfers/${id}`, { key: 'dev-controller' }),
      (r) =>
        r.body.status === 'published' && (r.body.workflow as { execution: string }).execution === 'COMPLETED',
    );
    expect(done.body).toMatchObject({ status: 'published', workflow: { execution: 'COMPLETED' } });

    const target = await balance('610200', 'CC-200', `${fy}-03`);
    expect(target).toMatchObject({ budget: { amount: '3000.00' }, transferred: { amount: '2000.00' } });
    expect(target.behind.transfers).toEqual([expect.objectContaining({ id, direction: 'in' })]);
    expect(await balance('610200', 'CC-100', `${fy}-03`)).toMatchObject({
      budget: { amount: '3000.00' },
      transferred: { amount: '-2000.00' },
    });
    // One budget register entry in Dynamics 365, under the transfer budget code, with both sides.
    const entries = stack.d365.budgetEntries().filter((e) => e.ReasonComment === `closeloop transfer:${id}`);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ BudgetCode: 'Transfer', Status: 'Completed' });
    expect(entries[0]!.lines.map((l) => String(l.TransactionCurrencyAmount)).sort()).toEqual([
      '-2000.00',
      '2000.00',
    ]);
    expect((await controlAudit(id)).map((a) => a.action)).toEqual([
      'transfer.requested',
      'transfer.decision_refused',
      'transfer.decision_refused',
      'transfer.applied',
      'transfer.published',
    ]);
  });

  test('a transfer the source can no longer fund is refused on approval and changes nothing', async () => {
    const fy = await stack.newFiscalYear();
    await budget('620300', 'CC-100', `${fy}-05`, '100.00');
    const asked = await request('POST', '/v1/budget-control/transfers', {
      key: 'dev-controller',
      headers: { 'idempotency-key': `short-${fy}` },
      body: {
        legalEntity: 'ACME-US',
        kind: 'transfer',
        from: { account: '620300', costCenter: 'CC-100', period: `${fy}-05` },
        to: { account: '620300', costCenter: 'CC-300', period: `${fy}-05` },
        amount: { amount: '100.01', currency: 'USD' },
        reason: 'more than there is',
      },
    });
    const id = asked.body.id as string;
    const decided = await request('POST', `/v1/budget-control/transfers/${id}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve' },
    });
    expect(decided.body).toMatchObject({ status: 'refused' });
    expect(String(decided.body.outcomeReason)).toMatch(/less than 100.01 USD available/);
    expect((await balance('620300', 'CC-100', `${fy}-05`)).budget.amount).toBe('100.00');
    expect(stack.d365.budgetEntries().filter((e) => e.ReasonComment === `closeloop transfer:${id}`)).toEqual(
      [],
    );

    // A supplement has no source; a transfer needs one; bad input names the fields and asks nothing.
    const bad = await request('POST', '/v1/budget-control/transfers', {
      key: 'dev-controller',
      headers: { 'idempotency-key': `bad-${fy}` },
      body: {
        legalEntity: 'ACME-US',
        kind: 'transfer',
        to: { account: '620300', costCenter: 'CC-300', period: `${fy}-05` },
        amount: { amount: '-5', currency: 'USD' },
        reason: 'r',
      },
    });
    expect(bad.status).toBe(400);
    expect((bad.body.issues as { field: string }[]).map((i) => i.field).sort()).toEqual([
      'amount',
      'from',
      'reason',
    ]);
  });
});
