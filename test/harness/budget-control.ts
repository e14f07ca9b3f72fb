import { sql } from 'drizzle-orm';
import { type Database } from '../../db/client';
import { activateVersionBudget } from '../../db/queries/balances';

/** An approved budget in one period of a services-company bucket, as activating a version leaves it. */
export async function seedBudget(
  db: Database,
  account: string,
  costCenter: string,
  period: string,
  amount: string,
) {
  await db.execute(sql`
    insert into control_balances (legal_entity, account, cost_center, period, currency, budget)
    values ('ACME-US', ${account}, ${costCenter}, ${period}, 'USD', ${amount}::numeric)`);
}

/** A funds request line in dollars, as a procurement integration sends it. */
export const usdLine = (account: string, costCenter: string, period: string, amount: string) => ({
  account,
  costCenter,
  period,
  amount: { amount, currency: 'USD' },
});

/**
 * An active budget version of an entity, activated as the budget cycle activates one (the buckets and every
 * control budget its lines fall in): for tests of control budgets, which a version's lines set.
 */
export async function activateBudgetLines(
  db: Database,
  a: {
    legalEntity: string;
    fiscalYear: number;
    currency: string;
    periods: string[];
    lines: { dimensions: Record<string, string>; period: string; amount: string }[];
  },
) {
  const [version] = (await db.execute(sql`
    insert into budget_versions (legal_entity, fiscal_year, scenario, version_number, currency, source_system,
                                 status, content_hash, line_count, total_amount, submitted_by, correlation_id)
    values (${a.legalEntity}, ${a.fiscalYear}, 'BUDGET',
            coalesce((select max(version_number) from budget_versions
                       where legal_entity = ${a.legalEntity} and fiscal_year = ${a.fiscalYear}), 0) + 1,
            ${a.currency}, 'test', 'active', md5(random()::text), ${a.lines.length}, 0, 'test', 'test')
    returning id`)) as unknown as { id: string }[];
  for (const [i, l] of a.lines.entries())
    await db.execute(sql`
      insert into budget_lines (version_id, line_no, dimensions, period, amount, currency)
      values (${version!.id}::uuid, ${i + 1}, ${JSON.stringify(l.dimensions)}::jsonb, ${l.period}, ${l.amount}::numeric,
              ${a.currency})`);
  await db.transaction((tx) =>
    activateVersionBudget(tx, { id: version!.id, legalEntity: a.legalEntity, periods: a.periods }),
  );
  return version!.id;
}
