import { isDeepStrictEqual } from 'node:util';
import { manufacturerBudgetRows } from '../../simulators/scenario/manufacturer';
import { publishAndStart } from './chart';
import { approveAsAwaited, call, must, step } from './client';

/**
 * npm run demo -- --scenario control: budget control on the dimensions that matter, on the seed's
 * manufacturer (ACME-MFG). A controller defines control budgets by department and for travel by department;
 * projects and the grant funding one come from Dynamics 365; each project's manager approves their project's
 * lines; a requisition whose travel line fits its department's operating expenses but not its travel budget
 * is refused whole (nothing held); a grant runs out across the fiscal year end, indirect cost included; the
 * project cannot close while money stands on it. Runs again on the same stack: requests replay under their
 * keys, and what is already so is said so.
 */

const ENTITY = 'ACME-MFG';
const KEY = { controller: 'dev-controller', admin: 'dev-admin', procurement: 'dev-procurement' };
const BUDGETS = `/v1/budget-control/control-budgets/${ENTITY}`;
const POLICY = `/v1/approval-policies/${ENTITY}`;

const CONTROL_BUDGETS = {
  'OPEX-DEPT': {
    description: 'operating expenses per department, by quarter',
    covers: { account: [{ under: 'OPEX' }] },
    per: 'department',
    level: 'absolute',
    periodBasis: 'quarter',
    validFrom: '2026-01-01',
  },
  'TRAVEL-DEPT': {
    description: 'travel per department, by quarter',
    covers: { account: [{ under: 'TRAVEL' }] },
    per: 'department',
    level: 'absolute',
    periodBasis: 'quarter',
    validFrom: '2026-01-01',
  },
};

const PROJECT_MANAGERS_POLICY = [
  [
    {
      kind: 'dimension_owners',
      name: 'project managers',
      dimension: 'project',
      fallback: ['carol@acme.example'],
    },
  ],
  [{ kind: 'group', name: 'plant controller', approvers: ['carol@acme.example'] }],
];

interface BudgetAnswer {
  controlBudget: string;
  outcome: string;
  counted: string;
  budget: string;
  availableBefore: string;
  availableAfter: string;
  pooledPeriods: string[];
}
interface LineAnswer {
  lineNo: number;
  account: string;
  outcome: string;
  reason: string;
  availableBefore: string;
  controlBudgets: BudgetAnswer[];
}

const line = (
  account: string,
  costCenter: string,
  period: string,
  amount: string,
  dimensions: Record<string, string>,
) => ({ account, costCenter, period, amount: { amount, currency: 'USD' }, dimensions });

async function requisition(key: string, lines: ReturnType<typeof line>[]) {
  const r = must(
    await call(
      'POST',
      '/v1/budget-control/reservations',
      KEY.procurement,
      { legalEntity: ENTITY, lines },
      {
        'idempotency-key': key,
      },
    ),
    200,
    201,
  );
  console.log(`  ${key}: ${String(r.body.outcome)}${r.body.reserved ? ', funds held' : ', nothing held'}`);
  for (const l of r.body.lines as LineAnswer[]) {
    console.log(`    line ${l.lineNo} (${l.account}): ${l.outcome}: ${l.reason}`);
    console.log(`      bucket account × cost center: ${l.availableBefore} available before`);
    for (const b of l.controlBudgets)
      console.log(
        `      ${b.controlBudget.padEnd(30)} ${b.outcome.padEnd(9)} counts ${b.counted.padStart(10)}: ${b.availableBefore} of ${b.budget} available before, ${b.availableAfter} after`,
      );
  }
  return r.body;
}

