import {
  type ChartSpec,
  ChartSpec as ChartSpecSchema,
  chartChangeProblems,
  checkCombination,
  combinationText,
  type DimensionValueRef,
  isCanonical,
} from '../../../domain/chart';
import { CrossValidationRule, brokenRules } from '../../../domain/cross-validation';
import {
  ancestorsOf,
  cyclesIn,
  type HierarchyEdge,
  nestedTree,
  rollUpTo,
  treeAsOf,
} from '../../../domain/hierarchy';

const dim = (code: string, required: boolean, extra: Record<string, unknown> = {}) => ({
  code,
  kind: isCanonical(code) ? 'canonical' : 'custom',
  label: code,
  required,
  valuesFrom: 'closeloop',
  ...extra,
});

const manufacturer: ChartSpec = ChartSpecSchema.parse({
  dimensions: [
    dim('company', true, { balancing: true }),
    dim('ledger', true),
    dim('account', true, { format: '[0-9]{6}' }),
    dim('costCenter', false),
    dim('department', false),
    dim('project', false, { format: 'P-[0-9]+' }),
    dim('productLine', false),
    dim('location', false),
    dim('plant', false),
  ],
});

describe('a chart as data', () => {
  test.each([
    [
      'a custom dimension named as a canonical one',
      { dimensions: [dim('account', true), { ...dim('project', false), kind: 'custom' }] },
      /project is a canonical dimension/,
    ],
    [
      'a canonical dimension that is not',
      { dimensions: [dim('account', true), { ...dim('plant', false), kind: 'canonical' }] },
      /plant is not a canonical dimension/,
    ],
    ['no account', { dimensions: [dim('costCenter', true)] }, /books on account/],
    ['an optional account', { dimensions: [dim('account', false)] }, /books on account/],
    [
      'a dimension twice',
      { dimensions: [dim('account', true), dim('plant', false), dim('plant', true)] },
      /plant is declared twice/,
    ],
    [
      'two balancing dimensions',
      { dimensions: [dim('account', true, { balancing: true }), dim('company', true, { balancing: true })] },
      /at most one/,
    ],
    [
      'a format that is not a regular expression',
      { dimensions: [dim('account', true, { format: '[0-9' })] },
      /regular expression/,
    ],
    [
      'a dimension code that is not camelCase',
      { dimensions: [dim('account', true), dim('Cost-Center', false)] },
      /camelCase/,
    ],
  ])('refuses %s', (_name, spec, message) => {
    const parsed = ChartSpecSchema.safeParse(spec);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message);
  });

  test.each([
    [
      'a dimension removed',
      { dimensions: manufacturer.dimensions.filter((d) => d.code !== 'plant') },
      [/plant cannot be removed/],
    ],
    [
      'nothing but a new required dimension and a changed label',
      {
        dimensions: [
          ...manufacturer.dimensions.map((d) =>
            d.code === 'location' ? { ...d, label: 'Site', required: true } : d,
          ),
          dim('channel', true),
        ],
      },
      [],
    ],
  ])('a change of chart: %s', (_name, after, problems) => {
    const found = chartChangeProblems(manufacturer, ChartSpecSchema.parse(after));
    expect(found).toHaveLength(problems.length);
    problems.forEach((p, i) => expect(found[i]).toMatch(p));
  });

  test('a combination is written in the chart order, trailing empty places dropped', () => {
    expect(
      combinationText(manufacturer, { account: '640500', company: 'MFG-DE', ledger: 'L1', project: 'P-7' }),
    ).toBe('MFG-DE/L1/640500///P-7');
  });

  const list = (entries: [string, Partial<DimensionValueRef>][]) =>
    new Map(
      entries.map(([code, v]) => [
        code,
        { code, active: true, validFrom: '2020-01-01', validTo: null, ...v } as DimensionValueRef,
      ]),
    );
  const values: Record<string, Map<string, DimensionValueRef>> = {
    company: list([['MFG-DE', {}]]),
    ledger: list([['L1', {}]]),
    account: list([
      ['640500', {}],
      ['610200', { validTo: '2027-03-01' }],
    ]),
    costCenter: list([
      ['CC-100', { legalEntity: 'MFG-DE' }],
      ['CC-900', { legalEntity: 'MFG-US' }],
    ]),
    project: list([['P-7', { active: false }]]),
  };
  const ctx = {
    legalEntity: 'MFG-DE',
    spec: manufacturer,
    values: (d: string) => values[d],
    from: '2027-03-01',
    to: '2027-03-31',
  };

  test.each([
    [
      'a whole combination',
      { company: 'MFG-DE', ledger: 'L1', account: '640500', costCenter: 'CC-100', plant: 'ANY' },
      [],
    ],
    [
      'a dimension not in the chart',
      { company: 'MFG-DE', ledger: 'L1', account: '640500', fund: 'F1' },
      [['fund', 'not_in_chart']],
    ],
    [
      'required dimensions missing',
      { account: '640500' },
      [
        ['company', 'missing_dimension'],
        ['ledger', 'missing_dimension'],
      ],
    ],
    [
      'a code out of format',
      { company: 'MFG-DE', ledger: 'L1', account: '6405' },
      [['account', 'bad_format']],
    ],
    [
      'an unknown value',
      { company: 'MFG-DE', ledger: 'L2', account: '640500' },
      [['ledger', 'unknown_value']],
    ],
    [
      'a value ended before the period',
      { company: 'MFG-DE', ledger: 'L1', account: '610200' },
      [['account', 'inactive_value']],
    ],
    [
      'an inactive value',
      { company: 'MFG-DE', ledger: 'L1', account: '640500', project: 'P-7' },
      [['project', 'inactive_value']],
    ],
    [
      "another entity's value",
      { company: 'MFG-DE', ledger: 'L1', account: '640500', costCenter: 'CC-900' },
      [['costCenter', 'value_other_entity']],
    ],
  ])('checks %s', (_name, dims, expected) => {
    expect(checkCombination(dims, ctx).map((i) => [i.dimension, i.code])).toEqual(expected);
  });
});

