import { ApplicationFailure } from '@temporalio/common';
import { type z } from 'zod';
import { FailureType } from '../../domain/failures';
import { describeIssues } from '../../domain/zod-issues';

/**
 * The one HTTP path every connector uses, so that error classification is the same everywhere:
 * 4xx → non-retryable ApplicationFailure with a type; 429, 5xx, timeouts and network errors → retryable,
 * with Retry-After honoured through `nextRetryDelay`.
 */

export interface HttpRequest {
  system: string;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is already a string or bytes (file chunks). */
  body?: unknown;
  timeoutMs: number;
  /** 4xx statuses this service documents as transient (e.g. Anaplan's 409 model busy, 423 model locked). */
  transientStatuses?: readonly number[];
  /** An answer the caller handles itself though it is not 2xx (SAP's 403 `x-csrf-token: Required`). */
  handles?: (response: Response) => boolean;
}

/** Parses Retry-After (delta-seconds or HTTP-date) into milliseconds from `now`. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function classifyHttpFailure(
  system: string,
  request: Pick<HttpRequest, 'method' | 'url'>,
  status: number,
  retryAfter: string | null,
  bodyText: string,
  transientStatuses: readonly number[] = [],
): ApplicationFailure {
  const what = `${system} ${request.method} ${new URL(request.url).pathname} answered ${status}`;
  const details = [{ system, status, body: bodyText.slice(0, 2000) }];
  if (status === 429 || status >= 500 || transientStatuses.includes(status)) {
    return ApplicationFailure.create({
      type: FailureType.ConnectorUnavailable,
      message: `${what}: ${errorReason(bodyText)}`,
      nonRetryable: false,
      nextRetryDelay: parseRetryAfter(retryAfter),
      details,
    });
  }
  return ApplicationFailure.create({
    type:
      status === 401 || status === 403 ? FailureType.ConnectorUnauthorized : FailureType.ConnectorRejected,
    message: `${what}: ${errorReason(bodyText)}`,
    nonRetryable: true,
    details,
  });
}

/**
 * The reason a service gave for refusing a request, from the error bodies our systems use: OData
 * (`{ error: { code, message, innererror: { message } } }`; Dynamics 365 puts the generic "An error has
 * occurred." on top and the reason in `innererror.message`; SAP Gateway writes `message` as `{ lang, value }`
 * and lists each problem in `innererror.errordetails` with its `propertyref`), Anaplan's integration API
 * (`{ status: { code, message }, path, timestamp }`) and authentication API (`{ status, statusMessage }`),
 * Entra ID (`{ error, error_description }`) and NetSuite (`o:errorDetails`).
 */
export function errorReason(bodyText: string): string {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed && typeof parsed === 'object') {
      const body = parsed as Record<string, unknown>;
      const err = body.error;
      if (err && typeof err === 'object') {
        const { code, message, innererror } = err as Record<string, unknown>;
        const inner = (innererror as { message?: unknown } | undefined)?.message;
        const text = (m: unknown) =>
          typeof m === 'string' ? m : ((m as { value?: unknown } | null)?.value as string | undefined);
        const reason = typeof inner === 'string' && inner ? inner : text(message);
        const details = ((innererror as { errordetails?: unknown } | undefined)?.errordetails ?? []) as {
          code?: string;
          message?: unknown;
          propertyref?: string;
        }[];
        const listed = Array.isArray(details)
          ? details
              .map((d) =>
                [d.code, text(d.message), d.propertyref ? `(${d.propertyref})` : '']
                  .filter(Boolean)
                  .join(' '),
              )
              .filter((d) => d && d !== reason)
          : [];
        const head = [code, reason].filter((x) => typeof x === 'string' && x).join(': ');
        return (listed.length ? `${head}; ${listed.join('; ')}` : head) || bodyText.slice(0, 300);
      }
      if (typeof err === 'string') {
        return typeof body.error_description === 'string' ? `${err}: ${body.error_description}` : err;
      }
      const status = body.status;
      if (
        status &&
        typeof status === 'object' &&
        typeof (status as { message?: unknown }).message === 'string'
      ) {
        return String((status as { message: string }).message);
      }
      if (typeof body.statusMessage === 'string') return body.statusMessage;
      // NetSuite: { type, title, status, o:errorDetails: [{ detail, o:errorCode, o:errorPath }] }.
      const details = body['o:errorDetails'];
      if (Array.isArray(details) && details.length)
        return (details as Record<string, unknown>[])
          .map((d) =>
            [d['o:errorCode'], d.detail, d['o:errorPath'] ? `(${String(d['o:errorPath'])})` : '']
              .filter(Boolean)
              .join(' '),
          )
          .join('; ');
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return bodyText.slice(0, 300) || '(empty body)';
}

/** True when `err` is a connector failure for an answer with this HTTP status (e.g. 401 to sign in again). */
export function hasStatus(err: unknown, status: number): boolean {
  return (
    err instanceof ApplicationFailure &&
    (err.details?.[0] as { status?: number } | undefined)?.status === status
  );
}

/** Sends one request; resolves only on 2xx, otherwise throws a classified ApplicationFailure. */
export async function httpRequest(req: HttpRequest): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  let body: string | Uint8Array | undefined;
  if (req.body !== undefined) {
    body =
      typeof req.body === 'string' || req.body instanceof Uint8Array ? req.body : JSON.stringify(req.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
  }
  let response: Response;
  try {
    response = await fetch(req.url, {
      method: req.method,
      headers,
      body,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    throw ApplicationFailure.create({
      type: FailureType.ConnectorUnavailable,
      message: `${req.system} ${req.method} ${new URL(req.url).pathname} ${timedOut ? `timed out after ${req.timeoutMs} ms` : `failed: ${e.message}`}`,
      nonRetryable: false,
      cause: e,
    });
  }
  if (response.ok || req.handles?.(response)) return response;
  const text = await response.text().catch(() => '');
  throw classifyHttpFailure(
    req.system,
    req,
    response.status,
    response.headers.get('retry-after'),
    text,
    req.transientStatuses,
  );
}

export async function httpJson<T>(req: HttpRequest, schema: z.ZodType<T>): Promise<T> {
  const response = await httpRequest(req);
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text.length ? JSON.parse(text) : undefined;
  } catch {
    throw protocolFailure(
      req.system,
      `${req.method} ${new URL(req.url).pathname} returned non-JSON: ${text.slice(0, 200)}`,
    );
  }
  return parseResponse(req.system, `${req.method} ${new URL(req.url).pathname}`, schema, parsed);
}

/** Every connector response is parsed; a shape we do not understand is a protocol failure, not a guess. */
export function parseResponse<T>(system: string, what: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw protocolFailure(
    system,
    `${what} returned an unexpected shape: ${describeIssues(result.error, '(root)')}`,
  );
}

export function protocolFailure(system: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.ConnectorProtocol,
    message: `${system}: ${message}`,
    nonRetryable: true,
  });
}
