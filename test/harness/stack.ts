import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { type Worker } from '@temporalio/worker';
import postgres from 'postgres';
import { createConnectors } from '../../activities/connectors/registry';
import {
  type BudgetTarget,
  type ErpConnector,
  type PlanningConnector,
} from '../../activities/connectors/types';
import { createApp } from '../../api/app';
import { buildCycleInput, type StartCycleRequest, startBudgetCycle } from '../../api/start-cycle';
import { insertFiscalPeriods } from '../../db/queries/reference';
import { monthlyFiscalPeriods } from '../../domain/reference';
import { type Config, loadConfig } from '../../config';
import { loadTemporalDevConfig } from '../../config/temporal-dev';
import { connectClient, connectWorker } from '../../config/temporal-connection';
import { type Database, openDatabase } from '../../db/client';
import { ensureDatabase, migrateDatabase } from '../../db/migrate';
import { seedReferenceData } from '../../db/seed';
import { CALENDAR } from '../../db/seed/services-company';
import { UK_CALENDAR } from '../../db/seed/subsidiaries';
import { fiscalCalendar as manufacturerCalendar } from '../../db/seed/manufacturer';
import { defineCalendar } from '../../db/queries/fiscal-calendars';
import { type BudgetDecisionKind } from '../../domain/approval';
import { signDecisionToken } from '../../domain/decision-token';
import { parseBudgetCycleWorkflowId } from '../../domain/identity';
import { type BudgetVersionRef } from '../../domain/model';
import { createAnaplanSimulator } from '../../simulators/anaplan';
import { createAdaptiveSimulator, type AdaptiveSimulator } from '../../simulators/adaptive/simulator';
import { createD365Simulator } from '../../simulators/d365';
import { createOracleSimulator, type OracleSimulator } from '../../simulators/oracle/simulator';
import { createSapSimulator, type SapSimulator } from '../../simulators/sap/simulator';
import { sapCompanyCodes } from '../../simulators/scenario/europe';
import { createNetSuiteSimulator, type NetSuiteSimulator } from '../../simulators/netsuite/simulator';
import { listen, type RunningServer } from '../../api/listen';
import { type budgetCycle } from '../../workflows/budget-cycle';
import { type BudgetCycleInput } from '../../workflows/budget-cycle-state';
import { statusQuery } from '../../workflows/definitions';
import { createWorker } from '../../workers/worker';
import { freePort } from '../../scripts/lib/dev-server';
import { type RunningMailSink, startMailSink } from '../../scripts/lib/mail-sink';
import { assertNothingLeftBehind, type Census, steadyCensus } from './leaks';
import { quietRuntime } from './runtime';

/**
 * The one harness every integration test uses: its own database (created, migrated, seeded, dropped), its
 * own simulators and task queue, a worker and optionally the API, on the Temporal dev server that the jest
 * global setup started. Tests therefore run in any order and in parallel without seeing each other's data.
 */
