import { randomUUID } from 'node:crypto';
import express, { type Response } from 'express';
import { z } from 'zod';
import { listen, type RunningServer } from '../../api/listen';
import { FaultInjector } from '../faults';
import { loadState, saveState } from '../state-file';

/**
 * SAP S/4HANA's OData V2 services as SAP Gateway serves them, for what closeloop uses: plan data
 * (`API_FINPLANNINGDATA_SRV`, entity set `FinancialPlanData`, create only: a deep insert of entry items whose
 * replace scope — `PlanDataRplcScopeFieldsString`, derived from the aggregation level when empty — says which
 * plan data already there it replaces) read back through `API_FINPLANNINGENTRYITEM_SRV`
 * (`A_FinPlanningEntryItem`); and an entity's books: journal entry items (`API_OPLACCTGDOCITEMCUBE_SRV`),
 * purchase orders with their items, account assignments and schedule lines (`API_PURCHASEORDER_PROCESS_SRV`),
 * exchange rates, cost centers and G/L accounts. Like Gateway it issues a CSRF token with the session cookies on a request with
 * `x-csrf-token: Fetch`, refuses a change without a valid pair (403, `x-csrf-token: Required`), answers
 * collections as `{ d: { results, __next } }` paged by a server-side `$skiptoken`, takes `$batch`
 * (`multipart/mixed`, each change set all or nothing, a failed one answered by one error response in its
 * place), and writes errors as `{ error: { code, message: { lang, value }, innererror: { errordetails } } }`.
 */

const ROOT = '/sap/opu/odata/sap';
const PLAN_SRV = `${ROOT}/API_FINPLANNINGDATA_SRV`;
const PLAN_READ_SRV = `${ROOT}/API_FINPLANNINGENTRYITEM_SRV`;

const Decimal = z.string().regex(/^-?\d{1,21}(\.\d{1,3})?$/, 'must be a decimal with at most 3 decimals');
const EntryItem = z.object({
  Ledger: z.string().max(2).optional(),
  PlanningCategory: z.string().min(1).max(10),
  LedgerFiscalYear: z.string().regex(/^\d{4}$/),
  CompanyCode: z.string().min(1).max(4),
  FiscalYearPeriod: z.string().regex(/^\d{3}\.\d{4}$/, 'must be PPP.YYYY'),
  GLAccount: z.string().min(1).max(10),
  CostCenter: z.string().max(10).optional(),
  ProfitCenter: z.string().max(10).optional(),
  FunctionalArea: z.string().max(16).optional(),
  Segment: z.string().max(10).optional(),
  WBSElement: z.string().max(24).optional(),
  CompanyCodeCurrency: z.string().regex(/^[A-Z]{3}$/),
  AmountInCompanyCodeCurrency: Decimal,
});
type EntryItem = z.infer<typeof EntryItem>;
const PlanData = z.object({
  PlanDataAggrgnLvlFieldsString: z.string().min(1),
  PlanDataRplcScopeFieldsString: z.string().default(''),
  to_FinPlanningEntryItemTP: z.object({ results: z.array(z.unknown()).min(1) }),
});

export interface CompanyCode {
  CompanyCode: string;
  Currency: string;
  FiscalYearVariant: string;
  /** The special periods (13–16) the variant has, 0 to 4. */
  specialPeriods: number;
}

/** A journal entry item as the accounting document cube holds it (dates as ISO days). */
export interface JournalItemSeed {
  CompanyCode: string;
  FiscalYear: string;
  AccountingDocument: string;
  AccountingDocumentItem: string;
  PostingDate: string;
  AccountingDocumentCreationDate: string;
  GLAccount: string;
  CostCenter?: string;
  TransactionCurrency: string;
  AmountInTransactionCurrency: string;
  IsBalanceSheetAccount?: boolean;
  PurchasingDocument?: string;
  PurchasingDocumentItem?: string;
  DocumentItemText?: string;
}

export interface SapSimulatorOptions {
  username?: string;
  password?: string;
  /** Items per page the server answers before paging with `__next` (Gateway's own page size). */
  serverPageSize?: number;
  stateFile?: string;
}

