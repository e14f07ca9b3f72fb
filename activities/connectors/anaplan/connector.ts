import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { probeHealth } from '../health';
import { FailureType } from '../../../domain/failures';
import { type BudgetVersionRef, type PlanningBudgetRow } from '../../../domain/model';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as writeCsv } from 'csv-stringify/sync';
import { hasStatus, httpJson, httpRequest, parseResponse, protocolFailure } from '../http';
import {
  type CallControl,
  type ForecastImportResult,
  type ForecastPublication,
  forecastRowPages,
  type ImportIssue,
  type PlanningConnector,
} from '../types';

/**
 * Anaplan through its authentication API and Integration API v2, written to what Anaplan publishes: its
 * official Postman collection and help pages (help.anaplan.com: authenticate, refresh, set the chunk count,
 * upload a file in chunks, mark an upload complete, run and monitor imports and exports, download a dump
 * file, troubleshooting API usage) and its own client, anaplaninc/anaplan-java-client (ServerFile: POST the
 * file with its chunk count, PUT chunks from 0, complete an upload of unknown length; AnaplanAPIFeign: every
 * endpoint; TaskResultDetail: `values` read as name/value pairs, `localMessageText` optional;
 * AbstractAuthenticator: refresh before expiry and adopt the returned token; AnaplanErrorDecoder: 5xx and
 * 429 retried with Retry-After, 401 re-authenticates; Paginator: offset paging by meta.paging).
 *
 * Budget versions come from one export per version, named by `budgetExportName`; forecasts go back through
 * one import (`forecastImportName`) that upserts by version and dimensions, so repeating it changes nothing.
 * Both are definitions the customer creates once in the model (see the README).
 */

export const AnaplanConnectorConfig = z.object({
  authUrl: z.string().url(),
  apiUrl: z.string().url(),
  username: z.string().min(1),
  password: z.string().min(1),
  workspaceId: z.string().min(1),
  modelId: z.string().min(1),
  timeoutMs: z.number().int().positive(),
  pollIntervalMs: z.number().int().positive(),
  taskTimeoutMs: z.number().int().positive(),
  /** Anaplan takes chunks of at most 50 MB; 10 MB keeps each request short. */
  uploadChunkBytes: z
    .number()
    .int()
    .positive()
    .max(50 * 1024 * 1024)
    .default(10 * 1024 * 1024),
  /** The export of one budget version; {legalEntity}, {fiscalYear}, {scenario} and {version} are filled in. */
  budgetExportName: z
    .string()
    .min(1)
    .default('closeloop_budget_{legalEntity}_FY{fiscalYear}_{scenario}_v{version}'),
  /** The import that takes forecasts; its data source is the file the forecast is uploaded to. */
  forecastImportName: z.string().min(1).default('closeloop_forecast_import'),
});
export type AnaplanConnectorConfig = z.input<typeof AnaplanConnectorConfig>;

const SYSTEM = 'anaplan';
/** The export's value columns; every other column is a list of the module, one dimension each. */
const EXPORT_VALUE_COLUMNS = ['Period', 'Amount', 'Currency'];
/**
 * The dimension a module's list stands for: its name in camel case ("Cost Center" → costCenter, "Product
 * Line" → productLine, "Plant" → plant), the codes of the entity's chart of accounts.
 */
export const dimensionOfList = (name: string) =>
  name
    .trim()
    .split(/\s+/)
    .map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
const IMPORT_COLUMNS = ['Version', 'Account', 'Cost Center', 'Period', 'Amount', 'Currency', 'Load Key'];
/** The largest page the API serves (help.anaplan.com: "results will be limited to the first 5000"). */
const PAGE_LIMIT = 5000;
/**
 * A model that is busy (409) or locked (423) answers again once it is free: "waiting and retrying is usually
 * better" (help.anaplan.com: model busy behavior and retry strategy; troubleshooting API usage).
 */
const TRANSIENT = [409, 423];
/** AbstractAuthenticator's window: refresh when less than five minutes are left. */
const REFRESH_WINDOW_MS = 5 * 60 * 1000;

