import { sql } from 'drizzle-orm';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

interface Period {
  period: string;
  fiscalYear: number;
  startDate: string;
  endDate: string;
  kind: string;
  quarter: number;
  status: string;
}

/**
 * Fiscal calendars as data, over the API: an integration administrator declares a 4-4-5 calendar with an
 * adjustment period and has its years cut; a later change of spec cuts later years its way and never
 * rewrites a year already cut.
 */
describe('fiscal calendars', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: false });
    request = apiClient(stack.api!.url);
  });
  afterAll(() => stack?.stop());

  const fourFourFive = {
    kind: 'weeks',
    pattern: '4-4-5',
    yearEnd: { weekday: 'saturday', month: 12, rule: 'nearest' },
    adjustmentPeriods: 1,
  };
  const define = (spec: object, fiscalYears: number[], key = 'dev-admin') =>
    request('PUT', '/v1/fiscal-calendars/CAL-445', {
      key,
      body: { spec, fiscalYears, reason: 'manufacturing calendar' },
    });

  test('a 4-4-5 calendar with an adjustment period is declared, cut by year, and read back', async () => {
    const first = await define(fourFourFive, [2025, 2027]);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      changed: true,
      years: [
        { fiscalYear: 2025, outcome: 'created', periods: 13 },
        { fiscalYear: 2027, outcome: 'created', periods: 13 },
      ],
    });
    const periods = first.body.periods as Period[];
    // 2025 is a 53-week year: its last period takes the extra week, and the adjustment period follows it.
    expect(
      periods
        .filter((p) => p.fiscalYear === 2025)
        .slice(-2)
        .map((p) => [p.period, p.startDate, p.endDate, p.kind, p.quarter]),
    ).toEqual([
      ['2025-12', '2025-11-23', '2026-01-03', 'regular', 4],
      ['2025-13', '2026-01-03', '2026-01-03', 'adjustment', 4],
    ]);

    // Declaring it again changes nothing.
    expect((await define(fourFourFive, [2027])).body).toMatchObject({
      changed: false,
      years: [{ fiscalYear: 2027, outcome: 'already_defined', periods: 13 }],
    });

    // The business moves to 5-4-4 from 2028: 2027 keeps its periods, 2028 is cut the new way.
    const changed = await define({ ...fourFourFive, pattern: '5-4-4', adjustmentPeriods: 0 }, [2027, 2028]);
    expect(changed.body).toMatchObject({
      changed: true,
      years: [
        { fiscalYear: 2027, outcome: 'already_defined', periods: 13 },
        { fiscalYear: 2028, outcome: 'created', periods: 12 },
      ],
    });
    const read = await request('GET', '/v1/fiscal-calendars/CAL-445?fiscalYear=2027', { key: 'dev-planner' });
    expect(read.body).toMatchObject({ code: 'CAL-445', spec: { pattern: '5-4-4' } });
    expect((read.body.periods as Period[]).map((p) => p.period)).toHaveLength(13);
    const weeks = (p: Period) =>
      (Date.parse(p.endDate) - Date.parse(p.startDate) + 86_400_000) / (7 * 86_400_000);
    const y2028 = (
      (await request('GET', '/v1/fiscal-calendars/CAL-445?fiscalYear=2028', { key: 'dev-planner' })).body
        .periods as Period[]
    ).map(weeks);
    expect(y2028.slice(0, 3)).toEqual([5, 4, 4]);

    const all = await request('GET', '/v1/fiscal-calendars', { key: 'dev-planner' });
    expect(all.body.calendars).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'CAL-445', fiscalYears: [2025, 2027, 2028] }),
        expect.objectContaining({
          code: 'CAL-JAN',
          spec: { kind: 'monthly', firstMonth: 1, adjustmentPeriods: 0 },
        }),
      ]),
    );
    const trail = (await stack.db.execute(sql`
      select action, details->'yearsCreated' as years from audit_log
       where stream = 'calendar:CAL-445' order by seq`)) as unknown as { action: string; years: number[] }[];
    expect(trail).toEqual([
      { action: 'calendar.defined', years: [2025, 2027] },
      { action: 'calendar.changed', years: [2028] },
    ]);
  });

  test('only an integration administrator declares a calendar, and a bad spec is refused naming its fields', async () => {
    expect((await define(fourFourFive, [2030], 'dev-planner')).status).toBe(403);
    const bad = await define({ kind: 'weeks', pattern: '4-4-4', yearEnd: { weekday: 'saturday' } }, [2030]);
    expect(bad.status).toBe(400);
    expect((bad.body.issues as { field: string }[]).map((i) => i.field).sort()).toEqual([
      'spec.pattern',
      'spec.yearEnd.month',
      'spec.yearEnd.rule',
    ]);
    expect((await request('GET', '/v1/fiscal-calendars/CAL-NONE', { key: 'dev-planner' })).status).toBe(404);
  });
});
