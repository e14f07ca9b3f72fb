import { type PlanningBudgetRow } from '../../domain/model';
import { fromMinor, toMinor } from '../../domain/money';
import { MFG_ACCOUNT_STRUCTURE, manufacturerBudgetRows } from '../../simulators/scenario/manufacturer';
import {
  approveAsAwaited,
  call,
  cyclesOf,
  erpAdmin,
  followCycle,
  must,
  putPlanningVersion,
  step,
} from './client';

/**
 * npm run demo -- --scenario chart: the seed's manufacturer (ACME-MFG) on its chart of accounts. Its
 * eight dimensions and 4-4-5 calendar; two custom dimensions added by API call, with their values, ERP
 * mappings and a place in the ERP's form; combinations checked against its rules; a version whose lines the
 * chart (or acmf's own account structure, read from Dynamics 365) does not allow named line by line before approval; the fixed one approved and posted to Dynamics 365
 * in acmf's form; its budget reported three ways; a DOWNSIDE scenario kept beside it for reporting only.
 * Runs again on the same stack: what is already there is said so, and each run takes the next version.
 */

const ENTITY = 'ACME-MFG';
const FISCAL_YEAR = 2027;
const KEY = { planner: 'dev-planner', approver: 'dev-approver', admin: 'dev-admin' };
const CHART = `/v1/legal-entities/${ENTITY}/chart`;

/** The two dimensions the manufacturer adds itself: the shift a plant's labour is planned on, and the channel. */
const CUSTOM = [
  {
    dimension: {
      code: 'shift',
      kind: 'custom',
      label: 'Plant shift',
      required: false,
      valuesFrom: 'closeloop',
    },
    values: [
      ['DAY', 'Day shift', 'D'],
      ['NIGHT', 'Night shift', 'N'],
    ],
  },
  {
    dimension: {
      code: 'salesChannel',
      kind: 'custom',
      label: 'Sales channel',
      required: false,
      valuesFrom: 'closeloop',
      format: '[A-Z]{3}',
    },
    values: [
      ['OEM', 'Original equipment', 'OEM'],
      ['AFT', 'Aftermarket', 'AFT'],
    ],
  },
] as const;

async function nextVersion(scenario: string, fiscalYear: number): Promise<number> {
  const versions = (await cyclesOf(ENTITY, fiscalYear))
    .filter((c) => c.ref?.scenario === scenario)
    .map((c) => c.ref!.version);
  return Math.max(0, ...versions) + 1;
}

/** Puts a version in the planning simulator and starts its cycle; a number already taken moves to the next. */
export async function publishAndStart(
  scenario: string,
  rows: (version: number) => PlanningBudgetRow[],
  fiscalYear = FISCAL_YEAR,
) {
  for (let version = await nextVersion(scenario, fiscalYear); ; version++) {
    await putPlanningVersion({ legalEntity: ENTITY, fiscalYear, scenario, version }, rows(version));
    const started = await call('POST', '/v1/budget-cycles', KEY.planner, {
      legalEntity: ENTITY,
      fiscalYear,
      scenario,
      version,
    });
    if (started.status === 409 && started.body.error === 'already_started') continue;
    must(started, 202);
    const cycleId = started.body.cycleId as string;
    console.log(`  ${scenario} v${version}: ${rows(version).length} lines → ${cycleId}`);
    return { cycleId, path: `/v1/budget-cycles/${encodeURIComponent(cycleId)}` };
  }
}

/** Approved by whoever the manufacturer's policy routes it to (the roster's approver, or its project managers). */
const approve = (path: string, until: string) => approveAsAwaited(path, until, 'plant budget reviewed');

function table(
  groups: { key: Record<string, string | null>; figures: Record<string, string> }[],
  fields: string[],
) {
  for (const g of groups)
    console.log(
      `    ${Object.values(g.key)
        .map((v) => (v ?? '—').padEnd(10))
        .join(' ')} ${fields.map((f) => g.figures[f]!.padStart(15)).join(' ')}`,
    );
}

