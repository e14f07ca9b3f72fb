import { randomBytes } from 'node:crypto';
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
 * A stateful local Anaplan model behind the Integration API v2 shape: token authentication, exports and
 * imports that run as tasks and are polled, files moved in chunks, Anaplan-style error bodies, faults.
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
      account: z.string(),
      costCenter: z.string(),
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

const EXPORT_COLUMNS = ['Account', 'Cost Center', 'Period', 'Amount', 'Currency'];
const IMPORT_COLUMNS = ['Version', 'Account', 'Cost Center', 'Period', 'Amount', 'Currency', 'Load Key'];
const FORECAST_FILE = { id: '113000000001', name: 'closeloop_forecast_source.csv' };
const FORECAST_IMPORT = { id: '112000000001', name: 'closeloop_forecast_import' };

interface Task {
  taskId: string;
  polls: number;
  kind: 'export' | 'import';
  objectId: string;
  result?: {
    successful: boolean;
    details: { localMessageText: string; occurrences: number; type: string; values: string[] }[];
  };
}

const failure = (status: string, statusMessage: string) => ({ status, statusMessage });

export function createAnaplanSimulator(options: AnaplanSimulatorOptions = {}) {
  const username = options.username ?? 'closeloop';
  const password = options.password ?? 'dev-password';
  const workspaceId = options.workspaceId ?? '8a81b01068d1f2c0';
  const modelId = options.modelId ?? '75A40874E6B64FA3AE0743278996850F';
  const ttl = options.tokenTtlSeconds ?? 2100;
  const taskPolls = options.taskPolls ?? 2;
  const chunkSize = options.chunkSizeBytes ?? 65_536;
  const faults = new FaultInjector();

  const tokens = new Map<string, number>();
  let exportsById = new Map<string, { id: string; name: string; version: BudgetVersionSeed }>();
  let files = new Map<string, { name: string; chunks: Buffer[]; complete: boolean }>();
  let tasks = new Map<string, Task>();
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
    saveState(options.stateFile, {
      exports: [...exportsById.values()],
      forecasts: [...forecastVersions.values()],
      nextExport,
    });

  const app: Express = express();
  app.disable('x-powered-by');
  app.use(faults.router());

  const issueToken = () => {
    const tokenValue = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + ttl * 1000;
    tokens.set(tokenValue, expiresAt);
    return {
      status: 'SUCCESS',
      statusMessage: 'Login successful',
      tokenInfo: {
        expiresAt,
        tokenId: randomBytes(8).toString('hex'),
        tokenValue,
        refreshTokenId: randomBytes(8).toString('hex'),
      },
    };
  };
  const tokenOf = (req: Request) => /^AnaplanAuthToken (.+)$/.exec(req.header('authorization') ?? '')?.[1];
  const authorised = (req: Request, res: Response, next: NextFunction) => {
    const token = tokenOf(req);
    const expires = token ? tokens.get(token) : undefined;
    if (!expires || expires < Date.now())
      return void res
        .status(401)
        .json(failure('FAILURE_BAD_CREDENTIALS', 'The authentication token is missing, invalid or expired'));
    next();
  };

  app.post('/token/authenticate', (req, res) => {
    const basic = /^Basic (.+)$/.exec(req.header('authorization') ?? '')?.[1];
    const [user, pass] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
    if (user !== username || pass !== password)
      return void res.status(401).json(failure('FAILURE_BAD_CREDENTIALS', 'Invalid username or password'));
    res.status(201).json(issueToken());
  });
  app.post('/token/refresh', authorised, (req, res) => {
    tokens.delete(tokenOf(req)!);
    res.status(201).json(issueToken());
  });

  const model = express.Router({ mergeParams: true });
  model.use(authorised);
  model.use(
    faults.middleware((status) =>
      failure(
        status === 429 ? 'FAILURE_TOO_MANY_REQUESTS' : 'FAILURE_SERVICE_UNAVAILABLE',
        `Service returned ${status}`,
      ),
    ),
  );
  model.use((req, res, next) => {
    if (req.params.ws !== workspaceId || req.params.model !== modelId)
      return void res.status(404).json(failure('FAILURE_NOT_FOUND', 'Workspace or model not found'));
    next();
  });

  model.get('/exports', (_req, res) => {
    res.json({
      meta: { schema: 'export' },
      status: { code: 200, message: 'Success' },
      exports: [...exportsById.values()].map((e) => ({
        id: e.id,
        name: e.name,
        exportFormat: 'text/csv',
        encoding: 'UTF-8',
        layout: 'TABULAR_MULTI_COLUMN',
      })),
    });
  });
  const startTask = (kind: Task['kind'], objectId: string) => {
    const task: Task = { taskId: randomBytes(16).toString('hex').toUpperCase(), polls: 0, kind, objectId };
    tasks.set(task.taskId, task);
    return { task: { taskId: task.taskId, taskState: 'NOT_STARTED', creationTime: Date.now() } };
  };
  model.post('/exports/:exportId/tasks', express.json(), (req, res) => {
    if (!exportsById.has(req.params.exportId!))
      return void res
        .status(404)
        .json(failure('FAILURE_NOT_FOUND', `Export ${req.params.exportId} not found`));
    res.json(startTask('export', req.params.exportId!));
  });
  model.get('/exports/:exportId/tasks/:taskId', (req, res) => pollTask(req.params.taskId!, res));
  model.post('/imports/:importId/tasks', express.json(), (req, res) => {
    if (req.params.importId !== FORECAST_IMPORT.id)
      return void res
        .status(404)
        .json(failure('FAILURE_NOT_FOUND', `Import ${req.params.importId} not found`));
    res.json(startTask('import', FORECAST_FILE.id));
  });
  model.get('/imports/:importId/tasks/:taskId', (req, res) => pollTask(req.params.taskId!, res));
  model.get('/imports', (_req, res) => {
    res.json({
      imports: [
        {
          id: FORECAST_IMPORT.id,
          name: FORECAST_IMPORT.name,
          importDataSourceId: FORECAST_FILE.id,
          importType: 'MODULE_DATA',
        },
      ],
    });
  });

  function pollTask(taskId: string, res: Response) {
    const task = tasks.get(taskId);
    if (!task) return void res.status(404).json(failure('FAILURE_NOT_FOUND', `Task ${taskId} not found`));
    task.polls++;
    if (task.polls <= taskPolls)
      return void res.json({
        task: { taskId, taskState: 'IN_PROGRESS', progress: task.polls / (taskPolls + 1) },
      });
    if (!task.result) {
      task.result = task.kind === 'export' ? runExport(task.objectId) : runImport();
      if (task.kind === 'import') persist();
    }
    res.json({
      task: {
        taskId,
        taskState: 'COMPLETE',
        progress: 1,
        result: { ...task.result, objectId: task.objectId, failureDumpAvailable: !task.result.successful },
      },
    });
  }

  function runExport(exportId: string): NonNullable<Task['result']> {
    const e = exportsById.get(exportId)!;
    const csv = Buffer.from(
      writeCsv(
        [
          EXPORT_COLUMNS,
          ...e.version.rows.map((r) => [r.account, r.costCenter, r.period, r.amount, r.currency]),
        ],
        { record_delimiter: 'windows' },
      ),
    );
    const chunks: Buffer[] = [];
    for (let i = 0; i < csv.length; i += chunkSize) chunks.push(csv.subarray(i, i + chunkSize));
    files.set(exportId, { name: `${e.name}.csv`, chunks, complete: true });
    return {
      successful: true,
      details: [
        {
          localMessageText: `${e.version.rows.length} rows exported`,
          occurrences: e.version.rows.length,
          type: 'exportSucceeded',
          values: [],
        },
      ],
    };
  }

  function runImport(): NonNullable<Task['result']> {
    const file = files.get(FORECAST_FILE.id);
    if (!file?.complete)
      return {
        successful: false,
        details: [
          {
            localMessageText: 'The import data source has not been uploaded',
            occurrences: 0,
            type: 'missingData',
            values: [],
          },
        ],
      };
    let header: string[] = [];
    const records = parseCsv(Buffer.concat(file.chunks), {
      bom: true,
      skip_empty_lines: true,
      columns: (h: string[]) => (header = h),
    }) as Record<string, string>[];
    const missing = IMPORT_COLUMNS.filter((c) => !header.includes(c));
    if (missing.length)
      return {
        successful: false,
        details: [
          {
            localMessageText: `Missing columns: ${missing.join(', ')}`,
            occurrences: 0,
            type: 'invalidHeader',
            values: missing,
          },
        ],
      };
    let changed = 0;
    let unchanged = 0;
    const failed: string[] = [];
    records.forEach((r, i) => {
      if (!DECIMAL_PATTERN.test(r.Amount!))
        return void failed.push(`row ${i + 2}: "${r.Amount}" is not a number`);
      const version = forecastVersions.get(r.Version!) ?? { versionName: r.Version!, rows: [] };
      forecastVersions.set(r.Version!, version);
      const row = {
        account: r.Account!,
        costCenter: r['Cost Center']!,
        period: r.Period!,
        amount: r.Amount!,
        currency: r.Currency!,
        loadKey: r['Load Key']!,
      };
      const at = version.rows.findIndex(
        (x) => x.account === row.account && x.costCenter === row.costCenter && x.period === row.period,
      );
      if (at >= 0 && version.rows[at]!.amount === row.amount && version.rows[at]!.currency === row.currency)
        unchanged++;
      else {
        if (at >= 0) version.rows[at] = row;
        else version.rows.push(row);
        changed++;
      }
    });
    return {
      successful: failed.length === 0,
      details: [
        {
          localMessageText: `${changed} rows successful, ${unchanged} rows unchanged, ${failed.length} rows failed`,
          occurrences: records.length,
          type: 'rowsProcessed',
          values: [String(changed), String(unchanged), String(failed.length)],
        },
        ...failed.map((f) => ({ localMessageText: f, occurrences: 1, type: 'rowFailure', values: [] })),
      ],
    };
  }

  model.get('/files', (_req, res) => {
    const listed = [...files.entries()].map(([id, f]) => ({ id, name: f.name, chunkCount: f.chunks.length }));
    if (!files.has(FORECAST_FILE.id))
      listed.push({ id: FORECAST_FILE.id, name: FORECAST_FILE.name, chunkCount: 0 });
    res.json({ files: listed });
  });
  model.get('/files/:fileId/chunks', (req, res) => {
    const file = files.get(req.params.fileId!);
    if (!file)
      return void res.status(404).json(failure('FAILURE_NOT_FOUND', `File ${req.params.fileId} not found`));
    res.json({ chunks: file.chunks.map((_c, i) => ({ id: String(i), name: `Chunk ${i}` })) });
  });
  model.get('/files/:fileId/chunks/:chunkId', (req, res) => {
    const chunk = files.get(req.params.fileId!)?.chunks[Number(req.params.chunkId)];
    if (!chunk)
      return void res.status(404).json(failure('FAILURE_NOT_FOUND', `Chunk ${req.params.chunkId} not found`));
    res.type('application/octet-stream').send(chunk);
  });
  const raw = express.raw({ type: () => true, limit: '50mb' });
  const uploadTarget = (req: Request, res: Response) => {
    if (req.params.fileId !== FORECAST_FILE.id)
      return void res
        .status(404)
        .json(failure('FAILURE_NOT_FOUND', `File ${req.params.fileId} is not an import data source`));
    return true;
  };
  model.put('/files/:fileId/chunks/:chunkId', raw, (req, res) => {
    if (!uploadTarget(req, res)) return;
    const file = files.get(FORECAST_FILE.id);
    const index = Number(req.params.chunkId);
    const chunks = index === 0 || !file || file.complete ? [] : file.chunks;
    chunks[index] = req.body as Buffer;
    files.set(FORECAST_FILE.id, { name: FORECAST_FILE.name, chunks, complete: false });
    res.status(204).end();
  });
  model.post('/files/:fileId/complete', express.json(), (req, res) => {
    if (!uploadTarget(req, res)) return;
    const parsed = z
      .object({ id: z.string(), name: z.string(), chunkCount: z.number().int().positive() })
      .safeParse(req.body);
    const file = files.get(FORECAST_FILE.id);
    if (!parsed.success || !file || file.chunks.length !== parsed.data.chunkCount) {
      return void res
        .status(400)
        .json(
          failure(
            'FAILURE_BAD_REQUEST',
            'complete needs { id, name, chunkCount } matching the uploaded chunks',
          ),
        );
    }
    file.complete = true;
    res.json({ file: { id: FORECAST_FILE.id, name: FORECAST_FILE.name, chunkCount: file.chunks.length } });
  });
  model.put('/files/:fileId', raw, (req, res) => {
    if (!uploadTarget(req, res)) return;
    files.set(FORECAST_FILE.id, { name: FORECAST_FILE.name, chunks: [req.body as Buffer], complete: true });
    res.status(204).end();
  });
  model.use((_req, res) => void res.status(404).json(failure('FAILURE_NOT_FOUND', 'Resource not found')));
  app.use('/2/0/workspaces/:ws/models/:model', model);

  const sim = {
    app,
    faults,
    listen: (port = 0, host = '127.0.0.1'): Promise<RunningServer> => serveSimulator(app, faults, port, host),
    putBudgetVersion(input: BudgetVersionSeed) {
      const v = BudgetVersionSeed.parse(input);
      const name = `closeloop_budget_${v.legalEntity}_FY${v.fiscalYear}_${v.scenario}_v${v.version}`;
      const existing = [...exportsById.values()].find((e) => e.name === name);
      const id = existing?.id ?? String(nextExport++);
      exportsById.set(id, { id, name, version: v });
      persist();
    },
    forecasts(): ForecastVersion[] {
      return [...forecastVersions.values()];
    },
    expireTokens() {
      tokens.clear();
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
