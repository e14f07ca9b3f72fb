import { type PostingModel } from '../../domain/posting-model';
import { type TargetStructure } from '../../domain/target-structures';
import { type Readable } from 'node:stream';
import { type SystemDimensionValues } from '../../domain/mapping';
import { type BudgetVersionRef, type PlanningBudgetRow } from '../../domain/model';
import { type SourceMasterRecord } from '../../domain/master-data';
import { type Money } from '../../domain/money';
import { type SourceProject } from '../../domain/projects';

/**
 * Canonical connector interfaces, in closeloop's vocabulary. Activities speak only these; one adapter per
 * system translates to that system's real API (its entity names, key fields, segment layout and settings
 * are the adapter's business). Amounts are decimal strings that always travel with their currency.
 */

export interface HealthStatus {
  system: string;
  ok: boolean;
  latencyMs: number;
  detail?: string;
}

/**
 * How a long call reports progress and resumes: `progress` is called as work advances (activities turn it
 * into heartbeats), `resumeFrom` is the last progress a previous attempt reported, so a retry resumes
 * instead of starting over.
 */
export interface CallControl {
  progress?(detail: Record<string, unknown>): void;
  resumeFrom?: Record<string, unknown>;
  /**
   * Runs `fn` so that no other call anywhere runs it for the same key at the same time: an adapter wraps
   * its find-or-create of a document in it, since the target itself may not refuse a second document with
   * the same key.
   */
  exclusive?<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * How a job the adapter waits on ended, as the ERP's callback reported it (undefined: not yet): a load takes
   * its end from here as soon as it arrives, between its polls of the ERP.
   */
  jobEnded?(requestId: string): Promise<'running' | 'succeeded' | 'warning' | 'failed' | undefined>;
  /**
   * Runs `fn` in one of the ERP account's concurrency slots, shared by every worker of the deployment (NetSuite
   * limits concurrent requests per account); absent: no limit kept.
   */
  slot?<T>(fn: () => Promise<T>): Promise<T>;
}

/** An amount as a source delivered it: not yet validated, but never without its currency. */
export interface SourceAmount {
  amount: string;
  currency: string;
}

/** Where a publication lands: the company in the target system and the target's own settings. */
export interface TargetLocation {
  company: string;
  /** Target-specific parameters (e.g. which budget of the target), read by its adapter only. */
  settings: Readonly<Record<string, string>>;
  /**
   * How the target holds the budget, as its route chose (domain/routing): an ERP that holds budgets more than
   * one way (Oracle: control budgets or GL budget balances) posts and reads by it. Absent: the ERP's own.
   */
  postingModel?: PostingModel;
}

/** A budget line mapped to the target's values of the canonical dimensions. */
export interface TargetBudgetLine {
  lineNumber: number;
  dimensions: SystemDimensionValues;
  /** Canonical period the line belongs to ("2027-03"). */
  period: string;
  /** The date the target books the line on (first day of the period). */
  date: string;
  amount: Money;
}

export type BudgetPurpose = 'original' | 'revision' | 'transfer';

export interface BudgetChunkPublication {
  /** From business identity (version, target, chunk, revision); the target must see it at most once. */
  idempotencyKey: string;
  correlationId: string;
  target: TargetLocation;
  /**
   * `original`: the budget's first publication to the target; `revision`: the differences a later version
   * makes to what the target holds; `transfer`: budget moved between buckets (a transfer or supplement). A
   * target files them apart (Dynamics 365: budget codes of those types).
   */
  purpose: BudgetPurpose;
  description: string;
  lines: TargetBudgetLine[];
}

export interface BudgetChunkReversal extends BudgetChunkPublication {
  /** The key of the chunk being reversed; `lines` are the original lines, the adapter negates them. */
  originalIdempotencyKey: string;
}

export interface PostedDocument {
  idempotencyKey: string;
  documentNumber: string;
  lineCount: number;
  /** True when the target already had this key: nothing new was posted. */
  alreadyPosted: boolean;
  /** Set on a reversal that posted nothing because the target does not hold the original. */
  originalMissing?: boolean;
}

export interface BudgetTotalsQuery {
  target: TargetLocation;
  /**
   * Every document closeloop posted to the target for this budget (entries and their reversals) with its
   * lines, for a target that cannot list what it holds but can say which of them it applied (Oracle's
   * budgetary control results): read only by such a target.
   */
  posted?: () => AsyncIterable<{ document: string; lines: TargetBudgetLine[] }>;
  /** Inclusive ISO date range of the fiscal year. */
  fromDate: string;
  toDate: string;
  /** The budget's currency: a target that keeps a balance per currency (Oracle's GL budgets) reads this one. */
  currency?: string;
}

export interface TargetBudgetTotal {
  dimensions: SystemDimensionValues;
  /** ISO date the amount is booked on; callers turn it into a fiscal period. */
  date: string;
  amount: SourceAmount;
}

