import { parseBudgetCycleWorkflowId } from '../../domain/identity';
import {
  ORACLE_CONTROL_BUDGET,
  ORACLE_LEDGER_ID,
  budgetRows,
} from '../../simulators/scenario/services-company';
import { subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { CORPORATE_LEDGER, corporateBudgetRows } from '../../simulators/scenario/corporate';
import { SAP_COMPANY_CODE, SAP_PLANNING_CATEGORY, europeBudgetRows } from '../../simulators/scenario/europe';
import { acquiredBudgetRows } from '../../simulators/scenario/acquired';
import { fromMinor, toMinor } from '../../domain/money';
import { Client } from '@temporalio/client';
import { connectClient } from '../../config/temporal-connection';
import {
  approveAsAwaited,
  call,
  config,
  cyclesOf,
  followCycle,
  must,
  pollUntil,
  putPlanningVersion,
  step,
} from './client';

const FISCAL_YEAR = 2028;
const GROUP = 'ACME-GROUP';
const ENTITIES = ['ACME-US', 'ACME-UK', 'ACME-DE', 'ACME-CORP', 'ACME-NL', 'ACME-NW'] as const;
/** The entities whose books are in Oracle Fusion, SAP S/4HANA and NetSuite. */
const BOOKS = [
  {
    entity: 'ACME-CORP',
    erp: 'Oracle Fusion',
    ledger: `ledger "${CORPORATE_LEDGER.name}"`,
    costCenter: 'CC-810',
  },
  { entity: 'ACME-NL', erp: 'SAP S/4HANA', ledger: 'company code 1710', costCenter: 'CC-930' },
  { entity: 'ACME-NW', erp: 'NetSuite', ledger: 'subsidiary 7', costCenter: 'CC-910' },
] as const;
const KEY = { planner: 'dev-planner', admin: 'dev-admin' };
const oracleSim = `http://127.0.0.1:${config.simulators.oraclePort}`;

/** The next version number free for every entity of the group in the year. */
async function nextVersion(): Promise<number> {
  let last = 0;
  for (const entity of ENTITIES)
    for (const c of await cyclesOf(entity, FISCAL_YEAR)) last = Math.max(last, c.ref?.version ?? 0);
  return last + 1;
}

/**
 * The global manufacturer's group version over four ERPs: corporate finance keeps its own books in Oracle
 * Fusion (ACME-CORP: its budget loaded as GL budget balances) and the US services company's funds control is in
 * Oracle budgetary control (a route, as data) besides its books in Dynamics 365; European operations keep their
 * books in SAP S/4HANA (ACME-NL: its budget written as plan data of its company code, as the German company's
 * also is, by a route); the acquired Northwind kept its NetSuite account (ACME-NW: its budget as NetSuite budget
 * lines, its year from April); the UK subsidiary is on Dynamics 365 alone. One planning version of FY2028 covers
 * all six; closeloop fans it out into a cycle per entity, each approved under its own policy, published where its
 * routes say and reconciled, and the actuals and open orders of each ERP come back into budget control and the
 * forecast.
 */
export async function groupScenario() {
  step(
    `routing: from ${FISCAL_YEAR}-01-01 ACME-US's budget also goes to corporate finance's Oracle control budget, ACME-DE's to SAP S/4HANA plan data`,
  );
  for (const [entity, route] of [
    [
      'ACME-US',
      {
        target: 'oracle',
        company: String(ORACLE_LEDGER_ID),
        postingModel: 'control-budget',
        settings: { controlBudget: ORACLE_CONTROL_BUDGET },
        reason: 'corporate finance keeps funds control in Oracle Fusion budgetary control',
      },
    ],
    [
      'ACME-DE',
      {
        target: 'sap',
        company: SAP_COMPANY_CODE,
        postingModel: 'replace-scope',
        settings: { planningCategory: SAP_PLANNING_CATEGORY, fiscalYearVariant: 'K4' },
        reason: 'European operations plan in SAP S/4HANA',
      },
    ],
  ] as const) {
    const routed = must(
      await call('POST', `/v1/legal-entities/${entity}/routes`, KEY.admin, {
        ...route,
        validFrom: `${FISCAL_YEAR}-01-01`,
      }),
      201,
      200,
      409,
    );
    console.log(
      routed.status === 409
        ? `  ${String(routed.body.message)}`
        : `  ${entity}: ${String(routed.body.outcome)} (audited in routing:${entity})`,
    );
  }
  for (const entity of ['ACME-US', 'ACME-DE', 'ACME-CORP', 'ACME-NL', 'ACME-NW']) {
    console.log(`  ${entity}:`);
    const routes = must(
      await call('GET', `/v1/legal-entities/${entity}/routes?on=${FISCAL_YEAR}-01-01`, KEY.admin),
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
        `    ${r.inForce ? '●' : '○'} ${r.target.padEnd(7)} ${r.company.padEnd(16)} ${r.postingModel.padEnd(15)} from ${r.validFrom}${r.validTo ? ` until ${r.validTo}` : ''}`,
      );
  }

  const first = await startGroup('independent');
  step('authorize: each entity walks its own approval policy');
  for (const cycleId of first.cycleIds) {
    console.log(`  ${cycleId}`);
    await approveAsAwaited(cyclePath(cycleId), 'completed', `group ${GROUP} v${first.version}`);
  }
  step('execute, reconcile: the group version as the parent shows it');
  await showGroup(first, (g) => g.status === 'completed');
  const balances = (await (await fetch(`${oracleSim}/__sim/control-budget-balances`)).json()) as {
    period: string;
  }[];
  const ofYear = balances.filter((b) => b.period.endsWith(`-${String(FISCAL_YEAR).slice(2)}`));
  console.log(
    `  Oracle's ${ORACLE_CONTROL_BUDGET} control budget: ${ofYear.length} balances for FY${FISCAL_YEAR} (simulator ${oracleSim})`,
  );

  step(
    'actuals: each ERP is read (posted journals, open purchase orders) into budget control, and the figures go to the planning platform (POST /v1/erp-syncs)',
  );
  for (const b of BOOKS) {
    const synced = must(
      await call('POST', '/v1/erp-syncs', 'dev-scheduler', {
        legalEntity: b.entity,
        fiscalYear: FISCAL_YEAR,
        deliverAsOf: `${FISCAL_YEAR}-03`,
        wait: true,
      }),
      200,
    ).body as {
      workflowId: string;
      years: {
        actuals: { inserted: number; duplicates: number; exceptions: number };
        commitments: { lines: number; changed: number };
        delivered: { versionName?: string; lineCount?: number; skipped?: string };
      }[];
    };
    const fy = synced.years[0]!;
    // The cycles' completion read the books once already: a sync now counts only what is new since.
    console.log(
      `  ${synced.workflowId} (${b.erp}, ${b.ledger}): ${fy.actuals.inserted} new lines (${fy.actuals.duplicates} already counted, ${fy.actuals.exceptions} kept as exceptions), ${fy.commitments.lines} open order lines`,
    );
    const balance = must(
      await call(
        'GET',
        `/v1/budget-control/balances?legalEntity=${b.entity}&account=600100&costCenter=${b.costCenter}&period=${FISCAL_YEAR}-01`,
        'dev-controller',
      ),
      200,
    ).body as Record<string, { amount: string; currency: string }>;
    const figure = (k: string) => `${k} ${balance[k]!.amount}`;
    console.log(
      `    budget control, salaries of ${b.costCenter} in the first quarter (${balance.budget!.currency}): ${['budget', 'actual', 'committed', 'available'].map(figure).join(', ')}`,
    );
    console.log(
      fy.delivered.skipped
        ? `    planning: ${fy.delivered.skipped}`
        : `    planning: forecast "${fy.delivered.versionName}" updated in Anaplan (${fy.delivered.lineCount} lines)`,
    );
  }
  const kept = must(
    await call('GET', '/v1/source-exceptions?legalEntity=ACME-NW&stream=actuals&status=open', KEY.admin),
    200,
  ).body as { exceptions: { recordKey: string; errorMessage: string }[] };
  for (const e of kept.exceptions)
    console.log(`  kept for support, not dropped: ${e.recordKey}: ${e.errorMessage}`);

  // ── All or nothing ──────────────────────────────────────────────────────────────────────────────────
  step(
    "all or nothing: the next version must land everywhere; Oracle's integration user has lost its budget entry role",
  );
  await oracleAdmin('POST', '/__sim/faults', {
    kind: 'status',
    status: 403,
    method: 'POST',
    path: 'budgetaryControlBudgetTransactions',
    times: 1000,
    body: 'The user closeloop is not authorized to create budget entries.',
  });
  const second = await startGroup('all-or-nothing');
  const [usCycle, ...others] = second.cycleIds as [string, ...string[]];
  const waits: Record<string, string> = {
    'ACME-UK': 'ACME-UK is published in Dynamics 365 and waits for the rest of the group (awaiting_group)',
    'ACME-DE': "ACME-DE's plan data is written in SAP beside its Dynamics 365 entries; it waits too",
    'ACME-CORP': "ACME-CORP's GL budget balances are loaded in Oracle; it waits too",
    'ACME-NL': "ACME-NL's plan data is written in SAP; it waits too",
    'ACME-NW': "ACME-NW's budget lines are set in NetSuite; it waits too",
  };
  const entityOf = (cycleId: string) => parseBudgetCycleWorkflowId(cycleId)!.ref.legalEntity;
  for (const cycleId of others) {
    console.log(`  ${cycleId}`);
    await approveAsAwaited(cyclePath(cycleId), 'awaiting_group', `group ${GROUP} v${second.version}`);
    console.log(`  ${waits[entityOf(cycleId)]}`);
  }
  console.log(`  ${usCycle}`);
  const failed = await approveAsAwaited(
    cyclePath(usCycle),
    'publication_failed',
    `group ${GROUP} v${second.version}`,
  );
  for (const p of failed.publications as { target: string; status: string; error?: string }[])
    if (p.error) console.log(`  ACME-US ${p.target}: ${p.error}`);
  const undone: Record<string, string> = {
    'ACME-UK': 'its Dynamics 365 postings reversed',
    'ACME-DE': 'its SAP plan periods written back to what they held, its Dynamics 365 entries reversed',
    'ACME-CORP': 'its GL budget balances loaded back to what they held before',
    'ACME-NL': 'its SAP plan periods written back to what they held',
    'ACME-NW': 'its NetSuite budget lines set back to what they held',
  };
  for (const cycleId of others) {
    const entity = entityOf(cycleId);
    const stood = await followCycle(
      cyclePath(cycleId),
      (s) => s.status === 'stood_down',
      `${entity} to stand down`,
    );
    console.log(`  ${entity} stood down, ${undone[entity]}: ${String(stood.outcomeReason)}`);
  }

  step('support: the role is granted back in Oracle, and sam sends retry-publication to the US cycle');
  await oracleAdmin('DELETE', '/__sim/faults');
  const connection = await connectClient(config.temporal);
  try {
    await new Client({ connection, namespace: config.temporal.namespace.toString() }).workflow
      .getHandle(usCycle)
      .signal('retry-publication', {
        principal: 'sam@acme.example',
        reason: 'budget entry role granted back in Oracle',
      });
  } finally {
    await connection.close();
  }
  step('the group publishes again and lands everywhere, each ERP holding each budget once');
  await showGroup(second, (g) => g.status === 'completed');
}

/** ACME-DE's plan of a version: each later version raises Berlin engineering's salaries by 1%. */
const berlinRows = (version: number) =>
  subsidiaryBudgetRows('ACME-DE', FISCAL_YEAR).map((r) =>
    r.dimensions.costCenter === 'CC-610' && r.dimensions.account === '600100'
      ? { ...r, amount: fromMinor((toMinor(r.amount, 'EUR') * BigInt(100 + version - 1)) / 100n, 'EUR') }
      : r,
  );

type Started = { groupId: string; groupPath: string; cycleIds: string[]; version: number };
const cyclePath = (cycleId: string) => `/v1/budget-cycles/${encodeURIComponent(cycleId)}`;

async function oracleAdmin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${oracleSim}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`Oracle simulator refused ${path}: ${res.status} ${await res.text()}`);
}

