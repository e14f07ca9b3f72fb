import { validateBudgetRows } from '../../../domain/budget-validation';
import { type DimensionValueRef, twoDimensionChart } from '../../../domain/chart';
import { CrossValidationRule } from '../../../domain/cross-validation';
import { type PlanningBudgetRow } from '../../../domain/model';
import { monthlyFiscalPeriods, type ReferenceSnapshot } from '../../../domain/reference';
import { budgetKey } from '../../../domain/revision';

const periods = monthlyFiscalPeriods(2027);
periods[0]!.status = 'closed';
const list = (values: DimensionValueRef[]) => new Map(values.map((v) => [v.code, v]));
const reference: ReferenceSnapshot = {
  legalEntity: 'ACME-US',
  currency: 'USD',
  fiscalYear: 2027,
  periods,
  charts: [{ legalEntity: 'ACME-US', version: 1, validFrom: '1900-01-01', spec: twoDimensionChart('d365') }],
  values: new Map([
    [
      'account',
      list([
        { code: '600100', active: true, validFrom: '2020-01-01', validTo: null },
        { code: '699900', active: true, validFrom: '2020-01-01', validTo: '2027-06-15' },
        { code: '688800', active: false, validFrom: '2020-01-01', validTo: null },
      ]),
    ],
    [
      'costCenter',
      list([
        { code: 'CC-100', legalEntity: 'ACME-US', active: true, validFrom: '2020-01-01', validTo: null },
        { code: 'CC-900', legalEntity: 'ACME-US', active: false, validFrom: '2020-01-01', validTo: null },
        { code: 'DE-100', legalEntity: 'ACME-DE', active: true, validFrom: '2020-01-01', validTo: null },
      ]),
    ],
  ]),
};
type RowOver = Partial<Omit<PlanningBudgetRow, 'dimensions'>> & {
  account?: string;
  costCenter?: string;
  dimensions?: Record<string, string>;
};
const row = ({
  account = '600100',
  costCenter = 'CC-100',
  dimensions,
  ...over
}: RowOver = {}): PlanningBudgetRow => ({
  dimensions: dimensions ?? { account, costCenter },
  period: '2027-03',
  amount: '1000.00',
  currency: 'USD',
  ...over,
});
const inControlKey = (account: string, costCenter: string, period: string) =>
  budgetKey({ dimensions: { account, costCenter }, period });

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
      [7, 'account', 'unknown_value'],
      [8, 'account', 'inactive_value'],
      [9, 'account', 'inactive_value'],
      [10, 'costCenter', 'unknown_value'],
      [11, 'costCenter', 'inactive_value'],
      [12, 'costCenter', 'value_other_entity'],
      [13, 'version', 'duplicate_line'],
      [14, 'account', 'missing_dimension'],
    ]);
    expect(issues.find((i) => i.lineNo === 13)?.message).toMatch(/repeats line 1/);
  });

  test('an account retired in the middle of a period is not active throughout it', () => {
    expect(validateBudgetRows([row({ account: '699900', period: '2027-05' })], reference).issues).toEqual([]);
    expect(
      validateBudgetRows([row({ account: '699900', period: '2027-06' })], reference).issues[0]?.code,
    ).toBe('inactive_value');
  });

  test('an empty version is refused', () => {
    expect(validateBudgetRows([], reference).issues).toEqual([
      expect.objectContaining({ lineNo: 0, code: 'empty_version' }),
    ]);
  });

  describe('closed periods keep what is in control', () => {
    // January is closed; what the budget holds there: 600100/CC-100 1000.00 on every target.
    const held = (amounts: bigint[]) =>
      new Map([
        [
          inControlKey('600100', 'CC-100', '2027-01'),
          { dimensions: { account: '600100', costCenter: 'CC-100' }, period: '2027-01', byTarget: amounts },
        ],
      ]);
    const inControl = (policy: 'dead_letter' | 'next_open_period', amounts = [100000n]) => ({
      ...reference,
      inControl: held(amounts),
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
            dimensions: { account: '600100', costCenter: 'CC-100' },
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
            dimensions: { account: '600100', costCenter: 'CC-100' },
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
        inControl: new Map([
          [
            inControlKey('600100', 'CC-100', '2027-12'),
            { dimensions: { account: '600100', costCenter: 'CC-100' }, period: '2027-12', byTarget: [500n] },
          ],
        ]),
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

  describe("on an entity's own chart", () => {
    const spec = {
      dimensions: [
        ...twoDimensionChart('d365').dimensions.map((d) =>
          d.code === 'costCenter' ? { ...d, required: false } : d,
        ),
        {
          code: 'project',
          kind: 'canonical' as const,
          label: 'Project',
          required: false,
          valuesFrom: 'closeloop',
          format: 'P-[0-9]+',
          balancing: false,
        },
        {
          code: 'fund',
          kind: 'canonical' as const,
          label: 'Fund',
          required: false,
          valuesFrom: 'closeloop',
          balancing: false,
        },
      ],
    };
    const manufacturer: ReferenceSnapshot = {
      ...reference,
      charts: [
        { legalEntity: 'ACME-US', version: 1, validFrom: '1900-01-01', spec: twoDimensionChart('d365') },
        // From April, lines may carry a project and a fund.
        { legalEntity: 'ACME-US', version: 2, validFrom: '2027-04-01', spec },
      ],
      rules: {
        rules: [
          CrossValidationRule.parse({
            code: 'PROJECT-FUND',
            description: 'projects on grant funds',
            condition: { project: ['P-*'] },
            validation: { fund: ['GRANT-*'] },
            validFrom: '2020-01-01',
          }),
          CrossValidationRule.parse({
            code: 'OPEX-CC',
            description: 'expenses need a cost center',
            condition: { account: ['6*'] },
            validation: { costCenter: [{ present: true }] },
            validFrom: '2020-01-01',
          }),
        ],
        hierarchies: new Map(),
      },
    };

    test.each([
      ['two dimensions in March', { account: '600100', costCenter: 'CC-100' }, '2027-03', []],
      [
        'a project in March, before the chart has one',
        { account: '600100', costCenter: 'CC-100', project: 'P-1', fund: 'GRANT-A' },
        '2027-03',
        [
          ['project', 'not_in_chart'],
          ['fund', 'not_in_chart'],
        ],
      ],
      [
        'a project on a grant in May',
        { account: '600100', costCenter: 'CC-100', project: 'P-1', fund: 'GRANT-A' },
        '2027-05',
        [],
      ],
      [
        'a project on another fund in May',
        { account: '600100', costCenter: 'CC-100', project: 'P-1', fund: 'OPS' },
        '2027-05',
        [['fund', 'cross_validation', 'PROJECT-FUND']],
      ],
      [
        'an expense without a cost center, and a project out of format',
        { account: '600100', project: 'X-1', costCenter: '' },
        '2027-05',
        [
          ['project', 'bad_format'],
          ['costCenter', 'cross_validation', 'OPEX-CC'],
        ],
      ],
    ])('%s', (_name, dimensions, period, expected) => {
      const { issues, lines } = validateBudgetRows([row({ dimensions, period })], manufacturer);
      expect(issues.map((i) => [i.field, i.code, ...(i.rule ? [i.rule] : [])])).toEqual(expected);
      if (!expected.length)
        expect(lines[0]!.dimensions).toEqual(
          Object.fromEntries(Object.entries(dimensions).filter(([, v]) => v)),
        );
    });

    test('a value with no mapping to a target the version is published to is named before approval', () => {
      const mapping = (dimension: string, canonicalCode: string, systemValue: string) => ({
        dimension,
        canonicalCode,
        systemValue,
        validFrom: '2020-01-01',
        validTo: null,
      });
      const { issues } = validateBudgetRows(
        [
          row({
            dimensions: { account: '600100', costCenter: 'CC-100', project: 'P-1', fund: 'GRANT-A' },
            period: '2027-05',
          }),
        ],
        {
          ...manufacturer,
          targets: [
            {
              target: 'd365',
              mappings: [
                mapping('account', '600100', '60010'),
                mapping('costCenter', 'CC-100', '100'),
                mapping('fund', 'GRANT-A', 'GA'),
              ],
            },
          ],
        },
      );
      expect(issues.map((i) => [i.field, i.code, i.message])).toEqual([
        ['project', 'unmapped_value', 'project P-1 has no d365 mapping on 2027-05-01'],
      ]);
    });
  });
});
