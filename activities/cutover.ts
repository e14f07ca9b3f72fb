import { activeVersionOf } from '../db/queries/budget-versions';
import { cutoverOf, postedDuring, storeComparison } from '../db/queries/cutovers';
import { type Dimensions } from '../domain/model';
import { publicationsOfVersion } from '../db/queries/publications';
import { entityFiscalYears, fiscalYearPeriods } from '../db/queries/reference';
import { compareHoldings } from '../domain/cutover';
import { type ActivityDeps } from './deps';
import { notFound } from './failures';
import { withHeartbeat } from './heartbeat';
import { loadVersionWithEntity } from './lookups';
import { targetHoldings } from './reconciliation';

export type CutoverPhase = 'cutover' | 'rollback';

export interface CutoverPublicationPlan {
  versionId: string;
  fiscalYear: number;
  target: string;
  /** The revision this phase publishes under: the same on every run of it, so a reset posts nothing new. */
  revision: number;
}

export interface ParallelRunComparison {
  fiscalYear: number;
  differences: number;
  totals: { currency: string; old: string; new: string; difference: string }[];
  /** The two ERPs' posted lines over the run: the one whose books count against the other's, kept for this. */
  actualDifferences: number;
  actualTotals: { currency: string; old: string; new: string; difference: string }[];
}

/** The correlation a phase's publications carry, by which a later run of the phase finds them again. */
export const cutoverCorrelation = (cutoverId: string, phase: CutoverPhase) => `cutover:${cutoverId}:${phase}`;

/**
 * A cut-over's steps (domain/cutover): which budgets in control are to be sent to the ERP that takes over (or,
 * on a rollback, back to the old one), and the parallel run's comparison of what the two ERPs hold.
 */
export function createCutoverActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;

  async function load(cutoverId: string) {
    const cutover = await cutoverOf(db, cutoverId);
    if (!cutover) throw notFound(`cut-over ${cutoverId} does not exist`);
    return cutover;
  }

  return {
    /**
     * The budgets in control of every fiscal year still running on the phase's day, each to be published to the
     * phase's ERP: a publication computes what that ERP lacks from what it holds (closeloop's record), so the
     * new ERP gets the periods it now receives, and after a rollback the old one what it missed, once. The
     * revision is the one a run of this phase already used, else the next.
     */
    async planCutoverPublications(input: {
      cutoverId: string;
      phase: CutoverPhase;
    }): Promise<CutoverPublicationPlan[]> {
      const c = await load(input.cutoverId);
      const day = input.phase === 'cutover' ? c.cutoverDate : c.rollbackDate;
      if (!day) throw notFound(`cut-over ${c.id} has not been rolled back`);
      const target = input.phase === 'cutover' ? c.toTarget : c.fromTarget;
      const correlation = cutoverCorrelation(c.id, input.phase);
      const plans: CutoverPublicationPlan[] = [];
      for (const fiscalYear of await entityFiscalYears(db, c.legalEntity, { endingOnOrAfter: day })) {
        const version = await activeVersionOf(db, c.legalEntity, fiscalYear);
        if (!version) continue;
        const earlier = (await publicationsOfVersion(db, version.id)).filter((p) => p.target === target);
        const mine = earlier.find((p) => p.correlationId === correlation);
        plans.push({
          versionId: version.id,
          fiscalYear,
          target,
          revision: mine?.revision ?? Math.max(0, ...earlier.map((p) => p.revision)) + 1,
        });
      }
      return plans;
    },

    /**
     * The parallel run compared: for each fiscal year it falls in, what the old and the new ERP hold of the budget
     * in control over the parallel run's periods, line by line and in total; the latest comparison is kept per
     * year and audited. A cut-over without a parallel run compares nothing.
     */
    compareParallelRun: (input: {
      cutoverId: string;
      correlationId: string;
    }): Promise<ParallelRunComparison[]> =>
      withHeartbeat(async (control) => {
        const c = await load(input.cutoverId);
        if (c.parallelUntil === c.cutoverDate) return [];
        const out: ParallelRunComparison[] = [];
        for (const fiscalYear of await entityFiscalYears(db, c.legalEntity, {
          endingOnOrAfter: c.cutoverDate,
          startingBefore: c.parallelUntil,
        })) {
          const active = await activeVersionOf(db, c.legalEntity, fiscalYear);
          if (!active) continue;
          const { version, entity } = await loadVersionWithEntity(db, active.id);
          const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, fiscalYear);
          const parallel = new Set(
            periods
              .filter((p) => p.startDate >= c.cutoverDate && p.startDate < c.parallelUntil)
              .map((p) => p.period),
          );
          const side = async (target: string) =>
            (await targetHoldings(deps, { version, entity, target, periods }, control)).lines
              .filter((l) => parallel.has(l.period))
              .map((l) => ({
                dimensions: l.dimensions,
                period: l.period,
                amount: l.amount.amount,
                currency: l.amount.currency,
              }));
          const compared = compareHoldings(await side(c.fromTarget), await side(c.toTarget));
          // The books: the counting ERP's actuals against the other's lines kept for the comparison.
          const posted = async (system: string) =>
            (
              await postedDuring(db, {
                cutoverId: c.id,
                legalEntity: c.legalEntity,
                system,
                counted: system === (c.actualsDuringParallel === 'new' ? c.toTarget : c.fromTarget),
                periods: [...parallel],
              })
            ).map((l) => ({ ...l, dimensions: l.dimensions as Dimensions }));
          const actuals = compareHoldings(await posted(c.fromTarget), await posted(c.toTarget));
          await db.transaction((tx) =>
            storeComparison(tx, {
              cutover: c,
              fiscalYear,
              differences: compared.lines,
              totals: compared.totals,
              actualDifferences: actuals.lines,
              actualTotals: actuals.totals,
              correlationId: input.correlationId,
            }),
          );
          out.push({
            fiscalYear,
            differences: compared.lines.length,
            totals: compared.totals,
            actualDifferences: actuals.lines.length,
            actualTotals: actuals.totals,
          });
        }
        return out;
      }),
  };
}
