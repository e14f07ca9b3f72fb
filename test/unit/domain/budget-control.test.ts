import {
  consumptionFlows,
  decideLine,
  decideRequest,
  limitOf,
  pooledPeriods,
  ruleFor,
  type ControlRule,
} from '../../../domain/budget-control';
import { monthlyFiscalPeriods } from '../../../domain/reference';

const rule = (over: Partial<ControlRule>): ControlRule => ({
  level: 'absolute',
  tolerancePercent: '0',
  account: null,
  costCenter: null,
  validFrom: '2020-01-01',
  validTo: null,
  ...over,
});

describe('budget control decisions', () => {
  const line = (level: ControlRule['level'], tolerancePercent: string, consumed: bigint, requested: bigint) =>
    decideLine({ level, tolerancePercent, budget: 100_000n, consumed, requested });

  test('absolute: within budget passes, within the tolerance warns, beyond it is refused', () => {
    expect(line('absolute', '5', 90_000n, 10_000n)).toMatchObject({
      outcome: 'approved',
      availableBefore: 10_000n,
      availableAfter: 0n,
    });
    expect(line('absolute', '5', 90_000n, 15_000n)).toMatchObject({
      outcome: 'warning',
      availableAfter: -5_000n,
      limit: 105_000n,
    });
    expect(line('absolute', '5', 90_000n, 15_001n)).toMatchObject({ outcome: 'rejected' });
    expect(line('absolute', '0', 90_000n, 10_001n).reason).toBe('over budget (absolute control)');
  });

  test('advisory warns over budget and never refuses; track and none always pass', () => {
    expect(line('advisory', '0', 90_000n, 50_000n)).toMatchObject({ outcome: 'warning' });
    expect(line('track_only', '0', 90_000n, 50_000n)).toMatchObject({
      outcome: 'approved',
      reason: 'tracked only',
    });
    expect(line('none', '0', 90_000n, 50_000n)).toMatchObject({
      outcome: 'approved',
      reason: 'not controlled',
    });
  });

  test('the limit is rounded down, never in the spender’s favour', () => {
    expect(limitOf(100_001n, '2.5')).toBe(102_501n); // 102501.025
    expect(limitOf(-100n, '5')).toBe(-105n);
    expect(limitOf(333n, '0.01')).toBe(333n); // 333.0333
  });

  test('a request is all or nothing', () => {
    expect(decideRequest(['approved', 'warning'])).toBe('warning');
    expect(decideRequest(['approved', 'rejected', 'warning'])).toBe('rejected');
    expect(decideRequest(['approved'])).toBe('approved');
  });

  test('the most specific effective rule wins', () => {
    const rules = [
      rule({ level: 'advisory' }),
      rule({ account: '610200', tolerancePercent: '5' }),
      rule({ account: '610200', costCenter: 'CC-200', level: 'track_only' }),
      rule({ costCenter: 'CC-300', level: 'none', validTo: '2027-04-01' }),
    ];
    expect(ruleFor(rules, { account: '610200', costCenter: 'CC-200' }, '2027-03-15')?.level).toBe(
      'track_only',
    );
    expect(ruleFor(rules, { account: '610200', costCenter: 'CC-100' }, '2027-03-15')?.tolerancePercent).toBe(
      '5',
    );
    expect(ruleFor(rules, { account: '600100', costCenter: 'CC-300' }, '2027-03-15')?.level).toBe('none');
    // Expired on 2027-04-01 (exclusive): the entity's default applies again.
    expect(ruleFor(rules, { account: '600100', costCenter: 'CC-300' }, '2027-04-01')?.level).toBe('advisory');
    expect(ruleFor([], { account: '600100', costCenter: 'CC-300' }, '2027-04-01')).toBeUndefined();
  });

  test('funds pool over the period basis', () => {
    const year = monthlyFiscalPeriods(2027);
    expect(pooledPeriods('2027-05', 'period', year)).toEqual(['2027-05']);
    expect(pooledPeriods('2027-05', 'quarter', year)).toEqual(['2027-04', '2027-05', '2027-06']);
    expect(pooledPeriods('2027-03', 'ytd', year)).toEqual(['2027-01', '2027-02', '2027-03']);
    expect(pooledPeriods('2027-03', 'annual', year)).toHaveLength(12);
    expect(pooledPeriods('2028-01', 'annual', year)).toBeUndefined();
  });
});

describe('consumptionFlows: every figure has one source', () => {
  test.each([
    ['erp', { erpActuals: true, erpCommitments: true, events: false, invoicedEventsAreActuals: false }],
    ['events', { erpActuals: false, erpCommitments: false, events: true, invoicedEventsAreActuals: true }],
    ['mixed', { erpActuals: true, erpCommitments: false, events: true, invoicedEventsAreActuals: false }],
  ] as const)('%s', (source, flows) => {
    expect(consumptionFlows(source)).toEqual(flows);
    // Actuals come from exactly one place; so do commitments.
    const f = consumptionFlows(source);
    expect(Number(f.erpActuals) + Number(f.invoicedEventsAreActuals)).toBe(1);
    expect(Number(f.erpCommitments) + Number(f.events)).toBe(1);
  });
});
