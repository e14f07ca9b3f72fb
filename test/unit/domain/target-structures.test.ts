import { parseSegmentCriteria } from '../../../activities/connectors/d365/connector';
import { accepts, type TargetStructure, targetStructureProblems } from '../../../domain/target-structures';

describe('a D365 allowed-values cell', () => {
  it.each([
    ['*', [{ any: true }]],
    ['*;" "', [{ any: true }, { blank: true }]],
    ['\u201c \u201d', [{ blank: true }]],
    ['400000..999999', [{ range: ['400000', '999999'] }]],
    ['002; 014', [{ value: '002' }, { value: '014' }]],
    ['6*;110100..110199', [{ value: '6*' }, { range: ['110100', '110199'] }]],
  ])('%j reads as %j', (cell, criteria) => {
    expect(parseSegmentCriteria(cell)).toEqual(criteria);
  });
});

describe('accepts', () => {
  it.each<[string, string | undefined, boolean]>([
    ['*', '100', true],
    ['*', undefined, false],
    ['*;" "', undefined, true],
    ['" "', '100', false],
    ['50010..52030', '51020', true],
    ['50010..52030', '60010', false],
    ['6*', '61020', true],
    ['6?020', '61020', true],
    ['002', '003', false],
  ])('%s %j → %s', (cell, value, ok) => {
    expect(accepts(parseSegmentCriteria(cell), value)).toBe(ok);
  });
});

describe('targetStructureProblems', () => {
  const PL: TargetStructure = {
    name: 'MFG-PL',
    segments: ['account', 'costCenter', 'department', 'project'],
    rows: [
      {
        source: 'row 1',
        criteria: {
          account: parseSegmentCriteria('50010..52030'),
          costCenter: parseSegmentCriteria('*;" "'),
          department: parseSegmentCriteria('*'),
          project: parseSegmentCriteria('*;" "'),
        },
      },
      {
        source: 'row 2',
        criteria: {
          account: parseSegmentCriteria('60010..69990'),
          costCenter: parseSegmentCriteria('*'),
          department: parseSegmentCriteria('*'),
          project: parseSegmentCriteria('" "'),
        },
      },
    ],
  };
  const BS: TargetStructure = {
    name: 'MFG-BS',
    segments: ['account', 'costCenter'],
    rows: [{ source: 'row 1', criteria: { account: parseSegmentCriteria('10000..39999') } }],
  };

  it.each<[string, Record<string, string>, string[]]>([
    ['allowed on its row', { account: '50010', department: 'OPS' }, []],
    ['allowed in another structure', { account: '11000', costCenter: '700' }, []],
    ['held by the company', { company: 'acmf', account: '60010', costCenter: '790', department: 'ENG' }, []],
    [
      'a blank where a value is needed',
      { account: '60010', department: 'ENG' },
      ['account structure MFG-PL (row 2) accepts any value for costCenter; the line has blank'],
    ],
    [
      'a value where only blank is allowed',
      { account: '61020', costCenter: '790', department: 'ENG', project: 'P101' },
      ['account structure MFG-PL (row 2) accepts blank for project; the line has P101'],
    ],
    [
      'a main account in no structure',
      { account: '90000' },
      ["account 90000 is in none of the target's account structures (MFG-PL, MFG-BS)"],
    ],
    [
      'a dimension the structure has no segment for',
      { account: '50010', department: 'OPS', shift: 'N' },
      ['account structure MFG-PL has no segment for shift'],
    ],
  ])('%s', (_what, values, messages) => {
    expect(targetStructureProblems([PL, BS], values, ['company', 'ledger']).map((p) => p.message)).toEqual(
      messages,
    );
  });
});
