/**
 * How the simulated systems call out (webhooks, budget checks, exports, business events): at least once,
 * retrying transport errors and the statuses the sender treats as passing, with exponential backoff that a
 * Retry-After in seconds overrides, as webhook senders and ERP integrations do.
 */

export interface OutboundResult {
  ok: boolean;
  /** The receiver's last answer, when there was one. */
  status?: number;
  body?: unknown;
  attempts: number;
  /** Why the last attempt did not succeed. */
  error?: string;
}

export async function sendWithRetries(
  url: string,
  request: { method?: string; headers?: Record<string, string>; body: unknown },
  opts: {
    maxAttempts: number;
    baseMs: number;
    /** Whether an answer with this (non-2xx) status is worth sending again; a refusal is final. */
    retryable: (status: number) => boolean;
    /** Runs before each attempt (its attempt number); throwing makes the attempt fail like a lost connection. */
    beforeAttempt?: (attempt: number) => void;
  },
): Promise<OutboundResult> {
  let last: OutboundResult = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= opts.maxAttempts; attempt++) {
    let retryAfter: string | null = null;
    try {
      opts.beforeAttempt?.(attempt);
      const res = await fetch(url, {
        method: request.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...request.headers },
        body: JSON.stringify(request.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? (JSON.parse(text) as unknown) : {};
      } catch {
        // not JSON: kept as text
      }
      last = { ok: res.ok, status: res.status, body, attempts: attempt };
      if (res.ok) return last;
      last.error = `HTTP ${res.status}: ${text.slice(0, 500)}`;
      if (!opts.retryable(res.status)) return last;
      retryAfter = res.headers.get('retry-after');
    } catch (err) {
      last = { ok: false, attempts: attempt, error: (err as Error).message };
    }
    if (attempt < opts.maxAttempts) {
      const delay =
        retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : opts.baseMs * 2 ** (attempt - 1);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return last;
}
