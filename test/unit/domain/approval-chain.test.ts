import { type BudgetDecisionInput } from '../../../domain/approval';
import {
  advance,
  applyDecision,
  awaitedApprovers,
  chainRefusal,
  openChain,
  refreshDelegates,
  stagePassed,
} from '../../../domain/approval-chain';
import { ApprovalPolicySpec, routeVersion } from '../../../domain/approval-policy';
import { approvalPolicy } from '../../../db/seed/services-company';

/** The services company's seeded policy walked by decisions: who may decide when, and when a stage passes. */
const usd = (amount: string) => ({ amount, currency: 'USD' });
const route = routeVersion(ApprovalPolicySpec.parse(approvalPolicy), {
  submittedBy: 'alice@acme.example',
  total: usd('6000000.00'),
  activeTotal: usd('5900000.00'),
  costCenters: [
    { costCenter: 'CC-100', total: usd('1.00') },
    { costCenter: 'CC-200', total: usd('1.00') },
  ],
  owners: { 'CC-100': ['olivia@acme.example'], 'CC-200': ['paul@acme.example'] },
  integrationAdmins: ['ian@acme.example'],
});
const who = { submittedBy: 'alice@acme.example', integrationAdmins: ['ian@acme.example'], awaiting: true };
const approve = (principal: string): BudgetDecisionInput => ({ decision: 'approve', principal });
const at = '2027-01-05T10:00:00.000Z';

test('owners in parallel, then any 2 of 3 FP&A, then the CFO; each decision where it counts', () => {
  const c = openChain(route, 1);
  expect(awaitedApprovers(c)).toEqual(['olivia@acme.example', 'paul@acme.example']);
  // FP&A cannot decide before the owners' stage passed; the submitter and integration admins never.
  expect(chainRefusal(c, who, approve('carol@acme.example'))?.code).toBe('NotAnApprover');
  expect(chainRefusal(c, who, approve('alice@acme.example'))?.code).toBe('SegregationOfDuties');
  expect(chainRefusal(c, who, approve('ian@acme.example'))?.code).toBe('SegregationOfDuties');

  expect(applyDecision(c, { ...approve('olivia@acme.example'), at })).toEqual({
    levels: ['cost center owners:CC-100'],
  });
  expect(chainRefusal(c, who, approve('olivia@acme.example'))?.code).toBe('AlreadyDecided');
  expect(stagePassed(c)).toBe(false);
  applyDecision(c, { ...approve('paul@acme.example'), at });
  expect(stagePassed(c)).toBe(true);
  expect(advance(c)).toBe(true);

  expect(awaitedApprovers(c)).toEqual(['carol@acme.example', 'frank@acme.example', 'grace@acme.example']);
  applyDecision(c, { ...approve('frank@acme.example'), at });
  expect(stagePassed(c)).toBe(false);
  applyDecision(c, { ...approve('grace@acme.example'), at });
  expect(stagePassed(c)).toBe(true);
  expect(c.stages[1]![0]!.approvals.map((a) => a.principal)).toEqual([
    'frank@acme.example',
    'grace@acme.example',
  ]);
  expect(advance(c)).toBe(true);

  expect(chainRefusal(c, who, approve('carol@acme.example'))?.code).toBe('NotAnApprover');
  applyDecision(c, { ...approve('victor@acme.example'), at });
  expect(stagePassed(c)).toBe(true);
  expect(advance(c)).toBe(false);
  expect(chainRefusal(c, who, approve('victor@acme.example'))?.code).toBe('WrongStage');
});

test('a rejection at any open level ends the chain, naming who and where', () => {
  const c = openChain(route, 1);
  applyDecision(c, { ...approve('olivia@acme.example'), at });
  expect(
    applyDecision(c, {
      decision: 'reject',
      principal: 'paul@acme.example',
      comment: 'CC-200 travel too high',
      at,
    }),
  ).toEqual({ levels: ['cost center owners:CC-200'] });
  expect(c.stopped).toMatchObject({
    decision: 'reject',
    principal: 'paul@acme.example',
    comment: 'CC-200 travel too high',
  });
  expect(chainRefusal(c, who, approve('paul@acme.example'))?.code).toBe('AlreadyDecided');
});

