import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Simulator state on disk, so `npm start` can be stopped and started again without the ERP or the planner
 * forgetting what was posted while the database and Temporal remember it. Written whole and renamed into
 * place, so a crash mid-write leaves the previous state, never half of one.
 */
export function loadState<T>(file: string | undefined): T | undefined {
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw new Error(`cannot read simulator state ${file}: ${(err as Error).message}`);
  }
}

/**
 * `state` is built only when there is a file to write: a simulator in memory (tests, benchmarks) changes
 * thousands of times a run, and copying its whole state at each change would make it quadratic.
 */
export function saveState(file: string | undefined, state: () => unknown): void {
  if (!file) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state()));
  renameSync(tmp, file);
}
