import { createHmac, createPublicKey, randomUUID, verify, constants } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { listen, type RunningServer } from '../../api/listen';
import { FaultInjector } from '../faults';
import { appendIndex } from '../append-index';
import { loadState, saveState } from '../state-file';

/**
 * A NetSuite account's REST web services as its help describes them: the OAuth 2.0 token endpoint
 * (`/services/rest/auth/oauth2/v1/token`, client credentials with a JWT assertion signed PS256 by a certificate
 * mapped to the integration, at most an hour long; tokens live 60 minutes) and token-based authentication
 * (OAuth 1.0a, HMAC-SHA256, realm the account ID), both checked on every REST request; the account's concurrency
 * limit (one request over it answered 429); asynchronous creates under an idempotency key (a job, its task and
 * result; a key used again answered IDEMPOTENCY_ERROR naming the first job), `budgetImport` records validated and
 * kept as the account's budgets; and SuiteQL over its tables, paged and capped. Collections are answered
 * `{ items, count, hasMore, offset, totalResults, links }`; errors `{ type, title, status, o:errorDetails:
 * [{ detail, o:errorCode }] }`.
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
  /** Where the account's records, jobs and tables are kept between runs (npm start); none: in memory. */
  stateFile?: string;
}

export const errorBody = (status: number, title: string, code: string, detail: string) => ({
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
  interface Saved {
    records: [string, { id: string; body: unknown }[]][];
    jobs: [
      string,
      { type: string; body: unknown; pendingReads: number; recordId?: string; error?: string },
    ][];
    keys: [string, string][];
    tables: [string, Record<string, unknown>[]][];
    subsidiaries: Record<string, unknown>[];
  }
  const saved = loadState<Saved>(options.stateFile);
  if (saved) {
    for (const [k, v] of saved.records) records.set(k, v);
    for (const [k, v] of saved.jobs) jobs.set(k, v);
    for (const [k, v] of saved.keys) keys.set(k, v);
    for (const [k, v] of saved.tables) tables.set(k, v);
    subsidiaries.push(...saved.subsidiaries);
  }
  // Every change is persisted: the revision tells a view built from the state whether it still holds.
  let revision = 0;
  const persist = () => {
    revision++;
    saveState(
      options.stateFile,
      () =>
        ({
          records: [...records],
          jobs: [...jobs],
          keys: [...keys],
          tables: [...tables],
          subsidiaries,
        }) satisfies Saved,
    );
  };

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
        ? req.params.type === 'budgetImport'
          ? budgetImportError(req.body as Record<string, unknown>)
          : undefined
        : 'The record has no fields.');
    refuseNext = undefined;
    jobs.set(id, {
      type: req.params.type,
      body: req.body,
      pendingReads: options.jobReadsPending ?? 1,
      error,
    });
    persist();
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
      const existing =
        job.type === 'budgetImport' ? sameBudget(job.body as Record<string, unknown>) : undefined;
      if (existing) {
        existing.body = job.body;
        job.recordId = existing.id;
      } else {
        job.recordId = String(list.length + 1);
        list.push({ id: job.recordId, body: job.body });
        records.set(job.type, list);
      }
      persist();
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
   * SuiteQL over REST, for the query forms closeloop sends (suiteql.ts below): `Prefer: transient` required, paged
   * by `limit` (at most 1000) and `offset`, `totalResults` the query's whole count, rows past the cap not served.
   */
  let lastQuery:
    { q: string; revision: number; served: Record<string, unknown>[]; total: number } | undefined;
  app.post('/services/rest/query/v1/suiteql', express.json(), (req, res) => {
    if (!/transient/i.test(req.header('prefer') ?? '')) {
      res
        .status(400)
        .json(errorBody(400, 'Bad Request', 'INVALID_HEADER', 'The Prefer: transient header is required.'));
      return;
    }
    const q = String((req.body as { q?: unknown } | undefined)?.q ?? '');
    const parsed = parseSuiteQL(q);
    if (!parsed) {
      res.status(400).json(errorBody(400, 'Bad Request', 'INVALID_PARAMETER', `Invalid search query: ${q}`));
      return;
    }
    // A query's rows are found once per revision of the account and served page by page from there.
    if (lastQuery?.q !== q || lastQuery.revision !== revision) {
      const rows = runSuiteQL(parsed, viewOf(parsed.table));
      // Rows past the cap are not served; totalResults still counts them, so a caller knows to narrow.
      const served = rows.slice(0, options.suiteqlCap ?? 100_000).map((r) => ({ links: [], ...r }));
      lastQuery = { q, revision, served, total: rows.length };
    }
    res.json(collectionPage(req, lastQuery.served, lastQuery.total));
  });

  /** What a SuiteQL table holds: what was put in it, or for `budgets`, the budget lines imported so far. */
  // The budgets view, built once per revision: a large budget is read page by page.
  let budgetsView: { revision: number; rows: Record<string, unknown>[] } | undefined;
  function viewOf(table: string): Record<string, unknown>[] {
    if (table !== 'budgets') return tables.get(table) ?? [];
    if (budgetsView?.revision !== revision) budgetsView = { revision, rows: buildBudgetsView() };
    return budgetsView.rows;
  }

  function buildBudgetsView(): Record<string, unknown>[] {
    const months = new Map<string, ReturnType<typeof monthsOf>>();
    const monthsOfYear = (yearId: string) => {
      if (!months.has(yearId)) months.set(yearId, monthsOf(yearId));
      return months.get(yearId)!;
    };
    const symbols = new Map((tables.get('currency') ?? []).map((c) => [String(c.id), c.symbol]));
    return (records.get('budgetImport') ?? []).flatMap((r) => {
      const b = r.body as Record<string, unknown>;
      return monthsOfYear(String(ref(b.year))).map((period, i) => ({
        id: r.id,
        subsidiary: ref(b.subsidiary),
        year: ref(b.year),
        category: ref(b.category),
        account: ref(b.account),
        department: ref(b.department),
        class: ref(b.class),
        location: ref(b.location),
        currency: symbols.get(String(ref(b.currency))) ?? null,
        period: period.id,
        amount: b[`periodamount${i + 1}`] ?? 0,
      }));
    });
  }

  /** A fiscal year's posting periods in order (periodamountN is the N-th). */
  function monthsOf(yearId: string) {
    const periods = tables.get('accountingperiod') ?? [];
    const year = periods.find((p) => String(p.id) === yearId && p.isyear === 'T');
    if (!year) return [];
    return periods
      .filter(
        (p) =>
          p.isyear === 'F' &&
          p.isquarter === 'F' &&
          p.isadjust === 'F' &&
          String(p.startdate) >= String(year.startdate) &&
          String(p.enddate) <= String(year.enddate),
      )
      .sort((a, b) => (String(a.startdate) < String(b.startdate) ? -1 : 1));
  }

  /**
   * Why NetSuite would refuse a budget import, as its validation words it; undefined when it takes it. An import
   * for a budget that exists (same subsidiary, year, category, currency and segments) replaces its amounts.
   */
  function budgetImportError(body: Record<string, unknown>): string | undefined {
    const months = monthsOf(String(ref(body.year)));
    if (!months.length) return `Invalid year reference key ${String(ref(body.year))}.`;
    const accounts = tables.get('account') ?? [];
    if (accounts.length && !accounts.some((a) => String(a.id) === String(ref(body.account))))
      return `Invalid account reference key ${String(ref(body.account))}.`;
    const currencies = tables.get('currency') ?? [];
    if (!currencies.some((c) => String(c.id) === String(ref(body.currency))))
      return `Invalid currency reference key ${String(ref(body.currency))}.`;
    for (const [field, value] of Object.entries(body)) {
      const n = /^periodamount(\d+)$/.exec(field)?.[1];
      if (n && Number(n) > months.length && value !== 0)
        return `The fiscal year has ${months.length} periods: ${field} cannot be used.`;
      if (n && typeof value !== 'number') return `${field} must be a number.`;
    }
    for (const p of months)
      if (p.closed === 'T') {
        const i = months.indexOf(p) + 1;
        const existing = sameBudget(body);
        const before = (existing?.body as Record<string, unknown> | undefined)?.[`periodamount${i}`] ?? 0;
        if ((body[`periodamount${i}`] ?? 0) !== before)
          return `The accounting period starting ${String(p.startdate)} is closed.`;
      }
    return undefined;
  }
  const BUDGET_KEY = [
    'subsidiary',
    'year',
    'category',
    'currency',
    'account',
    'department',
    'class',
    'location',
  ];
  // Budgets by their key, so a large budget finds its lines without reading every line; the first record of a
  // key is the one found, as a search from the start would.
  const budgetKey = (body: Record<string, unknown>) => JSON.stringify(BUDGET_KEY.map((k) => ref(body[k])));
  const budgetsByKey = appendIndex<{ id: string; body: unknown }>((r) =>
    budgetKey(r.body as Record<string, unknown>),
  );
  const sameBudget = (body: Record<string, unknown>) =>
    budgetsByKey(records.get('budgetImport') ?? [], budgetKey(body))[0];

  return {
    app,
    faults,
    accountId,
    /** Rows of a SuiteQL table. */
    putTable(name: string, rows: Record<string, unknown>[]) {
      tables.set(name.toLowerCase(), rows);
      persist();
    },
    records: (type: string) => records.get(type) ?? [],
    /** Asynchronous jobs started so far (a create sent again under its key starts none). */
    jobCount: () => jobs.size,
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
      persist();
    },
    /** The budget lines the account holds, as SuiteQL's `budgets` shows them. */
    budgets: () => viewOf('budgets'),
    listen: (port = 0): Promise<RunningServer> => listen(app, port),
  };
}

