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
  /** Requests the account serves at once; one more is answered 429 (NetSuite: by service tier, 5 and up). */
  concurrencyLimit?: number;
  /** Reads of a new job that answer it not completed yet (default 1). */
  jobReadsPending?: number;
  /** Rows served of one SuiteQL query (NetSuite: 100,000); more answer only the first of them. */
  suiteqlCap?: number;
}

const errorBody = (status: number, title: string, code: string, detail: string) => ({
  type: `https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.${status === 401 ? 2 : 1}`,
  title,
  status,
  'o:errorDetails': [{ detail, 'o:errorCode': code }],
});

/** A page of a collection as the REST services answer one: `limit` (at most 1000) items from `offset`. */
function collectionPage(req: Request, rows: Record<string, unknown>[], totalResults: number) {
  const limit = Math.min(Number(req.query.limit ?? 1000), 1000);
  const offset = Number(req.query.offset ?? 0);
  const items = rows.slice(offset, offset + limit);
  return {
    links: [],
    count: items.length,
    hasMore: offset + items.length < rows.length,
    offset,
    totalResults,
    items,
  };
}

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
  let inFlight = 0;
  let mostInFlight = 0;
  /** Records created by jobs, by type. */
  const records = new Map<string, { id: string; body: unknown }[]>();
  /** Asynchronous jobs: what they create, and how it ends. */
  const jobs = new Map<
    string,
    { type: string; body: unknown; pendingReads: number; recordId?: string; error?: string }
  >();
  const keys = new Map<string, string>();
  let refuseNext: string | undefined;
  /** SuiteQL tables: rows by table name (lower case). */
  const tables = new Map<string, Record<string, unknown>[]>();

  const app = express();
  app.disable('x-powered-by');
  app.use(faults.router());
  /** The account's concurrency: a request over the limit is refused at once, not queued. */
  app.use('/services/rest', (req, res, next) => {
    if (req.path.startsWith('/auth/')) return next();
    if (inFlight >= (options.concurrencyLimit ?? Infinity)) {
      res
        .status(429)
        .json(
          errorBody(
            429,
            'Too Many Requests',
            'CONCURRENCY_LIMIT_EXCEEDED',
            'Concurrent request limit exceeded. Request blocked.',
          ),
        );
      return;
    }
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    res.on('close', () => inFlight--);
    next();
  });

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

  app.use(['/services/rest/record', '/services/rest/async', '/services/rest/query'], (req, res, next) => {
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
    res.json(collectionPage(req, subsidiaries, subsidiaries.length));
  });

  /**
   * An asynchronous create: answered 202 with its job's Location; a key already used is answered with an
   * IDEMPOTENCY_ERROR naming the first request's job.
   */
  app.post('/services/rest/record/v1/:type', express.json(), (req, res) => {
    const key = req.header('x-netsuite-idempotency-key');
    if (!/respond-async/i.test(req.header('prefer') ?? '') || !key) {
      res
        .status(400)
        .json(
          errorBody(
            400,
            'Bad Request',
            'INVALID_REQUEST',
            'This test account takes asynchronous creates only.',
          ),
        );
      return;
    }
    const first = keys.get(key);
    if (first) {
      res
        .status(400)
        .json(
          errorBody(
            400,
            'Bad Request',
            'IDEMPOTENCY_ERROR',
            `The idempotency key ${key} was already used. To get the result, see the job /services/rest/async/v1/job/${first}.`,
          ),
        );
      return;
    }
    const id = String(1000 + jobs.size + 1);
    keys.set(key, id);
    const error =
      refuseNext ??
      (req.body && typeof req.body === 'object' && Object.keys(req.body as object).length
        ? undefined
        : 'The record has no fields.');
    refuseNext = undefined;
    jobs.set(id, {
      type: req.params.type,
      body: req.body,
      pendingReads: options.jobReadsPending ?? 1,
      error,
    });
    res
      .status(202)
      .setHeader('Location', `${req.protocol}://${req.get('host')}/services/rest/async/v1/job/${id}`)
      .end();
  });

  /** A job completes when its pending reads are spent; then what it created exists. */
  function jobOf(id: string) {
    const job = jobs.get(id);
    if (!job) return undefined;
    if (job.pendingReads > 0) job.pendingReads--;
    else if (!job.recordId && !job.error) {
      const list = records.get(job.type) ?? [];
      job.recordId = String(list.length + 1);
      records.set(job.type, [...list, { id: job.recordId, body: job.body }]);
    }
    return job;
  }
  app.get('/services/rest/async/v1/job/:id', (req, res) => {
    const job = jobOf(req.params.id);
    if (!job) {
      res
        .status(404)
        .json(errorBody(404, 'Not Found', 'NONEXISTENT_ID', `Job ${req.params.id} does not exist.`));
      return;
    }
    const completed = Boolean(job.recordId || (job.error && job.pendingReads === 0));
    res.json({
      id: req.params.id,
      completed,
      progress: completed ? (job.error ? 'failed' : 'succeeded') : 'pending',
      links: [],
    });
  });
  app.get('/services/rest/async/v1/job/:id/task', (req, res) => {
    res.json({
      items: [
        {
          links: [
            { rel: 'self', href: `/services/rest/async/v1/job/${req.params.id}/task/${req.params.id}01` },
          ],
        },
      ],
      count: 1,
      hasMore: false,
      offset: 0,
      totalResults: 1,
      links: [],
    });
  });
  app.get('/services/rest/async/v1/job/:id/task/:task/result', (req, res) => {
    const job = jobs.get(req.params.id);
    if (!job) {
      res
        .status(404)
        .json(errorBody(404, 'Not Found', 'NONEXISTENT_ID', `Job ${req.params.id} does not exist.`));
      return;
    }
    if (job.error) {
      res.status(400).json(errorBody(400, 'Bad Request', 'USER_ERROR', job.error));
      return;
    }
    res
      .status(204)
      .setHeader(
        'Location',
        `${req.protocol}://${req.get('host')}/services/rest/record/v1/${job.type}/${job.recordId}`,
      )
      .end();
  });

  /**
   * SuiteQL over REST, for the queries closeloop sends: `SELECT * FROM <table>`, optionally
   * `WHERE <column> BETWEEN '<a>' AND '<b>'` and `ORDER BY <column>`; `Prefer: transient` required, paged by
   * `limit` (at most 1000) and `offset`, `totalResults` the query's whole count, and rows past the cap not served.
   */
  app.post('/services/rest/query/v1/suiteql', express.json(), (req, res) => {
    if (!/transient/i.test(req.header('prefer') ?? '')) {
      res
        .status(400)
        .json(errorBody(400, 'Bad Request', 'INVALID_HEADER', 'The Prefer: transient header is required.'));
      return;
    }
    const q = String((req.body as { q?: unknown } | undefined)?.q ?? '');
    const m =
      /^\s*SELECT \* FROM (\w+)(?: WHERE (\w+) BETWEEN '([^']*)' AND '([^']*)')?(?: ORDER BY (\w+))?\s*$/i.exec(
        q,
      );
    if (!m) {
      res.status(400).json(errorBody(400, 'Bad Request', 'INVALID_PARAMETER', `Invalid search query: ${q}`));
      return;
    }
    let rows = tables.get(m[1]!.toLowerCase()) ?? [];
    if (m[2]) rows = rows.filter((r) => String(r[m[2]!]) >= m[3]! && String(r[m[2]!]) <= m[4]!);
    if (m[5]) rows = [...rows].sort((a, b) => (String(a[m[5]!]) < String(b[m[5]!]) ? -1 : 1));
    // Rows past the cap are not served; totalResults still counts them, so a caller knows to narrow.
    const served = rows.slice(0, options.suiteqlCap ?? 100_000);
    res.json(
      collectionPage(
        req,
        served.map((r) => ({ links: [], ...r })),
        rows.length,
      ),
    );
  });

  return {
    app,
    faults,
    accountId,
    /** Rows of a SuiteQL table. */
    putTable(name: string, rows: Record<string, unknown>[]) {
      tables.set(name.toLowerCase(), rows);
    },
    records: (type: string) => records.get(type) ?? [],
    /** The next job fails with this detail (what NetSuite's validation would say of the record). */
    refuseNextJob: (detail: string) => {
      refuseNext = detail;
    },
    mostInFlight: () => mostInFlight,
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