/** Publishes the group's next version in the planning platform and starts it; a number taken moves on. */
async function startGroup(policy: 'independent' | 'all-or-nothing'): Promise<Started> {
  for (let version = await nextVersion(); ; version++) {
    step(
      `planning: FP&A publishes FY${FISCAL_YEAR} BUDGET v${version} for ${ENTITIES.join(', ')} in the planning platform`,
    );
    const ref = { fiscalYear: FISCAL_YEAR, scenario: 'BUDGET', version };
    await putPlanningVersion({ ...ref, legalEntity: 'ACME-US' }, budgetRows(FISCAL_YEAR, version));
    await putPlanningVersion(
      { ...ref, legalEntity: 'ACME-UK' },
      subsidiaryBudgetRows('ACME-UK', FISCAL_YEAR),
    );
    await putPlanningVersion({ ...ref, legalEntity: 'ACME-DE' }, berlinRows(version));
    await putPlanningVersion({ ...ref, legalEntity: 'ACME-CORP' }, corporateBudgetRows(FISCAL_YEAR, version));
    await putPlanningVersion({ ...ref, legalEntity: 'ACME-NL' }, europeBudgetRows(FISCAL_YEAR, version));
    await putPlanningVersion({ ...ref, legalEntity: 'ACME-NW' }, acquiredBudgetRows(FISCAL_YEAR, version));
    step(`plan: alice (planner) starts the group version (${policy}): one cycle per entity under ${GROUP}`);
    const started = must(
      await call('POST', '/v1/group-budget-cycles', KEY.planner, {
        group: GROUP,
        legalEntities: ENTITIES,
        fiscalYear: FISCAL_YEAR,
        version,
        policy,
        asOfPeriod: `${FISCAL_YEAR - 1}-12`,
      }),
      202,
      409,
    );
    if (started.status === 409) {
      console.log(`  v${version} is taken (${String(started.body.message)}): the next one`);
      continue;
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
    return { groupId, groupPath, cycleIds: started.body.cycleIds as string[], version };
  }
}

/** Waits for the group version to get where `done` says, then shows each entity as the parent does. */
async function showGroup(g: Started, done: (body: Record<string, unknown>) => boolean) {
  const group = await pollUntil(
    async () => must(await call('GET', g.groupPath, KEY.planner), 200).body,
    done,
    `${g.groupId} to complete`,
  );
  for (const e of group.entities as {
    legalEntity: string;
    state: string;
    reconciliation?: { target: string; targetTotal: string; currency: string; exceptionCount: number }[];
  }[]) {
    console.log(`  ${e.legalEntity}: ${e.state}`);
    for (const r of e.reconciliation ?? [])
      console.log(
        `    ${r.target.padEnd(7)} holds ${r.targetTotal} ${r.currency}, ${r.exceptionCount} reconciliation exceptions`,
      );
  }
}