const TokenResponse = z.object({
  tokenInfo: z.object({ tokenValue: z.string().min(1), expiresAt: z.number() }),
});
const Paging = z.object({ currentPageSize: z.number(), offset: z.number(), totalSize: z.number() });
const Meta = z.object({ paging: Paging.optional() }).optional();
const Named = z.object({ id: z.string(), name: z.string() });
const ImportDefinition = Named.extend({ importDataSourceId: z.string().optional() });
const ServerFile = z.object({ file: Named.extend({ chunkCount: z.number().int() }).passthrough() });
const Chunks = z.object({ chunks: z.array(z.object({ id: z.string() })).default([]) });
const TaskStarted = z.object({ task: z.object({ taskId: z.string() }) });
const Detail = z.object({
  localMessageText: z.string().optional(),
  occurrences: z.number().optional(),
  type: z.string(),
  values: z.array(z.string()).optional(),
});
export const TaskResult = z.object({
  successful: z.boolean(),
  failureDumpAvailable: z.boolean().optional(),
  objectId: z.string().optional(),
  details: z.array(Detail).optional(),
});
const TaskStatus = z.object({
  task: z.object({
    taskId: z.string(),
    taskState: z.enum(['NOT_STARTED', 'IN_PROGRESS', 'COMPLETE', 'CANCELLING', 'CANCELLED']),
    result: TaskResult.optional(),
  }),
});

/** The answers the adapter parses, for the contract tests against Anaplan's published examples. */
export const ANAPLAN_RESPONSES = {
  authenticate: TokenResponse,
  refresh: TokenResponse,
  setChunkCount: ServerFile,
  taskStatus: TaskStatus,
  imports: z.object({ meta: Meta, imports: z.array(ImportDefinition) }),
} as const;

export function exportName(template: string, ref: BudgetVersionRef): string {
  return template
    .replaceAll('{legalEntity}', ref.legalEntity)
    .replaceAll('{fiscalYear}', String(ref.fiscalYear))
    .replaceAll('{scenario}', ref.scenario)
    .replaceAll('{version}', String(ref.version));
}

/**
 * The row counts of an import, from its result's details. A detail's `values` alternate name and value
 * (["successRowCount", "90", "ignoredCount", "5", ...]) in no fixed order; counts of several details (one
 * per list or module) add up. Undefined when the result carries no counts at all.
 */
export function importCounts(
  result: z.output<typeof TaskResult>,
): { success: number; ignored: number; failed: number } | undefined {
  let found = false;
  const counts = { success: 0, ignored: 0, failed: 0 };
  for (const detail of result.details ?? []) {
    const values = detail.values ?? [];
    const pairs = new Map<string, string>();
    for (let i = 0; i + 1 < values.length; i += 2) pairs.set(values[i]!, values[i + 1]!);
    if (!pairs.has('successRowCount')) continue;
    found = true;
    const n = (name: string) => {
      const v = Number(pairs.get(name) ?? 0);
      if (!Number.isInteger(v) || v < 0)
        throw protocolFailure(SYSTEM, `import result count ${name} is ${pairs.get(name)}`);
      return v;
    };
    counts.success += n('successRowCount');
    counts.ignored += n('ignoredCount');
    counts.failed += n('failedCount');
  }
  return found ? counts : undefined;
}

/** The rows of a failure dump: `_Status_` (E or W), the source columns, `_Line_` and `_Error_1_` (and on). */
export function dumpIssues(csv: Buffer | string): ImportIssue[] {
  const records = parseCsv(csv, {
    bom: true,
    skip_empty_lines: true,
    columns: true,
    relax_column_count: true,
  }) as Record<string, string>[];
  return records.map((r) => {
    const { _Status_: status, _Line_: line, ...rest } = r;
    const errors = Object.keys(rest)
      .filter((k) => /^_Error_\d+_$/.test(k) && rest[k])
      .map((k) => rest[k]!);
    const row = Object.fromEntries(Object.entries(rest).filter(([k]) => !/^_Error_\d+_$/.test(k)));
    return {
      line: Number(line),
      severity: status === 'W' ? 'warning' : 'error',
      message: errors.join('; ') || '(no reason given)',
      row,
    };
  });
}

