import {
  booksOn,
  booksWindows,
  compareHoldings,
  type Cutover,
  parallelRunEnd,
  parallelWindow,
} from '../../../domain/cutover';
import { monthlyFiscalPeriods } from '../../../domain/reference';

const calendar = [...monthlyFiscalPeriods(2027), ...monthlyFiscalPeriods(2028)];
const cutover: Cutover = {
  legalEntity: 'ACME-US',
  fromTarget: 'd365',
  toTarget: 'oracle',
  cutoverDate: '2027-07-01',
  parallelUntil: '2027-09-01',
  actualsDuringParallel: 'old',
  status: 'scheduled',
  rollbackDate: null,
};

describe('a cut-over as dates', () => {
  test('the parallel run ends after its periods; a cut-over falls on a period’s first day', () => {
    expect(parallelRunEnd('2027-07-01', 2, calendar)).toEqual({ until: '2027-09-01' });
    expect(parallelRunEnd('2027-07-01', 0, calendar)).toEqual({ until: '2027-07-01' });
    // Across the year end, into the next year's periods.
    expect(parallelRunEnd('2027-12-01', 3, calendar)).toEqual({ until: '2028-03-01' });
    expect(parallelRunEnd('2027-07-15', 1, calendar)).toEqual({
      error: expect.stringContaining('first day'),
    });
    expect(parallelRunEnd('2028-12-01', 2, calendar)).toEqual({
      error: expect.stringContaining('fewer than 2'),
    });
  });

  test("whose books count: the old ERP's before and (as chosen) during the parallel run, the new one's after", () => {
    expect(booksOn(cutover, '2027-06-30')).toBe('d365');
    expect(booksOn(cutover, '2027-07-01')).toBe('d365');
    expect(booksOn({ ...cutover, actualsDuringParallel: 'new' }, '2027-07-01')).toBe('oracle');
    expect(booksOn(cutover, '2027-09-01')).toBe('oracle');
    const rolledBack = { ...cutover, status: 'rolled_back' as const, rollbackDate: '2027-10-01' };
    expect(booksOn(rolledBack, '2027-09-15')).toBe('oracle');
    expect(booksOn(rolledBack, '2027-10-01')).toBe('d365');
  });

  test('a year split into windows of one ERP each', () => {
    expect(booksWindows(cutover, { from: '2027-01-01', to: '2027-12-31' })).toEqual([
      { system: 'd365', from: '2027-01-01', to: '2027-08-31' },
      { system: 'oracle', from: '2027-09-01', to: '2027-12-31' },
    ]);
    const rolledBack = { ...cutover, status: 'rolled_back' as const, rollbackDate: '2027-10-01' };
    expect(booksWindows(rolledBack, { from: '2027-01-01', to: '2027-12-31' })).toEqual([
      { system: 'd365', from: '2027-01-01', to: '2027-08-31' },
      { system: 'oracle', from: '2027-09-01', to: '2027-09-30' },
      { system: 'd365', from: '2027-10-01', to: '2027-12-31' },
    ]);
    expect(booksWindows(cutover, { from: '2026-01-01', to: '2026-12-31' })).toEqual([
      { system: 'd365', from: '2026-01-01', to: '2026-12-31' },
    ]);
  });

  test("the parallel run's days in a window, and the ERP read for the comparison only", () => {
    const year = { from: '2027-01-01', to: '2027-12-31' };
    expect(parallelWindow(cutover, year)).toEqual({ system: 'oracle', from: '2027-07-01', to: '2027-08-31' });
    expect(parallelWindow({ ...cutover, actualsDuringParallel: 'new' }, year)).toEqual({
      system: 'd365',
      from: '2027-07-01',
      to: '2027-08-31',
    });
    // Cut short by a rollback inside the run; none in another year or without a run.
    const rolledBack = { ...cutover, status: 'rolled_back' as const, rollbackDate: '2027-08-01' };
    expect(parallelWindow(rolledBack, year)).toEqual({
      system: 'oracle',
      from: '2027-07-01',
      to: '2027-07-31',
    });
    expect(parallelWindow(cutover, { from: '2028-01-01', to: '2028-12-31' })).toBeNull();
    expect(parallelWindow({ ...cutover, parallelUntil: cutover.cutoverDate }, year)).toBeNull();
    // A run across the year end: each year gets its own days.
    const acrossYearEnd = { ...cutover, cutoverDate: '2027-12-01', parallelUntil: '2028-02-01' };
    expect(parallelWindow(acrossYearEnd, year)).toEqual({
      system: 'oracle',
      from: '2027-12-01',
      to: '2027-12-31',
    });
    expect(parallelWindow(acrossYearEnd, { from: '2028-01-01', to: '2028-12-31' })).toEqual({
      system: 'oracle',
      from: '2028-01-01',
      to: '2028-01-31',
    });
  });

  test('two ERPs’ holdings compared line by line and in total, a line only one holds included', () => {
    const line = (account: string, period: string, amount: string) => ({
      dimensions: { account, costCenter: 'CC-100' },
      period,
      amount,
      currency: 'USD',
    });
    const compared = compareHoldings(
      [
        line('600100', '2027-07', '100.00'),
        line('610200', '2027-07', '50.00'),
        line('600100', '2027-08', '100.00'),
      ],
      [
        line('600100', '2027-07', '100.00'),
        line('610200', '2027-07', '55.00'),
        line('620300', '2027-08', '7.00'),
      ],
    );
    expect(compared.lines).toEqual([
      expect.objectContaining({ period: '2027-08', old: '100.00', new: '0.00', difference: '-100.00' }),
      expect.objectContaining({ period: '2027-07', old: '50.00', new: '55.00', difference: '5.00' }),
      expect.objectContaining({ period: '2027-08', old: '0.00', new: '7.00', difference: '7.00' }),
    ]);
    expect(compared.totals).toEqual([
      { currency: 'USD', old: '250.00', new: '162.00', difference: '-88.00' },
    ]);
  });
});
