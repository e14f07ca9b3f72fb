import { parse as parseCsv } from 'csv-parse/sync';
import express, { type Request, type Response } from 'express';
import { strFromU8, unzipSync } from 'fflate';
import { z } from 'zod';
import { listen, type RunningServer } from '../../api/listen';
import { fieldIssues } from '../../domain/zod-issues';
import { FaultInjector } from '../faults';
import { loadState, saveState } from '../state-file';

/**
 * Oracle Fusion Cloud's REST framework as its published reference describes it, for the resources closeloop
 * uses so far: `accountingPeriodStatusLOV` (a ledger's periods and their General Ledger status),
 * `erpintegrations`' ESS job status finder (`ESSJobStatusRF`), and budgetary control's budget entries
 * (`budgetaryControlBudgetTransactions`, POST only, each funds-checked and, when it passes and reserves,
 * applied to its control budget's balances; `budgetaryControlResultsBudgetTransactions/{TransactionNumber}`,
 * its result), and a ledger's books: posted journals (`journalBatches`, their `journalHeaders` and
 * `journalLines`), purchase orders (`purchaseOrders` with `lines`, `schedules`, `distributions`), daily
 * conversion rates (`currencyRates`) and the chart's value sets (`valueSets/{code}/child/values`). It answers
 * collections with `{ items, count, hasMore, limit, offset, links }`, pages by `limit`/`offset`, filters by `q`
 * (query-by-example `Attr=value;Attr2=value` under framework version 1, the server's default; row-match
 * `Attr = value and Attr2 >= value` from version 2, chosen by the `REST-Framework-Version` header), sorts by
 * `orderBy` (`Attr:asc,Attr2:desc`), includes children named by `expand` (as arrays under version 2), selects
 * `fields`, writes amounts as JSON numbers, and takes HTTP Basic authentication. What Oracle does not document is a choice made here and
 * named in docs/compatibility.md: the largest page (500, as third parties report) and the error body (plain
 * text, as third parties report for 400s).
 */

export const REST_PATH = '/fscmRestApi/resources/11.13.18.05';
const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 25;

