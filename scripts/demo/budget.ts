import { apiKeyOf } from '../../config';
import { budgetRows } from '../../simulators/scenario/services-company';
import { budgetKey } from '../../domain/revision';
import { type ApprovalChainState } from '../../domain/approval-chain';
import { call, config, cyclesOf, ENTITY, followCycle, must, putPlanningVersion, sleep, step } from './client';

export const KEY = { planner: 'dev-planner', approver: 'dev-approver' };
export const FISCAL_YEAR = 2027;

async function nextVersion(): Promise<number> {
  return Math.max(0, ...(await cyclesOf(ENTITY, FISCAL_YEAR)).map((c) => c.ref?.version ?? 0)) + 1;
}

/**
 * Publishes a version of the services company's budget in the planning simulator, as FP&A would: the periods
 * a close has locked keep what is in control there (the planning platform locks them too), whatever the new
 * plan says; only open periods change.
 */
export async function publishVersion(version: number, plan = budgetRows(FISCAL_YEAR, version)) {
  const closed = must(
    await call('GET', `/v1/legal-entities/${ENTITY}/budgets/${FISCAL_YEAR}/closed-periods`, KEY.planner),
    200,
  ).body as {
    closedPeriods: string[];
    lines: { dimensions: Record<string, string>; period: string; inControl: { amount: string } | null }[];
  };
  const held = new Map(closed.lines.map((l) => [budgetKey(l), l.inControl?.amount ?? '0.00']));
  const rows = plan
    .filter((r) => !closed.closedPeriods.includes(r.period) || held.has(budgetKey(r)))
    .map((r) => (held.has(budgetKey(r)) ? { ...r, amount: held.get(budgetKey(r))! } : r));
  for (const l of closed.lines)
    if (!rows.some((r) => budgetKey(r) === budgetKey(l)))
      rows.push({
        dimensions: l.dimensions,
        period: l.period,
        amount: held.get(budgetKey(l))!,
        currency: plan[0]?.currency ?? 'USD',
      });
  if (closed.closedPeriods.length)
    console.log(
      `  closed ${closed.closedPeriods.join(', ')}: kept as in control (${closed.lines.length} lines), the plan changes open periods only`,
    );
  await putPlanningVersion(
    { legalEntity: ENTITY, fiscalYear: FISCAL_YEAR, scenario: 'BUDGET', version },
    rows,
  );
  return rows;
}

/**
 * Publishes the next version in the planning platform and has alice (planner) start its cycle over the API:
 * the next number after the last one Temporal knows of, and past any the database already holds (a database
 * kept while .data/ was deleted); a 409 already_started means that number is taken.
 */
export async function publishAndStart(extra: Record<string, unknown> = {}) {
  let version = await nextVersion();
  for (;;) {
    step(
      `planning: the FP&A team publishes ${ENTITY} FY${FISCAL_YEAR} BUDGET v${version} in the planning platform`,
    );
    const rows = await publishVersion(version);
    console.log(`  ${rows.length} lines (department/account combinations × 12 periods)`);

    step('plan: alice (planner) starts the budget cycle over the API');
    const started = await call('POST', '/v1/budget-cycles', KEY.planner, {
      legalEntity: ENTITY,
      fiscalYear: FISCAL_YEAR,
      version,
      asOfPeriod: `${FISCAL_YEAR}-03`,
      ...extra,
    });
    if (started.status === 409 && started.body.error === 'already_started') {
      console.log(`  version ${version} already had a cycle; taking the next number`);
      version++;
      continue;
    }
    if (started.status !== 202)
      throw new Error(`start refused: ${started.status} ${JSON.stringify(started.body)}`);
    const cycleId = started.body.cycleId as string;
    console.log(`  202 Accepted → ${cycleId}`);
    console.log(`  Temporal UI: ${(started.body.links as { temporalUi: string }).temporalUi}`);
    return { version, cycleId, path: `/v1/budget-cycles/${encodeURIComponent(cycleId)}` };
  }
}