export function createAnaplanConnector(input: AnaplanConnectorConfig): PlanningConnector {
  const config = AnaplanConnectorConfig.parse(input);
  const model = `${config.apiUrl.replace(/\/$/, '')}/workspaces/${config.workspaceId}/models/${config.modelId}`;
  const auth = config.authUrl.replace(/\/$/, '');
  let token: { value: string; expiresAt: number } | undefined;

  async function authenticate(): Promise<string> {
    const basic = Buffer.from(`${config.username}:${config.password}`).toString('base64');
    const t = await httpJson(
      {
        system: SYSTEM,
        method: 'POST',
        url: `${auth}/token/authenticate`,
        headers: { Authorization: `Basic ${basic}` },
        timeoutMs: config.timeoutMs,
      },
      TokenResponse,
    );
    token = { value: t.tokenInfo.tokenValue, expiresAt: t.tokenInfo.expiresAt };
    return token.value;
  }

  /** One token per session: refreshed before it expires (adopting what the refresh returns), else renewed. */
  async function authToken(force = false): Promise<string> {
    if (force || !token || token.expiresAt <= Date.now()) return authenticate();
    if (token.expiresAt - Date.now() < REFRESH_WINDOW_MS) {
      try {
        const t = await httpJson(
          {
            system: SYSTEM,
            method: 'POST',
            url: `${auth}/token/refresh`,
            headers: { Authorization: `AnaplanAuthToken ${token.value}` },
            timeoutMs: config.timeoutMs,
          },
          TokenResponse,
        );
        token = { value: t.tokenInfo.tokenValue, expiresAt: t.tokenInfo.expiresAt };
      } catch (err) {
        if (!hasStatus(err, 401)) throw err;
        return authenticate();
      }
    }
    return token.value;
  }

  /** Calls the model API; a 401 authenticates again once and repeats the call. */
  async function call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    opts: { body?: unknown; raw?: boolean; contentType?: string } = {},
  ): Promise<Response> {
    const send = async (force: boolean) =>
      httpRequest({
        system: SYSTEM,
        method,
        url: `${model}${path}`,
        headers: {
          Authorization: `AnaplanAuthToken ${await authToken(force)}`,
          Accept: opts.raw ? 'application/octet-stream' : 'application/json',
          ...(opts.contentType ? { 'Content-Type': opts.contentType } : {}),
        },
        body: opts.body,
        timeoutMs: config.timeoutMs,
        transientStatuses: TRANSIENT,
      });
    try {
      return await send(false);
    } catch (err) {
      if (hasStatus(err, 401)) return send(true);
      throw err;
    }
  }

  async function json<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
  ): Promise<T> {
    const res = await call(method, path, {
      body,
      contentType: body === undefined ? undefined : 'application/json',
    });
    const text = await res.text();
    return parseResponse(
      SYSTEM,
      `${method} ${path.split('?')[0]}`,
      schema,
      text ? JSON.parse(text) : undefined,
    );
  }

  /** Every item of a list, page by page (offset and limit, as meta.paging reports them). */
  async function listAll<T>(path: string, key: string, item: z.ZodType<T>): Promise<T[]> {
    const page = z.object({ meta: Meta, [key]: z.array(item).default([]) });
    const out: T[] = [];
    for (let offset = 0; ;) {
      const p = (await json('GET', `${path}?offset=${offset}&limit=${PAGE_LIMIT}`, page)) as {
        meta?: { paging?: z.output<typeof Paging> };
      } & Record<string, T[]>;
      const items = p[key]!;
      out.push(...items);
      const paging = p.meta?.paging;
      if (!paging || items.length === 0 || paging.offset + paging.currentPageSize >= paging.totalSize)
        return out;
      offset = paging.offset + paging.currentPageSize;
    }
  }

  async function download(path: string): Promise<Buffer> {
    const { chunks } = await json('GET', `${path}/chunks`, Chunks);
    const parts: Buffer[] = [];
    for (const c of chunks) {
      parts.push(
        Buffer.from(await (await call('GET', `${path}/chunks/${c.id}`, { raw: true })).arrayBuffer()),
      );
    }
    return Buffer.concat(parts);
  }

  /**
   * Runs an export or import task to completion, polling; a task that outlives taskTimeoutMs is retried by
   * Temporal. The task's ID is reported as progress, so a retry after a lost worker resumes polling the
   * task already running on the platform instead of starting a second one.
   */
  async function runTask(kind: 'exports' | 'imports', id: string, control: CallControl = {}) {
    const start = async () =>
      (await json('POST', `/${kind}/${id}/tasks`, TaskStarted, { localeName: 'en_US' })).task.taskId;
    const resumed = control.resumeFrom;
    const resuming = resumed?.kind === kind && resumed.id === id && typeof resumed.taskId === 'string';
    const task = { taskId: resuming ? (resumed.taskId as string) : await start() };
    control.progress?.({ kind, id, taskId: task.taskId });
    const deadline = Date.now() + config.taskTimeoutMs;
    for (;;) {
      let status: z.output<typeof TaskStatus>;
      try {
        status = await json('GET', `/${kind}/${id}/tasks/${task.taskId}`, TaskStatus);
      } catch (err) {
        // The platform no longer knows the task a lost attempt started: start it again.
        if (!resuming || !hasStatus(err, 404)) throw err;
        task.taskId = await start();
        control.progress?.({ kind, id, taskId: task.taskId });
        continue;
      }
      if (status.task.taskState === 'COMPLETE') {
        const result = status.task.result;
        if (!result?.successful) {
          const reasons = (result?.details ?? []).map((d) => d.localMessageText ?? d.type).join('; ');
          throw ApplicationFailure.create({
            type: FailureType.ConnectorRejected,
            message: `anaplan ${kind.slice(0, -1)} ${id} failed: ${reasons || 'no details'}`,
            nonRetryable: true,
          });
        }
        return { taskId: task.taskId, result };
      }
      if (status.task.taskState === 'CANCELLED' || status.task.taskState === 'CANCELLING') {
        throw ApplicationFailure.create({
          type: FailureType.ConnectorUnavailable,
          message: `anaplan task ${task.taskId} was cancelled`,
          nonRetryable: false,
        });
      }
      if (Date.now() > deadline) {
        throw ApplicationFailure.create({
          type: FailureType.ConnectorUnavailable,
          message: `anaplan task ${task.taskId} did not complete within ${config.taskTimeoutMs} ms`,
          nonRetryable: false,
        });
      }
      await new Promise((r) => setTimeout(r, config.pollIntervalMs));
    }
  }

  /**
   * Uploads a file of unknown length as its parts come (ServerFile's stream path): chunk count -1, chunks of at
   * most uploadChunkBytes from 0, then complete. Only one chunk's bytes are held at a time.
   */
  async function upload(fileId: string, parts: AsyncIterable<Buffer>): Promise<void> {
    const opened = await json('POST', `/files/${fileId}`, ServerFile, { chunkCount: -1 });
    let chunkCount = 0;
    const put = (body: Buffer) =>
      call('PUT', `/files/${fileId}/chunks/${chunkCount++}`, {
        body,
        contentType: 'application/octet-stream',
      });
    let pending = Buffer.alloc(0);
    for await (const part of parts) {
      pending = Buffer.concat([pending, part]);
      while (pending.length >= config.uploadChunkBytes) {
        await put(pending.subarray(0, config.uploadChunkBytes));
        pending = pending.subarray(config.uploadChunkBytes);
      }
    }
    if (pending.length || chunkCount === 0) await put(pending);
    const completed = await json('POST', `/files/${fileId}/complete`, ServerFile, {
      ...opened.file,
      chunkCount: -1,
    });
    if (completed.file.chunkCount !== chunkCount) {
      throw protocolFailure(
        SYSTEM,
        `file ${fileId} was completed with ${completed.file.chunkCount} chunk(s); ${chunkCount} were sent`,
      );
    }
  }

  return {
    system: SYSTEM,

    health: () =>
      probeHealth(SYSTEM, () =>
        json('GET', `/exports?offset=0&limit=1`, z.object({ exports: z.array(Named).default([]) })),
      ),

    async fetchBudgetVersion(ref: BudgetVersionRef, control?: CallControl): Promise<PlanningBudgetRow[]> {
      const name = exportName(config.budgetExportName, ref);
      const exp = (await listAll('/exports', 'exports', Named)).find((e) => e.name === name);
      if (!exp) {
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `the planning platform has no export ${name} that this user can see: version ${ref.version} of ${ref.legalEntity} FY${ref.fiscalYear} ${ref.scenario} was not published for integration`,
          nonRetryable: true,
        });
      }
      await runTask('exports', exp.id, control);
      // The export's output file carries the export's id; chunks split anywhere, so join bytes before parsing.
      const content = await download(`/files/${exp.id}`);
      let header: string[] = [];
      const records = parseCsv(content, {
        bom: true,
        skip_empty_lines: true,
        columns: (h: string[]) => (header = h),
      }) as Record<string, string>[];
      const missing = EXPORT_VALUE_COLUMNS.filter((c) => !header.includes(c));
      if (missing.length)
        throw protocolFailure(SYSTEM, `export ${name} lacks column(s) ${missing.join(', ')}`);
      const lists = header.filter((c) => !EXPORT_VALUE_COLUMNS.includes(c));
      return records.map((r) => ({
        dimensions: Object.fromEntries(lists.map((l) => [dimensionOfList(l), r[l] ?? ''])),
        period: r.Period!,
        amount: r.Amount!,
        currency: r.Currency!,
      }));
    },

    async publishForecast(f: ForecastPublication, control?: CallControl): Promise<ForecastImportResult> {
      const imp = (await listAll('/imports', 'imports', ImportDefinition)).find(
        (x) => x.name === config.forecastImportName,
      );
      if (!imp?.importDataSourceId) {
        throw ApplicationFailure.create({
          type: FailureType.ConnectorRejected,
          message: `the model has no import ${config.forecastImportName} with a file data source that this user can see`,
          nonRetryable: true,
        });
      }
      // The file is written as its rows are read, page by page, each page's CSV uploaded as it is made.
      let rowCount = 0;
      async function* csv() {
        yield Buffer.from(writeCsv([IMPORT_COLUMNS], { record_delimiter: 'windows' }));
        for await (const page of forecastRowPages(f.rows)) {
          rowCount += page.length;
          yield Buffer.from(
            writeCsv(
              page.map((r) => [
                f.versionName,
                r.account,
                r.costCenter,
                r.period,
                r.amount,
                r.currency,
                f.idempotencyKey,
              ]),
              { record_delimiter: 'windows' },
            ),
          );
        }
      }
      await upload(imp.importDataSourceId, csv());
      const { taskId, result } = await runTask('imports', imp.id, control);
      // `successful` says the task ran; rows can still have been ignored or refused. The dump names them.
      const issues = result.failureDumpAvailable
        ? dumpIssues(await download(`/imports/${imp.id}/tasks/${taskId}/dump`))
        : [];
      const counts = importCounts(result);
      const rowsFailed = counts?.failed ?? issues.filter((i) => i.severity === 'error').length;
      const rowsIgnored = counts?.ignored ?? issues.filter((i) => i.severity === 'warning').length;
      return {
        idempotencyKey: f.idempotencyKey,
        // Without counts (an import type that reports none), a successful task took every row not in the dump.
        rowsImported: counts?.success ?? rowCount - rowsFailed - rowsIgnored,
        rowsIgnored,
        rowsFailed,
        issues,
      };
    },
  };
}
