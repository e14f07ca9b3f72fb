import { createServer, type Server } from 'node:http';
import { sql } from 'drizzle-orm';
import { notificationsOf } from '../../db/queries/approval-notifications';
import { decideUpdate } from '../../workflows/definitions';
import { awaitingApproval, planVersion, waitForStatus } from '../harness/cycle';
import { type SinkMail } from '../../scripts/lib/mail-sink';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Escalation that reaches people: the services company's chain with short windows, its mails read back
 * from the stack's mail sink (Mailpit, over its REST API) and its chat messages from a webhook receiver.
 */
describe('approval notifications: mail and chat', () => {
  let stack: TestStack;
  let webhook: Server;
  const chat: { text: string; kind: string; to: string[]; cycleId: string }[] = [];
  let webhookCalls = 0;

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        // The chat tool is down for the very first notice: its retry must not mail the approvers again.
        if (webhookCalls++ === 0) return void res.writeHead(503).end('busy');
        chat.push(JSON.parse(body) as (typeof chat)[number]);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    const { port } = webhook.address() as { port: number };
    stack = await startStack({
      approvalPolicies: true,
      mail: true,
      env: { NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/finance-approvals` },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await new Promise((r) => webhook?.close(r));
  });

  const mails = async (subject: string) =>
    (await stack.mail!.messages()).filter((m) => m.subject.includes(subject));
  const to = (m: SinkMail) => [...m.to].sort();
  const textOf = (m: SinkMail) => stack.mail!.text(m.id);

  test('asked, reminded, escalated to the contact, expired: each notice once, by mail and chat, audited', async () => {
    const fy = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fy, 1);
    const handle = await stack.startCycle(ref, {
      approvalTimeout: '3 seconds',
      escalationTimeout: '3 seconds',
      reminderInterval: '1 second',
    });
    await waitForStatus(handle, awaitingApproval);
    await handle.executeUpdate(decideUpdate, {
      args: [
        await stack.signed(handle.workflowId, { decision: 'approve', principal: 'olivia@acme.example' }),
      ],
    });
    const done = await handle.result();
    expect(done.status).toBe('expired');
    expect(done.notificationFailures).toBeUndefined();
    const version = `ACME-US:FY${fy}:BUDGET:v1`;

    // Once, though the webhook failed on the first attempt and the activity went round again.
    const [requested, ...more] = await mails(`Approval requested: ${version}`);
    expect(more).toEqual([]);
    expect(webhookCalls).toBe(chat.length + 1);
    expect(to(requested!)).toEqual([
      'olivia@acme.example',
      'paul@acme.example',
      'quinn@acme.example',
      'rachel@acme.example',
    ]);
    const body = await textOf(requested!);
    expect(body).toContain(`alice@acme.example submitted ${version}`);
    expect(body).toContain(`/v1/approvals/${encodeURIComponent(handle.workflowId)}/review`);
    expect(body).toContain(`approvals review ${handle.workflowId}`);

    // Olivia decided: reminders go to the owners still awaited; after the escalation, to the contact too.
    const awaited = ['paul@acme.example', 'quinn@acme.example', 'rachel@acme.example'];
    const [escalated, ...again] = await mails(`Escalated: ${version}`);
    expect(again).toEqual([]);
    expect(to(escalated!)).toEqual([...awaited, 'helen@acme.example'].sort());
    const reminders = await mails(`Reminder: ${version}`);
    const beforeEscalation = reminders.filter((m) => !to(m).includes('helen@acme.example'));
    const afterEscalation = reminders.filter((m) => to(m).includes('helen@acme.example'));
    expect(beforeEscalation.length).toBeGreaterThanOrEqual(1);
    expect(afterEscalation.length).toBeGreaterThanOrEqual(1);
    for (const m of beforeEscalation) expect(to(m)).toEqual(awaited);
    const [expired] = await mails(`Expired: ${version}`);
    expect(to(expired!)).toEqual(['alice@acme.example', ...awaited, 'helen@acme.example'].sort());

    // Chat got the same notices, in the order they happened.
    const kinds = chat.filter((c) => c.cycleId === handle.workflowId).map((c) => c.kind);
    expect(kinds[0]).toBe('approval_requested');
    expect(kinds.at(-1)).toBe('expired');
    expect(kinds.filter((k) => k === 'escalated')).toHaveLength(1);
    expect(kinds).toHaveLength(2 + reminders.length + 1);

    // The outbox holds each notice once, sent on both channels; the audit trail says who was told what.
    const outbox = await notificationsOf(stack.db, handle.workflowId);
    expect(outbox.map((n) => n.kind)).toEqual(kinds);
    expect(outbox.every((n) => n.sentAt && n.channels?.join() === 'mail,webhook')).toBe(true);
    const audited = (await stack.db.execute(sql`
      select action from audit_log where entity_id = ${done.versionId!} and action like 'approval.notified.%'
       order by seq`)) as unknown as { action: string }[];
    expect(audited.map((a) => a.action.replace('approval.notified.', ''))).toEqual(kinds);
  }, 60_000);

  test('the submitter hears of a send-back, with the approver’s comment', async () => {
    const fy = await stack.newFiscalYear();
    const { ref } = planVersion(stack, fy, 1);
    const handle = await stack.startCycle(ref);
    await waitForStatus(handle, awaitingApproval);
    await handle.executeUpdate(decideUpdate, {
      args: [
        await stack.signed(handle.workflowId, {
          decision: 'send_back',
          principal: 'quinn@acme.example',
          comment: 'CC-300 rent is last year’s',
        }),
      ],
    });
    expect((await handle.result()).status).toBe('sent_back');
    const [sentBack] = await mails(`Sent back for changes: ACME-US:FY${fy}:BUDGET:v1`);
    expect(to(sentBack!)).toEqual(['alice@acme.example']);
    expect(await textOf(sentBack!)).toContain('quinn@acme.example sent back');
    expect(await textOf(sentBack!)).toContain('CC-300 rent is last year’s');
  }, 60_000);
});
