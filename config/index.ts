import path from 'node:path';
import { z } from 'zod';
import { msToNumber } from '@temporalio/common/lib/time';
import { DurationText, Principal } from '../domain/model';
import { launcherDatabase } from './launcher-state';
import { PROJECT_ROOT } from './paths';
import { loadTemporalDevConfig, TEMPORAL_DEV_YAML } from './temporal-dev';
import { fieldIssues } from '../domain/zod-issues';

/**
 * All configuration, read from the environment and validated once at start-up. Defaults run everything
 * locally against the embedded simulators; a deployment overrides them (see README).
 */

const DurationString = DurationText;

const Bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const DEV_API_KEYS =
  'dev-planner=alice@acme.example:planner,dev-approver=carol@acme.example:approver,' +
  'dev-controller=dave@acme.example:controller,dev-admin=ian@acme.example:integration_admin,' +
  'dev-scheduler=sam@acme.example:scheduler,dev-procurement=coupa@acme.example:requester,' +
  // The services company's approval chain (db/seed/services-company approvalPolicy): cost-center owners,
  // the other FP&A approvers and the CFO.
  'dev-olivia=olivia@acme.example:approver,dev-paul=paul@acme.example:approver,' +
  'dev-quinn=quinn@acme.example:approver,dev-rachel=rachel@acme.example:approver,' +
  'dev-frank=frank@acme.example:approver,dev-grace=grace@acme.example:approver,' +
  'dev-victor=victor@acme.example:approver,' +
  // The manufacturer's project managers (db/seed/manufacturer projectManagers).
  'dev-priya=priya@acme.example:approver,dev-marco=marco@acme.example:approver';

/** Local use only (see APPROVAL_SIGNING_KEY). */
export const DEV_SIGNING_KEY = 'closeloop-dev-approval-signing-key-not-for-production';

/** "key=principal:role,key2=principal2:role2" — a simple API-key → principal map until RBAC lands. */
const ApiKeys = z
  .string()
  .prefault(DEV_API_KEYS)
  .transform((raw, ctx) => {
    const map = new Map<string, Principal>();
    for (const entry of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^([^=]+)=([^:]+):(.+)$/.exec(entry);
      const principal = m && Principal.safeParse({ id: m[2], role: m[3] });
      if (!m || !principal?.success) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${JSON.stringify(entry)} must be key=principal:role with a known role`,
        });
        return z.NEVER;
      }
      map.set(m[1]!, principal.data);
    }
    return map;
  });

/** Where closeloop looks for PostgreSQL when DATABASE_URL is unset. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/closeloop';

/** closeloop's rate types by an ERP's own rate type names, as "spot=<name>,average=<name>,budget=<name>". */
const rateTypeNames = (spot: string, average: string, budget: string, erp: string) =>
  z
    .string()
    .default(`spot=${spot},average=${average},budget=${budget}`)
    .transform((raw, ctx) => {
      const out: Record<string, string> = {};
      for (const pair of raw
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const m = /^(spot|average|budget)=(.+)$/.exec(pair);
        if (!m) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(pair)} must be spot|average|budget=<${erp} rate type>`,
          });
          return z.NEVER;
        }
        out[m[1]!] = m[2]!;
      }
      return out as Partial<Record<'spot' | 'average' | 'budget', string>>;
    });

