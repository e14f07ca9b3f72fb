import { Client } from '@temporalio/client';
import { connectClient } from '../../config/temporal-connection';
import { fromMinor, toMinor } from '../../domain/money';
import { UK_ORACLE_LEDGER } from '../../simulators/scenario/seed';
import { subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { type ErpCutoverStatus } from '../../workflows/erp-cutover';
import { approveAsAwaited, call, config, cyclesOf, must, putPlanningVersion, step } from './client';

const ENTITY = 'ACME-UK';
const FISCAL_YEAR = 2028;
const CUTOVER_DAY = '2027-10-01';
const ROLLBACK_DAY = '2028-01-01';
const KEY = { planner: 'dev-planner', admin: 'dev-admin' };
const CUTOVERS = `/v1/legal-entities/${ENTITY}/cutovers`;

interface CutoverView {
  id: string;
  fromTarget: string;
  toTarget: string;
  cutoverDate: string;
  parallelUntil: string;
  status: string;
  rollbackDate: string | null;
  comparisons: {
    fiscalYear: number;
    differences: { period: string; old: string; new: string }[];
    totals: { currency: string; old: string; new: string; difference: string }[];
  }[];
}

/**
 * An ERP migration as the integration team runs it (docs/migration.md): the UK subsidiary moves from Dynamics 365
 * to a sterling ledger of its own in Oracle Fusion at October 2027 (its FY2028's period 7), with a parallel run of
 * two periods. The first attempt is refused because Oracle cannot map its cost centers; ian maps them and
 * schedules it again; Oracle receives the budget from October, the parallel run is compared line by line; a
 * version approved during the move goes to both; a rollback at January sends Dynamics 365 what it missed, once.
 * Run again, it shows where the move stands.
 */
export async function migrationScenario() {
  const existing = (must(await call('GET', CUTOVERS, KEY.admin), 200).body.cutovers as CutoverView[]).at(-1);
  if (existing) {
    step(`${ENTITY} has moved already: the cut-over as it stands (GET ${CUTOVERS}/${existing.id})`);
    show(existing);
    await showRoutes();
    return;
  }
  await budgetInControl('a budget in control for FY2028 before the move');

  step(
    `ian (integration admin) schedules ${ENTITY}'s move from Dynamics 365 to Oracle Fusion ledger "${UK_ORACLE_LEDGER.name}" at ${CUTOVER_DAY}, two periods in parallel`,
  );
  const body = {
    from: 'd365',
    to: {
      target: 'oracle',
      company: String(UK_ORACLE_LEDGER.id),
      postingModel: 'replace-scope',
      settings: { budgetName: UK_ORACLE_LEDGER.budgetName, ledgerName: UK_ORACLE_LEDGER.name },
    },
    cutoverDate: CUTOVER_DAY,
    parallelPeriods: 2,
    actualsDuringParallel: 'old',
    conversionSources: ['Migration'],
    reason: 'the UK moves to the group Oracle Fusion pod',
  };
  const refused = must(await call('POST', CUTOVERS, KEY.admin, body), 422, 201);
  if (refused.status === 422) {
    console.log(`  422 ${String(refused.body.error)}: ${String(refused.body.message)}`);
    step("ian maps the UK's cost centers to Oracle's cost center segment (PUT /v1/master-data/mappings)");
    for (const [code, value] of [
      ['CC-510', '1510'],
      ['CC-520', '1520'],
    ] as const) {
      const mapped = must(
        await call('PUT', '/v1/master-data/mappings', KEY.admin, {
          erpSystem: 'oracle',
          dimension: 'costCenter',
          canonicalCode: code,
          erpValue: value,
          validFrom: '2020-01-01',
        }),
        200,
      );
      console.log(`  ${code} → ${value}: ${String(mapped.body.outcome)}`);
    }
  }
  step('the cut-over is scheduled again: routes change together, and Oracle is sent what it now receives');
  const scheduled =
    refused.status === 201 ? refused : must(await call('POST', CUTOVERS, KEY.admin, body), 201, 200);
  const cutover = scheduled.body.cutover as CutoverView;
  console.log(
    `  ${String(scheduled.body.outcome)}: ${cutover.id}, parallel run until ${cutover.parallelUntil}\n  Temporal UI: ${String((scheduled.body.links as { temporalUi: string }).temporalUi)}`,
  );
  const cut = await finished(String(scheduled.body.workflowId));
  for (const p of cut.publications)
    console.log(
      `  FY${p.fiscalYear} published to ${p.target} (revision ${p.revision}), ${p.reconciliationExceptions ?? '?'} reconciliation exceptions`,
    );
  await showRoutes();
  step('the parallel run compared, line by line and in total (October and November in both ERPs)');
  show(must(await call('GET', `${CUTOVERS}/${cutover.id}`, KEY.admin), 200).body as unknown as CutoverView);

  await budgetInControl(
    'a version approved during the move: London salaries up 2% from January, sent where the routes say',
    102n,
  );

  step(`Oracle's close calendar is not ready: ian rolls the move back from ${ROLLBACK_DAY}`);
  const rollback = must(
    await call('POST', `${CUTOVERS}/${cutover.id}/rollback`, KEY.admin, {
      rollbackDate: ROLLBACK_DAY,
      reason: "Oracle's close calendar is not ready for the UK",
    }),
    200,
  );
  const back = await finished(String(rollback.body.workflowId));
  for (const p of back.publications)
    console.log(
      `  FY${p.fiscalYear} sent back to ${p.target} from closeloop's record (revision ${p.revision}), ${p.reconciliationExceptions ?? '?'} reconciliation exceptions`,
    );
  const again = must(
    await call('POST', `${CUTOVERS}/${cutover.id}/rollback`, KEY.admin, {
      rollbackDate: ROLLBACK_DAY,
      reason: 'asked twice',
    }),
    200,
  );
  await finished(String(again.body.workflowId));
  console.log(`  asked again: ${String(again.body.outcome)}, nothing sent twice`);
  await showRoutes();
}

/** Makes sure the UK's FY2028 budget is in control: its next version, raised by `raise` percent from January. */
async function budgetInControl(what: string, raise = 100n) {
  step(`planning: ${what}`);
  const list = await cyclesOf(ENTITY, FISCAL_YEAR);
  if (raise === 100n && list.some((c) => c.status === 'completed')) {
    console.log(`  ${ENTITY} FY${FISCAL_YEAR} is in control already`);
    return;
  }
  let version = Math.max(0, ...list.map((c) => c.ref?.version ?? 0)) + 1;
  const rows = subsidiaryBudgetRows(ENTITY, FISCAL_YEAR).map((r) =>
    r.period >= `${FISCAL_YEAR}-10` &&
    r.dimensions.costCenter === 'CC-510' &&
    r.dimensions.account === '600100'
      ? { ...r, amount: fromMinor((toMinor(r.amount, 'GBP') * raise) / 100n, 'GBP') }
      : r,
  );
  for (; ; version++) {
    await putPlanningVersion(
      { legalEntity: ENTITY, fiscalYear: FISCAL_YEAR, scenario: 'BUDGET', version },
      rows,
    );
    const started = must(
      await call('POST', '/v1/budget-cycles', KEY.planner, {
        legalEntity: ENTITY,
        fiscalYear: FISCAL_YEAR,
        version,
        asOfPeriod: `${FISCAL_YEAR}-06`,
      }),
      202,
      409,
    );
    if (started.status === 409) continue;
    const cycleId = String(started.body.cycleId);
    console.log(`  ${cycleId}`);
    const done = await approveAsAwaited(
      `/v1/budget-cycles/${encodeURIComponent(cycleId)}`,
      'completed',
      `${ENTITY} FY${FISCAL_YEAR} v${version}`,
    );
    for (const r of (done.reconciliation ?? []) as {
      target: string;
      targetTotal: string;
      currency: string;
    }[])
      console.log(
        `    ${r.target.padEnd(7)} holds ${r.targetTotal} ${r.currency} of the periods it receives`,
      );
    return;
  }
}

async function finished(workflowId: string): Promise<ErpCutoverStatus> {
  const connection = await connectClient(config.temporal);
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace.toString() });
    return (await client.workflow.getHandle(workflowId).result()) as ErpCutoverStatus;
  } finally {
    await connection.close();
  }
}

async function showRoutes() {
  const routes = must(await call('GET', `/v1/legal-entities/${ENTITY}/routes`, KEY.admin), 200).body
    .routes as {
    target: string;
    company: string;
    validFrom: string;
    validTo: string | null;
  }[];
  console.log(`  ${ENTITY}'s routes:`);
  for (const r of routes)
    console.log(
      `    ${r.target.padEnd(7)} ${r.company.padEnd(16)} from ${r.validFrom}${r.validTo ? ` until ${r.validTo}` : ''}`,
    );
}

function show(c: CutoverView) {
  console.log(
    `  ${c.fromTarget} → ${c.toTarget} at ${c.cutoverDate}, parallel until ${c.parallelUntil}: ${c.status}${c.rollbackDate ? ` from ${c.rollbackDate}` : ''}`,
  );
  for (const k of c.comparisons) {
    const totals = k.totals.map(
      (t) => `${t.currency} old ${t.old}, new ${t.new}, difference ${t.difference}`,
    );
    console.log(`  FY${k.fiscalYear}: ${k.differences.length} lines differ; totals ${totals.join('; ')}`);
    for (const d of k.differences.slice(0, 5)) console.log(`    ${d.period}: ${d.old} → ${d.new}`);
  }
}
