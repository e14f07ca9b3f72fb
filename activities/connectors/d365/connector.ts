import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { probeHealth } from '../health';
import { FailureType } from '../../../domain/failures';
import { type SystemDimensionValues } from '../../../domain/mapping';
import { DimensionCode } from '../../../domain/model';
import { type SegmentCriterion, type TargetStructure } from '../../../domain/target-structures';
import { describeIssues } from '../../../domain/zod-issues';
import { type AccountKind } from '../../../domain/master-data';
import { type ProjectStatus } from '../../../domain/projects';
import { fromMinor, negate, toMinor } from '../../../domain/money';
import {
  classifyHttpFailure,
  hasStatus,
  httpJson,
  httpRequest,
  parseResponse,
  protocolFailure,
} from '../http';
import {
  type ActualsPage,
  type BudgetChunkPublication,
  type BudgetChunkReversal,
  type BudgetPurpose,
  type CallControl,
  type ErpConnector,
  type LedgerExportItem,
  type LedgerQuery,
  type PostedDocument,
  type SourceActualLine,
  type SourceCommitmentLine,
  type SourceExchangeRate,
  type TargetBudgetLine,
  type TargetBudgetTotal,
  type TargetLocation,
} from '../types';
import { parse as parseCsv } from 'csv-parse';
import { batchResponses, changeSetBatch } from './batch';
import { inBatches } from '../batches';

/**
 * Microsoft Dynamics 365 Finance over its OData data entities, written to Microsoft's published contract:
 * - entities, fields and keys: microsoft/CDM schemaDocuments/core/operationsCommon/Entities/Finance/Budgeting/
 *   BudgetRegisterEntryHeaderEntity, BudgetRegisterEntryLineEntity and BudgetRegisterEntryEntity ("Budget
 *   account entries"); Finance/GeneralLedger/GeneralJournalAccountEntryEntity; SupplyChain/
 *   ProcurementAndSourcing/PurchPurchaseOrderHeaderV2Entity and PurchPurchaseOrderLineV2Entity (field lists
 *   kept in test/contracts/d365/entities.json); master data from Finance/GeneralLedger/MainAccountEntity,
 *   Finance/FinancialDimensions/FinancialDimensionValueEntity and Common/GAB/
 *   OMOrganizationHierarchyPublishedV2Entity (articles/finance/general-ledger/main-account-types.md for the
 *   account types; fin-ops/organization-administration/organizations-organizational-hierarchies.md: cost
 *   centers are operating units in published, effective-dated hierarchies);
 * - the OData service: MicrosoftDocs/dynamics-365-unified-operations-public articles/fin-ops-core/dev-itpro/
 *   data-entities/odata.md (cross-company=true, enum literals Microsoft.Dynamics.DataEntities.<Enum>'Value',
 *   `$batch` change sets are atomic), service-protection-api-limits.md and priority-based-throttling.md (429
 *   with Retry-After, honoured by ../http.ts);
 * - budgeting: articles/finance/budgeting/basic-budgeting-overview-configuration.md and
 *   budget-register-entries.md. An entry is created in Draft; it becomes Completed only through "Update
 *   budget balances" (which the customer schedules as a recurring batch job for closeloop's budget code),
 *   after the budget code's workflow, if any, is approved; a completed entry cannot be changed, so a reversal
 *   is a new entry.
 * - account structures: Finance/GeneralLedger/LedgerAccountStructureEntity (SegmentName01–11) and
 *   LedgerAccountStructureConstraintEntity (allowed values, SegmentCriteria01–11), entity sets
 *   AccountStructures and AccountStructureConstraints; the criteria grammar ("400000..999999", "*", quoted
 *   blank, ";" between alternatives) and "Budgeting does not currently utilize advanced rules" from
 *   articles/finance/general-ledger/configure-account-structures.md.
 *
 * One publication chunk is one budget register entry. Its idempotency key lives in the header's
 * ReasonComment (a free-text field of the entry, shown on the Budget register entries page), so a retry
 * finds the entry it created instead of creating a second. Its lines go in one change set: the entry never
 * holds half a chunk, so the balance update can never complete part of one.
 */

export const D365ConnectorConfig = z.object({
  baseUrl: z.string().url(),
  tokenUrl: z.string().url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Defaults to `<baseUrl>/.default`, the resource of the environment. */
  scope: z.string().optional(),
  timeoutMs: z.number().int().positive(),
  pageSize: z.number().int().positive().max(10_000),
  /**
   * How long one publication attempt waits for "Update budget balances" to complete its entry before it
   * gives up for now (the activity's retry comes back and waits again), and how often it looks.
   */
  completionWaitMs: z.number().int().nonnegative().default(60_000),
  completionPollMs: z.number().int().positive().default(5_000),
  /** The entity set of general journal account entries; confirm it in your environment's /data/$metadata. */
  ledgerEntitySet: z.string().min(1).default('GeneralJournalAccountEntries'),
  /** The entity set of exchange rates (CDM ExchangeRateCDSEntity); confirm it in /data/$metadata. */
  exchangeRateEntitySet: z.string().min(1).default('ExchangeRates'),
  /** The chart of accounts the entities' main accounts come from (MainAccounts.ChartOfAccounts). */
  chartOfAccounts: z.string().min(1).default('Shared'),
  /** The financial dimension that holds cost centers (FinancialDimensionValues.FinancialDimension). */
  costCenterDimension: z.string().min(1).default('CostCenter'),
  /** The entity set of published organization hierarchies (CDM OMOrganizationHierarchyPublishedV2Entity). */
  hierarchyEntitySet: z.string().min(1).default('OrganizationHierarchiesPublishedV2'),
  /** The organization hierarchy whose operating units are the cost centers. */
  costCenterHierarchy: z.string().min(1).default('Cost centers'),
  /** The environment's exchange rate type names, by the rate type closeloop calls them. */
  rateTypeNames: z
    .partialRecord(z.enum(['spot', 'average', 'budget']), z.string().min(1))
    .default({ spot: 'Default', average: 'Average', budget: 'Budget' }),
  /**
   * Which canonical dimension each segment of a ledger dimension display value holds, in order: with
   * ["account", "costCenter"], "60010-100" is main account 60010 and cost center 100.
   */
  dimensionFormat: z.array(DimensionCode).min(1).default(['account', 'costCenter']),
});
export type D365ConnectorConfig = z.input<typeof D365ConnectorConfig>;

