import { insertRecordset } from './bulk-insert';
import { eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type ForecastLine } from '../../domain/model';
import { type Money } from '../../domain/money';
import { type Tx } from '../client';
import { forecastLines, forecasts } from '../schema';
import { appendAudit } from './audit';

/** Stores a computed forecast under its business key, replacing an earlier computation of the same key. */
export async function storeForecast(
  tx: Tx,
  f: {
    forecastKey: string;
    versionId: string;
    asOfPeriod: string;
    versionName: string;
    total: Money;
    correlationId: string;
    lines: ForecastLine[];
  },
): Promise<void> {
  await tx
    .insert(forecasts)
    .values({
      forecastKey: f.forecastKey,
      versionId: f.versionId,
      asOfPeriod: f.asOfPeriod,
      versionName: f.versionName,
      currency: f.total.currency,
      total: f.total.amount,
      status: 'computed',
      correlationId: f.correlationId,
    })
    .onConflictDoUpdate({
      target: forecasts.forecastKey,
      set: { total: f.total.amount, status: 'computed', correlationId: f.correlationId },
    });
  await tx.delete(forecastLines).where(eq(forecastLines.forecastKey, f.forecastKey));
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
    f.lines.map((l) => ({
      forecast_key: f.forecastKey,
      account: l.dimensions.account,
      cost_center: l.dimensions.costCenter,
      period: l.period,
      basis: l.basis,
      amount: l.amount.amount,
      actual: l.actual.amount,
      committed: l.committed.amount,
      remaining_budget: l.remainingBudget.amount,
      currency: f.total.currency,
    })),
  );
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
