import { and, eq } from 'drizzle-orm';
import { unmapSegments } from '../domain/mapping';
import { money } from '../domain/money';
import { type PeriodAccountTotal, reconcileTotals } from '../domain/reconciliation';
import { periodOfDate } from '../domain/reference';
import { appendAudit } from '../db/queries/audit';
import { getVersion, versionTotalsByPeriodAccount } from '../db/queries/budget-versions';
import { fiscalYearPeriods, getLegalEntity, loadMappings } from '../db/queries/reference';
import { reconciliationExceptions, reconciliationResults, reconciliationRuns } from '../db/schema';
import { type ReconciliationSummary } from '../workflows/budget-cycle-state';
import { type ActivityDeps, erpFor } from './deps';
import { notFound } from './failures';

export interface ReconcileInput {
  versionId: string;
  target: string;
  correlationId: string;
}

export type ReconcileResult = ReconciliationSummary & { runId: string };

export function createReconciliationActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;
  return {
    /**
     * Reconcile: the approved version's totals against what the ERP holds, by period and account. The run
     * for (version, target) is replaced as a whole, so re-running it after a fix shows the new truth.
     */
    async reconcileVersion(input: ReconcileInput): Promise<ReconcileResult> {
      const version = await getVersion(db, input.versionId);
      if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
      const entity = await getLegalEntity(db, version.legalEntity);
      if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
      const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, version.fiscalYear);
      const mappings = await loadMappings(db, input.target);
      const erpTotals = await erpFor(deps, input.target).fetchBudgetTotals({
        company: entity.erpCompany,
        budgetModel: entity.erpBudgetModel,
        fromDate: periods[0]!.startDate,
        toDate: periods[periods.length - 1]!.endDate,
      });

      const target: PeriodAccountTotal[] = [];
      const unmapped: {
        mainAccount: string;
        dimensions: Record<string, string>;
        date: string;
        amount: string;
      }[] = [];
      for (const t of erpTotals) {
        const period = periodOfDate(t.date, periods);
        const dims = unmapSegments(mappings, t, t.date);
        if (!period || !dims) {
          unmapped.push({
            mainAccount: t.mainAccount,
            dimensions: t.dimensions,
            date: t.date,
            amount: t.amount,
          });
          continue;
        }
        target.push({
          period: period.period,
          account: dims.account,
          amount: money(t.amount, t.currency).amount,
        });
      }
      const source = (await versionTotalsByPeriodAccount(db, version.id)).map((s) => ({
        ...s,
        amount: money(s.amount, version.currency).amount,
      }));
      const rec = reconcileTotals(source, target, version.currency);
      const exceptionCount = rec.exceptions.length + unmapped.length;

      const runId = await db.transaction(async (tx) => {
        await tx
          .delete(reconciliationRuns)
          .where(
            and(eq(reconciliationRuns.versionId, version.id), eq(reconciliationRuns.target, input.target)),
          );
        const [run] = await tx
          .insert(reconciliationRuns)
          .values({
            versionId: version.id,
            target: input.target,
            legalEntity: version.legalEntity,
            currency: version.currency,
            sourceTotal: rec.sourceTotal,
            targetTotal: rec.targetTotal,
            matchedCount: rec.matchedCount,
            mismatchedCount: rec.mismatchedCount,
            exceptionCount,
            correlationId: input.correlationId,
          })
          .returning({ id: reconciliationRuns.id });
        const id = run!.id;
        if (rec.lines.length) {
          await tx
            .insert(reconciliationResults)
            .values(rec.lines.map((l) => ({ runId: id, ...l, currency: version.currency })));
        }
        const exceptions = [
          ...rec.exceptions.map((e) => ({
            runId: id,
            kind: e.kind,
            period: e.period,
            account: e.account,
            details: e,
            correlationId: input.correlationId,
          })),
          ...unmapped.map((u) => ({
            runId: id,
            kind: 'unmapped_target_value' as const,
            period: null,
            account: null,
            details: u,
            correlationId: input.correlationId,
          })),
        ];
        if (exceptions.length) await tx.insert(reconciliationExceptions).values(exceptions);
        await appendAudit(tx, {
          actor: 'closeloop',
          action: 'reconciliation.completed',
          entityType: 'budget_version',
          entityId: version.id,
          correlationId: input.correlationId,
          eventKey: `reconciliation:${id}`,
          details: {
            target: input.target,
            sourceTotal: rec.sourceTotal,
            targetTotal: rec.targetTotal,
            exceptionCount,
          },
        });
        return id;
      });
      return {
        runId,
        target: input.target,
        currency: version.currency,
        sourceTotal: rec.sourceTotal,
        targetTotal: rec.targetTotal,
        matchedCount: rec.matchedCount,
        mismatchedCount: rec.mismatchedCount,
        exceptionCount,
      };
    },
  };
}
