import { canonicaliseSourceLine, SourceLineErrorCode } from '../../../domain/source-lines';
import { monthlyFiscalPeriods } from '../../../domain/reference';

const ctx = {
  currency: 'USD',
  periods: monthlyFiscalPeriods(2027),
  mappings: [
    {
      dimension: 'account' as const,
      canonicalCode: '610200',
      systemValue: '61020',
      validFrom: '2020-01-01',
      validTo: null,
    },
    {
      dimension: 'costCenter' as const,
      canonicalCode: 'CC-300',
      systemValue: '300',
      validFrom: '2020-01-01',
      validTo: null,
    },
  ],
};
const line = (over: object = {}) => ({
  dimensions: { account: '61020', costCenter: '300' },
  date: '2027-02-10',
  amount: { amount: '100.5', currency: 'USD' },
  ...over,
});

describe('turning a source line into what it counts under', () => {
  test('a mapped line in the entity currency lands on its canonical dimensions, period and money', () => {
    expect(canonicaliseSourceLine(line(), ctx)).toEqual({
      line: {
        dimensions: { account: '610200', costCenter: 'CC-300' },
        period: '2027-02',
        amount: { amount: '100.50', currency: 'USD' },
      },
    });
  });

  test.each([
    [
      { dimensions: { account: '66070', costCenter: '300' } },
      SourceLineErrorCode.UnmappedDimension,
      /account 66070/,
    ],
    [{ dimensions: { account: '61020' } }, SourceLineErrorCode.UnmappedDimension, /costCenter \(none\)/],
    [{ date: '2031-02-10' }, SourceLineErrorCode.PeriodNotInCalendar, /2031-02-10/],
    [
      { amount: { amount: '100.00', currency: 'EUR' } },
      SourceLineErrorCode.CurrencyNotAccepted,
      /100.00 EUR.*USD/,
    ],
    [{ amount: { amount: '1e3', currency: 'USD' } }, SourceLineErrorCode.InvalidAmount, /amount/],
    [{ amount: { amount: '1.00', currency: 'XXX' } }, SourceLineErrorCode.InvalidAmount, /currency/],
  ])('%j is refused with %s and a reason a person can act on', (over, code, message) => {
    const result = canonicaliseSourceLine(line(over), ctx);
    expect(result).toEqual({ error: { code, message: expect.stringMatching(message) } });
  });
});
