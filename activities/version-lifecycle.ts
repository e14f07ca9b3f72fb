import {
  activateVersion,
  claimPublication,
  keepOutOfControl,
  markVersionPublicationFailed,
  publicationsOfSupersededVersions,
  withdrawVersion,
} from '../db/queries/budget-versions';
import {
  chunksOf,
  isBuiltUpon,
  nextPublicationRevision,
  publicationsOfVersion,
} from '../db/queries/publications';
import { fiscalYearPeriods } from '../db/queries/reference';
import { targetsOfFiscalYear } from '../db/queries/routes';
import { type ActivityDeps } from './deps';
import { notFound, superseded } from './failures';
import { withHeartbeat } from './heartbeat';
import { loadVersionWithEntity } from './lookups';
import { reversePublicationPostings } from './publication';

/**
 * A version's way from approved to control budget, with the database deciding every step: whether it may
 * publish, under which revision, whether it may become active, and which older versions it replaces. A
 * Temporal UI reset or a late cycle therefore never undoes what a newer version did.
 */

export interface PublicationTargetPlan {
  target: string;
  erpCompany: string;
  /** The revision to publish under; a standing publication is resumed under its own revision. */
  revision: number;
  /** Set when this target already holds the version: nothing is posted again. */
  published?: { publicationId: string; chunkCount: number; documentNumbers: string[] };
}

export type BeginPublicationResult =
  | { proceed: true; alreadyPublished: boolean; targets: PublicationTargetPlan[] }
  | { proceed: false; status: string; reason: string }
  /** Another version of the budget is publishing: ask again later (nothing was claimed). */
  | { proceed: false; status: 'waiting'; reason: string; waitingFor: number };

export type KeepingResult =
  | { inControl: true; controlScenario: string }
  | { inControl: false; controlScenario: string; kept: boolean; reason: string };

export type ActivationResult =
  { activated: true; superseded: number[] } | { activated: false; status: string; reason: string };

function refusal(version: number, r: { status: string; newerActive?: number }): string {
  return r.newerActive !== undefined
    ? `version ${r.newerActive} of this budget is already the control budget; version ${version} will not publish or activate`
    : `version ${version} is ${r.status}`;
}

