import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { DECIMAL_PATTERN, fromMinor, toMinor } from '../../domain/money';
import { describeIssues } from '../../domain/zod-issues';
import { FaultInjector, serveSimulator } from '../faults';
import { type RunningServer } from '../../api/listen';
import { loadState, saveState } from '../state-file';
import { ODataQueryError, query } from '../odata';

/**
 * A stateful local Dynamics 365 Finance: Entra ID client-credentials tokens, OData v4 data entities under
 * /data (budget register entries, general journal account entries, purchase order lines), server-driven
 * paging with @odata.nextLink, IEEE754Compatible decimals, OData error bodies, and fault injection.
 */

export interface D365SimulatorOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  maxPageSize?: number;
  /** When set, budget lines on any other main account are refused with a 400, as D365 refuses unknown accounts. */
  knownMainAccounts?: string[];
  /** A JSON file to keep state in across restarts; in memory only when absent. */
  stateFile?: string;
}

export interface BudgetEntryHeader {
  dataAreaId: string;
  EntryNumber: string;
  BudgetModelId: string;
  BudgetCode: string;
  DefaultDate: string;
  Description: string;
  /** Our idempotency key: unique per company, like a document number. */
  DocumentNumber: string;
  IntegrationCorrelationId: string;
  Status: 'Draft' | 'Completed';
}

export interface BudgetEntryLine {
  dataAreaId: string;
  EntryNumber: string;
  LineNumber: number;
  Date: string;
  AccountDisplayValue: string;
  /** Exact decimal, kept as text. */
  Amount: string;
  CurrencyCode: string;
  Comment: string;
}

/**
 * A posted general journal account entry. The transaction-currency amount is in TransactionCurrencyCode;
 * the accounting-currency amount is in the ledger's accounting currency (the company's), which D365 does
 * not repeat on the entry. Seeds may omit the transaction amount for a line posted in accounting currency.
 */
export const LedgerEntrySeed = z
  .object({
    dataAreaId: z.string().min(1),
    JournalNumber: z.string().min(1),
    LineNumber: z.number().int().positive(),
    AccountingDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    LedgerAccount: z.string().min(1),
    AccountingCurrencyAmount: z.string().regex(DECIMAL_PATTERN),
    TransactionCurrencyAmount: z.string().regex(DECIMAL_PATTERN).optional(),
    TransactionCurrencyCode: z.string().length(3),
    Text: z.string().default(''),
  })
  .transform((e) => ({
    ...e,
    TransactionCurrencyAmount: e.TransactionCurrencyAmount ?? e.AccountingCurrencyAmount,
  }));
export type LedgerEntrySeed = z.input<typeof LedgerEntrySeed>;

export const PurchaseOrderLineSeed = z.object({
  dataAreaId: z.string().min(1),
  PurchaseOrderNumber: z.string().min(1),
  LineNumber: z.number().int().positive(),
  RequestedDeliveryDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  LedgerDimensionDisplayValue: z.string().min(1),
  RemainingPurchaseAmount: z.string().regex(DECIMAL_PATTERN),
  CurrencyCode: z.string().length(3),
  PurchaseOrderLineStatus: z.enum(['Backorder', 'Received', 'Invoiced', 'Canceled']).default('Backorder'),
  LineVersion: z.number().int().nonnegative().default(1),
});
export type PurchaseOrderLineSeed = z.input<typeof PurchaseOrderLineSeed>;

const HeaderCreate = z
  .object({
    dataAreaId: z.string().min(1),
    BudgetModelId: z.string().min(1),
    BudgetCode: z.string().min(1),
    DefaultDate: z.string().regex(/^\d{4}-\d{2}-\d{2}/),
    Description: z.string().max(500).default(''),
    DocumentNumber: z.string().min(1).max(200),
    IntegrationCorrelationId: z.string().max(200).default(''),
  })
  .strict();

const LineCreate = z
  .object({
    dataAreaId: z.string().min(1),
    EntryNumber: z.string().min(1),
    LineNumber: z.number().int().positive(),
    Date: z.string().regex(/^\d{4}-\d{2}-\d{2}/),
    AccountDisplayValue: z
      .string()
      .regex(/^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/, 'must be a ledger dimension display value such as 60010-100'),
    // With IEEE754Compatible=true, Edm.Decimal travels as a string; a JSON number would lose cents.
    Amount: z.string().regex(DECIMAL_PATTERN, 'must be an Edm.Decimal string (send IEEE754Compatible=true)'),
    CurrencyCode: z.string().length(3),
    Comment: z.string().max(500).default(''),
  })
  .strict();

