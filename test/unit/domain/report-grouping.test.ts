import fc from 'fast-check';
import { treeAsOf, type TreeAsOf } from '../../../domain/hierarchy';
import { fromMinor, toMinor } from '../../../domain/money';
import {
  type FigureRow,
  GroupBy,
  groupFigures,
  type GroupTerm,
  termValue,
} from '../../../domain/report-grouping';

const ACCOUNTS = treeAsOf(
  [
    { code: 'OPEX', parent: null, validFrom: '2027-01-01', validTo: null },
    { code: 'TRAVEL', parent: 'OPEX', validFrom: '2027-01-01', validTo: null },
    { code: '640100', parent: 'TRAVEL', validFrom: '2027-01-01', validTo: null },
    { code: '640200', parent: 'TRAVEL', validFrom: '2027-01-01', validTo: null },
    { code: '650000', parent: 'OPEX', validFrom: '2027-01-01', validTo: null },
  ],
  '2027-06-30',
);
const trees = new Map([['account', ACCOUNTS]]);

const row = (dimensions: Record<string, string>, amount: string, currency = 'USD'): FigureRow => ({
  dimensions,
  currency,
  figures: { amount },
});

describe('GroupBy', () => {
  it.each([
    ['', []],
    ['department', [{ dimension: 'department' }]],
    ['account@1,project', [{ dimension: 'account', level: 1 }, { dimension: 'project' }]],
    ['account@0, account', [{ dimension: 'account', level: 0 }, { dimension: 'account' }]],
  ])('reads %j', (text, terms) => {
    expect(GroupBy.parse(text)).toEqual(terms);
  });

  it.each([
    ['Account', 'is not a grouping term'],
    ['account@x', 'is not a grouping term'],
    ['department,department', 'department is named twice'],
  ])('refuses %j naming why', (text, message) => {
    const parsed = GroupBy.safeParse(text);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toContain(message);
  });
});

describe('termValue', () => {
  it.each<[Record<string, string>, GroupTerm, string | null]>([
    [{ account: '640100' }, { dimension: 'account' }, '640100'],
    [{ account: '640100' }, { dimension: 'account', level: 0 }, 'OPEX'],
    [{ account: '640100' }, { dimension: 'account', level: 1 }, 'TRAVEL'],
    [{ account: '640100' }, { dimension: 'account', level: 5 }, '640100'],
    // Above the level: it stands for itself.
    [{ account: '650000' }, { dimension: 'account', level: 2 }, '650000'],
    // Not in the tree: itself at any level.
    [{ account: '700000' }, { dimension: 'account', level: 0 }, '700000'],
    // No hierarchy for the dimension: the value.
    [{ department: 'ENG' }, { dimension: 'department', level: 0 }, 'ENG'],
    [{ account: '640100' }, { dimension: 'project' }, null],
  ])('%j by %j is %j', (dims, term, value) => {
    expect(termValue(dims, term, trees)).toBe(value);
  });
});

describe('groupFigures', () => {
  it('groups by a hierarchy level and a dimension, in order, with totals per currency', () => {
    const rows = [
      row({ account: '640100', department: 'ENG' }, '100.10'),
      row({ account: '640200', department: 'ENG' }, '50.05'),
      row({ account: '650000', department: 'OPS' }, '10.00'),
      row({ account: '640100' }, '1.00'),
      row({ account: '640100', department: 'ENG' }, '7', 'EUR'),
    ];
    const out = groupFigures(rows, GroupBy.parse('account@1,department'), trees, ['amount']);
    expect(out.groups).toEqual([
      {
        key: { 'account@1': '650000', department: 'OPS' },
        currency: 'USD',
        figures: { amount: '10.00' },
        rows: 1,
      },
      {
        key: { 'account@1': 'TRAVEL', department: null },
        currency: 'USD',
        figures: { amount: '1.00' },
        rows: 1,
      },
      {
        key: { 'account@1': 'TRAVEL', department: 'ENG' },
        currency: 'EUR',
        figures: { amount: '7.00' },
        rows: 1,
      },
      {
        key: { 'account@1': 'TRAVEL', department: 'ENG' },
        currency: 'USD',
        figures: { amount: '150.15' },
        rows: 2,
      },
    ]);
    expect(out.totals).toEqual([
      { currency: 'EUR', figures: { amount: '7.00' }, rows: 1 },
      { currency: 'USD', figures: { amount: '161.15' }, rows: 4 },
    ]);
  });

  it('sums several figures, a missing one as zero, in the currency’s own decimals', () => {
    const out = groupFigures(
      [
        { dimensions: { account: '640100' }, currency: 'JPY', figures: { budget: '1000', actual: '250' } },
        { dimensions: { account: '640200' }, currency: 'JPY', figures: { budget: '500.000000' } },
      ],
      [{ dimension: 'account', level: 0 }],
      trees,
      ['budget', 'actual'],
    );
    expect(out.groups).toEqual([
      { key: { 'account@0': 'OPEX' }, currency: 'JPY', figures: { budget: '1500', actual: '250' }, rows: 2 },
    ]);
  });
});