export function createVersionLifecycleActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;

  const loadVersion = (versionId: string) => loadVersionWithEntity(db, versionId);

  async function activate(input: { versionId: string; correlationId: string }): Promise<ActivationResult> {
    const { version, entity } = await loadVersion(input.versionId);
    const periods = (await fiscalYearPeriods(db, entity.fiscalCalendar, version.fiscalYear)).map(
      (p) => p.period,
    );
    const result = await db.transaction((tx) =>
      activateVersion(tx, {
        versionId: version.id,
        correlationId: input.correlationId,
        periods,
        controlLevel: entity.controlLevel,
      }),
    );
    return result.activated
      ? { activated: true, superseded: result.superseded.map((s) => s.versionNumber) }
      : { activated: false, status: result.status, reason: refusal(version.versionNumber, result) };
  }

  /**
   * Reverses, in the ERPs, what older versions superseded by this one still hold there, where this version was
   * published whole (before revisions published their differences). A version published as its differences
   * builds on what the older ones posted: that stays, and the target holds exactly this version.
   */
  async function reverseSuperseded(input: { versionId: string; correlationId: string }): Promise<number> {
    const { version } = await loadVersion(input.versionId);
    const publishedWhole = new Set(
      (await publicationsOfVersion(db, version.id))
        .filter((p) => p.status === 'published' && p.basis === 'full')
        .map((p) => p.target),
    );
    let reversed = 0;
    for (const p of await publicationsOfSupersededVersions(db, version.id)) {
      if (!publishedWhole.has(p.target)) continue;
      reversed += await reversePublicationPostings(
        deps,
        p,
        `superseded by version ${version.versionNumber}`,
        input.correlationId,
      );
    }
    return reversed;
  }

  return {
    /**
     * After approval: a version of the scenario in control of its year goes on to publish; any other is kept
     * as its scenario's active version for reporting (nothing posted or reserved against), decided by the
     * database under the year's control lock.
     */
    async keepOutOfControl(input: { versionId: string; correlationId: string }): Promise<KeepingResult> {
      const keeping = await db.transaction((tx) => keepOutOfControl(tx, input));
      if (!keeping) throw notFound(`no budget version ${input.versionId}`);
      if (keeping.inControl) return keeping;
      const { version } = await loadVersion(input.versionId);
      const which = `${version.scenario} v${version.versionNumber}`;
      return {
        inControl: false,
        controlScenario: keeping.controlScenario,
        kept: keeping.kept,
        reason: keeping.kept
          ? `${version.scenario} is not the scenario in control of FY${version.fiscalYear} for ${version.legalEntity} (${keeping.controlScenario} is): ${which} is kept for reporting${keeping.superseded.length ? ` in place of v${keeping.superseded.join(', v')}` : ''}, never published or reserved against`
          : refusal(version.versionNumber, keeping),
      };
    },

    /**
     * Claims the right to publish (refused once a newer version has been activated) and plans each target:
     * the revision to publish under, or the standing publication when the target already holds the version.
     */
    async beginPublication(input: {
      versionId: string;
      correlationId: string;
    }): Promise<BeginPublicationResult> {
      const { version, entity } = await loadVersion(input.versionId);
      const routes = await targetsOfFiscalYear(db, entity, version.fiscalYear);
      if (!routes.length) throw notFound(`${entity.code} has no route for FY${version.fiscalYear}`);
      const claim = await db.transaction((tx) => claimPublication(tx, input));
      if (!claim.claimed && 'waitingFor' in claim)
        return {
          proceed: false,
          status: 'waiting',
          waitingFor: claim.waitingFor.versionNumber,
          reason: `version ${claim.waitingFor.versionNumber} of this budget is ${claim.waitingFor.status}: versions of one budget publish one at a time (a revision posts its differences from what the budget holds)`,
        };
      if (!claim.claimed)
        return { proceed: false, status: claim.status, reason: refusal(version.versionNumber, claim) };
      const targets: PublicationTargetPlan[] = [];
      for (const t of routes) {
        const next = await nextPublicationRevision(db, version.id, t.target);
        targets.push({
          target: t.target,
          erpCompany: t.company,
          revision: next.revision,
          published: next.published && {
            publicationId: next.published.id,
            chunkCount: next.published.chunkCount,
            documentNumbers: (await chunksOf(db, next.published.id)).map((c) => c.documentNumber ?? ''),
          },
        });
      }
      return { proceed: true, alreadyPublished: claim.alreadyPublished, targets };
    },

    /**
     * Every target published: the version becomes the control budget and the older versions it replaces are
     * superseded, in one transaction; refused (nothing changes) when a newer version was activated first.
     */
    activateVersion: activate,

    /** After activation: the ERPs must hold exactly the active version. */
    reverseSupersededPublications: (input: { versionId: string; correlationId: string }) =>
      withHeartbeat(() => reverseSuperseded(input)),

    /**
     * A group version landing all or nothing stands down: every publication of this version that every
     * target holds is reversed and the version waits, as after a failed publication, to publish again (under
     * its next revision's keys) when the group says so. Idempotent; nothing is superseded.
     */
    async standDownPublication(input: {
      versionId: string;
      correlationId: string;
      reason: string;
    }): Promise<number> {
      return withHeartbeat(async () => {
        let reversed = 0;
        for (const p of await publicationsOfVersion(db, input.versionId))
          if (p.status === 'published')
            reversed += await reversePublicationPostings(deps, p, input.reason, input.correlationId);
        await db.transaction((tx) => markVersionPublicationFailed(tx, input.versionId));
        return reversed;
      });
    },

    /**
     * A version that lost to a newer activated one takes itself back out: it is superseded and whatever it
     * posted is reversed, except what a newer version's publication was planned on (its differences were
     * taken with these postings in: a reset of an older cycle must not pull them out from under it).
     */
    async withdrawVersion(input: {
      versionId: string;
      correlationId: string;
      reason: string;
    }): Promise<number> {
      return withHeartbeat(async () => {
        await db.transaction((tx) => withdrawVersion(tx, input));
        let reversed = 0;
        for (const p of await publicationsOfVersion(db, input.versionId)) {
          if (p.status !== 'published' && p.status !== 'publishing') continue;
          if (await isBuiltUpon(db, p)) continue;
          reversed += await reversePublicationPostings(deps, p, input.reason, input.correlationId);
        }
        return reversed;
      });
    },

    // ── For cycles that started before the database decided these steps (see budget-cycle.ts patches) ──

    /** Routing: the entity's active publication targets. */
    async planPublicationTargets(input: {
      versionId: string;
    }): Promise<{ target: string; erpCompany: string }[]> {
      const { version, entity } = await loadVersion(input.versionId);
      return (await targetsOfFiscalYear(db, entity, version.fiscalYear)).map((t) => ({
        target: t.target,
        erpCompany: t.company,
      }));
    },

    /** Now activates (the database decides) and reverses the superseded versions' postings. */
    supersedePreviousVersions: (input: { versionId: string; correlationId: string }): Promise<string[]> =>
      withHeartbeat(async () => {
        const result = await activate(input);
        if (!result.activated) throw superseded(result.reason);
        await reverseSuperseded(input);
        return result.superseded.map(String);
      }),

    async activateControlBudget(input: { versionId: string; correlationId: string }): Promise<void> {
      const result = await activate(input);
      if (!result.activated) throw superseded(result.reason);
    },
  };
}
