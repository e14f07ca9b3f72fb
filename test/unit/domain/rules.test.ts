import { DecisionInput, refuseDecision } from '../../../domain/approval';
import { chunk, unitChunker } from '../../../domain/chunking';
import {
  budgetCycleWorkflowId,
  chunkPublicationKey,
  chunkReversalKey,
  parseBudgetCycleWorkflowId,
  publicationWorkflowId,
} from '../../../domain/identity';
import { mapDimensions, resolveMapping, unmapDimensions } from '../../../domain/mapping';
import { reconcileTotals } from '../../../domain/reconciliation';
import { type DimensionMappingRef } from '../../../domain/reference';
import { buildForecast } from '../../../domain/reforecast';

const ref = { legalEntity: 'ACME-US', fiscalYear: 2027, scenario: 'BUDGET' as const, version: 3 };

describe('identity', () => {
  test('workflow IDs and idempotency keys are readable and come from business identity only', () => {
    expect(budgetCycleWorkflowId(ref)).toBe('budget-cycle:ACME-US:FY2027:BUDGET:v3');
    expect(publicationWorkflowId(ref, 'd365')).toBe('publication:ACME-US:FY2027:BUDGET:v3:d365');
    expect(chunkPublicationKey(ref, 'd365', 4, 2)).toBe('ACME-US:FY2027:BUDGET:v3:d365:c4:r2');
    expect(chunkReversalKey('k')).toBe('k:reversal');
    expect(parseBudgetCycleWorkflowId(budgetCycleWorkflowId(ref))).toEqual({ ref, revision: 1 });
    expect(budgetCycleWorkflowId(ref, 2)).toBe('budget-cycle:ACME-US:FY2027:BUDGET:v3:r2');
    expect(parseBudgetCycleWorkflowId(budgetCycleWorkflowId(ref, 2))).toEqual({ ref, revision: 2 });
    // One ID per revision: the first revision is never spelled with a suffix.
    expect(parseBudgetCycleWorkflowId('budget-cycle:ACME-US:FY2027:BUDGET:v3:r1')).toBeUndefined();
    expect(parseBudgetCycleWorkflowId('budget-cycle:acme:FY2027:BUDGET:v3')).toBeUndefined();
    expect(parseBudgetCycleWorkflowId('publication:ACME-US:FY2027:BUDGET:v3:d365')).toBeUndefined();
  });

  test('chunking is deterministic and refuses a size below one', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });

  test('chunks of whole units: never split, packed while they fit, one larger than a chunk alone', () => {
    const items = ['a1', 'a2', 'b1', 'c1', 'c2', 'c3', 'c4', 'd1', 'e1'];
    const chunked = (size: number, list: string[], unitOf: (s: string, i: number) => string) => {
      const chunker = unitChunker(size);
      list.forEach((s, i) => chunker.push(i + 1, unitOf(s, i)));
      return chunker.finish().map((b) => list.slice(b.first - 1, b.last));
    };
    expect(chunked(3, items, (s) => s[0]!)).toEqual([
      ['a1', 'a2', 'b1'],
      ['c1', 'c2', 'c3', 'c4'],
      ['d1', 'e1'],
    ]);
    expect(chunked(100, items, (s) => s[0]!)).toEqual([items]);
    expect(chunked(3, [], String)).toEqual([]);
    // Every item a unit of its own: the same chunks as chunk().
    expect(chunked(2, ['a', 'a', 'b', 'c', 'd'], (_, i) => String(i))).toEqual(
      chunk(['a', 'a', 'b', 'c', 'd'], 2),
    );
    expect(() => unitChunker(0)).toThrow(RangeError);
  });
});

describe('effective-dated mapping', () => {
  const mappings: DimensionMappingRef[] = [
    {
      dimension: 'account',
      canonicalCode: '620300',
      systemValue: '62030',
      validFrom: '2020-01-01',
      validTo: '2027-07-01',
    },
    {
      dimension: 'account',
      canonicalCode: '620300',
      systemValue: '62035',
      validFrom: '2027-07-01',
      validTo: null,
    },
    {
      dimension: 'costCenter',
      canonicalCode: 'CC-200',
      systemValue: '200',
      validFrom: '2020-01-01',
      validTo: null,
    },
  ];
  test('validFrom is inclusive and validTo exclusive', () => {
    expect(resolveMapping(mappings, 'account', '620300', '2027-06-30')).toBe('62030');
    expect(resolveMapping(mappings, 'account', '620300', '2027-07-01')).toBe('62035');
    expect(resolveMapping(mappings, 'account', '620300', '2019-12-31')).toBeUndefined();
  });
  test('many source values onto one canonical value: each reads back, the budget goes to the longest-standing', () => {
    const manyToOne: DimensionMappingRef[] = [
      ...mappings,
      {
        dimension: 'account',
        canonicalCode: '620300',
        systemValue: '62036',
        validFrom: '2027-09-01',
        validTo: null,
      },
    ];
    expect(resolveMapping(manyToOne, 'account', '620300', '2027-09-15')).toBe('62035');
    for (const value of ['62035', '62036'])
      expect(unmapDimensions(manyToOne, { account: value, costCenter: '200' }, '2027-09-15')).toEqual({
        dimensions: { account: '620300', costCenter: 'CC-200' },
      });
  });
  test('every missing mapping is reported, and segments map back on the same date', () => {
    expect(mapDimensions(mappings, { account: '999999', costCenter: 'CC-999' }, '2027-01-01')).toEqual({
      missing: [
        { dimension: 'account', code: '999999', onDate: '2027-01-01' },
        { dimension: 'costCenter', code: 'CC-999', onDate: '2027-01-01' },
      ],
    });
    const mapped = mapDimensions(mappings, { account: '620300', costCenter: 'CC-200' }, '2027-08-01');
    expect(mapped).toEqual({ values: { account: '62035', costCenter: '200' } });
    expect(unmapDimensions(mappings, { account: '62035', costCenter: '200' }, '2027-08-01')).toEqual({
      dimensions: { account: '620300', costCenter: 'CC-200' },
    });
    expect(unmapDimensions(mappings, { account: '62035', costCenter: '200' }, '2027-01-01')).toEqual({
      missing: [{ dimension: 'account', code: '62035', onDate: '2027-01-01' }],
    });
  });
});

