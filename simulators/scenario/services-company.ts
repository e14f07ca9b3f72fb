import { type PlanningBudgetRow } from '../../domain/model';
import { fromMinor } from '../../domain/money';
import { monthlyFiscalPeriods } from '../../domain/reference';

/**
 * The seed's services company as its systems would hold it: the budget its departments planned in the
 * planning platform, and the spend Dynamics 365 has posted and committed so far. Amounts are computed on
 * integer cents, so every figure is exact.
 */

interface PlanItem {
  costCenter: string;
  account: string;
  /** Monthly budget in cents. */
  monthly: bigint;
}

const PLAN: PlanItem[] = [
  { costCenter: 'CC-100', account: '600100', monthly: 8_500_000n },
  { costCenter: 'CC-100', account: '610200', monthly: 1_200_000n },
  { costCenter: 'CC-100', account: '630400', monthly: 2_000_000n },
  { costCenter: 'CC-200', account: '600100', monthly: 12_000_000n },
  { costCenter: 'CC-200', account: '620300', monthly: 1_850_000n },
  { costCenter: 'CC-200', account: '650600', monthly: 250_000n },
  { costCenter: 'CC-300', account: '600100', monthly: 6_000_000n },
  { costCenter: 'CC-300', account: '610200', monthly: 1_500_000n },
  { costCenter: 'CC-400', account: '600100', monthly: 4_000_000n },
  { costCenter: 'CC-400', account: '640500', monthly: 3_000_000n },
  { costCenter: 'CC-400', account: '630400', monthly: 800_000n },
];

/** D365 segment values of the canonical codes (mirrors the seeded dimension mappings). */
export const D365_MAIN_ACCOUNT: Record<string, string> = {
  '600100': '60010',
  '610200': '61020',
  '620300': '62030',
  '630400': '63040',
  '640500': '64050',
  '650600': '65060',
};
export const D365_COST_CENTER: Record<string, string> = {
  'CC-100': '100',
  'CC-200': '200',
  'CC-300': '300',
  'CC-400': '400',
};

/** Software moved to its own D365 main account from July 2027 (the effective-dated mapping in the seed). */
export function d365MainAccount(account: string, date: string): string {
  if (account === '620300' && date >= '2027-07-01') return '62035';
  const value = D365_MAIN_ACCOUNT[account];
  if (!value) throw new Error(`no D365 main account for ${account}`);
  return value;
}

/** The D365 ledger dimension display value ("61020-100") of a canonical account and cost center on a date. */
export function d365LedgerDimension(account: string, costCenter: string, date: string): string {
  const cc = D365_COST_CENTER[costCenter];
  if (!cc) throw new Error(`no D365 cost center for ${costCenter}`);
  return `${d365MainAccount(account, date)}-${cc}`;
}

/**
 * The budget rows of a version. Each later version raises Engineering's salaries by 2% a version, so
 * versions differ; Q4 travel is planned 10% higher for conference season.
 */
export function budgetRows(fiscalYear: number, version = 1): PlanningBudgetRow[] {
  const rows: PlanningBudgetRow[] = [];
  for (const item of PLAN) {
    for (const p of monthlyFiscalPeriods(fiscalYear)) {
      let cents = item.monthly;
      if (item.account === '610200' && p.periodNumber >= 10) cents = (cents * 110n) / 100n;
      if (item.costCenter === 'CC-200' && item.account === '600100')
        cents = (cents * (100n + 2n * BigInt(version - 1))) / 100n;
      rows.push({
        dimensions: { account: item.account, costCenter: item.costCenter },
        period: p.period,
        amount: fromMinor(cents, 'USD'),
        currency: 'USD',
      });
    }
  }
  return rows;
}

export interface LedgerEntry {
  journalNumber: string;
  voucher: string;
  accountingDate: string;
  mainAccount: string;
  costCenter: string;
  amount: string;
  currency: string;
  text: string;
}

/** Posted actuals through `throughPeriod`: about 96% of plan, with one overspent line to show in the forecast. */
export function ledgerEntries(fiscalYear: number, throughPeriod: string): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  for (const p of monthlyFiscalPeriods(fiscalYear).filter((x) => x.period <= throughPeriod)) {
    PLAN.forEach((item, i) => {
      const overspend = item.costCenter === 'CC-300' && item.account === '610200';
      const cents = (item.monthly * (overspend ? 112n : 96n)) / 100n;
      const postingDate = `${p.startDate.slice(0, 8)}${String(10 + (i % 15)).padStart(2, '0')}`;
      entries.push({
        journalNumber: `GJ-${p.period.replace('-', '')}-${String(i + 1).padStart(3, '0')}`,
        voucher: `GNJL${p.period.replace('-', '')}${String(i + 1).padStart(4, '0')}`,
        accountingDate: postingDate,
        mainAccount: d365MainAccount(item.account, postingDate),
        costCenter: D365_COST_CENTER[item.costCenter]!,
        amount: fromMinor(cents, 'USD'),
        currency: 'USD',
        text: `${item.account} ${item.costCenter} ${p.period}`,
      });
    });
  }
  return entries;
}