test('sending back for changes ends the chain too, as a send-back (the planner fixes and resubmits)', () => {
  const c = openChain(route, 1);
  applyDecision(c, {
    decision: 'send_back',
    principal: 'olivia@acme.example',
    comment: 'split CC-100 consulting by quarter',
    at,
  });
  expect(c.stopped).toMatchObject({ decision: 'send_back', levels: ['cost center owners:CC-100'] });
  const refused = chainRefusal(c, who, approve('paul@acme.example'));
  expect(refused).toMatchObject({ code: 'AlreadyDecided', message: expect.stringContaining('sent back') });
});

test('nothing counts while the version is not awaiting approval', () => {
  const c = openChain(route, 1);
  expect(chainRefusal(c, { ...who, awaiting: false }, approve('olivia@acme.example'))?.code).toBe(
    'WrongStage',
  );
});

test('a delegate decides in the approver’s place, recorded as both; never the submitter', () => {
  const delegated = routeVersion(ApprovalPolicySpec.parse(approvalPolicy), {
    submittedBy: 'alice@acme.example',
    total: usd('6000000.00'),
    costCenters: [{ costCenter: 'CC-100', total: usd('1.00') }],
    owners: { 'CC-100': ['olivia@acme.example'] },
    integrationAdmins: [],
    delegations: { 'olivia@acme.example': ['alice@acme.example', 'wendy@acme.example'] },
  });
  expect(delegated.stages[0]![0]!.delegates).toEqual({ 'wendy@acme.example': 'olivia@acme.example' });
  const c = openChain(delegated, 1);
  expect(awaitedApprovers(c)).toEqual(['olivia@acme.example', 'wendy@acme.example']);
  expect(chainRefusal(c, who, approve('alice@acme.example'))?.code).toBe('SegregationOfDuties');
  expect(applyDecision(c, { ...approve('wendy@acme.example'), at })).toEqual({
    levels: ['cost center owners:CC-100'],
    onBehalfOf: 'olivia@acme.example',
  });
  expect(c.stages[0]![0]!.approvals).toEqual([
    { principal: 'wendy@acme.example', onBehalfOf: 'olivia@acme.example', at, comment: undefined },
  ]);
  expect(chainRefusal(c, who, approve('olivia@acme.example'))?.code).toBe('AlreadyDecided');
  expect(stagePassed(c)).toBe(true);

  // A delegate's rejection ends the chain and names both people.
  const rejected = openChain(delegated, 1);
  applyDecision(rejected, { decision: 'reject', principal: 'wendy@acme.example', comment: 'no', at });
  expect(rejected.stopped).toMatchObject({
    decision: 'reject',
    principal: 'wendy@acme.example',
    onBehalfOf: 'olivia@acme.example',
  });
});

test('delegations made or revoked while the stage waits: its delegates follow, never the submitter', () => {
  const c = openChain(route, 1);
  refreshDelegates(
    c,
    {
      'paul@acme.example': ['alice@acme.example', 'ian@acme.example', 'wendy@acme.example'],
      'frank@acme.example': ['zoe@acme.example'],
    },
    who,
  );
  expect(c.stages[0]!.map((l) => l.delegates)).toEqual([
    undefined,
    { 'wendy@acme.example': 'paul@acme.example' },
  ]);
  // The FP&A stage is not open yet: its delegates are read when it opens.
  expect(c.stages[1]![0]!.delegates).toBeUndefined();
  expect(awaitedApprovers(c)).toContain('wendy@acme.example');
  // Paul is back: Wendy may no longer decide for him.
  refreshDelegates(c, {}, who);
  expect(c.stages[0]![1]!.delegates).toBeUndefined();
  expect(chainRefusal(c, who, approve('wendy@acme.example'))?.code).toBe('NotAnApprover');
  // What a delegate approved while the delegation was in force stands after it ends.
  refreshDelegates(c, { 'paul@acme.example': ['wendy@acme.example'] }, who);
  applyDecision(c, { ...approve('wendy@acme.example'), at });
  refreshDelegates(c, {}, who);
  expect(c.stages[0]![1]!).toMatchObject({
    status: 'approved',
    approvals: [{ principal: 'wendy@acme.example', onBehalfOf: 'paul@acme.example', at }],
  });
});
