import { z } from 'zod';
import { DECIMAL_PATTERN } from '../../../domain/money';

/**
 * SuiteQL text and the values its rows carry. SuiteQL is Oracle SQL over NetSuite's records: a literal is
 * single-quoted, a date is compared through TO_DATE and read through TO_CHAR (a date column is otherwise written
 * in the user's date format), a boolean is 'T' or 'F', and a record reference is its internal ID.
 */

export const quoted = (v: string) => `'${v.replace(/'/g, "''")}'`;
export const dateLiteral = (day: string) => `TO_DATE('${day}', 'YYYY-MM-DD')`;
/** A date column as an ISO day. */
export const isoDay = (column: string, as: string) => `TO_CHAR(${column}, 'YYYY-MM-DD') AS ${as}`;

/** An internal ID, which SuiteQL may write as a number or a string. */
export const Id = z.union([z.string().min(1), z.number().int()]).transform(String);
export const OptionalId = z
  .union([z.string(), z.number().int(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || v === '' ? undefined : String(v)));
export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
export const Flag = z.enum(['T', 'F']).transform((v) => v === 'T');

/**
 * A currency amount as SuiteQL writes it: a JSON number (or its text). A JSON number is read back to its
 * shortest decimal text, which is the literal NetSuite wrote as long as it has no more than 15 significant digits
 * (every amount below a trillion with cents); one with more is refused rather than guessed at.
 */
export const Amount = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = typeof v === 'number' ? String(v) : v;
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  if (!DECIMAL_PATTERN.test(text) || (typeof v === 'number' && digits.length > 15)) {
    ctx.addIssue({ code: 'custom', message: `${text} is not an amount closeloop can read exactly` });
    return z.NEVER;
  }
  return text;
});

/**
 * JSON for a record whose amounts NetSuite takes as numbers: each amount is written as its decimal literal
 * (never through a float), so what is sent is exactly the decimal string closeloop holds.
 */
export function jsonWithAmounts(body: Record<string, unknown>, amounts: Record<string, string>): string {
  const marked = { ...body };
  for (const [field, amount] of Object.entries(amounts)) {
    if (!DECIMAL_PATTERN.test(amount)) throw new Error(`${field}: ${amount} is not a decimal string`);
    marked[field] = `\u0000${amount}`;
  }
  return JSON.stringify(marked).replace(/"\\u0000(-?\d+(?:\.\d+)?)"/g, '$1');
}
