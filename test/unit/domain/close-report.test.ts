import { reportLine, reportTotals, variancePercent } from '../../../domain/close-report';

describe('close report figures', () => {
  test('variance is budget minus actual; its percentage of budget rounds once, half away from zero', () => {
    expect(variancePercent(300n, 100n)).toBe('33.33');
    expect(variancePercent(300n, 200n)).toBe('66.67');
    expect(variancePercent(800n, 1n)).toBe('0.13'); // 0.125 → 0.13
    expect(variancePercent(800n, -1n)).toBe('-0.13');
    expect(variancePercent(0n, -500n)).toBeNull();
  });

  test('a line in a currency without decimals and an overspent line', () => {
    expect(
      reportLine({
        account: 'a',
        costCenter: 'c',
        currency: 'JPY',
        budget: '1000',
        reserved: '0',
        committed: '50',
        actual: '1200',
      }),
    ).toMatchObject({ budget: '1000', actual: '1200', variance: '-200', variancePercent: '-20.00' });
    expect(
      reportLine({
        account: 'a',
        costCenter: 'c',
        currency: 'USD',
        budget: '1000.000000',
        reserved: '0.000000',
        committed: '100.000000',
        actual: '960.500000',
      }),
    ).toMatchObject({
      budget: '1000.00',
      committed: '100.00',
      actual: '960.50',
      variance: '39.50',
      variancePercent: '3.95',
    });
  });

  test('totals are kept per currency, never added across currencies', () => {
    const lines = [
      reportLine({
        account: 'a',
        costCenter: 'c',
        currency: 'USD',
        budget: '100.00',
        reserved: '0',
        committed: '0',
        actual: '50.00',
      }),
      reportLine({
        account: 'b',
        costCenter: 'c',
        currency: 'USD',
        budget: '300.00',
        reserved: '10.00',
        committed: '0',
        actual: '350.00',
      }),
      reportLine({
        account: 'a',
        costCenter: 'c',
        currency: 'EUR',
        budget: '10.00',
        reserved: '0',
        committed: '0',
        actual: '0',
      }),
    ];
    // Per currency, in currency order.
    expect(reportTotals(lines)).toEqual([
      {
        currency: 'EUR',
        budget: '10.00',
        reserved: '0.00',
        committed: '0.00',
        actual: '0.00',
        variance: '10.00',
        variancePercent: '100.00',
      },
      {
        currency: 'USD',
        budget: '400.00',
        reserved: '10.00',
        committed: '0.00',
        actual: '400.00',
        variance: '0.00',
        variancePercent: '0.00',
      },
    ]);
  });
});
