import { type BudgetVersionRef } from './model';

/**
 * Identities derived from business objects. Workflow IDs and idempotency keys come from here and only
 * here: a Temporal UI reset replays activities with a new run ID, so nothing may depend on run IDs.
 */

export function versionKey(ref: BudgetVersionRef): string {
  return `${ref.legalEntity}:FY${ref.fiscalYear}:${ref.scenario}:v${ref.version}`;
}

export function budgetCycleWorkflowId(ref: BudgetVersionRef): string {
  return `budget-cycle:${versionKey(ref)}`;
}

export function publicationWorkflowId(ref: BudgetVersionRef, target: string): string {
  return `publication:${versionKey(ref)}:${target}`;
}

export function parseBudgetCycleWorkflowId(id: string): BudgetVersionRef | undefined {
  const m = /^budget-cycle:([A-Z0-9][A-Z0-9-]{1,19}):FY(\d{4}):(BUDGET|FORECAST):v(\d{1,4})$/.exec(id);
  if (!m) return undefined;
  return {
    legalEntity: m[1]!,
    fiscalYear: Number(m[2]),
    scenario: m[3] as BudgetVersionRef['scenario'],
    version: Number(m[4]),
  };
}

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

export function actualDedupeKey(a: {
  sourceSystem: string;
  documentId: string;
  lineNo: number;
  revision: number;
}): string {
  return `${a.sourceSystem}:${a.documentId}:${a.lineNo}:r${a.revision}`;
}
