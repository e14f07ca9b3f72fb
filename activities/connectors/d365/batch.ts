import { randomUUID } from 'node:crypto';

/**
 * Builds an OData v4 `$batch` body (multipart/mixed, OData Version 4.0 Part 1 section 11.7) holding one
 * change set, and reads the answer. Dynamics 365 runs a change set atomically ("either all the requests
 * are run successfully or, if any request fails, none of the requests are run successfully":
 * MicrosoftDocs/dynamics-365-unified-operations-public articles/fin-ops-core/dev-itpro/data-entities/odata.md),
 * and answers the batch itself with 200 whatever happened inside, so each inner status must be read.
 */

export interface ChangeSetRequest {
  method: 'POST' | 'PATCH' | 'DELETE';
  /** Absolute URL of the entity set or entity. */
  url: string;
  body: unknown;
}

export function changeSetBatch(
  requests: ChangeSetRequest[],
  headers: Record<string, string>,
): { contentType: string; body: string } {
  const batch = `batch_${randomUUID()}`;
  const changeset = `changeset_${randomUUID()}`;
  const parts = requests.map((r, i) =>
    [
      `--${changeset}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      `Content-ID: ${i + 1}`,
      '',
      `${r.method} ${r.url} HTTP/1.1`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '',
      JSON.stringify(r.body),
    ].join('\r\n'),
  );
  const body = [
    `--${batch}`,
    `Content-Type: multipart/mixed; boundary=${changeset}`,
    '',
    ...parts,
    `--${changeset}--`,
    `--${batch}--`,
    '',
  ].join('\r\n');
  return { contentType: `multipart/mixed; boundary=${batch}`, body };
}

export interface BatchPartResponse {
  status: number;
  body: string;
}

/** Every HTTP response inside a batch answer, in order, with its status and body text. */
export function batchResponses(text: string): BatchPartResponse[] {
  const out: BatchPartResponse[] = [];
  const re = /HTTP\/1\.1 (\d{3})[^\r\n]*\r?\n([\s\S]*?)(?=\r?\n--)/g;
  for (const m of text.matchAll(re)) {
    const block = m[2]!;
    const at = block.search(/\r?\n\r?\n/);
    out.push({
      status: Number(m[1]),
      body: at < 0 ? '' : block.slice(at).trim(),
    });
  }
  return out;
}
