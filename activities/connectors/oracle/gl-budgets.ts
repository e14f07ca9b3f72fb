import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { stringify } from 'csv-stringify/sync';
import { strToU8, zipSync } from 'fflate';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { toMinor } from '../../../domain/money';
import { type CallControl } from '../types';
import { OracleAmount } from './books';
import { essOutcome } from '../../../domain/oracle-ess';
import { readEssJobState } from './ess';
import { type OracleRest, SYSTEM } from './rest';

/**
 * GL budget balances, the budget General Ledger reports variances against: loaded by `erpintegrations`
 * `importBulkData` of the GL budget interface (GL_BUDGET_INTERFACE, "Import Budget Data from a Flat File"),
 * whose job, Validate and Upload Budgets, sets each balance a row names (ledger, budget, period, account
 * combination, currency) to the row's amount: a load replaces the balance, it does not add to it. The file is
 * a zip holding one CSV of the interface's columns in the template's order, without a header; its run name
 * (RUN_NAME, at most 50 characters) comes from the chunk's business key, as does the file's name.
 *
 * importBulkData takes no idempotency key, and Oracle's REST reference offers no finder of a load by its run
 * name or file (its ESS finders take the request id the answer carries). So closeloop keeps the request id in
 * the activity's heartbeat as soon as it has it (a retry waits on that job instead of loading again), and
 * after an answer that was lost it reads the balances the load sets (`ledgerBalances`): when they already
 * hold the load's amounts, the lost load ran and nothing is sent again. Since a load replaces, a second load of
 * the same file sets the same balances.
 */

/** How often a load waiting on a job looks for its relayed callback between two polls of Oracle. */
const CALLBACK_CHECK_MS = 1_000;

export interface GlBudgetConfig {
  /** The ESS job importBulkData runs on the interface rows ("package,definition"). */
  jobName: string;
  /** The UCM account the file is uploaded to. */
  documentAccount: string;
  /** Where Oracle posts the job's callback; none: `#NULL` (closeloop polls). */
  callbackUrl?: string;
  /** Between two reads of the job's state. */
  pollIntervalMs: number;
  /** How long one attempt waits for the job before handing over to the next (which waits on, by its id). */
  waitMs: number;
}

export interface GlBudgetLoad {
  /** The chunk's business key: the run name and the file's name are made from it. */
  key: string;
  ledgerId: string;
  ledgerName: string;
  budgetName: string;
  /** Each balance the load sets: its period's name, its account combination's segments, what it is to hold. */
  balances: { period: string; segments: string[]; amount: string; currency: string }[];
}

/** GL_BUDGET_INTERFACE's columns in the template's order: SEGMENT1..30 between CURRENCY_CODE and BUDGET_AMOUNT. */
export const INTERFACE_COLUMNS = [
  'RUN_NAME',
  'STATUS',
  'LEDGER_ID',
  'BUDGET_NAME',
  'PERIOD_NAME',
  'CURRENCY_CODE',
  ...Array.from({ length: 30 }, (_, i) => `SEGMENT${i + 1}`),
  'BUDGET_AMOUNT',
  'LEDGER_NAME',
] as const;

/** RUN_NAME is VARCHAR2(50): the key's readable head and a hash of the whole, so two keys never share one. */
export function runNameOf(key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `CL-${key.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 34)}-${hash}`.slice(0, 50);
}

/** The interface rows of a load, as CSV (LEDGER_ID given, LEDGER_NAME left blank: the table takes one or the other). */
export function interfaceCsv(load: GlBudgetLoad): string {
  const runName = runNameOf(load.key);
  return stringify(
    load.balances.map((b) => {
      if (b.segments.length > 30)
        throw ApplicationFailure.nonRetryable(
          `an account combination has ${b.segments.length} segments; the GL budget interface takes 30`,
          FailureType.ValidationFailed,
        );
      const segments = Array.from({ length: 30 }, (_, i) => b.segments[i] ?? '');
      return [
        runName,
        'NEW',
        load.ledgerId,
        load.budgetName,
        b.period,
        b.currency,
        ...segments,
        b.amount,
        '',
      ];
    }),
  );
}

const ImportAnswer = z.object({
  ReqstId: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).transform(String),
});

const BalanceItem = z.object({
  PeriodName: z.string(),
  Currency: z.string(),
  DetailAccountCombination: z.string(),
  Scenario: z.string().nullable().optional(),
  BudgetBalance: OracleAmount.nullable().optional(),
});

/**
 * The GL budget balances a budget holds in a ledger's periods, by period and account combination, read with
 * `ledgerBalances`' AccountBalanceFinder in detail mode (every combination: each segment `%`).
 */
export async function readBudgetBalances(
  rest: OracleRest,
  q: {
    ledgerName: string;
    budgetName: string;
    periods: readonly string[];
    currency: string;
    segments: number;
    delimiter: string;
  },
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const every = Array.from({ length: q.segments }, () => '%').join(q.delimiter);
  for (const period of q.periods)
    for await (const items of rest.collection('ledgerBalances', BalanceItem, {
      finder: `AccountBalanceFinder;accountCombination=${every},accountingPeriod=${period},currency=${q.currency},ledgerName=${q.ledgerName},mode=Detail`,
    }))
      for (const b of items)
        if (b.Scenario === q.budgetName && b.BudgetBalance != null)
          out.set(`${b.PeriodName}|${b.DetailAccountCombination}|${b.Currency}`, b.BudgetBalance);
  return out;
}

