import { type PlanningBudgetRow } from '../../domain/model';
import { fromMinor } from '../../domain/money';
import { monthlyFiscalPeriods } from '../../domain/reference';
import { monthlyPlanRows } from './plan-rows';
import { type JournalSeed, type PurchaseOrderSeed } from '../oracle/simulator';

/**
 * Group corporate finance as its systems hold it: its plan in Anaplan, and in its Oracle Fusion ledger the
 * journals posted so far, its open purchase orders, the daily rates treasury loads and the chart's values.
 * Amounts are integer cents; the ledger's account combinations are `<natural account>-<cost center>`. The
 * ledger, its values and names mirror the seeded reference data (db/seed/corporate.ts) and mappings.
 */

export const CORPORATE = 'ACME-CORP';
export const CORPORATE_LEDGER = {
  id: 300000046976001,
  name: 'ACME Corporate USD',
  budgetName: 'Corporate Plan',
  legalEntityName: 'Acme Group Holdings Inc.',
};

/** The chart's natural accounts as Oracle values, with their names and last active day (inclusive). */
const ACCOUNTS = [
  { code: '600100', value: '6001', name: 'Salaries and wages' },
  { code: '610200', value: '6102', name: 'Travel and entertainment' },
  { code: '620300', value: '6203', name: 'Software subscriptions' },
  { code: '630400', value: '6304', name: 'Contractors and professional services' },
  { code: '640500', value: '6405', name: 'Office rent' },
  { code: '650600', value: '6506', name: 'Training and certification' },
  { code: '699900', value: '6999', name: 'Legacy consulting fees', end: '2026-06-30' },
];
const COST_CENTERS = [
  { code: 'CC-810', value: '1810', name: 'Group treasury' },
  { code: 'CC-820', value: '1820', name: 'Group finance and audit' },
  // ACME-US's, for an order sold to another legal entity.
  { code: 'CC-100', value: '1100', name: 'Consulting delivery' },
];

const PLAN = [
  { costCenter: 'CC-810', account: '600100', monthly: 9_000_000n },
  { costCenter: 'CC-810', account: '630400', monthly: 2_500_000n },
  { costCenter: 'CC-820', account: '600100', monthly: 7_000_000n },
  { costCenter: 'CC-820', account: '610200', monthly: 800_000n },
  { costCenter: 'CC-820', account: '640500', monthly: 2_200_000n },
];

const oracleValue = (dimension: 'account' | 'costCenter', code: string) => {
  const found = (dimension === 'account' ? ACCOUNTS : COST_CENTERS).find((x) => x.code === code);
  if (!found) throw new Error(`no Oracle ${dimension} value for ${code}`);
  return found.value;
};
const combination = (account: string, costCenter: string) =>
  `${oracleValue('account', account)}-${oracleValue('costCenter', costCenter)}`;

/** The plan of a version: each later version raises group finance's salaries by 1%, so versions differ. */
export function corporateBudgetRows(fiscalYear: number, version = 1): PlanningBudgetRow[] {
  return monthlyPlanRows(PLAN, { fiscalYear, currency: 'USD', version, raised: 'CC-820' });
}

/**
 * One posted batch a month through `throughMonth`: every plan line at 97% of plan, posted on the 20th and
 * posted in General Ledger on the 25th (one journal per cost center).
 */
export function corporateJournals(fiscalYear: number, throughMonth: string): JournalSeed[] {
  return monthlyFiscalPeriods(fiscalYear)
    .filter((p) => p.startDate.slice(0, 7) <= throughMonth)
    .map((p) => ({
      BatchName: `CORP ACCRUALS ${p.period}`,
      PostedDate: `${p.startDate.slice(0, 8)}25`,
      journals: COST_CENTERS.slice(0, 2).map((cc) => ({
        JournalName: `Monthly costs ${cc.code} ${p.period}`,
        LedgerName: CORPORATE_LEDGER.name,
        CurrencyCode: 'USD',
        DefaultEffectiveDate: `${p.startDate.slice(0, 8)}20`,
        lines: PLAN.filter((item) => item.costCenter === cc.code).map((item) => ({
          AccountCombination: combination(item.account, item.costCenter),
          EnteredDr: fromMinor((item.monthly * 97n) / 100n, 'USD'),
          Description: `${item.account} ${item.costCenter} ${p.period}`,
        })),
      })),
    }));
}

