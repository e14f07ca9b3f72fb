import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { loadConfig } from '../config';
import { PROJECT_ROOT } from '../config/paths';
import { connectClient } from '../config/temporal-connection';

/**
 * npm run replay:record -- <workflowId> [name]
 * Saves a closed workflow's history under test/replay/histories/ so the replay test proves that today's
 * workflow code still reproduces the commands recorded by the code that ran it. Record one whenever a
 * workflow change is released; a change that breaks replay needs patched() instead.
 */
async function main() {
  const [workflowId, name] = process.argv.slice(2);
  if (!workflowId) throw new Error('usage: npm run replay:record -- <workflowId> [file-name]');
  const config = loadConfig();
  const connection = await connectClient(config.temporal);
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const file = path.join(
      PROJECT_ROOT,
      'test',
      'replay',
      'histories',
      `${name ?? workflowId.replace(/[^A-Za-z0-9-]+/g, '_')}.json`,
    );
    await mkdir(path.dirname(file), { recursive: true });
    // Proto3 JSON, the same format Temporal UI and `temporal workflow show --output json` download.
    await writeFile(file, historyToJSON(history));
    console.log(`saved ${history.events?.length ?? 0} events to ${path.relative(PROJECT_ROOT, file)}`);
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