interface ErrorDetail {
  code: string;
  message: string;
  propertyref: string;
  severity: 'error' | 'warning' | 'info';
}

class ODataError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

const errorBody = (e: ODataError) => ({
  error: {
    code: e.code,
    message: { lang: 'en', value: e.message },
    innererror: {
      application: {
        component_id: 'FI-GL-IS',
        service_namespace: '/SAP/',
        service_id: 'API_FINPLANNINGDATA_SRV',
        service_version: '0001',
      },
      transactionid: randomUUID().replace(/-/g, '').toUpperCase(),
      timestamp: new Date().toISOString().replace(/\D/g, '').slice(0, 14),
      errordetails: e.details.map((d) => ({ ...d, target: '' })),
    },
  },
});

/** An error body as the simulator writes one (the contract tests hold it against SAP's published shape). */
export const sapErrorBody = (code: string, message: string, details: ErrorDetail[] = []) =>
  errorBody(new ODataError(400, code, message, details));

type Comparison = { field: string; op: 'eq' | 'ne' | 'ge' | 'le' | 'gt' | 'lt'; value: string };

/**
 * A V2 `$filter` as closeloop and its users write one: comparisons (`eq`, `ne`, `ge`, `le`, `gt`, `lt`) of a
 * field with a string, a `datetime'…'` or a boolean, joined by `and`, alternatives of one field by `or`.
 */
function parseFilter(filter: string): Comparison[][] {
  return filter.split(/\s+and\s+/i).map((group) =>
    group
      .replace(/^\(|\)$/g, '')
      .split(/\s+or\s+/i)
      .map((part) => {
        const m =
          /^\s*(\w+)\s+(eq|ne|ge|le|gt|lt)\s+(?:'((?:[^']|'')*)'|datetime'(\d{4}-\d{2}-\d{2})T[\d:.]+'|(true|false))\s*$/.exec(
            part,
          );
        if (!m) throw new ODataError(400, '/IWBEP/CM_MGW_RT/022', `Invalid filter expression: '${part}'`);
        return {
          field: m[1]!,
          op: m[2] as Comparison['op'],
          value: m[3]?.replace(/''/g, "'") ?? m[4] ?? m[5]!,
        };
      }),
  );
}

function matches(row: Record<string, unknown>, filter: Comparison[][]): boolean {
  return filter.every((group) =>
    group.some(({ field, op, value }) => {
      const v = String(row[field] ?? '');
      return op === 'eq'
        ? v === value
        : op === 'ne'
          ? v !== value
          : op === 'ge'
            ? v >= value
            : op === 'le'
              ? v <= value
              : op === 'gt'
                ? v > value
                : v < value;
    }),
  );
}

/** A row as V2 writes it: every `…Date` field as `/Date(ms)/`, children as `{ results }`. */
function v2(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => {
      if (Array.isArray(v)) return [k, { results: v.map((c) => v2(c as Record<string, unknown>)) }];
      if (/Date$/.test(k) && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v))
        return [k, `/Date(${Date.parse(`${v}T00:00:00Z`)})/`];
      return [k, v];
    }),
  );
}

