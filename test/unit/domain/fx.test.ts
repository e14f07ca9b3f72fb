import { convert, type FxRate, quote } from '../../../domain/fx';

const rate = (
  from: string,
  to: string,
  r: string,
  validFrom = '2027-01-01',
  rateType: FxRate['rateType'] = 'average',
): FxRate => ({
  rateType,
  from,
  to,
  validFrom,
  validTo: null,
  rate: r,
});

describe('FX: rates by type and date, inverted or triangulated, rounded once to the target currency', () => {
  const rates: FxRate[] = [
    rate('EUR', 'USD', '1.0850'),
    rate('EUR', 'USD', '1.1000', '2027-02-01'),
    rate('EUR', 'USD', '1.2000', '2027-01-01', 'budget'),
    rate('GBP', 'EUR', '1.1700'),
    rate('USD', 'JPY', '150.25'),
  ];

  test('the rate in force on the date, of the asked type', () => {
    expect(convert('100.00', 'EUR', 'USD', quote(rates, 'average', 'EUR', 'USD', '2027-01-31', 'USD')!)).toBe(
      '108.50',
    );
    expect(convert('100.00', 'EUR', 'USD', quote(rates, 'average', 'EUR', 'USD', '2027-02-01', 'USD')!)).toBe(
      '110.00',
    );
    expect(convert('100.00', 'EUR', 'USD', quote(rates, 'budget', 'EUR', 'USD', '2027-02-01', 'USD')!)).toBe(
      '120.00',
    );
  });

  test('before any rate, or of a type with no rate, there is no quote', () => {
    expect(quote(rates, 'average', 'EUR', 'USD', '2026-12-31', 'USD')).toBeUndefined();
    expect(quote(rates, 'spot', 'EUR', 'USD', '2027-03-01', 'USD')).toBeUndefined();
    expect(quote(rates, 'average', 'CHF', 'USD', '2027-03-01', 'USD')).toBeUndefined();
  });

  test('a pair quoted the other way round is inverted exactly', () => {
    const q = quote(rates, 'average', 'JPY', 'USD', '2027-03-01', 'USD')!;
    expect(q.path).toMatch(/inverse/);
    // 1,000,000 JPY / 150.25 = 6,655.574043… USD
    expect(convert('1000000', 'JPY', 'USD', q)).toBe('6655.57');
  });

  test('a pair with no rate of its own goes through the triangulation currency', () => {
    // GBP → EUR → USD: 100 × 1.17 × 1.10 = 128.70
    const q = quote(rates, 'average', 'GBP', 'USD', '2027-03-01', 'EUR')!;
    expect(q.path).toMatch(/via EUR/);
    expect(convert('100.00', 'GBP', 'USD', q)).toBe('128.70');
    // Without a usable base it is not found.
    expect(quote(rates, 'average', 'GBP', 'USD', '2027-03-01', 'CHF')).toBeUndefined();
  });

  test('rounding: once, half away from zero, to the target scale (JPY has none)', () => {
    const q = quote(rates, 'average', 'USD', 'JPY', '2027-03-01', 'USD')!;
    expect(convert('0.01', 'USD', 'JPY', q)).toBe('2'); // 1.5025 → 2
    expect(convert('-0.01', 'USD', 'JPY', q)).toBe('-2');
    expect(convert('10.00', 'USD', 'JPY', q)).toBe('1503'); // 1502.5 → 1503
    expect(convert('-10.00', 'USD', 'JPY', q)).toBe('-1503');
    expect(convert('0.00', 'USD', 'JPY', q)).toBe('0');
  });
});
