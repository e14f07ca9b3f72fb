import { type PlanningBudgetRow } from '../../domain/model';
import { monthlyFiscalPeriods } from '../../domain/reference';
import { monthlyPlanRows } from './plan-rows';

/**
 * The acquired subsidiary as its systems hold it: Northwind Instruments kept its NetSuite account (subsidiary 7
 * of a OneWorld account, US dollars, a fiscal year from April to March) and plans in the group's Anaplan model.
 * NetSuite keeps everything by internal ID: the group accounts are its accounts 354 on, the cost centers its
 * departments. The values mirror the seeded reference data and `netsuite` mappings (db/seed/acquired.ts).
 */

export const ACQUIRED = 'ACME-NW';
export const NETSUITE_SUBSIDIARY = '7';
export const NETSUITE_BUDGET_CATEGORY = '2';
export const NETSUITE_FIRST_MONTH = 4;

const CURRENCIES = [
  { id: '1', symbol: 'USD', name: 'US Dollar' },
  { id: '2', symbol: 'GBP', name: 'British pound' },
  { id: '3', symbol: 'CAD', name: 'Canadian Dollar' },
  { id: '4', symbol: 'EUR', name: 'Euro' },
];
/** The group chart's accounts as NetSuite accounts (internal ID, number, type), and two it keeps of its own. */
export const NETSUITE_ACCOUNTS = [
  { code: '600100', id: '354', number: '6001', name: 'Salaries and wages', type: 'Expense' },
  { code: '610200', id: '355', number: '6102', name: 'Travel and entertainment', type: 'Expense' },
  { code: '620300', id: '356', number: '6203', name: 'Software subscriptions', type: 'Expense' },
  {
    code: '630400',
    id: '357',
    number: '6304',
    name: 'Contractors and professional services',
    type: 'Expense',
  },
  { code: '640500', id: '358', number: '6405', name: 'Office rent', type: 'Expense' },
  { code: '650600', id: '359', number: '6506', name: 'Training and certification', type: 'Expense' },
  { code: null, id: '111', number: '2000', name: 'Accounts payable', type: 'AcctPay' },
  { code: null, id: '54', number: '4000', name: 'Sales', type: 'Income' },
];
export const NETSUITE_DEPARTMENTS = [
  { code: 'CC-910', id: '21', name: 'Sensor engineering' },
  { code: 'CC-920', id: '22', name: 'Northwind general and administrative' },
];

const PLAN = [
  { costCenter: 'CC-910', account: '600100', monthly: 3_100_000n },
  { costCenter: 'CC-910', account: '620300', monthly: 450_000n },
  { costCenter: 'CC-920', account: '640500', monthly: 800_000n },
];

const account = (code: string) => NETSUITE_ACCOUNTS.find((a) => a.code === code)!.id;
const department = (code: string) => NETSUITE_DEPARTMENTS.find((d) => d.code === code)!.id;

/** Its plan of a version: each later version raises sensor engineering's salaries by 1%. */
export function acquiredBudgetRows(fiscalYear: number, version = 1): PlanningBudgetRow[] {
  return monthlyPlanRows(PLAN, {
    fiscalYear,
    firstMonth: NETSUITE_FIRST_MONTH,
    currency: 'USD',
    version,
    raised: 'CC-910',
  });
}

/**
 * NetSuite's accounting periods for closeloop's fiscal years (FY2028 runs from April 2027 to March 2028): a year,
 * its quarters and its months, each month closed when it ends on or before `closedThrough`.
 */
function accountingPeriods(fiscalYears: number[], closedThrough?: string) {
  let id = 100;
  return fiscalYears.flatMap((fy) => {
    const months = monthlyFiscalPeriods(fy, NETSUITE_FIRST_MONTH);
    const row = (name: string, start: string, end: string, kind: 'year' | 'quarter' | 'month') => ({
      id: String(id++),
      periodname: name,
      startdate: start,
      enddate: end,
      isyear: kind === 'year' ? 'T' : 'F',
      isquarter: kind === 'quarter' ? 'T' : 'F',
      isadjust: 'F',
      closed: kind === 'month' && closedThrough && end <= closedThrough ? 'T' : 'F',
    });
    return [
      row(`FY ${fy}`, months[0]!.startDate, months[11]!.endDate, 'year'),
      ...[0, 1, 2, 3].map((q) =>
        row(`Q${q + 1} FY ${fy}`, months[q * 3]!.startDate, months[q * 3 + 2]!.endDate, 'quarter'),
      ),
      ...months.map((m) =>
        row(
          new Date(`${m.startDate}T00:00:00Z`).toLocaleString('en-US', {
            month: 'short',
            year: 'numeric',
            timeZone: 'UTC',
          }),
          m.startDate,
          m.endDate,
          'month',
        ),
      ),
    ];
  });
}

