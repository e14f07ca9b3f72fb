import { fromMinor, toMinor } from './money';
import { type ForecastLine } from './model';

export interface BalanceSnapshot {
  account: string;
  costCenter: string;
  period: string;
  budget: string;
  committed: string;
  actual: string;
}

/**
 * The reforecast of a version as of a period. Elapsed periods (up to and including `asOfPeriod`) forecast
 * what was spent or is committed there: actual + committed; their unspent budget lapses. Remaining periods
 * forecast actual + committed + remaining budget, where remaining = max(0, budget − actual − committed):
 * a period that is already overcommitted forecasts its commitments, not its smaller budget.
 */
export function buildForecast(
  balances: readonly BalanceSnapshot[],
  asOfPeriod: string,
  currency: string,
): ForecastLine[] {
  const m = (minor: bigint) => ({ amount: fromMinor(minor, currency), currency });
  return [...balances]
    .sort((a, b) =>
      a.account !== b.account
        ? a.account.localeCompare(b.account)
        : a.costCenter !== b.costCenter
          ? a.costCenter.localeCompare(b.costCenter)
          : a.period.localeCompare(b.period),
    )
    .map((b) => {
      const budget = toMinor(b.budget, currency);
      const committed = toMinor(b.committed, currency);
      const actual = toMinor(b.actual, currency);
      const elapsed = b.period <= asOfPeriod;
      const open = budget - actual - committed;
      const remaining = elapsed || open < 0n ? 0n : open;
      return {
        dimensions: { account: b.account, costCenter: b.costCenter },
        period: b.period,
        amount: m(actual + committed + remaining),
        basis: elapsed ? 'actual' : 'projection',
        actual: m(actual),
        committed: m(committed),
        remainingBudget: m(remaining),
      } satisfies ForecastLine;
    });
}
