import { Client } from '@temporalio/client';
import { loadConfig, refuseDevSigningKey } from '../config';
import { connectClient } from '../config/temporal-connection';
import { openDatabase } from '../db/client';
import { DatabaseUnavailableError, describeLocatedDatabase, locateDatabase } from '../db/embedded';
import { listen } from './listen';
import { serveInProcesses } from './processes';
import { createApp } from './app';
import { ensureReservationExpiry } from './reservation-expiry';
import { ensureSchedules, ensurePeriodCloseSchedule } from './schedules';

/** Runs the API alone (a deployment runs it next to any number of workers): npm run api. */
async function main() {
  const config = loadConfig();
  refuseDevSigningKey(config);
  await serveInProcesses(
    config.api.processes,
    async () => {
      const located = await locateDatabase({ ...config.database, startEmbedded: false });
      const database = openDatabase(located.url, { poolSize: config.database.poolSize });
      const connection = await connectClient(config.temporal);
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const server = await listen(
        createApp({ config, client, db: database.db }),
        config.api.port,
        config.api.host,
      );
      // Each process makes sure of them; each is started under a fixed ID, so one runs however many try.
      await ensureReservationExpiry(client, config);
      await ensureSchedules(client, config, database.db);
      await ensurePeriodCloseSchedule(client, config, database.db);
      return {
        server,
        description: describeLocatedDatabase(located, config.database.embedded.dataDir),
        stop: async () => {
          await server.close();
          await connection.close();
          await database.close();
        },
      };
    },
    (url, database) =>
      console.log(
        `closeloop API listening on ${url}${config.api.processes > 1 ? ` (${config.api.processes} processes)` : ''}, database ${database}`,
      ),
  );
}

main().catch((err) => {
  // A database that cannot be had is a sentence that says what to do, not a stack trace.
  console.error(err instanceof DatabaseUnavailableError ? `closeloop API: ${err.message}` : err);
  process.exit(1);
});
