import { loadConfig, refuseDevSigningKey } from '../config';
import { connectWorker } from '../config/temporal-connection';
import { createConnectors } from '../activities/connectors/registry';
import { openDatabase } from '../db/client';
import { DatabaseUnavailableError, describeLocatedDatabase, locateDatabase } from '../db/embedded';
import { createWorker } from './worker';

/**
 * Runs one worker (scale out by running more): npm run worker. Ctrl-C drains in-flight tasks first; a worker
 * killed outright is replaced within the activities' heartbeat timeout by any other worker on the queue.
 */
async function main() {
  const config = loadConfig();
  refuseDevSigningKey(config);
  const located = await locateDatabase({ ...config.database, startEmbedded: false });
  const database = openDatabase(located.url, { poolSize: config.database.poolSize });
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db: database.db,
    ...createConnectors(config, database.db),
    workflowBundle: config.temporal.workflowBundlePath
      ? { codePath: config.temporal.workflowBundlePath }
      : undefined,
  });
  console.log(
    `closeloop worker polling ${config.temporal.namespace}/${config.temporal.taskQueue} (pid ${process.pid}), database ${describeLocatedDatabase(located, config.database.embedded.dataDir)}`,
  );
  await worker.run();
  await connection.close();
  await database.close();
}

main().catch((err) => {
  // A database that cannot be had is a sentence that says what to do, not a stack trace.
  console.error(err instanceof DatabaseUnavailableError ? `closeloop worker: ${err.message}` : err);
  process.exit(1);
});
