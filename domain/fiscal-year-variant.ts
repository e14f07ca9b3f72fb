import { z } from 'zod';

/**
 * An ERP's fiscal year variant, as SAP defines one: twelve posting periods starting in `firstMonth`, a fiscal
 * year named by the calendar year of its first month (`start`: SAP's year shift of −1 on the months before
 * `firstMonth`, e.g. V3, April–March, FY2027 = April 2027 to March 2028) or of its last (`end`), and up to four
 * special periods (13–16) that share the last period's dates and take year-end postings. A period is written
 * `YYYYPPP` (SAP's FiscalYearPeriod: "2027012", "2027013").
 */
export const FiscalYearVariant = z.object({
  code: z.string().min(1).max(2),
  firstMonth: z.number().int().min(1).max(12),
  namedBy: z.enum(['start', 'end']),
  specialPeriods: z.number().int().min(0).max(4),
});
export type FiscalYearVariant = z.infer<typeof FiscalYearVariant>;

/** SAP's calendar-year variant with four special periods. */
export const K4: FiscalYearVariant = { code: 'K4', firstMonth: 1, namedBy: 'start', specialPeriods: 4 };

/** The fiscal year and posting period (1–12) a day falls in. */
export function fiscalPeriodOn(day: string, v: FiscalYearVariant): { fiscalYear: number; period: number } {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7));
  const offset = (month - v.firstMonth + 12) % 12;
  const startYear = month >= v.firstMonth ? year : year - 1;
  const fiscalYear = v.namedBy === 'start' || v.firstMonth === 1 ? startYear : startYear + 1;
  return { fiscalYear, period: offset + 1 };
}

/** `YYYYPPP` of a fiscal year and period (1–16). */
export const yearPeriod = (fiscalYear: number, period: number) =>
  `${fiscalYear}${String(period).padStart(3, '0')}`;

/** The fiscal year and period of a `YYYYPPP`; a period the variant does not have is refused. */
export function parseYearPeriod(text: string, v: FiscalYearVariant): { fiscalYear: number; period: number } {
  const m = /^(\d{4})(\d{3})$/.exec(text);
  if (!m) throw new Error(`${text} is not a fiscal year period (YYYYPPP)`);
  const period = Number(m[2]);
  if (period < 1 || period > 12 + v.specialPeriods)
    throw new Error(`${text}: variant ${v.code} has periods 1 to ${12 + v.specialPeriods}`);
  return { fiscalYear: Number(m[1]), period };
}

/** The first day of a posting period; a special period (13–16) has the last regular period's days. */
export function periodStart(fiscalYear: number, period: number, v: FiscalYearVariant): string {
  const regular = Math.min(period, 12);
  const startYear = v.namedBy === 'start' || v.firstMonth === 1 ? fiscalYear : fiscalYear - 1;
  const monthIndex = v.firstMonth - 1 + regular - 1;
  const year = startYear + Math.floor(monthIndex / 12);
  return `${year}-${String((monthIndex % 12) + 1).padStart(2, '0')}-01`;
}
