import { randomBytes, randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as writeCsv } from 'csv-stringify/sync';
import { DECIMAL_PATTERN } from '../../domain/money';
import { FaultInjector, serveSimulator } from '../faults';
import { type RunningServer } from '../../api/listen';
import { loadState, saveState } from '../state-file';
import { describeIssues } from '../../domain/zod-issues';

/**
 * A stateful local Anaplan model behind the authentication API and Integration API v2, as Anaplan
 * publishes them (its official Postman collection and help pages; the official anaplaninc/anaplan-java-client
 * ServerFile, AnaplanAPIFeign, TaskResultDetail and AnaplanErrorDecoder):
 * - `POST /token/authenticate` (Basic), `POST /token/refresh` (the same token value with a later expiry),
 *   `POST /token/logout`; `Authorization: AnaplanAuthToken <token>`;
 * - lists with `meta.paging` {currentPageSize, offset, totalSize}, paged by offset and limit (5,000 a page);
 * - uploads: `POST /files/{id}` with {"chunkCount": N or -1} first, then `PUT .../chunks/{n}` from 0, then
 *   `POST .../complete` when the count was -1; a file whose upload is not complete cannot be imported;
 * - exports and imports run as tasks that are polled; an import's result reports its rows in a
 *   `hierarchyRowsProcessed` detail whose `values` alternate name and value, may be `successful` while it
 *   ignored or failed rows, and then offers a failure dump (`.../tasks/{id}/dump/chunks`) whose CSV has
 *   `_Status_`, the source columns, `_Line_` and `_Error_1_`;
 * - errors are `{status: {code, message}, path, timestamp}`; a workspace, model or object the user cannot
 *   see is a 404.
 */

export interface AnaplanSimulatorOptions {
  username?: string;
  password?: string;
  workspaceId?: string;
  modelId?: string;
  tokenTtlSeconds?: number;
  /** Status polls answered IN_PROGRESS before a task completes. */
  taskPolls?: number;
  chunkSizeBytes?: number;
  /** The forecast import the customer defined once in the model, and its data source file. */
  forecastImportName?: string;
  forecastFileName?: string;
  /** The items of the model's account list, when set: an import row for any other account is ignored. */
  accountList?: string[];
  /** A JSON file to keep budget versions and imported forecasts in across restarts. */
  stateFile?: string;
}

export const BudgetVersionSeed = z.object({
  legalEntity: z.string().min(1),
  fiscalYear: z.number().int(),
  scenario: z.string().min(1),
  version: z.number().int().positive(),
  // Text on purpose: the planning model can hold anything a planner typed, and validation is closeloop's job.
  rows: z.array(
    z.object({
      /** A value per list of the module, keyed by closeloop's dimension code; exported under the list's name. */
      dimensions: z.record(z.string(), z.string()),
      period: z.string(),
      amount: z.string(),
      currency: z.string(),
    }),
  ),
});
export type BudgetVersionSeed = z.infer<typeof BudgetVersionSeed>;

export interface ForecastVersion {
  versionName: string;
  rows: {
    account: string;
    costCenter: string;
    period: string;
    amount: string;
    currency: string;
    loadKey: string;
  }[];
}

const EXPORT_VALUE_COLUMNS = ['Period', 'Amount', 'Currency'];
/** A module's list as a model builder names it: "costCenter" → "Cost Center". */
const listName = (code: string) => code.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
const IMPORT_COLUMNS = ['Version', 'Account', 'Cost Center', 'Period', 'Amount', 'Currency', 'Load Key'];
const FORECAST_FILE_ID = '113000000001';
const FORECAST_IMPORT_ID = '112000000001';
const PAGE_LIMIT = 5000;

