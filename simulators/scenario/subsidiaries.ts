import { type PlanningBudgetRow } from '../../domain/model';
import { fromMinor } from '../../domain/money';
import { monthlyFiscalPeriods } from '../../domain/reference';
import { type LedgerEntry, d365MainAccount } from './services-company';

/**
 * The subsidiaries as their systems hold them: each one's plan in Anaplan (in its own currency, by its own
 * fiscal calendar) and the actuals its Dynamics 365 company has posted. Amounts are integer minor units.
 */

/**
 * Each subsidiary's books as its systems keep them: its D365 company, currency, the month its fiscal year
 * starts, and its cost centers' dimension values (mirrors the seeded reference data and mappings).
 */
export const SUBSIDIARY_BOOKS = [
  {
    code: 'ACME-UK',
    erpCompany: 'acuk',
    functionalCurrency: 'GBP',
    firstMonth: 4,
    costCenters: [
      { code: 'CC-510', name: 'London consulting', erpValue: '510' },
      { code: 'CC-520', name: 'UK general and administrative', erpValue: '520' },
    ],
  },
  {
    code: 'ACME-DE',
    erpCompany: 'acde',
    functionalCurrency: 'EUR',
    firstMonth: 1,
    costCenters: [
      { code: 'CC-610', name: 'Berlin engineering', erpValue: '610' },
      { code: 'CC-620', name: 'DE general and administrative', erpValue: '620' },
    ],
  },
];

interface PlanItem {
  costCenter: string;
  account: string;
  /** Monthly budget in minor units of the entity's currency. */
  monthly: bigint;
}

const PLANS: Record<string, PlanItem[]> = {
  'ACME-UK': [
    { costCenter: 'CC-510', account: '600100', monthly: 4_200_000n },
    { costCenter: 'CC-510', account: '610200', monthly: 600_000n },
    { costCenter: 'CC-520', account: '640500', monthly: 1_500_000n },
  ],
  'ACME-DE': [
    { costCenter: 'CC-610', account: '600100', monthly: 5_500_000n },
    { costCenter: 'CC-610', account: '620300', monthly: 900_000n },
    { costCenter: 'CC-620', account: '640500', monthly: 1_100_000n },
  ],
};

function subsidiary(legalEntity: string) {
  const s = SUBSIDIARY_BOOKS.find((x) => x.code === legalEntity);
  if (!s) throw new Error(`${legalEntity} is not one of the seeded subsidiaries`);
  return s;
}

export function periodsOf(legalEntity: string, fiscalYear: number) {
  return monthlyFiscalPeriods(fiscalYear, subsidiary(legalEntity).firstMonth);
}

function erpCostCenter(legalEntity: string, costCenter: string): string {
  const cc = subsidiary(legalEntity).costCenters.find((c) => c.code === costCenter);
  if (!cc) throw new Error(`no D365 cost center for ${costCenter}`);
  return cc.erpValue;
}

/** A subsidiary's budget rows for the year, flat across its twelve periods. */
export function subsidiaryBudgetRows(legalEntity: string, fiscalYear: number): PlanningBudgetRow[] {
  const currency = subsidiary(legalEntity).functionalCurrency;
  return PLANS[legalEntity]!.flatMap((item) =>
    periodsOf(legalEntity, fiscalYear).map((p) => ({
      dimensions: { account: item.account, costCenter: item.costCenter },
      period: p.period,
      amount: fromMinor(item.monthly, currency),
      currency,
    })),
  );
}

/**
 * Posted actuals of the year's periods that end by `throughMonth` (a calendar month: the UK's fiscal year
 * ends in March, so "2027-03" is its whole FY2027): 98% of plan.
 */
export function subsidiaryLedgerEntries(
  legalEntity: string,
  fiscalYear: number,
  throughMonth: string,
): LedgerEntry[] {
  const currency = subsidiary(legalEntity).functionalCurrency;
  const prefix = legalEntity.slice(-2);
  return periodsOf(legalEntity, fiscalYear)
    .filter((p) => p.endDate.slice(0, 7) <= throughMonth)
    .flatMap((p) =>
      PLANS[legalEntity]!.map((item, i) => {
        const accountingDate = `${p.startDate.slice(0, 8)}${String(12 + i).padStart(2, '0')}`;
        return {
          journalNumber: `GJ-${prefix}-${p.period.replace('-', '')}-${String(i + 1).padStart(3, '0')}`,
          voucher: `${prefix}JL${p.period.replace('-', '')}${String(i + 1).padStart(4, '0')}`,
          accountingDate,
          mainAccount: d365MainAccount(item.account, accountingDate),
          costCenter: erpCostCenter(legalEntity, item.costCenter),
          amount: fromMinor((item.monthly * 98n) / 100n, currency),
          currency,
          text: `${item.account} ${item.costCenter} ${p.period}`,
        };
      }),
    );
}

/** The subsidiaries' own cost-center dimension values in D365 (restricted to their company). */
export function subsidiaryDimensionValues() {
  return SUBSIDIARY_BOOKS.flatMap((s) =>
    s.costCenters.map((c) => ({
      DimensionValue: c.erpValue,
      Description: c.name,
      LegalEntityId: s.erpCompany,
      ActiveFrom: '2020-01-01',
    })),
  );
}
