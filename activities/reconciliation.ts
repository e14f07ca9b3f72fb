import { money } from '../domain/money';
import {
  type PeriodAccountTotal,
  reconcileTotals,
  type ReconciliationSummary,
} from '../domain/reconciliation';
import { type CanonicalSourceLine, canonicaliseSourceLine } from '../domain/source-lines';
import { type CallControl } from './connectors/types';
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

type Loaded = Awaited<ReturnType<typeof loadVersionWithEntity>>;

/**
 * What a target holds of a version's budget over its fiscal year, read back through its adapter where the version
 * was published (the publication's own company and settings) and turned into canonical lines; a value the
 * mappings do not know is kept apart with its reason. Reconciliation and a cut-over's comparison read the same.
 */
export async function targetHoldings(
  deps: Pick<ActivityDeps, 'db' | 'erps'>,
  r: {
    version: Loaded['version'];
    entity: Loaded['entity'];
    target: string;
    periods: Awaited<ReturnType<typeof fiscalYearPeriods>>;
  },
  control?: CallControl,
): Promise<{ lines: CanonicalSourceLine[]; unmapped: UnmappedTargetValue[] }> {
  const { db } = deps;
  const { version, entity, periods } = r;
  const mappings = await loadMappings(db, r.target);
  const publication = (await publicationsOfVersion(db, version.id)).find(
    (p) => p.target === r.target && p.status === 'published',
  );
  if (!publication) throw notFound(`version ${version.versionNumber} has no publication on ${r.target}`);
  const targetTotals = await erpFor(deps, r.target).fetchBudgetTotals(
    {
      target: {
        company: publication.erpCompany,
        settings: publication.settings,
        postingModel: publication.postingModel,
      },
      posted: async function* () {
        for (const c of await chunksPosted(db, { ...versionRef(version), target: r.target })) {
          const lines = await targetLinesFor(db, {
            entity,
            fiscalYear: version.fiscalYear,
            target: r.target,
            lines: await publicationLinesOf(db, c.publicationId, { from: c.firstLineNo, to: c.lastLineNo }),
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
  const lines: CanonicalSourceLine[] = [];
  const unmapped: UnmappedTargetValue[] = [];
  for (const t of targetTotals) {
    const canonical = canonicaliseSourceLine(t, {
      currency: version.currency,
      periods,
      mappings,
      required: ['account'],
    });
    if ('error' in canonical)
      unmapped.push({ values: t.dimensions, date: t.date, ...t.amount, reason: canonical.error.message });
    else lines.push(canonical.line);
  }
  return { lines, unmapped };
}

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
        // Only the periods the target receives are its to hold (docs/routing.md): the others are not compared.
        const route = (await targetsOfFiscalYear(db, entity, version.fiscalYear)).find(
          (t) => t.target === input.target,
        );
        const routed = new Set(
          periods.filter((p) => !route || receives(route, p.startDate)).map((p) => p.period),
        );
        const held = await targetHoldings(deps, { version, entity, target: input.target, periods }, control);
        const target: PeriodAccountTotal[] = held.lines
          .filter((l) => routed.has(l.period))
          // Compared by period and account: the account is all a total must carry.
          .map((l) => ({ period: l.period, account: l.dimensions.account!, amount: l.amount.amount }));
        const unmapped = held.unmapped;
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