export interface OpenPurchaseOrderLine {
  purchaseOrderNumber: string;
  lineNumber: number;
  deliveryDate: string;
  mainAccount: string;
  costCenter: string;
  /** The open (backorder) line's amount. */
  lineAmount: string;
  currency: string;
}

/** Open POs raised through Coupa and committed in D365 for the coming months. */
export function openPurchaseOrders(fiscalYear: number): OpenPurchaseOrderLine[] {
  return [
    {
      purchaseOrderNumber: 'PO-000481',
      lineNumber: 1,
      deliveryDate: `${fiscalYear}-04-15`,
      mainAccount: '63040',
      costCenter: '100',
      lineAmount: '45000.00',
      currency: 'USD',
    },
    {
      purchaseOrderNumber: 'PO-000502',
      lineNumber: 1,
      deliveryDate: `${fiscalYear}-05-01`,
      mainAccount: '62030',
      costCenter: '200',
      lineAmount: '60000.00',
      currency: 'USD',
    },
    {
      purchaseOrderNumber: 'PO-000502',
      lineNumber: 2,
      deliveryDate: `${fiscalYear}-05-01`,
      mainAccount: '65060',
      costCenter: '200',
      lineAmount: '1800.00',
      currency: 'USD',
    },
  ];
}

/**
 * The company's chart of accounts and cost centers as Dynamics 365 keeps them (their system of record):
 * the main accounts behind the canonical accounts (software split into 62035 from July 2027, legacy
 * consulting closed mid-2026), the cost-center dimension values, and the published cost-center hierarchy.
 */
export function masterData() {
  const since = '2020-01-01';
  const account = (
    MainAccountId: string,
    Name: string,
    dates: { ActiveFrom?: string; ActiveTo?: string } = {},
  ) => ({
    MainAccountId,
    Name,
    MainAccountType: 'Expense' as const,
    ActiveFrom: since,
    ...dates,
  });
  const mainAccounts = [
    account('60010', 'Salaries and wages'),
    account('61020', 'Travel and entertainment'),
    account('62030', 'Software subscriptions', { ActiveTo: '2027-06-30' }),
    account('62035', 'Software subscriptions', { ActiveFrom: '2027-07-01' }),
    account('63040', 'Contractors and professional services'),
    account('64050', 'Office rent'),
    account('65060', 'Training and certification'),
    account('69990', 'Legacy consulting fees', { ActiveTo: '2026-06-30' }),
  ];
  const costCenter = (DimensionValue: string, Description: string, ActiveTo?: string) => ({
    DimensionValue,
    Description,
    LegalEntityId: 'acus',
    ActiveFrom: since,
    ...(ActiveTo ? { ActiveTo, IsSuspended: 'Yes' as const } : {}),
  });
  const dimensionValues = [
    costCenter('010', 'Client services'),
    costCenter('020', 'Corporate functions'),
    costCenter('100', 'Consulting delivery'),
    costCenter('200', 'Engineering'),
    costCenter('300', 'Sales'),
    costCenter('400', 'General and administrative'),
    costCenter('900', 'Closed Boston office', '2025-12-30'),
  ];
  const hierarchy = [
    ['100', '010'],
    ['200', '010'],
    ['300', '020'],
    ['400', '020'],
    ['900', '020'],
  ].map(([ChildOrganization, ParentOrganization]) => ({
    ChildOrganization: ChildOrganization!,
    ParentOrganization: ParentOrganization!,
    validFrom: since,
  }));
  return { mainAccounts, dimensionValues, hierarchy };
}

/**
 * Corporate finance's Oracle Fusion ledger, where the services company's funds control is kept once a route
 * sends its budget there: a calendar-month ledger in US dollars with one control budget.
 */
export const ORACLE_LEDGER_ID = 300000046975971;
export const ORACLE_LEDGER_NAME = 'ACME US Primary';
export const ORACLE_CONTROL_BUDGET = 'US Operating';
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The ledger's General Ledger periods of a year (`Jan-27` …), each with a status ('O' open unless given). */
export function oracleLedgerPeriods(
  fiscalYear: number,
  status: (month: number) => 'O' | 'F' | 'C' | 'P' | 'N' = () => 'O',
  ledgerId = ORACLE_LEDGER_ID,
) {
  return MONTH_NAMES.map((m, i) => ({
    PeriodNameId: `${m}-${String(fiscalYear).slice(2)}`,
    ApplicationId: 101,
    LedgerId: ledgerId,
    ClosingStatus: status(i + 1),
    StartDate: `${fiscalYear}-${String(i + 1).padStart(2, '0')}-01`,
    EndDate: new Date(Date.UTC(fiscalYear, i + 1, 0)).toISOString().slice(0, 10),
  }));
}
