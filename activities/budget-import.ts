import { createHash } from 'node:crypto';
import { type LineIssue, type PeriodMove, validateBudgetRows } from '../domain/budget-validation';
import { chartDimensionCodes } from '../domain/chart';
import { budgetKey } from '../domain/revision';
import { type BudgetVersionRef, type PlanningBudgetRow } from '../domain/model';
import { type Money, money, sum, zero } from '../domain/money';
import { APPROVED_STATUSES, type BudgetVersionStatus, VersionStep } from '../domain/version-lifecycle';
import {
  type BudgetVersionRow,
  findVersion,
  type ImportedContent,
  insertImportedVersion,
  resubmitVersion,
} from '../db/queries/budget-versions';
import { inControlInClosedPeriods } from '../db/queries/publications';
import { fiscalYearPeriods, getLegalEntity, loadReferenceSnapshot } from '../db/queries/reference';
import { today } from './books-erp';
import { type ActivityDeps, planningOn } from './deps';
import { conflict, notFound } from './failures';
import { withHeartbeat } from './heartbeat';

export interface ImportBudgetVersionInput {
  ref: BudgetVersionRef;
  submittedBy: string;
  correlationId: string;
  /** The cycle importing it; a revision after the first resubmits a version that did not pass. */
  cycleId?: string;
  revision?: number;
}

export interface ImportedBudgetVersion {
  versionId: string;
  valid: boolean;
  status: BudgetVersionStatus;
  currency: string;
  lineCount: number;
  total: Money;
  issueCount: number;
  /** The first 50 issues; all of them are stored with the version. */
  issues: LineIssue[];
  /** Changes to closed periods the entity's policy moved to the next open period (the lines carry them). */
  periodMoves?: PeriodMove[];
  /** The same content had been imported before (a retry, a Temporal UI reset, a later cycle). */
  alreadyImported: boolean;
  /** The version's standing approval, when a previous cycle already had it approved. */
  decision?: { decision: 'approve'; principal: string; onBehalfOf?: string; comment?: string; at: string };
}

const ISSUES_IN_RESULT = 50;

/**
 * The hash of what the planning platform handed over: each row's dimension values in the order of every
 * dimension the entity's charts name (a blank where the row has none, trailing blanks dropped), then its
 * period, amount and currency. A two-dimension row hashes as it did before charts were data, so a version
 * imported then is recognised as the same content.
 */
function contentHash(rows: readonly PlanningBudgetRow[], dimensionOrder: readonly string[]): string {
  const h = createHash('sha256');
  for (const r of rows) {
    const values = dimensionOrder.map((d) => r.dimensions[d] ?? '');
    while (values.length && values[values.length - 1] === '') values.pop();
    const others = Object.keys(r.dimensions).filter((d) => !dimensionOrder.includes(d));
    h.update(
      JSON.stringify([
        ...values,
        ...(others.length ? [others.sort().map((d) => [d, r.dimensions[d]])] : []),
        r.period,
        r.amount,
        r.currency,
      ]),
    ).update('\n');
  }
  return h.digest('hex');
}

const includes = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value);

function describe(v: BudgetVersionRow, alreadyImported: boolean): ImportedBudgetVersion {
  const issues = v.validationIssues as LineIssue[];
  const approved = includes(APPROVED_STATUSES, v.status) && v.decidedBy !== null;
  return {
    versionId: v.id,
    valid: v.status !== 'invalid',
    status: v.status,
    currency: v.currency,
    lineCount: v.lineCount,
    total: money(v.totalAmount, v.currency),
    issueCount: issues.length,
    issues: issues.slice(0, ISSUES_IN_RESULT),
    periodMoves: v.periodMoves as PeriodMove[],
    alreadyImported,
    decision: approved
      ? {
          decision: 'approve',
          principal: v.decidedBy!,
          onBehalfOf: v.decidedOnBehalfOf ?? undefined,
          comment: v.decisionComment ?? undefined,
          at: (v.decidedAt ?? v.importedAt).toISOString(),
        }
      : undefined,
  };
}

export function createBudgetImportActivities({
  db,
  plannings,
  erps,
}: Pick<ActivityDeps, 'db' | 'plannings' | 'erps'>) {
  return {
    /**
     * Plan: pull one version from the planning platform, validate it, store it with its verdict. Versions
     * are immutable once they pass: the same content again is a no-op, other content a conflict. A later
     * cycle revision of a version that did not pass (invalid, rejected, expired) resubmits it as the
     * planning platform now holds it.
     */
    importBudgetVersion: (input: ImportBudgetVersionInput): Promise<ImportedBudgetVersion> =>
      withHeartbeat(async (control) => {
        const { ref } = input;
        const entity = await getLegalEntity(db, ref.legalEntity);
        if (!entity) throw notFound(`legal entity ${ref.legalEntity} is not in the reference data`);
        // The platform the entity is on today exports it (an entity can switch platforms at a date).
        const planning = await planningOn({ db, plannings }, ref.legalEntity, today());
        const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, ref.fiscalYear, entity.code);
        const rows = await planning.connector.fetchBudgetVersion(
          { ...ref, settings: planning.settings, periods },
          control,
        );
        // What each target's adapter says of it: the dimensions its form holds, and its own rules of which
        // combinations it accepts (read from it now), so a line it would refuse is named before approval.
        const reference = await loadReferenceSnapshot(db, entity, ref.fiscalYear, async (t) => {
          const erp = erps[t.target];
          const structures = await erp?.fetchTargetStructures?.(t, control);
          return {
            ...(erp?.dimensionsHeld ? { holds: erp.dimensionsHeld(t) } : {}),
            ...(structures ? { structures, heldByCompany: erp?.heldByCompany ?? [] } : {}),
          };
        });
        const inControl = new Map(
          (await inControlInClosedPeriods(db, entity, ref)).map((l) => [
            budgetKey(l),
            { dimensions: l.dimensions, period: l.period, byTarget: l.byTarget.map((t) => t.minor) },
          ]),
        );
        const { lines, issues, moves } = validateBudgetRows(rows, {
          ...reference,
          inControl,
          closedPeriodPolicy: entity.closedPeriodPolicy,
        });
        const currency = entity.functionalCurrency;
        const total = issues.length
          ? zero(currency)
          : sum(
              lines.map((l) => l.amount),
              currency,
            );
        const content: ImportedContent = {
          ref,
          currency,
          sourceSystem: planning.connector.system,
          contentHash: contentHash(rows, chartDimensionCodes(reference.charts)),
          lineCount: issues.length ? rows.length : lines.length,
          totalAmount: total.amount,
          issues,
          moves,
          lines,
          submittedBy: input.submittedBy,
          correlationId: input.correlationId,
        };
        const resubmitting = (input.revision ?? 1) > 1;

        return db.transaction(async (tx) => {
          const inserted = await insertImportedVersion(tx, content);
          if (inserted) return describe(inserted, false);
          const existing = (await findVersion(tx, ref))!;
          if (resubmitting && includes(VersionStep.resubmit.from, existing.status)) {
            const resubmitted = await resubmitVersion(tx, existing.id, {
              ...content,
              cycleId: input.cycleId ?? '',
            });
            if (resubmitted) return describe(resubmitted, false);
          }
          if (existing.contentHash !== content.contentHash) {
            throw conflict(
              `version ${ref.version} of ${ref.legalEntity} FY${ref.fiscalYear} ${ref.scenario} was already imported with different content (it is ${existing.status}); versions are immutable once they pass, submit a new version number`,
            );
          }
          return describe(existing, true);
        });
      }),
  };
}
