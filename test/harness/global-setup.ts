import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { answers, startEmbeddedPostgres } from '../../db/embedded';
import { freePort } from '../../scripts/lib/dev-server';
import { startTestTemporal } from './temporal';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Once per `npm test`: one Temporal dev server on free ports (never the 7233 of a running `npm start`), one
 * workflow bundle, and — when no PostgreSQL answers at the default address and none is configured (a
 * laptop, a fresh container) — an embedded PostgreSQL of its own on a free port. Each test file then builds
 * its own stack (database, simulators, worker) on top.
 */
export default async function globalSetup(): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'closeloop-test-'));
  // Removed last, once the servers that use it have stopped (the teardown runs the stops in reverse).
  stops.push(() => rm(dir, { recursive: true, force: true }));
  // As root, the embedded PostgreSQL runs as the `postgres` user, who must be able to reach its data folder.
  await chmod(dir, 0o755);
  if (
    !process.env.CLOSELOOP_TEST_DATABASE_URL &&
    (process.env.CLOSELOOP_TEST_POSTGRES === 'embedded' || !(await answers(DEFAULT_ADMIN_URL)))
  ) {
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: await freePort() });
    process.env.CLOSELOOP_TEST_DATABASE_URL = pg.adminUrl;
    stops.push(pg.stop);
    const why =
      process.env.CLOSELOOP_TEST_POSTGRES === 'embedded'
        ? 'CLOSELOOP_TEST_POSTGRES=embedded'
        : 'no PostgreSQL at the default address';
    console.log(`[test] ${why}: using an embedded PostgreSQL at ${new URL(pg.adminUrl).host}`);
  }
  const temporal = await startTestTemporal();
  stops.push(temporal.stop);
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: console.error,
      debug: () => undefined,
      trace: () => undefined,
      log: () => undefined,
    },
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, code);
  process.env.CLOSELOOP_TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.CLOSELOOP_TEST_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as { __closeloopStops?: typeof stops }).__closeloopStops = stops;
}
