import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createConnectors } from '../activities/connectors/registry';
import { createApp } from '../api/app';
import { ensureReservationExpiry } from '../api/reservation-expiry';
import { listen } from '../api/listen';
import { type Config, loadConfig, refuseDevSigningKey } from '../config';
import { removeLauncherState, writeLauncherState } from '../config/launcher-state';
import { PROJECT_ROOT } from '../config/paths';
import { loadTemporalDevConfig } from '../config/temporal-dev';
import { connectClient, connectWorker } from '../config/temporal-connection';
import { createWorker } from '../workers/worker';
import { describeDatabase, prepareDatabase } from './lib/database';
import { startDevServer } from './lib/dev-server';
import { localApiUrl, startSimulators } from './lib/simulators';
import { ensurePeriodCloseSchedule, ensureSchedules } from '../api/schedules';
import { startMailSink } from './lib/mail-sink';
import { ensureTemporalCli } from './lib/temporal-cli';

/**
 * npm start — the whole stack in one process tree on embedded defaults: the Temporal dev server (with
 * Temporal UI) from temporal-dev.yaml, PostgreSQL (the one answering at the default address, or an embedded
 * one) migrated and seeded, the Dynamics 365 and Anaplan simulators, a mail sink for approval notifications
 * (Mailpit), a worker and the API. Ctrl-C stops
 * everything, newest first.
 *
 *   npm start                    everything
 *   npm start -- --no-worker     everything but the worker: run workers with `npm run worker`, as many as
 *                                you like, and kill or scale them independently
 *
 * Set TEMPORAL_ADDRESS to use an existing cluster instead of the dev server, SIMULATORS=off to use real
 * endpoints (D365_*, ANAPLAN_*), DATABASE_URL for another PostgreSQL.
 */

const USAGE = `usage: npm start [-- --no-worker]

  --no-worker   start everything except the worker (run \`npm run worker\` separately)
  --help        this text`;

const log = (msg: string) => console.log(`[closeloop] ${msg}`);
const started = Date.now();
const stops: { name: string; stop: () => Promise<void> }[] = [];
let stopping = false;
let config: Config | undefined;
let ready = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  // First, so that nothing started from now on picks a database that is about to go.
  if (config) removeLauncherState(config.dataDir);
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
  const { values: flags } = parseArgs({
    options: { 'no-worker': { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  // `on`, not `once`: a second signal (tsx relays the one it gets, a user presses Ctrl-C twice) must not kill
  // the launcher halfway through stopping, leaving the dev server and the mail sink behind.
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // Whatever goes wrong, and wherever, what was already started is stopped: nothing is left running.
  process.on('uncaughtException', (err) => fail(err));
  process.on('unhandledRejection', (err) => fail(err));
  config = loadConfig();
  refuseDevSigningKey(config);
  // The worker's INFO lines (bundle sizes, state changes) drown the URLs people need; warnings still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });

  if (config.temporal.devServer) {
    const devConfig = loadTemporalDevConfig(config.temporal.devConfigPath);
    const cliPath = await ensureTemporalCli({ log, version: devConfig.cli.version });
    const server = await startDevServer({
      cliPath,
      config: devConfig,
      output: { file: path.join(config.dataDir, 'temporal', 'server.log') },
    });
    stops.push({ name: 'Temporal dev server', stop: () => server.stop() });
    log(
      `Temporal dev server ready at ${server.address} (namespace ${server.namespace}); log in ${path.relative(PROJECT_ROOT, path.join(config.dataDir, 'temporal', 'server.log'))}`,
    );
  }

  // The launcher decides on its database itself; the state file (config.database.launcher) is for others.
  const database = await prepareDatabase(
    { ...config, database: { ...config.database, launcher: undefined } },
    { startEmbedded: true, seed: true },
  );
  stops.push({ name: 'database', stop: () => database.close() });
  for (const note of database.notes ?? []) log(note);
  log(`database ${describeDatabase(database, config)}: migrated and seeded`);
  // Processes started on their own beside this one (npm run worker, npm run api, …) use this database too.
  writeLauncherState(config.dataDir, {
    url: database.source === 'configured' ? undefined : database.url,
    display: `${new URL(database.url).pathname.slice(1)} on ${new URL(database.url).host}`,
    embedded: database.source === 'embedded' || database.source === 'embedded (already running)',
  });

  // Approval notifications go to a local mail sink unless SMTP_URL names a real server.
  let mailUi: string | undefined;
  if (config.notifications.mailSink.mode === 'embedded' && !process.env.SMTP_URL) {
    const sink = await startMailSink({
      ...config.notifications.mailSink,
      dataDir: path.join(config.dataDir, 'mail'),
      log,
    });
    stops.push({ name: 'mail sink', stop: () => sink.stop() });
    mailUi = sink.url;
    log(`mail sink (Mailpit) SMTP 127.0.0.1:${sink.smtpPort}, mails at ${sink.url}`);
  }

  if (config.simulators.mode === 'embedded') {
    const sims = await startSimulators(config, localApiUrl(config));
    stops.push({ name: 'simulators', stop: () => sims.stop() });
    log(
      `Dynamics 365 simulator ${sims.d365.url}  ·  Anaplan simulator ${sims.anaplan.url}  ·  Adaptive Planning simulator ${sims.adaptive.url}  ·  procurement (Coupa-style) simulator ${sims.procurement.url}  ·  Oracle Fusion simulator ${sims.oracle.url}  ·  SAP S/4HANA simulator ${sims.sap.url}  ·  NetSuite simulator ${sims.netsuite.url}`,
    );
  }

  if (!flags['no-worker']) {
    const workerConnection = await connectWorker(config.temporal);
    const worker = await createWorker({
      connection: workerConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      db: database.handle.db,
      ...createConnectors(config, database.handle.db),
      workflowBundle: config.temporal.workflowBundlePath
        ? { codePath: config.temporal.workflowBundlePath }
        : undefined,
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
  }

  const clientConnection = await connectClient(config.temporal);
  stops.push({ name: 'Temporal client', stop: () => clientConnection.close() });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const api = await listen(
    createApp({ config, client, db: database.handle.db }),
    config.api.port,
    config.api.host,
  );
  stops.push({ name: 'API', stop: () => api.close() });
  await ensureReservationExpiry(client, config);
  const schedules = await ensureSchedules(client, config, database.handle.db);
  const close = await ensurePeriodCloseSchedule(client, config, database.handle.db);

  ready = true;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`
closeloop is ready in ${seconds}s
  API          ${api.url}   (X-API-Key: dev-planner | dev-approver | dev-controller | dev-scheduler | dev-admin | dev-procurement | …)
  Temporal UI  ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows
  Temporal     ${config.temporal.address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}
  Database     ${describeDatabase(database, config)}
  Mail         ${mailUi ? `${mailUi}   (approval notifications; MAIL_SINK=off and SMTP_URL for a real server)` : (config.notifications.smtpUrl ?? 'off (set SMTP_URL)')}
  Worker       ${flags['no-worker'] ? 'none (--no-worker): start workers with `npm run worker`' : 'running in this process'}
  Schedules    ${schedules.map((x) => `${x.scheduleId} every ${x.every}`).join(', ')} (Temporal UI → Schedules)
  Period close ${close.scheduleId} on ${close.closeDates.length} close dates, next ${close.closeDates[0] ?? 'none'}; or npm run closeloop -- close start <YYYY-MM>
Try it: npm run demo        Stop: Ctrl-C
`);
}

function fail(err: unknown) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`[closeloop] ${ready ? 'stopping after an error' : 'failed to start'}: ${message}`);
  void shutdown(1);
}

main().catch(fail);
