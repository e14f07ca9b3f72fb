import { loadConfig } from '../config';
import { connectWorker } from '../config/temporal-connection';
import { createConnectors } from '../activities/connectors/registry';
import { openDatabase } from '../db/client';
import { createWorker } from './worker';

/** Runs one worker (scale out by running more): npm run worker. Ctrl-C drains in-flight tasks first. */
async function main() {
  const config = loadConfig();
  const database = openDatabase(config.database.url, { poolSize: config.database.poolSize });
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db: database.db,
    ...createConnectors(config),
  });
  console.log(`closeloop worker polling ${config.temporal.namespace}/${config.temporal.taskQueue}`);
  await worker.run();
  await connection.close();
  await database.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
