import { generateKeyPairSync } from 'node:crypto';
import { listen, type RunningServer } from '../../api/listen';
import { clientAssertion, createNetSuiteSigner, tbaHeader } from '../../activities/connectors/netsuite/auth';
import { errorReason } from '../../activities/connectors/http';
import { FailureType } from '../../domain/failures';
import { createNetSuiteSimulator, type NetSuiteSimulator } from '../../simulators/netsuite/simulator';
import { failureOf } from '../harness/failures';

/**
 * Signing in to NetSuite as its help describes, against the simulator over real HTTP: OAuth 2.0 client
 * credentials with a PS256 JWT assertion (a token kept until shortly before it ends, taken again after a 401),
 * and token-based authentication signed with HMAC-SHA256.
 */

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const TBA = { consumerKey: 'ck-1', consumerSecret: 'cs-1', tokenId: 'tk-1', tokenSecret: 'ts-1' };

let sim: NetSuiteSimulator;
let server: RunningServer;
beforeAll(async () => {
  sim = createNetSuiteSimulator({ clientId: 'client-1', certificates: { 'cert-1': publicKey }, tba: TBA });
  sim.putSubsidiaries([
    { id: '1', name: 'Acme Holdings' },
    { id: '3', name: 'Acme Nordics AB' },
  ]);
  server = await listen(sim.app, 0);
});
afterAll(() => server.close());

const subsidiaries = async (authorization: string) =>
  fetch(`${server.url}/services/rest/record/v1/subsidiary?limit=10`, {
    headers: { Authorization: authorization },
  });

const credentials = (
  over: Partial<{ privateKey: string; certificateId: string; scopes: string[] }> = {},
) => ({
  kind: 'client-credentials' as const,
  clientId: 'client-1',
  certificateId: 'cert-1',
  privateKey,
  scopes: ['rest_webservices'],
  ...over,
});

describe('NetSuite sign-in', () => {
  test('client credentials: one token for many requests; after it is revoked, a 401 and a new token', async () => {
    const signer = createNetSuiteSigner({
      accountId: sim.accountId,
      baseUrl: server.url,
      auth: credentials(),
      timeoutMs: 2000,
    });
    const before = sim.tokenRequests();
    expect((await subsidiaries(await signer.authorization('GET', server.url))).status).toBe(200);
    const res = await subsidiaries(await signer.authorization('GET', server.url));
    expect(await res.json()).toMatchObject({ count: 2, hasMore: false, totalResults: 2 });
    expect(sim.tokenRequests() - before).toBe(1);
    sim.expireTokens();
    const refused = await subsidiaries(await signer.authorization('GET', server.url));
    expect(refused.status).toBe(401);
    expect(errorReason(await refused.text())).toContain('INVALID_LOGIN');
    signer.forget();
    expect((await subsidiaries(await signer.authorization('GET', server.url))).status).toBe(200);
    expect(sim.tokenRequests() - before).toBe(2);
  });

  test('an assertion signed with another key, for an unmapped certificate, or longer than an hour is refused for good', async () => {
    for (const auth of [credentials({ privateKey: other }), credentials({ certificateId: 'cert-9' })]) {
      const signer = createNetSuiteSigner({
        accountId: sim.accountId,
        baseUrl: server.url,
        auth,
        timeoutMs: 2000,
      });
      const failure = await failureOf(signer.authorization('GET', server.url));
      expect(failure).toMatchObject({ type: FailureType.ConnectorRejected, nonRetryable: true });
    }
    const tokenUrl = `${server.url}/services/rest/auth/oauth2/v1/token`;
    const long = clientAssertion(credentials(), tokenUrl, Math.floor(Date.now() / 1000), 7200);
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: long,
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant' });
  });

  test('token-based authentication: each request signed with HMAC-SHA256, a wrong secret refused', async () => {
    const url = `${server.url}/services/rest/record/v1/subsidiary?limit=10`;
    const ok = await fetch(url, {
      headers: { Authorization: tbaHeader({ kind: 'tba', ...TBA }, sim.accountId, 'GET', url) },
    });
    expect(ok.status).toBe(200);
    const header = tbaHeader({ kind: 'tba', ...TBA, tokenSecret: 'wrong' }, sim.accountId, 'GET', url);
    expect(header).toMatch(
      /^OAuth realm="1234567_SB1", oauth_consumer_key="ck-1", .*oauth_signature_method="HMAC-SHA256"/,
    );
    expect((await fetch(url, { headers: { Authorization: header } })).status).toBe(401);
  });
});
