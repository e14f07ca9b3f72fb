import { type PlanningBudgetRow } from '../../domain/model';
import { monthlyPlanRows } from './plan-rows';

/**
 * European operations on SAP S/4HANA: the German company's company code, as its SAP system keeps it (a euro
 * company code on the calendar-year variant with four special periods), and the plan data category its approved
 * budget is written to. Its values mirror the seeded `sap` dimension mappings (db/seed/subsidiaries.ts).
 */
export const SAP_COMPANY_CODE = '1010';
export const SAP_PLANNING_CATEGORY = 'PLN';
export const NL_COMPANY_CODE = '1710';
export const sapCompanyCodes = [
  { CompanyCode: SAP_COMPANY_CODE, Currency: 'EUR', FiscalYearVariant: 'K4', specialPeriods: 4 },
  { CompanyCode: NL_COMPANY_CODE, Currency: 'EUR', FiscalYearVariant: 'K4', specialPeriods: 4 },
];

/**
 * Acme Manufacturing Europe's company code, whose books are in SAP (ACME-NL, db/seed/sap-and-netsuite-entities.ts),
 * with its cost centers (its Rotterdam plant and its administration).
 */
export const NL_BOOKS = {
  companyCode: NL_COMPANY_CODE,
  /** Purchase order numbers are unique in the SAP client: each company code's run in its own range. */
  orderRange: '45171',
  costCenters: {
    main: { value: '17101930', name: 'Rotterdam assembly', area: 'NL_OPS' },
    admin: { value: '17101940', name: 'NL general and administrative', area: 'NL_ADMIN' },
  },
};
const DE_BOOKS: typeof NL_BOOKS = {
  companyCode: SAP_COMPANY_CODE,
  orderRange: '45000',
  costCenters: {
    main: { value: '10101610', name: 'Berlin engineering', area: 'DE_OPS' },
    admin: { value: '10101620', name: 'DE general and administrative', area: 'DE_ADMIN' },
  },
};

const GL = { salaries: '61001000', software: '62030000', rent: '64050000' };

/**
 * A company code's books in SAP for a year: a payroll and a rent document a month through `throughMonth`
 * (the rent's vendor line on a balance sheet account, as posted), a software order half received, and the
 * rates, cost centers and G/L accounts. The German company code's unless `books` names another.
 */