/** Whether Oracle's balances already hold every amount a load sets. */
async function alreadyHeld(rest: OracleRest, load: GlBudgetLoad, delimiter: string): Promise<boolean> {
  const byCurrency = new Map<string, GlBudgetLoad['balances']>();
  for (const b of load.balances) byCurrency.set(b.currency, [...(byCurrency.get(b.currency) ?? []), b]);
  for (const [currency, balances] of byCurrency) {
    const held = await readBudgetBalances(rest, {
      ledgerName: load.ledgerName,
      budgetName: load.budgetName,
      periods: [...new Set(balances.map((b) => b.period))],
      currency,
      segments: Math.max(...balances.map((b) => b.segments.length)),
      delimiter,
    });
    for (const b of balances) {
      const amount = held.get(`${b.period}|${b.segments.join(delimiter)}|${currency}`) ?? '0';
      if (toMinor(amount, currency) !== toMinor(b.amount, currency)) return false;
    }
  }
  return true;
}

/**
 * Loads the balances and waits for the job: the request id, and whether an earlier attempt had already
 * loaded them. A job that ends in error or warning is checked against the balances: unless they hold the
 * load's amounts, the load fails for good, naming its run and request (the job's output lists the rows it
 * refused); a retry after the cause is fixed loads the same file again.
 */
export async function loadBudgetBalances(
  rest: OracleRest,
  config: GlBudgetConfig,
  load: GlBudgetLoad,
  delimiter: string,
  control: CallControl = {},
): Promise<{ requestId: string; alreadyLoaded: boolean }> {
  const resumed = control.resumeFrom?.runName === runNameOf(load.key) ? control.resumeFrom : undefined;
  let requestId = typeof resumed?.requestId === 'string' ? resumed.requestId : undefined;
  if (!requestId) {
    if (resumed && (await alreadyHeld(rest, load, delimiter))) return { requestId: '', alreadyLoaded: true };
    const exclusive = control.exclusive ?? ((_key, fn) => fn());
    requestId = await exclusive(load.key, async () => {
      const runName = runNameOf(load.key);
      // Marked before the call: an attempt that follows one whose answer was lost checks the balances first.
      control.progress?.({ runName });
      const zip = zipSync({ 'GlBudgetInterface.csv': strToU8(interfaceCsv(load)) });
      const answer = await rest.create(
        'erpintegrations',
        {
          OperationName: 'importBulkData',
          DocumentContent: Buffer.from(zip).toString('base64'),
          ContentType: 'zip',
          FileName: `${runName}.zip`,
          DocumentAccount: config.documentAccount,
          JobName: config.jobName,
          ParameterList: runName,
          CallbackURL: config.callbackUrl ?? '#NULL',
          NotificationCode: '10',
        },
        ImportAnswer,
      );
      control.progress?.({ runName, requestId: answer.ReqstId });
      return answer.ReqstId;
    });
  }
  const runName = runNameOf(load.key);
  const started = Date.now();
  let polls = 0;
  let nextPoll = 0;
  for (;;) {
    // A callback relayed to closeloop says first; Oracle is read on the poll's own schedule.
    const reported = await control.jobEnded?.(requestId);
    let outcome: ReturnType<typeof essOutcome>;
    let state: string;
    if (reported && reported !== 'running') {
      outcome = reported;
      state = `${reported.toUpperCase()} (callback)`;
    } else if (Date.now() >= nextPoll) {
      const read = await readEssJobState(rest, requestId);
      outcome = essOutcome(read);
      state = read;
      // A load of a few rows ends in seconds, a large one in minutes: read again soon, then less often.
      nextPoll = Date.now() + Math.min(config.pollIntervalMs, 500 * 2 ** polls++);
    } else {
      await sleep(Math.min(CALLBACK_CHECK_MS, nextPoll - Date.now()));
      continue;
    }
    control.progress?.({ runName, requestId, state });
    if (outcome === 'succeeded') return { requestId, alreadyLoaded: false };
    if (outcome === 'warning' || outcome === 'failed') {
      if (await alreadyHeld(rest, load, delimiter)) return { requestId, alreadyLoaded: false };
      throw ApplicationFailure.nonRetryable(
        `${SYSTEM} GL budget load ${runName} (ESS request ${requestId}) ended ${state}: budget ${load.budgetName} in ledger ${load.ledgerName} does not hold what it loads; see the job's log in Scheduled Processes, fix the cause and retry`,
        FailureType.ConnectorRejected,
      );
    }
    if (Date.now() - started >= config.waitMs)
      throw ApplicationFailure.retryable(
        `${SYSTEM} ESS request ${requestId} (${runName}) is still ${state}; the next attempt waits on it`,
        FailureType.ConnectorUnavailable,
      );
    await sleep(
      control.jobEnded ? Math.min(CALLBACK_CHECK_MS, nextPoll - Date.now()) : nextPoll - Date.now(),
    );
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
