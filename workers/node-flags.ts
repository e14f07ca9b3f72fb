/**
 * V8 flags a worker process runs with (`npm start`, `npm run worker` and the test harness's worker processes;
 * package.json's scripts carry the same). A worker's activities allocate short-lived objects at a high rate
 * (request and response bodies, lines being mapped): young-generation space of 64 MiB instead of V8's default
 * 16 MiB lets most of them die before a scavenge has to copy them, which took a tenth of the worker's CPU at the
 * annual publication's peak (docs/operations.md, "Annual publication").
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=64'] as const;