const DimensionFormat = z
  .string()
  .refine(
    (f) => f.split('-').every((d) => DimensionCode.safeParse(d).success),
    'must be dimension codes joined by "-", e.g. "account-costCenter-department"',
  );

/**
 * A publication target's settings for Dynamics 365: which budget the entries belong to. Budget codes "identify
 * the type of budget transactions to record" and give "an audit trail of approved budget modifications"
 * (basic-budgeting-overview-configuration.md): the original budget goes under `budgetCode` (a code of type
 * Original budget), a revision's differences under `revisionBudgetCode` (type Revision), transfers and
 * supplements under `transferBudgetCode` (type Transfer). A completed entry cannot be changed, so a revision
 * is always new entries of its differences, never an edit.
 */
const BudgetSettings = z.object({
  budgetModel: z.string().min(1),
  budgetCode: z.string().min(1),
  revisionBudgetCode: z.string().min(1).default('Revision'),
  transferBudgetCode: z.string().min(1).default('Transfer'),
  /** The budgeting account structure of the lines' dimension values, when the company has several. */
  accountStructure: z.string().min(1).optional(),
  /**
   * The company's own segment order of a ledger dimension display value, when it is not the connector's
   * (D365_DIMENSION_FORMAT): canonical dimension codes joined by "-", e.g.
   * "account-costCenter-department-project-productLine-location".
   */
  dimensionFormat: DimensionFormat.optional(),
});

/**
 * Dimensions a D365 company holds without a segment: the legal entity is the company itself (dataAreaId),
 * and its ledger is the company's one ledger ("Ledger" form: a legal entity has one ledger, with its chart of
 * accounts and account structures). A line's company must map to the target's company; its ledger, when the
 * target names one (setting `ledger`), to that ledger.
 */
const HELD_BY_COMPANY = ['company', 'ledger'] as const;

/**
 * A financial dimension's name in D365 as the canonical dimension it holds: the main account is the account;
 * the others by name, in camel case ("CostCenter" → costCenter, "ProductLine" → productLine).
 */
const dimensionOfSegment = (name: string) =>
  name === 'MainAccount' ? 'account' : `${name.charAt(0).toLowerCase()}${name.slice(1)}`;

/**
 * One cell of an account structure's allowed values, as configure-account-structures.md writes them:
 * alternatives separated by ";", a range "400000..999999", "*" for any value, " " (quoted) for blank, or
 * a value (wildcards "*" and "?" within it).
 */
export function parseSegmentCriteria(cell: string): SegmentCriterion[] {
  return cell
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map((c): SegmentCriterion => {
      if (/^["“”]\s*["“”]$/.test(c)) return { blank: true };
      if (c === '*') return { any: true };
      const range = /^(.+?)\.\.(.+)$/.exec(c);
      return range ? { range: [range[1]!.trim(), range[2]!.trim()] } : { value: c };
    });
}

/** The segments of a company's display values: its own format, or the connector's. */
const segmentsOf = (
  target: { settings?: Readonly<Record<string, string>> } | undefined,
  fallback: readonly string[],
) => {
  const own = target?.settings?.dimensionFormat;
  return own ? own.split('-') : fallback;
};

function budgetSettings(target: TargetLocation) {
  const parsed = BudgetSettings.safeParse(target.settings);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: `the d365 publication target of company ${target.company} needs settings budgetModel and budgetCode`,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

const SYSTEM = 'd365';
const ENUMS = 'Microsoft.Dynamics.DataEntities';
const enumLiteral = (type: string, member: string) => `${ENUMS}.${type}'${member}'`;
/** With IEEE754Compatible=true, Edm.Decimal and Edm.Int64 arrive as strings; without it, as numbers. */
const DecimalText = z.union([z.string().regex(/^-?\d+(\.\d+)?$/), z.number()]).transform((v) => String(v));
const Int64 = z.union([z.string().regex(/^-?\d+$/), z.number().int()]).transform((v) => BigInt(v));
const LineNumber = DecimalText.transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) ctx.addIssue({ code: 'custom', message: 'must be a whole line number' });
  return n;
});
const collection = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ value: z.array(item), '@odata.nextLink': z.string().url().optional() });

const Token = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });
const Header = z.object({
  dataAreaId: z.string(),
  LegalEntityId: z.string(),
  EntryNumber: z.string(),
  ReasonComment: z.string().nullable(),
  Status: z.enum(['Draft', 'Completed']),
  WorkflowStatus: z.enum(['None', 'NotSubmitted', 'Submitted', 'Approved', 'Rejected']),
});
const Line = z.object({
  LineNumber,
  BudgetCheckResult: z.enum(['NoCheck', 'Passed', 'PassedWithWarnings', 'Failed']),
});
const AccountEntry = z.object({
  DimensionDisplayValue: z.string(),
  Date: z.string(),
  TransactionCurrencyAmount: DecimalText,
  CurrencyCode: z.string(),
});
const LedgerEntry = z.object({
  GeneralJournalAccountEntryRecId: Int64,
  JournalNumber: z.string(),
  Voucher: z.string(),
  AccountingDate: z.string(),
  LedgerAccount: z.string(),
  // The transaction-currency amount is the one that pairs with TransactionCurrencyCode; the accounting-
  // currency amount is in the ledger's currency, which the entry does not name.
  TransactionCurrencyAmount: DecimalText,
  TransactionCurrencyCode: z.string(),
  Description: z.string().nullable().optional(),
});
/** A row of the general journal account entry export: the same fields the OData sync reads. */
const LedgerExportRow = z.object({
  GeneralJournalAccountEntryRecId: z.string().regex(/^\d+$/, 'must be a record ID'),
  JournalNumber: z.string().min(1),
  Voucher: z.string().min(1),
  AccountingDate: z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'must be a date'),
  LedgerAccount: z.string().min(1),
  TransactionCurrencyAmount: z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal'),
  TransactionCurrencyCode: z.string().length(3),
  Description: z.string().optional(),
});

const LEDGER_EXPORT_REQUIRED = Object.keys(LedgerExportRow.shape).filter((k) => k !== 'Description');

