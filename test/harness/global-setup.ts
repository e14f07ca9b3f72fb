import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startTestTemporal } from './temporal';

/**
 * Once per `npm test`: one Temporal dev server on free ports (never the 7233 of a running `npm start`) and
 * one workflow bundle. Each test file then builds its own stack (database, simulators, worker) on top.
 */
export default async function globalSetup(): Promise<void> {
  const temporal = await startTestTemporal();
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
  const dir = await mkdtemp(path.join(os.tmpdir(), 'closeloop-test-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, code);
  process.env.CLOSELOOP_TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.CLOSELOOP_TEST_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as { __closeloopTemporal?: typeof temporal }).__closeloopTemporal = temporal;
}
