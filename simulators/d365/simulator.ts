import { randomBytes, randomUUID } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { DECIMAL_PATTERN, fromMinor, toMinor } from '../../domain/money';
import { describeIssues } from '../../domain/zod-issues';
import { FaultInjector, serveSimulator } from '../faults';
import { sendWithRetries } from '../outbound';
import { type RunningServer } from '../../api/listen';
import { appendIndex } from '../append-index';
import { loadState, saveState } from '../state-file';
import {
  checkWrite,
  ieee754Requested,
  ODataQueryError,
  query,
  serialise,
  type EntityType,
  type FieldIssue,
} from '../odata';
import { BatchFormatError, batchResponse, parseBatch, type BatchAnswer } from '../odata-batch';
import {
  BudgetRegisterEntries,
  BudgetRegisterEntryHeaders,
  BudgetRegisterEntryLines,
  DimensionLedgerAccountType,
  GeneralJournalAccountEntries,
  ExchangeRates,
  FinancialDimensionValues,
  MainAccounts,
  OrganizationHierarchies,
  AccountStructures,
  Projects,
  ProjGrantsV2,
  ProjFundingSources,
  AccountStructureConstraints,
  PurchaseOrderHeadersV2,
  PurchaseOrderLinesV2,
} from './entities';

/**
 * A stateful local Dynamics 365 Finance: Entra ID client-credentials tokens and the OData data entities
 * closeloop uses, as the real service documents them (see ./entities.ts for the field lists and
 * MicrosoftDocs/dynamics-365-unified-operations-public for the behaviour):
 * - budget register entries are created in Draft; lines arrive through the lines entity, atomically in a
 *   `$batch` change set; an entry becomes Completed only when "Update budget balances" runs on it (here: a
 *   recurring batch job every `budgetBalanceUpdateMs`, or `updateBudgetBalances()`), after any budget
 *   workflow of its budget code is approved, and after a budget check when budget control is on
 *   (finance/budgeting/basic-budgeting-overview-configuration.md); completed entries cannot be changed;
 * - general journal account entries and purchase-order headers and lines (V2) are read-only;
 * - server-driven paging, IEEE754Compatible numbers, enum literals, and the service's error body, in which
 *   the top-level message is "An error has occurred." and the reason is in `innererror.message`.
 */

export interface D365SimulatorOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  /** Server-driven page size; D365 serves at most 10,000 records a page (data-entities/odata.md). */
  maxPageSize?: number;
  /** When set, budget lines on any other main account are refused, as D365 refuses unknown accounts. */
  knownMainAccounts?: string[];
  /**
   * The customer's recurring "Update budget balances" batch job: a draft entry whose last change is at
   * least this old is processed on the next request. Null: only `updateBudgetBalances()` completes entries.
   */
  budgetBalanceUpdateMs?: number | null;
  /** Budget codes with an activated budget register entry workflow. */
  workflowBudgetCodes?: string[];
  /** Budget control: "Update budget balances" refuses lines that would cut a budget below what was spent. */
  budgetControl?: boolean;
  /** A JSON file to keep state in across restarts; in memory only when absent. */
  stateFile?: string;
  /**
   * A business event endpoint of type HTTPS, as configured in the business event catalog: posted vendor
   * invoices are sent there (`VendorInvoicePostedBusinessEvent`). Also settable at run time
   * (`setBusinessEventEndpoint`, `POST /__sim/business-event-endpoint`).
   */
  businessEventEndpoint?: BusinessEventEndpoint;
}

export interface BusinessEventEndpoint {
  url: string;
  headers?: Record<string, string>;
}

/** A business event as it was sent, and how its delivery went. */
export interface SentBusinessEvent {
  event: Record<string, unknown>;
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  lastError?: string;
}

type Row = Record<string, unknown>;

/** A posted general journal account entry, by the entity's own field names. */
export const LedgerEntrySeed = z
  .object({
    DataArea: z.string().min(1),
    JournalNumber: z.string().min(1),
    Voucher: z.string().min(1),
    AccountingDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    LedgerAccount: z.string().min(1),
    AccountingCurrencyAmount: z.string().regex(DECIMAL_PATTERN),
    /** Defaults to the accounting-currency amount: a line posted in the accounting currency. */
    TransactionCurrencyAmount: z.string().regex(DECIMAL_PATTERN).optional(),
    TransactionCurrencyCode: z.string().length(3),
    Description: z.string().default(''),
    PostingLayer: z.enum(['Current', 'Operations', 'Tax']).default('Current'),
  })
  .strict();
export type LedgerEntrySeed = z.input<typeof LedgerEntrySeed>;

/**
 * A vendor invoice as Accounts payable posts it (in the UI, or imported from a procurement suite): each line
 * debits its expense account (the ledger dimension display value, e.g. "61020-100") and, when it is matched to
 * a purchase-order line held here, relieves that line's open amount (the line is Invoiced once nothing is left).
 */
