import {
  ControlBudgetSpec,
  controlBudgetKeyText,
  controlBudgetPeriods,
  controlBudgetsOf,
} from '../../../domain/control-budgets';
import { monthlyFiscalPeriods } from '../../../domain/reference';
import { treeAsOf } from '../../../domain/hierarchy';

const accounts = treeAsOf(
  [
    { code: 'OPEX', parent: null, validFrom: '2020-01-01', validTo: null },
    { code: 'TRAVEL', parent: 'OPEX', validFrom: '2020-01-01', validTo: null },
    { code: '610200', parent: 'TRAVEL', validFrom: '2020-01-01', validTo: null },
    { code: '640500', parent: 'OPEX', validFrom: '2020-01-01', validTo: null },
  ],
  '2027-06-30',
);
const trees = (d: string) => (d === 'account' ? accounts : undefined);

const spec = (body: object) =>
  ControlBudgetSpec.parse({ level: 'absolute', periodBasis: 'quarter', validFrom: '2027-01-01', ...body });
const OPEX_BY_DEPARTMENT = spec({
  code: 'OPEX-DEPT',
  description: 'operating expenses per department',
  covers: { account: [{ under: 'OPEX' }] },
  per: 'department',
});
const TRAVEL_BY_CC = spec({
  code: 'TRAVEL-CC',
  description: 'travel per cost center',
  covers: { account: [{ under: 'TRAVEL' }] },
  per: 'costCenter,account@1',
  tolerancePercent: '5',
});
const GRANTS = spec({
  code: 'GRANTS',
  description: 'each grant over its award',
  covers: { fund: ['GRANT-*'] },
  per: 'fund',
  periodBasis: 'life_to_date',
  validTo: '2030-01-01',
});
const SPECS = [GRANTS, TRAVEL_BY_CC, OPEX_BY_DEPARTMENT];

describe('ControlBudgetSpec', () => {
  it('reads `per` as a grouping and refuses what it cannot read, naming the field', () => {
    expect(TRAVEL_BY_CC.per).toEqual([{ dimension: 'costCenter' }, { dimension: 'account', level: 1 }]);
    const bad = ControlBudgetSpec.safeParse({
      code: 'x',
      description: 'no',
      covers: {},
      per: 'Dept',
      level: 'strict',
      periodBasis: 'forever',
      validFrom: '2027-02-30',
    });
    expect(bad.success).toBe(false);
    expect(new Set(bad.error!.issues.map((i) => i.path.join('.')))).toEqual(
      new Set(['code', 'description', 'covers', 'per', 'level', 'periodBasis', 'validFrom']),
    );
  });
});

describe('controlBudgetsOf: every budget a line falls in', () => {
  it.each<[string, Record<string, string>, string, string[]]>([
    [
      'travel falls in the department budget and the travel budget',
      { account: '610200', costCenter: 'CC-100', department: 'ENG' },
      '2027-03-01',
      ['OPEX-DEPT[department=ENG]', 'TRAVEL-CC[account@1=TRAVEL,costCenter=CC-100]'],
    ],
    [
      'rent only in the department budget; a line without a department in its own',
      { account: '640500', costCenter: 'CC-100' },
      '2027-03-01',
      ['OPEX-DEPT[department=]'],
    ],
    [
      'a grant line outside operating expenses',
      { account: '500100', fund: 'GRANT-NIH-7' },
      '2027-03-01',
      ['GRANTS[fund=GRANT-NIH-7]'],
    ],
    ['nothing covers it', { account: '500100', fund: 'GENERAL' }, '2027-03-01', []],
    ['before the budgets are in force', { account: '610200', department: 'ENG' }, '2026-12-31', []],
    ['after the grants budget ended', { account: '500100', fund: 'GRANT-NIH-7' }, '2030-01-01', []],
  ])('%s', (_what, dims, date, keys) => {
    expect(controlBudgetsOf(SPECS, dims, date, trees).map((b) => controlBudgetKeyText(b.key))).toEqual(keys);
  });
});

describe('controlBudgetPeriods', () => {
  const calendar = [2026, 2027, 2028].flatMap((y) =>
    monthlyFiscalPeriods(y).map((p) => ({ ...p, fiscalYear: y, kind: 'regular' as const })),
  );
  it.each<[string, Parameters<typeof controlBudgetPeriods>[1], string | undefined, string[]]>([
    ['2027-05', 'period', undefined, ['2027-05']],
    ['2027-05', 'quarter', undefined, ['2027-04', '2027-05', '2027-06']],
    ['2027-02', 'ytd', undefined, ['2027-01', '2027-02']],
    // Life to date crosses fiscal years, from the award's start.
    ['2027-02', 'life_to_date', '2026-11-15', ['2026-11', '2026-12', '2027-01', '2027-02']],
  ])('%s pooled %s since %s', (period, basis, since, periods) => {
    expect(controlBudgetPeriods(period, basis, calendar, since)).toEqual(periods);
  });

  it('life to date without a start is every period through this one', () => {
    expect(controlBudgetPeriods('2026-02', 'life_to_date', calendar)).toEqual(['2026-01', '2026-02']);
    expect(controlBudgetPeriods('2031-01', 'life_to_date', calendar)).toBeUndefined();
  });
});
