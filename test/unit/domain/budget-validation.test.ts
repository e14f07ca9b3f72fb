import { validateBudgetRows } from '../../../domain/budget-validation';
import { type PlanningBudgetRow } from '../../../domain/model';
import { monthlyFiscalPeriods, type ReferenceSnapshot } from '../../../domain/reference';

const periods = monthlyFiscalPeriods(2027);
periods[0]!.status = 'closed';
const reference: ReferenceSnapshot = {
  legalEntity: 'ACME-US',
  currency: 'USD',
  fiscalYear: 2027,
  periods,
  accounts: [
    { code: '600100', active: true, validFrom: '2020-01-01', validTo: null },
    { code: '699900', active: true, validFrom: '2020-01-01', validTo: '2027-06-15' },
    { code: '688800', active: false, validFrom: '2020-01-01', validTo: null },
  ],
  costCenters: [
    { code: 'CC-100', legalEntity: 'ACME-US', active: true, validFrom: '2020-01-01', validTo: null },
    { code: 'CC-900', legalEntity: 'ACME-US', active: false, validFrom: '2020-01-01', validTo: null },
    { code: 'DE-100', legalEntity: 'ACME-DE', active: true, validFrom: '2020-01-01', validTo: null },
  ],
};
const row = (over: Partial<PlanningBudgetRow> = {}): PlanningBudgetRow => ({
  account: '600100',
  costCenter: 'CC-100',
  period: '2027-03',
  amount: '1000.00',
  currency: 'USD',
  ...over,
});

describe('budget validation', () => {
  test('a clean version becomes canonical lines with money in the entity currency', () => {
    const { lines, issues } = validateBudgetRows(
      [row(), row({ period: '2027-04', amount: '12.5' })],
      reference,
    );
    expect(issues).toEqual([]);
    expect(lines).toEqual([
      {
        lineNo: 1,
        dimensions: { account: '600100', costCenter: 'CC-100' },
        period: '2027-03',
        amount: { amount: '1000.00', currency: 'USD' },
      },
      {
        lineNo: 2,
        dimensions: { account: '600100', costCenter: 'CC-100' },
        period: '2027-04',
        amount: { amount: '12.50', currency: 'USD' },
      },
    ]);
  });

  test('every offending line is listed with its field and reason, and nothing is accepted', () => {
    const rows = [
      row(),
      row({ period: '2027-02', amount: '1,000.00' }),
      row({ period: '2027-05', amount: '1.001' }),
      row({ period: '2027-06', currency: 'EUR' }),
      row({ period: '2031-01' }),
      row({ period: '2027-01' }),
      row({ account: '999999', period: '2027-07' }),
      row({ account: '699900', period: '2027-06' }),
      row({ account: '688800', period: '2027-08' }),
      row({ costCenter: 'CC-404', period: '2027-09' }),
      row({ costCenter: 'CC-900', period: '2027-10' }),
      row({ costCenter: 'DE-100', period: '2027-11' }),
      row(),
      row({ account: '', period: '2027-12' }),
    ];
    const { lines, issues } = validateBudgetRows(rows, reference);
    expect(lines).toEqual([]);
    expect(issues.map((i) => [i.lineNo, i.field, i.code])).toEqual([
      [2, 'amount', 'not_decimal'],
      [3, 'amount', 'too_many_decimals'],
      [4, 'currency', 'currency_mismatch'],
      [5, 'period', 'period_outside_calendar'],
      [6, 'period', 'period_closed'],
      [7, 'account', 'unknown_account'],
      [8, 'account', 'inactive_account'],
      [9, 'account', 'inactive_account'],
      [10, 'costCenter', 'unknown_cost_center'],
      [11, 'costCenter', 'inactive_cost_center'],
      [12, 'costCenter', 'cost_center_other_entity'],
      [13, 'version', 'duplicate_line'],
      [14, 'account', 'missing_field'],
    ]);
    expect(issues.find((i) => i.lineNo === 13)?.message).toMatch(/repeats line 1/);
  });

  test('an account retired in the middle of a period is not active throughout it', () => {
    expect(validateBudgetRows([row({ account: '699900', period: '2027-05' })], reference).issues).toEqual([]);
    expect(
      validateBudgetRows([row({ account: '699900', period: '2027-06' })], reference).issues[0]?.code,
    ).toBe('inactive_account');
  });

  test('an empty version is refused', () => {
    expect(validateBudgetRows([], reference).issues).toEqual([
      expect.objectContaining({ lineNo: 0, code: 'empty_version' }),
    ]);
  });
});