describe('hierarchies, effective-dated', () => {
  const edges: HierarchyEdge[] = [
    { code: 'OPEX', parent: null, validFrom: '2020-01-01', validTo: null, name: 'Operating expenses' },
    { code: 'TRAVEL', parent: 'OPEX', validFrom: '2020-01-01', validTo: null },
    { code: 'FACILITIES', parent: 'OPEX', validFrom: '2020-01-01', validTo: null },
    { code: '640500', parent: 'TRAVEL', validFrom: '2020-01-01', validTo: '2027-07-01' },
    { code: '640500', parent: 'FACILITIES', validFrom: '2027-07-01', validTo: null },
    { code: '610200', parent: 'FACILITIES', validFrom: '2020-01-01', validTo: null },
  ];

  test.each([
    ['2027-03-15', '640500', ['TRAVEL', 'OPEX']],
    ['2027-07-01', '640500', ['FACILITIES', 'OPEX']],
    ['2027-07-01', 'OPEX', []],
    ['2027-07-01', 'UNKNOWN', []],
  ])('as of %s, %s sits under %j', (date, code, ancestors) => {
    expect(ancestorsOf(treeAsOf(edges, date), code)).toEqual(ancestors);
  });

  test.each([
    [0, 'OPEX'],
    [1, 'TRAVEL'],
    [2, '640500'],
    [5, '640500'],
  ])('rolls 640500 up to level %i: %s', (level, node) => {
    expect(rollUpTo(treeAsOf(edges, '2027-01-01'), '640500', level)).toBe(node);
  });

  test('reads the tree as nested nodes on two dates', () => {
    const codes = (date: string) =>
      JSON.stringify(nestedTree(edges, date), (k, v: unknown) => (k === 'name' ? undefined : v));
    expect(codes('2027-01-01')).toBe(
      '[{"code":"OPEX","children":[{"code":"FACILITIES","children":[{"code":"610200","children":[]}]},{"code":"TRAVEL","children":[{"code":"640500","children":[]}]}]}]',
    );
    expect(codes('2027-08-01')).toBe(
      '[{"code":"OPEX","children":[{"code":"FACILITIES","children":[{"code":"610200","children":[]},{"code":"640500","children":[]}]},{"code":"TRAVEL","children":[]}]}]',
    );
  });

  test('finds a cycle', () => {
    const cycles = cyclesIn([
      ...edges,
      { code: 'OPEX', parent: '640500', validFrom: '2027-09-01', validTo: null },
    ]);
    expect(cycles.map((c) => [...c].sort())).toEqual([['640500', 'FACILITIES', 'OPEX']]);
    expect(cyclesIn(edges)).toEqual([]);
  });
});

