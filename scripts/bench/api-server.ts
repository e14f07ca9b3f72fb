import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { listen } from '../../api/listen';
import { loadConfig } from '../../config';
import { openDatabase } from '../../db/client';

/**
 * The API in its own process for the benchmark, as a deployment runs it, so the load generator does not share
 * its event loop. Budget control needs no Temporal: the client connects only if a route uses it.
 * Prints its URL on the first line of stdout.
 */
async function main() {
  const config = loadConfig();
  const database = openDatabase(config.database.configuredUrl!, { poolSize: config.database.poolSize });
  const client = new Client({ connection: Connection.lazy({ address: config.temporal.address }) });
  const server = await listen(createApp({ config, client, db: database.db }), 0, '127.0.0.1');
  console.log(server.url);
  process.once('SIGTERM', () => {
    void server
      .close()
      .then(() => database.close())
      .then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
