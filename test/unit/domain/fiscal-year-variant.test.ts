import {
  type FiscalYearVariant,
  fiscalPeriodOn,
  K4,
  parseYearPeriod,
  periodStart,
  yearPeriod,
} from '../../../domain/fiscal-year-variant';

/** SAP's April–March variant, its year named by the year it starts in (a year shift of −1 on January–March). */
const V3: FiscalYearVariant = { code: 'V3', firstMonth: 4, namedBy: 'start', specialPeriods: 4 };
/** The same months, named by the year they end in (closeloop's own April–March calendar names its years so). */
const APR_END: FiscalYearVariant = { code: 'Z3', firstMonth: 4, namedBy: 'end', specialPeriods: 0 };

describe('fiscal year variants', () => {
  test('a calendar-year variant: the month is the period', () => {
    expect(fiscalPeriodOn('2027-03-15', K4)).toEqual({ fiscalYear: 2027, period: 3 });
    expect(periodStart(2027, 3, K4)).toBe('2027-03-01');
    expect(yearPeriod(2027, 3)).toBe('2027003');
  });

  test('a shifted year: January 2028 is period 10 of FY2027 under V3, of FY2028 when named by its end', () => {
    expect(fiscalPeriodOn('2028-01-20', V3)).toEqual({ fiscalYear: 2027, period: 10 });
    expect(fiscalPeriodOn('2027-04-01', V3)).toEqual({ fiscalYear: 2027, period: 1 });
    expect(fiscalPeriodOn('2028-01-20', APR_END)).toEqual({ fiscalYear: 2028, period: 10 });
    expect(periodStart(2027, 10, V3)).toBe('2028-01-01');
    expect(periodStart(2028, 10, APR_END)).toBe('2028-01-01');
    expect(periodStart(2027, 12, V3)).toBe('2028-03-01');
  });

  test("special periods 13–16 share the last period's days; a period the variant lacks is refused", () => {
    expect(parseYearPeriod('2027013', V3)).toEqual({ fiscalYear: 2027, period: 13 });
    expect(periodStart(2027, 16, V3)).toBe(periodStart(2027, 12, V3));
    expect(() => parseYearPeriod('2027013', APR_END)).toThrow('periods 1 to 12');
    expect(() => parseYearPeriod('2027-13', V3)).toThrow('YYYYPPP');
  });
});