const ExchangeRateRow = z.object({
  ExchangeRateTypeName: z.string(),
  FromCurrencyCode: z.string(),
  ToCurrencyCode: z.string(),
  ValidFrom: z.string(),
  ValidTo: z.string().nullable(),
  Rate: DecimalText,
});
const NoYesValue = z.enum(['No', 'Yes']);
const SEGMENTS = Array.from({ length: 11 }, (_x, i) => String(i + 1).padStart(2, '0'));
/** AccountStructures (CDM Finance/GeneralLedger/LedgerAccountStructureEntity): a structure's segments in order. */
const AccountStructureRow = z.object({
  AccountStructureName: z.string(),
  Status: z.string().nullable(),
  ...Object.fromEntries(SEGMENTS.map((n) => [`SegmentName${n}`, z.string().nullable().optional()])),
});
/**
 * AccountStructureConstraints (CDM LedgerAccountStructureConstraintEntity, "Account structure allowed
 * values"): one allowed-values row, SegmentCriteriaNN the criteria of segment NN.
 */
const AccountStructureConstraintRow = z.object({
  AccountStructure: z.string(),
  Position: z.union([z.number(), z.string()]),
  Status: z.string().nullable(),
  ...Object.fromEntries(SEGMENTS.map((n) => [`SegmentCriteria${n}`, z.string().nullable().optional()])),
});
const MainAccountRow = z.object({
  MainAccountId: z.string(),
  Name: z.string(),
  MainAccountType: z.string(),
  IsSuspended: NoYesValue,
  ActiveFrom: z.string().nullable(),
  ActiveTo: z.string().nullable(),
});
const DimensionValueRow = z.object({
  DimensionValue: z.string(),
  Description: z.string().nullable(),
  LegalEntityId: z.string().nullable(),
  IsSuspended: NoYesValue,
  ActiveFrom: z.string().nullable(),
  ActiveTo: z.string().nullable(),
});
const HierarchyRow = z.object({
  ChildOrganization: z.string(),
  ParentOrganization: z.string().nullable(),
  validFrom: z.string(),
  validTo: z.string().nullable(),
});

/**
 * Main account types (finance/general-ledger/main-account-types.md) as closeloop's account kinds. Total and
 * Reporting accounts take no postings and carry no budget: they are not master records here.
 */
const ACCOUNT_KIND_OF: Record<string, AccountKind | undefined> = {
  Expense: 'expense',
  ProfitAndLoss: 'expense',
  Revenue: 'revenue',
  Asset: 'asset',
  BalanceSheet: 'asset',
  Liability: 'liability',
  Equity: 'equity',
};
const NOT_POSTABLE = new Set(['Total', 'Reporting']);

/** A D365 date field: its minimum (1900-01-01) and maximum (2154-12-31) dates mean "not set". */
function d365Date(value: string | null): string | null {
  const date = value?.slice(0, 10) ?? null;
  return date === null || date <= '1900-01-01' || date >= '2154-12-31' ? null : date;
}

const PurchaseOrderHeader = z.object({
  PurchaseOrderNumber: z.string(),
  CurrencyCode: z.string().nullable(),
});
const PurchaseOrderLine = z.object({
  PurchaseOrderNumber: z.string(),
  LineNumber: Int64,
  RequestedDeliveryDate: z.string(),
  DefaultLedgerDimensionDisplayValue: z.string().nullable(),
  LineAmount: DecimalText,
});

/** Projects (CDM ProjectEntity): the lifecycle stage and the contract whose funding sources fund it. */
const ProjectRow = z.object({
  ProjectID: z.string(),
  ProjectName: z.string().nullable(),
  ProjectStage: z.string(),
  ProjectContractID: z.string().nullable(),
});
/** Grants (CDM ProjGrantV2Entity): the award and its period of performance. */
const GrantRow = z.object({
  GrantId: z.string(),
  GrantName: z.string().nullable(),
  AwardedAmount: DecimalText,
  ActualStartDate: z.string(),
  ActualExpirationDate: z.string(),
});
/** Funding sources (CDM ProjFundingSourceEntity): a contract's source of type Grant names the grant. */
const FundingSourceRow = z.object({
  ProjectContractID: z.string(),
  FundingType: z.string(),
  GrantId: z.string().nullable(),
});
/**
 * The project lifecycle in closeloop's terms (project-management/project-stages.md: Created, Estimated,
 * Scheduled, In process, Finished): spend lands only on a project in process.
 */
const PROJECT_STATUS_OF: Record<string, ProjectStatus> = {
  Created: 'planned',
  Estimated: 'planned',
  Scheduled: 'planned',
  InProcess: 'active',
  Finished: 'closed',
};

/** What the adapter reads from each entity set: kept to the published field lists by the contract tests. */
export const D365_READS = {
  BudgetRegisterEntryHeaders: Header,
  BudgetRegisterEntryLines: Line,
  BudgetRegisterEntries: AccountEntry,
  GeneralJournalAccountEntries: LedgerEntry,
  PurchaseOrderHeadersV2: PurchaseOrderHeader,
  PurchaseOrderLinesV2: PurchaseOrderLine,
  MainAccounts: MainAccountRow,
  FinancialDimensionValues: DimensionValueRow,
  OrganizationHierarchiesPublishedV2: HierarchyRow,
  AccountStructures: AccountStructureRow,
  AccountStructureConstraints: AccountStructureConstraintRow,
  Projects: ProjectRow,
  ProjGrantsV2: GrantRow,
  ProjFundingSources: FundingSourceRow,
} as const;

/** Our paging cursor: the service's own nextLink plus the highest record ID read so far, never mixed. */
const ActualsCursor = z.object({ next: z.string().url(), highest: z.string().regex(/^\d+$/) });

const decodeCursor = (cursor: string): unknown => {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    return undefined;
  }
};

const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const dayStart = (date: string) => `${date}T00:00:00Z`;
const dayEnd = (date: string) => `${date}T23:59:59Z`;
/** Dates go to Date-typed fields as DateTimeOffset at noon UTC, so no time zone moves them to another day. */
const asDateTime = (date: string) => `${date}T12:00:00Z`;
/**
 * The header field that carries the chunk's idempotency key. ReasonComment's length is not published; a key
 * that would make it longer than 60 characters (the usual length of a description field) goes as its
 * digest, so the stored value is never cut short and always found again.
 */
