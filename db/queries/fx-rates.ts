import { eq, sql } from 'drizzle-orm';
import { type FxRate, type RateType } from '../../domain/fx';
import { type DbOrTx } from '../client';
import { fxRates } from '../schema';

/** Every rate of a type, as the conversion reads them (rates are few: pairs × rate dates). */
export async function loadFxRates(db: DbOrTx, rateType: RateType): Promise<FxRate[]> {
  const rows = await db.select().from(fxRates).where(eq(fxRates.rateType, rateType));
  return rows.map((r) => ({
    rateType: r.rateType,
    from: r.fromCurrency,
    to: r.toCurrency,
    validFrom: r.validFrom,
    validTo: r.validTo,
    // numeric(28,12) reads back with trailing zeros: the exact decimal without them.
    rate: r.rate.includes('.') ? r.rate.replace(/0+$/, '').replace(/\.$/, '') : r.rate,
  }));
}

/**
 * Takes the ERP's rates as they now stand, in one statement: a rate already held for the same type, pair and
 * start date is replaced (the ERP corrected it). Returns how many rows were written.
 */
export async function upsertFxRates(db: DbOrTx, rates: FxRate[], source: string): Promise<number> {
  if (!rates.length) return 0;
  const written = await db
    .insert(fxRates)
    .values(
      rates.map((r) => ({
        rateType: r.rateType,
        fromCurrency: r.from,
        toCurrency: r.to,
        validFrom: r.validFrom,
        validTo: r.validTo,
        rate: r.rate,
        source,
      })),
    )
    .onConflictDoUpdate({
      target: [fxRates.rateType, fxRates.fromCurrency, fxRates.toCurrency, fxRates.validFrom],
      set: {
        validTo: sql`excluded.valid_to`,
        rate: sql`excluded.rate`,
        source: sql`excluded.source`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`(${fxRates.rate}, ${fxRates.validTo}) is distinct from (excluded.rate, excluded.valid_to)`,
    })
    .returning({ rateType: fxRates.rateType });
  return written.length;
}
