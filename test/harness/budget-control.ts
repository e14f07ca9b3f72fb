import { sql } from 'drizzle-orm';
import { type Database } from '../../db/client';

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
