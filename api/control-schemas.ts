import { type Request } from 'express';
import { z } from 'zod';
import { LegalEntityCode, PeriodCode } from '../domain/model';
import { Money, toMinor } from '../domain/money';
import { HttpError } from './errors';

/** The budget control API's shared shapes: a funds request's lines, and the caller's Idempotency-Key. */

/** The one rule for a period code's form (domain/model PeriodCode); the entity's calendar says if it exists. */
export const Period = PeriodCode;
export const Code = z.string().min(1).max(50);

/** A line's other dimensions of its entity's chart (department, project, fund…), beside account and cost center. */
export const OtherDimensions = z
  .record(z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, 'must be a dimension code such as "project"'), Code)
  .refine((d) => !('account' in d) && !('costCenter' in d), {
    message: 'account and cost center are the line’s own fields',
  });

export const FundsBody = z
  .object({
    legalEntity: LegalEntityCode,
    lines: z
      .array(
        z
          .object({
            account: Code,
            costCenter: Code,
            period: Period,
            amount: Money.refine((m) => toMinor(m.amount, m.currency) > 0n, 'must be more than zero'),
            dimensions: OtherDimensions.optional(),
          })
          .strict(),
      )
      .min(1)
      .max(500),
  })
  .strict();
export type FundsBody = z.infer<typeof FundsBody>;

export const IdempotencyKey = z.string().min(1).max(200);

export function idempotencyKeyOf(req: Request): string {
  const parsed = IdempotencyKey.safeParse(req.header('idempotency-key'));
  if (!parsed.success) {
    throw new HttpError(
      400,
      'idempotency_key_required',
      'this request needs an Idempotency-Key header (1 to 200 characters)',
    );
  }
  return parsed.data;
}
