import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import { launcherStatePath } from '../../config/launcher-state';
import { locateDatabase } from '../../db/embedded';
import { freePort } from '../../scripts/lib/dev-server';

/**
 * A process started on its own (`npm run worker`, `npm run api`, `npm run db:migrate`, the scripts) beside a
 * running `npm start` uses the launcher's database, which the launcher names in <data dir>/launcher.json —
 * not whatever it would find by itself (the PostgreSQL at the default address, say, while the launcher runs
 * an embedded one). DATABASE_URL still wins; a launcher whose database does not answer is a refusal that
 * says why; the file of a launcher that is gone is ignored.
 */
describe('separately started processes find the database of the running npm start', () => {
  const adminUrl = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  // A server that answers, under a database name nothing else would pick.
  const launcherUrl = Object.assign(new URL(adminUrl), { pathname: '/closeloop_of_the_launcher' }).toString();
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-launcher-state-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const writeState = (pid: number, database: { url?: string; display: string; embedded: boolean }) =>
    writeFileSync(
      launcherStatePath(dataDir),
      JSON.stringify({ pid, startedAt: new Date().toISOString(), database }),
    );
  const locate = (env: NodeJS.ProcessEnv = {}) => {
    const config = loadConfig({ CLOSELOOP_DATA_DIR: dataDir, ...env });
    return locateDatabase({ ...config.database, startEmbedded: false });
  };

  test("a worker, the API or a script uses the launcher's database; DATABASE_URL still wins", async () => {
    writeState(process.pid, { url: launcherUrl, display: 'closeloop on 127.0.0.1:54329', embedded: true });
    await expect(locate()).resolves.toMatchObject({
      url: launcherUrl,
      source: 'launcher',
      launcherPid: process.pid,
    });
    const own = 'postgres://postgres@127.0.0.1:5432/closeloop_own';
    await expect(locate({ DATABASE_URL: own })).resolves.toMatchObject({ url: own, source: 'configured' });
  });

  test('a launcher whose embedded PostgreSQL does not answer is a refusal that says why and what to do', async () => {
    const port = await freePort();
    writeState(process.pid, {
      url: `postgres://postgres:closeloop@127.0.0.1:${port}/closeloop`,
      display: `closeloop on 127.0.0.1:${port}`,
      embedded: true,
    });
    await expect(locate()).rejects.toThrow(
      new RegExp(
        `npm start\` \\(pid ${process.pid}, .*launcher\\.json\\) uses an embedded PostgreSQL \\(closeloop on 127\\.0\\.0\\.1:${port}\\) that does not answer: wait until npm start says it is ready, or restart it; set DATABASE_URL`,
      ),
    );
  });

  test('a launcher given its own DATABASE_URL keeps it out of the file, and others are told to set the same', async () => {
    writeState(process.pid, { display: 'closeloop on db.example:5432', embedded: false });
    await expect(locate()).rejects.toThrow(
      /runs on the database of its own DATABASE_URL \(closeloop on db\.example:5432\): set the same DATABASE_URL here/,
    );
  });

  test('the file of a launcher that is gone (killed outright) is ignored', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    writeState(gone.pid!, { url: launcherUrl, display: 'closeloop on 127.0.0.1:54329', embedded: true });
    expect(loadConfig({ CLOSELOOP_DATA_DIR: dataDir }).database.launcher).toBeUndefined();
  });
});
