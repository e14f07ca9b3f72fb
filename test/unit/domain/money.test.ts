import { add, fromMinor, Money, MoneyError, money, subtract, sum, toMinor } from '../../../domain/money';

describe('money', () => {
  test('decimal strings and integer minor units convert exactly, at any size', () => {
    expect(toMinor('999999999999999.99', 'USD')).toBe(99999999999999999n);
    expect(fromMinor(99999999999999999n, 'USD')).toBe('999999999999999.99');
    expect(toMinor('-0.05', 'USD')).toBe(-5n);
    expect(fromMinor(-5n, 'USD')).toBe('-0.05');
    expect(toMinor('1500', 'JPY')).toBe(1500n);
    expect(fromMinor(1500n, 'JPY')).toBe('1500');
    expect(toMinor('1.234', 'KWD')).toBe(1234n);
    expect(toMinor('1250.000000', 'USD')).toBe(125000n);
  });

  test.each(['1e5', '1,250.00', 'NaN', 'Infinity', ' 12', '12.', '.5', '', '0x10'])(
    'refuses %j: not a plain decimal',
    (s) => {
      expect(() => toMinor(s, 'USD')).toThrow(MoneyError);
    },
  );

  test('refuses more decimals than the currency has, and unknown currencies', () => {
    expect(() => toMinor('1.005', 'USD')).toThrow(/more than 2 decimal places/);
    expect(() => toMinor('1.5', 'JPY')).toThrow(MoneyError);
    expect(() => toMinor('1.00', 'XXX')).toThrow(/unsupported currency/);
  });

  test('arithmetic is exact where floats are not', () => {
    expect(add(money('0.1', 'USD'), money('0.2', 'USD'))).toEqual({ amount: '0.30', currency: 'USD' });
    expect(
      sum(
        Array.from({ length: 10 }, () => money('0.10', 'USD')),
        'USD',
      ).amount,
    ).toBe('1.00');
    expect(subtract(money('100', 'USD'), money('0.01', 'USD')).amount).toBe('99.99');
  });

  test('mixing currencies without FX is refused', () => {
    expect(() => add(money('1', 'USD'), money('1', 'EUR'))).toThrow(/FX/);
    expect(() => sum([money('1', 'EUR')], 'USD')).toThrow(MoneyError);
  });

  test('the Money schema names the amount field when it is not valid for the currency', () => {
    const r = Money.safeParse({ amount: '1.001', currency: 'USD' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['amount']);
    expect(Money.safeParse({ amount: 12.5, currency: 'USD' }).success).toBe(false);
  });
});
