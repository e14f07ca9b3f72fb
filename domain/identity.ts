import { type BudgetVersionRef } from './model';

/**
 * Identities derived from business objects. Workflow IDs and idempotency keys come from here and only
 * here: a Temporal UI reset replays activities with a new run ID, so nothing may depend on run IDs.
 */

export function versionKey(ref: BudgetVersionRef): string {
  return `${ref.legalEntity}:FY${ref.fiscalYear}:${ref.scenario}:v${ref.version}`;
}

/**
 * A version may go round the loop more than once on purpose (resubmitted after a rejection, reforecast next
 * month): each trip is a cycle revision. The first keeps the plain ID; later ones carry `:r<revision>`.
 */
export function budgetCycleWorkflowId(ref: BudgetVersionRef, revision = 1): string {
  const base = `budget-cycle:${versionKey(ref)}`;
  return revision === 1 ? base : `${base}:r${revision}`;
}

/** A group version's cycle: one planning version fanned out into one budget cycle per legal entity. */
export function groupBudgetCycleWorkflowId(g: {
  group: string;
  fiscalYear: number;
  scenario: string;
  version: number;
}): string {
  return `group-budget-cycle:${g.group}:FY${g.fiscalYear}:${g.scenario}:v${g.version}`;
}

export function publicationWorkflowId(ref: BudgetVersionRef, target: string): string {
  return `publication:${versionKey(ref)}:${target}`;
}

export interface BudgetCycleId {
  ref: BudgetVersionRef;
  revision: number;
}

export function parseBudgetCycleWorkflowId(id: string): BudgetCycleId | undefined {
  const m =
    /^budget-cycle:([A-Z0-9][A-Z0-9-]{1,19}):FY(\d{4}):([A-Z][A-Z0-9_]{1,19}):v(\d{1,4})(?::r(\d{1,4}))?$/.exec(
      id,
    );
  if (!m || m[5] === '1') return undefined;
  return {
    ref: {
      legalEntity: m[1]!,
      fiscalYear: Number(m[2]),
      scenario: m[3]!,
      version: Number(m[4]),
    },
    revision: m[5] === undefined ? 1 : Number(m[5]),
  };
}

/**
 * Audit streams: each is its own hash chain, so unrelated work never waits on one global lock. A legal
 * entity's budget lifecycle (versions, cycles, publications, reconciliation, forecasts) is one stream; its
 * ingested actuals and commitments are others.
 */
export const auditStream = {
  budget: (legalEntity: string) => `budget:${legalEntity}`,
  actuals: (legalEntity: string) => `actuals:${legalEntity}`,
  commitments: (legalEntity: string) => `commitments:${legalEntity}`,
  /** Acts of budget control: freezes, unfreezes, overrides, transfers. */
  control: (legalEntity: string) => `control:${legalEntity}`,
  /** Master data of an entity as its sync applied it: records created, changed, closed; approved moves. */
  masterData: (legalEntity: string) => `master-data:${legalEntity}`,
  /** An entity's period close: locks and reopens of its periods. */
  periodClose: (legalEntity: string) => `period-close:${legalEntity}`,
  /** An entity's approval policy revisions and cost-center owners. */
  approvals: (legalEntity: string) => `approvals:${legalEntity}`,
  /** Approvers' delegations (they span entities). */
  delegations: () => 'delegations',
  /** A fiscal calendar's definitions (shared by every entity on it). */
  calendar: (code: string) => `calendar:${code}`,
  /** An entity's chart of accounts: its versions, value lists, hierarchies and cross-validation rules. */
  chart: (legalEntity: string) => `chart:${legalEntity}`,
  /** Where an entity's budgets go: its routes, each start, end and change of settings. */
  routing: (legalEntity: string) => `routing:${legalEntity}`,
  /** Dimension mappings of one target system (shared by every entity on that system). */
  mappings: (system: string) => `mappings:${system}`,
  /** Ends of one ERP's jobs as its callbacks reported them. */
  erpJobs: (system: string) => `erp-jobs:${system}`,
} as const;

/** Idempotency key of one publication chunk: the same version, target, chunk and revision post once. */
export function chunkPublicationKey(
  ref: BudgetVersionRef,
  target: string,
  chunkIndex: number,
  revision = 1,
): string {
  return `${versionKey(ref)}:${target}:c${chunkIndex}:r${revision}`;
}

export function chunkReversalKey(publicationKey: string): string {
  return `${publicationKey}:reversal`;
}

/** The forecast version pushed back to planning is named after the budget version it was built from. */
export function forecastKey(ref: BudgetVersionRef, asOfPeriod: string): string {
  return `${versionKey(ref)}:forecast@${asOfPeriod}`;
}

/** The business identity of a source document line: the same source, document, line and revision is one record. */
export function sourceRecordKey(a: {
  sourceSystem: string;
  documentId: string;
  lineNo: number;
  revision: number;
}): string {
  return `${a.sourceSystem}:${a.documentId}:${a.lineNo}:r${a.revision}`;
}