export async function controlScenario() {
  step(
    `dave (controller) defines ${ENTITY}'s control budgets: operating expenses and travel, each per department`,
  );
  for (const [code, spec] of Object.entries(CONTROL_BUDGETS)) {
    const put = must(
      await call('PUT', `${BUDGETS}/${code}`, KEY.controller, { ...spec, reason: 'FY2027 control model' }),
      200,
      201,
    ).body;
    const over = put.overBudget as { controlBudget: string; period: string }[];
    console.log(
      `  ${code}: ${String(put.outcome)}${over.length ? `; now over: ${over.map((o) => `${o.controlBudget} ${o.period}`).join(', ')}` : ''}`,
    );
  }

  step('projects and grants from Dynamics 365 (their system of record), through the master-data sync');
  const synced = must(
    await call('POST', '/v1/master-data/syncs', KEY.admin, { legalEntity: ENTITY, wait: true }),
    200,
  ).body.projects as { created: string[]; changed: string[]; unchanged: number };
  console.log(
    `  projects: ${synced.created.length} created, ${synced.changed.length} changed, ${synced.unchanged} unchanged`,
  );
  // The ERP keeps indirect cost in cost templates, not on the grant: the controller records the award's terms.
  const projects = must(await call('GET', `/v1/legal-entities/${ENTITY}/projects`, KEY.controller), 200).body
    .projects as { code: string; name: string; status: string; grant: Record<string, unknown> | null }[];
  const p101 = projects.find((p) => p.code === 'P-101')!;
  const terms = must(
    await call('PUT', `/v1/legal-entities/${ENTITY}/projects/P-101`, KEY.controller, {
      name: p101.name,
      status: p101.status,
      grant: { ...p101.grant, indirectRatePercent: '10', indirectCountsAgainstFunding: true },
      source: 'closeloop',
    }),
    200,
    201,
  ).body;
  for (const p of projects)
    console.log(
      `  ${p.code} ${p.name} (${p.status})${
        p.grant
          ? `: grant ${String(p.grant.grantId)}, ${(p.grant.awarded as { amount: string }).amount} USD from ${String(p.grant.awardFrom)} to ${String(p.grant.awardTo)}, 10% indirect charged to it${terms.outcome === 'unchanged' ? '' : ' (terms recorded now)'}`
          : ''
      }`,
    );

  step('project managers approve their projects’ lines, then the plant controller');
  const current = await call('GET', POLICY, KEY.controller);
  // Stored as jsonb, the policy comes back with its keys in another order: compare as values.
  const same =
    current.status === 200 &&
    isDeepStrictEqual((current.body.spec as { stages: unknown }).stages, PROJECT_MANAGERS_POLICY);
  if (!same)
    must(
      await call('PUT', POLICY, KEY.controller, {
        expectedRevision: current.status === 200 ? current.body.revision : 0,
        stages: PROJECT_MANAGERS_POLICY,
        reason: 'project managers answer for their projects',
      }),
      200,
    );
  const owners = must(await call('GET', POLICY, KEY.controller), 200).body.dimensionOwners as {
    project: Record<string, string[]>;
  };
  console.log(
    `  policy ${same ? 'already so' : 'put'}; managers: ${Object.entries(owners.project)
      .map(([p, o]) => `${p} ${o.join(', ')}`)
      .join('; ')}`,
  );
  for (const fiscalYear of [2027, 2028]) {
    const { path } = await publishAndStart(
      'BUDGET',
      (v) => manufacturerBudgetRows(fiscalYear, { version: v }),
      fiscalYear,
    );
    await approveAsAwaited(path, 'completed', 'my project’s lines are right');
    console.log(`  FY${fiscalYear} budget approved and active`);
  }

  step(
    'a requisition checked against every budget it falls in: one line passes, one is refused, nothing is held',
  );
  // Engineering's travel fits the cost center's travel bucket (Sales budgeted it) and Engineering's operating
  // expenses, but Engineering has no travel budget of its own.
  await requisition('REQ-MFG-4471', [
    line('600100', 'CC-790', '2027-05', '5000.00', { department: 'ENG' }),
    line('610200', 'CC-790', '2027-05', '3000.00', { department: 'ENG' }),
  ]);
  await requisition('REQ-MFG-4472', [
    line('610200', 'CC-790', '2027-05', '3000.00', { department: 'SALES' }),
  ]);

  step(
    'grant DOE-AMO-2291 runs out across the fiscal year end (life to date, 10% indirect counted against it)',
  );
  const grantLine = (period: string, amount: string) =>
    line('520300', 'CC-700', period, amount, {
      department: 'OPS',
      project: 'P-101',
      productLine: 'PUMPS',
      location: 'DETROIT',
    });
  await requisition('REQ-MFG-GRANT-1', [grantLine('2027-12', '35000.00')]);
  await requisition('REQ-MFG-GRANT-2', [grantLine('2028-01', '25000.00')]);

  step('closing project P-101 while money stands on it is refused');
  const close = await call('POST', `/v1/legal-entities/${ENTITY}/projects/P-101/close`, KEY.controller, {
    reason: 'line 3 automation complete',
  });
  must(close, 409);
  console.log(`  ${String(close.body.message)}`);
}