/** An order of one line, one schedule and one distribution, as most of corporate's are. */
function singleLineOrder(o: {
  number: string;
  revision?: number;
  soldTo: string;
  account: string;
  costCenter: string;
  budgetDate: string;
  ordered: string;
  billed?: string;
}): PurchaseOrderSeed {
  const distribution = {
    DistributionNumber: 1,
    POChargeAccount: combination(o.account, o.costCenter),
    BudgetDate: o.budgetDate,
    Ordered: o.ordered,
    ...(o.billed ? { AmountBilled: o.billed } : {}),
  };
  return {
    OrderNumber: o.number,
    Revision: o.revision ?? 0,
    SoldToLegalEntity: o.soldTo,
    CurrencyCode: 'USD',
    lines: [{ LineNumber: 1, schedules: [{ ScheduleNumber: 1, distributions: [distribution] }] }],
  };
}

/** Open orders: an audit engagement half invoiced, and a treasury system subscription not yet invoiced. */
export function corporatePurchaseOrders(fiscalYear: number): PurchaseOrderSeed[] {
  const corporate = CORPORATE_LEDGER.legalEntityName;
  return [
    singleLineOrder({
      number: `CORP-${fiscalYear}-0101`,
      revision: 1,
      soldTo: corporate,
      account: '630400',
      costCenter: 'CC-820',
      budgetDate: `${fiscalYear}-04-15`,
      ordered: '60000.00',
      billed: '30000.00',
    }),
    singleLineOrder({
      number: `CORP-${fiscalYear}-0102`,
      soldTo: corporate,
      account: '630400',
      costCenter: 'CC-810',
      budgetDate: `${fiscalYear}-05-01`,
      ordered: '18000.00',
    }),
    // Another legal entity's order: not corporate's commitment.
    singleLineOrder({
      number: `US-${fiscalYear}-0900`,
      soldTo: 'Acme Services US Inc.',
      account: '630400',
      costCenter: 'CC-100',
      budgetDate: `${fiscalYear}-05-01`,
      ordered: '5000.00',
    }),
  ];
}

/** Treasury's daily Corporate (average) rates of euro and sterling against the dollar, for the first days. */
export function corporateRates(fiscalYear: number) {
  return ['01', '02', '03'].flatMap((day) => [
    {
      FromCurrency: 'EUR',
      ToCurrency: 'USD',
      UserConversionType: 'Corporate',
      ConversionDate: `${fiscalYear}-01-${day}`,
      ConversionRate: '1.0850',
    },
    {
      FromCurrency: 'GBP',
      ToCurrency: 'USD',
      UserConversionType: 'Corporate',
      ConversionDate: `${fiscalYear}-01-${day}`,
      ConversionRate: '1.2700',
    },
  ]);
}

/**
 * The chart's natural account value set (a parent value is a summary, not posted to; legacy consulting was
 * closed mid-2026, as in every ledger of the group) and corporate's cost center values.
 */
export function corporateValueSets() {
  return {
    ACME_ACCOUNT: [
      { Value: '6000', Description: 'Operating expenses', SummaryFlag: 'Y' as const },
      ...ACCOUNTS.map((a) => ({
        Value: a.value,
        Description: a.name,
        AccountType: 'E' as const,
        EndDateActive: a.end ?? null,
      })),
    ],
    ACME_COST_CENTER: COST_CENTERS.slice(0, 2).map((c) => ({ Value: c.value, Description: c.name })),
  };
}
