import { type PlanningBudgetRow } from '../../domain/model';
import { fromMinor } from '../../domain/money';
import { monthlyFiscalPeriods } from '../../domain/reference';

/** A line of a seeded plan: a monthly amount in minor units of the entity's currency. */
export interface PlanItem {
  account: string;
  costCenter: string;
  monthly: bigint;
}

/**
 * A plan's budget rows for a fiscal year, flat across its twelve months (the calendar's first month given), each
 * later version raising the salaries (600100) of one cost center by 1% a version, so versions differ.
 */
export function monthlyPlanRows(
  plan: readonly PlanItem[],
  opts: { fiscalYear: number; firstMonth?: number; currency: string; version: number; raised: string },
): PlanningBudgetRow[] {
  return plan.flatMap((item) =>
    monthlyFiscalPeriods(opts.fiscalYear, opts.firstMonth).map((p) => ({
      dimensions: { account: item.account, costCenter: item.costCenter },
      period: p.period,
      amount: fromMinor(
        item.costCenter === opts.raised && item.account === '600100'
          ? (item.monthly * BigInt(100 + opts.version - 1)) / 100n
          : item.monthly,
        opts.currency,
      ),
      currency: opts.currency,
    })),
  );
}
