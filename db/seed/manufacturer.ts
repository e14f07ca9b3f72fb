import { type ChartSpec } from '../../domain/chart';
import { type CombinationFilter, type CrossValidationRule } from '../../domain/cross-validation';
import { D365_BUDGET_SETTINGS, legalEntity as servicesCompany } from './services-company';

/**
 * The seed's second company: a manufacturer that books on eight dimensions (company as its balancing
 * entity, ledger, account, cost center, department, project, product line and location), on a 4-4-5
 * calendar, keeping its books in its own Dynamics 365 company (acmf) whose account structure carries six of
 * them as segments (the company and its ledger are the company itself). It plans in the same Anaplan model.
 */

export const MANUFACTURER = 'ACME-MFG';
export const MFG_CALENDAR = 'CAL-445-MFG';
const since = '2020-01-01';

export const legalEntity = {
  ...servicesCompany,
  code: MANUFACTURER,
  name: 'Acme Manufacturing Inc.',
  region: 'NA',
  fiscalCalendar: MFG_CALENDAR,
  erpCompany: 'acmf',
};

/** Weeks ending on the Saturday nearest the end of December, in 4-4-5 quarters, with one adjustment period. */
export const fiscalCalendar = {
  code: MFG_CALENDAR,
  spec: {
    kind: 'weeks',
    pattern: '4-4-5',
    yearEnd: { weekday: 'saturday', month: 12, rule: 'nearest' },
    adjustmentPeriods: 1,
  } as const,
  fiscalYears: [2026, 2027, 2028],
};

/** The segment order of acmf's budgeting account structure. */
export const DIMENSION_FORMAT = 'account-costCenter-department-project-productLine-location';

export const publicationTargets = [
  {
    legalEntity: MANUFACTURER,
    target: 'd365',
    company: 'acmf',
    // Lines are judged by acmf's own account structure before approval (read from Dynamics 365).
    settings: { ...D365_BUDGET_SETTINGS, dimensionFormat: DIMENSION_FORMAT, accountStructures: 'MFG-PL' },
  },
];

const dimension = (
  code: string,
  label: string,
  required: boolean,
  valuesFrom: string,
  extra: { balancing?: boolean; format?: string } = {},
) => ({ code, kind: 'canonical' as const, label, required, valuesFrom, balancing: false, ...extra });

export const chart: ChartSpec = {
  dimensions: [
    dimension('company', 'Company', true, 'closeloop', { balancing: true }),
    dimension('ledger', 'Ledger', true, 'closeloop'),
    dimension('account', 'Account', true, 'd365'),
    dimension('costCenter', 'Cost center', false, 'd365'),
    dimension('department', 'Department', true, 'closeloop'),
    dimension('project', 'Project', false, 'closeloop', { format: 'P-[0-9]{3}' }),
    dimension('productLine', 'Product line', false, 'closeloop'),
    dimension('location', 'Location', false, 'closeloop'),
  ],
};

/** The value lists closeloop keeps for the manufacturer (accounts and cost centers come from the ERP). */
export const dimensionValues: Record<string, { code: string; name: string; erpValue: string }[]> = {
  company: [{ code: MANUFACTURER, name: 'Acme Manufacturing Inc.', erpValue: 'acmf' }],
  ledger: [{ code: 'PRIMARY', name: 'Primary ledger', erpValue: 'PRIMARY' }],
  department: [
    { code: 'ENG', name: 'Engineering', erpValue: 'ENG' },
    { code: 'OPS', name: 'Operations', erpValue: 'OPS' },
    { code: 'SALES', name: 'Sales', erpValue: 'SLS' },
  ],
  project: [
    { code: 'P-101', name: 'Line 3 automation', erpValue: 'P101' },
    { code: 'P-102', name: 'Monterrey expansion', erpValue: 'P102' },
  ],
  productLine: [
    { code: 'PUMPS', name: 'Pumps', erpValue: 'PMP' },
    { code: 'VALVES', name: 'Valves', erpValue: 'VLV' },
  ],
  location: [
    { code: 'DETROIT', name: 'Detroit plant', erpValue: 'DET' },
    { code: 'MONTERREY', name: 'Monterrey plant', erpValue: 'MTY' },
  ],
};

