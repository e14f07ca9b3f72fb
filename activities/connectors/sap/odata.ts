import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { classifyHttpFailure, httpRequest, parseResponse, protocolFailure } from '../http';

/**
 * SAP S/4HANA's OData V2 services as SAP Gateway serves them and SAP's Cloud SDK for JavaScript speaks to them
 * (github.com/SAP/cloud-sdk-js):
 *
 * - changes carry a CSRF token and the session cookies it was issued with: fetched by a HEAD of the request's
 *   own URL with `x-csrf-token: Fetch`, first with a trailing slash ("S/4 does a redirect if the CSRF token is
 *   fetched in case the '/' is not in the URL", csrf-token-middleware.ts), then without; the answer's
 *   `set-cookie` values, each up to its first `;`, joined into `cookie`. A token that expired with its session
 *   is answered 403 with `x-csrf-token: Required`: closeloop fetches a new one and sends the change once more
 *   (the SDK leaves that to its caller);
 * - collections answer `{ d: { results, __count?, __next? } }`, the next page at `__next` (a server-made
 *   `$skiptoken`); a single entity `{ d: {...} }`; Edm.Decimal as a string;
 * - `$batch` is `multipart/mixed` with CRLF line ends, each change set a `multipart/mixed` part of
 *   `application/http` requests with a `Content-Id`, the request line's path absolute from the host
 *   (batch-request-serializer.ts); a change set is one logical unit of work: the answer holds either one
 *   response per request or, in its place, one error response for the whole change set
 *   (batch-response-parser.ts);
 * - errors are `{ error: { code, message: { lang, value }, innererror: { errordetails: [...] } } }`.
 */

export interface SapODataConfig {
  /** The system's host, e.g. https://my300000-api.s4hana.ondemand.com. */
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs: number;
  /** Items asked for per page (`$top`); the server may page sooner with `__next`. */
  pageSize: number;
}

export const SYSTEM = 'sap';
export const servicePath = (service: string) => `/sap/opu/odata/sap/${service}`;

/** A collection page as V2 answers it. */
const Page = z.object({
  d: z.object({
    results: z.array(z.unknown()),
    __count: z.string().optional(),
    __next: z.string().optional(),
  }),
});

export interface CollectionQuery {
  filter?: string;
  select?: string[];
  /** Navigation properties to include (`to_Item`, `to_Item/to_AccountAssignment`), as `{ results }` under V2. */
  expand?: string[];
  orderby?: string;
  skip?: number;
}

/** One request of a `$batch`: a change (in a change set) or a read. */
export interface BatchRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The entity set or entity, relative to the service (`FinancialPlanData`). */
  path: string;
  body?: unknown;
}

/** One response of a `$batch`, or the one response standing for a whole change set that failed. */
export interface BatchResponse {
  status: number;
  body: unknown;
}

/** A change set's outcome: each request's response, or the failure that rolled the whole change set back. */
export type ChangeSetOutcome = { ok: true; responses: BatchResponse[] } | { ok: false; error: BatchResponse };

