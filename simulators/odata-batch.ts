import { randomUUID } from 'node:crypto';

/**
 * OData v4 `$batch` in its multipart/mixed form (OData Version 4.0 Part 1, section 11.7), as Dynamics 365
 * serves it: a batch holds requests and change sets; a change set is one atomic unit ("either all the
 * requests are run successfully or, if any request fails, none of the requests are run successfully",
 * data-entities/odata.md). The batch itself answers 200; each request's own status is inside.
 */

export interface BatchRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  contentId?: string;
}

export interface BatchGroup {
  changeset: boolean;
  requests: BatchRequest[];
}

export interface BatchAnswer {
  status: number;
  body?: unknown;
  contentId?: string;
}

export class BatchFormatError extends Error {}

const boundaryOf = (contentType: string | undefined) => {
  const m = /boundary=("?)([^";]+)\1/i.exec(contentType ?? '');
  if (!/^multipart\/mixed/i.test(contentType ?? '') || !m) {
    throw new BatchFormatError('a $batch request needs Content-Type: multipart/mixed; boundary=...');
  }
  return m[2]!;
};

function splitHeaders(block: string): [Record<string, string>, string] {
  const at = block.search(/\r?\n\r?\n/);
  const head = at < 0 ? block : block.slice(0, at);
  const rest = at < 0 ? '' : block.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return [headers, rest];
}

function parts(body: string, boundary: string): string[] {
  const segments = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  if (segments.length < 2 || !segments[segments.length - 1]!.startsWith('--')) {
    throw new BatchFormatError(`the batch body does not end with --${boundary}--`);
  }
  return segments.slice(1, -1).map((s) => s.replace(/^\r?\n/, ''));
}

function request(block: string): BatchRequest {
  const [partHeaders, http] = splitHeaders(block);
  if (!/^application\/http/i.test(partHeaders['content-type'] ?? '')) {
    throw new BatchFormatError('each batch part must be Content-Type: application/http');
  }
  const lineEnd = http.search(/\r?\n/);
  const requestLine = (lineEnd < 0 ? http : http.slice(0, lineEnd)).trim();
  const m = /^(GET|POST|PATCH|PUT|DELETE) (\S+) HTTP\/1\.1$/.exec(requestLine);
  if (!m) throw new BatchFormatError(`not an HTTP request line: ${requestLine}`);
  const [headers, body] = splitHeaders(lineEnd < 0 ? '' : http.slice(lineEnd).replace(/^\r?\n/, ''));
  return {
    method: m[1]!,
    url: m[2]!,
    headers,
    body: body.trim() ? body.trim() : undefined,
    contentId: partHeaders['content-id'],
  };
}

export function parseBatch(contentType: string | undefined, body: string): BatchGroup[] {
  return parts(body, boundaryOf(contentType)).map((block) => {
    const [headers, content] = splitHeaders(block);
    if (/^multipart\/mixed/i.test(headers['content-type'] ?? '')) {
      const inner = boundaryOf(headers['content-type']);
      const requests = parts(content, inner).map(request);
      if (requests.some((r) => r.method === 'GET')) {
        throw new BatchFormatError('a change set may not contain GET requests');
      }
      return { changeset: true, requests };
    }
    return { changeset: false, requests: [request(block)] };
  });
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  500: 'Internal Server Error',
};

function answerPart(a: BatchAnswer): string {
  const head = [
    'Content-Type: application/http',
    'Content-Transfer-Encoding: binary',
    ...(a.contentId ? [`Content-ID: ${a.contentId}`] : []),
  ].join('\r\n');
  const body = a.body === undefined ? '' : JSON.stringify(a.body);
  const http = [
    `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? ''}`.trim(),
    ...(body ? ['Content-Type: application/json; odata.metadata=minimal; odata.streaming=true'] : []),
    '',
    body,
  ].join('\r\n');
  return `${head}\r\n\r\n${http}`;
}

/** Writes the batch response: one part per plain request, one nested multipart per change set. */
export function batchResponse(groups: { changeset: boolean; answers: BatchAnswer[] }[]): {
  contentType: string;
  body: string;
} {
  const outer = `batchresponse_${randomUUID()}`;
  const blocks = groups.map((g) => {
    if (!g.changeset) return answerPart(g.answers[0]!);
    const inner = `changesetresponse_${randomUUID()}`;
    const body = g.answers.map((a) => `--${inner}\r\n${answerPart(a)}`).join('\r\n');
    return `Content-Type: multipart/mixed; boundary=${inner}\r\n\r\n${body}\r\n--${inner}--`;
  });
  return {
    contentType: `multipart/mixed; boundary=${outer}`,
    body: `${blocks.map((b) => `--${outer}\r\n${b}`).join('\r\n')}\r\n--${outer}--\r\n`,
  };
}
