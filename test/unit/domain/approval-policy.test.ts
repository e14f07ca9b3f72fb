import {
  type ApprovalRoute,
  ApprovalPolicySpec,
  routeVersion,
  UnroutableVersion,
  type VersionForRouting,
} from '../../../domain/approval-policy';
import { describeIssues } from '../../../domain/zod-issues';
import { approvalPolicy } from '../../../db/seed/services-company';

/**
 * The services company's seeded policy: each cost center's owner approves its lines (carol stands in); then
 * any 2 of the 3 FP&A approvers; then the CFO when the total is above 5,000,000.00 USD, or it grows the
 * active budget by more than 250,000.00 USD or 5%.
 */
const policy = ApprovalPolicySpec.parse(approvalPolicy);

const usd = (amount: string) => ({ amount, currency: 'USD' });
const version = (over: Partial<VersionForRouting> = {}): VersionForRouting => ({
  submittedBy: 'alice@acme.example',
  total: usd('1000000.00'),
  activeTotal: usd('990000.00'),
  costCenters: [
    { costCenter: 'CC-200', total: usd('600000.00') },
    { costCenter: 'CC-100', total: usd('400000.00') },
  ],
  owners: { 'CC-100': ['olivia@acme.example'], 'CC-200': ['paul@acme.example'] },
  integrationAdmins: ['ian@acme.example'],
  ...over,
});

/** A route in a line per stage: "key(required of approvers)". */
const shape = (r: ApprovalRoute) =>
  r.stages.map((s) => s.map((l) => `${l.key}(${l.required} of ${l.approvers.join(' ')})`).join(' | '));

const OWNERS =
  'cost center owners:CC-100(1 of olivia@acme.example) | cost center owners:CC-200(1 of paul@acme.example)';
const FPA = 'FP&A(2 of carol@acme.example frank@acme.example grace@acme.example)';
const CFO = 'CFO(1 of victor@acme.example)';

describe('routeVersion: which levels a version passes, in order, and who decides', () => {
  test.each([
    ['a small revision: owners, then FP&A; no CFO', {}, [OWNERS, FPA]],
    [
      'total exactly 5,000,000.00: not above, no CFO',
      { total: usd('5000000.00'), activeTotal: usd('4900000.00') },
      [OWNERS, FPA],
    ],
    [
      'total 5,000,000.01: the CFO too',
      { total: usd('5000000.01'), activeTotal: usd('4900000.00') },
      [OWNERS, FPA, CFO],
    ],
    [
      'increase of 250,000.01 over the active budget: the CFO',
      { total: usd('6250000.01'), activeTotal: usd('6000000.00') },
      [OWNERS, FPA, CFO],
    ],
    [
      'increase of exactly 5% (1,050,000 on 1,000,000): no CFO',
      { total: usd('1050000.00'), activeTotal: usd('1000000.00') },
      [OWNERS, FPA],
    ],
    [
      'increase of 5.01%: the CFO',
      { total: usd('1050100.00'), activeTotal: usd('1000000.00') },
      [OWNERS, FPA, CFO],
    ],
    [
      'a decrease never needs the CFO',
      { total: usd('900000.00'), activeTotal: usd('1000000.00') },
      [OWNERS, FPA],
    ],
    [
      'a first budget (no active one) above the increase limit: the CFO',
      { activeTotal: undefined },
      [OWNERS, FPA, CFO],
    ],
    [
      'one cost center only: its owner alone at the first stage',
      { costCenters: [{ costCenter: 'CC-100', total: usd('1000000.00') }] },
      ['cost center owners:CC-100(1 of olivia@acme.example)', FPA],
    ],
    [
      'an FP&A approver submits: the other two must both approve',
      { submittedBy: 'carol@acme.example' },
      [OWNERS, 'FP&A(2 of frank@acme.example grace@acme.example)'],
    ],
    [
      'the owner submits: the fallback approves that cost center',
      { submittedBy: 'olivia@acme.example' },
      [
        'cost center owners:CC-100(1 of carol@acme.example) | cost center owners:CC-200(1 of paul@acme.example)',
        FPA,
      ],
    ],
    [
      'a cost center without an owner: the fallback',
      { owners: { 'CC-100': ['olivia@acme.example'] } },
      [
        'cost center owners:CC-100(1 of olivia@acme.example) | cost center owners:CC-200(1 of carol@acme.example)',
        FPA,
      ],
    ],
    [
      'an integration administrator never approves, even when named an owner',
      { owners: { 'CC-100': ['ian@acme.example', 'olivia@acme.example'], 'CC-200': ['paul@acme.example'] } },
      [OWNERS, FPA],
    ],
  ] as [string, Partial<VersionForRouting>, string[]][])('%s', (_name, over, expected) => {
    expect(shape(routeVersion(policy, version(over)))).toEqual(expected);
  });

  test('says why a level applies, why someone stands in, and which levels are skipped', () => {
    const cfo = routeVersion(policy, version({ total: usd('1100000.00'), activeTotal: usd('1000000.00') }));
    expect(cfo.stages[2]![0]!.reason).toBe('increase over the active budget is above 5%');
    expect(cfo.skipped).toEqual([]);
    const small = routeVersion(policy, version({ submittedBy: 'olivia@acme.example' }));
    expect(small.stages[0]![0]!.reason).toBe(
      "CC-100's owner submitted the version: carol@acme.example approve in their place",
    );
    expect(small.skipped).toEqual([{ name: 'CFO', reason: 'no threshold of the level is crossed' }]);
  });

  test.each([
    [
      'a quorum the eligible approvers cannot reach',
      { submittedBy: 'frank@acme.example', integrationAdmins: ['grace@acme.example'] },
      /level "FP&A" needs 2 approval\(s\) but only 1/,
    ],
    [
      'a threshold in another currency than the version',
      { total: { amount: '1000000.00', currency: 'EUR' }, activeTotal: { amount: '1.00', currency: 'EUR' } },
      /totalAbove is in USD, the version in EUR/,
    ],
  ] as [string, Partial<VersionForRouting>, RegExp][])('unroutable: %s', (_name, over, message) => {
    expect(() => routeVersion(policy, version(over))).toThrow(UnroutableVersion);
    expect(() => routeVersion(policy, version(over))).toThrow(message);
  });
});

