import { createHmac, createPublicKey, randomUUID, verify, constants } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { listen, type RunningServer } from '../../api/listen';
import { FaultInjector } from '../faults';

/**
 * NetSuite's REST web services as its help describes them, for signing in so far: the OAuth 2.0 token endpoint
 * (`/services/rest/auth/oauth2/v1/token`, client credentials with a JWT assertion signed PS256 by a certificate
 * mapped to the integration, at most an hour long; tokens live 60 minutes) and token-based authentication
 * (OAuth 1.0a, HMAC-SHA256, realm the account ID), both checked on every REST request; and the subsidiary
 * records' collection (`/services/rest/record/v1/subsidiary`), answered `{ items, count, hasMore, offset,
 * totalResults, links }`. Errors are `{ type, title, status, o:errorDetails: [{ detail, o:errorCode }] }`.
 */

export interface NetSuiteSimulatorOptions {
  accountId?: string;
  /** The integration's client ID and the certificates mapped to it (kid → public key PEM). */
  clientId?: string;
  certificates?: Record<string, string>;
  /** TBA: the integration's consumer key and secret and one access token. */
  tba?: { consumerKey: string; consumerSecret: string; tokenId: string; tokenSecret: string };
  /** How long an access token lives, seconds (NetSuite: 3600). */
  tokenLifetimeSeconds?: number;
}

const errorBody = (status: number, title: string, code: string, detail: string) => ({
  type: `https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.${status === 401 ? 2 : 1}`,
  title,
  status,
  'o:errorDetails': [{ detail, 'o:errorCode': code }],
});

const pct = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function createNetSuiteSimulator(options: NetSuiteSimulatorOptions = {}) {
  const accountId = options.accountId ?? '1234567_SB1';
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const faults = new FaultInjector();
  /** Access token → when it ends (ms). */
  const tokens = new Map<string, number>();
  const subsidiaries: Record<string, unknown>[] = [];
  let tokenRequests = 0;

  const app = express();
  app.disable('x-powered-by');
  app.use(faults.router());
  app.use(
    '/services',
    faults.middleware(() =>
      errorBody(500, 'Internal Server Error', 'UNEXPECTED_ERROR', 'An unexpected error occurred.'),
    ),
  );

  /** The token endpoint: a client assertion checked as NetSuite says it checks one. */
  app.post('/services/rest/auth/oauth2/v1/token', express.urlencoded({ extended: false }), (req, res) => {
    tokenRequests++;
    const refuse = (error: string) => res.status(400).json({ error });
    const body = req.body as Record<string, string | undefined>;
    if (body.grant_type !== 'client_credentials') return refuse('unsupported_grant_type');
    if (body.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return refuse('invalid_request');
    const [h, p, s] = (body.client_assertion ?? '').split('.');
    if (!h || !p || !s) return refuse('invalid_request');
    let header: { alg?: string; kid?: string; typ?: string };
    let claims: { iss?: string; aud?: string; iat?: number; exp?: number; scope?: unknown };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return refuse('invalid_request');
    }
    const pem = header.kid ? options.certificates?.[header.kid] : undefined;
    if (header.alg !== 'PS256' || !pem) return refuse('invalid_client');
    const valid = verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      {
        key: createPublicKey(pem),
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      },
      Buffer.from(s, 'base64url'),
    );
    const now = Math.floor(Date.now() / 1000);
    const tokenUrl = `${req.protocol}://${req.get('host')}${req.originalUrl}`;
    if (!valid || claims.iss !== options.clientId || claims.aud !== tokenUrl) return refuse('invalid_grant');
    if (!claims.iat || !claims.exp || claims.exp <= now || claims.exp - claims.iat > 3600)
      return refuse('invalid_grant');
    const scopes = Array.isArray(claims.scope) ? claims.scope : String(claims.scope ?? '').split(',');
    if (!scopes.includes('rest_webservices')) return refuse('invalid_scope');
    const token = randomUUID();
    tokens.set(token, Date.now() + lifetime * 1000);
    res.json({ access_token: token, expires_in: String(lifetime), token_type: 'bearer' });
  });

  /** Every REST request carries a live bearer token, or a TBA signature that checks out. */
  function signedIn(req: Request): boolean {
    const authorization = req.header('authorization') ?? '';
    const bearer = /^Bearer (.+)$/.exec(authorization)?.[1];
    if (bearer) return (tokens.get(bearer) ?? 0) > Date.now();
    if (!options.tba || !authorization.startsWith('OAuth ')) return false;
    const fields = Object.fromEntries(
      [...authorization.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, decodeURIComponent(m[2]!)]),
    );
    if (fields.realm !== accountId || fields.oauth_signature_method !== 'HMAC-SHA256') return false;
    if (fields.oauth_consumer_key !== options.tba.consumerKey || fields.oauth_token !== options.tba.tokenId)
      return false;
    const url = new URL(`${req.protocol}://${req.get('host')}${req.originalUrl}`);
    const oauth = Object.entries(fields).filter(([k]) => k.startsWith('oauth_') && k !== 'oauth_signature');
    const params = [...url.searchParams.entries(), ...oauth]
      .map(([k, v]) => [pct(k), pct(v)] as const)
      .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const base = [req.method, pct(`${url.origin}${url.pathname}`), pct(params)].join('&');
    const expected = createHmac(
      'sha256',
      `${pct(options.tba.consumerSecret)}&${pct(options.tba.tokenSecret)}`,
    )
      .update(base)
      .digest('base64');
    return expected === fields.oauth_signature;
  }

  app.use('/services/rest/record', (req, res, next) => {
    if (signedIn(req)) return next();
    res
      .status(401)
      .json(
        errorBody(
          401,
          'Unauthorized',
          'INVALID_LOGIN',
          'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.',
        ),
      );
  });

  app.get('/services/rest/record/v1/subsidiary', (req: Request, res: Response) => {
    const limit = Math.min(Number(req.query.limit ?? 1000), 1000);
    const offset = Number(req.query.offset ?? 0);
    const items = subsidiaries.slice(offset, offset + limit);
    res.json({
      links: [],
      count: items.length,
      hasMore: offset + items.length < subsidiaries.length,
      offset,
      totalResults: subsidiaries.length,
      items,
    });
  });

  return {
    app,
    faults,
    accountId,
    /** Tokens issued so far end now (a revoked integration, or an hour gone by). */
    expireTokens: () => tokens.clear(),
    tokenRequests: () => tokenRequests,
    putSubsidiaries(rows: Record<string, unknown>[]) {
      subsidiaries.splice(0, subsidiaries.length, ...rows);
    },
    listen: (port = 0): Promise<RunningServer> => listen(app, port),
  };
}

export type NetSuiteSimulator = ReturnType<typeof createNetSuiteSimulator>;
