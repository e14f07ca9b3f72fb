import { type ApprovalChainState, awaitedApprovers } from '../../domain/approval-chain';
import { budgetRows } from '../../simulators/scenario/services-company';
import { sinkMessages } from '../lib/mail-sink';
import { FISCAL_YEAR, KEY, keyOf, publishAndStart, publishVersion } from './budget';
import { call, config, ENTITY, followCycle, must, pollUntil, step } from './client';

/**
 * Approvals as the services company's approvers live them (npm run demo -- --scenario approvals): the owners
 * approve, FP&A sends the version back for changes, the planner fixes it and resubmits it as revision 2, and
 * this time nobody decides: the approvers are reminded, the stage is escalated to the finance director, and
 * the cycle expires. Every step's mail is read back from the local mail sink.
 */
export async function approvalsScenario() {
  const sink = `http://127.0.0.1:${config.notifications.mailSink.httpPort}`;
  const mailsOf = async (cycleVersion: string) =>
    (await sinkMessages(sink)).filter((m) => m.subject.includes(cycleVersion));
  const awaitedAt = async (path: string, stage: number) => {
    const s = await followCycle(
      path,
      (b) => {
        const chain = b.approval as ApprovalChainState | undefined;
        return chain?.current === stage && awaitedApprovers(chain).length > 0;
      },
      `stage ${stage + 1}`,
    );
    return awaitedApprovers(s.approval as ApprovalChainState);
  };

  const first = await publishAndStart();
  const version = `${ENTITY}:FY${FISCAL_YEAR}:BUDGET:v${first.version}`;
  step('authorize, stage 1: each cost center owner approves their lines');
  for (const owner of await awaitedAt(first.path, 0)) {
    must(await call('POST', `${first.path}/decision`, keyOf(owner), { decision: 'approve' }), 200);
    console.log(`  ${owner}: approved`);
  }
  step('authorize, stage 2: grace (FP&A) sends it back for changes');
  await awaitedAt(first.path, 1);
  const sentBack = must(
    await call('POST', `${first.path}/decision`, 'dev-grace', {
      decision: 'send_back',
      comment: 'Phase the CC-300 hires from Q2',
    }),
    200,
  ).body;
  console.log(`  ${first.cycleId}: ${String(sentBack.stage)} / ${String(sentBack.status)}`);

  step('planning: alice phases the CC-300 hires from Q2 and resubmits the version as revision 2');
  // (Months a close has locked keep what is in control: publishVersion leaves them as they are.)
  await publishVersion(
    first.version,
    budgetRows(FISCAL_YEAR, first.version).map((r) =>
      r.dimensions.costCenter === 'CC-300' && r.period < `${FISCAL_YEAR}-04` ? { ...r, amount: '0.00' } : r,
    ),
  );
  // Short windows so the reminders, the escalation and the expiry happen while you watch.
  const windows = {
    approvalTimeout: '20 seconds',
    escalationTimeout: '20 seconds',
    reminderInterval: '8 seconds',
  };
  // The first revision's cycle closes a moment after its status reads sent_back: until then a start is 409.
  const resubmit = () =>
    call('POST', '/v1/budget-cycles', KEY.planner, {
      legalEntity: ENTITY,
      fiscalYear: FISCAL_YEAR,
      version: first.version,
      revision: 2,
      asOfPeriod: `${FISCAL_YEAR}-03`,
      ...windows,
    });
  const resubmitted = must(
    await pollUntil(
      resubmit,
      (r) => !(r.status === 409 && r.body.error === 'cycle_open'),
      'the cycle to close',
    ),
    202,
  ).body;
  const r2 = resubmitted.cycleId as string;
  const r2Path = `/v1/budget-cycles/${encodeURIComponent(r2)}`;
  console.log(`  202 Accepted → ${r2} (the chain starts again from the owners)`);
  console.log(`  windows: ${JSON.stringify(windows)}`);

  step('authorize: nobody decides this time (reminders, escalation, expiry, by mail)');
  let shown = '';
  const done = await followCycle(
    r2Path,
    (s) => {
      const now = String(s.status);
      if (now !== shown) console.log(`  ${new Date().toISOString().slice(11, 19)}  ${r2}: ${now}`);
      shown = now;
      return ['expired', 'rejected', 'sent_back', 'completed'].includes(now);
    },
    'the cycle to expire',
  );
  console.log(
    `  ${String(done.status)}${done.escalatedAt ? `, escalated at ${String(done.escalatedAt)}` : ''}`,
  );

  step(`the mails in the mail sink (${sink})`);
  for (const m of await mailsOf(version)) console.log(`  to ${m.to.join(', ')}\n     ${m.subject}`);
  console.log(`\n✔ ${first.cycleId} sent back, ${r2} ${String(done.status)}: the audit trail holds both`);
  console.log(`  curl -H 'x-api-key: dev-controller' localhost:${config.api.port}${r2Path}/audit`);
}