export type NetSuiteSimulator = ReturnType<typeof createNetSuiteSimulator>;

/** A record reference `{ id }` (or a bare value) as the value SuiteQL shows for it; null when absent. */
const ref = (v: unknown): string | null =>
  v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : v == null ? null : String(v);

interface SuiteQLQuery {
  table: string;
  /** Output name → source column; empty for `SELECT *`. */
  columns: { name: string; source: string }[];
  conditions: ((row: Record<string, unknown>) => boolean)[];
  order: string[];
}

const LITERAL = String.raw`(?:TO_DATE\(\s*'([^']*)'\s*,\s*'[^']*'\s*\)|'([^']*)')`;

/**
 * The SuiteQL closeloop sends, read the way NetSuite would answer it over the simulator's tables: a table's rows
 * are already joined (each carries the columns of the records the query joins), so a column is found by its
 * name without the alias (`tl.subsidiary` is `subsidiary`), or by the name the select list gives it
 * (`TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate`). Conditions joined by AND: `=`, `>=`, `BETWEEN`, `IN` and
 * `NOT IN` over literals and TO_DATE; undefined for anything else.
 */
function parseSuiteQL(q: string): SuiteQLQuery | undefined {
  const m =
    /^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+\w+)?((?:\s+JOIN\s+\w+\s+\w+\s+ON\s+.+?)*)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER BY\s+(.+?))?\s*$/is.exec(
      q,
    );
  if (!m) return undefined;
  const columns: SuiteQLQuery['columns'] = [];
  if (m[1]!.trim() !== '*')
    for (const item of m[1]!.split(/,(?![^(]*\))/).map((i) => i.trim())) {
      const c = /^(?:TO_CHAR\(\s*)?(?:\w+\.)?(\w+)(?:\s*,\s*'[^']*'\s*\))?(?:\s+AS\s+(\w+))?$/i.exec(item);
      if (!c) return undefined;
      columns.push({ source: c[1]!.toLowerCase(), name: (c[2] ?? c[1]!).toLowerCase() });
    }
  // A column a condition or the order names: its select-list name when selected, else its own.
  const column = (text: string) => {
    const bare = text.replace(/^\w+\./, '').toLowerCase();
    return columns.find((c) => c.source === bare)?.name ?? bare;
  };
  const conditions: SuiteQLQuery['conditions'] = [];
  // Split on AND, joining back the AND of a BETWEEN.
  const parts: string[] = [];
  for (const piece of m[4] ? m[4].split(/\s+AND\s+/i) : [])
    if (
      parts.length &&
      /\sBETWEEN\s+\S.*$/i.test(parts[parts.length - 1]!) &&
      !/\sAND\s/i.test(parts[parts.length - 1]!)
    )
      parts[parts.length - 1] += ` AND ${piece}`;
    else parts.push(piece);
  for (const cond of parts) {
    const text = cond.trim();
    const between = new RegExp(String.raw`^([\w.]+)\s+BETWEEN\s+${LITERAL}\s+AND\s+${LITERAL}$`, 'i').exec(
      text,
    );
    const compare = new RegExp(String.raw`^([\w.]+)\s*(=|>=)\s*${LITERAL}$`, 'i').exec(text);
    const inList = /^([\w.]+)\s+(NOT\s+)?IN\s*\(([^)]*)\)$/i.exec(text);
    if (between) {
      const [col, from, to] = [column(between[1]!), between[2] ?? between[3]!, between[4] ?? between[5]!];
      conditions.push((r) => r[col] != null && String(r[col]) >= from && String(r[col]) <= to);
    } else if (compare) {
      const [col, op, value] = [column(compare[1]!), compare[2]!, compare[3] ?? compare[4]!];
      conditions.push((r) =>
        op === '=' ? String(r[col]) === value : r[col] != null && String(r[col]) >= value,
      );
    } else if (inList) {
      const col = column(inList[1]!);
      const values = [...inList[3]!.matchAll(/'([^']*)'/g)].map((v) => v[1]!);
      const negated = Boolean(inList[2]);
      conditions.push((r) => values.includes(String(r[col])) !== negated);
    } else return undefined;
  }
  const order = m[5] ? m[5].split(',').map((o) => column(o.trim())) : [];
  return { table: m[2]!.toLowerCase(), columns, conditions, order };
}

function runSuiteQL(query: SuiteQLQuery, rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const kept = rows.filter((r) => query.conditions.every((c) => c(r)));
  const compare = (a: unknown, b: unknown) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    const [x, y] = [String(a ?? ''), String(b ?? '')];
    // Internal IDs sort as numbers, as NetSuite keeps them.
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const sorted = [...kept].sort((a, b) => {
    for (const col of query.order) {
      const d = compare(a[col], b[col]);
      if (d) return d;
    }
    return 0;
  });
  if (!query.columns.length) return sorted;
  return sorted.map((r) =>
    Object.fromEntries(query.columns.map((c) => [c.name, r[c.name] ?? r[c.source] ?? null])),
  );
}