export const VendorInvoicePosting = z
  .object({
    dataAreaId: z.string().min(1),
    InvoiceNumber: z.string().min(1),
    InvoiceDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    CurrencyCode: z.string().length(3),
    PurchaseOrderNumber: z.string().min(1).optional(),
    lines: z
      .array(
        z
          .object({
            LedgerDimensionDisplayValue: z.string().min(1),
            Amount: z.string().regex(DECIMAL_PATTERN),
            PurchaseOrderLineNumber: z.number().int().positive().optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type VendorInvoicePosting = z.input<typeof VendorInvoicePosting>;

/** An exchange rate as D365 keeps it (ExchangeRateCDSEntity): 1 FromCurrency = Rate ToCurrency from ValidFrom. */
export const ExchangeRateSeed = z
  .object({
    ExchangeRateTypeName: z.string().min(1),
    FromCurrencyCode: z.string().length(3),
    ToCurrencyCode: z.string().length(3),
    ValidFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    ValidTo: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    Rate: z.string().regex(DECIMAL_PATTERN),
  })
  .strict();
export type ExchangeRateSeed = z.input<typeof ExchangeRateSeed>;

const DateText = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** A main account as the chart of accounts keeps it (MainAccountEntity); dates are the days it takes postings. */
export const MainAccountSeed = z
  .object({
    ChartOfAccounts: z.string().min(1).default('Shared'),
    MainAccountId: z.string().min(1),
    Name: z.string().min(1),
    MainAccountType: z.enum(DimensionLedgerAccountType.members).default('Expense'),
    ParentMainAccountId: z.string().default(''),
    IsSuspended: z.enum(['No', 'Yes']).default('No'),
    ActiveFrom: DateText.optional(),
    ActiveTo: DateText.optional(),
  })
  .strict();
export type MainAccountSeed = z.input<typeof MainAccountSeed>;

/** A financial dimension value (FinancialDimensionValueEntity), e.g. a cost center of one company. */
export const DimensionValueSeed = z
  .object({
    FinancialDimension: z.string().min(1).default('CostCenter'),
    DimensionValue: z.string().min(1),
    Description: z.string().min(1),
    LegalEntityId: z.string().default(''),
    IsSuspended: z.enum(['No', 'Yes']).default('No'),
    ActiveFrom: DateText.optional(),
    ActiveTo: DateText.optional(),
    Owner: z.string().default(''),
  })
  .strict();
export type DimensionValueSeed = z.input<typeof DimensionValueSeed>;

/**
 * An account structure as configured: its segments (financial dimension names, "MainAccount" among them) and
 * its allowed-values grid, one cell per segment as typed ("50010..52030", "*;\" \"").
 */
export const AccountStructureSeed = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    segments: z.array(z.string().min(1)).min(1).max(11),
    allowedValues: z.array(z.array(z.string())).min(1),
  })
  .strict()
  .refine((a) => a.allowedValues.every((row) => row.length === a.segments.length), {
    message: 'each allowed-values row has one cell per segment',
    path: ['allowedValues'],
  });
export type AccountStructureSeed = z.input<typeof AccountStructureSeed>;

/** A project in a company, in a lifecycle stage, funded by a grant or not. */
export const ProjectSeed = z
  .object({
    company: z.string().min(1),
    id: z.string().min(1),
    name: z.string().min(1),
    stage: z.enum(['Created', 'Estimated', 'Scheduled', 'InProcess', 'Finished']),
    group: z.string().optional(),
    grant: z
      .object({
        id: z.string().min(1),
        name: z.string().min(1),
        status: z.string().optional(),
        awardedAmount: z.string().regex(/^\d+(\.\d+)?$/),
        startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        expirationDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        grantor: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ProjectSeed = z.input<typeof ProjectSeed>;

/**
 * A change to a published organization hierarchy: from `validFrom`, `ChildOrganization` sits under
 * `ParentOrganization` (empty: at the top). Publishing ends the child's relationship standing on that day.
 */
export const HierarchyChangeSeed = z
  .object({
    Hierarchy: z.string().min(1).default('Cost centers'),
    ChildOrganization: z.string().min(1),
    ChildOrganizationName: z.string().default(''),
    ParentOrganization: z.string().default(''),
    validFrom: DateText,
  })
  .strict();
export type HierarchyChangeSeed = z.input<typeof HierarchyChangeSeed>;

export const PurchaseOrderSeed = z
  .object({
    dataAreaId: z.string().min(1),
    PurchaseOrderNumber: z.string().min(1),
    CurrencyCode: z.string().length(3).nullable(),
    DocumentApprovalStatus: z
      .enum(['Draft', 'InReview', 'Rejected', 'Approved', 'InExternalReview', 'Confirmed', 'Finalized'])
      .default('Confirmed'),
    lines: z.array(
      z
        .object({
          LineNumber: z.number().int().positive(),
          RequestedDeliveryDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
          DefaultLedgerDimensionDisplayValue: z.string().min(1),
          LineAmount: z.string().regex(DECIMAL_PATTERN),
          PurchaseOrderLineStatus: z
            .enum(['None', 'Backorder', 'Received', 'Invoiced', 'Canceled'])
            .default('Backorder'),
        })
        .strict(),
    ),
  })
  .strict();
export type PurchaseOrderSeed = z.input<typeof PurchaseOrderSeed>;

/** The service's error body: a generic top-level message, the reason in innererror. */
export function odataError(
  message: string,
  type = 'Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException',
) {
  return {
    error: { code: '', message: 'An error has occurred.', innererror: { message, type, stacktrace: '' } },
  };
}

const dateTime = (date: string) => `${date}T12:00:00Z`;
/** How D365 shows a date field that was never set (its minimum date). */
const NO_DATE = '1900-01-01T00:00:00Z';
const yearOf = (value: unknown) => String(value).slice(0, 4);

interface Answer {
  status: number;
  body?: unknown;
}
const fail = (status: number, message: string): Answer => ({ status, body: odataError(message) });
const describe = (issues: FieldIssue[]) => issues.map((i) => `${i.field}: ${i.message}`).join('; ');

export function createD365Simulator(options: D365SimulatorOptions = {}) {
  const tenantId = options.tenantId ?? 'closeloop-dev';
  const clientId = options.clientId ?? 'closeloop';
  const clientSecret = options.clientSecret ?? 'dev-secret';
  const ttl = options.tokenTtlSeconds ?? 3600;
  const maxPageSize = Math.min(options.maxPageSize ?? 10_000, 10_000);
  const updateAfterMs = options.budgetBalanceUpdateMs === undefined ? 1000 : options.budgetBalanceUpdateMs;
  const workflowCodes = new Set(options.workflowBudgetCodes ?? []);
  const budgetControl = options.budgetControl ?? false;
  const faults = new FaultInjector();
  let knownMainAccounts = options.knownMainAccounts;

  const tokens = new Map<string, number>();
  let state = {
    headers: [] as Row[],
    lines: [] as Row[],
    ledger: [] as Row[],
    purchaseOrderHeaders: [] as Row[],
    purchaseOrderLines: [] as Row[],
    exchangeRates: [] as Row[],
    mainAccounts: [] as Row[],
    dimensionValues: [] as Row[],
    hierarchies: [] as Row[],
    accountStructures: [] as Row[],
    accountStructureConstraints: [] as Row[],
    projects: [] as Row[],
    grants: [] as Row[],
    fundingSources: [] as Row[],
    nextEntry: 1,
    nextRecId: 5637144576,
    /** When each draft entry last changed (entry key → epoch ms): the batch job waits for quiet entries. */
    changedAt: {} as Record<string, number>,
  };
  const saved = loadState<typeof state & { format?: number }>(options.stateFile);
  // State files written before the entities followed the published contract are not read (format 2 on).
  if (saved?.format === 2)
    state = {
      ...state,
      ...saved,
      exchangeRates: saved.exchangeRates ?? [],
      mainAccounts: saved.mainAccounts ?? [],
      dimensionValues: saved.dimensionValues ?? [],
      hierarchies: saved.hierarchies ?? [],
      accountStructures: saved.accountStructures ?? [],
      accountStructureConstraints: saved.accountStructureConstraints ?? [],
      projects: saved.projects ?? [],
      grants: saved.grants ?? [],
      fundingSources: saved.fundingSources ?? [],
    };
  // Every change is persisted: the revision tells what was derived from the state whether it still holds.
  let revision = 0;
  const persist = () => {
    revision++;
    saveState(options.stateFile, () => ({ format: 2, ...state }));
  };

  const entryKey = (r: Row) => `${String(r.dataAreaId)}|${String(r.LegalEntityId)}|${String(r.EntryNumber)}`;
  const headerOf = (r: Row) => state.headers.find((h) => entryKey(h) === entryKey(r));
  // An entry's lines found without reading every line of every entry, so a large budget loads in linear time.
  const linesByEntry = appendIndex<Row>(entryKey);
  const linesOf = (h: Row): Row[] => linesByEntry(state.lines, entryKey(h));
  // The entries as one flat view, built once per revision: a large budget is read page by page.
  let flat: { revision: number; rows: Row[] } | undefined;
  const flatEntries = (): Row[] => {
    if (flat?.revision !== revision) flat = { revision, rows: buildFlatEntries() };
    return flat.rows;
  };
  const buildFlatEntries = (): Row[] => {
    const headers = new Map(state.headers.map((h) => [entryKey(h), h]));
    return state.lines.map((l) => {
      const h = headers.get(entryKey(l))!;
      return {
        ...l,
        Date: l.EntryDate,
        BudgetCode: h.BudgetCode,
        BudgetModelId: h.BudgetModelId,
        Status: h.Status,
        BudgetType: h.BudgetType,
        OneTimeRevision: h.OneTimeRevision,
        ReasonCode: h.ReasonCode,
        ReasonComment: h.ReasonComment,
        LineWorkflowStatus: l.WorkflowStatus,
        DocumentWorkflowStatus: h.WorkflowStatus,
      };
    });
  };

  /** "Update budget balances" on one draft entry: workflow first, then the budget check, then Completed. */
  function updateBalancesOf(h: Row): void {
    const lines = linesOf(h);
    if (h.Status !== 'Draft' || lines.length === 0) return;
    if (workflowCodes.has(String(h.BudgetCode))) {
      if (h.WorkflowStatus === 'NotSubmitted') {
        h.WorkflowStatus = 'Submitted';
        revision++;
      }
      if (h.WorkflowStatus !== 'Approved') return;
    }
    if (budgetControl) {
      let failed = false;
      // What is completed already: the same for every line of this entry, so built once.
      const completed = flatEntries().filter((f) => f.Status === 'Completed');
      for (const l of lines) {
        const spent = state.ledger
          .filter(
            (e) =>
              e.DataArea === h.dataAreaId &&
              e.LedgerAccount === l.DimensionDisplayValue &&
              yearOf(e.AccountingDate) === yearOf(l.EntryDate),
          )
          .reduce((acc, e) => acc + toMinor(String(e.AccountingCurrencyAmount), 'USD'), 0n);
        const budget = completed
          .filter(
            (f) =>
              f.dataAreaId === h.dataAreaId &&
              f.BudgetModelId === h.BudgetModelId &&
              f.DimensionDisplayValue === l.DimensionDisplayValue &&
              yearOf(f.Date) === yearOf(l.EntryDate),
          )
          .reduce((acc, f) => acc + toMinor(String(f.TransactionCurrencyAmount), 'USD'), 0n);
        const after = budget + toMinor(String(l.TransactionCurrencyAmount), 'USD');
        l.BudgetCheckResult = after < spent ? 'Failed' : 'Passed';
        failed ||= after < spent;
      }
      if (failed) return;
    } else {
      for (const l of lines) l.BudgetCheckResult = 'NoCheck';
    }
    let expense = 0n;
    for (const l of lines) {
      l.AccountingCurrencyAmount = l.TransactionCurrencyAmount;
      expense += toMinor(String(l.TransactionCurrencyAmount), 'USD');
    }
    h.ExpenseBudgetTotal = fromMinor(expense, 'USD');
    h.Status = 'Completed';
    // The next entry's check counts this one as completed (the batch persists once, after them all).
    revision++;
    delete state.changedAt[entryKey(h)];
  }

  function runBudgetBalanceBatch(olderThanMs: number): void {
    const now = Date.now();
    let changed = false;
    for (const h of state.headers) {
      if (h.Status !== 'Draft') continue;
      if (now - (state.changedAt[entryKey(h)] ?? 0) < olderThanMs) continue;
      const before = JSON.stringify([h, linesOf(h)]);
      updateBalancesOf(h);
      changed ||= before !== JSON.stringify([h, linesOf(h)]);
    }
    if (changed) persist();
  }

  // ── writes, shared by the entity routes and $batch ──────────────────────────────────────────────────

  function createHeader(body: unknown, ieee754: boolean): Answer {
    const issues = checkWrite(BudgetRegisterEntryHeaders, body, {
      writable: [
        'dataAreaId',
        'LegalEntityId',
        'BudgetModelId',
        'BudgetCode',
        'DefaultDate',
        'OneTimeRevision',
        'ReasonCode',
        'ReasonComment',
      ],
      required: ['dataAreaId', 'LegalEntityId', 'BudgetModelId', 'BudgetCode', 'DefaultDate'],
      ieee754,
    });
    if (issues.length)
      return fail(400, `Write validation failed for table 'BudgetTransactionHeader': ${describe(issues)}`);
    const b = body as Row;
    const header: Row = {
      ...b,
      EntryNumber: `BRE-${String(state.nextEntry++).padStart(6, '0')}`,
      Status: 'Draft',
      BudgetType: 'OriginalBudget',
      OneTimeRevision: b.OneTimeRevision ?? 'No',
      ReasonCode: b.ReasonCode ?? '',
      ReasonComment: b.ReasonComment ?? '',
      SourceDocument: '',
      WorkflowStatus: workflowCodes.has(String(b.BudgetCode)) ? 'NotSubmitted' : 'None',
      ExpenseBudgetTotal: '0',
      RevenueBudgetTotal: '0',
    };
    state.headers.push(header);
    state.changedAt[entryKey(header)] = Date.now();
    return { status: 201, body: header };
  }

  function createLine(body: unknown, ieee754: boolean): Answer {
    const issues = checkWrite(BudgetRegisterEntryLines, body, {
      writable: [
        'dataAreaId',
        'LegalEntityId',
        'EntryNumber',
        'LineNumber',
        'AmountType',
        'Comment',
        'CurrencyCode',
        'EntryDate',
        'DimensionAccountStructure',
        'DimensionDisplayValue',
        'IncludeInCashFlowForecast',
        'Price',
        'Quantity',
        'TransactionCurrencyAmount',
      ],
      required: [
        'dataAreaId',
        'LegalEntityId',
        'EntryNumber',
        'LineNumber',
        'EntryDate',
        'DimensionDisplayValue',
        'TransactionCurrencyAmount',
        'CurrencyCode',
      ],
      ieee754,
    });
    if (issues.length)
      return fail(400, `Write validation failed for table 'BudgetTransactionLine': ${describe(issues)}`);
    const l = body as Row;
    const header = headerOf(l);
    if (!header)
      return fail(
        400,
        `Budget register entry ${String(l.EntryNumber)} does not exist in ${String(l.dataAreaId)}.`,
      );
    if (header.Status === 'Completed') {
      return fail(400, `Budget register entry ${String(l.EntryNumber)} is completed and cannot be changed.`);
    }
    const mainAccount = String(l.DimensionDisplayValue).split('-')[0]!;
    if (knownMainAccounts && !knownMainAccounts.includes(mainAccount)) {
      return fail(
        400,
        `Main account ${mainAccount} does not exist or is not valid for the account structure of ${String(l.dataAreaId)}.`,
      );
    }
    const number = String(l.LineNumber);
    if (linesOf(header).some((x) => String(x.LineNumber) === number)) {
      return fail(
        400,
        `Cannot create a record in Budget account entries (BudgetTransactionLine). The record already exists.`,
      );
    }
    const line: Row = {
      ...l,
      LineNumber: number,
      TransactionCurrencyAmount: String(l.TransactionCurrencyAmount),
      AmountType: l.AmountType ?? 'Expense',
      AccountingCurrencyAmount: '0',
      Comment: l.Comment ?? '',
      DimensionAccountStructure: l.DimensionAccountStructure ?? '',
      IncludeInCashFlowForecast: l.IncludeInCashFlowForecast ?? 'No',
      Price: '0',
      Quantity: '0',
      WorkflowStatus: header.WorkflowStatus,
      BudgetCheckResult: 'NoCheck',
    };
    state.lines.push(line);
    state.changedAt[entryKey(header)] = Date.now();
    return { status: 201, body: line };
  }

  /** One request inside the data service, by method and path relative to /data. */
  function dispatchWrite(method: string, path: string, body: unknown, ieee754: boolean): Answer {
    if (method === 'POST' && path === 'BudgetRegisterEntryHeaders') return createHeader(body, ieee754);
    if (method === 'POST' && path === 'BudgetRegisterEntryLines') return createLine(body, ieee754);
    return fail(405, `${method} ${path} is not supported by this service.`);
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────

  const app: Express = express();
  app.disable('x-powered-by');
  app.use(faults.router());

  // Microsoft Entra ID token endpoint (client credentials).
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
      res.status(401).json(odataError('The access token is missing, invalid or expired.'));
      return;
    }
    next();
  });
  data.use(
    faults.middleware((status) =>
      odataError(
        status === 429
          ? 'Number of requests exeeded the limit of 6000 over the time window of 300 seconds.'
          : 'The service is temporarily unavailable.',
      ),
    ),
  );
  // The customer's recurring batch job has run whenever enough time has passed since an entry last changed.
  data.use((_req, _res, next) => {
    if (updateAfterMs !== null) runBudgetBalanceBatch(updateAfterMs);
    next();
  });

  const send = (req: Request, res: Response, entity: EntityType, a: Answer) => {
    if (a.status >= 400 || a.body === undefined) return void res.status(a.status).json(a.body);
    res.status(a.status).json({
      '@odata.context': `${req.protocol}://${req.get('host')}/data/$metadata#${entity.set}/$entity`,
      ...serialise(entity, a.body as Row, ieee754Requested(req.header('accept'))),
    });
  };

  /** Answers a collection read with server-driven paging, as D365 does under `Prefer: odata.maxpagesize`. */
  function collection(entity: EntityType, records: () => Row[], duplicates = false, immutable = false) {
    return (req: Request, res: Response) => {
      const prefer = /odata\.maxpagesize=(\d+)/.exec(req.header('prefer') ?? '')?.[1];
      try {
        const result = query(entity, records(), {
          query: req.query as Record<string, unknown>,
          maxPageSize: Math.min(maxPageSize, prefer ? Number(prefer) : maxPageSize),
          immutable,
        });
        const ieee754 = ieee754Requested(req.header('accept'));
        let value = result.page.map((r) => serialise(entity, r, ieee754));
        if (duplicates && faults.take('duplicate', req.method, req.originalUrl) && value.length) {
          value = [value[0]!, ...value];
        }
        const body: Record<string, unknown> = {
          '@odata.context': `${req.protocol}://${req.get('host')}/data/$metadata#${entity.set}`,
          value,
        };
        if (req.query.$count === 'true') body['@odata.count'] = result.count;
        if (result.next !== undefined) {
          const next = new URL(`${req.protocol}://${req.get('host')}${req.originalUrl}`);
          next.searchParams.set('$skiptoken', String(result.next));
          body['@odata.nextLink'] = next.toString();
        }
        res.json(body);
      } catch (err) {
        if (err instanceof ODataQueryError) res.status(400).json(odataError(err.message, ''));
        else throw err;
      }
    };
  }

  const json = express.json({ type: () => true, limit: '20mb' });
  const writeRoute = (entity: EntityType, create: (body: unknown, ieee754: boolean) => Answer) =>
    [
      json,
      (req: Request, res: Response) => {
        const answer = create(req.body, ieee754Requested(req.header('content-type')));
        if (answer.status < 400) persist();
        send(req, res, entity, answer);
      },
    ] as const;

  data.get(
    '/BudgetRegisterEntryHeaders',
    collection(BudgetRegisterEntryHeaders, () => state.headers),
  );
  data.post('/BudgetRegisterEntryHeaders', ...writeRoute(BudgetRegisterEntryHeaders, createHeader));
  data.get(
    '/BudgetRegisterEntryLines',
    collection(BudgetRegisterEntryLines, () => state.lines),
  );
  data.post('/BudgetRegisterEntryLines', ...writeRoute(BudgetRegisterEntryLines, createLine));
  // The flat view is rebuilt on every change, so a query's selection holds for all its pages.
  data.get('/BudgetRegisterEntries', collection(BudgetRegisterEntries, flatEntries, false, true));
  data.get(
    '/GeneralJournalAccountEntries',
    collection(GeneralJournalAccountEntries, () => state.ledger, true),
  );
  data.get(
    '/PurchaseOrderHeadersV2',
    collection(PurchaseOrderHeadersV2, () => state.purchaseOrderHeaders),
  );
  data.get(
    '/PurchaseOrderLinesV2',
    collection(PurchaseOrderLinesV2, () => state.purchaseOrderLines),
  );
  data.get(
    '/ExchangeRates',
    collection(ExchangeRates, () => state.exchangeRates),
  );
  data.get(
    '/MainAccounts',
    collection(MainAccounts, () => state.mainAccounts),
  );
  data.get(
    '/FinancialDimensionValues',
    collection(FinancialDimensionValues, () => state.dimensionValues),
  );
  data.get(
    `/${OrganizationHierarchies.set}`,
    collection(OrganizationHierarchies, () => state.hierarchies),
  );
  data.get(
    `/${AccountStructures.set}`,
    collection(AccountStructures, () => state.accountStructures),
  );
  data.get(
    `/${AccountStructureConstraints.set}`,
    collection(AccountStructureConstraints, () => state.accountStructureConstraints),
  );
  data.get(
    `/${Projects.set}`,
    collection(Projects, () => state.projects),
  );
  data.get(
    `/${ProjGrantsV2.set}`,
    collection(ProjGrantsV2, () => state.grants),
  );
  data.get(
    `/${ProjFundingSources.set}`,
    collection(ProjFundingSources, () => state.fundingSources),
  );

  // Reads by key need every key part (data-entities/odata.md: "all fields in the entity key must be provided").
  data.get(/^\/(BudgetRegisterEntryHeaders|BudgetRegisterEntryLines)\((.*)\)$/, (req, res) => {
    const entity =
      req.params[0] === 'BudgetRegisterEntryHeaders' ? BudgetRegisterEntryHeaders : BudgetRegisterEntryLines;
    const parts = Object.fromEntries(
      [...req.params[1]!.matchAll(/(\w+)=('(?:[^']|'')*'|[\d.]+)/g)].map((m) => [
        m[1]!,
        m[2]!.replace(/^'|'$/g, ''),
      ]),
    );
    if (Object.keys(parts).length !== entity.keys.length || entity.keys.some((k) => parts[k] === undefined)) {
      return void res
        .status(400)
        .json(
          odataError(
            'The number of keys specified in the URI does not match number of key properties for the resource.',
            '',
          ),
        );
    }
    const rows = entity === BudgetRegisterEntryHeaders ? state.headers : state.lines;
    const row = rows.find((r) => entity.keys.every((k) => String(r[k]) === parts[k]));
    if (!row) return void res.status(404).json(odataError(`No ${entity.set} record matches the key.`, ''));
    send(req, res, entity, { status: 200, body: row });
  });

  data.post('/\\$batch', express.text({ type: () => true, limit: '50mb' }), (req, res) => {
    let groups;
    try {
      groups = parseBatch(req.header('content-type'), String(req.body));
    } catch (err) {
      if (!(err instanceof BatchFormatError)) throw err;
      return void res.status(400).json(odataError(err.message, ''));
    }
    const answered = groups.map((group) => {
      // A change set only creates headers and lines: undoing it drops what it appended and restores the counters.
      const before = {
        headers: state.headers.length,
        lines: state.lines.length,
        nextEntry: state.nextEntry,
        nextRecId: state.nextRecId,
        changedAt: { ...state.changedAt },
      };
      const answers: BatchAnswer[] = [];
      for (const r of group.requests) {
        const path = r.url.replace(/^.*\/data\//, '').replace(/^\//, '');
        let body: unknown;
        try {
          body = r.body === undefined ? undefined : JSON.parse(r.body);
        } catch {
          answers.push({
            status: 400,
            body: odataError('The request body is not valid JSON.'),
            contentId: r.contentId,
          });
          break;
        }
        const a = dispatchWrite(r.method, path, body, ieee754Requested(r.headers['content-type']));
        const entity = path.startsWith('BudgetRegisterEntryLines')
          ? BudgetRegisterEntryLines
          : BudgetRegisterEntryHeaders;
        answers.push({
          status: a.status,
          body:
            a.status < 400 ? serialise(entity, a.body as Row, ieee754Requested(r.headers.accept)) : a.body,
          contentId: r.contentId,
        });
        if (a.status >= 400) break;
      }
      const failed = answers.find((a) => a.status >= 400);
      if (group.changeset && failed) {
        // All or nothing: the change set's earlier writes are undone, and only the failure is answered.
        state.headers.length = before.headers;
        state.lines.length = before.lines;
        state.nextEntry = before.nextEntry;
        state.nextRecId = before.nextRecId;
        state.changedAt = before.changedAt;
        return { changeset: true, answers: [failed] };
      }
      return { changeset: group.changeset, answers };
    });
    persist();
    const out = batchResponse(answered);
    res.status(200).type(out.contentType).send(out.body);
  });

  data.use((req, res) => {
    res
      .status(404)
      .json(odataError(`Resource not found for the segment '${req.path.split('/')[1] ?? ''}'.`, ''));
  });
  app.use('/data', data);

  // Business events: the common envelope (BusinessEventsContract) around the event's own fields, POSTed as
  // JSON to the endpoint, retried a few times when it does not answer 2xx.
  let endpoint = options.businessEventEndpoint;
  let controlNumber = 5637144576;
  const sentEvents: SentBusinessEvent[] = [];
  function emitBusinessEvent(fields: Record<string, unknown>) {
    if (!endpoint) return;
    const target = endpoint;
    const now = Date.now();
    const sent: SentBusinessEvent = {
      event: {
        ...fields,
        ControlNumber: controlNumber++,
        EventId: randomUUID().toUpperCase(),
        EventTime: `/Date(${now})/`,
        EventTimeIso8601: new Date(now).toISOString(),
        InitiatingUserAADObjectId: '00000000-0000-0000-0000-000000000000',
        MajorVersion: 0,
        MinorVersion: 0,
        ParentContextRecordSubject: '',
        ContextRecordSubject: '',
      },
      attempts: 0,
      status: 'pending',
    };
    sentEvents.push(sent);
    void sendWithRetries(
      target.url,
      { headers: target.headers, body: sent.event },
      {
        maxAttempts: 5,
        baseMs: 400,
        retryable: () => true,
        beforeAttempt: (attempt) => {
          sent.attempts = attempt;
        },
      },
    ).then((res) => {
      sent.status = res.ok ? 'delivered' : 'failed';
      sent.lastError = res.error;
    });
  }

  const sim = {
    app,
    faults,
    setBusinessEventEndpoint(e: BusinessEventEndpoint | undefined) {
      endpoint = e;
    },
    businessEvents: (): readonly SentBusinessEvent[] => sentEvents,
    listen: (port = 0, host = '127.0.0.1'): Promise<RunningServer> => serveSimulator(app, faults, port, host),
    /** Posts ledger entries; an entry already held (company, journal, voucher, account) is left as it is. */
    seedLedgerEntries(entries: LedgerEntrySeed[]) {
      for (const e of entries) {
        const entry = LedgerEntrySeed.parse(e);
        const held = state.ledger.some(
          (x) =>
            x.DataArea === entry.DataArea &&
            x.JournalNumber === entry.JournalNumber &&
            x.Voucher === entry.Voucher &&
            x.LedgerAccount === entry.LedgerAccount,
        );
        if (held) continue;
        const amount = entry.TransactionCurrencyAmount ?? entry.AccountingCurrencyAmount;
        const credit = amount.startsWith('-');
        state.ledger.push({
          ...entry,
          AccountingDate: dateTime(entry.AccountingDate),
          TransactionCurrencyAmount: amount,
          TransactionCurrencyDebitAmount: credit ? '0' : amount,
          TransactionCurrencyCreditAmount: credit ? amount.slice(1) : '0',
          ReportingCurrencyAmount: entry.AccountingCurrencyAmount,
          Quantity: '0',
          PostingType: 'LedgerJournal',
          JournalCategory: 'Daily',
          IsCorrection: 'No',
          IsCredit: credit ? 'Yes' : 'No',
          AcknowledgementDate: dateTime(entry.AccountingDate),
          DocumentDate: dateTime(entry.AccountingDate),
          DocumentNumber: entry.Voucher,
          LedgerName: entry.DataArea.toUpperCase(),
          GeneralJournalAccountEntryRecId: state.nextRecId++,
          AccountDisplayValue: entry.LedgerAccount,
          Account: entry.LedgerAccount.split('-')[0],
        });
      }
      persist();
    },
    /** Posts a vendor invoice: ledger entries under its own voucher, purchase-order lines relieved. Once only. */
    postVendorInvoice(posting: VendorInvoicePosting): { voucher: string; alreadyPosted: boolean } {
      const inv = VendorInvoicePosting.parse(posting);
      const voucher = `APINV-${inv.InvoiceNumber}`;
      if (state.ledger.some((x) => x.DataArea === inv.dataAreaId && x.Voucher === voucher))
        return { voucher, alreadyPosted: true };
      sim.seedLedgerEntries(
        inv.lines.map((l) => ({
          DataArea: inv.dataAreaId,
          JournalNumber: `APInvoice-${inv.InvoiceNumber}`,
          Voucher: voucher,
          AccountingDate: inv.InvoiceDate,
          LedgerAccount: l.LedgerDimensionDisplayValue,
          AccountingCurrencyAmount: l.Amount,
          TransactionCurrencyCode: inv.CurrencyCode,
          Description: `Vendor invoice ${inv.InvoiceNumber}${inv.PurchaseOrderNumber ? ` for ${inv.PurchaseOrderNumber}` : ''}`,
        })),
      );
      emitBusinessEvent({
        BusinessEventId: 'VendorInvoicePostedBusinessEvent',
        // Business events name the company as D365 displays it (upper case); OData answers in lower case.
        BusinessEventLegalEntity: inv.dataAreaId.toUpperCase(),
        InvoiceId: inv.InvoiceNumber,
        PurchaseOrderId: inv.PurchaseOrderNumber ?? '',
        InvoiceDate: inv.InvoiceDate,
        VoucherNumber: voucher,
        LegalEntity: inv.dataAreaId.toUpperCase(),
      });
      for (const l of inv.lines) {
        const line = state.purchaseOrderLines.find(
          (r) =>
            r.dataAreaId === inv.dataAreaId &&
            r.PurchaseOrderNumber === inv.PurchaseOrderNumber &&
            r.LineNumber === l.PurchaseOrderLineNumber,
        );
        if (!line) continue;
        const currency = inv.CurrencyCode;
        const left = toMinor(String(line.LineAmount), currency) - toMinor(l.Amount, currency);
        line.LineAmount = fromMinor(left > 0n ? left : 0n, currency);
        if (left <= 0n) line.PurchaseOrderLineStatus = 'Invoiced';
      }
      persist();
      return { voucher, alreadyPosted: false };
    },
    /** Sets exchange rates, as a treasurer enters them (or a rate provider imports them): one per type, pair, date. */
    seedExchangeRates(rates: ExchangeRateSeed[]) {
      for (const r of rates.map((x) => ExchangeRateSeed.parse(x))) {
        const same = (x: Row) =>
          x.ExchangeRateTypeName === r.ExchangeRateTypeName &&
          x.FromCurrencyCode === r.FromCurrencyCode &&
          x.ToCurrencyCode === r.ToCurrencyCode &&
          String(x.ValidFrom).slice(0, 10) === r.ValidFrom;
        state.exchangeRates = state.exchangeRates.filter((x) => !same(x));
        state.exchangeRates.push({
          ...r,
          ValidFrom: dateTime(r.ValidFrom),
          ValidTo: dateTime(r.ValidTo ?? '2154-12-31'),
        });
      }
      persist();
    },
    /**
     * Creates or changes main accounts, as a controller maintains the chart of accounts: an account not given
     * a start takes postings from the beginning; one with `ActiveTo` stops after that day.
     */
    seedMainAccounts(rows: MainAccountSeed[]) {
      for (const a of rows.map((x) => MainAccountSeed.parse(x))) {
        const existing = state.mainAccounts.find(
          (x) => x.ChartOfAccounts === a.ChartOfAccounts && x.MainAccountId === a.MainAccountId,
        );
        const row: Row = {
          ...a,
          MainAccountCategory: '',
          DoNotAllowManualEntry: 'No',
          ActiveFrom: a.ActiveFrom ? dateTime(a.ActiveFrom) : NO_DATE,
          ActiveTo: a.ActiveTo ? dateTime(a.ActiveTo) : NO_DATE,
          MainAccountRecId: existing?.MainAccountRecId ?? String(state.nextRecId++),
        };
        if (existing) Object.assign(existing, row);
        else state.mainAccounts.push(row);
      }
      persist();
    },
    /**
     * Creates or replaces an account structure (activated) with its allowed-values rows, as an administrator
     * configures it in General ledger > Chart of accounts > Structures.
     */
    seedAccountStructure(seed: AccountStructureSeed) {
      const a = AccountStructureSeed.parse(seed);
      state.accountStructures = state.accountStructures.filter((x) => x.AccountStructureName !== a.name);
      state.accountStructures.push({
        AccountStructureName: a.name,
        Description: a.description ?? a.name,
        StructureType: 'Ledger',
        Status: 'Active',
        ...Object.fromEntries(
          a.segments.map((name, i) => [`SegmentName${String(i + 1).padStart(2, '0')}`, name]),
        ),
      });
      state.accountStructureConstraints = state.accountStructureConstraints.filter(
        (x) => x.AccountStructure !== a.name,
      );
      a.allowedValues.forEach((row, position) =>
        state.accountStructureConstraints.push({
          AccountStructure: a.name,
          Position: position + 1,
          Status: 'Active',
          ...Object.fromEntries(
            row.map((cell, i) => [`SegmentCriteria${String(i + 1).padStart(2, '0')}`, cell]),
          ),
        }),
      );
      persist();
    },
    /**
     * Creates or changes a project, and the grant funding it (through a funding source of type Grant on the
     * project's contract), as a project manager and grants administrator keep them.
     */
    seedProject(seed: ProjectSeed) {
      const p = ProjectSeed.parse(seed);
      const company = p.company.toLowerCase();
      const contract = `C-${p.id}`;
      const upsert = (rows: Row[], keys: string[], row: Row) => {
        const existing = rows.find((x) => keys.every((k) => x[k] === row[k]));
        if (existing) Object.assign(existing, row);
        else rows.push(row);
      };
      upsert(state.projects, ['dataAreaId', 'ProjectID'], {
        dataAreaId: company,
        ProjectID: p.id,
        ProjectName: p.name,
        ProjectStage: p.stage,
        ProjectGroup: p.group ?? 'GRANT',
        ProjectContractID: contract,
        ProjectedStartDate: p.grant ? dateTime(p.grant.startDate) : NO_DATE,
        ProjectedEndDate: p.grant ? dateTime(p.grant.expirationDate) : NO_DATE,
      });
      if (p.grant) {
        upsert(state.grants, ['dataAreaId', 'GrantId'], {
          dataAreaId: company,
          GrantId: p.grant.id,
          GrantName: p.grant.name,
          GrantStatus: p.grant.status ?? 'Awarded',
          AwardedAmount: p.grant.awardedAmount,
          ActualAwardDate: dateTime(p.grant.startDate),
          ActualStartDate: dateTime(p.grant.startDate),
          ActualExpirationDate: dateTime(p.grant.expirationDate),
          CustAccount: p.grant.grantor ?? '',
        });
        upsert(state.fundingSources, ['dataAreaId', 'ProjectContractID', 'FundingSourceId'], {
          dataAreaId: company,
          ProjectContractID: contract,
          FundingSourceId: p.grant.id,
          FundingType: 'Grant',
          GrantId: p.grant.id,
        });
      }
      persist();
    },
    /** Creates or changes financial dimension values (cost centers, departments, …). */
    seedDimensionValues(rows: DimensionValueSeed[]) {
      for (const v of rows.map((x) => DimensionValueSeed.parse(x))) {
        const existing = state.dimensionValues.find(
          (x) => x.FinancialDimension === v.FinancialDimension && x.DimensionValue === v.DimensionValue,
        );
        const row: Row = {
          ...v,
          IsTotal: 'No',
          IsBlockedForManualEntry: 'No',
          GroupDimension: '',
          ActiveFrom: v.ActiveFrom ? dateTime(v.ActiveFrom) : NO_DATE,
          ActiveTo: v.ActiveTo ? dateTime(v.ActiveTo) : NO_DATE,
        };
        if (existing) Object.assign(existing, row);
        else state.dimensionValues.push(row);
      }
      persist();
    },
    /**
     * Publishes hierarchy changes, as an administrator publishes a draft hierarchy: the child's relationship
     * standing on `validFrom` ends the day before, and the new one holds from then on.
     */
    publishHierarchyChanges(rows: HierarchyChangeSeed[]) {
      const OPEN_END = dateTime('2154-12-31');
      for (const c of rows.map((x) => HierarchyChangeSeed.parse(x))) {
        const from = dateTime(c.validFrom);
        const mine = state.hierarchies.filter(
          (r) => r.Hierarchy === c.Hierarchy && r.ChildOrganization === c.ChildOrganization,
        );
        state.hierarchies = state.hierarchies.filter(
          (r) => !(mine.includes(r) && String(r.validFrom) >= from),
        );
        for (const r of mine) {
          if (String(r.validFrom) < from && String(r.validTo) >= from) {
            const d = new Date(from);
            d.setUTCDate(d.getUTCDate() - 1);
            r.validTo = d.toISOString().replace('.000Z', 'Z');
          }
        }
        const parent = state.dimensionValues.find((v) => v.DimensionValue === c.ParentOrganization);
        state.hierarchies.push({
          Hierarchy: c.Hierarchy,
          HierarchyType: 'Cost centers',
          ChildOrganization: c.ChildOrganization,
          ChildOrganizationName: c.ChildOrganizationName,
          ParentOrganization: c.ParentOrganization,
          ParentOrganizationName: parent?.Description ?? '',
          validFrom: from,
          validTo: OPEN_END,
        });
      }
      persist();
    },
    /** Creates or replaces purchase orders (header and lines). */
    seedPurchaseOrders(orders: PurchaseOrderSeed[]) {
      for (const o of orders) {
        const order = PurchaseOrderSeed.parse(o);
        const same = (r: Row) =>
          r.dataAreaId === order.dataAreaId && r.PurchaseOrderNumber === order.PurchaseOrderNumber;
        state.purchaseOrderHeaders = state.purchaseOrderHeaders.filter((r) => !same(r));
        state.purchaseOrderLines = state.purchaseOrderLines.filter((r) => !same(r));
        const open = order.lines.some((l) => l.PurchaseOrderLineStatus === 'Backorder');
        state.purchaseOrderHeaders.push({
          dataAreaId: order.dataAreaId,
          PurchaseOrderNumber: order.PurchaseOrderNumber,
          PurchaseOrderName: '',
          OrderVendorAccountNumber: 'V-1001',
          InvoiceVendorAccountNumber: 'V-1001',
          CurrencyCode: order.CurrencyCode,
          PurchaseOrderStatus: open ? 'Backorder' : (order.lines[0]?.PurchaseOrderLineStatus ?? 'None'),
          DocumentApprovalStatus: order.DocumentApprovalStatus,
          DefaultLedgerDimensionDisplayValue: '',
          AccountingDate: dateTime(order.lines[0]?.RequestedDeliveryDate ?? '2000-01-01'),
          RequestedDeliveryDate: dateTime(order.lines[0]?.RequestedDeliveryDate ?? '2000-01-01'),
          ReasonCode: '',
          ReasonComment: '',
        });
        for (const l of order.lines) {
          state.purchaseOrderLines.push({
            dataAreaId: order.dataAreaId,
            PurchaseOrderNumber: order.PurchaseOrderNumber,
            LineNumber: l.LineNumber,
            LineAmount: l.LineAmount,
            OrderedPurchaseQuantity: '1',
            PurchasePrice: l.LineAmount,
            PurchaseOrderLineStatus: l.PurchaseOrderLineStatus,
            DefaultLedgerDimensionDisplayValue: l.DefaultLedgerDimensionDisplayValue,
            MainAccountIdDisplayValue: l.DefaultLedgerDimensionDisplayValue.split('-')[0],
            RequestedDeliveryDate: dateTime(l.RequestedDeliveryDate),
            ConfirmedDeliveryDate: dateTime(l.RequestedDeliveryDate),
            ItemNumber: '',
            LineDescription: '',
            ProcurementProductCategoryName: 'Services',
            IsDeleted: 'No',
          });
        }
      }
      persist();
    },
    budgetEntries(): (Row & { EntryNumber: string; ReasonComment: string; Status: string; lines: Row[] })[] {
      return state.headers.map((h) => ({
        ...h,
        EntryNumber: String(h.EntryNumber),
        ReasonComment: String(h.ReasonComment),
        Status: String(h.Status),
        lines: linesOf(h),
      }));
    },
    /** Sum of completed budget lines per company, exact. */
    budgetTotals(): Record<string, string> {
      const totals: Record<string, bigint> = {};
      for (const l of flatEntries()) {
        if (l.Status !== 'Completed') continue;
        const company = String(l.dataAreaId);
        totals[company] =
          (totals[company] ?? 0n) + toMinor(String(l.TransactionCurrencyAmount), String(l.CurrencyCode));
      }
      return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, fromMinor(v, 'USD')]));
    },
    /** Runs "Update budget balances" now on every draft entry, as a user would from the entries page. */
    updateBudgetBalances() {
      runBudgetBalanceBatch(0);
    },
    /** A workflow reviewer in Dynamics 365 approves or rejects a submitted entry. */
    decideWorkflow(entryNumber: string, decision: 'Approved' | 'Rejected') {
      const h = state.headers.find((x) => x.EntryNumber === entryNumber && x.WorkflowStatus === 'Submitted');
      if (!h) throw new Error(`no budget register entry ${entryNumber} is awaiting workflow review`);
      h.WorkflowStatus = decision;
      for (const l of linesOf(h)) l.WorkflowStatus = decision;
      persist();
    },
    expireTokens() {
      tokens.clear();
    },
    /** Changes the chart of accounts the simulator accepts (undefined accepts any), e.g. after a fix in the ERP. */
    setKnownMainAccounts(accounts: string[] | undefined) {
      knownMainAccounts = accounts;
    },
    reset() {
      state = {
        ...state,
        headers: [],
        lines: [],
        ledger: [],
        purchaseOrderHeaders: [],
        purchaseOrderLines: [],
        changedAt: {},
      };
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
  app.post('/__sim/purchase-orders', express.json(), (req, res) => {
    const parsed = z.array(PurchaseOrderSeed).safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedPurchaseOrders(parsed.data);
    res.status(201).json({ count: parsed.data.length });
  });
  app.post('/__sim/exchange-rates', express.json(), (req, res) => {
    const parsed = z.array(ExchangeRateSeed).safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedExchangeRates(parsed.data);
    res.status(201).json({ count: parsed.data.length });
  });
  app.post('/__sim/main-accounts', express.json(), (req, res) => {
    const parsed = z.array(MainAccountSeed).safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedMainAccounts(parsed.data);
    res.status(201).json({ count: parsed.data.length });
  });
  app.post('/__sim/financial-dimension-values', express.json(), (req, res) => {
    const parsed = z.array(DimensionValueSeed).safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedDimensionValues(parsed.data);
    res.status(201).json({ count: parsed.data.length });
  });
  app.put('/__sim/projects', express.json(), (req, res) => {
    const parsed = ProjectSeed.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedProject(parsed.data);
    res.status(200).json({ id: parsed.data.id });
  });
  app.put('/__sim/account-structures', express.json(), (req, res) => {
    const parsed = AccountStructureSeed.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.seedAccountStructure(parsed.data);
    res.status(200).json({ name: parsed.data.name });
  });
  app.post('/__sim/organization-hierarchies', express.json(), (req, res) => {
    const parsed = z.array(HierarchyChangeSeed).safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.publishHierarchyChanges(parsed.data);
    res.status(201).json({ count: parsed.data.length });
  });
  app.post('/__sim/vendor-invoices', express.json(), (req, res) => {
    const parsed = VendorInvoicePosting.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    const posted = sim.postVendorInvoice(parsed.data);
    res.status(posted.alreadyPosted ? 200 : 201).json(posted);
  });
  app.post('/__sim/business-event-endpoint', express.json(), (req, res) => {
    const parsed = z
      .object({ url: z.string().url(), headers: z.record(z.string(), z.string()).optional() })
      .strict()
      .safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: describeIssues(parsed.error) });
    sim.setBusinessEventEndpoint(parsed.data);
    res.status(204).end();
  });
  app.get('/__sim/business-events', (_req, res) => void res.json({ events: sim.businessEvents() }));
  app.post('/__sim/update-budget-balances', (_req, res) => {
    sim.updateBudgetBalances();
    res.status(204).end();
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
