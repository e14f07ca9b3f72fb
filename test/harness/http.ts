/** A tiny JSON client for API tests: the real app on a real port, no request mocking. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export function apiClient(baseUrl: string) {
  return async function request(
    method: string,
    path: string,
    opts: { key?: string; body?: unknown; rawBody?: string } = {},
  ): Promise<JsonResponse> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(opts.key ? { 'x-api-key': opts.key } : {}) },
      body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
}

export const cyclePath = (cycleId: string) => `/v1/budget-cycles/${encodeURIComponent(cycleId)}`;