export const keyComment = (key: string) =>
  `closeloop ${key}`.length <= 60
    ? `closeloop ${key}`
    : `closeloop #${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

/** The budget code a chunk of this purpose is filed under. */
function budgetCodeFor(settings: z.output<typeof BudgetSettings>, purpose: BudgetPurpose): string {
  return {
    original: settings.budgetCode,
    revision: settings.revisionBudgetCode,
    transfer: settings.transferBudgetCode,
  }[purpose];
}

/** The header of the entry that carries one chunk (BudgetRegisterEntryHeaders, create). */
export function entryHeaderBody(chunk: BudgetChunkPublication) {
  const settings = budgetSettings(chunk.target);
  return {
    dataAreaId: chunk.target.company,
    LegalEntityId: chunk.target.company,
    BudgetModelId: settings.budgetModel,
    BudgetCode: budgetCodeFor(settings, chunk.purpose),
    DefaultDate: asDateTime(chunk.lines[0]?.date ?? new Date().toISOString().slice(0, 10)),
    ReasonComment: keyComment(chunk.idempotencyKey),
  };
}

/** One budget account entry of that entry (BudgetRegisterEntryLines, create). */
export function entryLineBody(
  entry: { dataAreaId: string; LegalEntityId: string; EntryNumber: string },
  line: TargetBudgetLine,
  target: TargetLocation,
  displayValue: string,
) {
  const { accountStructure } = budgetSettings(target);
  return {
    dataAreaId: entry.dataAreaId,
    LegalEntityId: entry.LegalEntityId,
    EntryNumber: entry.EntryNumber,
    // Edm.Decimal: a string under IEEE754Compatible=true.
    LineNumber: String(line.lineNumber),
    EntryDate: asDateTime(line.date),
    ...(accountStructure ? { DimensionAccountStructure: accountStructure } : {}),
    DimensionDisplayValue: displayValue,
    AmountType: 'Expense',
    TransactionCurrencyAmount: line.amount.amount,
    CurrencyCode: line.amount.currency,
    Comment: line.period,
  };
}

export function createD365Connector(input: D365ConnectorConfig): ErpConnector {
  const config = D365ConnectorConfig.parse(input);
  const base = config.baseUrl.replace(/\/$/, '');
  let token: { value: string; expiresAt: number } | undefined;

  async function accessToken(force = false): Promise<string> {
    if (!force && token && token.expiresAt > Date.now() + 60_000) return token.value;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: config.clientId,
      client_secret: config.clientSecret,
      scope: config.scope ?? `${base}/.default`,
    }).toString();
    const t = await httpJson(
      {
        system: SYSTEM,
        method: 'POST',
        url: config.tokenUrl,
        body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        timeoutMs: config.timeoutMs,
      },
      Token,
    );
    token = { value: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
    return token.value;
  }

  const JSON_TYPE = 'application/json;odata.metadata=minimal;IEEE754Compatible=true';

  /** One OData call; a 401 refreshes the token once (it may have been revoked early) and tries again. */
  async function send(
    method: 'GET' | 'POST',
    url: string,
    opts: { body?: string; contentType?: string; correlationId?: string; maxPageSize?: number } = {},
  ): Promise<string> {
    const attempt = async (force: boolean) => {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${await accessToken(force)}`,
        Accept: JSON_TYPE,
        'OData-Version': '4.0',
        'OData-MaxVersion': '4.0',
      };
      if (opts.contentType) headers['Content-Type'] = opts.contentType;
      if (opts.correlationId) headers['x-ms-client-request-id'] = opts.correlationId;
      if (opts.maxPageSize) headers.Prefer = `odata.maxpagesize=${opts.maxPageSize}`;
      const res = await httpRequest({
        system: SYSTEM,
        method,
        url: url.startsWith('http') ? url : `${base}/data/${url}`,
        headers,
        body: opts.body,
        timeoutMs: config.timeoutMs,
      });
      return res.text();
    };
    try {
      return await attempt(false);
    } catch (err) {
      if (hasStatus(err, 401)) return attempt(true);
      throw err;
    }
  }

  async function getJson<T>(url: string, schema: z.ZodType<T>, maxPageSize?: number): Promise<T> {
    const text = await send('GET', url, { maxPageSize });
    return parseResponse(SYSTEM, `GET ${url.split('?')[0]}`, schema, text ? JSON.parse(text) : undefined);
  }

  async function readAll<T extends z.ZodTypeAny>(
    entitySet: string,
    filter: string,
    item: T,
    control?: CallControl,
  ): Promise<z.output<T>[]> {
    const params = new URLSearchParams({ 'cross-company': 'true', $filter: filter });
    const out: z.output<T>[] = [];
    let url: string | undefined = `${entitySet}?${params.toString()}`;
    while (url) {
      const page: z.output<ReturnType<typeof collection<T>>> = await getJson(
        url,
        collection(item),
        config.pageSize,
      );
      out.push(...page.value);
      url = page['@odata.nextLink'];
      control?.progress?.({ entitySet, read: out.length });
    }
    return out;
  }

  /** Posts creates in one change set: all of them land, or none and the failure is thrown. */
  async function changeSet(entitySet: string, bodies: unknown[], correlationId: string): Promise<void> {
    const batch = changeSetBatch(
      bodies.map((body) => ({ method: 'POST', url: `${base}/data/${entitySet}`, body })),
      { 'Content-Type': JSON_TYPE, Accept: JSON_TYPE },
    );
    const text = await send('POST', '$batch', {
      body: batch.body,
      contentType: batch.contentType,
      correlationId,
    });
    const answers = batchResponses(text);
    const failed = answers.find((a) => a.status >= 400);
    if (failed)
      throw classifyHttpFailure(
        SYSTEM,
        { method: 'POST', url: `${base}/data/${entitySet}` },
        failed.status,
        null,
        failed.body,
      );
    if (answers.length !== bodies.length) {
      throw protocolFailure(SYSTEM, `$batch answered ${answers.length} of ${bodies.length} requests`);
    }
  }

  /**
   * The ledger dimension display value in the company's segment order; a segment the line leaves out is
   * empty. The company and its ledger are held by the company itself (HELD_BY_COMPANY), checked, not sent.
   * A dimension the format has no segment for would be lost: refused, never dropped.
   */
  const displayValue = (values: SystemDimensionValues, target: TargetLocation) => {
    const format = segmentsOf(target, config.dimensionFormat);
    const refuse = (message: string) =>
      ApplicationFailure.create({ type: FailureType.MappingMissing, message, nonRetryable: true });
    if (values.company !== undefined && values.company !== target.company)
      throw refuse(
        `a line of company ${values.company} cannot be posted in ${SYSTEM} company ${target.company}`,
      );
    const ledger = target.settings.ledger;
    if (values.ledger !== undefined && ledger !== undefined && values.ledger !== ledger)
      throw refuse(
        `a line of ledger ${values.ledger} cannot be posted in ledger ${ledger} of ${target.company}`,
      );
    const extra = Object.keys(values).filter(
      (d) => !format.includes(d) && !(HELD_BY_COMPANY as readonly string[]).includes(d),
    );
    if (extra.length)
      throw refuse(
        `the ${SYSTEM} dimension format of ${target.company} (${format.join('-')}) has no segment for ${extra.join(', ')}; add it to the target's dimensionFormat setting (or D365_DIMENSION_FORMAT) in the account structure's order`,
      );
    return format.map((dimension) => values[dimension] ?? '').join('-');
  };
  const parseDisplayValue = (
    value: string | null,
    target?: { settings?: Readonly<Record<string, string>> },
  ): SystemDimensionValues => {
    const parts = (value ?? '').split('-');
    const values: SystemDimensionValues = {};
    segmentsOf(target, config.dimensionFormat).forEach((dimension, i) => {
      if (parts[i]) values[dimension] = parts[i];
    });
    return values;
  };

  /** A general journal account entry, read by OData or from an export, as the posted line closeloop counts. */
  const actualLineOf = (
    e: {
      GeneralJournalAccountEntryRecId: bigint | string;
      JournalNumber: string;
      Voucher: string;
      AccountingDate: string;
      LedgerAccount: string;
      TransactionCurrencyAmount: string;
      TransactionCurrencyCode: string;
      Description?: string | null;
    },
    target?: { settings?: Readonly<Record<string, string>> },
  ): SourceActualLine => ({
    // The entry's record ID is its identity: a journal, a voucher and an account can repeat within one.
    documentId: `${e.JournalNumber}/${e.Voucher}/${e.GeneralJournalAccountEntryRecId}`,
    lineNo: 1,
    revision: 0,
    dimensions: parseDisplayValue(e.LedgerAccount, target),
    postingDate: e.AccountingDate.slice(0, 10),
    amount: { amount: e.TransactionCurrencyAmount, currency: e.TransactionCurrencyCode },
    description: e.Description || undefined,
  });

  /** A ledger export record, named by the file's header: a posted line, or why it cannot be read. */
  function parseLedgerExportRecord(fields: string[], header: string[], line: number): LedgerExportItem {
    if (fields.length !== header.length) {
      const reason = `has ${fields.length} fields where the header names ${header.length}`;
      return { invalid: { line, reason, row: fields } };
    }
    const raw: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) raw[header[i]!] = fields[i]!;
    const row = LedgerExportRow.safeParse(raw);
    return row.success
      ? actualLineOf(row.data)
      : { invalid: { line, reason: describeIssues(row.error), row: raw } };
  }

  async function findHeader(company: string, key: string) {
    const found = await readAll(
      'BudgetRegisterEntryHeaders',
      `dataAreaId eq ${odataString(company)} and ReasonComment eq ${odataString(keyComment(key))}`,
      Header,
    );
    if (found.length > 1) {
      throw protocolFailure(
        SYSTEM,
        `${found.length} budget register entries in ${company} carry key ${key} (${found.map((h) => h.EntryNumber).join(', ')}); remove the extra one by hand`,
      );
    }
    return found[0];
  }

  const entryFilter = (h: z.output<typeof Header>) =>
    `dataAreaId eq ${odataString(h.dataAreaId)} and LegalEntityId eq ${odataString(h.LegalEntityId)} and EntryNumber eq ${odataString(h.EntryNumber)}`;

  /**
   * Waits for "Update budget balances" to complete the entry. A rejected workflow or a failed budget check
   * is final; still waiting when the wait ends is retryable, and the retry comes back here.
   */
  async function awaitCompletion(header: z.output<typeof Header>, control: CallControl): Promise<void> {
    const deadline = Date.now() + config.completionWaitMs;
    for (;;) {
      const [h] = await readAll('BudgetRegisterEntryHeaders', entryFilter(header), Header);
      if (!h) throw protocolFailure(SYSTEM, `budget register entry ${header.EntryNumber} disappeared`);
      if (h.Status === 'Completed') return;
      if (h.WorkflowStatus === 'Rejected') {
        throw ApplicationFailure.create({
          type: FailureType.ConnectorRejected,
          message: `d365 budget register entry ${h.EntryNumber} was rejected in its budget workflow`,
          nonRetryable: true,
        });
      }
      const lines = await readAll('BudgetRegisterEntryLines', entryFilter(h), Line);
      const failed = lines.filter((l) => l.BudgetCheckResult === 'Failed').map((l) => l.LineNumber);
      if (failed.length) {
        throw ApplicationFailure.create({
          type: FailureType.ConnectorRejected,
          message: `d365 budget check failed on line(s) ${failed.join(', ')} of budget register entry ${h.EntryNumber}; see Budget control errors and warnings`,
          nonRetryable: true,
          details: [{ system: SYSTEM, entryNumber: h.EntryNumber, failedLines: failed }],
        });
      }
      control.progress?.({
        entryNumber: h.EntryNumber,
        awaiting: h.WorkflowStatus === 'Submitted' ? 'workflow' : 'update budget balances',
      });
      if (Date.now() >= deadline) {
        throw ApplicationFailure.create({
          type: FailureType.ConnectorUnavailable,
          message: `d365 budget register entry ${h.EntryNumber} is still Draft: awaiting ${h.WorkflowStatus === 'Submitted' ? 'its budget workflow' : '"Update budget balances"'}`,
          nonRetryable: false,
        });
      }
      await new Promise((r) => setTimeout(r, config.completionPollMs));
    }
  }

  /**
   * Create-or-resume: header by key, then the lines it lacks in one change set (under `exclusive`, so two
   * attempts never create two entries for one key: D365 does not refuse a second), then wait for completion.
   */
  async function post(chunk: BudgetChunkPublication, control: CallControl = {}): Promise<PostedDocument> {
    budgetSettings(chunk.target); // a target without its budget fails before anything is sent
    // So does a line the display value format cannot hold.
    const display = new Map(chunk.lines.map((l) => [l.lineNumber, displayValue(l.dimensions, chunk.target)]));
    const exclusive = control.exclusive ?? ((_key, fn) => fn());
    const header = await exclusive(chunk.idempotencyKey, async () => {
      const found = await findHeader(chunk.target.company, chunk.idempotencyKey);
      if (found?.Status === 'Completed') return { entry: found, alreadyPosted: true };
      const entry =
        found ??
        parseResponse(
          SYSTEM,
          'POST BudgetRegisterEntryHeaders',
          Header,
          JSON.parse(
            await send('POST', 'BudgetRegisterEntryHeaders', {
              contentType: JSON_TYPE,
              correlationId: chunk.correlationId,
              body: JSON.stringify(entryHeaderBody(chunk)),
            }),
          ),
        );
      const held = new Set(
        (await readAll('BudgetRegisterEntryLines', entryFilter(entry), Line)).map((l) => l.LineNumber),
      );
      const missing = chunk.lines.filter((l) => !held.has(l.lineNumber));
      if (missing.length) {
        await changeSet(
          'BudgetRegisterEntryLines',
          missing.map((line) => entryLineBody(entry, line, chunk.target, display.get(line.lineNumber)!)),
          chunk.correlationId,
        );
      }
      return { entry, alreadyPosted: false };
    });
    control.progress?.({ entryNumber: header.entry.EntryNumber, linesPosted: chunk.lines.length });
    if (!header.alreadyPosted) await awaitCompletion(header.entry, control);
    return {
      idempotencyKey: chunk.idempotencyKey,
      documentNumber: header.entry.EntryNumber,
      lineCount: chunk.lines.length,
      alreadyPosted: header.alreadyPosted,
    };
  }

  return {
    system: SYSTEM,

    health: () =>
      probeHealth(SYSTEM, () =>
        getJson('BudgetRegisterEntryHeaders?$top=1&cross-company=true', collection(z.unknown())),
      ),

    publishBudgetChunk: (chunk, control) => post(chunk, control),

    async reverseBudgetChunk(reversal: BudgetChunkReversal, control?: CallControl): Promise<PostedDocument> {
      // A negative entry for an original the ERP does not hold (removed by hand, or a reset environment)
      // would unbalance the budget rather than restore it.
      const company = reversal.target.company;
      const original = await findHeader(company, reversal.originalIdempotencyKey);
      if (original?.Status !== 'Completed' && !(await findHeader(company, reversal.idempotencyKey))) {
        return {
          idempotencyKey: reversal.idempotencyKey,
          documentNumber: '',
          lineCount: 0,
          alreadyPosted: false,
          originalMissing: true,
        };
      }
      return post(
        { ...reversal, lines: reversal.lines.map((l) => ({ ...l, amount: negate(l.amount) })) },
        control,
      );
    },

    /**
     * The account structures the target names (setting `accountStructures`, names separated by ";"), with
     * their segments and active allowed values: budgeting judges lines by the account structure only
     * ("Budgeting does not currently utilize advanced rules", configure-account-structures.md). Undefined
     * when the target names none.
     */
    async fetchTargetStructures(
      target: TargetLocation,
      control?: CallControl,
    ): Promise<TargetStructure[] | undefined> {
      const names = (target.settings.accountStructures ?? '')
        .split(';')
        .map((n) => n.trim())
        .filter(Boolean);
      if (!names.length) return undefined;
      const structures: TargetStructure[] = [];
      for (const name of names) {
        const [structure] = await readAll(
          'AccountStructures',
          `AccountStructureName eq ${odataString(name)}`,
          AccountStructureRow,
          control,
        );
        if (!structure || structure.Status !== 'Active')
          throw ApplicationFailure.create({
            type: FailureType.ValidationFailed,
            message: `account structure ${name} (setting accountStructures of ${target.company}) is ${structure ? `${structure.Status ?? 'not active'}` : 'not in'} ${SYSTEM}`,
            nonRetryable: true,
          });
        const row = structure as Record<string, string | null | undefined>;
        const segments = SEGMENTS.map((n) => row[`SegmentName${n}`]).filter((x): x is string => !!x);
        const constraints = await readAll(
          'AccountStructureConstraints',
          `AccountStructure eq ${odataString(name)}`,
          AccountStructureConstraintRow,
          control,
        );
        structures.push({
          name,
          segments: segments.map(dimensionOfSegment),
          rows: constraints
            .filter((c) => c.Status === 'Active')
            .sort((a, b) => Number(a.Position) - Number(b.Position))
            .map((c) => {
              const cells = c as Record<string, string | null | undefined>;
              return {
                source: `row ${String(c.Position)}`,
                criteria: Object.fromEntries(
                  segments.flatMap((segment, i) => {
                    const cell = cells[`SegmentCriteria${SEGMENTS[i]}`];
                    return cell ? [[dimensionOfSegment(segment), parseSegmentCriteria(cell)]] : [];
                  }),
                ),
              };
            }),
        });
      }
      return structures;
    },

    heldByCompany: HELD_BY_COMPANY,

    dimensionsHeld(target: TargetLocation): readonly string[] {
      return [...HELD_BY_COMPANY, ...segmentsOf(target, config.dimensionFormat)];
    },

    async fetchBudgetTotals(query, control?: CallControl): Promise<TargetBudgetTotal[]> {
      const settings = budgetSettings(query.target);
      // The flat "Budget account entries" entity carries each line's model, code, status and date. The
      // budget is its original entries and its revisions; transfers and supplements are filed under a code
      // of their own and do not count. One read per code: `or` in $filter is not needed for it.
      const lines = [];
      for (const code of new Set([settings.budgetCode, settings.revisionBudgetCode])) {
        lines.push(
          ...(await readAll(
            'BudgetRegisterEntries',
            [
              `dataAreaId eq ${odataString(query.target.company)}`,
              `BudgetModelId eq ${odataString(settings.budgetModel)}`,
              `BudgetCode eq ${odataString(code)}`,
              `Status eq ${enumLiteral('BudgetTransactionStatus', 'Completed')}`,
              `Date ge ${dayStart(query.fromDate)}`,
              `Date le ${dayEnd(query.toDate)}`,
            ].join(' and '),
            AccountEntry,
            control,
          )),
        );
      }
      const totals = new Map<string, { display: string; date: string; currency: string; minor: bigint }>();
      for (const l of lines) {
        const date = l.Date.slice(0, 10);
        const k = `${l.DimensionDisplayValue}|${date}|${l.CurrencyCode}`;
        const t = totals.get(k) ?? {
          display: l.DimensionDisplayValue,
          date,
          currency: l.CurrencyCode,
          minor: 0n,
        };
        t.minor += toMinor(l.TransactionCurrencyAmount, l.CurrencyCode);
        totals.set(k, t);
      }
      return [...totals.values()].map((t) => ({
        dimensions: parseDisplayValue(t.display, query.target),
        date: t.date,
        amount: { amount: fromMinor(t.minor, t.currency), currency: t.currency },
      }));
    },

    async fetchActualsPage(query: LedgerQuery, cursor?: string): Promise<ActualsPage> {
      const resumed = cursor ? ActualsCursor.safeParse(decodeCursor(cursor)) : undefined;
      if (resumed && !resumed.success)
        throw protocolFailure(SYSTEM, 'the actuals cursor is not one this adapter wrote');
      let url = resumed?.data.next;
      if (!url) {
        const filter = [
          `DataArea eq ${odataString(query.company)}`,
          `PostingLayer eq ${enumLiteral('CurrentOperationsTax', 'Current')}`,
          `AccountingDate ge ${dayStart(query.fromDate)}`,
          `AccountingDate le ${dayEnd(query.toDate)}`,
          ...(query.watermark ? [`GeneralJournalAccountEntryRecId gt ${BigInt(query.watermark)}`] : []),
        ].join(' and ');
        url = `${config.ledgerEntitySet}?${new URLSearchParams({ 'cross-company': 'true', $filter: filter, $orderby: 'GeneralJournalAccountEntryRecId asc' }).toString()}`;
      }
      const page = await getJson(url, collection(LedgerEntry), query.pageSize ?? config.pageSize);
      const highest = page.value.reduce(
        (m, e) => (e.GeneralJournalAccountEntryRecId > m ? e.GeneralJournalAccountEntryRecId : m),
        BigInt(resumed?.data.highest ?? query.watermark ?? 0),
      );
      const next = page['@odata.nextLink'];
      return {
        lines: page.value.map((e) => actualLineOf(e, query)),
        cursor: next
          ? Buffer.from(JSON.stringify({ next, highest: String(highest) })).toString('base64url')
          : undefined,
        watermark: highest > 0n ? String(highest) : (query.watermark ?? ''),
      };
    },

    async fetchOpenCommitments(query: LedgerQuery, control?: CallControl): Promise<SourceCommitmentLine[]> {
      // Encumbrances arise when a purchase order is confirmed; its currency is on the header only.
      const headers = await readAll(
        'PurchaseOrderHeadersV2',
        `dataAreaId eq ${odataString(query.company)} and DocumentApprovalStatus eq ${enumLiteral('VersioningDocumentState', 'Confirmed')}`,
        PurchaseOrderHeader,
        control,
      );
      const currencies = new Map(headers.map((h) => [h.PurchaseOrderNumber, h.CurrencyCode ?? '']));
      const lines = await readAll(
        'PurchaseOrderLinesV2',
        [
          `dataAreaId eq ${odataString(query.company)}`,
          `PurchaseOrderLineStatus eq ${enumLiteral('PurchStatus', 'Backorder')}`,
          `RequestedDeliveryDate ge ${dayStart(query.fromDate)}`,
          `RequestedDeliveryDate le ${dayEnd(query.toDate)}`,
        ].join(' and '),
        PurchaseOrderLine,
        control,
      );
      return lines
        .filter((l) => currencies.has(l.PurchaseOrderNumber))
        .map((l) => ({
          documentId: l.PurchaseOrderNumber,
          lineNo: Number(l.LineNumber),
          // The entity has no line version: each sync is a snapshot, and a changed amount replaces the last.
          revision: 0,
          dimensions: parseDisplayValue(l.DefaultLedgerDimensionDisplayValue, query),
          date: l.RequestedDeliveryDate.slice(0, 10),
          // The open (backorder) line's amount; the entity exposes no remaining quantity for partial receipts.
          openAmount: { amount: l.LineAmount, currency: currencies.get(l.PurchaseOrderNumber)! },
        }));
    },

    async fetchExchangeRates(
      query: { fromDate: string },
      control?: CallControl,
    ): Promise<SourceExchangeRate[]> {
      const byName = new Map(
        Object.entries(config.rateTypeNames).map(([type, name]) => [
          name,
          type as SourceExchangeRate['rateType'],
        ]),
      );
      const rows = await readAll(
        config.exchangeRateEntitySet,
        `ValidTo ge ${dayStart(query.fromDate)}`,
        ExchangeRateRow,
        control,
      );
      return rows.flatMap((r) => {
        const rateType = byName.get(r.ExchangeRateTypeName);
        if (!rateType) return [];
        const validTo = r.ValidTo?.slice(0, 10) ?? null;
        return [
          {
            rateType,
            from: r.FromCurrencyCode,
            to: r.ToCurrencyCode,
            validFrom: r.ValidFrom.slice(0, 10),
            // D365 keeps open-ended rates until its maximum date.
            validTo: validTo && validTo < '2154-12-31' ? validTo : null,
            rate: r.Rate,
          },
        ];
      });
    },

    /**
     * Main accounts of the configured chart (MainAccountEntity), the cost centers among the financial
     * dimension values (FinancialDimensionValueEntity) that are shared or the company's own, and each cost
     * center's parent in the published cost-center hierarchy (OMOrganizationHierarchyPublishedV2Entity: the
     * relationship that starts last, so a move published ahead of its date is seen before it takes effect).
     */
    async fetchMasterData(query, control) {
      const loose = z.record(z.string(), z.unknown());
      const [accountRows, valueRows, relationRows] = await Promise.all([
        readAll('MainAccounts', `ChartOfAccounts eq ${odataString(config.chartOfAccounts)}`, loose, control),
        readAll(
          'FinancialDimensionValues',
          `FinancialDimension eq ${odataString(config.costCenterDimension)}`,
          loose,
          control,
        ),
        readAll(
          config.hierarchyEntitySet,
          `Hierarchy eq ${odataString(config.costCenterHierarchy)}`,
          HierarchyRow,
          control,
        ),
      ]);
      const parents = new Map<string, { parent: string | null; from: string | null }>();
      for (const r of [...relationRows].sort((a, b) => (a.validFrom < b.validFrom ? -1 : 1))) {
        parents.set(r.ChildOrganization, {
          parent: r.ParentOrganization || null,
          from: d365Date(r.validFrom),
        });
      }
      const out: Awaited<ReturnType<ErpConnector['fetchMasterData']>> = [];
      for (const raw of accountRows) {
        const row = MainAccountRow.safeParse(raw);
        if (!row.success) {
          out.push({ invalid: raw, reason: `main account: ${describeIssues(row.error)}` });
          continue;
        }
        const a = row.data;
        if (NOT_POSTABLE.has(a.MainAccountType)) continue;
        const kind = ACCOUNT_KIND_OF[a.MainAccountType];
        if (!kind) {
          out.push({
            invalid: raw,
            reason: `main account ${a.MainAccountId}: unknown MainAccountType ${a.MainAccountType}`,
          });
          continue;
        }
        out.push({
          dimension: 'account',
          sourceValue: a.MainAccountId,
          name: a.Name,
          kind,
          suspended: a.IsSuspended === 'Yes',
          activeFrom: d365Date(a.ActiveFrom),
          activeTo: d365Date(a.ActiveTo),
        });
      }
      const company = query.company.toLowerCase();
      for (const raw of valueRows) {
        const row = DimensionValueRow.safeParse(raw);
        if (!row.success) {
          out.push({ invalid: raw, reason: `cost center: ${describeIssues(row.error)}` });
          continue;
        }
        const v = row.data;
        if (v.LegalEntityId && v.LegalEntityId.toLowerCase() !== company) continue;
        const place = parents.get(v.DimensionValue);
        out.push({
          dimension: 'costCenter',
          sourceValue: v.DimensionValue,
          name: v.Description || v.DimensionValue,
          suspended: v.IsSuspended === 'Yes',
          activeFrom: d365Date(v.ActiveFrom),
          activeTo: d365Date(v.ActiveTo),
          parent: place?.parent ?? null,
          parentFrom: place?.from ?? null,
        });
      }
      return out;
    },

    /**
     * The company's projects (Projects), each with the grant its contract's funding source of type Grant
     * names (ProjFundingSources, ProjGrantsV2). A row the adapter cannot read is handed over with its reason.
     */
    async fetchProjects(query, control) {
      const company = odataString(query.company.toLowerCase());
      const loose = z.record(z.string(), z.unknown());
      const [projectRows, grantRows, sourceRows] = await Promise.all([
        readAll('Projects', `dataAreaId eq ${company}`, loose, control),
        readAll('ProjGrantsV2', `dataAreaId eq ${company}`, loose, control),
        readAll('ProjFundingSources', `dataAreaId eq ${company} and FundingType eq 'Grant'`, loose, control),
      ]);
      const out: Awaited<ReturnType<NonNullable<ErpConnector['fetchProjects']>>> = [];
      const grants = new Map<string, z.output<typeof GrantRow>>();
      for (const raw of grantRows) {
        const g = GrantRow.safeParse(raw);
        if (g.success) grants.set(g.data.GrantId, g.data);
        else out.push({ invalid: raw, reason: `grant: ${describeIssues(g.error)}` });
      }
      const grantOfContract = new Map<string, string>();
      for (const raw of sourceRows) {
        const f = FundingSourceRow.safeParse(raw);
        if (f.success && f.data.GrantId) grantOfContract.set(f.data.ProjectContractID, f.data.GrantId);
      }
      for (const raw of projectRows) {
        const row = ProjectRow.safeParse(raw);
        if (!row.success) {
          out.push({ invalid: raw, reason: `project: ${describeIssues(row.error)}` });
          continue;
        }
        const p = row.data;
        const status = PROJECT_STATUS_OF[p.ProjectStage];
        if (!status) {
          out.push({
            invalid: raw,
            reason: `project ${p.ProjectID}: unknown ProjectStage ${p.ProjectStage}`,
          });
          continue;
        }
        const grantId = p.ProjectContractID ? grantOfContract.get(p.ProjectContractID) : undefined;
        const g = grantId ? grants.get(grantId) : undefined;
        const [from, to] = g ? [d365Date(g.ActualStartDate), d365Date(g.ActualExpirationDate)] : [null, null];
        if (grantId && (!g || !from || !to)) {
          out.push({
            invalid: raw,
            reason: `project ${p.ProjectID}: grant ${grantId} has no award period to control`,
          });
          continue;
        }
        out.push({
          sourceValue: p.ProjectID,
          name: p.ProjectName || p.ProjectID,
          status,
          ...(g
            ? {
                grant: {
                  grantId: g.GrantId,
                  name: g.GrantName || g.GrantId,
                  awarded: g.AwardedAmount,
                  awardFrom: from!,
                  awardTo: to!,
                },
              }
            : {}),
        });
      }
      return out;
    },

    /**
     * A data management export of "General journal account entry" as CSV (the entity's own column names:
     * GeneralJournalAccountEntryRecId, JournalNumber, Voucher, AccountingDate, LedgerAccount,
     * TransactionCurrencyAmount, TransactionCurrencyCode, Description), streamed row by row.
     */
    ledgerExportLayout: {
      required: LEDGER_EXPORT_REQUIRED,
      // What LedgerExportRow accepts, column by column (after csv-parse's trim, which the load applies too).
      wellFormed: {
        GeneralJournalAccountEntryRecId: '^[0-9]+$',
        JournalNumber: '^.+$',
        Voucher: '^.+$',
        AccountingDate: '^[0-9]{4}-[0-9]{2}-[0-9]{2}',
        LedgerAccount: '^.+$',
        TransactionCurrencyAmount: '^-?[0-9]+([.][0-9]+)?$',
        TransactionCurrencyCode: '^.{3}$',
      },
      documentId: ['JournalNumber', 'Voucher', 'GeneralJournalAccountEntryRecId'],
      postingDate: 'AccountingDate',
      amount: 'TransactionCurrencyAmount',
      currency: 'TransactionCurrencyCode',
      description: 'Description',
      account: 'LedgerAccount',
      dimensionsOf: (value) => parseDisplayValue(value),
    },
    parseLedgerExportRecord,
    async *readLedgerExport(file) {
      // pipe() carries backpressure: the file is read only as fast as the loader takes rows. Rows come as
      // arrays, named by the header here: cheaper than the parser's column objects, and a row with too few or
      // too many fields becomes a dead letter naming them instead of stopping the load.
      const parser = file.pipe(
        parseCsv({ skip_empty_lines: true, bom: true, trim: true, relax_column_count: true }),
      );
      file.once('error', (err) => parser.destroy(err));
      let header: string[] | undefined;
      let line = 0;
      for await (const records of inBatches<string[]>(parser, 1000)) {
        const out: LedgerExportItem[] = [];
        for (const fields of records) {
          line++;
          if (!header) {
            header = fields;
            continue;
          }
          out.push(parseLedgerExportRecord(fields, header, line));
        }
        if (out.length) yield out;
      }
    },
  };
}