/**
 * The account's SuiteQL tables for a fiscal year: reference records, payroll and rent bills posted in its first
 * `monthsPosted` months (each bill's payable line on the balance sheet, as posted), one sales invoice line (income,
 * which the books read but no budget line holds), and two purchase orders: software half billed, a laptop
 * order not billed yet, and one fully billed (closed).
 */
export function netsuiteBooks(fiscalYear: number, opts: { monthsPosted?: number; years?: number[] } = {}) {
  const months = monthlyFiscalPeriods(fiscalYear, NETSUITE_FIRST_MONTH).slice(0, opts.monthsPosted ?? 3);
  const postingLine = (
    transaction: string,
    line: number,
    date: string,
    a: string,
    d: string | null,
    amount: number,
    memo: string,
  ) => ({
    transaction,
    line: String(line),
    trandate: date,
    lastmodified: date,
    account: a,
    accttype: NETSUITE_ACCOUNTS.find((x) => x.id === a)!.type,
    department: d,
    class: null,
    location: null,
    amount,
    currency: 'USD',
    memo,
    posting: 'T',
    subsidiary: NETSUITE_SUBSIDIARY,
  });
  const transactionaccountingline = months.flatMap((m, i) => {
    const day = `${m.startDate.slice(0, 7)}-25`;
    const payroll = String(5000 + i * 10 + 1);
    const rent = String(5000 + i * 10 + 2);
    return [
      postingLine(payroll, 1, day, account('600100'), department('CC-910'), 30450, `Payroll ${m.period}`),
      postingLine(payroll, 0, day, '111', null, -30450, `Payroll ${m.period}`),
      postingLine(rent, 1, day, account('640500'), department('CC-920'), 7980.5, `Rent ${m.period}`),
      postingLine(rent, 0, day, '111', null, -7980.5, `Rent ${m.period}`),
    ];
  });
  const first = months[0]!.startDate.slice(0, 7);
  transactionaccountingline.push(
    postingLine('6001', 1, `${first}-15`, '54', null, -12000, 'Sensor calibration contract'),
  );
  const order = (
    id: string,
    status: string,
    date: string,
    expected: string,
    quantity: number,
    billed: number,
    rate: number,
  ) => ({
    transaction: id,
    line: '1',
    trandate: date,
    duedate: expected,
    account: account('620300'),
    department: department('CC-910'),
    class: null,
    location: null,
    quantity,
    quantitybilled: billed,
    rate,
    currency: 'USD',
    type: 'PurchOrd',
    mainline: 'F',
    status,
    subsidiary: NETSUITE_SUBSIDIARY,
  });
  const start = monthlyFiscalPeriods(fiscalYear, NETSUITE_FIRST_MONTH)[0]!.startDate;
  const y = start.slice(0, 4);
  return {
    currency: CURRENCIES,
    subsidiary: [{ id: NETSUITE_SUBSIDIARY, name: 'Northwind Instruments Inc.', currency: '1' }],
    accountingperiod: accountingPeriods(opts.years ?? [fiscalYear - 1, fiscalYear, fiscalYear + 1]),
    account: NETSUITE_ACCOUNTS.map((a) => ({
      id: a.id,
      acctnumber: a.number,
      fullname: a.name,
      accttype: a.type,
      isinactive: 'F',
    })),
    department: NETSUITE_DEPARTMENTS.map((d) => ({
      id: d.id,
      name: d.name,
      parent: null,
      isinactive: 'F',
      subsidiary: NETSUITE_SUBSIDIARY,
    })),
    currencyrate: [
      { basecurrency: 'USD', transactioncurrency: 'CAD', exchangerate: 0.7321, effectivedate: `${y}-04-01` },
      { basecurrency: 'USD', transactioncurrency: 'EUR', exchangerate: 1.0875, effectivedate: `${y}-04-01` },
    ],
    transactionaccountingline,
    transaction: [
      order('7001', 'E', `${y}-04-20`, `${y}-06-30`, 10, 5, 1200),
      order('7002', 'B', `${y}-05-02`, `${y}-07-15`, 4, 0, 1875.25),
      order('7003', 'G', `${y}-04-05`, `${y}-04-30`, 2, 2, 900),
    ],
  };
}