const HeaderPatch = z.object({ Status: z.enum(['Draft', 'Completed']) }).strict();

export function odataError(
  code: string,
  message: string,
  type = 'Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException',
) {
  return { error: { code, message, innererror: { message, type, stacktrace: '' } } };
}

export function createD365Simulator(options: D365SimulatorOptions = {}) {
  const tenantId = options.tenantId ?? 'closeloop-dev';
  const clientId = options.clientId ?? 'closeloop';
  const clientSecret = options.clientSecret ?? 'dev-secret';
  const ttl = options.tokenTtlSeconds ?? 3600;
  const maxPageSize = options.maxPageSize ?? 1000;
  const faults = new FaultInjector();
  let knownMainAccounts = options.knownMainAccounts;

  const tokens = new Map<string, number>();
  let headers: BudgetEntryHeader[] = [];
  let lines: BudgetEntryLine[] = [];
  let ledger: (z.output<typeof LedgerEntrySeed> & { RecId: number })[] = [];
  let purchaseOrderLines: z.output<typeof PurchaseOrderLineSeed>[] = [];
  let nextEntry = 1;
  let nextRecId = 5637144576;
  const saved = loadState<{
    headers: typeof headers;
    lines: typeof lines;
    ledger: typeof ledger;
    purchaseOrderLines: typeof purchaseOrderLines;
    nextEntry: number;
    nextRecId: number;
  }>(options.stateFile);
  if (saved) ({ headers, lines, ledger, purchaseOrderLines, nextEntry, nextRecId } = saved);
  const persist = () =>
    saveState(options.stateFile, { headers, lines, ledger, purchaseOrderLines, nextEntry, nextRecId });

  const app: Express = express();
  app.disable('x-powered-by');
  app.use(faults.router());

  // ── Microsoft Entra ID token endpoint (client credentials) ─────────────────────────────────────────
  app.post('/:tenant/oauth2/v2.0/token', express.urlencoded({ extended: false }), (req, res) => {
    const body = req.body as Record<string, string | undefined>;
    if (req.params.tenant !== tenantId) {
      res.status(400).json({
        error: 'invalid_request',
        error_description: `AADSTS90002: Tenant '${req.params.tenant}' not found.`,
      });
      return;
    }
    if (body.grant_type !== 'client_credentials') {
      res.status(400).json({
        error: 'unsupported_grant_type',
        error_description: 'AADSTS70003: grant_type must be client_credentials',
      });
      return;
    }
    if (body.client_id !== clientId || body.client_secret !== clientSecret) {
      res.status(401).json({
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
      });
      return;
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + ttl * 1000);
    res.json({ token_type: 'Bearer', expires_in: ttl, ext_expires_in: ttl, access_token: token });
  });

  const data = express.Router();
  data.use((req, res, next) => {
    const token = /^Bearer (.+)$/.exec(req.header('authorization') ?? '')?.[1];
    const expires = token ? tokens.get(token) : undefined;
    if (!expires || expires < Date.now()) {
      res.status(401).json(odataError('Unauthorized', 'The access token is missing, invalid or expired.'));
      return;
    }
    next();
  });
  data.use(express.json({ type: () => true }));
  data.use(
    faults.middleware((status) =>
      odataError(
        status === 429 ? 'TooManyRequests' : 'ServiceUnavailable',
        status === 429 ? 'Rate limit is exceeded.' : 'The service is temporarily unavailable.',
      ),
    ),
  );

  /** Answers a collection read with server-driven paging, as D365 does under `Prefer: odata.maxpagesize`. */
  function page(
    req: Request,
    res: Response,
    entitySet: string,
    records: Record<string, unknown>[],
    duplicate = false,
  ) {
    const prefer = /odata\.maxpagesize=(\d+)/.exec(req.header('prefer') ?? '')?.[1];
    const q = req.query as Record<string, string | undefined>;
    try {
      const result = query(records, {
        filter: q.$filter,
        orderby: q.$orderby,
        top: q.$top,
        skip: q.$skip,
        skiptoken: q.$skiptoken,
        maxPageSize: Math.min(maxPageSize, prefer ? Number(prefer) : maxPageSize),
      });
      let value = result.page;
      if (duplicate && value.length) value = [value[0]!, ...value];
      const body: Record<string, unknown> = {
        '@odata.context': `${req.protocol}://${req.get('host')}/data/$metadata#${entitySet}`,
        value,
      };
      if (q.$count === 'true') body['@odata.count'] = result.count;
      if (result.next !== undefined) {
        const next = new URL(`${req.protocol}://${req.get('host')}${req.originalUrl}`);
        next.searchParams.set('$skiptoken', String(result.next));
        body['@odata.nextLink'] = next.toString();
      }
      res.json(body);
    } catch (err) {
      if (err instanceof ODataQueryError) res.status(400).json(odataError('BadRequest', err.message));
      else throw err;
    }
  }

  const withStatus = (l: BudgetEntryLine) => {
    const h = headers.find((x) => x.dataAreaId === l.dataAreaId && x.EntryNumber === l.EntryNumber)!;
    return { ...l, BudgetModelId: h.BudgetModelId, EntryStatus: h.Status };
  };

  data.get('/BudgetRegisterEntryHeaders', (req, res) =>
    page(req, res, 'BudgetRegisterEntryHeaders', headers as never[]),
  );
  data.post('/BudgetRegisterEntryHeaders', (req, res) => {
    const parsed = HeaderCreate.safeParse(req.body);
    if (!parsed.success) {
      return void res
        .status(400)
        .json(
          odataError(
            'BadRequest',
            `Write validation failed for table 'BudgetTransactionHeader': ${describeIssues(parsed.error)}`,
          ),
        );
    }
    const h = parsed.data;
    if (headers.some((x) => x.dataAreaId === h.dataAreaId && x.DocumentNumber === h.DocumentNumber)) {
      res
        .status(400)
        .json(
          odataError(
            'DuplicateRecord',
            `Cannot create a record in Budget register entries (BudgetTransactionHeader). Document number: ${h.DocumentNumber}. The record already exists.`,
          ),
        );
      return;
    }
    const header: BudgetEntryHeader = {
      ...h,
      EntryNumber: `BRE-${String(nextEntry++).padStart(6, '0')}`,
      Status: 'Draft',
    };
    headers.push(header);
    persist();
    res
      .status(201)
      .json({ '@odata.context': '/data/$metadata#BudgetRegisterEntryHeaders/$entity', ...header });
  });
  data.patch(/^\/BudgetRegisterEntryHeaders\(dataAreaId='([^']+)',EntryNumber='([^']+)'\)$/, (req, res) => {
    const [area, entry] = [req.params[0], req.params[1]];
    const header = headers.find((h) => h.dataAreaId === area && h.EntryNumber === entry);
    if (!header) {
      res
        .status(404)
        .json(
          odataError(
            'NotFound',
            `No BudgetRegisterEntryHeaders record with EntryNumber ${entry} in ${area}.`,
          ),
        );
      return;
    }
    const parsed = HeaderPatch.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(odataError('BadRequest', describeIssues(parsed.error)));
      return;
    }
    header.Status = parsed.data.Status;
    persist();
    res.status(204).end();
  });

  data.get('/BudgetRegisterEntryLines', (req, res) =>
    page(req, res, 'BudgetRegisterEntryLines', lines.map(withStatus) as never[]),
  );
  data.post('/BudgetRegisterEntryLines', (req, res) => {
    const parsed = LineCreate.safeParse(req.body);
    if (!parsed.success) {
      return void res
        .status(400)
        .json(
          odataError(
            'BadRequest',
            `Write validation failed for table 'BudgetTransactionLine': ${describeIssues(parsed.error)}`,
          ),
        );
    }
    const l = parsed.data;
    const header = headers.find((h) => h.dataAreaId === l.dataAreaId && h.EntryNumber === l.EntryNumber);
    if (!header) {
      res
        .status(400)
        .json(
          odataError(
            'BadRequest',
            `Budget register entry ${l.EntryNumber} does not exist in ${l.dataAreaId}.`,
          ),
        );
      return;
    }
    if (header.Status === 'Completed') {
      res
        .status(400)
        .json(
          odataError(
            'BadRequest',
            `Budget register entry ${l.EntryNumber} is completed and cannot be changed.`,
          ),
        );
      return;
    }
    const mainAccount = l.AccountDisplayValue.split('-')[0]!;
    if (knownMainAccounts && !knownMainAccounts.includes(mainAccount)) {
      res
        .status(400)
        .json(
          odataError(
            'BadRequest',
            `Main account ${mainAccount} does not exist or is not valid for the account structure of ${l.dataAreaId}.`,
          ),
        );
      return;
    }
    if (
      lines.some(
        (x) =>
          x.dataAreaId === l.dataAreaId && x.EntryNumber === l.EntryNumber && x.LineNumber === l.LineNumber,
      )
    ) {
      res
        .status(400)
        .json(
          odataError(
            'DuplicateRecord',
            `Line ${l.LineNumber} of ${l.EntryNumber}: the record already exists.`,
          ),
        );
      return;
    }
    lines.push(l);
    persist();
    res
      .status(201)
      .json({ '@odata.context': '/data/$metadata#BudgetRegisterEntryLines/$entity', ...withStatus(l) });
  });

  data.get('/GeneralJournalAccountEntries', (req, res) =>
    page(
      req,
      res,
      'GeneralJournalAccountEntries',
      ledger as never[],
      Boolean(faults.take('duplicate', req.method, req.originalUrl)),
    ),
  );
  data.get('/PurchaseOrderLinesV2', (req, res) =>
    page(req, res, 'PurchaseOrderLinesV2', purchaseOrderLines as never[]),
  );
  data.use((req, res) => {
    res
      .status(404)
      .json(odataError('NotFound', `Resource not found for the segment '${req.path.split('/')[1] ?? ''}'.`));
  });
  app.use('/data', data);

  const sim = {
    app,
    faults,
    listen: (port = 0, host = '127.0.0.1'): Promise<RunningServer> => serveSimulator(app, faults, port, host),
    /** Posts ledger entries; an entry already held (company, journal, line) is left as it is. */
    seedLedgerEntries(entries: LedgerEntrySeed[]) {
      for (const e of entries) {
        const entry = LedgerEntrySeed.parse(e);
        const held = ledger.some(
          (x) =>
            x.dataAreaId === entry.dataAreaId &&
            x.JournalNumber === entry.JournalNumber &&
            x.LineNumber === entry.LineNumber,
        );
        if (!held) ledger.push({ ...entry, RecId: nextRecId++ });
      }
      persist();
    },
    seedPurchaseOrderLines(items: PurchaseOrderLineSeed[]) {
      for (const i of items) {
        const line = PurchaseOrderLineSeed.parse(i);
        purchaseOrderLines = purchaseOrderLines.filter(
          (p) =>
            !(
              p.dataAreaId === line.dataAreaId &&
              p.PurchaseOrderNumber === line.PurchaseOrderNumber &&
              p.LineNumber === line.LineNumber
            ),
        );
        purchaseOrderLines.push(line);
      }
      persist();
    },
    budgetEntries() {
      return headers.map((h) => ({
        ...h,
        lines: lines.filter((l) => l.dataAreaId === h.dataAreaId && l.EntryNumber === h.EntryNumber),
      }));
    },
    /** Sum of completed budget lines per company, exact. */
    budgetTotals(): Record<string, string> {
      const totals: Record<string, bigint> = {};
      for (const l of lines.map(withStatus)) {
        if (l.EntryStatus !== 'Completed') continue;
        totals[l.dataAreaId] = (totals[l.dataAreaId] ?? 0n) + toMinor(l.Amount, l.CurrencyCode);
      }
      return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, fromMinor(v, 'USD')]));
    },
    expireTokens() {
      tokens.clear();
    },
    /** Changes the chart of accounts the simulator accepts (undefined accepts any), e.g. after a fix in the ERP. */
    setKnownMainAccounts(accounts: string[] | undefined) {
      knownMainAccounts = accounts;
    },
    reset() {
      headers = [];
      lines = [];
      ledger = [];
      purchaseOrderLines = [];
      tokens.clear();
      faults.clear();
      persist();
    },
  };

  app.post('/__sim/ledger-entries', express.json(), (req, res) => {
    const parsed = z.array(LedgerEntrySeed).safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedLedgerEntries(parsed.data);
    res.status(201).json({ count: parsed.data.length });
  });
  app.post('/__sim/purchase-order-lines', express.json(), (req, res) => {
    const parsed = z.array(PurchaseOrderLineSeed).safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedPurchaseOrderLines(parsed.data);
    res.status(201).json({ count: parsed.data.length });
  });
  app.get('/__sim/budget-entries', (_req, res) => {
    res.json({ entries: sim.budgetEntries(), totals: sim.budgetTotals() });
  });
  app.post('/__sim/reset', (_req, res) => {
    sim.reset();
    res.status(204).end();
  });
  return sim;
}

export type D365Simulator = ReturnType<typeof createD365Simulator>;
