import { money } from '../domain/money';
import {
  type PeriodAccountTotal,
  reconcileTotals,
  type ReconciliationSummary,
} from '../domain/reconciliation';
import { canonicaliseSourceLine } from '../domain/source-lines';
import { versionRef, versionTotalsByPeriodAccount } from '../db/queries/budget-versions';
import { chunksPosted, publicationLinesOf, publicationsOfVersion } from '../db/queries/publications';
import { negate } from '../domain/money';
import { targetLinesFor } from './erp-mapping';
import { targetsOfFiscalYear } from '../db/queries/routes';
import { receives } from '../domain/routing';
import { storeReconciliation, type UnmappedTargetValue } from '../db/queries/reconciliation';
import { fiscalYearPeriods, loadMappings } from '../db/queries/reference';
import { type ActivityDeps, erpFor } from './deps';
import { notFound, superseded } from './failures';
import { withHeartbeat } from './heartbeat';
import { loadVersionWithEntity } from './lookups';

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
     * Reconcile: the approved version's totals against what the target holds, by period and account. The
     * run for (version, target) is replaced as a whole, so re-running it after a fix shows the new truth.
     */
    reconcileVersion: (input: ReconcileInput): Promise<ReconcileResult> =>
      withHeartbeat(async (control) => {
        const { version, entity } = await loadVersionWithEntity(db, input.versionId);
        // A newer version replaced it (a reset or a late cycle got here): its numbers are no longer anyone's.
        if (version.status === 'superseded')
          throw superseded(`version ${version.versionNumber} was superseded; it is not reconciled`);
        const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, version.fiscalYear);
        const mappings = await loadMappings(db, input.target);
        // Read back where the version was published (the publication's own company and settings).
        const publication = (await publicationsOfVersion(db, version.id)).find(
          (p) => p.target === input.target && p.status === 'published',
        );
        if (!publication)
          throw notFound(`version ${version.versionNumber} has no publication on ${input.target}`);
        // Only the periods the target receives are its to hold (docs/routing.md): the others are not compared.
        const route = (await targetsOfFiscalYear(db, entity, version.fiscalYear)).find(
          (t) => t.target === input.target,
        );
        const routed = new Set(
          periods.filter((p) => !route || receives(route, p.startDate)).map((p) => p.period),
        );
        const targetTotals = await erpFor(deps, input.target).fetchBudgetTotals(
          {
            target: {
              company: publication.erpCompany,
              settings: publication.settings,
              postingModel: publication.postingModel,
            },
            posted: async function* () {
              for (const c of await chunksPosted(db, { ...versionRef(version), target: input.target })) {
                const lines = await targetLinesFor(db, {
                  entity,
                  fiscalYear: version.fiscalYear,
                  target: input.target,
                  lines: await publicationLinesOf(db, c.publicationId, {
                    from: c.firstLineNo,
                    to: c.lastLineNo,
                  }),
                });
                yield { document: c.documentNumber, lines };
                if (c.reversalDocumentNumber)
                  yield {
                    document: c.reversalDocumentNumber,
                    lines: lines.map((l) => ({ ...l, amount: negate(l.amount) })),
                  };
              }
            },
            fromDate: periods[0]!.startDate,
            toDate: periods[periods.length - 1]!.endDate,
            currency: version.currency,
          },
          control,
        );

        const target: PeriodAccountTotal[] = [];
        const unmapped: UnmappedTargetValue[] = [];
        for (const t of targetTotals) {
          // Compared by period and account: the account is all a total must carry.
          const canonical = canonicaliseSourceLine(t, {
            currency: version.currency,
            periods,
            mappings,
            required: ['account'],
          });
          if ('error' in canonical) {
            unmapped.push({
              values: t.dimensions,
              date: t.date,
              ...t.amount,
              reason: canonical.error.message,
            });
            continue;
          }
          const { line } = canonical;
          if (!routed.has(line.period)) continue;
          target.push({ period: line.period, account: line.dimensions.account, amount: line.amount.amount });
        }
        const source = (await versionTotalsByPeriodAccount(db, version.id))
          .filter((s) => routed.has(s.period))
          .map((s) => ({
            ...s,
            amount: money(s.amount, version.currency).amount,
          }));
        const reconciliation = reconcileTotals(source, target, version.currency);
        const { runId, exceptionCount } = await db.transaction((tx) =>
          storeReconciliation(tx, {
            versionId: version.id,
            legalEntity: version.legalEntity,
            target: input.target,
            currency: version.currency,
            correlationId: input.correlationId,
            reconciliation,
            unmapped,
          }),
        );
        return {
          runId,
          target: input.target,
          currency: version.currency,
          sourceTotal: reconciliation.sourceTotal,
          targetTotal: reconciliation.targetTotal,
          matchedCount: reconciliation.matchedCount,
          mismatchedCount: reconciliation.mismatchedCount,
          exceptionCount,
        };
      }),
  };
}
