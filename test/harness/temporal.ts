import { loadTemporalDevConfig } from '../../config/temporal-dev';
import { freePort, startDevServer } from '../../scripts/lib/dev-server';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli';

/**
 * The tests' Temporal: the same CLI and the same temporal-dev.yaml as `npm start` (so search attributes and
 * dynamic config are tested as users get them), but headless, in memory and on free ports, so a test run
 * never collides with a running `npm start`. We launch it ourselves rather than through
 * TestWorkflowEnvironment so the flag translation under test is the launcher's own.
 */
export async function startTestTemporal(): Promise<{
  address: string;
  namespace: string;
  stop(): Promise<void>;
}> {
  const config = loadTemporalDevConfig();
  const cliPath = await ensureTemporalCli({ log: (l) => console.log(`[temporal] ${l}`) });
  const server = await startDevServer({
    cliPath,
    config,
    overrides: { port: await freePort(), headless: true, dbFilename: null },
  });
  return { address: server.address, namespace: server.namespace, stop: server.stop };
}
