/**
 * Reference data of the seed's services company: a US entity planning in a SaaS planner (Anaplan),
 * buying through Coupa and keeping its books in Dynamics 365 Finance (company "acus").
 */

export const SERVICES_COMPANY = 'ACME-US';
export const CALENDAR = 'CAL-JAN';
export const FISCAL_YEARS = [2026, 2027, 2028];
const since = '2020-01-01';

export const legalEntity = {
  code: SERVICES_COMPANY,
  name: 'Acme Services US Inc.',
  functionalCurrency: 'USD',
  fiscalCalendar: CALENDAR,
  region: 'NA',
  erpSystem: 'd365',
  erpCompany: 'acus',
  planningSystem: 'anaplan',
  controlLevel: 'absolute' as const,
  tolerancePercent: '0',
  // Actuals in other currencies convert at the month's average rate; a pair the ERP does not quote goes
  // through the euro (the ERP's rates for European currencies are quoted against it).
  fxRateType: 'average' as const,
  fxTriangulationCurrency: 'EUR',
  // A posting into a closed period waits in the dead letters for a controller to decide (reopen, or re-post).
  closedPeriodPolicy: 'dead_letter' as const,
};

/**
 * Budget control of the services company: funds pool over the quarter; overspend is blocked (the entity's
 * default), with 5% tolerance on travel (610200), advisory on software (650600), tracked only on CC-400.
 */
export const controlModels = [{ legalEntity: SERVICES_COMPANY, periodBasis: 'quarter' as const }];
export const controlRules = [
  {
    legalEntity: SERVICES_COMPANY,
    account: '610200',
    costCenter: null,
    level: 'absolute' as const,
    tolerancePercent: '5',
    validFrom: since,
  },
  {
    legalEntity: SERVICES_COMPANY,
    account: '650600',
    costCenter: null,
    level: 'advisory' as const,
    tolerancePercent: '0',
    validFrom: since,
  },
  {
    legalEntity: SERVICES_COMPANY,
    account: null,
    costCenter: 'CC-400',
    level: 'track_only' as const,
    tolerancePercent: '0',
    validFrom: since,
  },
];

/**
 * Where the group's budgets go in Dynamics 365: budget register entries of model FY-BUDGET, the original budget
 * under code Original, revisions' differences under Revision, transfers under Transfer.
 */
export const D365_BUDGET_SETTINGS = {
  budgetModel: 'FY-BUDGET',
  budgetCode: 'Original',
  revisionBudgetCode: 'Revision',
  transferBudgetCode: 'Transfer',
};

export const publicationTargets = [
  { legalEntity: SERVICES_COMPANY, target: 'd365', company: 'acus', settings: D365_BUDGET_SETTINGS },
];

/** The calendar-year calendar (as data: domain/fiscal-calendar), defined for the seeded years. */
export const fiscalCalendar = {
  code: CALENDAR,
  spec: { kind: 'monthly', firstMonth: 1, adjustmentPeriods: 0 } as const,
  fiscalYears: FISCAL_YEARS,
};

export const accounts = [
  {
    code: '600100',
    name: 'Salaries and wages',
    kind: 'expense' as const,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: '610200',
    name: 'Travel and entertainment',
    kind: 'expense' as const,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: '620300',
    name: 'Software subscriptions',
    kind: 'expense' as const,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: '630400',
    name: 'Contractors and professional services',
    kind: 'expense' as const,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: '640500',
    name: 'Office rent',
    kind: 'expense' as const,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: '650600',
    name: 'Training and certification',
    kind: 'expense' as const,
    active: true,
    validFrom: since,
    validTo: null,
  },
  // Retired mid-2026: budgeting on it for FY2027 is refused.
  {
    code: '699900',
    name: 'Legacy consulting fees',
    kind: 'expense' as const,
    active: true,
    validFrom: since,
    validTo: '2026-07-01',
  },
];

/** The groups the cost centers report to in the ERP's cost-center hierarchy (no budget of their own). */
const costCenterGroups = [
  { code: 'CC-010', name: 'Client services' },
  { code: 'CC-020', name: 'Corporate functions' },
].map((g) => ({ ...g, legalEntity: SERVICES_COMPANY, active: true, validFrom: since, validTo: null }));

export const costCenters = [
  ...costCenterGroups,
  {
    code: 'CC-100',
    name: 'Consulting delivery',
    legalEntity: SERVICES_COMPANY,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: 'CC-200',
    name: 'Engineering',
    legalEntity: SERVICES_COMPANY,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: 'CC-300',
    name: 'Sales',
    legalEntity: SERVICES_COMPANY,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: 'CC-400',
    name: 'General and administrative',
    legalEntity: SERVICES_COMPANY,
    active: true,
    validFrom: since,
    validTo: null,
  },
  {
    code: 'CC-900',
    name: 'Closed Boston office',
    legalEntity: SERVICES_COMPANY,
    active: false,
    validFrom: since,
    validTo: '2025-12-31',
  },
];

