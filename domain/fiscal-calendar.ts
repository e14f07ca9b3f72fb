import { z } from 'zod';
import { type FiscalPeriodRef } from './reference';

/**
 * A fiscal calendar as data: how its years are cut into periods. Every period is coded "YYYY-NN" (the one
 * period rule, domain/model PeriodCode): the fiscal year, named by the calendar year it ends in, and the
 * period's number. Regular periods come first; adjustment periods (SAP's special periods 13–16, Oracle's
 * adjustment period) follow them, all dated on the year's last day, and take no transaction by date: a
 * posting dated that day belongs to the last regular period unless its source names the adjustment period.
 */

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const AdjustmentPeriods = z.number().int().min(0).max(4).default(0);

export const CalendarSpec = z.discriminatedUnion('kind', [
  /** Calendar months from `firstMonth` (1: January–December; 4: April–March, named by the year it ends in). */
  z
    .object({
      kind: z.literal('monthly'),
      firstMonth: z.number().int().min(1).max(12).default(1),
      adjustmentPeriods: AdjustmentPeriods,
    })
    .strict(),
  /**
   * Whole weeks (a retail or manufacturing calendar): the year ends on `yearEnd.weekday`, the last one in
   * `yearEnd.month` or the one nearest its last day; quarters of 4-4-5, 4-5-4 or 5-4-4 weeks, or thirteen
   * periods of four weeks. A year of 53 weeks gives its extra week to its last regular period.
   */
  z
    .object({
      kind: z.literal('weeks'),
      pattern: z.enum(['4-4-5', '4-5-4', '5-4-4', '13x4']),
      yearEnd: z
        .object({
          weekday: z.enum(WEEKDAYS),
          month: z.number().int().min(1).max(12),
          rule: z.enum(['last', 'nearest']),
        })
        .strict(),
      adjustmentPeriods: AdjustmentPeriods,
    })
    .strict(),
]);
export type CalendarSpec = z.infer<typeof CalendarSpec>;

const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
const utc = (year: number, month1: number, day: number) => Date.UTC(year, month1 - 1, day);

/** The day a weeks calendar's fiscal year `fiscalYear` ends (UTC midnight, ms). */
function weeksYearEnd(spec: Extract<CalendarSpec, { kind: 'weeks' }>, fiscalYear: number): number {
  const { weekday, month, rule } = spec.yearEnd;
  const target = WEEKDAYS.indexOf(weekday);
  const monthEnd = utc(fiscalYear, month + 1, 0);
  const back = (new Date(monthEnd).getUTCDay() - target + 7) % 7;
  const last = monthEnd - back * DAY;
  // The nearest such weekday to the month's end may fall up to three days into the next month.
  return rule === 'nearest' && back > 3 ? last + 7 * DAY : last;
}

/** Weeks per regular period, for a year of `weeks` weeks (52 or 53: the extra week goes to the last). */
function weeksPerPeriod(pattern: Extract<CalendarSpec, { kind: 'weeks' }>['pattern'], weeks: number) {
  const periods =
    pattern === '13x4'
      ? Array<number>(13).fill(4)
      : Array<number[]>(4).fill(pattern.split('-').map(Number)).flat();
  periods[periods.length - 1]! += weeks - 52;
  return periods;
}

/** The quarter (1–4) of a regular period: three a quarter, and a thirteen-period year's Q4 takes four. */
export const quarterOf = (periodNumber: number) => Math.min(4, Math.floor((periodNumber - 1) / 3) + 1);

/** A period as a calendar generates it: its kind and quarter always known. */
export type CalendarPeriod = FiscalPeriodRef & Required<Pick<FiscalPeriodRef, 'kind' | 'quarter'>>;

/** A calendar's periods of one fiscal year, in order, all open: regular ones, then adjustment periods. */
export function calendarYear(spec: CalendarSpec, fiscalYear: number): CalendarPeriod[] {
  const bounds: { start: number; end: number }[] = [];
  if (spec.kind === 'monthly') {
    const startYear = spec.firstMonth === 1 ? fiscalYear : fiscalYear - 1;
    for (let i = 0; i < 12; i++)
      bounds.push({
        start: utc(startYear, spec.firstMonth + i, 1),
        end: utc(startYear, spec.firstMonth + i + 1, 0),
      });
  } else {
    const end = weeksYearEnd(spec, fiscalYear);
    let start = weeksYearEnd(spec, fiscalYear - 1) + DAY;
    const weeks = Math.round((end - start + DAY) / (7 * DAY));
    for (const w of weeksPerPeriod(spec.pattern, weeks)) {
      bounds.push({ start, end: start + w * 7 * DAY - DAY });
      start += w * 7 * DAY;
    }
  }
  const code = (n: number) => `${fiscalYear}-${String(n).padStart(2, '0')}`;
  const regular: CalendarPeriod[] = bounds.map((b, i) => ({
    period: code(i + 1),
    periodNumber: i + 1,
    startDate: iso(b.start),
    endDate: iso(b.end),
    status: 'open',
    kind: 'regular',
    quarter: quarterOf(i + 1),
  }));
  const yearEnd = regular[regular.length - 1]!.endDate;
  const adjustments: CalendarPeriod[] = Array.from({ length: spec.adjustmentPeriods }, (_x, i) => ({
    period: code(regular.length + i + 1),
    periodNumber: regular.length + i + 1,
    startDate: yearEnd,
    endDate: yearEnd,
    status: 'open',
    kind: 'adjustment',
    quarter: 4,
  }));
  return [...regular, ...adjustments];
}
