import {
  inForceOn,
  postingModelOf,
  receives,
  requiredSettings,
  type Route,
  targetsOf,
  wholeUnitOf,
} from '../../../domain/routing';

const route = (
  target: string,
  validFrom: string,
  validTo: string | null,
  extra: Partial<Route> = {},
): Route => ({
  legalEntity: 'ACME-MFG',
  target,
  company: 'acmf',
  postingModel: null,
  settings: {},
  validFrom,
  validTo,
  ...extra,
});

describe('routing as data', () => {
  test('a route is in force from its first day until its end (exclusive), or for good', () => {
    const r = route('d365', '2027-01-01', '2027-07-01');
    expect(['2026-12-31', '2027-01-01', '2027-06-30', '2027-07-01'].map((d) => inForceOn(r, d))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(inForceOn(route('d365', '2027-01-01', null), '2999-01-01')).toBe(true);
  });

  test("a route without a posting model takes its ERP's own; an unknown ERP is an error", () => {
    expect(postingModelOf({ target: 'd365', postingModel: null })).toBe('additive');
    expect(postingModelOf({ target: 'oracle', postingModel: null })).toBe('control-budget');
    expect(postingModelOf({ target: 'sap', postingModel: null })).toBe('replace-scope');
    expect(postingModelOf({ target: 'netsuite', postingModel: null })).toBe('annual-lines');
    expect(() => postingModelOf({ target: 'workday', postingModel: null })).toThrow('no ERP system workday');
  });

  test('an entity moving from one ERP to another mid-year: each period goes to the route in force on its first day', () => {
    const targets = targetsOf([
      route('oracle', '2027-07-01', null, { company: '300000046975971' }),
      route('d365', '1900-01-01', '2027-07-01'),
    ]);
    expect(targets.map((t) => t.target)).toEqual(['d365', 'oracle']);
    const [d365, oracle] = targets;
    expect(['2027-01-01', '2027-06-01', '2027-07-01'].map((d) => receives(d365!, d))).toEqual([
      true,
      true,
      false,
    ]);
    expect(['2027-06-01', '2027-07-01', '2027-12-01'].map((d) => receives(oracle!, d))).toEqual([
      false,
      true,
      true,
    ]);
    expect(oracle).toMatchObject({ company: '300000046975971', postingModel: 'control-budget' });
    expect(targets.some((t) => t.conflict)).toBe(false);
  });

  test('a settings change is a new form of the same destination; a change of company or model within a year conflicts', () => {
    const settings = targetsOf([
      route('d365', '1900-01-01', '2027-04-01', { settings: { budgetCode: 'Original' } }),
      route('d365', '2027-04-01', null, { settings: { budgetCode: 'Revised' } }),
    ]);
    expect(settings).toEqual([
      expect.objectContaining({
        settings: { budgetCode: 'Revised' },
        windows: [
          { validFrom: '1900-01-01', validTo: '2027-04-01' },
          { validFrom: '2027-04-01', validTo: null },
        ],
      }),
    ]);
    expect(settings[0]!.conflict).toBeUndefined();

    const [moved] = targetsOf([
      route('oracle', '2027-04-01', null, { company: 'US2', postingModel: 'replace-scope' }),
      route('oracle', '1900-01-01', '2027-04-01', { company: 'US1' }),
    ]);
    expect(moved!.conflict).toBe(
      "ACME-MFG's routes to oracle change within the year (US1 as control-budget, then US2 as replace-scope): a change of company or posting model takes effect on a fiscal year's first day",
    );
  });
});

describe('what a target that sets its holdings whole is sent whole', () => {
  const line = (account: string, period: string) => ({ dimensions: { account, costCenter: 'CC-1' }, period });
  test("NetSuite's annual lines: a combination (one publication is one year), whatever its period", () => {
    const unit = wholeUnitOf('netsuite', 'annual-lines')!;
    expect(unit(line('600100', '2028-01'))).toBe(unit(line('600100', '2028-12')));
    expect(unit(line('600100', '2028-01'))).not.toBe(unit(line('610200', '2028-01')));
    expect(requiredSettings('netsuite', 'annual-lines')).toEqual([]);
  });
  test("SAP's plan data: a period, whatever its combination; an additive target sends differences", () => {
    const unit = wholeUnitOf('sap', 'replace-scope')!;
    expect(unit(line('600100', '2028-01'))).toBe(unit(line('610200', '2028-01')));
    expect(wholeUnitOf('d365', 'additive')).toBeUndefined();
  });
});
