import { signDecisionToken, verifyDecisionToken } from '../../../domain/decision-token';

/** The proof a decision signal carries: what it binds, and every way it is refused. */
const KEY = 'k'.repeat(40);
const cycle = 'budget-cycle:ACME-US:FY2027:BUDGET:v1';
const victor = { principal: 'victor@acme.example', workflowId: cycle, decision: 'approve' as const };
const at = new Date('2027-01-05T10:00:00Z');
const later = (seconds: number) => new Date(at.getTime() + seconds * 1000);

test('a token closeloop signed proves who decides what on which workflow, at which stage, until it expires', async () => {
  const { token, claims } = await signDecisionToken(KEY, { ...victor, stage: 2 }, 900, at);
  expect(claims).toMatchObject({ ...victor, stage: 2, expiresAt: '2027-01-05T10:15:00.000Z' });
  const checked = await verifyDecisionToken(KEY, token, victor, later(899));
  expect(checked).toEqual({ ok: true, claims });
});

test.each([
  // 900 s of validity, and 30 s of tolerance for the clocks of the API and the workers.
  ['Expired', {}, 931, undefined],
  ['WrongPerson', { principal: 'mallory@acme.example' }, 1, /signed for victor@acme.example, not mallory/],
  ['WrongWorkflow', { workflowId: `${cycle}:r2` }, 1, /signed for budget-cycle:ACME-US:FY2027:BUDGET:v1$/],
  ['WrongDecision', { decision: 'reject' as const }, 1, /signed to approve, not to reject/],
])('refused: %s', async (code, expected, after, message) => {
  const { token } = await signDecisionToken(KEY, { ...victor, stage: 0 }, 900, at);
  const checked = await verifyDecisionToken(KEY, token, { ...victor, ...expected }, later(after));
  expect(checked).toMatchObject({ ok: false, code });
  if (message) expect(!checked.ok && checked.message).toMatch(message);
});

test('a token signed with another key, altered, or not a token at all is forged', async () => {
  const { token } = await signDecisionToken('x'.repeat(40), { ...victor, stage: 0 }, 900, at);
  expect(await verifyDecisionToken(KEY, token, victor, at)).toMatchObject({ ok: false, code: 'Forged' });
  const mine = (await signDecisionToken(KEY, { ...victor, stage: 0 }, 900, at)).token;
  const [h, body, sig] = mine.split('.');
  const tampered = JSON.parse(Buffer.from(body!, 'base64url').toString());
  tampered.sub = 'mallory@acme.example';
  const altered = [h, Buffer.from(JSON.stringify(tampered)).toString('base64url'), sig].join('.');
  const asMallory = { ...victor, principal: 'mallory@acme.example' };
  expect(await verifyDecisionToken(KEY, altered, asMallory, at)).toMatchObject({ ok: false, code: 'Forged' });
  expect(await verifyDecisionToken(KEY, 'approve-please', victor, at)).toMatchObject({
    ok: false,
    code: 'Forged',
  });
  // "alg": "none" is never accepted.
  const none = [Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url'), body, ''].join('.');
  expect(await verifyDecisionToken(KEY, none, victor, at)).toMatchObject({ ok: false, code: 'Forged' });
});
