/**
 * European operations on SAP S/4HANA: the German company's company code, as its SAP system keeps it (a euro
 * company code on the calendar-year variant with four special periods), and the plan data category its approved
 * budget is written to. Its values mirror the seeded `sap` dimension mappings (db/seed/subsidiaries.ts).
 */
export const SAP_COMPANY_CODE = '1010';
export const SAP_PLANNING_CATEGORY = 'PLN';
export const sapCompanyCodes = [
  { CompanyCode: SAP_COMPANY_CODE, Currency: 'EUR', FiscalYearVariant: 'K4', specialPeriods: 4 },
];

const GL = { salaries: '61001000', software: '62030000', rent: '64050000' };
const CC = { berlin: '10101610', admin: '10101620' };

/**
 * The company code's books in SAP for a year: a payroll and a rent document a month through `throughMonth`
 * (the rent's vendor line on a balance sheet account, as posted), a software order half received, and the
 * rates, cost centers and G/L accounts.
 */
export function sapBooks(fiscalYear: number, throughMonth = `${fiscalYear}-03`) {
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
    PurchasingDocument: '4500000010',
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
      order('4500000010', '00010', '12000.000', `${fiscalYear}-02-01`),
      order('4500000011', '00010', '3000.000', `${fiscalYear}-05-01`),
      order('4500000012', '00010', '900.000', `${fiscalYear}-01-15`, { IsFinallyInvoiced: true }),
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
        CostCenterStandardHierArea: 'DE_OPS',
        to_Text: [{ Language: 'EN', CostCenterName: 'Berlin engineering' }],
      },
      {
        ControllingArea: 'A000',
        CostCenter: CC.admin,
        ValidityEndDate: '9999-12-31',
        ValidityStartDate: '2020-01-01',
        CompanyCode: SAP_COMPANY_CODE,
        IsBlkdForPrimaryCostsPosting: false,
        CostCenterStandardHierArea: 'DE_ADMIN',
        to_Text: [{ Language: 'EN', CostCenterName: 'DE general and administrative' }],
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
