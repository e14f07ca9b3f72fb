import { z } from 'zod';
import { fromMinor, minorUnitsOf, toMinor } from './money';

/**
 * Currency conversion for amounts a source delivers in another currency than the entity's. Rates are exact
 * decimals (never floats): 1 unit of `from` is `rate` units of `to`, valid from a date (and until the next
 * rate, or `validTo`). A pair with no rate of its own is found inverted, or through the triangulation
 * currency (from → base → to); the result is rounded once, half away from zero, to the target currency's
 * minor units.
 */

export const RATE_TYPES = ['spot', 'average', 'budget'] as const;
export type RateType = (typeof RATE_TYPES)[number];

const RateDecimal = z.string().regex(/^\d{1,12}(\.\d{1,12})?$/, 'must be a positive decimal rate');

export const FxRate = z.object({
  rateType: z.enum(RATE_TYPES),
  from: z.string().length(3),
  to: z.string().length(3),
  validFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  validTo: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable(),
  rate: RateDecimal,
});
export type FxRate = z.infer<typeof FxRate>;

/** An exact rate as a fraction, with how it was found. */
export interface Quote {
  num: bigint;
  den: bigint;
  /** e.g. "EUR→USD average 2027-02-01", "GBP→USD via EUR". */
  path: string;
}

function fraction(rate: string): { num: bigint; den: bigint } {
  const [whole, frac = ''] = rate.split('.') as [string, string?];
  const den = 10n ** BigInt(frac.length);
  return { num: BigInt(whole) * den + BigInt(frac || '0'), den };
}

/** The rate in force on `date` for exactly this pair and type (the latest that started on or before it). */
function direct(rates: readonly FxRate[], type: RateType, from: string, to: string, date: string) {
  let best: FxRate | undefined;
  for (const r of rates) {
    if (r.rateType !== type || r.from !== from || r.to !== to) continue;
    if (r.validFrom > date || (r.validTo !== null && r.validTo <= date)) continue;
    if (!best || r.validFrom > best.validFrom) best = r;
  }
  return best;
}

function leg(rates: readonly FxRate[], type: RateType, from: string, to: string, date: string) {
  const d = direct(rates, type, from, to, date);
  if (d) {
    const f = fraction(d.rate);
    if (f.num === 0n) return undefined;
    return { ...f, path: `${from}→${to} ${type} ${d.validFrom}` };
  }
  const inv = direct(rates, type, to, from, date);
  if (inv) {
    const f = fraction(inv.rate);
    if (f.num === 0n) return undefined;
    return {
      num: f.den,
      den: f.num,
      path: `${from}→${to} ${type} ${inv.validFrom} (inverse of ${to}→${from})`,
    };
  }
  return undefined;
}

/** The rate converting `from` into `to` on `date`: direct, inverted, or triangulated through `base`. */
export function quote(
  rates: readonly FxRate[],
  type: RateType,
  from: string,
  to: string,
  date: string,
  base: string,
): Quote | undefined {
  if (from === to) return { num: 1n, den: 1n, path: `${from} (no conversion)` };
  const one = leg(rates, type, from, to, date);
  if (one) return one;
  if (base === from || base === to) return undefined;
  const a = leg(rates, type, from, base, date);
  const b = a && leg(rates, type, base, to, date);
  if (!a || !b) return undefined;
  return { num: a.num * b.num, den: a.den * b.den, path: `${from}→${to} via ${base}: ${a.path}; ${b.path}` };
}

/** Converts an amount with a quote, rounding once, half away from zero, to the target currency's scale. */
export function convert(amount: string, from: string, to: string, q: Quote): string {
  const minorFrom = toMinor(amount, from);
  const num = minorFrom * q.num * 10n ** BigInt(minorUnitsOf(to));
  const den = q.den * 10n ** BigInt(minorUnitsOf(from));
  const negative = num < 0n;
  const abs = negative ? -num : num;
  const rounded = (abs * 2n + den) / (2n * den);
  return fromMinor(negative ? -rounded : rounded, to);
}

/** How an entity converts what its sources deliver in other currencies. */
export interface FxPolicy {
  rateType: RateType;
  /** The currency a pair without a rate of its own is triangulated through. */
  base: string;
  rates: readonly FxRate[];
}
