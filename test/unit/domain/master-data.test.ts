import {
  canonicalRecords,
  describeBlockers,
  nextDay,
  planMasterData,
  type SourceMasterRecord,
  type StoredMasterRecord,
} from '../../../domain/master-data';
import { type DimensionMappingRef } from '../../../domain/reference';

const map = (
  dimension: 'account' | 'costCenter',
  canonicalCode: string,
  systemValue: string,
  validFrom = '2020-01-01',
  validTo: string | null = null,
): DimensionMappingRef => ({ dimension, canonicalCode, systemValue, validFrom, validTo });

const account = (sourceValue: string, over: Partial<SourceMasterRecord> = {}): SourceMasterRecord => ({
  dimension: 'account',
  sourceValue,
  name: `Account ${sourceValue}`,
  kind: 'expense',
  suspended: false,
  activeFrom: '2020-01-01',
  activeTo: null,
  ...over,
});
const costCenter = (sourceValue: string, parent: string | null, over: Partial<SourceMasterRecord> = {}) =>
  ({
    ...account(sourceValue),
    kind: undefined,
    dimension: 'costCenter',
    parent,
    parentFrom: null,
    ...over,
  }) as SourceMasterRecord;

const TODAY = '2026-12-02';

describe('master data from its system of record', () => {
  test('an inclusive end becomes the exclusive day after, across months and leap days', () => {
    expect(nextDay('2027-06-30')).toBe('2027-07-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });

  test('two source values of one canonical account make one record open wherever either is; today’s names it', () => {
    const mappings = [
      map('account', '620300', '62030', '2020-01-01', '2027-07-01'),
      map('account', '620300', '62035', '2027-07-01'),
    ];
    const { records, unmapped } = canonicalRecords(
      [
        account('62030', { name: 'Software', activeTo: '2027-06-30' }),
        account('62035', { name: 'Software (SaaS)', activeFrom: '2027-07-01' }),
      ],
      mappings,
      TODAY,
    );
    expect(unmapped).toEqual([]);
    expect(records).toEqual([
      {
        dimension: 'account',
        code: '620300',
        name: 'Software',
        kind: 'expense',
        validFrom: '2020-01-01',
        validTo: null,
      },
    ]);
  });

  test('a suspended value closes from the day it is read, unless its own end comes first; an unmapped value or parent is kept aside', () => {
    const mappings = [
      map('costCenter', 'CC-1', '1'),
      map('costCenter', 'CC-2', '2'),
      map('costCenter', 'CC-3', '3'),
    ];
    const { records, unmapped } = canonicalRecords(
      [
        costCenter('1', null, { suspended: true }),
        costCenter('2', null, { suspended: true, activeTo: '2026-06-30' }),
        costCenter('3', '9'),
        costCenter('4', '1'),
      ],
      mappings,
      TODAY,
    );
    expect(records.map((r) => [r.code, r.validTo])).toEqual([
      ['CC-1', TODAY],
      ['CC-2', '2026-07-01'],
    ]);
    expect(unmapped.map((u) => [u.record.sourceValue, u.missing])).toEqual([
      ['3', 'parent'],
      ['4', 'value'],
    ]);
  });

  test("a source that does not say where a cost center sits (Oracle's value sets) leaves its place as it is", () => {
    const mappings = [map('costCenter', 'CC-1', '1')];
    const { records, unmapped } = canonicalRecords(
      [{ ...costCenter('1', null), parent: undefined, parentFrom: undefined }],
      mappings,
      TODAY,
    );
    expect(unmapped).toEqual([]);
    expect(records[0]).not.toHaveProperty('parent');
    const stored = new Map<string, StoredMasterRecord>([
      [
        'CC-1',
        {
          code: 'CC-1',
          name: 'Account 1',
          active: true,
          validFrom: '2020-01-01',
          validTo: null,
          parents: [{ parent: 'CC-9', validFrom: '2020-01-01', validTo: null }],
        },
      ],
    ]);
    // Said to be at the top, it would be moved there; not said, no move is asked for.
    expect(planMasterData(stored, records, { complete: true }).map((s) => s.step)).toEqual([]);
  });

  test('the plan: new records are created, widening changes applied, a narrower end guarded, a move asked for on its date', () => {
    const stored = new Map<string, StoredMasterRecord>([
      [
        'CC-1',
        {
          code: 'CC-1',
          name: 'One',
          active: true,
          validFrom: '2020-01-01',
          validTo: null,
          parents: [{ parent: 'CC-9', validFrom: '2020-01-01', validTo: null }],
        },
      ],
      [
        'CC-2',
        {
          code: 'CC-2',
          name: 'Two',
          active: true,
          validFrom: '2020-01-01',
          validTo: '2027-01-01',
          parents: [],
        },
      ],
      [
        'CC-3',
        {
          code: 'CC-3',
          name: 'Three',
          active: true,
          validFrom: '2020-01-01',
          validTo: null,
          // Moved under CC-8 from April already (an approved change): no change to ask for.
          parents: [
            { parent: 'CC-9', validFrom: '2020-01-01', validTo: '2027-04-01' },
            { parent: 'CC-8', validFrom: '2027-04-01', validTo: null },
          ],
        },
      ],
    ]);
    const cc = (code: string, over: object = {}) => ({
      dimension: 'costCenter' as const,
      code,
      name: code === 'CC-1' ? 'One renamed' : code === 'CC-2' ? 'Two' : code === 'CC-3' ? 'Three' : 'Four',
      validFrom: '2020-01-01',
      validTo: null,
      parent: 'CC-9',
      parentFrom: '2020-01-01',
      ...over,
    });
    const steps = planMasterData(
      stored,
      [
        cc('CC-1', { validTo: '2027-03-01', parent: 'CC-8', parentFrom: '2027-02-01' }),
        cc('CC-2', { validTo: null, parent: null }),
        cc('CC-3', { parent: 'CC-8', parentFrom: '2027-04-01' }),
        cc('CC-4'),
      ],
      { complete: true },
    );
    expect(
      steps.map((s) => [
        s.step,
        s.record.code,
        'changed' in s
          ? s.changed
          : 'validTo' in s
            ? s.validTo
            : 'effectiveFrom' in s
              ? `${s.from}->${s.to}@${s.effectiveFrom}`
              : '',
      ]),
    ).toEqual([
      ['update', 'CC-1', ['name']],
      ['deactivate', 'CC-1', '2027-03-01'],
      ['reparent', 'CC-1', 'CC-9->CC-8@2027-02-01'],
      ['update', 'CC-2', ['validTo']],
      ['create', 'CC-4', ''],
    ]);
    // A partial read (one replayed record) never closes anything.
    expect(
      planMasterData(stored, [cc('CC-1', { validTo: '2027-03-01' })], { complete: false }).map((s) => s.step),
    ).toEqual(['update']);
  });

  test('a refused closure names each kind of money that stands, summed exactly per currency, with its periods', () => {
    const b = (
      period: string,
      budget: string,
      reserved = '0.000000',
      committed = '0.000000',
      currency = 'USD',
    ) => ({
      legalEntity: 'ACME-US',
      period,
      currency,
      budget,
      reserved,
      committed,
    });
    expect(
      describeBlockers('costCenter', 'CC-400', '2027-01-01', [
        b('2027-01', '0.100000'),
        b('2027-03', '0.200000', '5.000000'),
        b('2027-02', '0.000000', '0.000000', '12.50', 'EUR'),
      ]),
    ).toBe(
      'cost center CC-400 cannot close from 2027-01-01: it still has budget of 0.30 USD in 2027-01..2027-03, open reservations of 5.00 USD in 2027-03, open commitments of 12.50 EUR in 2027-02; move or release them first',
    );
  });
});
