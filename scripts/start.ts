import path from 'node:path';
import { Client } from '@temporalio/client';
import { createConnectors } from '../activities/connectors/registry';
import { createApp } from '../api/app';
import { loadConfig } from '../config';
import { PROJECT_ROOT } from '../config/paths';
import { loadTemporalDevConfig } from '../config/temporal-dev';
import { connectClient, connectWorker } from '../config/temporal-connection';
import { openDatabase } from '../db/client';
import { ensureDatabase, migrateDatabase } from '../db/migrate';
import { seedReferenceData } from '../db/seed';
import { createAnaplanSimulator } from '../simulators/anaplan';
import { createD365Simulator } from '../simulators/d365';
import { listen } from '../simulators/listen';
import { seedServicesCompany } from '../simulators/scenario/seed';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker } from '../workers/worker';
import { startDevServer } from './lib/dev-server';
import { ensureTemporalCli } from './lib/temporal-cli';

/**
 * npm start — the whole stack in one process tree on embedded defaults: the Temporal dev server (with
 * Temporal UI) from temporal-dev.yaml, the database migrated and seeded, the Dynamics 365 and Anaplan
 * simulators, a worker and the API. Ctrl-C stops everything, newest first.
 *
 * Set TEMPORAL_ADDRESS to use an existing cluster instead of the dev server, SIMULATORS=off to use real
 * endpoints (D365_*, ANAPLAN_*), DATABASE_URL for another PostgreSQL.
 */

const log = (msg: string) => console.log(`[closeloop] ${msg}`);
const started = Date.now();
const stops: { name: string; stop: () => Promise<void> }[] = [];
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  for (const { name, stop } of stops.reverse()) {
    try {
      await stop();
    } catch (err) {
      console.error(`[closeloop] stopping ${name} failed:`, err instanceof Error ? err.message : err);
    }
  }
  process.exit(code);
}

async function main() {
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  const config = loadConfig();
  // The worker's INFO lines (bundle sizes, state changes) drown the URLs people need; warnings still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });

  if (!process.env.TEMPORAL_ADDRESS) {
    const devConfig = loadTemporalDevConfig();
    const cliPath = await ensureTemporalCli({ log });
    const server = await startDevServer({
      cliPath,
      config: devConfig,
      output: { file: path.join(PROJECT_ROOT, '.data', 'temporal', 'server.log') },
    });
    stops.push({ name: 'Temporal dev server', stop: () => server.stop() });
    log(
      `Temporal dev server ready at ${server.address} (namespace ${server.namespace}); log in .data/temporal/server.log`,
    );
  }

  await ensureDatabase(config.database.url);
  const database = openDatabase(config.database.url, { poolSize: config.database.poolSize });
  stops.push({ name: 'database pool', stop: () => database.close() });
  await migrateDatabase(database.db);
  await seedReferenceData(database.db);
  log(`database ${new URL(config.database.url).pathname.slice(1)} migrated and seeded`);

  if (config.simulators.mode === 'embedded') {
    // Kept under .data/ like the dev server's database, so a restart remembers what was posted.
    const d365 = createD365Simulator({
      stateFile: path.join(PROJECT_ROOT, '.data', 'simulators', 'd365.json'),
    });
    const anaplan = createAnaplanSimulator({
      stateFile: path.join(PROJECT_ROOT, '.data', 'simulators', 'anaplan.json'),
    });
    const d365Server = await listen(d365.app, config.simulators.d365Port);
    stops.push({ name: 'D365 simulator', stop: () => d365Server.close() });
    const anaplanServer = await listen(anaplan.app, config.simulators.anaplanPort);
    stops.push({ name: 'Anaplan simulator', stop: () => anaplanServer.close() });
    seedServicesCompany({ d365, anaplan });
    log(`Dynamics 365 simulator ${d365Server.url}  ·  Anaplan simulator ${anaplanServer.url}`);
  }

  const workerConnection = await connectWorker(config.temporal);
  const worker = await createWorker({
    connection: workerConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    db: database.db,
    ...createConnectors(config),
  });
  const running = worker.run().catch((err: unknown) => {
    console.error('[closeloop] worker failed:', err);
    void shutdown(1);
  });
  stops.push({
    name: 'worker',
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await workerConnection.close();
    },
  });

  const clientConnection = await connectClient(config.temporal);
  stops.push({ name: 'Temporal client', stop: () => clientConnection.close() });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const api = await listen(createApp({ config, client, db: database.db }), config.api.port, config.api.host);
  stops.push({ name: 'API', stop: () => api.close() });

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`
closeloop is ready in ${seconds}s
  API          ${api.url}   (X-API-Key: dev-planner | dev-approver | dev-controller | dev-admin)
  Temporal UI  ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows
  Temporal     ${config.temporal.address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}
Try it: npm run demo        Stop: Ctrl-C
`);
}

main().catch((err) => {
  console.error(`[closeloop] failed to start: ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