/** A budget entry transaction as Oracle's reference lists its attributes (code values: docs/compatibility.md). */
const BudgetTransactionBody = z.object({
  TransactionNumber: z.string().min(1).max(50),
  BudgetTransactionType: z.enum(['INITIAL', 'ADJUSTMENT']),
  BudgetAmountsMode: z.enum(['ADD', 'OVERWRITE']),
  BatchFundsAction: z.enum(['CHECK', 'RESERVE']),
  SourceBudget: z.string().min(1),
  BudgetTransactionPayload: z.string().min(1),
  ApprovalComments: z.string().max(2000).optional(),
  ApprovedBy: z.string().max(64).optional(),
});
const BudgetEntryLine = z.object({
  LineNumber: z.number().int().positive(),
  ControlBudget: z.string().min(1),
  ControlBudgetPeriod: z.string().min(1),
  BudgetAccount: z.string().min(1),
  TransactionAmount: z.string().regex(/^-?\d+(\.\d{1,2})?$/),
  CurrencyCode: z.string().regex(/^[A-Z]{3}$/),
});
const ControlBudgetRow = z.object({
  name: z.string().min(1),
  ledgerId: z.number().int(),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
/** Amounts are kept in cents: the simulated ledgers are in two-decimal currencies. */
const cents = (amount: string) => {
  const [whole, frac = ''] = amount.replace('-', '').split('.');
  const value = BigInt(whole!) * 100n + BigInt(frac.padEnd(2, '0'));
  return amount.startsWith('-') ? -value : value;
};
const decimal = (c: bigint) => {
  const abs = c < 0n ? -c : c;
  return `${c < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};

const Consumption = z.object({
  controlBudget: z.string().min(1),
  period: z.string().min(1),
  account: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/),
  amount: z.string().regex(/^\d+(\.\d{1,2})?$/),
});

export interface ControlBudgetBalance {
  controlBudget: string;
  period: string;
  account: string;
  currency: string;
  budget: string;
  consumed: string;
}

export interface OracleSimulatorOptions {
  username?: string;
  password?: string;
  /** How many reads of a new import job's state answer RUNNING before its end (default 1). */
  essReadsRunning?: number;
  /** Where its state is kept between runs (`npm start`); none: in memory only. */
  stateFile?: string;
}

const PeriodRow = z.object({
  PeriodNameId: z.string().min(1),
  ApplicationId: z.number().int(),
  LedgerId: z.number().int(),
  ClosingStatus: z.enum(['O', 'F', 'C', 'P', 'N']),
  StartDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  EndDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});
type Row = Record<string, unknown>;

type Comparison = [attr: string, op: '=' | '>=' | '<=' | '>' | '<', value: string];

/** The filter a `q` names: each attribute compared with one value (the forms closeloop and its users send). */
function parseQ(q: string, version: number): Comparison[] | string {
  const parts = version >= 2 ? q.split(/\s+and\s+/i) : q.split(';');
  const out: Comparison[] = [];
  for (const part of parts) {
    const m = (
      version >= 2
        ? /^\s*(\w+)\s*(>=|<=|=|>|<)\s*(?:'((?:[^']|'')*)'|([^\s']+))\s*$/
        : /^\s*(\w+)\s*(=)\s*()(.*?)\s*$/
    ).exec(part);
    if (!m) return `cannot parse q expression "${part}" under REST framework version ${version}`;
    out.push([
      m[1]!,
      m[2] as Comparison[1],
      version >= 2 && m[3] !== undefined ? m[3].replace(/''/g, "'") : m[4]!,
    ]);
  }
  return out;
}

const compare = (value: unknown, op: Comparison[1], against: string) => {
  const v = String(value);
  switch (op) {
    case '=':
      return v === against;
    case '>=':
      return v >= against;
    case '<=':
      return v <= against;
    case '>':
      return v > against;
    case '<':
      return v < against;
  }
};

const Money = z.string().regex(/^-?\d+(\.\d{1,2})?$/);
const JournalSeed = z.object({
  BatchName: z.string().min(1),
  PostedDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** The batch's journal source; Manual when not given. */
  UserJeSourceName: z.string().min(1).default('Manual'),
  journals: z
    .array(
      z.object({
        JournalName: z.string().min(1),
        LedgerName: z.string().min(1),
        CurrencyCode: z.string().regex(/^[A-Z]{3}$/),
        DefaultEffectiveDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        UserJeCategoryName: z.string().min(1).default('Adjustment'),
        lines: z
          .array(
            z.object({
              AccountCombination: z.string().min(1),
              EnteredDr: Money.optional(),
              EnteredCr: Money.optional(),
              Description: z.string().optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});
export type JournalSeed = z.input<typeof JournalSeed>;
const PurchaseOrderSeed = z.object({
  OrderNumber: z.string().min(1),
  Revision: z.number().int().nonnegative().default(0),
  StatusCode: z.enum(['OPEN', 'CLOSED', 'CANCELED', 'FINALLY CLOSED', 'INCOMPLETE']).default('OPEN'),
  SoldToLegalEntity: z.string().min(1),
  CurrencyCode: z.string().regex(/^[A-Z]{3}$/),
  lines: z.array(
    z.object({
      LineNumber: z.number().int().positive(),
      schedules: z.array(
        z.object({
          ScheduleNumber: z.number().int().positive(),
          distributions: z.array(
            z.object({
              DistributionNumber: z.number().int().positive(),
              POChargeAccount: z.string().min(1),
              BudgetDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
              Ordered: Money,
              AmountBilled: Money.default('0'),
            }),
          ),
        }),
      ),
    }),
  ),
});
export type PurchaseOrderSeed = z.input<typeof PurchaseOrderSeed>;
const RateSeed = z.object({
  FromCurrency: z.string().regex(/^[A-Z]{3}$/),
  ToCurrency: z.string().regex(/^[A-Z]{3}$/),
  UserConversionType: z.string().min(1),
  ConversionDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  ConversionRate: z.string().regex(/^\d+(\.\d+)?$/),
});
const ValueSeed = z.object({
  Value: z.string().min(1),
  Description: z.string().optional(),
  EnabledFlag: z.enum(['Y', 'N']).default('Y'),
  StartDateActive: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable()
    .default(null),
  EndDateActive: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable()
    .default(null),
  SummaryFlag: z.enum(['Y', 'N']).default('N'),
  AccountType: z.enum(['A', 'L', 'O', 'R', 'E']).optional(),
});

/** The GL budget load's job ("package,definition"), as third parties publish it (docs/compatibility.md). */
const GL_BUDGET_JOB =
  'oracle/apps/ess/financials/generalLedger/ledgers/ledgerDefinitions,ValidateAndLoadBudgets';
const ImportBulkData = z.object({
  OperationName: z.literal('importBulkData'),
  DocumentContent: z.string().min(1),
  ContentType: z.string().min(1),
  FileName: z.string().min(1),
  DocumentAccount: z.string().min(1),
  JobName: z.string().min(1),
  ParameterList: z.string().min(1),
  CallbackURL: z.string().optional(),
  NotificationCode: z.string().optional(),
  JobOptions: z.string().optional(),
});

/** The child collections each level of a resource may hold (lines hold schedules, schedules distributions). */
const CHILDREN = ['schedules', 'distributions'];

/** A row with its decimal strings written as the framework writes numbers. */
const withNumbers = (row: Row, keys: readonly string[]): Row =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, keys.includes(k) && typeof v === 'string' ? Number(v) : v]),
  );

export function createOracleSimulator(given: OracleSimulatorOptions = {}) {
  const options = { ...given };
  const username = options.username ?? 'closeloop';
  const password = options.password ?? 'dev-secret';
  const faults = new FaultInjector();
  let periods: Row[] = [];
  /** ESS requests by id: their state as the status finder answers it. */
  const essJobs = new Map<string, string>();
  let controlBudgets: z.infer<typeof ControlBudgetRow>[] = [];
  /** Budget and consumption (commitments, obligations, expenditures) per control budget, period and account. */
  const balances = new Map<string, { budget: bigint; consumed: bigint }>();
  const results = new Map<string, Row>();
  /** Posted journal batches by name, each with its id and journals. */
  let batches: (z.infer<typeof JournalSeed> & { JeBatchId: number })[] = [];
  let orders: (z.infer<typeof PurchaseOrderSeed> & { POHeaderId: number })[] = [];
  let rates: z.infer<typeof RateSeed>[] = [];
  const valueSets = new Map<string, z.infer<typeof ValueSeed>[]>();
  /** Ledger names by id: journals, balances and the GL budget interface name a ledger either way. */
  const ledgers = new Map<number, string>();
  /** GL budget balances by ledger id, budget, period, account combination and currency, in cents. */
  const budgetBalances = new Map<string, bigint>();
  /** Reads of a job's state still to answer RUNNING. */
  const essReads = new Map<string, number>();
  /** Interface rows a load could not take, with their errors (what the job's output would list). */
  let interfaceErrors: { runName: string; requestId: string; row: number; error: string }[] = [];
  interface Saved {
    periods: Row[];
    essJobs: [string, string][];
    controlBudgets: z.infer<typeof ControlBudgetRow>[];
    balances: [string, string, string][];
    results: [string, Row][];
    batches?: typeof batches;
    orders?: typeof orders;
    rates?: typeof rates;
    valueSets?: [string, z.infer<typeof ValueSeed>[]][];
    ledgers?: [number, string][];
    budgetBalances?: [string, string][];
    interfaceErrors?: typeof interfaceErrors;
  }
  const saved = loadState<Saved>(options.stateFile);
  if (saved) {
    periods = saved.periods;
    for (const [k, v] of saved.essJobs) essJobs.set(k, v);
    controlBudgets = saved.controlBudgets;
    for (const [k, budget, consumed] of saved.balances)
      balances.set(k, { budget: BigInt(budget), consumed: BigInt(consumed) });
    for (const [k, v] of saved.results) results.set(k, v);
    batches = saved.batches ?? [];
    orders = saved.orders ?? [];
    rates = saved.rates ?? [];
    for (const [k, v] of saved.valueSets ?? []) valueSets.set(k, v);
    for (const [k, v] of saved.ledgers ?? []) ledgers.set(k, v);
    for (const [k, v] of saved.budgetBalances ?? []) budgetBalances.set(k, BigInt(v));
    interfaceErrors = saved.interfaceErrors ?? [];
  }
  const persist = () =>
    saveState(
      options.stateFile,
      () =>
        ({
          periods,
          essJobs: [...essJobs],
          controlBudgets,
          balances: [...balances].map(([k, b]) => [k, String(b.budget), String(b.consumed)]),
          results: [...results],
          batches,
          orders,
          rates,
          valueSets: [...valueSets],
          ledgers: [...ledgers],
          budgetBalances: [...budgetBalances].map(([k, v]) => [k, String(v)]),
          interfaceErrors,
        }) satisfies Saved,
    );
  const balanceKey = (budget: string, period: string, account: string, currency: string) =>
    [budget, period, account, currency].join('|');

  const app = express();
  app.disable('x-powered-by');
  app.use(faults.router());
  app.put('/__sim/accounting-periods', express.json(), (req, res) => {
    const parsed = z.array(PeriodRow).safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid periods', issues: fieldIssues(parsed.error) });
      return;
    }
    periods = parsed.data;
    persist();
    res.status(204).end();
  });
  app.put('/__sim/ess-jobs/:requestId', express.json(), (req, res) => {
    const parsed = z.object({ state: z.string().min(1) }).safeParse(req.body);
    if (!parsed.success || !/^\d+$/.test(req.params.requestId)) {
      res.status(400).json({ error: 'a numeric request id and a state are required' });
      return;
    }
    essJobs.set(req.params.requestId, parsed.data.state);
    essReads.delete(req.params.requestId);
    persist();
    res.status(204).end();
  });
  app.put('/__sim/control-budgets', express.json(), (req, res) => {
    const parsed = z.array(ControlBudgetRow).safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid control budgets', issues: fieldIssues(parsed.error) });
      return;
    }
    controlBudgets = parsed.data;
    persist();
    res.status(204).end();
  });
  app.get('/__sim/control-budget-balances', (_req, res) => res.json(controlBudgetBalances()));
  app.put('/__sim/control-budget-consumption', express.json(), (req, res) => {
    const parsed = Consumption.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid consumption', issues: fieldIssues(parsed.error) });
      return;
    }
    setConsumption(parsed.data);
    res.status(204).end();
  });
  app.put('/__sim/journal-batches', express.json(), (req, res) => {
    const parsed = JournalSeed.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid journal batch', issues: fieldIssues(parsed.error) });
      return;
    }
    res.json({ JeBatchId: postJournalBatch(parsed.data) });
  });
  app.post('/__sim/reset', (_req, res) => {
    periods = [];
    essJobs.clear();
    controlBudgets = [];
    balances.clear();
    results.clear();
    batches = [];
    orders = [];
    rates = [];
    valueSets.clear();
    ledgers.clear();
    budgetBalances.clear();
    essReads.clear();
    interfaceErrors = [];
    faults.clear();
    persist();
    res.status(204).end();
  });

  app.use(
    REST_PATH,
    faults.middleware(() => 'The server could not process the request.'),
    (req, res, next) => {
      const [scheme, credentials] = (req.header('authorization') ?? '').split(' ');
      const [user, pass] = Buffer.from(credentials ?? '', 'base64')
        .toString()
        .split(':');
      if (scheme !== 'Basic' || user !== username || pass !== password) {
        res.status(401).setHeader('WWW-Authenticate', 'Basic realm="fusion"').send('Unauthorized');
        return;
      }
      next();
    },
  );

  /**
   * GET on a collection, as the framework answers it. `children` names the child collections a row may hold:
   * they are included only when `expand` asks for them (a nested `Child.Grandchild` includes both).
   */
  function collection(req: Request, res: Response, resource: string, rows: Row[], children: string[] = []) {
    const version = Number(req.header('rest-framework-version') ?? '1');
    const limit = Math.min(Number(req.query.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
    const offset = Number(req.query.offset ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
      res.status(400).send('The limit and offset query parameters must be non-negative integers.');
      return;
    }
    let matching = rows;
    if (typeof req.query.q === 'string') {
      const filter = parseQ(req.query.q, version);
      if (typeof filter === 'string') {
        res.status(400).send(filter);
        return;
      }
      matching = rows.filter((r) => filter.every(([attr, op, value]) => compare(r[attr], op, value)));
    }
    if (typeof req.query.orderBy === 'string') {
      const order = req.query.orderBy.split(',').map((o) => {
        const [attr, dir = 'asc'] = o.split(':');
        return { attr: attr!, sign: dir === 'desc' ? -1 : 1 };
      });
      matching = [...matching].sort((a, b) => {
        for (const { attr, sign } of order) {
          const x = a[attr] as string | number;
          const y = b[attr] as string | number;
          if (x < y) return -sign;
          if (x > y) return sign;
        }
        return 0;
      });
    }
    const expand = typeof req.query.expand === 'string' ? req.query.expand.split(',') : [];
    const expanded = (path: string) =>
      expand.some((e) => e === 'all' || e === path || e.startsWith(`${path}.`));
    const shape = (row: Row, prefix: string, kids: string[]): Row =>
      Object.fromEntries(
        Object.entries(row).flatMap(([k, v]) => {
          if (!kids.includes(k)) return [[k, v]];
          const path = prefix ? `${prefix}.${k}` : k;
          return expanded(path) ? [[k, (v as Row[]).map((c) => shape(c, path, CHILDREN))]] : [];
        }),
      );
    const fields = typeof req.query.fields === 'string' ? req.query.fields.split(',') : undefined;
    const items = matching
      .slice(offset, offset + limit)
      .map((r) => shape(r, '', children))
      .map((r) => (fields ? Object.fromEntries(fields.map((f) => [f, r[f]])) : r));
    const self = `${req.protocol}://${req.get('host')}${REST_PATH}/${resource}`;
    res.json({
      items,
      count: items.length,
      hasMore: offset + items.length < matching.length,
      limit,
      offset,
      links: [{ rel: 'self', href: self, name: resource, kind: 'collection' }],
    });
  }

  app.get(`${REST_PATH}/accountingPeriodStatusLOV`, (req, res) =>
    collection(req, res, 'accountingPeriodStatusLOV', periods),
  );

  // `finder=ESSJobStatusRF;requestId=<id>`: the request's state, one item (none for a request it does not know).
  app.get(`${REST_PATH}/erpintegrations`, (req, res) => {
    const finder = typeof req.query.finder === 'string' ? req.query.finder : '';
    const m = /^ESSJobStatusRF;requestId=(\d+)$/.exec(finder);
    if (!m) {
      res.status(400).send(`The finder ${finder || '(none)'} is not supported by this resource.`);
      return;
    }
    const running = essReads.get(m[1]!) ?? 0;
    if (running > 0) essReads.set(m[1]!, running - 1);
    const state = running > 0 ? 'RUNNING' : essJobs.get(m[1]!);
    collection(req, res, 'erpintegrations', state ? [{ ReqstId: m[1], RequestStatus: state }] : []);
  });

  /**
   * A budget entry: refused outright (400) when its body or payload cannot be read; otherwise recorded under its
   * transaction number with the result of budgetary control validation, whose failure changes no balance.
   * A transaction number already used is refused, as Oracle's key would be (its own answer is not documented).
   */
  app.post(`${REST_PATH}/budgetaryControlBudgetTransactions`, express.json(), (req, res) => {
    const parsed = BudgetTransactionBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).send(`The request body is not valid: ${JSON.stringify(fieldIssues(parsed.error))}`);
      return;
    }
    const t = parsed.data;
    if (results.has(t.TransactionNumber)) {
      res.status(400).send(`The budget entry transaction ${t.TransactionNumber} already exists.`);
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(t.BudgetTransactionPayload, 'base64').toString('utf8'));
    } catch {
      res.status(400).send('The BudgetTransactionPayload attribute is not valid JSON.');
      return;
    }
    const lines = z.array(BudgetEntryLine).min(1).safeParse(payload);
    if (!lines.success) {
      res
        .status(400)
        .send(
          `The BudgetTransactionPayload lines are not valid: ${JSON.stringify(fieldIssues(lines.error))}`,
        );
      return;
    }
    const errors: string[] = [];
    const changes = new Map<string, bigint>();
    for (const l of lines.data) {
      const budget = controlBudgets.find((b) => b.name === l.ControlBudget);
      if (!budget) {
        errors.push(`line ${l.LineNumber}: the control budget ${l.ControlBudget} does not exist`);
        continue;
      }
      const period = periods.find(
        (p) =>
          p.LedgerId === budget.ledgerId &&
          p.ApplicationId === 101 &&
          p.PeriodNameId === l.ControlBudgetPeriod,
      );
      if (!period || !['O', 'F', 'N'].includes(String(period.ClosingStatus))) {
        errors.push(
          `line ${l.LineNumber}: the budget period ${l.ControlBudgetPeriod} is not open for budget entries`,
        );
        continue;
      }
      if (l.CurrencyCode !== budget.currency) {
        errors.push(`line ${l.LineNumber}: the control budget ${budget.name} is in ${budget.currency}`);
        continue;
      }
      const key = balanceKey(l.ControlBudget, l.ControlBudgetPeriod, l.BudgetAccount, l.CurrencyCode);
      const held = balances.get(key) ?? { budget: 0n, consumed: 0n };
      const next =
        (changes.get(key) ?? held.budget) + (t.BudgetAmountsMode === 'ADD' ? cents(l.TransactionAmount) : 0n);
      changes.set(key, t.BudgetAmountsMode === 'OVERWRITE' ? cents(l.TransactionAmount) : next);
    }
    for (const [key, budget] of changes) {
      const consumed = balances.get(key)?.consumed ?? 0n;
      if (budget < consumed)
        errors.push(
          `${key.split('|').slice(1, 3).join(' ')}: funds available would be ${decimal(budget - consumed)}`,
        );
    }
    const failed = errors.length > 0;
    if (!failed && t.BatchFundsAction === 'RESERVE')
      for (const [key, budget] of changes)
        balances.set(key, { budget, consumed: balances.get(key)?.consumed ?? 0n });
    results.set(t.TransactionNumber, {
      TransactionNumber: t.TransactionNumber,
      BudgetTransactionType: t.BudgetTransactionType,
      FundsAction: t.BatchFundsAction,
      HeaderStatus: failed ? 'failed' : 'passed',
      BatchResult: failed ? 'failed' : 'success',
      BatchFatalErrorMessage: failed ? errors.join('; ') : null,
    });
    persist();
    res.status(201).json({ ...t });
  });

  /**
   * importBulkData: the file is taken (a zip, else 400) and its job submitted, answering the request id; the
   * job loads the GL budget interface rows and runs Validate and Upload Budgets, which sets each balance a valid
   * row names to its amount. It ends SUCCEEDED when every row loaded, WARNING when some did, ERROR when none
   * did (or the job is not the budget load); rows it could not take are kept with their errors.
   */
  app.post(`${REST_PATH}/erpintegrations`, express.json({ limit: '50mb' }), (req, res) => {
    const parsed = ImportBulkData.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).send(`The request body is not valid: ${JSON.stringify(fieldIssues(parsed.error))}`);
      return;
    }
    const body = parsed.data;
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(Buffer.from(body.DocumentContent, 'base64'));
    } catch {
      res.status(400).send('The DocumentContent attribute is not a valid zip file.');
      return;
    }
    const requestId = String(700_001 + essJobs.size);
    const csv = Object.entries(files).find(([name]) => name.toLowerCase().endsWith('.csv'))?.[1];
    const state =
      body.JobName.replace(/^\//, '') !== GL_BUDGET_JOB || !csv
        ? 'ERROR'
        : loadBudgetInterface(strFromU8(csv), body.ParameterList, requestId);
    essJobs.set(requestId, state);
    essReads.set(requestId, options.essReadsRunning ?? 1);
    persist();
    res.status(201).json({
      OperationName: body.OperationName,
      DocumentContent: null,
      FileName: body.FileName,
      DocumentAccount: body.DocumentAccount,
      JobName: body.JobName,
      ParameterList: body.ParameterList,
      ReqstId: requestId,
    });
  });

  /** The GL budget interface rows of a file, loaded: the job's end state. */
  function loadBudgetInterface(text: string, runName: string, requestId: string): string {
    let rows: string[][];
    try {
      rows = parseCsv(text, { relax_column_count: true }) as string[][];
    } catch {
      interfaceErrors.push({ runName, requestId, row: 0, error: 'the file is not CSV' });
      return 'ERROR';
    }
    let loaded = 0;
    rows.forEach((r, i) => {
      const error = interfaceRowError(r, runName);
      if (error) {
        interfaceErrors.push({ runName, requestId, row: i + 1, error });
        return;
      }
      const segments = r.slice(6, 36).filter((v) => v !== '');
      budgetBalances.set([r[2], r[3], r[4], segments.join('-'), r[5]].join('|'), cents(r[36]!));
      loaded++;
    });
    return loaded === rows.length ? 'SUCCEEDED' : loaded > 0 ? 'WARNING' : 'ERROR';
  }

  function interfaceRowError(r: string[], runName: string): string | undefined {
    if (r.length !== 38) return `has ${r.length} columns, not 38`;
    const [run, status, ledgerId, budget, period, currency] = r;
    if (run !== runName) return `RUN_NAME ${run} is not the run ${runName}`;
    if (status !== 'NEW') return `STATUS is ${status}, not NEW`;
    if (!ledgers.has(Number(ledgerId))) return `LEDGER_ID ${ledgerId} is not a ledger`;
    if (!budget) return 'BUDGET_NAME is blank';
    const p = periods.find(
      (x) => x.LedgerId === Number(ledgerId) && x.ApplicationId === 101 && x.PeriodNameId === period,
    );
    if (!p || !['O', 'F', 'N'].includes(String(p.ClosingStatus)))
      return `PERIOD_NAME ${period} is not Never Opened, Future Enterable or Open`;
    if (!/^[A-Z]{3}$/.test(currency ?? '')) return `CURRENCY_CODE ${currency} is not a currency`;
    if (!r.slice(6, 36).some((v) => v !== '')) return 'no SEGMENT is given';
    if (!/^-?\d+(\.\d{1,2})?$/.test(r[36] ?? '')) return `BUDGET_AMOUNT ${r[36]} is not an amount`;
    return undefined;
  }

  /** `finder=AccountBalanceFinder;…,mode=Detail`: each budget balance of the ledger's period and currency. */
  app.get(`${REST_PATH}/ledgerBalances`, (req, res) => {
    const finder = typeof req.query.finder === 'string' ? req.query.finder : '';
    const m = /^AccountBalanceFinder;(.*)$/.exec(finder);
    if (!m) {
      res.status(400).send(`The finder ${finder || '(none)'} is not supported by this resource.`);
      return;
    }
    const vars = Object.fromEntries(
      m[1]!.split(',').map((v) => {
        const i = v.indexOf('=');
        return [v.slice(0, i), v.slice(i + 1)];
      }),
    );
    const ledgerId = [...ledgers].find(([, name]) => name === vars.ledgerName)?.[0];
    const pattern = String(vars.accountCombination ?? '%').split('-');
    const rows = [...budgetBalances]
      .map(([key, amount]) => {
        const [ledger, budget, period, combination, currency] = key.split('|') as [
          string,
          string,
          string,
          string,
          string,
        ];
        return { ledger: Number(ledger), budget, period, combination, currency, amount };
      })
      .filter(
        (b) =>
          b.ledger === ledgerId &&
          b.period === vars.accountingPeriod &&
          b.currency === vars.currency &&
          b.combination.split('-').every((seg, i) => pattern[i] === '%' || pattern[i] === seg),
      )
      .map((b) => ({
        LedgerName: vars.ledgerName,
        PeriodName: b.period,
        Currency: b.currency,
        CurrencyType: 'Total',
        AmountType: 'PTD',
        DetailAccountCombination: b.combination,
        Scenario: b.budget,
        BudgetBalance: Number(decimal(b.amount)),
      }));
    collection(req, res, 'ledgerBalances', rows);
  });

  app.get(`${REST_PATH}/journalBatches`, (req, res) =>
    collection(
      req,
      res,
      'journalBatches',
      batches.map((b) => ({
        JeBatchId: b.JeBatchId,
        BatchName: b.BatchName,
        Status: 'P',
        PostedDate: b.PostedDate,
        UserJeSourceName: b.UserJeSourceName ?? 'Manual',
      })),
    ),
  );
  app.get(`${REST_PATH}/journalBatches/:id/child/journalHeaders`, (req, res) => {
    const batch = batches.find((b) => String(b.JeBatchId) === req.params.id);
    if (!batch) {
      res.status(404).send(`The journal batch ${req.params.id} was not found.`);
      return;
    }
    collection(
      req,
      res,
      'journalHeaders',
      batch.journals.map((j) => ({
        JournalName: j.JournalName,
        LedgerName: j.LedgerName,
        CurrencyCode: j.CurrencyCode,
        DefaultEffectiveDate: j.DefaultEffectiveDate,
        UserJeCategoryName: j.UserJeCategoryName ?? 'Adjustment',
        journalLines: j.lines.map((l, i) =>
          withNumbers(
            { JeLineNumber: i + 1, CurrencyCode: j.CurrencyCode, EnteredDr: null, EnteredCr: null, ...l },
            ['EnteredDr', 'EnteredCr'],
          ),
        ),
      })),
      ['journalLines'],
    );
  });
  app.get(`${REST_PATH}/purchaseOrders`, (req, res) =>
    collection(
      req,
      res,
      'purchaseOrders',
      orders.map((o) => ({
        ...o,
        Status: o.StatusCode === 'OPEN' ? 'Open' : o.StatusCode,
        lines: o.lines.map((l) => ({
          ...l,
          schedules: l.schedules.map((sc) => ({
            ...sc,
            distributions: sc.distributions.map((d) => withNumbers(d, ['Ordered', 'AmountBilled'])),
          })),
        })),
      })),
      ['lines'],
    ),
  );
  app.get(`${REST_PATH}/currencyRates`, (req, res) =>
    collection(
      req,
      res,
      'currencyRates',
      rates.map((r) => withNumbers(r, ['ConversionRate'])),
    ),
  );
  app.get(`${REST_PATH}/valueSets/:code/child/values`, (req, res) => {
    const values = valueSets.get(req.params.code);
    if (!values) {
      res.status(404).send(`The value set ${req.params.code} was not found.`);
      return;
    }
    collection(req, res, 'values', values);
  });

  app.get(`${REST_PATH}/budgetaryControlResultsBudgetTransactions/:number`, (req, res) => {
    const result = results.get(req.params.number);
    if (!result) {
      res.status(404).send(`The budget entry transaction ${req.params.number} was not found.`);
      return;
    }
    res.json(result);
  });

  /** What requisitions and orders have consumed of a control budget's balance (funds checks count it). */
  function setConsumption(c: z.infer<typeof Consumption>) {
    const key = balanceKey(c.controlBudget, c.period, c.account, c.currency);
    balances.set(key, { budget: balances.get(key)?.budget ?? 0n, consumed: cents(c.amount) });
    persist();
  }

  function controlBudgetBalances(): ControlBudgetBalance[] {
    return [...balances].map(([key, b]) => {
      const [controlBudget, period, account, currency] = key.split('|') as [string, string, string, string];
      return {
        controlBudget,
        period,
        account,
        currency,
        budget: decimal(b.budget),
        consumed: decimal(b.consumed),
      };
    });
  }

  /** Posts a journal batch (or replaces the one of the same name, keeping its id); its id. */
  function postJournalBatch(seed: JournalSeed): number {
    const batch = JournalSeed.parse(seed);
    const existing = batches.find((b) => b.BatchName === batch.BatchName);
    const JeBatchId = existing?.JeBatchId ?? 4_000_001 + batches.length;
    batches = [...batches.filter((b) => b !== existing), { ...batch, JeBatchId }];
    persist();
    return JeBatchId;
  }

  return {
    app,
    faults,
    controlBudgetBalances,
    /** Names the ledgers (by id) that balances and the GL budget interface refer to. */
    setLedgers(rows: { LedgerId: number; Name: string }[]) {
      for (const r of rows) ledgers.set(r.LedgerId, r.Name);
      persist();
    },
    /** GL budget balances of a ledger's budget, as decimal strings by period and account combination. */
    /** A GL budget balance changed in Oracle by hand (a planner's adjustment outside closeloop). */
    setBudgetBalance(b: {
      ledgerId: number;
      budget: string;
      period: string;
      combination: string;
      currency: string;
      amount: string;
    }) {
      budgetBalances.set(
        [b.ledgerId, b.budget, b.period, b.combination, b.currency].join('|'),
        cents(b.amount),
      );
      persist();
    },
    budgetBalances(ledgerId: number, budget: string) {
      return [...budgetBalances]
        .filter(([k]) => k.startsWith(`${ledgerId}|${budget}|`))
        .map(([k, v]) => {
          const [, , period, combination, currency] = k.split('|') as [
            string,
            string,
            string,
            string,
            string,
          ];
          return { period, combination, currency, amount: decimal(v) };
        });
    },
    interfaceErrors: () => [...interfaceErrors],
    /** Import jobs from now on answer RUNNING to this many reads before their end (a slow pod). */
    setEssReadsRunning(reads: number) {
      options.essReadsRunning = reads;
    },
    /** Every ESS request, with the state its next read would answer. */
    essRequests: () =>
      [...essJobs].map(([requestId, state]) => ({
        requestId,
        state: (essReads.get(requestId) ?? 0) > 0 ? 'RUNNING' : state,
      })),
    postJournalBatch,
    /** Adds or replaces purchase orders, by order number. */
    putPurchaseOrders(seeds: PurchaseOrderSeed[]) {
      for (const seed of seeds) {
        const order = PurchaseOrderSeed.parse(seed);
        const existing = orders.find((o) => o.OrderNumber === order.OrderNumber);
        const POHeaderId = existing?.POHeaderId ?? 300_100_001 + orders.length;
        orders = [...orders.filter((o) => o !== existing), { ...order, POHeaderId }];
      }
      persist();
    },
    /** Adds or replaces daily rates, by pair, type and day. */
    putRates(seeds: z.input<typeof RateSeed>[]) {
      for (const seed of seeds.map((r) => RateSeed.parse(r))) {
        rates = [
          ...rates.filter(
            (r) =>
              !(
                r.FromCurrency === seed.FromCurrency &&
                r.ToCurrency === seed.ToCurrency &&
                r.UserConversionType === seed.UserConversionType &&
                r.ConversionDate === seed.ConversionDate
              ),
          ),
          seed,
        ];
      }
      persist();
    },
    /** Sets a value set's values whole. */
    putValueSet(code: string, values: z.input<typeof ValueSeed>[]) {
      valueSets.set(code, z.array(ValueSeed).parse(values));
      persist();
    },
    setControlBudgets(rows: z.input<typeof ControlBudgetRow>[]) {
      controlBudgets = z.array(ControlBudgetRow).parse(rows);
      persist();
    },
    setConsumption,
    /** Ends (or moves) a job: its state is answered from the next read on. */
    setEssJobState(requestId: string, state: string) {
      essJobs.set(requestId, state);
      essReads.delete(requestId);
      persist();
    },
    accountingPeriods: () => z.array(PeriodRow).parse(periods),
    setAccountingPeriods(rows: z.input<typeof PeriodRow>[]) {
      periods = z.array(PeriodRow).parse(rows);
      persist();
    },
    listen: (port = 0): Promise<RunningServer> => listen(app, port),
  };
}

export type OracleSimulator = ReturnType<typeof createOracleSimulator>;