export function createSapSimulator(options: SapSimulatorOptions = {}) {
  const username = options.username ?? 'CLOSELOOP';
  const password = options.password ?? 'dev-secret';
  const serverPageSize = options.serverPageSize ?? 5000;
  const faults = new FaultInjector();
  /** Session id → its CSRF token. */
  const sessions = new Map<string, string>();
  let companyCodes: CompanyCode[] = [];
  let entries: (EntryItem & { ID: string })[] = [];
  /** The books: rows as the read services answer them (dates as ISO days until written out). */
  let journalItems: Record<string, unknown>[] = [];
  let purchaseOrders: Record<string, unknown>[] = [];
  let exchangeRates: Record<string, unknown>[] = [];
  let costCenters: Record<string, unknown>[] = [];
  let glAccounts: Record<string, unknown>[] = [];
  interface Saved {
    companyCodes: CompanyCode[];
    entries: typeof entries;
    journalItems?: typeof journalItems;
    purchaseOrders?: typeof purchaseOrders;
    exchangeRates?: typeof exchangeRates;
    costCenters?: typeof costCenters;
    glAccounts?: typeof glAccounts;
  }
  const saved = loadState<Saved>(options.stateFile);
  if (saved) {
    companyCodes = saved.companyCodes;
    entries = saved.entries;
    journalItems = saved.journalItems ?? [];
    purchaseOrders = saved.purchaseOrders ?? [];
    exchangeRates = saved.exchangeRates ?? [];
    costCenters = saved.costCenters ?? [];
    glAccounts = saved.glAccounts ?? [];
  }
  const persist = () =>
    saveState(
      options.stateFile,
      () =>
        ({
          companyCodes,
          entries,
          journalItems,
          purchaseOrders,
          exchangeRates,
          costCenters,
          glAccounts,
        }) satisfies Saved,
    );
  /** Rows replaced by their keys: a seed loaded again changes nothing. */
  const upsert = (rows: Record<string, unknown>[], add: Record<string, unknown>[], keys: string[]) => [
    ...rows.filter((r) => !add.some((a) => keys.every((k) => a[k] === r[k]))),
    ...add,
  ];

  const app = express();
  app.disable('x-powered-by');
  app.use(faults.router());
  app.post('/__sim/reset', (_req, res) => {
    sessions.clear();
    entries = [];
    journalItems = [];
    purchaseOrders = [];
    exchangeRates = [];
    costCenters = [];
    glAccounts = [];
    faults.clear();
    persist();
    res.status(204).end();
  });
  app.use(
    ROOT,
    faults.middleware(() => errorBody(new ODataError(500, '/IWFND/CM_BEC/026', 'Internal server error'))),
  );
  app.use(ROOT, (req, res, next) => {
    const [scheme, credentials] = (req.header('authorization') ?? '').split(' ');
    const [user, pass] = Buffer.from(credentials ?? '', 'base64')
      .toString()
      .split(':');
    if (scheme !== 'Basic' || user !== username || pass !== password) {
      res
        .status(401)
        .setHeader('WWW-Authenticate', 'Basic realm="SAP NetWeaver Application Server"')
        .send('Logon failed');
      return;
    }
    next();
  });

  /** A token is handed out, with a new session, to any request that asks for one. */
  app.use(ROOT, (req, res, next) => {
    if (req.header('x-csrf-token')?.toLowerCase() !== 'fetch') return next();
    const session = randomUUID();
    const token = randomUUID().replace(/-/g, '').slice(0, 24);
    sessions.set(session, token);
    res.setHeader('x-csrf-token', token);
    res.append('set-cookie', `SAP_SESSIONID_S4H_100=${session}; path=/; HttpOnly`);
    res.append('set-cookie', 'sap-usercontext=sap-client=100; path=/');
    if (req.method === 'HEAD' || req.method === 'GET') {
      res.status(200).end();
      return;
    }
    next();
  });

  /** A change needs the token of the session its cookie names. */
  app.use(ROOT, (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const session = /SAP_SESSIONID_S4H_100=([^;\s]+)/.exec(req.header('cookie') ?? '')?.[1];
    const token = session ? sessions.get(session) : undefined;
    if (!token || token !== req.header('x-csrf-token')) {
      res.status(403).setHeader('x-csrf-token', 'Required');
      res.type('text/plain').send('CSRF token validation failed');
      return;
    }
    next();
  });

  function send(res: Response, fn: () => { status: number; body: unknown }) {
    try {
      const out = fn();
      res.status(out.status).json(out.body);
    } catch (err) {
      if (err instanceof ODataError) res.status(err.status).json(errorBody(err));
      else throw err;
    }
  }

  /**
   * A deep insert of plan data: every item checked (a refusal names each bad item's property), then the plan
   * data in each item's replace scope removed and the items stored, aggregated by the aggregation level.
   */
  function createPlanData(body: unknown): { status: number; body: unknown } {
    const parsed = PlanData.safeParse(body);
    if (!parsed.success)
      throw new ODataError(400, '/IWBEP/CM_MGW_RT/020', 'The request body is not valid FinancialPlanData');
    const aggregation = parsed.data.PlanDataAggrgnLvlFieldsString.split(',').map((f) => f.trim());
    const scopeFields = parsed.data.PlanDataRplcScopeFieldsString
      ? parsed.data.PlanDataRplcScopeFieldsString.split(',').map((f) => f.trim())
      : aggregation.filter((f) => !f.startsWith('Amount') && !f.endsWith('Currency'));
    const details: ErrorDetail[] = [];
    const items: EntryItem[] = [];
    parsed.data.to_FinPlanningEntryItemTP.results.forEach((raw, i) => {
      const item = EntryItem.safeParse(raw);
      const ref = (field: string) => `to_FinPlanningEntryItemTP/${i + 1}/${field}`;
      if (!item.success) {
        for (const issue of item.error.issues)
          details.push({
            code: 'FINS_PLAN/010',
            message: issue.message,
            propertyref: ref(String(issue.path[0])),
            severity: 'error',
          });
        return;
      }
      const company = companyCodes.find((c) => c.CompanyCode === item.data.CompanyCode);
      if (!company) {
        details.push({
          code: 'FINS_PLAN/011',
          message: `Company code ${item.data.CompanyCode} does not exist`,
          propertyref: ref('CompanyCode'),
          severity: 'error',
        });
        return;
      }
      if (company.Currency !== item.data.CompanyCodeCurrency)
        details.push({
          code: 'FINS_PLAN/012',
          message: `Company code currency is ${company.Currency}`,
          propertyref: ref('CompanyCodeCurrency'),
          severity: 'error',
        });
      const [period, year] = item.data.FiscalYearPeriod.split('.');
      if (year !== item.data.LedgerFiscalYear)
        details.push({
          code: 'FINS_PLAN/013',
          message: `Period ${item.data.FiscalYearPeriod} is not in fiscal year ${item.data.LedgerFiscalYear}`,
          propertyref: ref('FiscalYearPeriod'),
          severity: 'error',
        });
      const p = Number(period);
      if (p < 1 || p > 12 + company.specialPeriods)
        details.push({
          code: 'FINS_PLAN/014',
          message: `Fiscal year variant ${company.FiscalYearVariant} has no period ${period}`,
          propertyref: ref('FiscalYearPeriod'),
          severity: 'error',
        });
      items.push(item.data);
    });
    if (details.length)
      throw new ODataError(400, 'FINS_PLAN/010', 'Plan data could not be imported', details);
    const scopeOf = (e: Record<string, unknown>) => scopeFields.map((f) => String(e[f] ?? '')).join('|');
    const scopes = new Set(items.map(scopeOf));
    const aggregated = new Map<string, EntryItem>();
    for (const item of items) {
      const key = aggregation
        .filter((f) => !f.startsWith('Amount'))
        .map((f) => String((item as Record<string, unknown>)[f] ?? ''))
        .join('|');
      const prior = aggregated.get(key);
      aggregated.set(
        key,
        prior
          ? {
              ...prior,
              AmountInCompanyCodeCurrency: addDecimals(
                prior.AmountInCompanyCodeCurrency,
                item.AmountInCompanyCodeCurrency,
              ),
            }
          : item,
      );
    }
    entries = [
      ...entries.filter((e) => !scopes.has(scopeOf(e))),
      ...[...aggregated.values()].map((e) => ({ ...e, ID: randomUUID() })),
    ];
    persist();
    return {
      status: 201,
      body: {
        d: {
          PlanDataAggrgnLvlFieldsString: aggregation.join(','),
          PlanDataRplcScopeFieldsString: scopeFields.join(','),
        },
      },
    };
  }

  app.post(`${PLAN_SRV}/FinancialPlanData`, express.json({ limit: '20mb' }), (req, res) =>
    send(res, () => createPlanData(req.body)),
  );

  /** `$batch`: each change set all or nothing; a failed one answered by its one error response. */
  app.post(`${PLAN_SRV}/$batch`, express.text({ type: 'multipart/mixed', limit: '20mb' }), (req, res) => {
    const boundary = /boundary=([^;\s]+)/.exec(req.header('content-type') ?? '')?.[1];
    if (!boundary || typeof req.body !== 'string') {
      res
        .status(400)
        .json(errorBody(new ODataError(400, '/IWFND/CM_BEC/010', 'The batch request has no boundary')));
      return;
    }
    const out: string[] = [];
    const responseBoundary = `batch_${randomUUID()}`;
    for (const part of partsOf(req.body, boundary)) {
      const changeSet = /boundary=([^;\s]+)/.exec(part.split(/\r?\n\r?\n/)[0]!)?.[1];
      const requests = changeSet ? partsOf(part, changeSet) : [part];
      const before = entries;
      const answers: string[] = [];
      let failed: string | undefined;
      for (const r of requests) {
        const [, , ...rest] = r.split(/\r?\n\r?\n/);
        const requestLine = r.split(/\r?\n/).find((l) => /^(GET|POST|PUT|PATCH|DELETE) /.test(l)) ?? '';
        const [method, path] = requestLine.split(' ');
        const bodyText = rest.join('\n\n').trim();
        let result: { status: number; body: unknown };
        try {
          if (method !== 'POST' || !path?.endsWith('/FinancialPlanData'))
            throw new ODataError(405, '/IWBEP/CM_MGW_RT/004', `${method} ${path} is not supported`);
          result = createPlanData(bodyText ? JSON.parse(bodyText) : undefined);
        } catch (err) {
          const e =
            err instanceof ODataError
              ? err
              : new ODataError(400, '/IWBEP/CM_MGW_RT/020', 'The request body is not valid JSON');
          result = { status: e.status, body: errorBody(e) };
        }
        if (result.status >= 400 && changeSet) {
          failed = httpResponse(result);
          break;
        }
        answers.push(httpResponse(result));
      }
      if (failed) {
        entries = before;
        persist();
        out.push(`--${responseBoundary}`, failed);
      } else if (changeSet) {
        const cs = `changeset_${randomUUID()}`;
        out.push(
          `--${responseBoundary}`,
          `Content-Type: multipart/mixed; boundary=${cs}`,
          '',
          ...answers.flatMap((a) => [`--${cs}`, a]),
          `--${cs}--`,
        );
      } else out.push(`--${responseBoundary}`, ...answers);
    }
    out.push(`--${responseBoundary}--`, '');
    res.status(202).type(`multipart/mixed; boundary=${responseBoundary}`).send(out.join('\r\n'));
  });

  /**
   * GET of an entity set as Gateway answers it: filtered, ordered, paged at the server's own page size with a
   * `$skiptoken` in `__next`, children included only as `$expand` names them.
   */
  function readSet(path: string, rows: () => Record<string, unknown>[], children: string[] = []) {
    app.get(path, (req, res) =>
      send(res, () => {
        const filter = typeof req.query.$filter === 'string' ? parseFilter(req.query.$filter) : [];
        let matching = rows().filter((r) => matches(r, filter));
        if (typeof req.query.$orderby === 'string') {
          const keys = req.query.$orderby.split(',').map((k) => k.trim().split(/\s+/)[0]!);
          matching = [...matching].sort((a, b) => {
            for (const k of keys) {
              const x = String(a[k] ?? '');
              const y = String(b[k] ?? '');
              if (x !== y) return x < y ? -1 : 1;
            }
            return 0;
          });
        }
        const expand =
          typeof req.query.$expand === 'string' ? req.query.$expand.split(',').map((e) => e.trim()) : [];
        const shape = (row: Record<string, unknown>, prefix: string): Record<string, unknown> =>
          Object.fromEntries(
            Object.entries(row).flatMap(([k, v]) => {
              if (!children.includes(k)) return [[k, v]];
              const path = prefix ? `${prefix}/${k}` : k;
              return expand.includes(path)
                ? [[k, (v as Record<string, unknown>[]).map((c) => shape(c, path))]]
                : [];
            }),
          );
        const top = Math.min(Number(req.query.$top ?? serverPageSize), serverPageSize);
        const skip = Number(req.query.$skiptoken ?? req.query.$skip ?? 0);
        const page = matching.slice(skip, skip + top);
        const next = skip + page.length < matching.length && page.length === serverPageSize;
        const url = new URL(req.originalUrl, 'http://x');
        url.searchParams.delete('$skip');
        url.searchParams.set('$skiptoken', String(skip + page.length));
        return {
          status: 200,
          body: {
            d: {
              results: page.map((r) => v2(shape(r, ''))),
              ...(next ? { __next: `${req.protocol}://${req.get('host')}${url.pathname}${url.search}` } : {}),
            },
          },
        };
      }),
    );
  }

  readSet(`${PLAN_READ_SRV}/A_FinPlanningEntryItem`, () => entries);
  readSet(`${ROOT}/API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube`, () => journalItems);
  readSet(`${ROOT}/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder`, () => purchaseOrders, [
    'to_PurchaseOrderItem',
    'to_AccountAssignment',
    'to_ScheduleLine',
  ]);
  readSet(`${ROOT}/API_EXCHANGE_RATES_SRV/A_ExchangeRate`, () => exchangeRates);
  readSet(`${ROOT}/API_COSTCENTER_SRV/A_CostCenter`, () => costCenters, ['to_Text']);
  readSet(`${ROOT}/API_GLACCOUNTINCHARTOFACCOUNTS_SRV/A_GLAccountInChartOfAccounts`, () => glAccounts, [
    'to_Text',
  ]);

  return {
    app,
    faults,
    /** Every session ends (a logoff, a timeout): the tokens issued so far are no longer valid. */
    endSessions: () => sessions.clear(),
    setCompanyCodes(rows: CompanyCode[]) {
      companyCodes = rows;
      persist();
    },
    /** Posts accounting documents: their items, each a journal entry item of the cube. */
    postJournalEntries(items: JournalItemSeed[]) {
      journalItems = upsert(
        journalItems,
        items.map((i) => ({
          IsBalanceSheetAccount: false,
          PurchasingDocument: '',
          PurchasingDocumentItem: '',
          ...i,
        })),
        ['CompanyCode', 'FiscalYear', 'AccountingDocument', 'AccountingDocumentItem'],
      );
      persist();
    },
    putPurchaseOrders(orders: Record<string, unknown>[]) {
      purchaseOrders = upsert(purchaseOrders, orders, ['PurchaseOrder']);
      persist();
    },
    putExchangeRates(rows: Record<string, unknown>[]) {
      exchangeRates = upsert(exchangeRates, rows, [
        'ExchangeRateType',
        'SourceCurrency',
        'TargetCurrency',
        'ValidityStartDate',
      ]);
      persist();
    },
    putCostCenters(rows: Record<string, unknown>[]) {
      costCenters = upsert(costCenters, rows, ['ControllingArea', 'CostCenter', 'ValidityEndDate']);
      persist();
    },
    putGLAccounts(rows: Record<string, unknown>[]) {
      glAccounts = upsert(glAccounts, rows, ['ChartOfAccounts', 'GLAccount']);
      persist();
    },
    planData: (companyCode: string, category: string) =>
      entries.filter((e) => e.CompanyCode === companyCode && e.PlanningCategory === category),
    listen: (port = 0): Promise<RunningServer> => listen(app, port),
  };
}

export type SapSimulator = ReturnType<typeof createSapSimulator>;

function partsOf(text: string, boundary: string): string[] {
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => p.trim())
    .filter(Boolean);
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

function httpResponse(r: { status: number; body: unknown }): string {
  return [
    'Content-Type: application/http',
    'Content-Transfer-Encoding: binary',
    '',
    `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? ''}`.trim(),
    'Content-Type: application/json',
    '',
    JSON.stringify(r.body),
    '',
  ].join('\r\n');
}

function addDecimals(a: string, b: string): string {
  const milli = (s: string) => {
    const neg = s.startsWith('-');
    const [w, f = ''] = s.replace('-', '').split('.');
    const v = BigInt(w!) * 1000n + BigInt(f.padEnd(3, '0'));
    return neg ? -v : v;
  };
  const sum = milli(a) + milli(b);
  const abs = sum < 0n ? -sum : sum;
  return `${sum < 0n ? '-' : ''}${abs / 1000n}.${String(abs % 1000n).padStart(3, '0')}`;
}
