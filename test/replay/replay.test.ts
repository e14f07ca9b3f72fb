import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { quietRuntime } from '../harness/runtime';

/**
 * Replays recorded histories (test/replay/histories, saved with `npm run replay:record`) against today's
 * workflow code. A nondeterministic change — one that alters the command sequence without patched() —
 * fails here before it can break workflows already running in production.
 */
const HISTORIES = path.join(__dirname, 'histories');

test('recorded histories replay deterministically against the current workflow code', async () => {
  quietRuntime();
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  expect(files.length).toBeGreaterThan(0);
  const histories = await Promise.all(
    files.map(async (f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: JSON.parse(await readFile(path.join(HISTORIES, f), 'utf8')) as object,
    })),
  );
  const results = [];
  for await (const r of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.CLOSELOOP_TEST_WORKFLOW_BUNDLE! } },
    histories as never,
  )) {
    results.push({ workflowId: r.workflowId, error: r.error?.message });
  }
  expect(results).toEqual(files.map((f) => ({ workflowId: f.replace(/\.json$/, ''), error: undefined })));
});
