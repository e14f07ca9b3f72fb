import { type HealthStatus } from './types';

/** How a system answers a cheap authenticated read: up with its latency, or down with why. */
export async function probeHealth(system: string, probe: () => Promise<unknown>): Promise<HealthStatus> {
  const started = Date.now();
  try {
    await probe();
    return { system, ok: true, latencyMs: Date.now() - started };
  } catch (err) {
    return {
      system,
      ok: false,
      latencyMs: Date.now() - started,
      detail: err instanceof Error ? err.message : String(err),
    };
  }
}