export interface LedgerQuery {
  company: string;
  /** The entity's publication target settings in this system (its display value format, say), if any. */
  settings?: Readonly<Record<string, string>>;
  fromDate: string;
  toDate: string;
  /** Opaque watermark returned by the previous sync of this window; undefined starts from the beginning. */
  watermark?: string;
  pageSize?: number;
}

/** A posted ledger line; its identity is source + document + line + revision. */
export interface SourceActualLine {
  documentId: string;
  lineNo: number;
  revision: number;
  dimensions: SystemDimensionValues;
  postingDate: string;
  /** In the currency the line was posted in. */
  amount: SourceAmount;
  description?: string;
  /**
   * The journal's source and category as the ERP names them (Oracle: the batch's journal source, the journal's
   * category), where the adapter reads them: a cut-over's migration journals are recognised by them.
   */
  journal?: { source?: string; category?: string };
}

/** A line of a ledger export file, or a row of it that could not be read (with its line number and reason). */
export type LedgerExportItem = SourceActualLine | { invalid: { line: number; reason: string; row: unknown } };

/**
 * A ledger export's columns and what each means, for the set-based load. A row is taken whole by the database
 * only when every value matches its `wellFormed` pattern (a PostgreSQL regular expression saying what the
 * adapter's row schema accepts); any other row is read by parseLedgerExportRow, for its reason.
 */
export interface LedgerExportLayout {
  /** Columns the header must name (any order); `description` may be absent. */
  required: readonly string[];
  wellFormed: Readonly<Record<string, string>>;
  /** The columns whose values, joined by '/', are the document ID (SourceActualLine.documentId). */
  documentId: readonly string[];
  /** The posting date: the value's first 10 characters. */
  postingDate: string;
  amount: string;
  currency: string;
  description: string;
  /** The column naming the line's dimensions (an account display value), read by `dimensionsOf`. */
  account: string;
  dimensionsOf(value: string): SystemDimensionValues;
}

export interface ActualsPage {
  lines: SourceActualLine[];
  /** Present while more pages follow; pass back as `cursor`. */
  cursor?: string;
  /** The watermark to store once every page has been consumed. */
  watermark: string;
}

/** An open purchase-order line (a snapshot; a higher revision supersedes a lower one). */
export interface SourceCommitmentLine {
  documentId: string;
  lineNo: number;
  revision: number;
  dimensions: SystemDimensionValues;
  date: string;
  openAmount: SourceAmount;
}

/** An exchange rate as the ERP keeps it, its rate type already in closeloop's terms. */
export interface SourceExchangeRate {
  rateType: 'spot' | 'average' | 'budget';
  from: string;
  to: string;
  validFrom: string;
  validTo: string | null;
  rate: string;
}

/**
 * An ERP as a budget target: what a route to it needs (publish, undo, read back, and what it will not take).
 * An entity's budget may go to an ERP that does not keep its books (ACME-US's funds control in Oracle).
 */
export interface BudgetTarget {
  readonly system: string;
  health(): Promise<HealthStatus>;
  publishBudgetChunk(chunk: BudgetChunkPublication, control?: CallControl): Promise<PostedDocument>;
  reverseBudgetChunk(reversal: BudgetChunkReversal, control?: CallControl): Promise<PostedDocument>;
  fetchBudgetTotals(query: BudgetTotalsQuery, control?: CallControl): Promise<TargetBudgetTotal[]>;
  /**
   * The periods, among those starting on `days`, that the target does not take budgets into (its own period
   * close), each with why; absent: the target says nothing of its periods. A publication posts into none of
   * them, whatever closeloop's own calendar says.
   */
  periodsRefused?(
    target: TargetLocation,
    days: readonly string[],
    control?: CallControl,
  ): Promise<{ day: string; reason: string }[]>;
  /**
   * The canonical dimensions a target of this system can hold for the company (the segments of its form,
   * and what the company holds itself); absent: any. Validation names a line's dimension outside them
   * before approval, so an approved budget never fails at posting.
   */
  dimensionsHeld?(target: TargetLocation): readonly string[];
  /**
   * The target's own rules of which combinations it accepts (a D365 company's account structures), read
   * from it; undefined when the target names none. Validation judges every line by them before approval.
   */
  fetchTargetStructures?(
    target: TargetLocation,
    control?: CallControl,
  ): Promise<TargetStructure[] | undefined>;
  /** Dimensions the target's company holds itself, without a segment (D365: company and ledger). */
  readonly heldByCompany?: readonly string[];
}