/** The group chart's accounts the plants add: cost of goods sold. */
export const accounts = [
  ['500100', 'Raw materials'],
  ['510200', 'Direct labour'],
  ['520300', 'Factory overhead'],
].map(([code, name]) => ({
  code: code!,
  name: name!,
  kind: 'expense' as const,
  active: true,
  validFrom: since,
  validTo: null,
}));

export const costCenters = [
  { code: 'CC-700', name: 'Detroit assembly', erpValue: '700' },
  { code: 'CC-710', name: 'Detroit machining', erpValue: '710' },
  { code: 'CC-790', name: 'Plant administration', erpValue: '790' },
];

/** The manufacturer's account groups: cost of goods sold and operating expenses, travel under the latter. */
export const accountHierarchy = [
  ['COGS', null, 'Cost of goods sold'],
  ['OPEX', null, 'Operating expenses'],
  ['TRAVEL', 'OPEX', 'Travel'],
  ['500100', 'COGS'],
  ['510200', 'COGS'],
  ['520300', 'COGS'],
  ['600100', 'OPEX'],
  ['610200', 'TRAVEL'],
  ['640500', 'OPEX'],
].map(([code, parent, name]) => ({
  legalEntity: MANUFACTURER,
  dimension: 'account',
  code: code!,
  parent: parent ?? null,
  ...(name ? { name } : {}),
  validFrom: since,
}));

/** D365 mappings of the values closeloop keeps (accounts: the group's own; cost centers: below). */
export const dimensionMappings = [
  ...Object.entries(dimensionValues).flatMap(([dimension, values]) =>
    values.map((v) => ({ dimension, canonicalCode: v.code, erpValue: v.erpValue })),
  ),
  { dimension: 'account', canonicalCode: '500100', erpValue: '50010' },
  { dimension: 'account', canonicalCode: '510200', erpValue: '51020' },
  { dimension: 'account', canonicalCode: '520300', erpValue: '52030' },
  ...costCenters.map((c) => ({ dimension: 'costCenter', canonicalCode: c.code, erpValue: c.erpValue })),
].map((m) => ({ erpSystem: 'd365', ...m, validFrom: since, validTo: null }));

/**
 * The manufacturer's cross-validation rules, as its ERP keeps them: operating expenses need a cost center;
 * projects are capital work, booked on cost of goods sold only; the Monterrey plant makes valves only.
 */
const rule = (
  code: string,
  description: string,
  condition: CombinationFilter,
  validation: CombinationFilter,
): CrossValidationRule => ({
  code,
  description,
  condition,
  validation,
  validFrom: since,
  validTo: null,
  origin: 'd365',
});

export const crossValidationRules = [
  rule(
    'OPEX-NEEDS-CC',
    'Operating expense accounts (6*) need a cost center',
    { account: ['6*'] },
    {
      costCenter: [{ present: true }],
    },
  ),
  rule(
    'PROJECTS-ON-COGS',
    'Project spend is booked on cost of goods sold accounts only',
    { project: ['P-*'] },
    {
      account: [{ under: 'COGS' }],
    },
  ),
  rule(
    'MONTERREY-VALVES',
    'The Monterrey plant makes valves only',
    { location: ['MONTERREY'] },
    {
      productLine: ['VALVES'],
    },
  ),
];

/** Who manages each project: they approve its budget lines where the entity's policy routes by project. */
export const projectManagers = [
  { dimension: 'project', code: 'P-101', principal: 'priya@acme.example' },
  { dimension: 'project', code: 'P-102', principal: 'marco@acme.example' },
];
