import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';

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
    opts: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<JsonResponse> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(opts.key ? { 'x-api-key': opts.key } : {}),
        ...opts.headers,
      },
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

/** Polls `GET /v1/budget-cycles/{id}` (as the planner) until `until` holds, as a client of the API would. */
export async function pollCycle(
  request: ReturnType<typeof apiClient>,
  cycleId: string,
  until: (s: BudgetCycleStatus) => boolean,
): Promise<BudgetCycleStatus> {
  let last: unknown;
  for (let i = 0; i < 300; i++) {
    const res = await request('GET', cyclePath(cycleId), { key: 'dev-planner' });
    last = res.body;
    if (res.status === 200 && until(res.body as unknown as BudgetCycleStatus))
      return res.body as unknown as BudgetCycleStatus;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${cycleId} did not get there; last answer: ${JSON.stringify(last).slice(0, 500)}`);
}
