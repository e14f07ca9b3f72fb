import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { listen, type RunningServer } from '../api/listen';
import { z } from 'zod';
import { fieldIssues } from '../domain/zod-issues';

/**
 * Fault injection shared by every simulator. Rules are consumed in order; each fires `times` times for
 * requests it matches, then disappears. Set them in-process (`faults.inject`) or over HTTP
 * (`POST /__sim/faults`), so tests, the demo and a person with curl all drive the same mechanism.
 */

export const FaultRule = z.object({
  /** status: answer with `status` (5xx, 429 with Retry-After, 4xx) without touching state.
   *  latency: delay the request by `latencyMs`, then handle it normally.
   *  drop-after-commit: handle the request (state changes) but destroy the socket instead of answering,
   *    like a gateway timeout after the ERP committed.
   *  duplicate: the simulator delivers records of the next read twice (where the route supports it). */
  kind: z.enum(['status', 'latency', 'drop-after-commit', 'duplicate']),
  times: z.number().int().positive().max(10_000).default(1),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  /** Substring or /regex/ matched against the request path. */
  path: z.string().optional(),
  status: z.number().int().min(400).max(599).optional(),
  retryAfterSeconds: z.number().int().nonnegative().optional(),
  latencyMs: z.number().int().nonnegative().max(120_000).optional(),
  body: z.unknown().optional(),
});
export type FaultRule = z.input<typeof FaultRule>;
type ActiveRule = z.output<typeof FaultRule> & { id: number };

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;
  /** Requests answered with an injected fault, by kind, for tests to assert on. */
  readonly fired: Record<ActiveRule['kind'], number> = {
    status: 0,
    latency: 0,
    'drop-after-commit': 0,
    duplicate: 0,
  };

  /** Requests being held by a latency rule; released at once by `release()` (tests, shutdown). */
  private held = new Set<() => void>();

  inject(rule: FaultRule): number {
    const parsed = FaultRule.parse(rule);
    const id = this.nextId++;
    this.rules.push({ ...parsed, id });
    return id;
  }

  clear(): void {
    this.rules = [];
  }

  /** Lets every request held by a latency rule go on now. */
  release(): void {
    for (const go of this.held) go();
    this.held.clear();
  }

  pending(): readonly ActiveRule[] {
    return this.rules;
  }

  /** Consumes one firing of the first rule of `kind` matching the request, if any. */
  take(kind: ActiveRule['kind'], method: string, path: string): ActiveRule | undefined {
    const rule = this.rules.find((r) => r.kind === kind && matches(r, method, path));
    if (!rule) return undefined;
    rule.times -= 1;
    if (rule.times <= 0) this.rules = this.rules.filter((r) => r !== rule);
    this.fired[kind] += 1;
    return rule;
  }

  /** Express middleware applying status, latency and drop-after-commit rules to the routes after it. */
  middleware(defaultErrorBody: (status: number) => unknown) {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      // originalUrl, not path: routers mounted under a prefix (/data, /2/0) see only the rest of the path.
      const path = req.originalUrl.split('?')[0]!;
      if (path.startsWith('/__sim')) return next();
      const latency = this.take('latency', req.method, path);
      if (latency?.latencyMs) {
        await new Promise<void>((resolve) => {
          const go = () => {
            clearTimeout(timer);
            this.held.delete(go);
            resolve();
          };
          const timer = setTimeout(go, latency.latencyMs);
          this.held.add(go);
        });
      }
      const status = this.take('status', req.method, path);
      if (status) {
        const code = status.status ?? 503;
        if (status.retryAfterSeconds !== undefined)
          res.setHeader('Retry-After', String(status.retryAfterSeconds));
        res.status(code).json(status.body ?? defaultErrorBody(code));
        return;
      }
      if (this.take('drop-after-commit', req.method, path)) {
        // Let the handler commit, then lose the answer on the way back.
        const destroy = () => {
          req.socket.destroy();
          return res;
        };
        res.json = destroy as unknown as Response['json'];
        res.send = destroy as unknown as Response['send'];
        res.end = destroy as unknown as Response['end'];
      }
      next();
    };
  }

  /** Admin routes: POST /__sim/faults (one rule or a list), GET /__sim/faults, DELETE /__sim/faults. */
  router(): express.Router {
    const router = express.Router();
    router.post('/__sim/faults', express.json(), (req, res) => {
      const parsed = z.union([FaultRule, z.array(FaultRule)]).safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json({ error: 'invalid fault rule', issues: fieldIssues(parsed.error) });
        return;
      }
      const ids = (Array.isArray(parsed.data) ? parsed.data : [parsed.data]).map((r) => this.inject(r));
      res.status(201).json({ ids });
    });
    router.get('/__sim/faults', (_req, res) => {
      res.json({ pending: this.rules, fired: this.fired });
    });
    router.delete('/__sim/faults', (_req, res) => {
      this.clear();
      res.status(204).end();
    });
    return router;
  }
}

function matches(rule: ActiveRule, method: string, path: string): boolean {
  if (rule.method && rule.method !== method.toUpperCase()) return false;
  if (!rule.path) return true;
  if (rule.path.startsWith('/') && rule.path.endsWith('/') && rule.path.length > 2) {
    return new RegExp(rule.path.slice(1, -1)).test(path);
  }
  return path.includes(rule.path);
}

/** Serves a simulator; closing it first lets go of any request a latency fault still holds. */
export async function serveSimulator(
  app: Express,
  faults: FaultInjector,
  port: number,
  host: string,
): Promise<RunningServer> {
  const server = await listen(app, port, host);
  return {
    ...server,
    close: async () => {
      faults.release();
      await server.close();
    },
  };
}
