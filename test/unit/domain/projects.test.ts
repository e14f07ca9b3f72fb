import { countedMinor, fundingControl, type Project, projectRefusal } from '../../../domain/projects';

/** Projects and grants: when spend may land on a project, and what it counts for against the award. */
const calendar = [
  {
    period: '2027-12',
    periodNumber: 12,
    fiscalYear: 2027,
    startDate: '2027-11-28',
    endDate: '2028-01-01',
    status: 'open' as const,
  },
  {
    period: '2027-13',
    periodNumber: 13,
    fiscalYear: 2027,
    startDate: '2028-01-01',
    endDate: '2028-01-01',
    status: 'open' as const,
    kind: 'adjustment' as const,
  },
  {
    period: '2028-01',
    periodNumber: 1,
    fiscalYear: 2028,
    startDate: '2028-01-02',
    endDate: '2028-01-29',
    status: 'open' as const,
  },
];
const project = (over: Partial<Project> = {}): Project => ({
  code: 'P-101',
  name: 'Line 3 automation',
  status: 'active',
  grant: {
    grantId: 'NSF-2291',
    name: 'research',
    awarded: { amount: '1000.00', currency: 'USD' },
    awardFrom: '2027-12-15',
    awardTo: '2028-01-10',
    indirectRatePercent: '12.5',
    indirectCountsAgainstFunding: true,
  },
  ...over,
});

describe('projectRefusal', () => {
  test.each([
    ['an active project in its award period', project(), '2028-01', undefined],
    ['a period overlapping the award only in part', project(), '2027-12', undefined],
    ['a closed project', project({ status: 'closed' }), '2028-01', 'project P-101 is closed'],
    [
      'a planned project',
      project({ status: 'planned' }),
      '2028-01',
      'project P-101 is planned, not active yet',
    ],
    [
      'a period before the award',
      project({ grant: { ...project().grant!, awardFrom: '2028-01-05' } }),
      '2027-12',
      'period 2027-12 is outside the award period of grant NSF-2291 funding project P-101 (2028-01-05 to 2028-01-10)',
    ],
    ['a project no grant funds', project({ grant: null }), '2027-12', undefined],
  ])('%s', (_name, p, period, expected) => {
    expect(
      projectRefusal(
        p,
        calendar.find((c) => c.period === period)!,
      ),
    ).toBe(expected);
  });
});

describe('fundingControl and countedMinor', () => {
  test('funding is absolute, life to date from the award across the year end, with its indirect rate', () => {
    expect(fundingControl(project(), '2028-01', calendar)).toEqual({
      key: 'FUNDING[project=P-101]',
      code: 'FUNDING',
      values: { project: 'P-101' },
      level: 'absolute',
      tolerancePercent: '0',
      pooledPeriods: ['2027-12', '2027-13', '2028-01'],
      indirectPercent: '12.5',
    });
    expect(fundingControl(project({ grant: null }), '2028-01', calendar)).toBeUndefined();
    const notCharged = project({ grant: { ...project().grant!, indirectCountsAgainstFunding: false } });
    expect(fundingControl(notCharged, '2028-01', calendar)!.indirectPercent).toBeUndefined();
  });

  test.each([
    [10000n, 11250n],
    [1n, 1n], // 0.125 of a cent rounds to none
    [4n, 5n], // 0.5 rounds away from zero
    [-4n, -5n], // and a release gives back exactly what was held
    [0n, 0n],
  ])('%d minor units count for %d at 12.5%%', (amount, counted) => {
    expect(countedMinor({ indirectPercent: '12.5' }, amount)).toBe(counted);
  });
  test('without an indirect rate an amount counts for itself', () => {
    expect(countedMinor({}, 12345n)).toBe(12345n);
  });
});
