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

  describe('closed periods keep what is in control', () => {
    // January is closed; what the budget holds there: 600100/CC-100 1000.00 on every target.
    const held = (amounts: bigint[], extra: [string, bigint[]][] = []) =>
      new Map<string, bigint[]>([['600100|CC-100|2027-01', amounts], ...extra]);
    const inControl = (
      policy: 'dead_letter' | 'next_open_period',
      amounts = [100000n],
      extra: [string, bigint[]][] = [],
    ) => ({
      ...reference,
      inControl: held(amounts, extra),
      closedPeriodPolicy: policy,
    });
    const jan = (amount: string) => row({ period: '2027-01', amount });
    const feb = (amount: string) => row({ period: '2027-02', amount });

    test.each([
      ['an unchanged line passes under either policy', 'dead_letter', [jan('1000.00'), feb('5.00')], [], []],
      [
        'an unchanged line passes under either policy',
        'next_open_period',
        [jan('1000'), feb('5.00')],
        [],
        [],
      ],
      [
        'a changed line is refused, naming the change',
        'dead_letter',
        [jan('1200.00'), feb('5.00')],
        [
          [
            1,
            'period_closed',
            /600100\/CC-100 in closed period 2027-01 would change from 1000.00 to 1200.00 USD/,
          ],
        ],
        [],
      ],
      [
        'a changed line is moved to the next open period',
        'next_open_period',
        [jan('1200.00'), feb('5.00')],
        [],
        [
          {
            account: '600100',
            costCenter: 'CC-100',
            from: '2027-01',
            to: '2027-02',
            amount: { amount: '200.00', currency: 'USD' },
          },
        ],
      ],
      [
        'a combination left out of a closed period is a change to zero',
        'dead_letter',
        [feb('5.00')],
        [[0, 'period_closed', /would change from 1000.00 to 0.00 USD/]],
        [],
      ],
      [
        'a combination left out of a closed period moves its amount out of the next open period',
        'next_open_period',
        [feb('5.00')],
        [],
        [
          {
            account: '600100',
            costCenter: 'CC-100',
            from: '2027-01',
            to: '2027-02',
            amount: { amount: '-1000.00', currency: 'USD' },
          },
        ],
      ],
    ] as const)('%s (%s)', (_name, policy, rows, expectedIssues, expectedMoves) => {
      const { issues, moves } = validateBudgetRows([...rows], inControl(policy));
      expect(issues.map((i) => [i.lineNo, i.code])).toEqual(expectedIssues.map(([n, c]) => [n, c]));
      expectedIssues.forEach(([, , message], i) => expect(issues[i]!.message).toMatch(message));
      expect(moves).toEqual(expectedMoves);
    });

    test('a moved change leaves the closed period as in control and lands in the next open one; the total holds', () => {
      const { lines, moves } = validateBudgetRows(
        [jan('1200.00'), feb('5.00')],
        inControl('next_open_period'),
      );
      expect(moves).toHaveLength(1);
      expect(lines.map((l) => [l.period, l.amount.amount])).toEqual([
        ['2027-01', '1000.00'],
        ['2027-02', '205.00'],
      ]);
      // Left out: the closed period keeps its line, the next open one gets a new line taking it back out.
      const dropped = validateBudgetRows(
        [row({ account: '699900', period: '2027-02' })],
        inControl('next_open_period'),
      );
      expect(dropped.issues).toEqual([]);
      expect(dropped.lines.map((l) => [l.dimensions.account, l.period, l.amount.amount])).toEqual([
        ['699900', '2027-02', '1000.00'],
        ['600100', '2027-01', '1000.00'],
        ['600100', '2027-02', '-1000.00'],
      ]);
    });

    test('nothing in control in a closed period means a line there must be zero', () => {
      expect(validateBudgetRows([row({ period: '2027-01', amount: '0.00' })], reference).issues).toEqual([]);
      expect(validateBudgetRows([row({ period: '2027-01' })], reference).issues).toEqual([
        expect.objectContaining({ lineNo: 1, code: 'period_closed' }),
      ]);
    });

    test('a change with no open period left in the year cannot move', () => {
      const allClosed = monthlyFiscalPeriods(2027).map((p) => ({ ...p, status: 'closed' as const }));
      const { issues } = validateBudgetRows([row({ period: '2027-12' })], {
        ...inControl('next_open_period'),
        periods: allClosed,
        inControl: new Map([['600100|CC-100|2027-12', [500n]]]),
      });
      expect(issues.map((i) => i.message)).toEqual([
        expect.stringMatching(/no later period of FY2027 is open to move the change to/),
      ]);
    });

    test('targets that hold different amounts refuse any line there until reconciled', () => {
      const { issues } = validateBudgetRows(
        [jan('1000.00')],
        inControl('next_open_period', [100000n, 90000n]),
      );
      expect(issues[0]?.message).toMatch(/its targets hold different amounts \(1000.00, 900.00 USD\)/);
    });
  });
});
