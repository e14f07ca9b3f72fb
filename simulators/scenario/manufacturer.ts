import { type ProjectSeed } from '../d365/simulator';
import { type PlanningBudgetRow } from '../../domain/model';
import { fromMinor } from '../../domain/money';

/**
 * The manufacturer (ACME-MFG) as its systems hold it: its plan in Anaplan on eight dimensions, by the twelve
 * regular periods of its 4-4-5 year (the adjustment period is never planned), and its Dynamics 365 company
 * acmf's main accounts and cost centers (mirrors the seeded reference data and mappings). Amounts in cents.
 */

const ENTITY = { company: 'ACME-MFG', ledger: 'PRIMARY' };

/** What each combination plans per period. */
const PLAN: { dimensions: Record<string, string>; perPeriod: bigint }[] = [
  {
    dimensions: {
      account: '500100',
      costCenter: 'CC-700',
      department: 'OPS',
      productLine: 'PUMPS',
      location: 'DETROIT',
    },
    perPeriod: 25_000_000n,
  },
  {
    dimensions: { account: '500100', department: 'OPS', productLine: 'VALVES', location: 'MONTERREY' },
    perPeriod: 18_000_000n,
  },
  {
    dimensions: {
      account: '510200',
      costCenter: 'CC-710',
      department: 'OPS',
      productLine: 'PUMPS',
      location: 'DETROIT',
    },
    perPeriod: 12_000_000n,
  },
  {
    dimensions: {
      account: '520300',
      costCenter: 'CC-700',
      department: 'OPS',
      project: 'P-101',
      productLine: 'PUMPS',
      location: 'DETROIT',
    },
    perPeriod: 4_000_000n,
  },
  {
    dimensions: {
      account: '520300',
      department: 'ENG',
      project: 'P-102',
      productLine: 'VALVES',
      location: 'MONTERREY',
    },
    perPeriod: 3_000_000n,
  },
  { dimensions: { account: '600100', costCenter: 'CC-790', department: 'ENG' }, perPeriod: 9_000_000n },
  { dimensions: { account: '610200', costCenter: 'CC-790', department: 'SALES' }, perPeriod: 1_200_000n },
  {
    dimensions: { account: '640500', costCenter: 'CC-790', department: 'OPS', location: 'DETROIT' },
    perPeriod: 2_500_000n,
  },
];

/**
 * Lines a planner might send that the manufacturer's chart does not allow, each naming what it breaks:
 * travel without a cost center (OPEX-NEEDS-CC), a project on travel (PROJECTS-ON-COGS, and no cost center),
 * pumps in Monterrey (MONTERREY-VALVES), a department the chart does not know, none at all, and materials
 * without the product line and location Dynamics 365's account structure asks for.
 */
const NOT_ALLOWED: Record<string, string>[] = [
  { account: '610200', department: 'SALES' },
  { account: '610200', costCenter: 'CC-790', department: 'ENG', project: 'P-101' },
  { account: '500100', department: 'OPS', productLine: 'PUMPS', location: 'MONTERREY' },
  { account: '600100', costCenter: 'CC-790', department: 'HR' },
  { account: '500100', costCenter: 'CC-700' },
  // closeloop's rules allow it; acmf's account structure wants a product line and a location on materials.
  { account: '500100', costCenter: 'CC-700', department: 'OPS' },
];

const periods = (fiscalYear: number) =>
  Array.from({ length: 12 }, (_, i) => `${fiscalYear}-${String(i + 1).padStart(2, '0')}`);

/**
 * The manufacturer's budget rows for a year: every combination in every regular period; each later version
 * adds 5% to materials a version. With `notAllowed`, the first period also carries the lines its rules refuse.
 */
export function manufacturerBudgetRows(
  fiscalYear: number,
  opts: { version?: number; notAllowed?: boolean; scale?: { numerator: bigint; denominator: bigint } } = {},
): PlanningBudgetRow[] {
  const version = BigInt(opts.version ?? 1);
  const scale = opts.scale ?? { numerator: 1n, denominator: 1n };
  const rows: PlanningBudgetRow[] = PLAN.flatMap((item) =>
    periods(fiscalYear).map((period) => {
      let cents = item.perPeriod;
      if (item.dimensions.account === '500100') cents = (cents * (100n + 5n * (version - 1n))) / 100n;
      cents = (cents * scale.numerator) / scale.denominator;
      return {
        dimensions: { ...ENTITY, ...item.dimensions },
        period,
        amount: fromMinor(cents, 'USD'),
        currency: 'USD',
      };
    }),
  );
  if (opts.notAllowed)
    rows.push(
      ...NOT_ALLOWED.map((dimensions) => ({
        dimensions: { ...ENTITY, ...dimensions },
        period: `${fiscalYear}-01`,
        amount: '1000.00',
        currency: 'USD',
      })),
    );
  return rows;
}

/** acmf in Dynamics 365: the main accounts its plants add to the group chart, and its cost centers. */
export function manufacturerMasterData() {
  const since = '2020-01-01';
  const mainAccounts = [
    ['50010', 'Raw materials'],
    ['51020', 'Direct labour'],
    ['52030', 'Factory overhead'],
  ].map(([MainAccountId, Name]) => ({
    MainAccountId: MainAccountId!,
    Name: Name!,
    MainAccountType: 'Expense' as const,
    ActiveFrom: since,
  }));
  const dimensionValues = [
    ['700', 'Detroit assembly'],
    ['710', 'Detroit machining'],
    ['790', 'Plant administration'],
  ].map(([DimensionValue, Description]) => ({
    DimensionValue: DimensionValue!,
    Description: Description!,
    LegalEntityId: 'acmf',
    ActiveFrom: since,
  }));
  return { mainAccounts, dimensionValues };
}

/**
 * acmf's budgeting account structure in Dynamics 365: cost of goods sold needs a product line and a
 * location (a cost center and a project may be left blank); operating expenses need a cost center and take
 * no project.
 */
export const MFG_ACCOUNT_STRUCTURE = {
  name: 'MFG-PL',
  description: 'Manufacturing profit and loss',
  segments: ['MainAccount', 'CostCenter', 'Department', 'Project', 'ProductLine', 'Location'],
  allowedValues: [
    ['50010..52030', '*;" "', '*', '*;" "', '*', '*'],
    ['60010..69990', '*', '*', '" "', '*;" "', '*;" "'],
  ],
};

/**
 * acmf's projects in Dynamics 365: line 3 automation, in process and funded by a Department of Energy grant
 * whose period of performance runs across the fiscal year end; the Monterrey expansion, in process, unfunded.
 */
export const MFG_PROJECTS: ProjectSeed[] = [
  {
    company: 'acmf',
    id: 'P101',
    name: 'Line 3 automation',
    stage: 'InProcess',
    grant: {
      id: 'DOE-AMO-2291',
      name: 'Advanced manufacturing: line 3 automation',
      awardedAmount: '60000.00',
      startDate: '2026-10-01',
      expirationDate: '2028-03-31',
      grantor: 'US-DOE',
    },
  },
  { company: 'acmf', id: 'P102', name: 'Monterrey expansion', stage: 'InProcess' },
];