describe('cross-validation rules', () => {
  const rule = (r: Record<string, unknown>) =>
    CrossValidationRule.parse({ validFrom: '2020-01-01', description: 'a rule', ...r });
  const rules = [
    rule({
      code: 'OPEX-CC',
      description: 'accounts 6* need a cost center',
      condition: { account: ['6*'] },
      validation: { costCenter: [{ present: true }] },
    }),
    rule({
      code: 'PROJECT-FUND',
      description: 'projects only with grant funds',
      condition: { project: ['P-*'] },
      validation: { fund: ['GRANT-*'] },
    }),
    rule({
      code: 'LON-UK',
      description: 'London only in ACME-UK',
      condition: { location: ['LON'] },
      validation: { company: ['ACME-UK'] },
    }),
    rule({
      code: 'TRAVEL-DEPT',
      description: 'travel never on the plant departments',
      condition: { account: [{ under: 'TRAVEL' }] },
      validation: { department: { notIn: ['D-PLANT', 'D-9?'] } },
    }),
    rule({
      code: 'CAPEX-RANGE',
      description: 'capital accounts need a project',
      condition: { account: [{ range: ['150000', '159999'] }] },
      validation: { project: ['*'] },
      validFrom: '2027-07-01',
    }),
  ];
  const tree = treeAsOf(
    [
      { code: 'TRAVEL', parent: null, validFrom: '2020-01-01', validTo: null },
      { code: '640500', parent: 'TRAVEL', validFrom: '2020-01-01', validTo: null },
    ],
    '2027-03-01',
  );
  const trees = (d: string) => (d === 'account' ? tree : undefined);

  test.each([
    ['an expense with a cost center', { account: '610200', costCenter: 'CC-1' }, '2027-03-01', []],
    ['an expense without a cost center', { account: '610200' }, '2027-03-01', ['OPEX-CC']],
    ['a revenue account without one', { account: '410000' }, '2027-03-01', []],
    [
      'a project on a grant fund',
      { account: '510000', project: 'P-12', fund: 'GRANT-NSF' },
      '2027-03-01',
      [],
    ],
    [
      'a project on an operating fund',
      { account: '510000', project: 'P-12', fund: 'OPS' },
      '2027-03-01',
      ['PROJECT-FUND'],
    ],
    ['a project with no fund', { account: '510000', project: 'P-12' }, '2027-03-01', ['PROJECT-FUND']],
    [
      'London in ACME-US',
      { account: '410000', location: 'LON', company: 'ACME-US' },
      '2027-03-01',
      ['LON-UK'],
    ],
    [
      'travel on a plant department (exact)',
      { account: '640500', costCenter: 'C', department: 'D-PLANT' },
      '2027-03-01',
      ['TRAVEL-DEPT'],
    ],
    [
      'travel on a plant department (wildcard)',
      { account: '640500', costCenter: 'C', department: 'D-91' },
      '2027-03-01',
      ['TRAVEL-DEPT'],
    ],
    [
      'travel on an office department',
      { account: '640500', costCenter: 'C', department: 'D-10' },
      '2027-03-01',
      [],
    ],
    ['a capital account before its rule is in force', { account: '150100' }, '2027-03-01', []],
    ['a capital account after, without a project', { account: '150100' }, '2027-07-01', ['CAPEX-RANGE']],
    [
      'several rules broken at once',
      { account: '610200', project: 'P-1', fund: 'OPS' },
      '2027-03-01',
      ['OPEX-CC', 'PROJECT-FUND'],
    ],
  ])('%s', (_name, dims, date, broken) => {
    expect(brokenRules(rules, dims, date, trees).map((b) => b.rule)).toEqual(broken);
  });

  test('a broken rule says what it asks and what the line has', () => {
    const [b] = brokenRules(rules, { account: '510000', project: 'P-12', fund: 'OPS' }, '2027-03-01', trees);
    expect(b!.message).toBe(
      'rule PROJECT-FUND (projects only with grant funds): when project is P-*, fund is GRANT-*; the line has fund OPS',
    );
    expect(b!.dimensions).toEqual(['fund']);
  });

  test('refuses a rule with no condition or an end before its start', () => {
    expect(
      CrossValidationRule.safeParse({
        code: 'X1',
        description: 'bad',
        condition: {},
        validation: { a1: ['x'] },
        validFrom: '2027-01-01',
      }).success,
    ).toBe(false);
    expect(
      CrossValidationRule.safeParse({
        code: 'X1',
        description: 'bad',
        condition: { account: ['1'] },
        validation: { fund: ['x'] },
        validFrom: '2027-01-01',
        validTo: '2026-01-01',
      }).success,
    ).toBe(false);
  });
});
