import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { listen } from '../../api/listen';
import { serveInProcesses } from '../../api/processes';
import { loadConfig } from '../../config';
import { openDatabase } from '../../db/client';

/**
 * The API in its own process (API_PROCESSES of them behind one port) for the benchmark, as a deployment runs
 * it, so the load generator does not share its event loop. Budget control needs no Temporal: the client
 * connects only if a route uses it. Prints its URL on the first line of stdout once every process listens.
 */
async function main() {
  const config = loadConfig();
  await serveInProcesses(
    config.api.processes,
    async () => {
      const database = openDatabase(config.database.configuredUrl!, { poolSize: config.database.poolSize });
      const client = new Client({ connection: Connection.lazy({ address: config.temporal.address }) });
      const server = await listen(
        createApp({ config, client, db: database.db }),
        config.api.port,
        '127.0.0.1',
      );
      return { server, description: 'DATABASE_URL', stop: () => server.close().then(() => database.close()) };
    },
    (url) => console.log(url),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
