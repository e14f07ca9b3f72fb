import { eq } from 'drizzle-orm';
import { forecastKey } from '../domain/identity';
import { type Money, sum } from '../domain/money';
import { buildForecast } from '../domain/reforecast';
import { appendAudit } from '../db/queries/audit';
import { balancesFor } from '../db/queries/balances';
import { getVersion, versionRef } from '../db/queries/budget-versions';
import { fiscalYearPeriods, getLegalEntity } from '../db/queries/reference';
import { forecastLines, forecasts } from '../db/schema';
import { type ActivityDeps } from './deps';
import { notFound } from './failures';

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

export function createReforecastActivities({ db, planning }: Pick<ActivityDeps, 'db' | 'planning'>) {
  return {
    /**
     * Reforecast: actuals + commitments + remaining budget per period from the control balances, stored and
     * pushed to the planning platform as a forecast version named after the budget version and as-of period.
     */
    async reforecastVersion(input: ReforecastInput): Promise<ReforecastResult> {
      const version = await getVersion(db, input.versionId);
      if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
      const entity = await getLegalEntity(db, version.legalEntity);
      if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
      const ref = versionRef(version);
      const periods = (await fiscalYearPeriods(db, entity.fiscalCalendar, version.fiscalYear)).map(
        (p) => p.period,
      );
      const balances = await balancesFor(db, version.legalEntity, periods);
      const lines = buildForecast(balances, input.asOfPeriod, version.currency);
      const key = forecastKey(ref, input.asOfPeriod);
      const versionName = `FC FY${ref.fiscalYear} ${ref.legalEntity} from v${ref.version} @${input.asOfPeriod}`;
      const total = sum(
        lines.map((l) => l.amount),
        version.currency,
      );

      await db.transaction(async (tx) => {
        await tx
          .insert(forecasts)
          .values({
            forecastKey: key,
            versionId: version.id,
            asOfPeriod: input.asOfPeriod,
            versionName,
            currency: version.currency,
            total: total.amount,
            status: 'computed',
            correlationId: input.correlationId,
          })
          .onConflictDoUpdate({
            target: forecasts.forecastKey,
            set: { total: total.amount, status: 'computed' },
          });
        await tx.delete(forecastLines).where(eq(forecastLines.forecastKey, key));
        for (let i = 0; i < lines.length; i += 1000) {
          await tx.insert(forecastLines).values(
            lines.slice(i, i + 1000).map((l) => ({
              forecastKey: key,
              account: l.dimensions.account,
              costCenter: l.dimensions.costCenter,
              period: l.period,
              basis: l.basis,
              amount: l.amount.amount,
              actual: l.actual.amount,
              committed: l.committed.amount,
              remainingBudget: l.remainingBudget.amount,
              currency: version.currency,
            })),
          );
        }
      });

      // The planning import upserts by version and dimensions, so repeating it after a lost answer is safe.
      const imported = await planning.publishForecast({
        idempotencyKey: key,
        correlationId: input.correlationId,
        legalEntity: ref.legalEntity,
        fiscalYear: ref.fiscalYear,
        versionName,
        rows: lines.map((l) => ({
          account: l.dimensions.account,
          costCenter: l.dimensions.costCenter,
          period: l.period,
          amount: l.amount.amount,
          currency: l.amount.currency,
        })),
      });

      await db.transaction(async (tx) => {
        await tx
          .update(forecasts)
          .set({ status: 'published', publishedAt: new Date() })
          .where(eq(forecasts.forecastKey, key));
        await appendAudit(tx, {
          actor: 'closeloop',
          action: 'forecast.published',
          entityType: 'budget_version',
          entityId: version.id,
          correlationId: input.correlationId,
          eventKey: `forecast:${key}`,
          details: {
            versionName,
            asOfPeriod: input.asOfPeriod,
            total,
            lineCount: lines.length,
            target: planning.system,
          },
        });
      });
      return {
        forecastKey: key,
        versionName,
        total,
        lineCount: lines.length,
        alreadyImported: imported.alreadyImported,
      };
    },
  };
}
