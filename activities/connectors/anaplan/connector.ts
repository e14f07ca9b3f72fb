import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { type BudgetVersionRef, type PlanningBudgetRow } from '../../../domain/model';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as writeCsv } from 'csv-stringify/sync';
import { httpJson, httpRequest, parseResponse, protocolFailure } from '../http';
import {
  type CallControl,
  type ForecastImportResult,
  type ForecastPublication,
  type HealthStatus,
  type PlanningConnector,
} from '../types';

/**
 * Anaplan through the Integration API v2: token authentication, exports and imports run as tasks and
 * polled, files moved in chunks. Budget versions come from per-version exports; forecasts go back through
 * an import that upserts by version and dimensions, so repeating it changes nothing.
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
  uploadChunkBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
});
export type AnaplanConnectorConfig = z.input<typeof AnaplanConnectorConfig>;

const SYSTEM = 'anaplan';
const EXPORT_COLUMNS = ['Account', 'Cost Center', 'Period', 'Amount', 'Currency'];
const IMPORT_COLUMNS = ['Version', 'Account', 'Cost Center', 'Period', 'Amount', 'Currency', 'Load Key'];
const FORECAST_FILE = 'closeloop_forecast_source.csv';
const FORECAST_IMPORT = 'closeloop_forecast_import';

const TokenResponse = z.object({
  tokenInfo: z.object({ tokenValue: z.string().min(1), expiresAt: z.number() }),
});
const Named = z.object({ id: z.string(), name: z.string() });
const Exports = z.object({ exports: z.array(Named).default([]) });
const Imports = z.object({ imports: z.array(Named).default([]) });
const Files = z.object({ files: z.array(Named).default([]) });
const Chunks = z.object({ chunks: z.array(z.object({ id: z.string() })).default([]) });
const TaskStarted = z.object({ task: z.object({ taskId: z.string() }) });
const TaskStatus = z.object({
  task: z.object({
    taskId: z.string(),
    taskState: z.enum(['NOT_STARTED', 'IN_PROGRESS', 'COMPLETE', 'CANCELLING', 'CANCELLED']),
    result: z
      .object({
        successful: z.boolean(),
        details: z
          .array(
            z.object({
              localMessageText: z.string(),
              type: z.string().optional(),
              values: z.array(z.string()).optional(),
            }),
          )
          .default([]),
      })
      .optional(),
  }),
});

export function exportName(ref: BudgetVersionRef): string {
  return `closeloop_budget_${ref.legalEntity}_FY${ref.fiscalYear}_${ref.scenario}_v${ref.version}`;
}

function isStatus(err: unknown, status: number): boolean {
  return (
    err instanceof ApplicationFailure &&
    (err.details?.[0] as { status?: number } | undefined)?.status === status
  );
}

export function createAnaplanConnector(input: AnaplanConnectorConfig): PlanningConnector {
  const config = AnaplanConnectorConfig.parse(input);
  const model = `${config.apiUrl.replace(/\/$/, '')}/workspaces/${config.workspaceId}/models/${config.modelId}`;
  let token: { value: string; expiresAt: number } | undefined;

  async function authToken(force = false): Promise<string> {
    if (!force && token && token.expiresAt > Date.now() + 60_000) return token.value;
    const basic = Buffer.from(`${config.username}:${config.password}`).toString('base64');
    const t = await httpJson(
      {
        system: SYSTEM,
        method: 'POST',
        url: `${config.authUrl.replace(/\/$/, '')}/token/authenticate`,
        headers: { Authorization: `Basic ${basic}` },
        timeoutMs: config.timeoutMs,
      },
      TokenResponse,
    );
    token = { value: t.tokenInfo.tokenValue, expiresAt: t.tokenInfo.expiresAt };
    return token.value;
  }

  /** Calls the model API; an expired token is renewed once and the call repeated. */
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
      });
    try {
      return await send(false);
    } catch (err) {
      if (isStatus(err, 401)) return send(true);
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
    return parseResponse(SYSTEM, `${method} ${path}`, schema, text ? JSON.parse(text) : undefined);
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
        if (!resuming || !isStatus(err, 404)) throw err;
        task.taskId = await start();
        control.progress?.({ kind, id, taskId: task.taskId });
        continue;
      }
      if (status.task.taskState === 'COMPLETE') {
        const result = status.task.result;
        if (!result?.successful) {
          throw ApplicationFailure.create({
            type: FailureType.ConnectorRejected,
            message: `anaplan ${kind.slice(0, -1)} ${id} failed: ${(result?.details ?? []).map((d) => d.localMessageText).join('; ') || 'no details'}`,
            nonRetryable: true,
          });
        }
        return result;
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

  return {
    system: SYSTEM,

    async health(): Promise<HealthStatus> {
      const started = Date.now();
      try {
        await json('GET', '/exports', Exports);
        return { system: SYSTEM, ok: true, latencyMs: Date.now() - started };
      } catch (err) {
        return { system: SYSTEM, ok: false, latencyMs: Date.now() - started, detail: (err as Error).message };
      }
    },

    async fetchBudgetVersion(ref: BudgetVersionRef, control?: CallControl): Promise<PlanningBudgetRow[]> {
      const name = exportName(ref);
      const exp = (await json('GET', '/exports', Exports)).exports.find((e) => e.name === name);
      if (!exp) {
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `the planning platform has no export ${name}: version ${ref.version} of ${ref.legalEntity} FY${ref.fiscalYear} ${ref.scenario} was not published for integration`,
          nonRetryable: true,
        });
      }
      await runTask('exports', exp.id, control);
      // The export's output file carries the export's id; chunks split anywhere, so join bytes before parsing.
      const { chunks } = await json('GET', `/files/${exp.id}/chunks`, Chunks);
      const parts: Buffer[] = [];
      for (const c of chunks)
        parts.push(
          Buffer.from(
            await (await call('GET', `/files/${exp.id}/chunks/${c.id}`, { raw: true })).arrayBuffer(),
          ),
        );
      let header: string[] = [];
      const records = parseCsv(Buffer.concat(parts), {
        bom: true,
        skip_empty_lines: true,
        columns: (h: string[]) => (header = h),
      }) as Record<string, string>[];
      const missing = EXPORT_COLUMNS.filter((c) => !header.includes(c));
      if (missing.length)
        throw protocolFailure(SYSTEM, `export ${name} lacks column(s) ${missing.join(', ')}`);
      return records.map((r) => ({
        account: r.Account!,
        costCenter: r['Cost Center']!,
        period: r.Period!,
        amount: r.Amount!,
        currency: r.Currency!,
      }));
    },

    async publishForecast(f: ForecastPublication, control?: CallControl): Promise<ForecastImportResult> {
      const file = (await json('GET', '/files', Files)).files.find((x) => x.name === FORECAST_FILE);
      const imp = (await json('GET', '/imports', Imports)).imports.find((x) => x.name === FORECAST_IMPORT);
      if (!file || !imp)
        throw protocolFailure(
          SYSTEM,
          `the model lacks the ${FORECAST_FILE} data source or the ${FORECAST_IMPORT} import`,
        );
      const csv = Buffer.from(
        writeCsv(
          [
            IMPORT_COLUMNS,
            ...f.rows.map((r) => [
              f.versionName,
              r.account,
              r.costCenter,
              r.period,
              r.amount,
              r.currency,
              f.idempotencyKey,
            ]),
          ],
          { record_delimiter: 'windows' },
        ),
      );
      let chunkCount = 0;
      for (let i = 0; i < csv.length; i += config.uploadChunkBytes) {
        await call('PUT', `/files/${file.id}/chunks/${chunkCount++}`, {
          body: csv.subarray(i, i + config.uploadChunkBytes),
          contentType: 'application/octet-stream',
        });
      }
      await json('POST', `/files/${file.id}/complete`, z.unknown(), {
        id: file.id,
        name: file.name,
        chunkCount,
      });
      const result = await runTask('imports', imp.id, control);
      const counts = result.details.find((d) => d.type === 'rowsProcessed')?.values?.map(Number);
      if (!counts || counts.length < 3 || counts.some(Number.isNaN))
        throw protocolFailure(SYSTEM, 'import result carries no row counts');
      const [changed, unchanged] = counts as [number, number, number];
      return {
        idempotencyKey: f.idempotencyKey,
        rowsImported: changed + unchanged,
        alreadyImported: changed === 0 && unchanged > 0,
      };
    },
  };
}
