import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * While `npm start` runs, it says in <CLOSELOOP_DATA_DIR>/launcher.json which database it uses, so that
 * processes started on their own beside it (`npm run worker`, `npm run api`, `npm run db:migrate`, the
 * scripts) use the same one instead of looking for their own. The launcher removes the file when it stops;
 * a file whose process is gone (a launcher killed outright) is ignored.
 */
export const LAUNCHER_STATE_FILE = 'launcher.json';

const LauncherStateFile = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  database: z.object({
    /** Absent when the launcher was given DATABASE_URL: its credentials stay out of the file. */
    url: z.string().url().optional(),
    /** "closeloop on 127.0.0.1:54329", for messages. */
    display: z.string(),
    embedded: z.boolean(),
  }),
});
export type LauncherStateFile = z.infer<typeof LauncherStateFile>;

/** The database of a running launcher, as `locateDatabase` takes it. */
export interface LauncherDatabase {
  url?: string;
  display: string;
  embedded: boolean;
  pid: number;
  stateFile: string;
}

export function launcherStatePath(dataDir: string): string {
  return path.join(dataDir, LAUNCHER_STATE_FILE);
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state of the launcher running on `dataDir`, or undefined when none runs (no file, or its process is gone). */
export function readLauncherState(dataDir: string): LauncherStateFile | undefined {
  let raw: string;
  try {
    raw = readFileSync(launcherStatePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: ReturnType<typeof LauncherStateFile.safeParse>;
  try {
    parsed = LauncherStateFile.safeParse(JSON.parse(raw));
  } catch {
    return undefined;
  }
  return parsed.success && running(parsed.data.pid) ? parsed.data : undefined;
}

export function launcherDatabase(dataDir: string): LauncherDatabase | undefined {
  const state = readLauncherState(dataDir);
  return state && { ...state.database, pid: state.pid, stateFile: launcherStatePath(dataDir) };
}

/** Written once the launcher's database is ready (whole or not at all: a reader never sees half a file). */
export function writeLauncherState(dataDir: string, database: LauncherStateFile['database']): void {
  mkdirSync(dataDir, { recursive: true });
  const file = launcherStatePath(dataDir);
  const state: LauncherStateFile = { pid: process.pid, startedAt: new Date().toISOString(), database };
  writeFileSync(`${file}.${process.pid}`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.${process.pid}`, file);
}

/** Removes the state file if it is this process's (never another launcher's). */
export function removeLauncherState(dataDir: string): void {
  try {
    const state = JSON.parse(readFileSync(launcherStatePath(dataDir), 'utf8')) as { pid?: unknown };
    if (state.pid === process.pid) rmSync(launcherStatePath(dataDir), { force: true });
  } catch {
    // no file, or not ours to remove
  }
}
