import { type BudgetVersionRef, type PlanningBudgetRow } from '../../domain/model';

/**
 * Canonical connector interfaces. Activities speak only these; one adapter per system translates to
 * that system's real API. Amounts are decimal strings with a currency, as everywhere.
 */

export interface HealthStatus {
  system: string;
  ok: boolean;
  latencyMs: number;
  detail?: string;
}

/** A budget line already mapped to the ERP's segments. */
export interface ErpBudgetLine {
  lineNumber: number;
  /** ERP main account, e.g. D365 MainAccount "60010". */
  mainAccount: string;
  /** Further ERP financial dimensions by name, e.g. { CostCenter: "100" }. */
  dimensions: Record<string, string>;
  /** Canonical period the line belongs to ("2027-03"). */
  period: string;
  /** The date the ERP books the line on (first day of the period). */
  date: string;
  amount: string;
  currency: string;
}

export interface BudgetChunkPublication {
  /** From business identity (version, target, chunk, revision); the ERP must see it at most once. */
  idempotencyKey: string;
  correlationId: string;
  /** ERP company / legal entity code, e.g. D365 dataAreaId "acus". */
  company: string;
  budgetModel: string;
  budgetCode: string;
  description: string;
  lines: ErpBudgetLine[];
}

export interface BudgetChunkReversal extends BudgetChunkPublication {
  /** The key of the chunk being reversed; `lines` are the original lines, the adapter negates them. */
  originalIdempotencyKey: string;
}

export interface PostedDocument {
  idempotencyKey: string;
  documentNumber: string;
  lineCount: number;
  /** True when the ERP already had this key: nothing new was posted. */
  alreadyPosted: boolean;
  /** Set on a reversal that posted nothing because the ERP does not hold the original (never reverse what is not there). */
  originalMissing?: boolean;
}

export interface ErpBudgetTotalsQuery {
  company: string;
  budgetModel: string;
  /** Inclusive ISO date range of the fiscal year. */
  fromDate: string;
  toDate: string;
}

export interface ErpBudgetTotal {
  mainAccount: string;
  dimensions: Record<string, string>;
  /** ISO date the amount is booked on; callers turn it into a fiscal period. */
  date: string;
  amount: string;
  currency: string;
}

export interface ErpLedgerQuery {
  company: string;
  fromDate: string;
  toDate: string;
  /** Opaque watermark returned by the previous sync; undefined starts from the beginning. */
  watermark?: string;
  pageSize?: number;
}

export interface ErpActualLine {
  documentId: string;
  lineNo: number;
  revision: number;
  mainAccount: string;
  dimensions: Record<string, string>;
  postingDate: string;
  amount: string;
  currency: string;
  description?: string;
}

export interface ErpActualsPage {
  lines: ErpActualLine[];
  /** Present while more pages follow; pass back as `cursor`. */
  cursor?: string;
  /** The watermark to store once every page has been consumed. */
  watermark: string;
}

export interface ErpCommitmentLine {
  documentId: string;
  lineNo: number;
  revision: number;
  mainAccount: string;
  dimensions: Record<string, string>;
  date: string;
  openAmount: string;
  currency: string;
}

export interface ErpConnector {
  readonly system: string;
  health(): Promise<HealthStatus>;
  publishBudgetChunk(chunk: BudgetChunkPublication): Promise<PostedDocument>;
  reverseBudgetChunk(reversal: BudgetChunkReversal): Promise<PostedDocument>;
  fetchBudgetTotals(query: ErpBudgetTotalsQuery): Promise<ErpBudgetTotal[]>;
  /** One page of posted ledger lines after the watermark; call again with `cursor` until it is absent. */
  fetchActualsPage(query: ErpLedgerQuery, cursor?: string): Promise<ErpActualsPage>;
  /** Open purchase-order commitments (a snapshot; a higher revision supersedes a lower one). */
  fetchOpenCommitments(query: ErpLedgerQuery): Promise<ErpCommitmentLine[]>;
}

export interface ForecastRow {
  account: string;
  costCenter: string;
  period: string;
  amount: string;
  currency: string;
}

export interface ForecastPublication {
  /** From business identity (source version + as-of period); a repeat import changes nothing. */
  idempotencyKey: string;
  correlationId: string;
  legalEntity: string;
  fiscalYear: number;
  /** Planning-side name of the forecast version, e.g. "FC FY2027 v3 @2027-03". */
  versionName: string;
  rows: ForecastRow[];
}

export interface ForecastImportResult {
  idempotencyKey: string;
  rowsImported: number;
  alreadyImported: boolean;
}

export interface PlanningConnector {
  readonly system: string;
  health(): Promise<HealthStatus>;
  /** The rows of one budget version as the platform exports them (text fields, not yet validated). */
  fetchBudgetVersion(ref: BudgetVersionRef): Promise<PlanningBudgetRow[]>;
  publishForecast(forecast: ForecastPublication): Promise<ForecastImportResult>;
}
