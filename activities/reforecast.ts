import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import { forecastKey } from '../domain/identity';
import { type Money, money, sum, zero } from '../domain/money';
import { buildForecast } from '../domain/reforecast';
import { balancesPage, type BucketKey } from '../db/queries/balances';
import { activeVersionOf, versionRef } from '../db/queries/budget-versions';
import {
  addForecastLines,
  beginForecast,
  forecastLinesPage,
  markForecastIncomplete,
  markForecastPublished,
  setForecastTotal,
} from '../db/queries/forecasts';
import { withKeyLock } from '../db/queries/locks';
import { fiscalYearPeriods } from '../db/queries/reference';
import { today } from './books-erp';
import { type ActivityDeps, planningOn } from './deps';
import { superseded } from './failures';
import { withHeartbeat } from './heartbeat';
import { loadVersionWithEntity } from './lookups';

/** Balances and forecast lines read at a time. */
const PAGE = 5000;

export interface ReforecastInput {
  versionId: string;
  asOfPeriod: string;
  correlationId: string;
}

export interface ReforecastResult {
  forecastKey: string;
  versionName: string;
  total: Money;
  lineCount: number;
  alreadyImported: boolean;
}

export function createReforecastActivities({ db, plannings }: Pick<ActivityDeps, 'db' | 'plannings'>) {
  return {
    /**
     * Reforecast: actuals + commitments + remaining budget per period from the control balances (in the
     * version's currency), stored and pushed to the planning platform as a forecast version named after the
     * budget version and as-of period.
     */
    reforecastVersion: (input: ReforecastInput): Promise<ReforecastResult> => reforecast(input),

    /**
     * Delivers an entity's commitments and actuals as they stand to the planning platform: the reforecast of
     * its active budget version as of a period, pushed again (the platform's import upserts, so the forecast
     * version takes today's figures). Nothing to deliver when no version of that year is active.
     */
    async reforecastActiveVersion(input: {
      legalEntity: string;
      fiscalYear: number;
      asOfPeriod: string;
      correlationId: string;
    }): Promise<ReforecastResult | { skipped: string }> {
      const version = await activeVersionOf(db, input.legalEntity, input.fiscalYear);
      if (!version) return { skipped: `${input.legalEntity} has no active FY${input.fiscalYear} budget` };
      return reforecast({
        versionId: version.id,
        asOfPeriod: input.asOfPeriod,
        correlationId: input.correlationId,
      });
    },
  };

  function reforecast(input: ReforecastInput): Promise<ReforecastResult> {
    return withHeartbeat(async (control) => {
      const { version, entity } = await loadVersionWithEntity(db, input.versionId);
      // A newer version replaced it (a reset or a late cycle got here): its numbers are no longer anyone's.
      if (version.status === 'superseded')
        throw superseded(`version ${version.versionNumber} was superseded; it is not reforecast`);
      const ref = versionRef(version);
      const fiscalYear = await fiscalYearPeriods(db, entity.fiscalCalendar, version.fiscalYear);
      const periods = fiscalYear.map((p) => p.period);
      const key = forecastKey(ref, input.asOfPeriod);
      const versionName = `FC FY${ref.fiscalYear} ${ref.legalEntity} from v${ref.version} @${input.asOfPeriod}`;
      const currency = version.currency;
      // Computed and stored page by page from one snapshot of the balances (repeatable read), so a forecast of
      // any size is never whole in this worker's memory, and every page sees the same balances.
      const { total, lineCount } = await db.transaction(
        async (tx) => {
          await beginForecast(tx, {
            forecastKey: key,
            versionId: version.id,
            asOfPeriod: input.asOfPeriod,
            versionName,
            currency,
            correlationId: input.correlationId,
          });
          let total = zero(currency);
          let lineCount = 0;
          let after: BucketKey | undefined;
          for (;;) {
            const page = await balancesPage(
              tx,
              { legalEntity: version.legalEntity, periods, currency },
              after,
              PAGE,
            );
            const lines = buildForecast(page, input.asOfPeriod, currency);
            await addForecastLines(tx, { forecastKey: key, currency }, lines);
            total = sum([total, ...lines.map((l) => l.amount)], currency);
            lineCount += lines.length;
            if (page.length < PAGE) break;
            after = page[page.length - 1];
          }
          await setForecastTotal(tx, key, total);
          return { total, lineCount };
        },
        { isolationLevel: 'repeatable read' },
      );

      // The platform the entity is on today takes the forecast back (an entity can switch at a date).
      const { connector: planning, settings } = await planningOn({ db, plannings }, ref.legalEntity, today());
      // The stored lines, read back page by page as the adapter sends them.
      async function* rows() {
        let after: BucketKey | undefined;
        for (;;) {
          const page = await forecastLinesPage(db, key, after, PAGE);
          if (page.length)
            yield page.map((l) => ({
              account: l.account,
              costCenter: l.costCenter,
              period: l.period,
              // As the currency writes it (a numeric column reads back at its own scale).
              amount: money(l.amount, l.currency).amount,
              currency: l.currency,
              basis: l.basis,
            }));
          if (page.length < PAGE) return;
          after = page[page.length - 1];
        }
      }
      // The planning import upserts by version and dimensions, so repeating it after a lost answer is safe.
      // The model has one data source file for its import: two entities' forecasts uploaded at once (a group
      // close reforecasts every entity) would overwrite each other's file before its import ran, and one
      // forecast would be lost while reported imported. One upload-and-import at a time per platform.
      const imported = await withKeyLock(db, `${planning.system}:forecast-import`, () =>
        planning.publishForecast(
          {
            idempotencyKey: key,
            correlationId: input.correlationId,
            legalEntity: ref.legalEntity,
            fiscalYear: ref.fiscalYear,
            versionName,
            settings,
            periods: fiscalYear,
            rows: rows(),
          },
          control,
        ),
      );

      const outcome = {
        forecastKey: key,
        versionId: version.id,
        legalEntity: version.legalEntity,
        correlationId: input.correlationId,
      };
      const described = { versionName, asOfPeriod: input.asOfPeriod, target: planning.system };
      if (imported.rowsFailed + imported.rowsIgnored > 0) {
        // The platform took part of it: keep what it refused where support sees it, and stop here.
        await db.transaction((tx) =>
          markForecastIncomplete(tx, {
            ...outcome,
            details: {
              ...described,
              rowsImported: imported.rowsImported,
              rowsIgnored: imported.rowsIgnored,
              rowsFailed: imported.rowsFailed,
              issues: imported.issues,
            },
          }),
        );
        throw ApplicationFailure.create({
          type: FailureType.ConnectorRejected,
          message: `${planning.system} ignored ${imported.rowsIgnored} and refused ${imported.rowsFailed} of ${lineCount} forecast rows for ${versionName}: ${
            imported.issues
              .slice(0, 3)
              .map((i) => `line ${i.line}: ${i.message}`)
              .join('; ') || 'no failure dump'
          }`,
          nonRetryable: true,
          details: [{ issues: imported.issues }],
        });
      }

      const alreadyImported = await db.transaction((tx) =>
        markForecastPublished(tx, {
          ...outcome,
          details: {
            ...described,
            total,
            lineCount,
          },
        }),
      );
      return {
        forecastKey: key,
        versionName,
        total,
        lineCount,
        alreadyImported,
      };
    });
  }
}