/** The budget cycle of the seed's services company, from the planning platform to the ERP and back. */
export async function budgetScenario(opts: { approveBySignal: boolean }) {
  const bySignal = opts.approveBySignal;
  const { cycleId, path } = await publishAndStart();

  let last = '';
  const watch = (until: (s: Record<string, unknown>) => boolean, what: string) =>
    followCycle(
      path,
      (s) => {
        const now = `${String(s.stage)} / ${String(s.status)}`;
        if (now !== last) console.log(`  stage: ${now}`);
        last = now;
        return until(s);
      },
      what,
    );
  const waiting = await watch((s) => s.status === 'awaiting_approval', `${cycleId} to await approval`);
  const total = waiting.total as { amount: string; currency: string };
  console.log(
    `  imported and validated: ${String(waiting.lineCount)} lines, total ${total.amount} ${total.currency}`,
  );

  step('authorize: alice tries to approve her own version');
  const own = await call('POST', `${path}/decision`, KEY.planner, { decision: 'approve' });
  console.log(`  ${own.status} ${String(own.body.error)}: ${String(own.body.message)}`);

  await walkApprovals(path, cycleId, bySignal);

  step('execute → reconcile → reforecast');
  const done = await watch((s) => s.status === 'completed', `${cycleId} to complete`);
  for (const p of done.publications as {
    target: string;
    status: string;
    chunkCount: number;
    documentNumbers: string[];
  }[]) {
    console.log(
      `  published to ${p.target}: ${p.status}, ${p.chunkCount} chunk(s)${p.documentNumbers?.length ? `, documents ${p.documentNumbers.join(', ')}` : ' (nothing differed from what it holds)'}`,
    );
  }
  const synced = done.actualsSynced as
    { inserted: number; duplicates: number; commitments: number } | undefined;
  if (synced)
    console.log(
      `  actuals ingested: ${synced.inserted} new, ${synced.duplicates} duplicates ignored; ${synced.commitments} open PO lines`,
    );

  step('reconciliation (approved version vs Dynamics 365, by period and account)');
  const rec = (await call('GET', `${path}/reconciliation`, KEY.planner)).body;
  for (const run of rec.runs as {
    target: string;
    sourceTotal: string;
    targetTotal: string;
    currency: string;
    matchedCount: number;
    exceptionCount: number;
    lines: { period: string; account: string; sourceAmount: string; targetAmount: string; status: string }[];
  }[]) {
    console.log(
      `  ${run.target}: source ${run.sourceTotal} ${run.currency} | target ${run.targetTotal} ${run.currency} | ${run.matchedCount} matched, ${run.exceptionCount} exceptions`,
    );
    console.log('    period     source (USD)      ERP (USD)   status');
    for (const l of run.lines.filter((x) => x.account === '600100').slice(0, 12)) {
      console.log(
        `    ${l.period}   ${l.sourceAmount.padStart(14)}  ${l.targetAmount.padStart(14)}   ${l.status}   (salaries 600100)`,
      );
    }
  }

  step('reforecast pushed back to the planning platform');
  const f = done.forecast as {
    versionName: string;
    total: { amount: string; currency: string };
    lineCount: number;
  };
  console.log(`  "${f.versionName}": ${f.lineCount} lines, total ${f.total.amount} ${f.total.currency}`);
  console.log(`\n✔ ${cycleId} is ${String(done.status)}`);
}

/** The dev API key of each principal (config DEV_API_KEYS), so the demo can act as each approver. */
export const keyOf = (principal: string) => apiKeyOf(config, principal);

/**
 * Authorize: the version walks its entity's approval policy. Stage by stage the demo shows who is awaited
 * and has each approve over the API as themselves (or prints the signals to send from Temporal UI), until
 * the chain is through.
 */
async function walkApprovals(path: string, cycleId: string, bySignal: boolean) {
  let shown = -1;
  for (;;) {
    const s = (await call('GET', path, KEY.planner)).body;
    if (!['awaiting_approval', 'escalated'].includes(String(s.status))) return;
    const chain = s.approval as ApprovalChainState | undefined;
    const stage = chain?.stages[chain.current];
    if (!chain || !stage) {
      await sleep(250);
      continue;
    }
    if (shown !== chain.current) {
      shown = chain.current;
      step(
        `authorize: stage ${chain.current + 1} of ${chain.stages.length} (policy revision ${chain.policyRevision ?? 'none: approvers roster'})`,
      );
      for (const l of stage)
        console.log(
          `  ${l.key}: ${l.required} of ${l.approvers.join(', ')}${l.reason ? ` (${l.reason})` : ''}`,
        );
      for (const skipped of chain.current === 0 ? chain.skipped : [])
        console.log(`  skipped: ${skipped.name} (${skipped.reason})`);
    }
    const open = stage.find((l) => l.status === 'open');
    if (!open) {
      await sleep(250);
      continue;
    }
    const principal = open.approvers.find((p) => !open.approvals.some((a) => a.principal === p))!;
    const key = keyOf(principal);
    if (!key) throw new Error(`no dev API key for ${principal}: add one to API_KEYS`);
    if (bySignal) {
      // The approver asks closeloop for a signed payload (valid for APPROVAL_TOKEN_TTL); an unsigned one is refused.
      const handed = await call('POST', `/v1/approvals/${encodeURIComponent(cycleId)}/signal-payload`, key, {
        decision: 'approve',
        comment: 'approved by signal',
      });
      if (handed.status !== 201)
        throw new Error(
          `no signal payload for ${principal}: ${handed.status} ${JSON.stringify(handed.body)}`,
        );
      console.log(
        `  as ${principal}, open the workflow in Temporal UI → Send a Signal → name "decision", input:\n` +
          `    ${JSON.stringify(handed.body.payload)}\n` +
          `  or run (npm run closeloop -- approvals payload '${cycleId}' --key ${key} prints the same):\n` +
          `    ${String(handed.body.command)}`,
      );
      const before = open.approvals.length;
      // Waits for the signal (a refused one shows under refusedSignals), or for the cycle to end otherwise.
      await followCycle(
        path,
        (s) => {
          const now = s.approval as ApprovalChainState | undefined;
          const level = now?.stages[chain.current]?.find((l) => l.key === open.key);
          return !level || level.approvals.length > before || now!.current !== chain.current;
        },
        `${principal}'s signal`,
      );
      continue;
    }
    const decided = await call('POST', `${path}/decision`, key, {
      decision: 'approve',
      comment: `${open.key}: within the FY27 envelope`,
    });
    if (decided.status !== 200)
      throw new Error(`approval refused: ${decided.status} ${JSON.stringify(decided.body)}`);
    console.log(`  ${principal} approves (${key}): 200 OK`);
  }
}
