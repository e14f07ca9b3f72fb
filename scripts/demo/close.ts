import { budgetCycleWorkflowId } from '../../domain/identity';
import { budgetScenario } from './budget';
import { api, call, ENTITY, followCycle, must, pollUntil, step } from './client';

/**
 * The group's March 2027 close, as its scheduler and controllers run it: the services company (USD), its UK
 * subsidiary (GBP, April–March: March is its period 12) and its German one (EUR). Each entity needs its
 * FY2027 budget in control first; then the close fans out, waits for a controller's sign-off per entity,
 * locks, reforecasts and reports; a locked period refuses a reservation; a controller reopens one entity
 * with a reason and its close is re-run on purpose.
 */

const KEY = {
  planner: 'dev-planner',
  approver: 'dev-approver',
  scheduler: 'dev-scheduler',
  controller: 'dev-controller',
  procurement: 'dev-procurement',
};
const MONTH = '2027-03';
const SUBSIDIARIES = [
  { code: 'ACME-UK', costCenter: 'CC-510', account: '600100', period: '2027-12' },
  { code: 'ACME-DE', costCenter: 'CC-610', account: '600100', period: '2027-03' },
];

async function budgetInControl(entity: string, account: string, costCenter: string, period: string) {
  const balance = must(
    await call(
      'GET',
      `/v1/budget-control/balances?legalEntity=${entity}&account=${account}&costCenter=${costCenter}&period=${period}`,
      KEY.controller,
    ),
    200,
  ).body as { budget: { amount: string } };
  return balance.budget.amount !== '0.00' && balance.budget.amount !== '0';
}

/** A subsidiary's FY2027 v1 (seeded in the planning simulator): started by the planner, approved by carol. */
async function approveSubsidiaryBudget(entity: string) {
  const started = await call('POST', '/v1/budget-cycles', KEY.planner, {
    legalEntity: entity,
    fiscalYear: 2027,
    version: 1,
    asOfPeriod: '2027-03',
  });
  const cycleId =
    started.status === 409
      ? budgetCycleWorkflowId({ legalEntity: entity, fiscalYear: 2027, scenario: 'BUDGET', version: 1 })
      : (must(started, 202).body.cycleId as string);
  const path = `/v1/budget-cycles/${encodeURIComponent(cycleId)}`;
  const waiting = await followCycle(
    path,
    (s) => ['awaiting_approval', 'completed'].includes(String(s.status)),
    `${cycleId} to await approval`,
  );
  if (waiting.status === 'awaiting_approval')
    must(await call('POST', `${path}/decision`, KEY.approver, { decision: 'approve' }), 200);
  const done = await followCycle(path, (s) => s.status === 'completed', `${cycleId} to complete`);
  const total = done.total as { amount: string; currency: string };
  console.log(`  ${cycleId}: ${String(done.status)}, ${total.amount} ${total.currency}`);
}

interface Progress {
  legalEntity: string;
  fiscalPeriod?: string;
  currency: string;
  state: string;
  workflowId?: string;
  workflow?: { status?: string; step?: string };
}

async function follow(until: (entities: Progress[], status: string) => boolean, what: string) {
  let last = '';
  const read = async () => must(await call('GET', `/v1/period-closes/${MONTH}`, KEY.scheduler), 200).body;
  return pollUntil(
    read,
    (body) => {
      const entities = body.entities as Progress[];
      const now = entities
        .map(
          (e) =>
            `${e.legalEntity} ${e.fiscalPeriod ?? '(no period ends this month)'}: ${e.workflow?.status ?? e.state}`,
        )
        .join(' | ');
      if (now !== last) console.log(`  ${now}`);
      last = now;
      return until(entities, String(body.status));
    },
    what,
    (body) => {
      // An entity that failed a step, was rejected or went unsigned will not get there without a person.
      const stuck = (body.entities as Progress[]).filter((e) =>
        ['step_failed', 'rejected', 'sign_off_expired'].includes(e.workflow?.status ?? ''),
      );
      return stuck.length
        ? stuck
            .map(
              (e) =>
                `${e.legalEntity} ${e.fiscalPeriod} is ${e.workflow!.status}${e.workflow?.step ? ` at ${e.workflow.step}` : ''} ` +
                `(support: npm run closeloop -- close retry ${MONTH} ${e.legalEntity}, or rerun it)`,
            )
            .join('; ')
        : undefined;
    },
  );
}

async function signOff(entity: string) {
  const signed = await call(
    'POST',
    `/v1/period-closes/${MONTH}/entities/${entity}/sign-off`,
    KEY.controller,
    {
      decision: 'approve',
      comment: `${entity} ${MONTH} reviewed`,
    },
  );
  console.log(
    `  dave signs off ${entity}: ${signed.status} ${String(signed.body.status ?? signed.body.error)}`,
  );
}