const account = (
  canonicalCode: string,
  erpValue: string,
  validFrom = since,
  validTo: string | null = null,
) => ({
  erpSystem: 'd365',
  dimension: 'account' as const,
  canonicalCode,
  erpValue,
  validFrom,
  validTo,
});
const costCenter = (canonicalCode: string, erpValue: string) => ({
  erpSystem: 'd365',
  dimension: 'costCenter' as const,
  canonicalCode,
  erpValue,
  validFrom: since,
  validTo: null,
});

export const dimensionMappings = [
  account('600100', '60010'),
  account('610200', '61020'),
  // D365's chart split software into its own main account from July 2027: effective-dated mapping.
  account('620300', '62030', since, '2027-07-01'),
  account('620300', '62035', '2027-07-01'),
  account('630400', '63040'),
  account('640500', '64050'),
  account('650600', '65060'),
  account('699900', '69990'),
  costCenter('CC-100', '100'),
  costCenter('CC-200', '200'),
  costCenter('CC-300', '300'),
  costCenter('CC-400', '400'),
  costCenter('CC-900', '900'),
  costCenter('CC-010', '010'),
  costCenter('CC-020', '020'),
];

/**
 * Corporate finance keeps funds control for the services company in Oracle Fusion budgetary control, once a
 * route sends its budget there (docs/routing.md): its accounts and cost centers as the Oracle ledger's natural
 * account and cost center segment values.
 */
export const oracleDimensionMappings = [
  ...[
    ['600100', '6001'],
    ['610200', '6102'],
    ['620300', '6203'],
    ['630400', '6304'],
    ['640500', '6405'],
    ['650600', '6506'],
    ['699900', '6999'],
  ].map(([canonicalCode, erpValue]) => ({
    dimension: 'account' as const,
    canonicalCode: canonicalCode!,
    erpValue: erpValue!,
  })),
  ...['CC-100', 'CC-200', 'CC-300', 'CC-400', 'CC-900', 'CC-010', 'CC-020'].map((code) => ({
    dimension: 'costCenter' as const,
    canonicalCode: code,
    erpValue: `1${code.slice(3)}`,
  })),
].map((m) => ({ erpSystem: 'oracle', ...m, validFrom: since, validTo: null }));

/** Where each cost center sits, as the ERP's published cost-center hierarchy has it. */
export const costCenterHierarchy = [
  ['CC-010', null],
  ['CC-020', null],
  ['CC-100', 'CC-010'],
  ['CC-200', 'CC-010'],
  ['CC-300', 'CC-020'],
  ['CC-400', 'CC-020'],
  ['CC-900', 'CC-020'],
].map(([code, parent]) => ({
  legalEntity: SERVICES_COMPANY,
  dimension: 'costCenter',
  code: code!,
  parent: parent ?? null,
  validFrom: since,
}));

/**
 * Who owns each cost center (approves its budget lines), and the company's approval policy: each cost
 * center's owner approves its lines (carol stands in where the owner submitted or there is none); then any
 * 2 of the 3 FP&A approvers; then the CFO when the total is above 5,000,000.00 USD or the version grows the
 * active budget by more than 250,000.00 USD or 5%.
 */
export const costCenterOwners = [
  ['CC-100', 'olivia@acme.example'],
  ['CC-200', 'paul@acme.example'],
  ['CC-300', 'quinn@acme.example'],
  ['CC-400', 'rachel@acme.example'],
].map(([costCenter, principal]) => ({ costCenter: costCenter!, principal: principal!, validFrom: since }));

export const approvalPolicy = {
  legalEntity: SERVICES_COMPANY,
  stages: [
    [{ kind: 'cost_center_owners' as const, name: 'cost center owners', fallback: ['carol@acme.example'] }],
    [
      {
        kind: 'group' as const,
        name: 'FP&A',
        approvers: ['carol@acme.example', 'frank@acme.example', 'grace@acme.example'],
        quorum: 2,
      },
    ],
    [
      {
        kind: 'group' as const,
        name: 'CFO',
        approvers: ['victor@acme.example'],
        when: {
          totalAbove: { amount: '5000000.00', currency: 'USD' },
          increaseAbove: { amount: '250000.00', currency: 'USD' },
          increasePercentAbove: '5',
        },
      },
    ],
  ],
  // The finance director hears of every level that waits past its approval window.
  escalateTo: ['helen@acme.example'],
};
