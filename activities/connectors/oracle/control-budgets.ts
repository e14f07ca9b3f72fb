import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { type Money } from '../../../domain/money';
import { type OracleRest, SYSTEM } from './rest';

/**
 * Oracle Fusion budgetary control's budget entries: a control budget's balance changes by budget entry
 * transactions, each funds-checked, sent to `budgetaryControlBudgetTransactions` ("Create and perform budgetary
 * control validation on a budget entry transaction", POST only: farfa, "Budgetary Control for Enterprise
 * Performance Management Budget Transactions"), and read back by their transaction number from
 * `budgetaryControlResultsBudgetTransactions/{TransactionNumber}`.
 *
 * Documented and followed: the client names the transaction (`TransactionNumber`), says whether it is an
 * initial budget or an adjustment (`BudgetTransactionType`), whether its amounts overwrite or add to the
 * balances (`BudgetAmountsMode`), whether it only checks funds or reserves them (`BatchFundsAction`), the control
 * budget (`SourceBudget`), and carries its lines as JSON in the `BudgetTransactionPayload` large object; the
 * result says `passed`, `warning` or `failed` for the header. Not published, so chosen here and named in
 * docs/compatibility.md for a real pod to confirm: the code values of those three fields, the payload's line
 * attributes (the results resource's names: `LineNumber`, `ControlBudget`, `ControlBudgetPeriod`,
 * `BudgetAccount`, `TransactionAmount`, with `CurrencyCode`), and the payload as base64 of that JSON.
 *
 * closeloop always sends differences and always adds them (`ADD`): under the control-budget posting model a
 * revision is an adjustment of what the budget holds, and a reversal the same lines negated.
 */

export const TRANSACTIONS = 'budgetaryControlBudgetTransactions';
export const RESULTS = 'budgetaryControlResultsBudgetTransactions';

export const TransactionType = z.enum(['INITIAL', 'ADJUSTMENT']);
export const AmountsMode = z.enum(['ADD', 'OVERWRITE']);
export const FundsAction = z.enum(['CHECK', 'RESERVE']);

export const PayloadLine = z.object({
  LineNumber: z.number().int().positive(),
  ControlBudget: z.string().min(1),
  ControlBudgetPeriod: z.string().min(1),
  BudgetAccount: z.string().min(1),
  TransactionAmount: z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string'),
  CurrencyCode: z.string().regex(/^[A-Z]{3}$/),
});
export type PayloadLine = z.infer<typeof PayloadLine>;

export const BudgetTransaction = z.object({
  TransactionNumber: z.string().min(1).max(50),
  BudgetTransactionType: TransactionType,
  BudgetAmountsMode: AmountsMode,
  BatchFundsAction: FundsAction,
  SourceBudget: z.string().min(1),
  BudgetTransactionPayload: z.string().min(1),
});
export type BudgetTransaction = z.infer<typeof BudgetTransaction>;

/** The created transaction as the server echoes it (only what closeloop reads). */
const Created = z.object({ TransactionNumber: z.string() }).loose();

/** A transaction's budgetary control result. */
export const TransactionResult = z
  .object({
    TransactionNumber: z.string(),
    HeaderStatus: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['passed', 'warning', 'failed'])),
    BatchResult: z.string().nullish(),
    BatchFatalErrorMessage: z.string().nullish(),
  })
  .loose();
export type TransactionResult = z.infer<typeof TransactionResult>;

export const encodePayload = (lines: readonly PayloadLine[]) =>
  Buffer.from(JSON.stringify(lines), 'utf8').toString('base64');

/**
 * The transaction number of a business key: the key itself while it fits Oracle's 50 characters (read on a
 * result, it says which version, chunk and revision it was), else a digest that still names the entity.
 */
export function transactionNumber(key: string): string {
  if (key.length <= 50) return key;
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 24);
  return `${key.slice(0, 25)}~${digest}`;
}

export interface BudgetEntryLine {
  account: string;
  period: string;
  amount: Money;
}

export async function readResult(rest: OracleRest, number: string): Promise<TransactionResult | undefined> {
  return rest.item(RESULTS, number, TransactionResult);
}

/**
 * Sends a budget entry transaction once: its result is looked for first (a retry after a lost answer finds
 * it and sends nothing), the caller holding the key's lock so no one else sends it meanwhile. A failed
 * budgetary control validation changed no balance and fails the chunk for good, with Oracle's reason.
 */
export async function sendBudgetEntry(
  rest: OracleRest,
  t: {
    number: string;
    type: z.infer<typeof TransactionType>;
    controlBudget: string;
    lines: readonly BudgetEntryLine[];
  },
): Promise<{ result: TransactionResult; alreadySent: boolean }> {
  const existing = await readResult(rest, t.number);
  if (existing) return { result: refuseFailed(existing), alreadySent: true };
  const body: BudgetTransaction = {
    TransactionNumber: t.number,
    BudgetTransactionType: t.type,
    BudgetAmountsMode: 'ADD',
    BatchFundsAction: 'RESERVE',
    SourceBudget: t.controlBudget,
    BudgetTransactionPayload: encodePayload(
      t.lines.map((l, i) => ({
        LineNumber: i + 1,
        ControlBudget: t.controlBudget,
        ControlBudgetPeriod: l.period,
        BudgetAccount: l.account,
        TransactionAmount: l.amount.amount,
        CurrencyCode: l.amount.currency,
      })),
    ),
  };
  await rest.create(TRANSACTIONS, body, Created);
  const result = await readResult(rest, t.number);
  if (!result)
    throw ApplicationFailure.retryable(
      `${SYSTEM}: budget entry ${t.number} was accepted but has no budgetary control result yet`,
      FailureType.ConnectorUnavailable,
    );
  return { result: refuseFailed(result), alreadySent: false };
}

function refuseFailed(result: TransactionResult): TransactionResult {
  if (result.HeaderStatus !== 'failed') return result;
  throw ApplicationFailure.create({
    type: FailureType.ConnectorRejected,
    message: `${SYSTEM}: budget entry ${result.TransactionNumber} failed budgetary control validation${result.BatchFatalErrorMessage ? `: ${result.BatchFatalErrorMessage}` : ''}`,
    nonRetryable: true,
    details: [{ system: SYSTEM, result }],
  });
}
