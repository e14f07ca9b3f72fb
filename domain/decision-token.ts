import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { type BudgetDecisionKind as DecisionKind } from './approval';

/**
 * Proof of who decides, for decisions sent as signals (Temporal UI, `temporal workflow signal`). A signal's
 * payload is whatever its sender typed, so it carries a short-lived token closeloop signed (HS256 JWT,
 * RFC 7519) for one principal, one workflow, one approval level (stage) and one decision. The API hands
 * the token to the authenticated approver; the workflow has an activity verify it. The API's own
 * decision path (the `decide` update) signs one for the authenticated caller on each call, without a stage
 * and valid for a minute, so an update typed into Temporal UI by someone else is refused as well.
 */

const AUDIENCE = 'closeloop:decision-signal';
const ISSUER = 'closeloop';

export interface DecisionTokenClaims {
  principal: string;
  workflowId: string;
  /**
   * The approval stage (0-based) the token decides at; 0 for a workflow with a single decision. Absent on
   * the API's own tokens: it decides for the caller at whatever stage is open when the decision arrives.
   */
  stage?: number;
  decision: DecisionKind;
  /** The token's own identity: a token decides once. */
  tokenId: string;
  expiresAt: string;
}

export type TokenRefusalCode = 'Forged' | 'Expired' | 'WrongPerson' | 'WrongWorkflow' | 'WrongDecision';

export type TokenCheck =
  { ok: true; claims: DecisionTokenClaims } | { ok: false; code: TokenRefusalCode; message: string };

const keyOf = (secret: string) => new TextEncoder().encode(secret);

export async function signDecisionToken(
  secret: string,
  c: Omit<DecisionTokenClaims, 'tokenId' | 'expiresAt'>,
  ttlSeconds: number,
  now: Date = new Date(),
): Promise<{ token: string; claims: DecisionTokenClaims }> {
  const tokenId = randomUUID();
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({
    wf: c.workflowId,
    dec: c.decision,
    ...(c.stage === undefined ? {} : { stg: c.stage }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(c.principal)
    .setJti(tokenId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(keyOf(secret));
  return { token, claims: { ...c, tokenId, expiresAt: new Date(exp * 1000).toISOString() } };
}

/**
 * Whether a token proves that `expected.principal` decides `expected.decision` on `expected.workflowId`.
 * The level and the token's single use are for the workflow to check: it knows its open stage and the
 * tokens it has taken.
 */
export async function verifyDecisionToken(
  secret: string,
  token: string,
  expected: { principal: string; workflowId: string; decision: DecisionKind },
  now: Date = new Date(),
): Promise<TokenCheck> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: now,
      // The API, the workers and Temporal run on different hosts: allow their clocks to differ a little.
      clockTolerance: 30,
      requiredClaims: ['sub', 'jti', 'exp', 'wf', 'dec'],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired)
      return { ok: false, code: 'Expired', message: `the token expired; ask for a new one` };
    return { ok: false, code: 'Forged', message: 'the token is not one closeloop signed' };
  }
  const claims: DecisionTokenClaims = {
    principal: String(payload.sub),
    workflowId: String(payload.wf),
    ...(typeof payload.stg === 'number' ? { stage: payload.stg } : {}),
    decision: payload.dec as DecisionKind,
    tokenId: String(payload.jti),
    expiresAt: new Date(payload.exp! * 1000).toISOString(),
  };
  if (claims.principal !== expected.principal)
    return {
      ok: false,
      code: 'WrongPerson',
      message: `the token was signed for ${claims.principal}, not ${expected.principal}`,
    };
  if (claims.workflowId !== expected.workflowId)
    return { ok: false, code: 'WrongWorkflow', message: `the token was signed for ${claims.workflowId}` };
  if (claims.decision !== expected.decision)
    return {
      ok: false,
      code: 'WrongDecision',
      message: `the token was signed to ${claims.decision}, not to ${expected.decision}`,
    };
  return { ok: true, claims };
}