describe('reconciliation', () => {
  test('equal totals match; each difference becomes the exception that says where to look', () => {
    const source = [
      { period: '2027-01', account: '600100', amount: '0.10' },
      { period: '2027-01', account: '600100', amount: '0.20' },
      { period: '2027-02', account: '600100', amount: '100.00' },
      { period: '2027-03', account: '610200', amount: '50.00' },
    ];
    const target = [
      { period: '2027-01', account: '600100', amount: '0.30' },
      { period: '2027-02', account: '600100', amount: '99.99' },
      { period: '2027-04', account: '610200', amount: '7.00' },
    ];
    const r = reconcileTotals(source, target, 'USD');
    expect(r).toMatchObject({
      sourceTotal: '150.30',
      targetTotal: '107.29',
      matchedCount: 1,
      mismatchedCount: 3,
    });
    expect(r.exceptions.map((e) => [e.period, e.account, e.kind, e.difference])).toEqual([
      ['2027-02', '600100', 'amount_mismatch', '-0.01'],
      ['2027-03', '610200', 'missing_in_target', '-50.00'],
      ['2027-04', '610200', 'unexpected_in_target', '7.00'],
    ]);
    expect(reconcileTotals(source, source, 'USD').exceptions).toEqual([]);
  });
});

describe('reforecast', () => {
  test('elapsed periods forecast spend; later ones spend plus what is left of the budget', () => {
    const lines = buildForecast(
      [
        {
          account: 'A',
          costCenter: 'C',
          period: '2027-04',
          budget: '100.00',
          committed: '150.00',
          actual: '0',
        },
        {
          account: 'A',
          costCenter: 'C',
          period: '2027-01',
          budget: '100.00',
          committed: '5.00',
          actual: '112.00',
        },
        {
          account: 'A',
          costCenter: 'C',
          period: '2027-05',
          budget: '100.00',
          committed: '30.00',
          actual: '10.00',
        },
      ],
      '2027-03',
      'USD',
    );
    expect(lines.map((l) => [l.period, l.basis, l.amount.amount, l.remainingBudget.amount])).toEqual([
      ['2027-01', 'actual', '117.00', '0.00'],
      ['2027-04', 'projection', '150.00', '0.00'],
      ['2027-05', 'projection', '100.00', '60.00'],
    ]);
  });
});

describe('approval rules', () => {
  const policy = { submittedBy: 'alice', approvers: ['carol', 'dave'], integrationAdmins: ['ian'] };
  const waiting = { awaitingDecision: true };
  const decide = (principal: string) => ({ decision: 'approve' as const, principal });
  test('segregation of duties: neither the submitter nor an integration admin decides', () => {
    expect(refuseDecision(policy, waiting, decide('alice'))?.code).toBe('SegregationOfDuties');
    expect(refuseDecision(policy, waiting, decide('ian'))?.code).toBe('SegregationOfDuties');
    expect(refuseDecision(policy, waiting, decide('mallory'))?.code).toBe('NotAnApprover');
    expect(refuseDecision(policy, waiting, decide('carol'))).toBeUndefined();
  });
  test('one decision per version, and only while it waits for one', () => {
    expect(refuseDecision(policy, { awaitingDecision: true, decidedBy: 'carol' }, decide('dave'))?.code).toBe(
      'AlreadyDecided',
    );
    expect(refuseDecision(policy, { awaitingDecision: false }, decide('dave'))?.code).toBe('WrongStage');
  });
  test('a rejection needs a comment; unknown fields are refused', () => {
    const r = DecisionInput.safeParse({ decision: 'reject', principal: 'carol' });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['comment']);
    expect(DecisionInput.safeParse({ decision: 'approve', principal: 'carol', role: 'admin' }).success).toBe(
      false,
    );
  });
});
