import { z } from 'zod';
import { Principal } from '../domain/model';

/**
 * All configuration, read from the environment and validated once at start-up. Defaults run everything
 * locally against the embedded simulators; a deployment overrides them (see README).
 */

const DurationString = z
  .string()
  .regex(
    /^\d+(\.\d+)?\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/,
    'must be a duration such as "3 days" or "500ms"',
  );

const Bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const DEV_API_KEYS =
  'dev-planner=alice@acme.example:planner,dev-approver=carol@acme.example:approver,' +
  'dev-controller=dave@acme.example:controller,dev-admin=ian@acme.example:integration_admin,' +
  'dev-scheduler=sam@acme.example:scheduler';

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

const Env = z.object({
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/closeloop'),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('closeloop'),
  TEMPORAL_TASK_QUEUE: z.string().default('closeloop'),
  TEMPORAL_TLS: Bool.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233'),

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  CLOSELOOP_API_KEYS: ApiKeys,

  APPROVAL_TIMEOUT: DurationString.default('3 days'),
  ESCALATION_TIMEOUT: DurationString.default('2 days'),
  PUBLICATION_CHUNK_SIZE: z.coerce.number().int().min(1).max(5000).default(100),

  SIMULATORS: z.enum(['embedded', 'off']).default('embedded'),
  D365_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  ANAPLAN_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4020),

  D365_BASE_URL: z.string().url().optional(),
  D365_TOKEN_URL: z.string().url().optional(),
  D365_CLIENT_ID: z.string().default('closeloop'),
  D365_CLIENT_SECRET: z.string().default('dev-secret'),
  D365_SCOPE: z.string().optional(),
  D365_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  D365_PAGE_SIZE: z.coerce.number().int().positive().default(500),

  ANAPLAN_AUTH_URL: z.string().url().optional(),
  ANAPLAN_API_URL: z.string().url().optional(),
  ANAPLAN_USERNAME: z.string().default('closeloop'),
  ANAPLAN_PASSWORD: z.string().default('dev-password'),
  ANAPLAN_WORKSPACE_ID: z.string().default('8a81b01068d1f2c0'),
  ANAPLAN_MODEL_ID: z.string().default('75A40874E6B64FA3AE0743278996850F'),
  ANAPLAN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  ANAPLAN_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(500),
  ANAPLAN_TASK_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000),
});

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration:\n${fields}`);
  }
  const e = parsed.data;
  const d365Sim = `http://127.0.0.1:${e.D365_SIMULATOR_PORT}`;
  const anaplanSim = `http://127.0.0.1:${e.ANAPLAN_SIMULATOR_PORT}`;
  return {
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: e.TEMPORAL_TLS || Boolean(e.TEMPORAL_API_KEY),
      tlsCertPath: e.TEMPORAL_TLS_CERT_PATH,
      tlsKeyPath: e.TEMPORAL_TLS_KEY_PATH,
      apiKey: e.TEMPORAL_API_KEY,
      uiUrl: e.TEMPORAL_UI_URL,
    },
    api: { host: e.API_HOST, port: e.API_PORT, keys: e.CLOSELOOP_API_KEYS },
    cycle: {
      approvalTimeout: e.APPROVAL_TIMEOUT,
      escalationTimeout: e.ESCALATION_TIMEOUT,
      chunkSize: e.PUBLICATION_CHUNK_SIZE,
    },
    simulators: {
      mode: e.SIMULATORS,
      d365Port: e.D365_SIMULATOR_PORT,
      anaplanPort: e.ANAPLAN_SIMULATOR_PORT,
    },
    d365: {
      baseUrl: e.D365_BASE_URL ?? d365Sim,
      tokenUrl: e.D365_TOKEN_URL ?? `${d365Sim}/closeloop-dev/oauth2/v2.0/token`,
      clientId: e.D365_CLIENT_ID,
      clientSecret: e.D365_CLIENT_SECRET,
      scope: e.D365_SCOPE,
      timeoutMs: e.D365_TIMEOUT_MS,
      pageSize: e.D365_PAGE_SIZE,
    },
    anaplan: {
      authUrl: e.ANAPLAN_AUTH_URL ?? anaplanSim,
      apiUrl: e.ANAPLAN_API_URL ?? `${anaplanSim}/2/0`,
      username: e.ANAPLAN_USERNAME,
      password: e.ANAPLAN_PASSWORD,
      workspaceId: e.ANAPLAN_WORKSPACE_ID,
      modelId: e.ANAPLAN_MODEL_ID,
      timeoutMs: e.ANAPLAN_TIMEOUT_MS,
      pollIntervalMs: e.ANAPLAN_POLL_INTERVAL_MS,
      taskTimeoutMs: e.ANAPLAN_TASK_TIMEOUT_MS,
    },
  };
}
