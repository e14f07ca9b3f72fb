import {
  ORACLE_CONTROL_BUDGET,
  ORACLE_LEDGER_ID,
  budgetRows,
} from '../../simulators/scenario/services-company';
import { subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { parseBudgetCycleWorkflowId } from '../../domain/identity';
import { approveAsAwaited, call, config, must, pollUntil, putPlanningVersion, step } from './client';

const FISCAL_YEAR = 2028;
const GROUP = 'ACME-GROUP';
const ENTITIES = ['ACME-US', 'ACME-UK'] as const;
const KEY = { planner: 'dev-planner', admin: 'dev-admin' };
const oracleSim = `http://127.0.0.1:${config.simulators.oraclePort}`;

/** The next version number free for every entity of the group in the year. */
async function nextVersion(): Promise<number> {
  let last = 0;
  for (const entity of ENTITIES) {
    const list = must(
      await call(
        'GET',
        `/v1/budget-cycles?legalEntity=${entity}&fiscalYear=${FISCAL_YEAR}&limit=200`,
        KEY.planner,
      ),
      200,
    );
    for (const c of list.body.cycles as { cycleId: string }[])
      last = Math.max(last, parseBudgetCycleWorkflowId(c.cycleId)?.ref.version ?? 0);
  }
  return last + 1;
}

/**
 * The global manufacturer's group version over two ERPs: corporate finance keeps the US services company's
 * funds control in Oracle Fusion budgetary control (a route, as data) besides its books in Dynamics 365; the UK
 * subsidiary is on Dynamics 365 alone. One planning version of FY2028 covers both; closeloop fans it out into a
 * cycle per entity, each approved under its own policy, published where its routes say and reconciled.
 */
export async function groupScenario() {
  step(
    `routing: from ${FISCAL_YEAR}-01-01 ACME-US's budget also goes to corporate finance's Oracle control budget`,
  );
  const routed = must(
    await call('POST', '/v1/legal-entities/ACME-US/routes', KEY.admin, {
      target: 'oracle',
      company: String(ORACLE_LEDGER_ID),
      postingModel: 'control-budget',
      settings: { controlBudget: ORACLE_CONTROL_BUDGET },
      validFrom: `${FISCAL_YEAR}-01-01`,
      reason: 'corporate finance keeps funds control in Oracle Fusion budgetary control',
    }),
    201,
    200,
    409,
  );
  console.log(
    routed.status === 409
      ? `  ${String(routed.body.message)}`
      : `  ${String(routed.body.outcome)} (audited in routing:ACME-US)`,
  );
  const routes = must(
    await call('GET', `/v1/legal-entities/ACME-US/routes?on=${FISCAL_YEAR}-01-01`, KEY.admin),
    200,
  );
  for (const r of routes.body.routes as {
    target: string;
    company: string;
    postingModel: string;
    validFrom: string;
    validTo: string | null;
    inForce: boolean;
  }[])
    console.log(
      `  ${r.inForce ? '●' : '○'} ${r.target.padEnd(7)} ${r.company.padEnd(16)} ${r.postingModel.padEnd(15)} from ${r.validFrom}${r.validTo ? ` until ${r.validTo}` : ''}`,
    );

  let version = await nextVersion();
  let started;
  for (;;) {
    step(
      `planning: FP&A publishes FY${FISCAL_YEAR} BUDGET v${version} for ${ENTITIES.join(' and ')} in the planning platform`,
    );
    const ref = { fiscalYear: FISCAL_YEAR, scenario: 'BUDGET', version };
    await putPlanningVersion({ ...ref, legalEntity: 'ACME-US' }, budgetRows(FISCAL_YEAR, version));
    await putPlanningVersion(
      { ...ref, legalEntity: 'ACME-UK' },
      subsidiaryBudgetRows('ACME-UK', FISCAL_YEAR),
    );
    step(`plan: alice (planner) starts the group version: one cycle per entity under ${GROUP}`);
    started = must(
      await call('POST', '/v1/group-budget-cycles', KEY.planner, {
        group: GROUP,
        legalEntities: ENTITIES,
        fiscalYear: FISCAL_YEAR,
        version,
        asOfPeriod: `${FISCAL_YEAR - 1}-12`,
      }),
      202,
      409,
    );
    if (started.status === 202) break;
    console.log(`  v${version} is taken (${String(started.body.message)}): the next one`);
    version++;
  }
  const groupId = String(started.body.groupCycleId);
  const groupPath = `/v1/group-budget-cycles/${encodeURIComponent(groupId)}`;
  console.log(
    `  ${groupId}\n  Temporal UI: ${String((started.body.links as { temporalUi: string }).temporalUi)}`,
  );

  // The parent starts the entities' cycles: each answers once it has started.
  await pollUntil(
    async () => must(await call('GET', groupPath, KEY.planner), 200).body,
    (g) => (g.entities as { status?: string }[]).every((e) => e.status !== undefined),
    `${groupId}'s cycles to start`,
  );
  step('authorize: each entity walks its own approval policy');
  for (const cycleId of started.body.cycleIds as string[]) {
    console.log(`  ${cycleId}`);
    await approveAsAwaited(
      `/v1/budget-cycles/${encodeURIComponent(cycleId)}`,
      'completed',
      `group ${GROUP} v${version}`,
    );
  }

  step('execute, reconcile: the group version as the parent shows it');
  const group = await pollUntil(
    async () => must(await call('GET', groupPath, KEY.planner), 200).body,
    (g) => g.status === 'completed',
    `${groupId} to complete`,
  );
  for (const e of group.entities as {
    legalEntity: string;
    state: string;
    publications?: { target: string; status: string }[];
    reconciliation?: { target: string; targetTotal: string; currency: string; exceptionCount: number }[];
  }[]) {
    console.log(`  ${e.legalEntity}: ${e.state}`);
    for (const r of e.reconciliation ?? [])
      console.log(
        `    ${r.target.padEnd(7)} holds ${r.targetTotal} ${r.currency}, ${r.exceptionCount} reconciliation exceptions`,
      );
  }
  const balances = (await (await fetch(`${oracleSim}/__sim/control-budget-balances`)).json()) as {
    period: string;
  }[];
  const ofYear = balances.filter((b) => b.period.endsWith(`-${String(FISCAL_YEAR).slice(2)}`));
  console.log(
    `  Oracle's ${ORACLE_CONTROL_BUDGET} control budget: ${ofYear.length} balances for FY${FISCAL_YEAR} (simulator ${oracleSim})`,
  );
}