export function createSapOData(config: SapODataConfig, service: string) {
  const root = `${config.baseUrl.replace(/\/$/, '')}${servicePath(service)}`;
  const auth = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  /** The token and cookies of the session changes go under; fetched when a change first needs them. */
  let session: { token: string; cookie: string } | undefined;

  async function fetchToken(url: string): Promise<{ token: string; cookie: string }> {
    for (const candidate of [url.endsWith('/') ? url : `${url}/`, url.replace(/\/$/, '')]) {
      const res = await fetch(candidate, {
        method: 'HEAD',
        headers: { Authorization: auth, 'x-csrf-token': 'Fetch', 'content-length': '0' },
        signal: AbortSignal.timeout(config.timeoutMs),
      }).catch(() => undefined);
      const token = res?.headers.get('x-csrf-token');
      if (res && token && token.toLowerCase() !== 'required') {
        const cookie = res.headers
          .getSetCookie()
          .map((c) => c.split(';')[0]!)
          .join('; ');
        return { token, cookie };
      }
      if (res && (res.status === 401 || res.status === 403) && !token)
        throw classifyHttpFailure(SYSTEM, { method: 'HEAD', url: candidate }, res.status, null, '');
    }
    throw ApplicationFailure.create({
      type: FailureType.ConnectorUnavailable,
      message: `${SYSTEM} gave no CSRF token for ${new URL(url).pathname}`,
      nonRetryable: false,
    });
  }

  /** A change under the session's token; a token the server no longer knows is fetched again, once. */
  async function change(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string },
  ) {
    for (let attempt = 0; ; attempt++) {
      session ??= await fetchToken(url);
      const res = await httpRequest({
        system: SYSTEM,
        method: init.method as 'POST',
        url,
        headers: {
          Authorization: auth,
          'x-csrf-token': session.token,
          ...(session.cookie ? { cookie: session.cookie } : {}),
          ...init.headers,
        },
        body: init.body,
        timeoutMs: config.timeoutMs,
        handles: (r) => r.status === 403 && csrfRequired(r) && attempt === 0,
      });
      if (res.ok) return res;
      session = undefined;
    }
  }

  /** The first page's URL of an entity set read with these options. */
  function queryUrl(entitySet: string, query: CollectionQuery = {}): string {
    const params = new URLSearchParams({ $format: 'json', $top: String(config.pageSize) });
    if (query.filter) params.set('$filter', query.filter);
    if (query.select?.length) params.set('$select', query.select.join(','));
    if (query.expand?.length) params.set('$expand', query.expand.join(','));
    if (query.orderby) params.set('$orderby', query.orderby);
    if (query.skip) params.set('$skip', String(query.skip));
    return `${root}/${entitySet}?${params}`;
  }

  /**
   * One page at `url`, each item parsed, and where the next one is: the server's `__next`, or (a full page
   * without it: a server that pages only as the client asks) the same query from the next `$skip`.
   */
  async function page<T extends z.ZodType>(
    url: string,
    item: T,
    what: string,
  ): Promise<{ items: z.infer<T>[]; next?: string }> {
    const res = await httpRequest({
      system: SYSTEM,
      method: 'GET',
      url,
      headers: { Authorization: auth },
      timeoutMs: config.timeoutMs,
    });
    const body = parseResponse(SYSTEM, `GET ${what}`, Page, await res.json().catch(() => undefined));
    const items = body.d.results.map((r, i) =>
      parseResponse(SYSTEM, `${what} item ${i + 1}`, item, r),
    ) as z.infer<T>[];
    let next: string | undefined;
    if (body.d.__next) next = new URL(body.d.__next, `${root}/`).toString();
    else if (items.length === config.pageSize) {
      const u = new URL(url);
      u.searchParams.set('$skip', String(Number(u.searchParams.get('$skip') ?? 0) + items.length));
      next = u.toString();
    }
    return { items, next };
  }

  /** Every item of an entity set matching the query, page by page. */
  async function* collection<T extends z.ZodType>(
    entitySet: string,
    item: T,
    query: CollectionQuery = {},
  ): AsyncGenerator<z.infer<T>[]> {
    let url: string | undefined = queryUrl(entitySet, query);
    while (url) {
      const p: { items: z.infer<T>[]; next?: string } = await page(url, item, entitySet);
      yield p.items;
      url = p.next;
    }
  }

  /**
   * Sends change sets (each one logical unit of work) in one `$batch`, and what became of each: its responses,
   * or the one error that rolled it back. The request is refused whole (a classified failure) only when the
   * `$batch` itself is.
   */
  async function batch(changeSets: BatchRequest[][]): Promise<ChangeSetOutcome[]> {
    const boundary = `batch_${randomUUID()}`;
    const body = serializeBatch(boundary, servicePath(service), changeSets);
    const res = await change(`${root}/$batch`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}`, Accept: 'multipart/mixed' },
      body,
    });
    const type = res.headers.get('content-type') ?? '';
    const parts = parseBatchResponse(type, await res.text());
    if (parts.length !== changeSets.length)
      throw protocolFailure(
        SYSTEM,
        `$batch answered ${parts.length} parts for ${changeSets.length} change sets`,
      );
    return parts.map((p, i) => {
      if (Array.isArray(p)) {
        if (p.length !== changeSets[i]!.length)
          throw protocolFailure(
            SYSTEM,
            `$batch change set ${i + 1} answered ${p.length} of ${changeSets[i]!.length}`,
          );
        return { ok: true, responses: p };
      }
      if (p.status >= 200 && p.status < 300) return { ok: true, responses: [p] };
      return { ok: false, error: p };
    });
  }

  return { root, queryUrl, page, collection, batch, change };
}

export type SapOData = ReturnType<typeof createSapOData>;

const csrfRequired = (r: Response) => r.headers.get('x-csrf-token')?.toLowerCase() === 'required';

const CRLF = '\r\n';

/** The `$batch` body: one change set per group, each request a part with its Content-Id, CRLF line ends. */
export function serializeBatch(boundary: string, basePath: string, changeSets: BatchRequest[][]): string {
  const lines: string[] = [];
  for (const set of changeSets) {
    const cs = `changeset_${randomUUID()}`;
    lines.push(`--${boundary}`, `Content-Type: multipart/mixed; boundary=${cs}`, '');
    for (const r of set) {
      lines.push(
        `--${cs}`,
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        `Content-Id: ${randomUUID()}`,
        '',
        `${r.method} ${basePath}/${r.path} HTTP/1.1`,
        'Content-Type: application/json',
        'Accept: application/json',
        '',
        r.body === undefined ? '' : JSON.stringify(r.body),
        '',
      );
    }
    lines.push(`--${cs}--`);
  }
  lines.push(`--${boundary}--`, '');
  return lines.join(CRLF);
}

/** A `$batch` answer's parts in order: a change set's responses, or one response (a read, or a change set's failure). */
export function parseBatchResponse(contentType: string, text: string): (BatchResponse | BatchResponse[])[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1]?.trim().replace(/^"|"$/g, '');
  if (!boundary) throw protocolFailure(SYSTEM, '$batch answered without a multipart boundary');
  return partsOf(text, boundary).map((part) => {
    const inner = /^content-type:\s*multipart\/mixed;\s*boundary=([^\s;]+)/im.exec(
      part.split(/\r?\n\r?\n/)[0]!,
    );
    return inner ? partsOf(part, inner[1]!).map(httpPart) : httpPart(part);
  });
}

function partsOf(text: string, boundary: string): string[] {
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** An `application/http` part: its status line, and its body as JSON when it has one. */
function httpPart(part: string): BatchResponse {
  const status = /HTTP\/\d\.\d (\d{3})/.exec(part);
  if (!status) throw protocolFailure(SYSTEM, `$batch part without a status line: ${part.slice(0, 200)}`);
  const sections = part.split(/\r?\n\r?\n/);
  const raw = sections.slice(2).join('\n\n').trim();
  let body: unknown = undefined;
  if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
  }
  return { status: Number(status[1]), body };
}