interface Detail {
  localMessageText?: string;
  occurrences: number;
  type: string;
  values: string[];
}
interface TaskResult {
  successful: boolean;
  failureDumpAvailable: boolean;
  objectId: string;
  details?: Detail[];
}
interface Task {
  taskId: string;
  polls: number;
  creationTime: number;
  kind: 'export' | 'import';
  objectId: string;
  result?: TaskResult;
  dump?: Buffer;
}
interface ServerFile {
  id: string;
  name: string;
  /** -1 while an upload of unknown length is open. */
  chunkCount: number;
  chunks: Buffer[];
  complete: boolean;
}

const ok = { code: 200, message: 'Success' };
/** How the import data source file is described: a CSV with a header row. */
const SOURCE_FORMAT = {
  delimiter: '"',
  encoding: 'UTF-8',
  firstDataRow: 2,
  format: 'txt',
  headerRow: 1,
  separator: ',',
};

export function createAnaplanSimulator(options: AnaplanSimulatorOptions = {}) {
  const username = options.username ?? 'closeloop';
  const password = options.password ?? 'dev-password';
  const workspaceId = options.workspaceId ?? '8a81b01068d1f2c0';
  const modelId = options.modelId ?? '75A40874E6B64FA3AE0743278996850F';
  const ttl = options.tokenTtlSeconds ?? 2100;
  const taskPolls = options.taskPolls ?? 2;
  const chunkSize = options.chunkSizeBytes ?? 65_536;
  const forecastImport = {
    id: FORECAST_IMPORT_ID,
    name: options.forecastImportName ?? 'closeloop_forecast_import',
  };
  const forecastFileName = options.forecastFileName ?? 'closeloop_forecast_source.csv';
  let accountList = options.accountList;
  const faults = new FaultInjector();

  const tokens = new Map<string, { expiresAt: number; tokenId: string }>();
  const authCalls = { authenticate: 0, refresh: 0 };
  let exportsById = new Map<string, { id: string; name: string; version: BudgetVersionSeed }>();
  let files = new Map<string, ServerFile>();
  let tasks = new Map<string, Task>();
  let lastImport: Task | undefined;
  let forecastVersions = new Map<string, ForecastVersion>();
  let nextExport = 116000000001;
  const saved = loadState<{
    exports: { id: string; name: string; version: BudgetVersionSeed }[];
    forecasts: ForecastVersion[];
    nextExport: number;
  }>(options.stateFile);
  if (saved) {
    exportsById = new Map(saved.exports.map((e) => [e.id, e]));
    forecastVersions = new Map(saved.forecasts.map((f) => [f.versionName, f]));
    nextExport = saved.nextExport;
  }
  const persist = () =>
    saveState(options.stateFile, () => ({
      exports: [...exportsById.values()],
      forecasts: [...forecastVersions.values()],
      nextExport,
    }));
  const forecastFile = (): ServerFile =>
    files.get(FORECAST_FILE_ID) ?? {
      id: FORECAST_FILE_ID,
      name: forecastFileName,
      chunkCount: 0,
      chunks: [],
      complete: false,
    };

  const app: Express = express();
  app.disable('x-powered-by');
  app.use(faults.router());

  // ── authentication API ──────────────────────────────────────────────────────────────────────────────
  const tokenBody = (tokenValue: string, statusMessage: string) => ({
    meta: { validationUrl: 'https://auth.anaplan.com/token/validate' },
    status: 'SUCCESS',
    statusMessage,
    tokenInfo: {
      tokenId: tokens.get(tokenValue)!.tokenId,
      tokenValue,
      expiresAt: tokens.get(tokenValue)!.expiresAt,
      refreshTokenId: randomUUID(),
    },
  });
  const tokenOf = (req: Request) => /^AnaplanAuthToken (.+)$/.exec(req.header('authorization') ?? '')?.[1];
  const liveToken = (req: Request) => {
    const token = tokenOf(req);
    const held = token ? tokens.get(token) : undefined;
    return held && held.expiresAt > Date.now() ? token : undefined;
  };
  const authFailure = (res: Response) =>
    void res.status(401).json({
      status: 'FAILURE_BAD_CREDENTIAL',
      statusMessage: 'The authentication token is missing, invalid or expired',
    });

  app.post('/token/authenticate', (req, res) => {
    authCalls.authenticate++;
    const basic = /^Basic (.+)$/.exec(req.header('authorization') ?? '')?.[1];
    const [user, pass] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
    if (user !== username || pass !== password) {
      return void res
        .status(401)
        .json({ status: 'FAILURE_BAD_CREDENTIAL', statusMessage: 'Invalid username or password' });
    }
    const tokenValue = randomBytes(24).toString('base64url');
    tokens.set(tokenValue, { expiresAt: Date.now() + ttl * 1000, tokenId: randomUUID() });
    res.status(201).json(tokenBody(tokenValue, 'Login successful'));
  });
  // Refresh keeps the token's value and pushes its expiry out.
  app.post('/token/refresh', (req, res) => {
    authCalls.refresh++;
    const token = liveToken(req);
    if (!token) return authFailure(res);
    tokens.get(token)!.expiresAt = Date.now() + ttl * 1000;
    res.status(200).json(tokenBody(token, 'Token refreshed'));
  });
  app.post('/token/logout', (req, res) => {
    const token = liveToken(req);
    if (!token) return authFailure(res);
    tokens.delete(token);
    res.status(204).end();
  });

  // ── integration API v2 ──────────────────────────────────────────────────────────────────────────────
  const failure = (req: Request, res: Response, code: number, message: string) =>
    void res.status(code).json({
      status: { code, message },
      path: req.originalUrl.split('?')[0],
      timestamp: new Date().toISOString(),
    });
  const authorised = (req: Request, res: Response, next: NextFunction) => {
    if (!liveToken(req)) return failure(req, res, 401, 'Unauthorized');
    next();
  };

  const model = express.Router({ mergeParams: true });
  model.use(authorised);
  model.use(
    faults.middleware((status) => ({
      status: { code: status, message: status === 429 ? 'Too Many Requests' : 'Service Unavailable' },
    })),
  );
  // A workspace or model the user cannot see is answered as not found.
  model.use((req, res, next) => {
    if (req.params.ws !== workspaceId || req.params.model !== modelId)
      return failure(req, res, 404, 'Not Found');
    next();
  });

  const schema = (req: Request, object: string) =>
    `https://api.anaplan.com/2/0/models/${String(req.params.model)}/objects/${object}`;
  /** A list answer, paged by offset and limit. */
  function list(req: Request, res: Response, key: string, object: string, items: unknown[]) {
    const offset = Math.max(0, Number(req.query.offset ?? 0) || 0);
    const limit = Math.min(PAGE_LIMIT, Math.max(1, Number(req.query.limit ?? PAGE_LIMIT) || PAGE_LIMIT));
    const page = items.slice(offset, offset + limit);
    res.json({
      meta: {
        paging: { currentPageSize: page.length, offset, totalSize: items.length },
        schema: schema(req, object),
      },
      status: ok,
      [key]: page,
    });
  }

  model.get('/exports', (req, res) =>
    list(
      req,
      res,
      'exports',
      'export',
      [...exportsById.values()].map((e) => ({
        id: e.id,
        name: e.name,
        exportType: 'TABULAR_MULTI_COLUMN',
        exportFormat: 'text/csv',
        encoding: 'UTF-8',
        layout: 'TABULAR_MULTI_COLUMN',
      })),
    ),
  );
  model.get('/imports', (req, res) =>
    list(req, res, 'imports', 'import', [
      {
        id: forecastImport.id,
        name: forecastImport.name,
        importDataSourceId: FORECAST_FILE_ID,
        importType: 'MODULE_DATA',
      },
    ]),
  );
  model.get('/files', (req, res) => {
    const exportFiles = [...files.values()].filter((f) => f.id !== FORECAST_FILE_ID);
    const source = forecastFile();
    list(req, res, 'files', 'file', [
      {
        id: source.id,
        name: source.name,
        chunkCount: source.complete ? source.chunks.length : 0,
        ...SOURCE_FORMAT,
      },
      ...exportFiles.map((f) => ({
        id: f.id,
        name: f.name,
        chunkCount: f.chunks.length,
        firstDataRow: 0,
        headerRow: 0,
      })),
    ]);
  });

  const startTask = (req: Request, res: Response, kind: Task['kind'], objectId: string) => {
    const task: Task = {
      taskId: randomBytes(16).toString('hex').toUpperCase(),
      polls: 0,
      creationTime: Date.now(),
      kind,
      objectId,
    };
    tasks.set(task.taskId, task);
    res.json({
      meta: { schema: schema(req, 'task') },
      status: ok,
      task: { taskId: task.taskId, taskState: 'NOT_STARTED', creationTime: task.creationTime },
    });
  };
  const TaskBody = z.object({ localeName: z.literal('en_US') }).passthrough();
  model.post('/exports/:exportId/tasks', express.json(), (req, res) => {
    if (!TaskBody.safeParse(req.body).success) return failure(req, res, 400, 'localeName en_US is required');
    if (!exportsById.has(req.params.exportId!)) return failure(req, res, 404, 'Not Found');
    startTask(req, res, 'export', req.params.exportId!);
  });
  model.post('/imports/:importId/tasks', express.json(), (req, res) => {
    if (!TaskBody.safeParse(req.body).success) return failure(req, res, 400, 'localeName en_US is required');
    if (req.params.importId !== forecastImport.id) return failure(req, res, 404, 'Not Found');
    startTask(req, res, 'import', forecastImport.id);
  });

  function pollTask(req: Request, res: Response) {
    const task = tasks.get(String(req.params.taskId));
    if (!task || task.objectId !== (req.params.exportId ?? req.params.importId))
      return failure(req, res, 404, 'Not Found');
    task.polls++;
    if (task.polls <= taskPolls) {
      return void res.json({
        meta: { schema: schema(req, 'task') },
        status: ok,
        task: {
          type: 'taskInformation',
          taskId: task.taskId,
          currentStep: 'Running.',
          progress: task.polls / (taskPolls + 1),
          taskState: 'IN_PROGRESS',
          creationTime: task.creationTime,
        },
      });
    }
    if (!task.result) {
      task.result = task.kind === 'export' ? runExport(task.objectId) : runImport(task);
      if (task.kind === 'import') {
        lastImport = task;
        persist();
      }
    }
    res.json({
      meta: { schema: schema(req, 'task') },
      status: ok,
      task: {
        type: 'taskInformation',
        taskId: task.taskId,
        currentStep: 'Complete.',
        progress: 1,
        result: task.result,
        taskState: 'COMPLETE',
        creationTime: task.creationTime,
      },
    });
  }
  model.get('/exports/:exportId/tasks/:taskId', pollTask);
  model.get('/imports/:importId/tasks/:taskId', pollTask);

  const dumpOf = (req: Request) => {
    const task = tasks.get(String(req.params.taskId));
    return task?.objectId === req.params.importId ? task?.dump : undefined;
  };
  model.get('/imports/:importId/tasks/:taskId/dump/chunks', (req, res) => {
    const dump = dumpOf(req);
    if (!dump) return failure(req, res, 404, 'Not Found');
    const chunks = Math.max(1, Math.ceil(dump.length / chunkSize));
    list(
      req,
      res,
      'chunks',
      'chunk',
      Array.from({ length: chunks }, (_x, i) => ({ id: String(i), name: `Chunk ${i}` })),
    );
  });
  model.get('/imports/:importId/tasks/:taskId/dump/chunks/:chunkId', (req, res) => {
    const dump = dumpOf(req);
    const i = Number(req.params.chunkId);
    if (!dump || !Number.isInteger(i) || i * chunkSize >= Math.max(dump.length, 1))
      return failure(req, res, 404, 'Not Found');
    res.type('application/octet-stream').send(dump.subarray(i * chunkSize, (i + 1) * chunkSize));
  });

  function runExport(exportId: string): TaskResult {
    const e = exportsById.get(exportId)!;
    // One column per list any row of the version has, in the order they first appear.
    const lists = [...new Set(e.version.rows.flatMap((r) => Object.keys(r.dimensions)))];
    const csv = Buffer.from(
      writeCsv(
        [
          [...lists.map(listName), ...EXPORT_VALUE_COLUMNS],
          ...e.version.rows.map((r) => [
            ...lists.map((l) => r.dimensions[l] ?? ''),
            r.period,
            r.amount,
            r.currency,
          ]),
        ],
        {
          record_delimiter: 'windows',
        },
      ),
    );
    const chunks: Buffer[] = [];
    for (let i = 0; i < csv.length; i += chunkSize) chunks.push(csv.subarray(i, i + chunkSize));
    // The export's output file carries the export's ID.
    files.set(exportId, {
      id: exportId,
      name: `${e.name}.csv`,
      chunkCount: chunks.length,
      chunks,
      complete: true,
    });
    return { successful: true, failureDumpAvailable: false, objectId: exportId };
  }

  /** Counts as Anaplan reports them: name/value pairs in one detail. */
  const rowsProcessed = (c: {
    success: number;
    failed: number;
    ignored: number;
    created: number;
  }): Detail => ({
    localMessageText: `${forecastImport.name}: ${c.success} (${c.created}/${c.success - c.created}) rows successful, ${c.ignored} ignored `,
    occurrences: 0,
    type: 'hierarchyRowsProcessed',
    values: [
      'hierarchyName',
      forecastImport.name,
      'successRowCount',
      String(c.success),
      'successCreateCount',
      String(c.created),
      'successUpdateCount',
      String(c.success - c.created),
      'warningsRowCount',
      '0',
      'failedCount',
      String(c.failed),
      'ignoredCount',
      String(c.ignored),
      'totalRowCount',
      String(c.success + c.failed + c.ignored),
    ],
  });

  function runImport(task: Task): TaskResult {
    const file = forecastFile();
    const base = { objectId: forecastImport.id, failureDumpAvailable: false };
    if (!file.complete) {
      return {
        ...base,
        successful: false,
        details: [
          {
            localMessageText: 'The import data source has not been uploaded completely',
            occurrences: 0,
            type: 'missingData',
            values: [],
          },
        ],
      };
    }
    let header: string[] = [];
    const records = parseCsv(Buffer.concat(file.chunks), {
      bom: true,
      skip_empty_lines: true,
      columns: (h: string[]) => (header = h),
    }) as Record<string, string>[];
    const missing = IMPORT_COLUMNS.filter((c) => !header.includes(c));
    if (missing.length) {
      return {
        ...base,
        successful: false,
        details: [
          {
            localMessageText: `Missing columns: ${missing.join(', ')}`,
            occurrences: missing.length,
            type: 'invalidHeader',
            values: missing,
          },
        ],
      };
    }
    const dumpRows: string[][] = [];
    const counts = { success: 0, failed: 0, ignored: 0, created: 0 };
    // Where each version's cells are (account, cost center, period), so a large import reads each row once.
    const cells = new Map<string, Map<string, number>>();
    const cellKey = (x: { account: string; costCenter: string; period: string }) =>
      `${x.account}|${x.costCenter}|${x.period}`;
    records.forEach((r, i) => {
      const line = String(i + 2);
      // A row naming an item the model's list does not hold is ignored, with a warning in the dump.
      if (!r.Version || (accountList && !accountList.includes(r.Account!))) {
        counts.ignored++;
        const what = r.Version ? `Account: item not found: ${r.Account}` : 'Version: item not found';
        return void dumpRows.push(['W', ...IMPORT_COLUMNS.map((c) => r[c] ?? ''), line, what]);
      }
      if (!DECIMAL_PATTERN.test(r.Amount!)) {
        counts.failed++;
        return void dumpRows.push([
          'E',
          ...IMPORT_COLUMNS.map((c) => r[c] ?? ''),
          line,
          `Invalid number: ${r.Amount}`,
        ]);
      }
      const version = forecastVersions.get(r.Version) ?? { versionName: r.Version, rows: [] };
      forecastVersions.set(r.Version, version);
      const row = {
        account: r.Account!,
        costCenter: r['Cost Center']!,
        period: r.Period!,
        amount: r.Amount!,
        currency: r.Currency!,
        loadKey: r['Load Key']!,
      };
      let index = cells.get(r.Version);
      if (!index) {
        index = new Map(version.rows.map((x, at) => [cellKey(x), at]));
        cells.set(r.Version, index);
      }
      const at = index.get(cellKey(row));
      if (at !== undefined) version.rows[at] = row;
      else {
        index.set(cellKey(row), version.rows.length);
        version.rows.push(row);
        counts.created++;
      }
      counts.success++;
    });
    if (dumpRows.length) {
      task.dump = Buffer.from(
        writeCsv([['_Status_', ...IMPORT_COLUMNS, '_Line_', '_Error_1_'], ...dumpRows], {
          quoted: true,
          record_delimiter: 'windows',
        }),
      );
    }
    return {
      ...base,
      successful: true,
      failureDumpAvailable: dumpRows.length > 0,
      details: [rowsProcessed(counts)],
    };
  }

  // Downloads: the chunks of an export's output file.
  model.get('/files/:fileId/chunks', (req, res) => {
    const file = files.get(req.params.fileId!);
    if (!file?.complete) return failure(req, res, 404, 'Not Found');
    list(
      req,
      res,
      'chunks',
      'chunk',
      file.chunks.map((_c, i) => ({ id: String(i), name: `Chunk ${i}` })),
    );
  });
  model.get('/files/:fileId/chunks/:chunkId', (req, res) => {
    const chunk = files.get(req.params.fileId!)?.chunks[Number(req.params.chunkId)];
    if (!chunk) return failure(req, res, 404, 'Not Found');
    res.type('application/octet-stream').send(chunk);
  });

  // Uploads, to the import data source only.
  const uploadable = (req: Request, res: Response) => {
    if (req.params.fileId === FORECAST_FILE_ID) return true;
    failure(req, res, 404, 'Not Found');
    return false;
  };
  const fileBody = (req: Request, f: ServerFile) => ({
    meta: { schema: schema(req, 'file') },
    status: ok,
    file: {
      id: f.id,
      name: f.name,
      chunkCount: f.chunkCount === -1 ? -1 : f.chunks.length,
      ...SOURCE_FORMAT,
    },
  });
  model.post('/files/:fileId', express.json(), (req, res) => {
    if (!uploadable(req, res)) return;
    const parsed = z
      .object({ chunkCount: z.number().int().min(-1).max(1000) })
      .passthrough()
      .safeParse(req.body);
    if (!parsed.success || parsed.data.chunkCount === 0)
      return failure(req, res, 400, 'chunkCount must be -1 or the number of chunks (1 to 1,000)');
    const file: ServerFile = {
      id: FORECAST_FILE_ID,
      name: forecastFileName,
      chunkCount: parsed.data.chunkCount,
      chunks: [],
      complete: false,
    };
    files.set(FORECAST_FILE_ID, file);
    res.json(fileBody(req, file));
  });
  const raw = express.raw({ type: () => true, limit: '50mb' });
  model.put('/files/:fileId/chunks/:chunkId', raw, (req, res) => {
    if (!uploadable(req, res)) return;
    const file = files.get(FORECAST_FILE_ID);
    const index = Number(req.params.chunkId);
    if (!file || file.complete)
      return failure(req, res, 400, 'Set the chunk count (POST the file) before uploading chunks');
    if (!Number.isInteger(index) || index !== file.chunks.length) {
      // Chunks are loaded in sequential order, starting with chunk 0; a repeat of the last one replaces it.
      if (index !== file.chunks.length - 1)
        return failure(req, res, 400, `Chunk ${req.params.chunkId} is out of sequence`);
    }
    file.chunks[index] = req.body as Buffer;
    if (file.chunkCount > 0 && file.chunks.length === file.chunkCount) file.complete = true;
    res.status(204).end();
  });
  model.post('/files/:fileId/complete', express.json(), (req, res) => {
    if (!uploadable(req, res)) return;
    const file = files.get(FORECAST_FILE_ID);
    const parsed = z.object({ id: z.string() }).passthrough().safeParse(req.body);
    if (!parsed.success || parsed.data.id !== FORECAST_FILE_ID)
      return failure(req, res, 400, 'The body must be the file, with its id');
    if (!file || file.chunkCount !== -1 || file.chunks.length === 0)
      return failure(req, res, 400, 'No upload with chunkCount -1 is open for this file');
    file.complete = true;
    file.chunkCount = file.chunks.length;
    res.json(fileBody(req, file));
  });
  // The single-request upload, for small files.
  model.put('/files/:fileId', raw, (req, res) => {
    if (!uploadable(req, res)) return;
    files.set(FORECAST_FILE_ID, {
      id: FORECAST_FILE_ID,
      name: forecastFileName,
      chunkCount: 1,
      chunks: [req.body as Buffer],
      complete: true,
    });
    res.status(204).end();
  });
  model.use((req, res) => failure(req, res, 404, 'Not Found'));
  app.use('/2/0/workspaces/:ws/models/:model', model);

  const sim = {
    app,
    faults,
    /** Calls to the authentication API, for tests of the token lifecycle. */
    authCalls,
    listen: (port = 0, host = '127.0.0.1'): Promise<RunningServer> => serveSimulator(app, faults, port, host),
    /** Puts a budget version behind an export named as `exportName` says (the default naming otherwise). */
    putBudgetVersion(input: BudgetVersionSeed, exportName?: string) {
      const v = BudgetVersionSeed.parse(input);
      const name =
        exportName ?? `closeloop_budget_${v.legalEntity}_FY${v.fiscalYear}_${v.scenario}_v${v.version}`;
      const existing = [...exportsById.values()].find((e) => e.name === name);
      const id = existing?.id ?? String(nextExport++);
      exportsById.set(id, { id, name, version: v });
      persist();
    },
    /** The result and failure dump of the last import task, as the API reports them. */
    lastImportResult: () => lastImport?.result,
    lastDump: () => lastImport?.dump,
    forecasts(): ForecastVersion[] {
      return [...forecastVersions.values()];
    },
    expireTokens() {
      tokens.clear();
    },
    /** Changes the model's account list (undefined takes any account), as a modeller would. */
    setAccountList(accounts: string[] | undefined) {
      accountList = accounts;
    },
    reset() {
      exportsById = new Map();
      files = new Map();
      tasks = new Map();
      forecastVersions = new Map();
      tokens.clear();
      faults.clear();
      persist();
    },
  };

  app.put('/__sim/budget-versions', express.json({ limit: '20mb' }), (req, res) => {
    const parsed = BudgetVersionSeed.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.putBudgetVersion(parsed.data);
    res.status(204).end();
  });
  app.get('/__sim/forecasts', (_req, res) => void res.json({ forecasts: sim.forecasts() }));
  app.post('/__sim/reset', (_req, res) => {
    sim.reset();
    res.status(204).end();
  });
  return sim;
}

export type AnaplanSimulator = ReturnType<typeof createAnaplanSimulator>;