export interface TestStack {
  config: Config;
  /** The environment the stack's configuration was read from: a worker process started with it joins the stack. */
  env: Record<string, string>;
  db: Database;
  databaseUrl: string;
  client: Client;
  d365: ReturnType<typeof createD365Simulator>;
  anaplan: ReturnType<typeof createAnaplanSimulator>;
  adaptive: AdaptiveSimulator;
  oracle: OracleSimulator;
  sap: SapSimulator;
  netsuite: NetSuiteSimulator;
  /** Dynamics 365 connected both ways; Oracle Fusion as a budget target. */
  erps: { d365: ErpConnector; oracle: BudgetTarget };
  /** The planning platforms connected (Anaplan, Adaptive Planning), by name. */
  plannings: Record<string, PlanningConnector>;
  api?: RunningServer;
  /** The stack's mail sink, when started with `mail: true`. */
  mail?: RunningMailSink;
  /** The in-process worker, unless the stack was started with `worker: false`. */
  worker?: Worker;
  /** Starts an in-process worker on the stack's task queue (another one when one is running). */
  startWorker(): Promise<Worker>;
  /**
   * A fiscal year of the group's calendars that no other test of this stack uses: each test
   * that publishes, syncs or reforecasts works on its own year, so tests run alone or in any order.
   */
  newFiscalYear(): Promise<number>;
  /** Starts a cycle the way the API does (registered in the database), with short durations suited to tests. */
  startCycle(
    ref: BudgetVersionRef,
    overrides?: Partial<StartCycleRequest> & Partial<Pick<BudgetCycleInput, 'publication'>>,
    submitter?: string,
  ): Promise<WorkflowHandle<typeof budgetCycle>>;
  /**
   * A decision signal's payload with the token closeloop would sign for its principal (as the API's
   * signal-payload endpoint does); for a budget cycle, at its open stage unless one is named.
   */
  signed<D extends { decision: BudgetDecisionKind; principal: string; comment?: string }>(
    workflowId: string,
    decision: D,
    stage?: number,
  ): Promise<D & { token: string }>;
  stop(): Promise<void>;
}

export interface StackOptions {
  api?: boolean;
  /** false: no in-process worker (a test runs its own, e.g. in a child process it can kill). */
  worker?: boolean;
  d365?: Parameters<typeof createD365Simulator>[0];
  anaplan?: Parameters<typeof createAnaplanSimulator>[0];
  env?: Record<string, string>;
  /**
   * Keep the seeded approval policies (the services company's chain of owners, FP&A and CFO). Off by default:
   * most tests drive the loop with one approval from the approvers' roster, as an entity without a policy has.
   */
  approvalPolicies?: boolean;
  /** Run a mail sink (Mailpit) for the stack and send approval notifications to it; off: no mail. */
  mail?: boolean;
}

