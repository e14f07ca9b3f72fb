import { insertRecordset } from './bulk-insert';
import { and, asc, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type ForecastLine } from '../../domain/model';
import { type Money } from '../../domain/money';
import { type DbOrTx, type Tx } from '../client';
import { forecastLines, forecasts } from '../schema';
import { appendAudit } from './audit';

/**
 * Begins storing a computed forecast under its business key, replacing an earlier computation of the same key:
 * its lines follow page by page (addForecastLines), its total last (setForecastTotal), in one transaction.
 */
export async function beginForecast(
  tx: Tx,
  f: {
    forecastKey: string;
    versionId: string;
    asOfPeriod: string;
    versionName: string;
    currency: string;
    correlationId: string;
  },
): Promise<void> {
  await tx
    .insert(forecasts)
    .values({
      forecastKey: f.forecastKey,
      versionId: f.versionId,
      asOfPeriod: f.asOfPeriod,
      versionName: f.versionName,
      currency: f.currency,
      total: '0',
      status: 'computed',
      correlationId: f.correlationId,
    })
    .onConflictDoUpdate({
      target: forecasts.forecastKey,
      set: { total: '0', status: 'computed', correlationId: f.correlationId },
    });
  await tx.delete(forecastLines).where(eq(forecastLines.forecastKey, f.forecastKey));
}

/** One page of a forecast's lines (beginForecast). */
export async function addForecastLines(
  tx: Tx,
  f: { forecastKey: string; currency: string },
  lines: readonly ForecastLine[],
): Promise<void> {
  await insertRecordset(
    tx,
    'forecast_lines',
    {
      forecast_key: 'text',
      account: 'text',
      cost_center: 'text',
      period: 'text',
      basis: 'text',
      amount: 'numeric',
      actual: 'numeric',
      committed: 'numeric',
      remaining_budget: 'numeric',
      currency: 'text',
    },
    lines.map((l) => ({
      forecast_key: f.forecastKey,
      account: l.dimensions.account,
      cost_center: l.dimensions.costCenter,
      period: l.period,
      basis: l.basis,
      amount: l.amount.amount,
      actual: l.actual.amount,
      committed: l.committed.amount,
      remaining_budget: l.remainingBudget.amount,
      currency: f.currency,
    })),
  );
}

export async function setForecastTotal(tx: Tx, forecastKey: string, total: Money): Promise<void> {
  await tx.update(forecasts).set({ total: total.amount }).where(eq(forecasts.forecastKey, forecastKey));
}

/** One page of a stored forecast's lines in bucket order after `after` (account, cost center, period). */
export function forecastLinesPage(
  db: DbOrTx,
  forecastKey: string,
  after: { account: string; costCenter: string; period: string } | undefined,
  limit: number,
) {
  return db
    .select()
    .from(forecastLines)
    .where(
      and(
        eq(forecastLines.forecastKey, forecastKey),
        after
          ? sql`(${forecastLines.account}, ${forecastLines.costCenter}, ${forecastLines.period}) > (${after.account}, ${after.costCenter}, ${after.period})`
          : undefined,
      ),
    )
    .orderBy(asc(forecastLines.account), asc(forecastLines.costCenter), asc(forecastLines.period))
    .limit(limit);
}

interface ForecastOutcome {
  forecastKey: string;
  versionId: string;
  legalEntity: string;
  correlationId: string;
  details: Record<string, unknown>;
}

/**
 * The planning platform took the forecast. Returns true when it had already taken it before (a repeat after
 * a lost answer or a reset): the first publication time is kept, so the row itself says which.
 */
export async function markForecastPublished(tx: Tx, p: ForecastOutcome): Promise<boolean> {
  const [row] = await tx
    .update(forecasts)
    .set({ status: 'published', publishedAt: sql`coalesce(${forecasts.publishedAt}, now())` })
    .where(eq(forecasts.forecastKey, p.forecastKey))
    .returning({ before: sql<boolean>`${forecasts.publishedAt} < now()` });
  await appendAudit(tx, {
    stream: auditStream.budget(p.legalEntity),
    actor: 'closeloop',
    action: 'forecast.published',
    entityType: 'budget_version',
    entityId: p.versionId,
    correlationId: p.correlationId,
    eventKey: `forecast:${p.forecastKey}:${p.correlationId}`,
    details: p.details,
  });
  return row?.before ?? false;
}

/** The platform ignored or refused some rows: the forecast is incomplete, and the audit keeps each row's reason. */
export async function markForecastIncomplete(tx: Tx, p: ForecastOutcome): Promise<void> {
  await tx.update(forecasts).set({ status: 'incomplete' }).where(eq(forecasts.forecastKey, p.forecastKey));
  await appendAudit(tx, {
    stream: auditStream.budget(p.legalEntity),
    actor: 'closeloop',
    action: 'forecast.import_incomplete',
    entityType: 'budget_version',
    entityId: p.versionId,
    correlationId: p.correlationId,
    eventKey: `forecast-incomplete:${p.forecastKey}:${p.correlationId}`,
    details: p.details,
  });
}