/** An ERP as the system of record of an entity's books: its actuals, commitments, rates and master data. */
export interface LedgerSource {
  /** One page of posted ledger lines after the watermark; call again with `cursor` until it is absent. */
  fetchActualsPage(query: LedgerQuery, cursor?: string): Promise<ActualsPage>;
  fetchOpenCommitments(query: LedgerQuery, control?: CallControl): Promise<SourceCommitmentLine[]>;
  /**
   * The lines of a ledger export file (a month-end extract of posted entries), streamed in batches as they
   * are read: the same lines, with the same identities, as `fetchActualsPage` reads, so a load and a sync
   * count each line once. A row that cannot be read comes back as `{ invalid }` with its line number, never
   * skipped. Absent: the ERP's actuals come through the sync only (Oracle Fusion: its journals).
   */
  readLedgerExport?(file: Readable): AsyncIterable<LedgerExportItem[]>;
  /**
   * How the adapter's ledger export file is laid out, for a load that lets PostgreSQL parse it (COPY) and
   * turns its well-formed rows into lines in set-based statements; absent: files are read by readLedgerExport.
   */
  readonly ledgerExportLayout?: LedgerExportLayout;
  /**
   * One record of a ledger export (its fields, the file's header) as readLedgerExport reads it (`line`: its
   * record number, the header being 1): the set-based load hands back every row it does not take whole, so
   * each reason reads as the row path gives it.
   */
  parseLedgerExportRecord?(fields: string[], header: string[], line: number): LedgerExportItem;
  /** Exchange rates still valid on or after `fromDate`, of the rate types closeloop maps. */
  fetchExchangeRates(query: { fromDate: string }, control?: CallControl): Promise<SourceExchangeRate[]>;
  /**
   * The chart of accounts and the company's cost centers as the ERP keeps them (it is their system of
   * record): every record, with its dates, suspension and, for a cost center, its parent in the published
   * hierarchy. A record the adapter cannot read is still handed over, as the source gave it, so the caller
   * keeps it with its reason.
   */
  fetchMasterData(
    query: { company: string },
    control?: CallControl,
  ): Promise<(SourceMasterRecord | { invalid: unknown; reason: string })[]>;
  /** The company's projects and the grants funding them; absent where the system keeps none closeloop reads. */
  fetchProjects?(
    query: { company: string },
    control?: CallControl,
  ): Promise<(SourceProject | { invalid: unknown; reason: string })[]>;
}

/** An ERP connected both ways: Dynamics 365, Oracle Fusion. */
export type ErpConnector = BudgetTarget & LedgerSource;

export interface ForecastRow {
  account: string;
  costCenter: string;
  period: string;
  amount: string;
  currency: string;
  /** An elapsed period's actuals, or a projection of one to come (a platform may keep them apart). */
  basis?: 'actual' | 'projection';
}

export interface ForecastPublication {
  /** From business identity (source version + as-of period); a repeat import changes nothing. */
  idempotencyKey: string;
  correlationId: string;
  legalEntity: string;
  fiscalYear: number;
  /** Planning-side name of the forecast version, e.g. "FC FY2027 v3 @2027-03". */
  versionName: string;
  /** The entity's settings on its planning platform (db/queries/planning-platforms), read by its adapter only. */
  settings?: Readonly<Record<string, string>>;
  /** The fiscal year's periods with their first days, for a platform that keeps months of its own. */
  periods?: readonly FiscalPeriodDay[];
  /**
   * The rows, or their pages as they are read from the database (a forecast of any size is never whole in a
   * worker's memory): an adapter takes them page by page (forecastRowPages).
   */
  rows: readonly ForecastRow[] | AsyncIterable<readonly ForecastRow[]>;
}

/** A forecast's rows page by page, whether it was given them whole or as pages. */
export async function* forecastRowPages(
  rows: ForecastPublication['rows'],
): AsyncIterable<readonly ForecastRow[]> {
  if (Symbol.asyncIterator in rows) yield* rows;
  else yield rows;
}

/** A fiscal period and the day it starts. */
export interface FiscalPeriodDay {
  period: string;
  startDate: string;
}

/** A row the planning platform did not take (an error) or took only in part (a warning), as it reported it. */
export interface ImportIssue {
  /** The row's line in the file we sent (the header is line 1). */
  line: number;
  severity: 'error' | 'warning';
  message: string;
  row: Record<string, string>;
}

export interface ForecastImportResult {
  idempotencyKey: string;
  rowsImported: number;
  rowsIgnored: number;
  rowsFailed: number;
  /** Every row the platform ignored or refused, with its reason; empty when all were taken. */
  issues: ImportIssue[];
}

export interface PlanningConnector {
  readonly system: string;
  health(): Promise<HealthStatus>;
  /** The rows of one budget version as the platform exports them (text fields, not yet validated). */
  fetchBudgetVersion(
    ref: BudgetVersionRef & {
      /** The entity's settings on this platform (db/queries/planning-platforms). */
      settings?: Readonly<Record<string, string>>;
      /** The fiscal year's periods with their first days, for a platform that keeps months of its own. */
      periods?: readonly FiscalPeriodDay[];
    },
    control?: CallControl,
  ): Promise<PlanningBudgetRow[]>;
  publishForecast(forecast: ForecastPublication, control?: CallControl): Promise<ForecastImportResult>;
}