const Env = z.object({
  /**
   * Always wins. Unset: the database of the `npm start` running on CLOSELOOP_DATA_DIR (its launcher.json), else
   * the PostgreSQL at DEFAULT_DATABASE_URL, or else the embedded one.
   */
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** `embedded` uses the embedded PostgreSQL even when the default address answers. */
  CLOSELOOP_POSTGRES: z.enum(['auto', 'embedded']).default('auto'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  /** Unset: <CLOSELOOP_DATA_DIR>/postgres. */
  EMBEDDED_POSTGRES_DIR: z.string().optional(),
  /**
   * As root, the embedded PostgreSQL runs as the `postgres` user: when that user cannot reach the binaries in
   * node_modules or the data folder (a clone in a private folder), they go here. Unset: /var/tmp/closeloop-postgres.
   */
  EMBEDDED_POSTGRES_RUNTIME_DIR: z.string().optional(),
  /** Where `npm start` keeps local state: embedded PostgreSQL, simulator state, the dev server's log. */
  CLOSELOOP_DATA_DIR: z.string().default('.data'),

  /** Unset: the dev server of temporal-dev.yaml (its ip and port). */
  TEMPORAL_ADDRESS: z.string().optional(),
  /** The dev server's settings; another file lets a second stack run beside the first. */
  TEMPORAL_DEV_CONFIG: z.string().default(TEMPORAL_DEV_YAML),
  TEMPORAL_NAMESPACE: z.string().optional(),
  TEMPORAL_TASK_QUEUE: z.string().default('closeloop'),
  TEMPORAL_TLS: Bool.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_UI_URL: z.string().url().optional(),
  /** A workflow bundle built ahead of time (npm run build:workflows); without it the worker bundles at start. */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * How many API processes serve the port (node:cluster hands each connection to one of them): JavaScript runs
   * on one core per process, so the synchronous budget check scales with processes where cores allow.
   */
  API_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  CLOSELOOP_API_KEYS: ApiKeys,

  APPROVAL_TIMEOUT: DurationString.default('3 days'),
  ESCALATION_TIMEOUT: DurationString.default('2 days'),
  /** While a level waits, its approvers are reminded this often (and after escalation, its contacts too). */
  APPROVAL_REMINDER_INTERVAL: DurationString.default('1 day'),
  /**
   * Signs the tokens that prove who sends a decision signal (Temporal UI, `temporal workflow signal`). The
   * default is for local use only: a deployment sets its own secret, the same for the API and the workers.
   */
  APPROVAL_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').default(DEV_SIGNING_KEY),
  /** How long a signed decision payload handed to an approver stays valid. */
  APPROVAL_TOKEN_TTL: DurationString.default('15 minutes'),
  /** Where the review links in notifications point: the API as approvers reach it. Unset: API_HOST:API_PORT. */
  CLOSELOOP_PUBLIC_URL: z.string().url().optional(),
  /** Approval notifications by mail. Unset: the local mail sink the launcher starts (MAIL_SINK=embedded). */
  SMTP_URL: z.string().url().optional(),
  NOTIFY_FROM: z.string().default('closeloop <closeloop@acme.example>'),
  /** Chat tools: the same notifications POSTed as JSON ({"text": …}, Slack and Teams incoming-webhook style). */
  NOTIFY_WEBHOOK_URL: z.string().url().optional(),
  /** `embedded`: `npm start` runs a mail sink (Mailpit) and sends mail to it; `off`: SMTP_URL or no mail. */
  MAIL_SINK: z.enum(['embedded', 'off']).default('embedded'),
  MAIL_SINK_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(1025),
  MAIL_SINK_HTTP_PORT: z.coerce.number().int().min(1).max(65535).default(8025),
  PUBLICATION_CHUNK_SIZE: z.coerce.number().int().min(1).max(5000).default(100),
  /** Funds a reservation holds are given back after this unless consumed or released first. */
  BUDGET_RESERVATION_TTL: DurationString.default('30 days'),
  /**
   * How many budget checks and reservations one API process takes on at once; beyond it, it answers 503 with
   * Retry-After at once rather than letting every caller wait longer (the load is shed, nothing is decided).
   */
  BUDGET_CHECK_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(256),
  /** How often the reservation-expiry workflow gives back what expired. */
  RESERVATION_EXPIRY_INTERVAL: DurationString.default('5 minutes'),
  /** How long a controller has to decide on an override before it expires. */
  OVERRIDE_DECISION_TIMEOUT: DurationString.default('2 days'),
  /** How long an approver has to decide on a budget transfer or supplement before it expires. */
  TRANSFER_APPROVAL_TIMEOUT: DurationString.default('5 days'),
  /** Near real time: how long a burst of ERP or procurement events is gathered before one sync round runs. */
  EVENT_DEBOUNCE: DurationString.default('2 seconds'),
  /** The standing ERP sync of every legal entity (a Temporal Schedule each): how often it runs. */
  ERP_SYNC_INTERVAL: DurationString.default('1 hour'),
  /** After downtime, how far back missed scheduled syncs are still run (one run catches up; watermarks do the rest). */
  ERP_SYNC_CATCHUP_WINDOW: DurationString.default('1 hour'),
  /** The ERP sync of entities on the daily tier (legal_entities.sync_tier = 'daily'). */
  ERP_SYNC_DAILY_INTERVAL: DurationString.default('1 day'),
  /** Master data (chart of accounts, cost centers and their hierarchy) from the ERP: one schedule per entity. */
  MASTER_DATA_SYNC_INTERVAL: DurationString.default('1 day'),
  /** How long an approver has to decide on a cost center's move in the hierarchy before the request expires. */
  MASTER_DATA_APPROVAL_TIMEOUT: DurationString.default('5 days'),
  /** Period close: how long an entity's close waits for a controller's sign-off before it is escalated… */
  PERIOD_CLOSE_ESCALATE_AFTER: DurationString.default('2 days'),
  /** …who else may then sign off (comma-separated principals, e.g. the group controller)… */
  PERIOD_CLOSE_ESCALATE_TO: z
    .string()
    .default('carol@acme.example')
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  /** …and how much longer it waits after the escalation before the entity's close ends unsigned. */
  PERIOD_CLOSE_EXPIRE_AFTER: DurationString.default('3 days'),
  /** The `period-close` schedule starts a month's close this many days after its periods end (06:00 UTC). */
  PERIOD_CLOSE_AFTER_DAYS: z.coerce.number().int().min(0).max(60).default(3),

  SIMULATORS: z.enum(['embedded', 'off']).default('embedded'),
  D365_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  ANAPLAN_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4020),
  ADAPTIVE_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4090),
  PROCUREMENT_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4030),
  ORACLE_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4040),
  SAP_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4050),
  NETSUITE_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4060),
  /** The closeloop API key the procurement simulator calls with (a principal with role requester). */
  PROCUREMENT_SIMULATOR_API_KEY: z.string().min(1).default('dev-procurement'),
  /** The closeloop API key the Dynamics 365 simulator sends its business events with (role integration_admin). */
  D365_SIMULATOR_EVENTS_API_KEY: z.string().min(1).default('dev-admin'),

  D365_BASE_URL: z.string().url().optional(),
  D365_TOKEN_URL: z.string().url().optional(),
  D365_CLIENT_ID: z.string().default('closeloop'),
  D365_CLIENT_SECRET: z.string().default('dev-secret'),
  D365_SCOPE: z.string().optional(),
  D365_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  D365_PAGE_SIZE: z.coerce.number().int().positive().max(10_000).default(500),
  /** How long one publication attempt waits for "Update budget balances" to complete an entry. */
  D365_COMPLETION_WAIT_MS: z.coerce.number().int().nonnegative().default(60_000),
  /** Unset: every 5 s against a real environment, every 0.5 s against the embedded simulator. */
  D365_COMPLETION_POLL_MS: z.coerce.number().int().positive().optional(),
  D365_LEDGER_ENTITY_SET: z.string().min(1).default('GeneralJournalAccountEntries'),
  /** The entity set of exchange rates in your environment's /data/$metadata. */
  D365_EXCHANGE_RATE_ENTITY_SET: z.string().min(1).default('ExchangeRates'),
  /** Master data: the chart of accounts, the cost-center dimension, and the published cost-center hierarchy. */
  D365_CHART_OF_ACCOUNTS: z.string().min(1).default('Shared'),
  D365_COST_CENTER_DIMENSION: z.string().min(1).default('CostCenter'),
  /**
   * The closeloop dimension each segment of a ledger dimension display value holds, in the account structure's
   * order, comma-separated ("account,costCenter,department").
   */
  D365_DIMENSION_FORMAT: z
    .string()
    .default('account,costCenter')
    .transform((v) => v.split(',').map((d) => d.trim())),
  D365_HIERARCHY_ENTITY_SET: z.string().min(1).default('OrganizationHierarchiesPublishedV2'),
  D365_COST_CENTER_HIERARCHY: z.string().min(1).default('Cost centers'),
  /** closeloop's rate types by the environment's exchange rate type names: "spot=Default,average=Average,budget=Budget". */
  D365_RATE_TYPES: rateTypeNames('Default', 'Average', 'Budget', 'D365'),

  /** SAP S/4HANA: the API host (https://my<id>-api.s4hana.ondemand.com, or Gateway's) and a communication user. */
  SAP_BASE_URL: z.string().url().optional(),
  SAP_USERNAME: z.string().default('CLOSELOOP'),
  SAP_PASSWORD: z.string().default('dev-secret'),
  SAP_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** Items asked for per page (`$top`); Gateway may page sooner with `__next`. */
  SAP_PAGE_SIZE: z.coerce.number().int().positive().max(5000).default(1000),
  /** The chart of accounts whose G/L accounts are an SAP entity's accounts. */
  SAP_CHART_OF_ACCOUNTS: z.string().min(1).max(4).default('YCOA'),
  /** closeloop's rate types by SAP's exchange rate types (M: average, B: bank selling, P: planning). */
  SAP_RATE_TYPES: rateTypeNames('B', 'M', 'P', 'SAP'),
  /** NetSuite: the account's REST host (https://<account>.suitetalk.api.netsuite.com) and its account ID. */
  NETSUITE_BASE_URL: z.string().url().optional(),
  NETSUITE_ACCOUNT_ID: z.string().regex(/^\w+$/).default('1234567_SB1'),
  /**
   * OAuth 2.0 client credentials (M2M): the integration's client ID, the certificate ID of the uploaded public key
   * and the private key (PEM). Unset: token-based authentication with the NETSUITE_TBA_* credentials.
   */
  NETSUITE_CLIENT_ID: z.string().optional(),
  NETSUITE_CERTIFICATE_ID: z.string().optional(),
  NETSUITE_PRIVATE_KEY: z.string().optional(),
  NETSUITE_TBA_CONSUMER_KEY: z.string().default('closeloop-consumer'),
  NETSUITE_TBA_CONSUMER_SECRET: z.string().default('dev-secret'),
  NETSUITE_TBA_TOKEN_ID: z.string().default('closeloop-token'),
  NETSUITE_TBA_TOKEN_SECRET: z.string().default('dev-token-secret'),
  NETSUITE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** The account's concurrency limit (by service tier and SuiteCloud Plus licenses), kept by all workers together. */
  NETSUITE_CONCURRENCY_LIMIT: z.coerce.number().int().positive().max(1000).default(5),
  /** How long a request waits for one of those slots before its attempt fails and is retried. */
  NETSUITE_SLOT_WAIT: DurationString.default('30s'),
  /** Between two reads of an asynchronous job, and how long one attempt waits for it. */
  NETSUITE_JOB_POLL: DurationString.default('2s'),
  NETSUITE_JOB_WAIT: DurationString.default('2m'),
  /** Oracle Fusion Cloud: the pod's base URL (https://<pod>.fa.<region>.oraclecloud.com) and an integration user. */
  ORACLE_BASE_URL: z.string().url().optional(),
  ORACLE_USERNAME: z.string().default('closeloop'),
  ORACLE_PASSWORD: z.string().default('dev-secret'),
  ORACLE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** Items per page (`limit`): Oracle does not document its cap; third parties report 500. */
  ORACLE_PAGE_SIZE: z.coerce.number().int().positive().max(500).default(500),
  /** closeloop's rate types by the ledger's conversion rate types (User Conversion Type names). */
  ORACLE_RATE_TYPES: rateTypeNames('Spot', 'Corporate', 'Budget', 'Oracle'),
  /** The value sets of the chart's natural account and cost center segments, read as its master data. */
  /**
   * GL budget balances: the ESS job importBulkData runs on the GL budget interface, the UCM account the file
   * goes to (both as third parties publish them; docs/compatibility.md), where Oracle posts the job's callback
   * (none: closeloop polls), how often the job's state is read and how long one attempt waits for it.
   */
  ORACLE_GL_BUDGET_JOB: z
    .string()
    .min(1)
    .default('/oracle/apps/ess/financials/generalLedger/ledgers/ledgerDefinitions,ValidateAndLoadBudgets'),
  ORACLE_GL_BUDGET_ACCOUNT: z.string().min(1).default('fin$/generalLedgerBudgetBalance$/import$'),
  ORACLE_CALLBACK_URL: z.string().url().optional(),
  ORACLE_ESS_POLL_INTERVAL: DurationString.default('10 seconds'),
  ORACLE_ESS_WAIT: DurationString.default('10 minutes'),
  ORACLE_ACCOUNT_VALUE_SET: z.string().min(1).default('ACME_ACCOUNT'),
  ORACLE_COST_CENTER_VALUE_SET: z.string().min(1).default('ACME_COST_CENTER'),

  /** Workday Adaptive Planning's XML API (`https://api.adaptiveinsights.com`); unset: the simulator. */
  ADAPTIVE_URL: z.string().url().optional(),
  ADAPTIVE_API_VERSION: z.coerce.number().int().min(25).default(40),
  ADAPTIVE_LOGIN: z.string().default('closeloop@acme.example'),
  ADAPTIVE_PASSWORD: z.string().default('dev-password'),
  ADAPTIVE_INSTANCE_CODE: z.string().optional(),
  ADAPTIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  ANAPLAN_AUTH_URL: z.string().url().optional(),
  ANAPLAN_API_URL: z.string().url().optional(),
  ANAPLAN_USERNAME: z.string().default('closeloop'),
  ANAPLAN_PASSWORD: z.string().default('dev-password'),
  ANAPLAN_WORKSPACE_ID: z.string().default('8a81b01068d1f2c0'),
  ANAPLAN_MODEL_ID: z.string().default('75A40874E6B64FA3AE0743278996850F'),
  ANAPLAN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** Unset: every 5 s against a real tenant (Anaplan asks for no more often), 0.5 s against the simulator. */
  ANAPLAN_POLL_INTERVAL_MS: z.coerce.number().int().positive().optional(),
  ANAPLAN_TASK_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000),
  /** The export of one budget version, created once in the model; see the README. */
  ANAPLAN_BUDGET_EXPORT_NAME: z
    .string()
    .min(1)
    .default('closeloop_budget_{legalEntity}_FY{fiscalYear}_{scenario}_v{version}'),
  ANAPLAN_FORECAST_IMPORT_NAME: z.string().min(1).default('closeloop_forecast_import'),
});

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const fields = fieldIssues(parsed.error, '(environment)').map((i) => `  ${i.field}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${fields.join('\n')}`);
  }
  const e = parsed.data;
  // The dev server's own file is the single source of its address, namespace and UI port.
  const dev = loadTemporalDevConfig(path.resolve(PROJECT_ROOT, e.TEMPORAL_DEV_CONFIG));
  const d365Sim = `http://127.0.0.1:${e.D365_SIMULATOR_PORT}`;
  const anaplanSim = `http://127.0.0.1:${e.ANAPLAN_SIMULATOR_PORT}`;
  const dataDir = path.resolve(PROJECT_ROOT, e.CLOSELOOP_DATA_DIR);
  return {
    dataDir,
    database: {
      configuredUrl: e.DATABASE_URL,
      /** Unless DATABASE_URL is set: the database of an `npm start` running on this data folder (it wins). */
      launcher: e.DATABASE_URL ? undefined : launcherDatabase(dataDir),
      defaultUrl: DEFAULT_DATABASE_URL,
      forceEmbedded: e.CLOSELOOP_POSTGRES === 'embedded',
      embedded: {
        port: e.EMBEDDED_POSTGRES_PORT,
        dataDir: path.resolve(
          PROJECT_ROOT,
          e.EMBEDDED_POSTGRES_DIR ?? path.join(e.CLOSELOOP_DATA_DIR, 'postgres'),
        ),
        runtimeDir:
          e.EMBEDDED_POSTGRES_RUNTIME_DIR && path.resolve(PROJECT_ROOT, e.EMBEDDED_POSTGRES_RUNTIME_DIR),
        database: new URL(DEFAULT_DATABASE_URL).pathname.slice(1),
      },
      poolSize: e.DATABASE_POOL_SIZE,
    },
    temporal: {
      /** True when no TEMPORAL_ADDRESS is set: the local dev server of temporal-dev.yaml. */
      devServer: e.TEMPORAL_ADDRESS === undefined,
      devConfigPath: path.resolve(PROJECT_ROOT, e.TEMPORAL_DEV_CONFIG),
      address: e.TEMPORAL_ADDRESS ?? `${dev.server.ip}:${dev.server.port}`,
      namespace: e.TEMPORAL_NAMESPACE ?? dev.server.namespace,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: e.TEMPORAL_TLS || Boolean(e.TEMPORAL_API_KEY),
      tlsCertPath: e.TEMPORAL_TLS_CERT_PATH,
      tlsKeyPath: e.TEMPORAL_TLS_KEY_PATH,
      apiKey: e.TEMPORAL_API_KEY,
      uiUrl: e.TEMPORAL_UI_URL ?? `http://${dev.server.ip}:${dev.server.uiPort}`,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    api: { host: e.API_HOST, port: e.API_PORT, processes: e.API_PROCESSES, keys: e.CLOSELOOP_API_KEYS },
    budgetControl: {
      reservationTtl: e.BUDGET_RESERVATION_TTL,
      maxInFlight: e.BUDGET_CHECK_MAX_IN_FLIGHT,
      expiryInterval: e.RESERVATION_EXPIRY_INTERVAL,
      overrideTimeout: e.OVERRIDE_DECISION_TIMEOUT,
      transferTimeout: e.TRANSFER_APPROVAL_TIMEOUT,
    },
    flows: {
      eventDebounce: e.EVENT_DEBOUNCE,
      erpSyncInterval: e.ERP_SYNC_INTERVAL,
      erpSyncCatchupWindow: e.ERP_SYNC_CATCHUP_WINDOW,
      erpSyncDailyInterval: e.ERP_SYNC_DAILY_INTERVAL,
      masterDataSyncInterval: e.MASTER_DATA_SYNC_INTERVAL,
      masterDataApprovalTimeout: e.MASTER_DATA_APPROVAL_TIMEOUT,
      periodClose: {
        escalateAfter: e.PERIOD_CLOSE_ESCALATE_AFTER,
        escalateTo: e.PERIOD_CLOSE_ESCALATE_TO,
        expireAfter: e.PERIOD_CLOSE_EXPIRE_AFTER,
        closeAfterDays: e.PERIOD_CLOSE_AFTER_DAYS,
      },
    },
    approvals: {
      signingKey: e.APPROVAL_SIGNING_KEY,
      tokenTtl: e.APPROVAL_TOKEN_TTL,
      publicUrl: e.CLOSELOOP_PUBLIC_URL ?? `http://${e.API_HOST}:${e.API_PORT}`,
    },
    notifications: {
      smtpUrl:
        e.SMTP_URL ?? (e.MAIL_SINK === 'embedded' ? `smtp://127.0.0.1:${e.MAIL_SINK_SMTP_PORT}` : undefined),
      from: e.NOTIFY_FROM,
      webhookUrl: e.NOTIFY_WEBHOOK_URL,
      mailSink: { mode: e.MAIL_SINK, smtpPort: e.MAIL_SINK_SMTP_PORT, httpPort: e.MAIL_SINK_HTTP_PORT },
    },
    cycle: {
      approvalTimeout: e.APPROVAL_TIMEOUT,
      escalationTimeout: e.ESCALATION_TIMEOUT,
      reminderInterval: e.APPROVAL_REMINDER_INTERVAL,
      chunkSize: e.PUBLICATION_CHUNK_SIZE,
    },
    simulators: {
      mode: e.SIMULATORS,
      d365Port: e.D365_SIMULATOR_PORT,
      anaplanPort: e.ANAPLAN_SIMULATOR_PORT,
      adaptivePort: e.ADAPTIVE_SIMULATOR_PORT,
      procurementPort: e.PROCUREMENT_SIMULATOR_PORT,
      oraclePort: e.ORACLE_SIMULATOR_PORT,
      sapPort: e.SAP_SIMULATOR_PORT,
      netsuitePort: e.NETSUITE_SIMULATOR_PORT,
      procurementApiKey: e.PROCUREMENT_SIMULATOR_API_KEY,
      d365EventsApiKey: e.D365_SIMULATOR_EVENTS_API_KEY,
    },
    d365: {
      baseUrl: e.D365_BASE_URL ?? d365Sim,
      tokenUrl: e.D365_TOKEN_URL ?? `${d365Sim}/closeloop-dev/oauth2/v2.0/token`,
      clientId: e.D365_CLIENT_ID,
      clientSecret: e.D365_CLIENT_SECRET,
      scope: e.D365_SCOPE,
      timeoutMs: e.D365_TIMEOUT_MS,
      pageSize: e.D365_PAGE_SIZE,
      completionWaitMs: e.D365_COMPLETION_WAIT_MS,
      completionPollMs: e.D365_COMPLETION_POLL_MS ?? (e.D365_BASE_URL ? 5000 : 500),
      ledgerEntitySet: e.D365_LEDGER_ENTITY_SET,
      exchangeRateEntitySet: e.D365_EXCHANGE_RATE_ENTITY_SET,
      chartOfAccounts: e.D365_CHART_OF_ACCOUNTS,
      costCenterDimension: e.D365_COST_CENTER_DIMENSION,
      dimensionFormat: e.D365_DIMENSION_FORMAT,
      hierarchyEntitySet: e.D365_HIERARCHY_ENTITY_SET,
      costCenterHierarchy: e.D365_COST_CENTER_HIERARCHY,
      rateTypeNames: e.D365_RATE_TYPES,
    },
    sap: {
      baseUrl: e.SAP_BASE_URL ?? `http://127.0.0.1:${e.SAP_SIMULATOR_PORT}`,
      username: e.SAP_USERNAME,
      password: e.SAP_PASSWORD,
      timeoutMs: e.SAP_TIMEOUT_MS,
      pageSize: e.SAP_PAGE_SIZE,
      chartOfAccounts: e.SAP_CHART_OF_ACCOUNTS,
      rateTypeNames: e.SAP_RATE_TYPES,
    },
    netsuite: {
      accountId: e.NETSUITE_ACCOUNT_ID,
      baseUrl: e.NETSUITE_BASE_URL ?? `http://127.0.0.1:${e.NETSUITE_SIMULATOR_PORT}`,
      auth:
        e.NETSUITE_CLIENT_ID && e.NETSUITE_CERTIFICATE_ID && e.NETSUITE_PRIVATE_KEY
          ? {
              kind: 'client-credentials' as const,
              clientId: e.NETSUITE_CLIENT_ID,
              certificateId: e.NETSUITE_CERTIFICATE_ID,
              privateKey: e.NETSUITE_PRIVATE_KEY.replace(/\\n/g, '\n'),
              scopes: ['rest_webservices'],
            }
          : {
              kind: 'tba' as const,
              consumerKey: e.NETSUITE_TBA_CONSUMER_KEY,
              consumerSecret: e.NETSUITE_TBA_CONSUMER_SECRET,
              tokenId: e.NETSUITE_TBA_TOKEN_ID,
              tokenSecret: e.NETSUITE_TBA_TOKEN_SECRET,
            },
      timeoutMs: e.NETSUITE_TIMEOUT_MS,
      pollIntervalMs: msToNumber(e.NETSUITE_JOB_POLL as '1s'),
      waitMs: msToNumber(e.NETSUITE_JOB_WAIT as '1s'),
      concurrencyLimit: e.NETSUITE_CONCURRENCY_LIMIT,
      slotWaitMs: msToNumber(e.NETSUITE_SLOT_WAIT as '1s'),
    },
    oracle: {
      baseUrl: e.ORACLE_BASE_URL ?? `http://127.0.0.1:${e.ORACLE_SIMULATOR_PORT}`,
      username: e.ORACLE_USERNAME,
      password: e.ORACLE_PASSWORD,
      timeoutMs: e.ORACLE_TIMEOUT_MS,
      pageSize: e.ORACLE_PAGE_SIZE,
      rateTypeNames: e.ORACLE_RATE_TYPES,
      accountValueSet: e.ORACLE_ACCOUNT_VALUE_SET,
      costCenterValueSet: e.ORACLE_COST_CENTER_VALUE_SET,
      glBudgets: {
        jobName: e.ORACLE_GL_BUDGET_JOB,
        documentAccount: e.ORACLE_GL_BUDGET_ACCOUNT,
        callbackUrl: e.ORACLE_CALLBACK_URL,
        pollIntervalMs: msToNumber(e.ORACLE_ESS_POLL_INTERVAL as '1s'),
        waitMs: msToNumber(e.ORACLE_ESS_WAIT as '1s'),
      },
    },
    adaptive: {
      baseUrl: e.ADAPTIVE_URL ?? `http://127.0.0.1:${e.ADAPTIVE_SIMULATOR_PORT}`,
      apiVersion: e.ADAPTIVE_API_VERSION,
      login: e.ADAPTIVE_LOGIN,
      password: e.ADAPTIVE_PASSWORD,
      instanceCode: e.ADAPTIVE_INSTANCE_CODE,
      timeoutMs: e.ADAPTIVE_TIMEOUT_MS,
    },
    anaplan: {
      authUrl: e.ANAPLAN_AUTH_URL ?? anaplanSim,
      apiUrl: e.ANAPLAN_API_URL ?? `${anaplanSim}/2/0`,
      username: e.ANAPLAN_USERNAME,
      password: e.ANAPLAN_PASSWORD,
      workspaceId: e.ANAPLAN_WORKSPACE_ID,
      modelId: e.ANAPLAN_MODEL_ID,
      timeoutMs: e.ANAPLAN_TIMEOUT_MS,
      pollIntervalMs: e.ANAPLAN_POLL_INTERVAL_MS ?? (e.ANAPLAN_API_URL ? 5000 : 500),
      taskTimeoutMs: e.ANAPLAN_TASK_TIMEOUT_MS,
      budgetExportName: e.ANAPLAN_BUDGET_EXPORT_NAME,
      forecastImportName: e.ANAPLAN_FORECAST_IMPORT_NAME,
    },
  };
}

/**
 * The dev signing key is in the source: anyone could sign decisions with it. An API or a worker that runs
 * against a real Temporal cluster or real ERP and planning endpoints refuses to start with it.
 */
export function refuseDevSigningKey(config: Config): void {
  const local = config.temporal.devServer && config.simulators.mode === 'embedded';
  if (config.approvals.signingKey === DEV_SIGNING_KEY && !local)
    throw new ConfigError(
      'APPROVAL_SIGNING_KEY is the development key from the source: set a secret of your own (32+ characters, ' +
        'the same for the API and every worker) before running against a real Temporal cluster or real endpoints',
    );
}

/** The API key a principal is configured with (the dev keys let demos and tests act as each approver). */
export function apiKeyOf(config: Pick<Config, 'api'>, principal: string): string | undefined {
  return [...config.api.keys.entries()].find(([, p]) => p.id === principal)?.[0];
}