describe('routeVersion: owners of any dimension (project managers, department heads)', () => {
  const projects = ApprovalPolicySpec.parse({
    legalEntity: 'ACME-MFG',
    stages: [
      [
        {
          kind: 'dimension_owners',
          name: 'project managers',
          dimension: 'project',
          fallback: ['pmo@acme.example'],
        },
        {
          kind: 'dimension_owners',
          name: 'department heads',
          dimension: 'department',
          fallback: ['coo@acme.example'],
        },
      ],
      [{ kind: 'group', name: 'plant controller', approvers: ['carol@acme.example'] }],
    ],
  });
  const mfg = (over: Partial<VersionForRouting> = {}) =>
    version({
      dimensionValues: {
        project: {
          values: [
            { value: 'P-102', total: usd('25000.00') },
            { value: 'P-101', total: usd('10000.00') },
          ],
          owners: { 'P-101': ['pm101@acme.example'] },
        },
        department: {
          values: [{ value: 'ENG', total: usd('35000.00') }],
          owners: { ENG: ['eng-head@acme.example'] },
        },
      },
      ...over,
    });

  test('each value the version touches is a step its owner approves; a value without one goes to the fallback', () => {
    const route = routeVersion(projects, mfg());
    expect(shape(route)).toEqual([
      'project managers:P-101(1 of pm101@acme.example) | project managers:P-102(1 of pmo@acme.example) | department heads:ENG(1 of eng-head@acme.example)',
      'plant controller(1 of carol@acme.example)',
    ]);
    expect(route.stages[0]![0]).toMatchObject({ dimension: 'project', value: 'P-101' });
    expect(route.stages[0]![1]!.reason).toBe(
      'project P-102 has no owner: pmo@acme.example approve in their place',
    );
  });

  test('the owner who submitted does not approve their own project; delegates act for owners', () => {
    const route = routeVersion(
      projects,
      mfg({
        submittedBy: 'pm101@acme.example',
        delegations: { 'eng-head@acme.example': ['deputy@acme.example'] },
      }),
    );
    expect(route.stages[0]![0]).toMatchObject({
      key: 'project managers:P-101',
      approvers: ['pmo@acme.example'],
      reason: "project P-101's owner submitted the version: pmo@acme.example approve in their place",
    });
    expect(route.stages[0]![2]!.delegates).toEqual({ 'deputy@acme.example': 'eng-head@acme.example' });
  });

  test('a version with no lines on a project has no project step', () => {
    const route = routeVersion(
      projects,
      mfg({
        dimensionValues: { project: { values: [], owners: {} }, department: { values: [], owners: {} } },
      }),
    );
    expect(shape(route)).toEqual(['plant controller(1 of carol@acme.example)']);
  });
});

describe('ApprovalPolicySpec: a policy edited by command is checked before it is stored', () => {
  const level = { kind: 'group', name: 'FP&A', approvers: ['carol@acme.example'] };
  test.each([
    [
      'a quorum above the approvers',
      [[{ ...level, quorum: 2 }]],
      'stages.0.0.quorum: is more than the level has approvers',
    ],
    ['two levels of one name', [[level], [level]], 'stages: level name "FP&A" is used twice'],
    [
      'an empty condition',
      [[{ ...level, when: {} }]],
      'stages.0.0.when: names no threshold: leave the condition out',
    ],
    [
      'a percentage that is not one',
      [[{ ...level, when: { increasePercentAbove: 'ten' } }]],
      'stages.0.0.when.increasePercentAbove',
    ],
    ['a stage with no level', [[]], 'stages.0'],
  ])('refuses %s, naming the field', (_name, stages, message) => {
    const parsed = ApprovalPolicySpec.safeParse({ legalEntity: 'ACME-US', stages });
    expect(parsed.success).toBe(false);
    expect(describeIssues(parsed.error!)).toContain(message);
  });
});