export function sapBooks(fiscalYear: number, throughMonth = `${fiscalYear}-03`, books = DE_BOOKS) {
  const SAP_COMPANY_CODE = books.companyCode;
  const CC = { berlin: books.costCenters.main.value, admin: books.costCenters.admin.value };
  const months = Array.from(
    { length: 12 },
    (_, i) => `${fiscalYear}-${String(i + 1).padStart(2, '0')}`,
  ).filter((m) => m <= throughMonth);
  const journal = months.flatMap((m, i) => {
    const doc = (n: number) => String(100000000 + i * 10 + n);
    const base = {
      CompanyCode: SAP_COMPANY_CODE,
      FiscalYear: String(fiscalYear),
      PostingDate: `${m}-25`,
      AccountingDocumentCreationDate: `${m}-25`,
      TransactionCurrency: 'EUR',
    };
    return [
      {
        ...base,
        AccountingDocument: doc(1),
        AccountingDocumentItem: '001',
        GLAccount: GL.salaries,
        CostCenter: CC.berlin,
        AmountInTransactionCurrency: '53900.00',
        DocumentItemText: `Payroll ${m}`,
      },
      {
        ...base,
        AccountingDocument: doc(2),
        AccountingDocumentItem: '001',
        GLAccount: GL.rent,
        CostCenter: CC.admin,
        AmountInTransactionCurrency: '10780.00',
        DocumentItemText: `Rent ${m}`,
      },
      {
        ...base,
        AccountingDocument: doc(2),
        AccountingDocumentItem: '002',
        GLAccount: '21100000',
        AmountInTransactionCurrency: '-10780.00',
        IsBalanceSheetAccount: true,
      },
    ];
  });
  // The goods receipt of half the software order: an expense line that carries the order.
  journal.push({
    CompanyCode: SAP_COMPANY_CODE,
    FiscalYear: String(fiscalYear),
    PostingDate: `${fiscalYear}-02-10`,
    AccountingDocumentCreationDate: `${fiscalYear}-02-10`,
    TransactionCurrency: 'EUR',
    AccountingDocument: '500000001',
    AccountingDocumentItem: '001',
    GLAccount: GL.software,
    CostCenter: CC.berlin,
    AmountInTransactionCurrency: '6000.00',
    DocumentItemText: 'GR software licences',
    PurchasingDocument: `${books.orderRange}00010`,
    PurchasingDocumentItem: '00010',
  } as (typeof journal)[number]);
  const order = (
    po: string,
    item: string,
    amount: string,
    delivery: string,
    extra: Record<string, unknown> = {},
  ) => ({
    PurchaseOrder: po,
    CompanyCode: SAP_COMPANY_CODE,
    PurchasingDocumentDeletionCode: '',
    to_PurchaseOrderItem: [
      {
        PurchaseOrderItem: item,
        PurchasingDocumentDeletionCode: '',
        IsFinallyInvoiced: false,
        DocumentCurrency: 'EUR',
        ...extra,
        to_AccountAssignment: [
          {
            AccountAssignmentNumber: '01',
            IsDeleted: false,
            PurgDocNetAmount: amount,
            GLAccount: GL.software,
            CostCenter: CC.berlin,
          },
        ],
        to_ScheduleLine: [{ ScheduleLineDeliveryDate: delivery }],
      },
    ],
  });
  return {
    journal,
    purchaseOrders: [
      order(`${books.orderRange}00010`, '00010', '12000.000', `${fiscalYear}-02-01`),
      order(`${books.orderRange}00011`, '00010', '3000.000', `${fiscalYear}-05-01`),
      order(`${books.orderRange}00012`, '00010', '900.000', `${fiscalYear}-01-15`, {
        IsFinallyInvoiced: true,
      }),
    ],
    exchangeRates: [
      {
        ExchangeRateType: 'M',
        SourceCurrency: 'USD',
        TargetCurrency: 'EUR',
        ValidityStartDate: `${fiscalYear}-01-01`,
        ExchangeRate: '0.92000',
        NumberOfSourceCurrencyUnits: '1',
        NumberOfTargetCurrencyUnits: '1',
      },
      {
        ExchangeRateType: 'M',
        SourceCurrency: 'JPY',
        TargetCurrency: 'EUR',
        ValidityStartDate: `${fiscalYear}-01-01`,
        ExchangeRate: '0.62000',
        NumberOfSourceCurrencyUnits: '100',
        NumberOfTargetCurrencyUnits: '1',
      },
      {
        ExchangeRateType: 'EURX',
        SourceCurrency: 'USD',
        TargetCurrency: 'EUR',
        ValidityStartDate: `${fiscalYear}-01-01`,
        ExchangeRate: '0.90000',
        NumberOfSourceCurrencyUnits: '1',
        NumberOfTargetCurrencyUnits: '1',
      },
    ],
    costCenters: [
      {
        ControllingArea: 'A000',
        CostCenter: CC.berlin,
        ValidityEndDate: '9999-12-31',
        ValidityStartDate: '2020-01-01',
        CompanyCode: SAP_COMPANY_CODE,
        IsBlkdForPrimaryCostsPosting: false,
        CostCenterStandardHierArea: books.costCenters.main.area,
        to_Text: [{ Language: 'EN', CostCenterName: books.costCenters.main.name }],
      },
      {
        ControllingArea: 'A000',
        CostCenter: CC.admin,
        ValidityEndDate: '9999-12-31',
        ValidityStartDate: '2020-01-01',
        CompanyCode: SAP_COMPANY_CODE,
        IsBlkdForPrimaryCostsPosting: false,
        CostCenterStandardHierArea: books.costCenters.admin.area,
        to_Text: [{ Language: 'EN', CostCenterName: books.costCenters.admin.name }],
      },
    ],
    glAccounts: [
      ['61001000', 'Salaries and wages', 'P'],
      ['62030000', 'Software subscriptions', 'P'],
      ['64050000', 'Office rent', 'P'],
      ['21100000', 'Trade payables', 'X'],
    ].map(([GLAccount, name, GLAccountType]) => ({
      ChartOfAccounts: 'YCOA',
      GLAccount,
      GLAccountType,
      AccountIsBlockedForPosting: false,
      AccountIsMarkedForDeletion: false,
      to_Text: [{ Language: 'EN', GLAccountName: name }],
    })),
  };
}

const NL_PLAN = [
  { costCenter: 'CC-930', account: '600100', monthly: 4_800_000n },
  { costCenter: 'CC-930', account: '620300', monthly: 1_000_000n },
  { costCenter: 'CC-940', account: '640500', monthly: 1_200_000n },
];

/** Acme Manufacturing Europe's plan of a version: each later version raises Rotterdam's salaries by 1%. */
export function europeBudgetRows(fiscalYear: number, version = 1): PlanningBudgetRow[] {
  return monthlyPlanRows(NL_PLAN, { fiscalYear, currency: 'EUR', version, raised: 'CC-930' });
}
