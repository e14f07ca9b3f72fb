import { createHmac, randomUUID, sign, constants } from 'node:crypto';
import { z } from 'zod';
import { httpJson } from '../http';

/**
 * How closeloop signs in to NetSuite's REST web services (NetSuite help, "OAuth 2.0 Client Credentials (M2M)
 * Setup" and "The Authorization Headers" of token-based authentication):
 *
 * - OAuth 2.0 client credentials: a JWT assertion (header `typ` JWT, `alg` PS256, `kid` the certificate ID the
 *   integration's mapping gave; claims `iss` the client ID, `scope` the scopes, `aud` the token endpoint, `iat`,
 *   `exp` at most an hour later) signed with the certificate's private key, exchanged at
 *   `/services/rest/auth/oauth2/v1/token` (`grant_type=client_credentials`,
 *   `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) for an access token that
 *   lives 60 minutes: kept until shortly before it ends, and taken again when a request is answered 401;
 * - token-based authentication (OAuth 1.0a) for accounts that still use it: every request signed with
 *   HMAC-SHA256 over the method, the URL and its parameters, the realm being the account ID.
 */

export type NetSuiteAuth =
  | {
      kind: 'client-credentials';
      clientId: string;
      /** The certificate ID NetSuite gave the uploaded public key (the JWT's `kid`). */
      certificateId: string;
      /** The certificate's private key, PEM (PKCS#8). */
      privateKey: string;
      scopes: string[];
    }
  | {
      kind: 'tba';
      consumerKey: string;
      consumerSecret: string;
      tokenId: string;
      tokenSecret: string;
    };

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

/** A client assertion for the token endpoint, valid `lifetimeSeconds` (NetSuite takes at most an hour). */
export function clientAssertion(
  auth: Extract<NetSuiteAuth, { kind: 'client-credentials' }>,
  tokenUrl: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  lifetimeSeconds = 300,
): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'PS256', kid: auth.certificateId }));
  const payload = b64url(
    JSON.stringify({
      iss: auth.clientId,
      scope: auth.scopes,
      aud: tokenUrl,
      iat: nowSeconds,
      exp: nowSeconds + lifetimeSeconds,
    }),
  );
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), {
    key: auth.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  });
  return `${header}.${payload}.${b64url(signature)}`;
}

/** RFC 3986 percent-encoding, as OAuth 1.0a signs with it. */
const pct = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The `Authorization: OAuth …` header of one request under token-based authentication. */
export function tbaHeader(
  auth: Extract<NetSuiteAuth, { kind: 'tba' }>,
  accountId: string,
  method: string,
  url: string,
  // 32 alphanumeric characters (NetSuite asks for 6 to 64): a UUID's hex digits, drawn from Node's cached
  // entropy rather than a system call for each request.
  nonce = randomUUID().replaceAll('-', ''),
  timestamp = String(Math.floor(Date.now() / 1000)),
): string {
  const u = new URL(url);
  const oauth: Record<string, string> = {
    oauth_consumer_key: auth.consumerKey,
    oauth_token: auth.tokenId,
    oauth_signature_method: 'HMAC-SHA256',
    oauth_timestamp: timestamp,
    oauth_nonce: nonce,
    oauth_version: '1.0',
  };
  const params = [...u.searchParams.entries(), ...Object.entries(oauth)]
    .map(([k, v]) => [pct(k), pct(v)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const base = [method.toUpperCase(), pct(`${u.origin}${u.pathname}`), pct(params)].join('&');
  const signature = createHmac('sha256', `${pct(auth.consumerSecret)}&${pct(auth.tokenSecret)}`)
    .update(base)
    .digest('base64');
  const realm = accountId.toUpperCase().replace(/-/g, '_');
  return `OAuth realm="${realm}", ${Object.entries({ ...oauth, oauth_signature: signature })
    .map(([k, v]) => `${k}="${pct(v)}"`)
    .join(', ')}`;
}

const Token = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().int().positive(),
});

/**
 * Signs requests for one account: a bearer token from client credentials (taken again shortly before it ends,
 * or at once after a 401 through `forget`), or a TBA header for each request.
 */
export function createNetSuiteSigner(opts: {
  accountId: string;
  baseUrl: string;
  auth: NetSuiteAuth;
  timeoutMs: number;
}) {
  let token: { value: string; until: number } | undefined;
  const tokenUrl = `${opts.baseUrl.replace(/\/$/, '')}/services/rest/auth/oauth2/v1/token`;

  async function bearer(): Promise<string> {
    if (opts.auth.kind !== 'client-credentials') throw new Error('not client credentials');
    if (token && Date.now() < token.until) return token.value;
    const answer = await httpJson(
      {
        system: 'netsuite',
        method: 'POST',
        url: tokenUrl,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: clientAssertion(opts.auth, tokenUrl),
        }).toString(),
        timeoutMs: opts.timeoutMs,
      },
      Token,
    );
    // Taken again a minute before it ends, so a request never leaves with a token about to expire.
    token = { value: answer.access_token, until: Date.now() + (answer.expires_in - 60) * 1000 };
    return token.value;
  }

  return {
    tokenUrl,
    /** The Authorization header of a request. */
    async authorization(method: string, url: string): Promise<string> {
      return opts.auth.kind === 'tba'
        ? tbaHeader(opts.auth, opts.accountId, method, url)
        : `Bearer ${await bearer()}`;
    },
    /** A 401 answered: the token is not used again. */
    forget() {
      token = undefined;
    },
  };
}
