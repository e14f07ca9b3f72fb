import { type KeyedAmount, publicationDifferences } from '../../../domain/revision';

const at = (account: string, period: string, amount: string, costCenter = 'CC-100'): KeyedAmount => ({
  dimensions: { account, costCenter },
  period,
  amount,
  currency: 'USD',
});
const openFrom = (first: string) => (period: string) => period >= first;

describe('a revision publishes only its differences', () => {
  test('a first publication posts the version as it reads', () => {
    const version = [at('600100', '2027-01', '100.00'), at('610200', '2027-01', '50.00')];
    const { lines, closed } = publicationDifferences(version, [], () => true);
    expect(closed).toEqual([]);
    expect(lines.map((l) => [l.dimensions.account, l.period, l.amount.amount])).toEqual([
      ['600100', '2027-01', '100.00'],
      ['610200', '2027-01', '50.00'],
    ]);
  });

  test('one changed line is the only line; unchanged ones and closed periods send nothing', () => {
    const held = [
      at('600100', '2027-03', '100.00'),
      at('600100', '2027-06', '100.00'),
      at('610200', '2027-06', '40.00'),
    ];
    const version = [
      at('600100', '2027-03', '100.00'),
      at('600100', '2027-06', '125.50'),
      at('610200', '2027-06', '40.00'),
    ];
    expect(publicationDifferences(version, held, openFrom('2027-04'))).toEqual({
      lines: [
        {
          dimensions: { account: '600100', costCenter: 'CC-100' },
          period: '2027-06',
          amount: { amount: '25.50', currency: 'USD' },
        },
      ],
      closed: [],
    });
  });

  test('what is held is summed over every posting (an original and its revisions, reversals netted)', () => {
    const held = [
      at('600100', '2027-06', '100.00'),
      at('600100', '2027-06', '25.00'),
      at('600100', '2027-06', '-25.00'),
    ];
    const { lines } = publicationDifferences([at('600100', '2027-06', '100.00')], held, () => true);
    expect(lines).toEqual([]);
  });

  test('a combination the version no longer has is taken back out', () => {
    const held = [at('600100', '2027-06', '100.00'), at('630400', '2027-06', '70.00', 'CC-300')];
    const { lines } = publicationDifferences([at('600100', '2027-06', '100.00')], held, () => true);
    expect(lines).toEqual([
      {
        dimensions: { account: '630400', costCenter: 'CC-300' },
        period: '2027-06',
        amount: { amount: '-70.00', currency: 'USD' },
      },
    ]);
  });

  test('a difference in a closed period is set apart, never published', () => {
    const { lines, closed } = publicationDifferences(
      [at('600100', '2027-03', '90.00'), at('600100', '2027-06', '10.00')],
      [at('600100', '2027-03', '100.00')],
      openFrom('2027-04'),
    );
    expect(lines.map((l) => [l.period, l.amount.amount])).toEqual([['2027-06', '10.00']]);
    expect(closed.map((l) => [l.period, l.amount.amount])).toEqual([['2027-03', '-10.00']]);
  });

  test('a combination is the same whatever order its dimensions come in, and a dimension more is another one', () => {
    const ordered = {
      dimensions: { costCenter: 'CC-100', account: '600100' },
      period: '2027-06',
      amount: '100.00',
      currency: 'USD',
    };
    const withProject = { ...ordered, dimensions: { ...ordered.dimensions, project: 'P-1' } };
    expect(publicationDifferences([ordered], [at('600100', '2027-06', '100.00')], () => true).lines).toEqual(
      [],
    );
    expect(
      publicationDifferences([withProject], [at('600100', '2027-06', '100.00')], () => true).lines,
    ).toEqual([
      {
        dimensions: withProject.dimensions,
        period: '2027-06',
        amount: { amount: '100.00', currency: 'USD' },
      },
      {
        dimensions: { account: '600100', costCenter: 'CC-100' },
        period: '2027-06',
        amount: { amount: '-100.00', currency: 'USD' },
      },
    ]);
  });
});
