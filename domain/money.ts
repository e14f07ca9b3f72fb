import { z } from 'zod';

/**
 * Money is a decimal string plus an ISO 4217 currency, never a float.
 * Arithmetic happens on bigint minor units so sums are exact at any size.
 */

// Minor units per ISO 4217 for the currencies our ERPs and planners carry. Unknown codes are refused
// rather than guessed: a wrong scale silently moves money by a factor of ten.
const MINOR_UNITS: Readonly<Record<string, number>> = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  CAD: 2,
  AUD: 2,
  NZD: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  HUF: 2,
  MXN: 2,
  BRL: 2,
  INR: 2,
  CNY: 2,
  HKD: 2,
  SGD: 2,
  ZAR: 2,
  AED: 2,
  SAR: 2,
  ILS: 2,
  TRY: 2,
  JPY: 0,
  KRW: 0,
  CLP: 0,
  ISK: 0,
  VND: 0,
  KWD: 3,
  BHD: 3,
  JOD: 3,
  OMR: 3,
  TND: 3,
};

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

export const CurrencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code')
  .refine((c) => c in MINOR_UNITS, { message: 'is not a supported ISO 4217 currency' });
export type CurrencyCode = z.infer<typeof CurrencyCode>;

/** Plain decimal notation only: no exponent, no thousands separators, no NaN/Infinity. */
export const DECIMAL_PATTERN = /^-?\d{1,18}(\.\d{1,6})?$/;
export const DecimalString = z.string().regex(DECIMAL_PATTERN, 'must be a decimal string such as "1250.00"');

export function minorUnitsOf(currency: string): number {
  const units = MINOR_UNITS[currency];
  if (units === undefined) throw new MoneyError(`unsupported currency ${JSON.stringify(currency)}`);
  return units;
}

/** Parses a decimal string into integer minor units; refuses more decimals than the currency has. */
export function toMinor(amount: string, currency: string): bigint {
  if (!DECIMAL_PATTERN.test(amount))
    throw new MoneyError(`${JSON.stringify(amount)} is not a decimal string`);
  const scale = minorUnitsOf(currency);
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = (negative ? amount.slice(1) : amount).split('.') as [string, string?];
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > scale) {
    throw new MoneyError(`${amount} has more than ${scale} decimal places for ${currency}`);
  }
  const minor = BigInt(whole + fraction.padEnd(scale, '0').slice(0, scale));
  return negative ? -minor : minor;
}

/** Formats integer minor units as a decimal string with exactly the currency's decimals. */
export function fromMinor(minor: bigint, currency: string): string {
  const scale = minorUnitsOf(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

export const Money = z.object({ amount: DecimalString, currency: CurrencyCode }).superRefine((m, ctx) => {
  try {
    toMinor(m.amount, m.currency);
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: ['amount'], message: (e as Error).message });
  }
});
export type Money = z.infer<typeof Money>;

/** Canonical form: exactly the currency's decimals, so equal amounts compare equal as strings. */
export function money(amount: string, currency: string): Money {
  return { amount: fromMinor(toMinor(amount, currency), currency), currency };
}

export function moneyFromMinor(minor: bigint, currency: string): Money {
  return { amount: fromMinor(minor, currency), currency };
}

export function zero(currency: string): Money {
  return moneyFromMinor(0n, currency);
}

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new MoneyError(`cannot combine ${a.currency} with ${b.currency} without an FX conversion`);
  }
}

export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return moneyFromMinor(toMinor(a.amount, a.currency) + toMinor(b.amount, b.currency), a.currency);
}

export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return moneyFromMinor(toMinor(a.amount, a.currency) - toMinor(b.amount, b.currency), a.currency);
}

export function negate(a: Money): Money {
  return moneyFromMinor(-toMinor(a.amount, a.currency), a.currency);
}

export function sum(items: readonly Money[], currency: string): Money {
  let total = 0n;
  for (const m of items) {
    if (m.currency !== currency) throw new MoneyError(`cannot add ${m.currency} into a ${currency} total`);
    total += toMinor(m.amount, m.currency);
  }
  return moneyFromMinor(total, currency);
}

export function compare(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b);
  const d = toMinor(a.amount, a.currency) - toMinor(b.amount, b.currency);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
}

export function max(a: Money, b: Money): Money {
  return compare(a, b) >= 0 ? a : b;
}

export function isZero(a: Money): boolean {
  return toMinor(a.amount, a.currency) === 0n;
}

export function isNegative(a: Money): boolean {
  return toMinor(a.amount, a.currency) < 0n;
}

/**
 * `part` as a percentage of `whole` (both in the same minor units), to two decimals, half away from zero;
 * null when `whole` is zero. Exact: hundredths of a percent are part × 10,000 / whole in integers.
 */
export function percentOf(part: bigint, whole: bigint): string | null {
  if (whole === 0n) return null;
  const scaled = part * 10_000n;
  const negative = scaled < 0n !== whole < 0n;
  const num = scaled < 0n ? -scaled : scaled;
  const den = whole < 0n ? -whole : whole;
  let q = num / den;
  if ((num % den) * 2n >= den) q += 1n;
  const digits = q.toString().padStart(3, '0');
  return `${negative && q !== 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