/**
 * The property a report reader relies on: however the rows are grouped (any dimensions, any hierarchy
 * levels, any trees), each currency's groups add up to its total, which is the sum of the rows, and every
 * row is in exactly one group.
 */
describe('every grouping adds up to the total (property)', () => {
  const DIMS = ['account', 'costCenter', 'department', 'project', 'plant'] as const;
  const CURRENCIES = ['USD', 'EUR', 'JPY', 'BHD'] as const;
  const value = fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H');
  const dimensions = fc.dictionary(fc.constantFrom(...DIMS), value, { maxKeys: DIMS.length });
  const figureRow = fc.record({
    dimensions,
    currency: fc.constantFrom(...CURRENCIES),
    minor: fc.bigInt({ min: -1_000_000_000_000n, max: 1_000_000_000_000n }),
  });
  // A random forest over the values: each value's parent is a value earlier in the list, or none.
  const tree = fc
    .array(fc.option(fc.nat({ max: 7 }), { nil: undefined }), { minLength: 8, maxLength: 8 })
    .map((parents): TreeAsOf => {
      const codes = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
      return new Map(
        codes.map((c, i) => {
          const p = parents[i];
          return [c, p !== undefined && p < i ? codes[p]! : null] as const;
        }),
      );
    });
  const term = fc.record(
    { dimension: fc.constantFrom(...DIMS), level: fc.nat({ max: 4 }) },
    { requiredKeys: ['dimension'] },
  );
  const terms = fc.uniqueArray(term, {
    maxLength: 4,
    selector: (t) => `${t.dimension}@${t.level ?? ''}`,
  });

  it('holds for random rows, trees and groupings', () => {
    fc.assert(
      fc.property(
        fc.array(figureRow, { maxLength: 60 }),
        fc.dictionary(fc.constantFrom(...DIMS), tree),
        terms,
        (raw, forest, grouping) => {
          const rows = raw.map((r) => ({
            dimensions: r.dimensions,
            currency: r.currency,
            figures: { amount: fromMinor(r.minor, r.currency) },
          }));
          const out = groupFigures(rows, grouping, new Map(Object.entries(forest)), ['amount']);
          for (const currency of CURRENCIES) {
            const expected = raw.filter((r) => r.currency === currency).reduce((s, r) => s + r.minor, 0n);
            const groups = out.groups.filter((g) => g.currency === currency);
            const grouped = groups.reduce((s, g) => s + toMinor(g.figures.amount!, currency), 0n);
            const total = out.totals.find((t) => t.currency === currency);
            expect(grouped).toBe(expected);
            expect(total ? toMinor(total.figures.amount!, currency) : 0n).toBe(expected);
            expect(groups.reduce((s, g) => s + g.rows, 0)).toBe(
              raw.filter((r) => r.currency === currency).length,
            );
          }
          // Groups are distinct: no key and currency twice.
          const ids = out.groups.map((g) => JSON.stringify([g.key, g.currency]));
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