function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests through jest so test/harness/global-setup.ts runs`);
  return v;
}

/**
 * Workflow IDs are business identities, so two test files starting the same version would collide in one
 * namespace: each stack gets its own, with the search attributes of temporal-dev.yaml.
 */
async function registerNamespace(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  const T = temporal.api.enums.v1.IndexedValueType;
  const types = {
    Text: T.INDEXED_VALUE_TYPE_TEXT,
    Keyword: T.INDEXED_VALUE_TYPE_KEYWORD,
    Int: T.INDEXED_VALUE_TYPE_INT,
    Double: T.INDEXED_VALUE_TYPE_DOUBLE,
    Bool: T.INDEXED_VALUE_TYPE_BOOL,
    Datetime: T.INDEXED_VALUE_TYPE_DATETIME,
    KeywordList: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  } as const;
  const searchAttributes = Object.fromEntries(
    Object.entries(loadTemporalDevConfig().searchAttributes).map(([name, type]) => [name, types[type]]),
  );
  await connection.operatorService
    .addSearchAttributes({ namespace, searchAttributes })
    .catch((err: Error) => {
      if (!/already exists/i.test(err.message)) throw err;
    });
}

/**
 * What kept this process alive before the first of the stacks now running started (a file may run two at
 * once): when the last of them stops, the process must hold no more than that.
 */
let before: Promise<Census> | undefined;
let running = 0;

export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  quietRuntime();
  if (running++ === 0) before = steadyCensus();
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  const adminUrl = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/closeloop_test_${id}`;
  const databaseUrl = dbUrl.toString();
  // Undo steps, pushed as each resource starts: stop() runs them, and so does a start that fails halfway.
  const undo: (() => Promise<void>)[] = [];
  let stopped = false;
  const undoAll = async () => {
    if (stopped) return false;
    stopped = true;
    try {
      for (const step of undo.splice(0).reverse()) await step();
    } finally {
      running--;
    }
    return running === 0;
  };
  // A stack that stops leaves nothing behind: no handle, timer or child process of its own still open.
  const stop = async () => {
    if (!(await undoAll())) return;
    await assertNothingLeftBehind(await before!, 'the test stack');
  };

  try {
    await before;
    await ensureDatabase(databaseUrl);
    undo.push(async () => {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
      await admin.unsafe(`drop database if exists "closeloop_test_${id}" with (force)`);
      await admin.end({ timeout: 5 });
    });
    const database = openDatabase(databaseUrl, { poolSize: 5 });
    undo.push(() => database.close());
    await migrateDatabase(database.db);
    await seedReferenceData(database.db);
    if (!options.approvalPolicies) await database.db.execute(sql`delete from approval_policies`);

    const d365 = createD365Simulator({ budgetBalanceUpdateMs: 0, ...options.d365 });
    const anaplan = createAnaplanSimulator({ taskPolls: 1, ...options.anaplan });
    const d365Server = await d365.listen(0);
    undo.push(() => d365Server.close());
    const anaplanServer = await anaplan.listen(0);
    undo.push(() => anaplanServer.close());
    const adaptive = createAdaptiveSimulator();
    const adaptiveServer = await adaptive.listen(0);
    undo.push(() => adaptiveServer.close());
    const oracle = createOracleSimulator();
    const oracleServer = await oracle.listen(0);
    undo.push(() => oracleServer.close());
    const sap = createSapSimulator();
    const sapServer = await sap.listen(0);
    undo.push(() => sapServer.close());
    sap.setCompanyCodes(sapCompanyCodes);
    const netsuiteTba = {
      consumerKey: 'stack-consumer',
      consumerSecret: randomBytes(8).toString('hex'),
      tokenId: 'stack-token',
      tokenSecret: randomBytes(8).toString('hex'),
    };
    const netsuite = createNetSuiteSimulator({ tba: netsuiteTba, concurrencyLimit: 2, jobReadsPending: 1 });
    const netsuiteServer = await netsuite.listen(0);
    undo.push(() => netsuiteServer.close());

    const namespace = `stack-${id}`;
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: requiredEnv('CLOSELOOP_TEST_TEMPORAL_ADDRESS'),
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: `test-${id}`,
      API_PORT: '0',
      // No mail unless the test runs a sink (mail: true sets SMTP_URL to it).
      MAIL_SINK: 'off',
      // A stack of its own signs decisions with a key of its own, as a deployment must.
      APPROVAL_SIGNING_KEY: randomBytes(32).toString('hex'),
      D365_BASE_URL: d365Server.url,
      D365_TOKEN_URL: `${d365Server.url}/closeloop-dev/oauth2/v2.0/token`,
      D365_TIMEOUT_MS: '5000',
      D365_COMPLETION_POLL_MS: '20',
      ANAPLAN_AUTH_URL: anaplanServer.url,
      ANAPLAN_API_URL: `${anaplanServer.url}/2/0`,
      ADAPTIVE_URL: adaptiveServer.url,
      ADAPTIVE_TIMEOUT_MS: '5000',
      ANAPLAN_POLL_INTERVAL_MS: '20',
      ANAPLAN_TIMEOUT_MS: '5000',
      ORACLE_BASE_URL: oracleServer.url,
      ORACLE_TIMEOUT_MS: '5000',
      ORACLE_ESS_POLL_INTERVAL: '50ms',
      SAP_BASE_URL: sapServer.url,
      SAP_TIMEOUT_MS: '5000',
      NETSUITE_BASE_URL: netsuiteServer.url,
      NETSUITE_ACCOUNT_ID: netsuite.accountId,
      NETSUITE_TBA_CONSUMER_KEY: netsuiteTba.consumerKey,
      NETSUITE_TBA_CONSUMER_SECRET: netsuiteTba.consumerSecret,
      NETSUITE_TBA_TOKEN_ID: netsuiteTba.tokenId,
      NETSUITE_TBA_TOKEN_SECRET: netsuiteTba.tokenSecret,
      NETSUITE_TIMEOUT_MS: '5000',
      NETSUITE_JOB_POLL: '20ms',
      NETSUITE_CONCURRENCY_LIMIT: '2',
      WORKFLOW_BUNDLE_PATH: requiredEnv('CLOSELOOP_TEST_WORKFLOW_BUNDLE'),
      ...options.env,
    };
    let mail: RunningMailSink | undefined;
    if (options.mail) {
      mail = await startMailSink({ smtpPort: await freePort(), httpPort: await freePort() });
      undo.push(() => mail!.stop());
      env.SMTP_URL = `smtp://127.0.0.1:${mail.smtpPort}`;
    }
    const config = loadConfig(env);
    const clientConnection = await connectClient(config.temporal);
    undo.push(() => clientConnection.close());
    await registerNamespace(clientConnection, namespace);
    const connectors = createConnectors(config, database.db);
    const workerConnection = await connectWorker(config.temporal);
    undo.push(() => workerConnection.close());
    const startWorker = async () => {
      const w = await createWorker({
        connection: workerConnection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        db: database.db,
        ...connectors,
        workflowBundle: { codePath: requiredEnv('CLOSELOOP_TEST_WORKFLOW_BUNDLE') },
      });
      const run = w.run();
      undo.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        await run;
      });
      return w;
    };
    const worker = options.worker === false ? undefined : await startWorker();
    let nextFiscalYear = 2031;
    const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
    const api = options.api ? await listen(createApp({ config, client, db: database.db }), 0) : undefined;
    if (api) undo.push(() => api.close());

    return {
      config,
      env,
      db: database.db,
      databaseUrl,
      client,
      d365,
      anaplan,
      adaptive,
      oracle,
      sap,
      netsuite,
      ...connectors,
      erps: connectors.erps as TestStack['erps'],
      api,
      mail,
      worker,
      startWorker,
      async newFiscalYear() {
        const fiscalYear = nextFiscalYear++;
        await insertFiscalPeriods(database.db, [
          ...monthlyFiscalPeriods(fiscalYear).map((p) => ({ calendar: CALENDAR, fiscalYear, ...p })),
          ...monthlyFiscalPeriods(fiscalYear, 4).map((p) => ({ calendar: UK_CALENDAR, fiscalYear, ...p })),
        ]);
        // The manufacturer's 4-4-5 calendar cuts the year its own way.
        await database.db.transaction((tx) =>
          defineCalendar(tx, {
            ...manufacturerCalendar,
            fiscalYears: [fiscalYear],
            by: 'test',
            reason: 'a test year',
            correlationId: `test-year-${fiscalYear}`,
          }),
        );
        return fiscalYear;
      },
      async startCycle(ref, overrides = {}, submitter = 'alice@acme.example') {
        const input = buildCycleInput(
          config,
          {
            approvalTimeout: '1 minute',
            escalationTimeout: '1 minute',
            asOfPeriod: `${ref.fiscalYear}-03`,
            ...overrides,
            ref,
          },
          { id: submitter, role: 'planner' },
        );
        if (overrides.publication) input.publication = { ...input.publication, ...overrides.publication };
        return (await startBudgetCycle({ client, config, db: database.db }, input)) as WorkflowHandle<
          typeof budgetCycle
        >;
      },
      async signed(workflowId, decision, stage) {
        const open =
          stage ??
          (parseBudgetCycleWorkflowId(workflowId)
            ? ((await client.workflow.getHandle(workflowId).query(statusQuery)).approval?.current ?? 0)
            : 0);
        const { token } = await signDecisionToken(
          config.approvals.signingKey,
          { principal: decision.principal, workflowId, stage: open, decision: decision.decision },
          600,
        );
        return { ...decision, token };
      },
      stop,
    };
  } catch (err) {
    await undoAll();
    throw err;
  }
}
