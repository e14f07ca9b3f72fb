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