export async function closeScenario() {
  step('each entity needs its FY2027 budget in control');
  if (!(await budgetInControl(ENTITY, '600100', 'CC-100', '2027-03'))) {
    console.log(`  ${ENTITY}: none yet, running the budget scenario first`);
    await budgetScenario({ approveBySignal: false });
  } else console.log(`  ${ENTITY}: in control`);
  for (const s of SUBSIDIARIES) {
    if (await budgetInControl(s.code, s.account, s.costCenter, s.period))
      console.log(`  ${s.code}: in control`);
    else await approveSubsidiaryBudget(s.code);
  }

  step(`sam (scheduler) starts the close of ${MONTH} for every active entity`);
  console.log(`  the same from the CLI: npm run closeloop -- close start ${MONTH} --key dev-scheduler`);
  const started = await call('POST', '/v1/period-closes', KEY.scheduler, { period: MONTH });
  if (started.status === 409) {
    const now = must(await call('GET', `/v1/period-closes/${MONTH}`, KEY.scheduler), 200).body;
    console.log(
      now.status === 'completed'
        ? `  already done: the close of ${MONTH} was started before and is ${String(now.status)} (409 on a second start); showing where it stands`
        : `  409 ${String(started.body.message)}: following it`,
    );
  } else {
    must(started, 202);
    console.log(`  202 Accepted → ${String(started.body.workflowId)}`);
    console.log(`  Temporal UI: ${(started.body.links as { temporalUi: string }).temporalUi}`);
    const again = await call('POST', '/v1/period-closes', KEY.scheduler, { period: MONTH });
    console.log(`  a second start: ${again.status} ${String(again.body.error)}`);
  }
  console.log(`  Temporal UI lists each entity's close with: FiscalPeriod = "${MONTH}"`);

  step('the close fans out: cut-off, final sync, reconciliation, then each entity waits for its controller');
  const waiting = await follow(
    (es, status) =>
      status === 'completed' ||
      (status === 'running' &&
        es.length > 0 &&
        // A skipped entity has no period ending this month (the manufacturer's 4-4-5 calendar).
        es.every((e) =>
          ['awaiting_sign_off', 'escalated', 'closed', 'skipped'].includes(e.workflow?.status ?? e.state),
        )),
    'every entity to wait for its sign-off',
  );
  const toSign = (waiting.entities as Progress[]).filter((e) =>
    ['awaiting_sign_off', 'escalated'].includes(e.workflow?.status ?? ''),
  );
  if (toSign.length) {
    const refused = await call(
      'POST',
      `/v1/period-closes/${MONTH}/entities/${toSign[0]!.legalEntity}/sign-off`,
      KEY.scheduler,
      { decision: 'approve' },
    );
    console.log(`  sam tries to sign off: ${refused.status} ${String(refused.body.error)}`);
    for (const e of toSign) await signOff(e.legalEntity);
  }
  await follow((_es, status) => status === 'completed', 'the close to complete');

  step('locked: a reservation dated in the UK’s period 12 (March 2027) is refused');
  const refused = await call(
    'POST',
    '/v1/budget-control/reservations',
    KEY.procurement,
    {
      legalEntity: 'ACME-UK',
      lines: [
        {
          account: '610200',
          costCenter: 'CC-510',
          period: '2027-12',
          amount: { amount: '250.00', currency: 'GBP' },
        },
      ],
    },
    { 'idempotency-key': `demo-close-${Date.now()}` },
  );
  console.log(`  ${refused.status} ${String(refused.body.error)}: ${String(refused.body.message)}`);

  await printReport();

  step('a controller reopens ACME-DE 2027-03 for a late accrual; its close is re-run and signed off again');
  const reopened = await call('POST', `/v1/legal-entities/ACME-DE/periods/${MONTH}/reopen`, KEY.controller, {
    reason: 'late accrual for Berlin rent',
  });
  console.log(`  reopen: ${reopened.status} ${String(reopened.body.outcome ?? reopened.body.error)}`);
  must(
    await call('POST', `/v1/period-closes/${MONTH}/entities/ACME-DE/rerun`, KEY.scheduler, {
      reason: 'after the Berlin rent accrual',
    }),
    202,
  );
  await follow(
    (es) => es.find((e) => e.legalEntity === 'ACME-DE')?.workflow?.status === 'awaiting_sign_off',
    'the re-run to wait for its sign-off',
  );
  await signOff('ACME-DE');
  await follow(
    (es) => es.find((e) => e.legalEntity === 'ACME-DE')?.workflow?.status === 'closed',
    'the re-run to close',
  );
  const de = must(
    await call('GET', `/v1/legal-entities/ACME-DE/periods/${MONTH}/report`, KEY.controller),
    200,
  ).body as { lockHistory: { action: string; actor: string; reason: string | null }[] };
  for (const h of de.lockHistory)
    console.log(`  ${h.action.padEnd(22)} ${h.actor}${h.reason ? `: ${h.reason}` : ''}`);

  console.log(`\n✔ the close of ${MONTH} is done; the group report as a spreadsheet:`);
  console.log(
    `  curl -H 'x-api-key: dev-controller' '${api}/v1/period-closes/${MONTH}/report?format=csv' > close-${MONTH}.csv`,
  );
}

async function printReport() {
  step(`the close report of ${MONTH} (GET /v1/period-closes/${MONTH}/report)`);
  const report = must(await call('GET', `/v1/period-closes/${MONTH}/report`, KEY.controller), 200).body as {
    entities: {
      legalEntity: string;
      period: string;
      status: string;
      signedOff: { by: string; at: string } | null;
      totals: {
        currency: string;
        budget: string;
        committed: string;
        actual: string;
        variance: string;
        variancePercent: string | null;
      }[];
      reconciliationExceptions: unknown[];
      deadLetters: unknown[];
    }[];
  };
  console.log(
    '  entity    period   status  currency        budget     committed        actual      variance     %   signed off by',
  );
  for (const e of report.entities)
    for (const t of e.totals)
      console.log(
        `  ${e.legalEntity.padEnd(9)} ${e.period}  ${e.status.padEnd(6)}  ${t.currency.padEnd(8)} ${t.budget.padStart(13)} ${t.committed.padStart(13)} ${t.actual.padStart(13)} ${t.variance.padStart(13)} ${String(t.variancePercent ?? '').padStart(5)}   ${e.signedOff?.by ?? '-'}`,
      );
}
