import { CalendarSpec, calendarYear } from '../../../domain/fiscal-calendar';
import { periodOfDate } from '../../../domain/reference';
import { pooledPeriods } from '../../../domain/budget-control';

const spec = (s: unknown) => CalendarSpec.parse(s);
const span = (fy: number, s: unknown) =>
  calendarYear(spec(s), fy).map((p) => [p.period, p.startDate, p.endDate, p.kind, p.quarter]);

describe('fiscal calendars as data', () => {
  test.each([
    // [name, spec, fiscal year, periods, first period, last regular period]
    [
      'calendar months',
      { kind: 'monthly' },
      2027,
      12,
      ['2027-01', '2027-01-01', '2027-01-31'],
      ['2027-12', '2027-12-01', '2027-12-31'],
    ],
    [
      'April to March, named by its end year',
      { kind: 'monthly', firstMonth: 4 },
      2027,
      12,
      ['2027-01', '2026-04-01', '2026-04-30'],
      ['2027-12', '2027-03-01', '2027-03-31'],
    ],
    [
      'February, leap year',
      { kind: 'monthly', firstMonth: 2 },
      2029,
      12,
      ['2029-01', '2028-02-01', '2028-02-29'],
      ['2029-12', '2029-01-01', '2029-01-31'],
    ],
    [
      '4-4-5, the last Saturday of December',
      { kind: 'weeks', pattern: '4-4-5', yearEnd: { weekday: 'saturday', month: 12, rule: 'last' } },
      2027,
      12,
      ['2027-01', '2026-12-27', '2027-01-23'],
      ['2027-12', '2027-11-21', '2027-12-25'],
    ],
    [
      '4-4-5 ending on the Saturday nearest December 31st, in a 53-week year: the last period takes the extra week',
      { kind: 'weeks', pattern: '4-4-5', yearEnd: { weekday: 'saturday', month: 12, rule: 'nearest' } },
      2025,
      12,
      ['2025-01', '2024-12-29', '2025-01-25'],
      ['2025-12', '2025-11-23', '2026-01-03'],
    ],
    [
      'thirteen periods of four weeks',
      { kind: 'weeks', pattern: '13x4', yearEnd: { weekday: 'sunday', month: 6, rule: 'last' } },
      2027,
      13,
      ['2027-01', '2026-06-29', '2026-07-26'],
      ['2027-13', '2027-05-31', '2027-06-27'],
    ],
  ] as const)('%s', (_name, s, fy, count, first, last) => {
    const periods = calendarYear(spec(s), fy);
    expect(periods).toHaveLength(count);
    expect([periods[0]!.period, periods[0]!.startDate, periods[0]!.endDate]).toEqual(first);
    const end = periods[periods.length - 1]!;
    expect([end.period, end.startDate, end.endDate]).toEqual(last);
    // Contiguous: each period starts the day after the one before ends.
    for (let i = 1; i < periods.length; i++) {
      const next = new Date(Date.parse(`${periods[i - 1]!.endDate}T00:00:00Z`) + 86_400_000);
      expect(periods[i]!.startDate).toBe(next.toISOString().slice(0, 10));
    }
  });

  test('4-4-5 quarters are 4, 4 and 5 weeks; the next year starts the day after', () => {
    const weeks = calendarYear(
      spec({ kind: 'weeks', pattern: '4-4-5', yearEnd: { weekday: 'saturday', month: 12, rule: 'last' } }),
      2027,
    ).map((p) => (Date.parse(p.endDate) - Date.parse(p.startDate) + 86_400_000) / (7 * 86_400_000));
    expect(weeks).toEqual([4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5]);
    expect(
      span(2028, {
        kind: 'weeks',
        pattern: '4-4-5',
        yearEnd: { weekday: 'saturday', month: 12, rule: 'last' },
      })[0],
    ).toEqual(['2028-01', '2027-12-26', '2028-01-22', 'regular', 1]);
    // The Saturday nearest December 31st may be in January: FY2027 runs to 2028-01-01.
    expect(
      span(2027, {
        kind: 'weeks',
        pattern: '4-4-5',
        yearEnd: { weekday: 'saturday', month: 12, rule: 'nearest' },
      }).at(-1),
    ).toEqual(['2027-12', '2027-11-28', '2028-01-01', 'regular', 4]);
  });

  test('adjustment periods follow the regular ones on the year’s last day, and no date falls in them', () => {
    const periods = calendarYear(spec({ kind: 'monthly', adjustmentPeriods: 4 }), 2027);
    expect(periods.slice(11).map((p) => [p.period, p.startDate, p.endDate, p.kind, p.quarter])).toEqual([
      ['2027-12', '2027-12-01', '2027-12-31', 'regular', 4],
      ['2027-13', '2027-12-31', '2027-12-31', 'adjustment', 4],
      ['2027-14', '2027-12-31', '2027-12-31', 'adjustment', 4],
      ['2027-15', '2027-12-31', '2027-12-31', 'adjustment', 4],
      ['2027-16', '2027-12-31', '2027-12-31', 'adjustment', 4],
    ]);
    expect(periodOfDate('2027-12-31', periods)?.period).toBe('2027-12');
  });

  test('a thirteen-period year pools its fourth quarter over four periods', () => {
    const periods = calendarYear(
      spec({ kind: 'weeks', pattern: '13x4', yearEnd: { weekday: 'sunday', month: 6, rule: 'last' } }),
      2027,
    );
    expect(pooledPeriods('2027-13', 'quarter', periods)).toEqual([
      '2027-10',
      '2027-11',
      '2027-12',
      '2027-13',
    ]);
    expect(pooledPeriods('2027-02', 'quarter', periods)).toEqual(['2027-01', '2027-02', '2027-03']);
  });

  test('a calendar that is not one of these is refused, naming its fields', () => {
    const bad = CalendarSpec.safeParse({
      kind: 'weeks',
      pattern: '4-4-4',
      yearEnd: { weekday: 'caturday', month: 13 },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'pattern',
      'yearEnd.month',
      'yearEnd.rule',
      'yearEnd.weekday',
    ]);
  });
});
