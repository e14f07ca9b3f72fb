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

describe('a line posted into a closed period goes where the entity says', () => {
  const periods = monthlyFiscalPeriods(2027).map((p) => ({
    ...p,
    status: (p.period <= '2027-02' ? 'closed' : 'open') as 'open' | 'closed',
  }));
  const base = {
    currency: 'USD',
    periods,
    mappings: ctx.mappings,
  };
  const posted = line({ date: '2027-02-20' });

  test('dead_letter: kept with the reason', () => {
    expect(
      canonicaliseSourceLine(posted, {
        ...base,
        closedPeriods: { policy: 'dead_letter', calendar: periods },
      }),
    ).toEqual({
      error: { code: 'period_closed', message: '2027-02-20 is in period 2027-02, which is closed' },
    });
  });

  test('next_open_period: counted in the next open period, flagged with where it was posted', () => {
    expect(
      canonicaliseSourceLine(posted, {
        ...base,
        closedPeriods: { policy: 'next_open_period', calendar: periods },
      }),
    ).toMatchObject({ line: { period: '2027-03', routedFrom: '2027-02' } });
  });

  test('next_open_period with nothing open after it: kept with the reason', () => {
    const allClosed = periods.map((p) => ({ ...p, status: 'closed' as const }));
    expect(
      canonicaliseSourceLine(posted, {
        ...base,
        periods: allClosed,
        closedPeriods: { policy: 'next_open_period', calendar: allClosed },
      }),
    ).toMatchObject({ error: { code: 'period_closed' } });
  });

  test('without a policy (budget totals), a closed period counts as it is', () => {
    expect(canonicaliseSourceLine(posted, base)).toMatchObject({ line: { period: '2027-02' } });
  });
});