export async function chartScenario() {
  step(`the manufacturer ${ENTITY}: its chart of accounts and its 4-4-5 calendar`);
  const chart = must(await call('GET', `${CHART}?asOf=${FISCAL_YEAR}-06-30`, KEY.planner), 200).body;
  const dims = chart.dimensions as { code: string; kind: string; required: boolean; balancing: boolean }[];
  console.log(
    `  chart v${String(chart.version)}: ${dims
      .map(
        (d) =>
          `${d.code}${d.balancing ? ' (balancing)' : ''}${d.required ? '*' : ''}${d.kind === 'custom' ? ' [custom]' : ''}`,
      )
      .join(', ')}   (* required)`,
  );
  const periods = must(
    await call('GET', `/v1/legal-entities/${ENTITY}/periods?fiscalYear=${FISCAL_YEAR}`, KEY.planner),
    200,
  ).body.periods as { period: string; startDate: string; endDate: string; kind: string }[];
  const weeks = (p: { startDate: string; endDate: string }) =>
    Math.round((Date.parse(p.endDate) - Date.parse(p.startDate)) / 604_800_000 + 1 / 7);
  console.log(
    `  FY${FISCAL_YEAR}: ${periods[0]!.startDate} to ${periods.at(-1)!.endDate}, periods of ${periods
      .filter((p) => p.kind === 'regular')
      .map(weeks)
      .join('-')} weeks, then ${periods.filter((p) => p.kind === 'adjustment').length} adjustment period`,
  );

  step('ian (integration admin) adds two custom dimensions by API call: no migration');
  // Shift from the year's first day; sales channel from the second quarter (each addition is a chart version
  // of its own, from its own date).
  const from = { shift: periods[0]!.startDate, salesChannel: periods[3]!.startDate };
  for (const c of CUSTOM) {
    const added = must(
      await call('POST', `${CHART}/dimensions`, KEY.admin, {
        dimension: c.dimension,
        validFrom: from[c.dimension.code],
        reason: 'the plants plan labour by shift and sales by channel',
      }),
      200,
      201,
    ).body;
    console.log(
      `  ${c.dimension.code}: ${added.outcome === 'unchanged' ? 'already in the chart' : `chart v${String(added.version)} from ${String(added.validFrom)}`}`,
    );
    must(
      await call('PUT', `${CHART}/dimensions/${c.dimension.code}/values`, KEY.admin, {
        source: 'closeloop',
        values: c.values.map(([code, name]) => ({ code, name, validFrom: '2020-01-01', validTo: null })),
      }),
      200,
    );
    for (const [code, , erpValue] of c.values)
      must(
        await call('PUT', '/v1/master-data/mappings', KEY.admin, {
          erpSystem: 'd365',
          dimension: c.dimension.code,
          canonicalCode: code,
          erpValue,
          validFrom: '2020-01-01',
        }),
        200,
      );
    console.log(`    values ${c.values.map(([code, , erp]) => `${code}→${erp}`).join(', ')} (Dynamics 365)`);
  }
  const targets = must(
    await call('GET', `/v1/legal-entities/${ENTITY}/publication-targets`, KEY.planner),
    200,
  ).body.targets as { target: string; settings: Record<string, string> }[];
  const format = targets.find((t) => t.target === 'd365')!.settings.dimensionFormat!;
  const wanted = [
    format,
    ...CUSTOM.map((c) => c.dimension.code).filter((d) => !format.split('-').includes(d)),
  ].join('-');
  const patched = must(
    await call('PATCH', `/v1/legal-entities/${ENTITY}/publication-targets/d365`, KEY.admin, {
      settings: { dimensionFormat: wanted },
      reason: 'acmf added Shift and Channel segments to its budgeting account structure',
    }),
    200,
  ).body;
  console.log(`  acmf's form of the dimensions: ${wanted}${patched.changed ? '' : ' (already so)'}`);
  // In Dynamics 365, acmf's administrator adds the two segments to its account structure (blank allowed):
  // closeloop reads the structure back and judges every line by it before approval.
  must(
    await erpAdmin('PUT', '/__sim/account-structures', {
      ...MFG_ACCOUNT_STRUCTURE,
      segments: [...MFG_ACCOUNT_STRUCTURE.segments, 'Shift', 'SalesChannel'],
      allowedValues: MFG_ACCOUNT_STRUCTURE.allowedValues.map((row) => [...row, '*;" "', '*;" "']),
    }),
    200,
  );
  console.log(
    `  Dynamics 365: account structure ${MFG_ACCOUNT_STRUCTURE.name} has Shift and SalesChannel segments`,
  );

  step('combinations checked against the chart and its rules, before any version');
  const check = must(
    await call('POST', `${CHART}/check`, KEY.planner, {
      date: `${FISCAL_YEAR}-03-01`,
      combinations: [
        { company: ENTITY, ledger: 'PRIMARY', account: '610200', department: 'SALES' },
        {
          company: ENTITY,
          ledger: 'PRIMARY',
          account: '500100',
          department: 'OPS',
          productLine: 'PUMPS',
          location: 'MONTERREY',
        },
        {
          company: ENTITY,
          ledger: 'PRIMARY',
          account: '510200',
          costCenter: 'CC-710',
          department: 'OPS',
          shift: 'NIGHT',
        },
      ],
    }),
    200,
  ).body;
  for (const r of check.results as {
    dimensions: Record<string, string>;
    problems: { message: string; rule?: string }[];
  }[])
    console.log(
      `  ${r.problems.length ? 'not allowed' : 'allowed    '} ${Object.values(r.dimensions).join('-')}${r.problems
        .map((p) => `\n      ${p.rule ? `[${p.rule}] ` : ''}${p.message}`)
        .join('')}`,
    );

  step('planning: a version with lines the chart does not allow is named line by line before approval');
  const bad = await publishAndStart('BUDGET', (v) =>
    manufacturerBudgetRows(FISCAL_YEAR, { version: v, notAllowed: true }),
  );
  const refused = await followCycle(bad.path, (s) => s.status === 'invalid', 'the version to be validated');
  for (const i of refused.issues as { lineNo: number; code: string; rule?: string; message: string }[])
    console.log(`  line ${i.lineNo}: ${i.code}${i.rule ? ` [${i.rule}]` : ''} ${i.message}`);

  step('the fixed version (night-shift labour on its own lines) is approved and posted to acmf in its form');
  const rows = (v: number) =>
    manufacturerBudgetRows(FISCAL_YEAR, { version: v }).map((r) =>
      r.dimensions.account === '510200' ? { ...r, dimensions: { ...r.dimensions, shift: 'NIGHT' } } : r,
    );
  const good = await publishAndStart('BUDGET', rows);
  const done = await approve(good.path, 'completed');
  for (const p of done.publications as { target: string; chunkCount: number; documentNumbers: string[] }[])
    console.log(`  ${p.target}: ${p.chunkCount} budget register entries (${p.documentNumbers.join(', ')})`);
  for (const r of done.reconciliation as { target: string; matchedCount: number; mismatchedCount: number }[])
    console.log(
      `  reconciled with ${r.target}: ${r.matchedCount} period/account totals match, ${r.mismatchedCount} differ`,
    );

  step(
    'the budget three ways: by department, by the account hierarchy’s top level, by project and product line',
  );
  for (const groupBy of ['department', 'account@0', 'project,productLine']) {
    const r = must(
      await call(
        'GET',
        `/v1/legal-entities/${ENTITY}/budgets/${FISCAL_YEAR}/report?groupBy=${groupBy}`,
        KEY.planner,
      ),
      200,
    ).body;
    console.log(`  by ${groupBy}:`);
    table(r.groups as never, ['amount']);
    console.log(
      `    ${'total'.padEnd(10)} ${(r.totals as { figures: { amount: string } }[])[0]!.figures.amount.padStart(15)}`,
    );
  }

  step('a DOWNSIDE scenario from the planning platform: approved and kept for reporting, never posted');
  const downside = await publishAndStart('DOWNSIDE', (v) =>
    rows(v).map((r) => ({
      ...r,
      amount: fromMinor((toMinor(r.amount, r.currency) * 85n) / 100n, r.currency),
    })),
  );
  const kept = await approve(downside.path, 'kept');
  console.log(`  ${String(kept.outcomeReason)}`);
  const compared = must(
    await call(
      'GET',
      `/v1/legal-entities/${ENTITY}/budgets/${FISCAL_YEAR}/report?scenario=DOWNSIDE&compareTo=BUDGET&groupBy=account@0`,
      KEY.planner,
    ),
    200,
  ).body;
  console.log('  DOWNSIDE against BUDGET by account group (amount, compared, difference):');
  table(compared.groups as never, ['amount', 'compared', 'difference']);
}
