import { activeVersionOf } from '../db/queries/budget-versions';
import { periodCloseReport } from '../db/queries/close-report';
import { periodCloseScope, recordCloseStep, recordedSignOff } from '../db/queries/period-close';
import { lockEntityPeriod, type LockOutcome } from '../db/queries/period-locks';
import { publicationsOfVersion } from '../db/queries/publications';
import { getLegalEntity } from '../db/queries/reference';
import { type ActivityDeps } from './deps';
import { notFound } from './failures';
import { createReconciliationActivities, type ReconcileResult } from './reconciliation';

export type CloseStepInput = Parameters<typeof recordCloseStep>[1];

export type CloseReconciliation = { budget: ReconcileResult; versionNumber: number } | { skipped: string };

/** The figures of an entity's close report a close keeps in its result (the full report is the API's). */
export interface CloseReportSummary {
  status: 'open' | 'closed';
  totals: Awaited<ReturnType<typeof periodCloseReport>>['totals'];
  reconciliationExceptions: number;
  deadLetters: number;
}

export function createPeriodCloseActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;
  const { reconcileVersion } = createReconciliationActivities(deps);
  return {
    /** Who closes in a calendar month's close, and which period of their own calendar (see periodCloseScope). */
    periodCloseScope: (input: { month: string; legalEntities?: string[] }) =>
      periodCloseScope(db, input.month, input.legalEntities),

    async recordCloseStep(input: CloseStepInput): Promise<boolean> {
      return db.transaction((tx) => recordCloseStep(tx, input));
    },

    /** The sign-off this close run already recorded, if any: a reset close does not ask again. */
    recordedSignOff: async (input: { legalEntity: string; period: string; correlationId: string }) =>
      (await recordedSignOff(db, input)) ?? null,

    /** The period lock; a second lock of the same period changes nothing and says so. */
    async lockClosedPeriod(input: {
      legalEntity: string;
      period: string;
      by: string;
      correlationId: string;
    }): Promise<LockOutcome> {
      return db.transaction((tx) => lockEntityPeriod(tx, input));
    },

    /**
     * The close's reconciliation of the budget: the entity's active version of the year against what its
     * ERP's budget register holds (the same run as after a publication, replaced as a whole). Actuals and
     * commitments were just synced from the ERP; what the sync could not count is in the dead letters the
     * report lists.
     */
    async reconcileClosePeriod(input: {
      legalEntity: string;
      fiscalYear: number;
      correlationId: string;
    }): Promise<CloseReconciliation> {
      const version = await activeVersionOf(db, input.legalEntity, input.fiscalYear);
      if (!version) return { skipped: `${input.legalEntity} has no active FY${input.fiscalYear} budget` };
      const published = (await publicationsOfVersion(db, version.id)).find((p) => p.status === 'published');
      if (!published)
        return { skipped: `version ${version.versionNumber} of FY${input.fiscalYear} is published nowhere` };
      const budget = await reconcileVersion({
        versionId: version.id,
        target: published.target,
        correlationId: input.correlationId,
      });
      return { budget, versionNumber: version.versionNumber };
    },

    async closeReportSummary(input: { legalEntity: string; period: string }): Promise<CloseReportSummary> {
      const entity = await getLegalEntity(db, input.legalEntity);
      if (!entity) throw notFound(`no legal entity ${input.legalEntity}`);
      const report = await periodCloseReport(db, entity, input.period);
      const count = (rows: { count: number; status: string }[]) =>
        rows.filter((r) => r.status === 'open').reduce((n, r) => n + r.count, 0);
      return {
        status: report.status,
        totals: report.totals,
        reconciliationExceptions: count(report.reconciliationExceptions),
        deadLetters: count(report.deadLetters),
      };
    },
  };
}
