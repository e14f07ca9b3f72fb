import { DECIMAL_PATTERN, fromMinor, type Money, MoneyError, money, toMinor } from './money';
import { type BudgetLine, PeriodCode, type PlanningBudgetRow } from './model';
import { effectiveThroughout, type FiscalPeriodRef, type ReferenceSnapshot } from './reference';
import { budgetKey } from './revision';

export type LineIssueCode =
  | 'empty_version'
  | 'missing_field'
  | 'not_decimal'
  | 'too_many_decimals'
  | 'currency_mismatch'
  | 'period_outside_calendar'
  | 'period_closed'
  | 'unknown_account'
  | 'inactive_account'
  | 'unknown_cost_center'
  | 'inactive_cost_center'
  | 'cost_center_other_entity'
  | 'duplicate_line';

export interface LineIssue {
  /** 1-based row of the export; 0 for issues about the version as a whole. */
  lineNo: number;
  field: 'account' | 'costCenter' | 'period' | 'amount' | 'currency' | 'version';
  code: LineIssueCode;
  message: string;
}

/**
 * A change the planning platform made to a closed period, moved to the next open period by the entity's
 * policy: the closed period keeps what is in control, and `amount` (the change) lands in `to`.
 */
export interface PeriodMove {
  account: string;
  costCenter: string;
  from: string;
  to: string;
  amount: Money;
}

export interface BudgetValidation {
  lines: BudgetLine[];
  issues: LineIssue[];
  /** Changes to closed periods moved to the next open one; `lines` already carry them. */
  moves: PeriodMove[];
}

/**
 * Turns raw planning rows into canonical budget lines, or lists every reason they cannot be: amounts are
 * plain decimals in the entity's currency, periods are periods of the fiscal year, and each dimension
 * exists and is active for the whole period it is budgeted in. A closed period keeps what is in control:
 * a line there that equals it passes; a change to it (a different amount, or a combination left out) is
 * refused naming it, or, where the entity's policy says so, moved to the next open period (`moves`).
 */
export function validateBudgetRows(
  rows: readonly PlanningBudgetRow[],
  ref: ReferenceSnapshot,
): BudgetValidation {
  const issues: LineIssue[] = [];
  const lines: BudgetLine[] = [];
  if (rows.length === 0) {
    issues.push({ lineNo: 0, field: 'version', code: 'empty_version', message: 'the version has no lines' });
  }
  const periods = new Map(ref.periods.map((p) => [p.period, p]));
  const accounts = new Map(ref.accounts.map((a) => [a.code, a]));
  const costCenters = new Map(ref.costCenters.map((c) => [c.code, c]));
  const seen = new Map<string, number>();
  const closedLines: BudgetLine[] = [];

  rows.forEach((row, index) => {
    const lineNo = index + 1;
    const before = issues.length;
    const issue = (field: LineIssue['field'], code: LineIssueCode, message: string) =>
      issues.push({ lineNo, field, code, message });

    const account = row.account.trim();
    const costCenter = row.costCenter.trim();
    const periodCode = row.period.trim();
    const amountText = row.amount.trim();
    const currency = row.currency.trim();

    if (!account) issue('account', 'missing_field', 'account is empty');
    if (!costCenter) issue('costCenter', 'missing_field', 'cost center is empty');

    if (!DECIMAL_PATTERN.test(amountText)) {
      issue(
        'amount',
        'not_decimal',
        `amount ${JSON.stringify(row.amount)} is not a plain decimal such as "1250.00"`,
      );
    } else if (currency === ref.currency) {
      try {
        toMinor(amountText, currency);
      } catch (e) {
        if (e instanceof MoneyError) issue('amount', 'too_many_decimals', e.message);
        else throw e;
      }
    }
    if (currency !== ref.currency) {
      issue(
        'currency',
        'currency_mismatch',
        `currency ${JSON.stringify(row.currency)} is not ${ref.legalEntity}'s ${ref.currency}`,
      );
    }

    const period = PeriodCode.safeParse(periodCode).success ? periods.get(periodCode) : undefined;
    if (!period) {
      issue(
        'period',
        'period_outside_calendar',
        `period ${JSON.stringify(row.period)} is not in fiscal year ${ref.fiscalYear}`,
      );
    }

    if (account) {
      const a = accounts.get(account);
      if (!a) issue('account', 'unknown_account', `account ${account} does not exist`);
      else if (period && !effectiveThroughout(a, period.startDate, period.endDate)) {
        issue('account', 'inactive_account', `account ${account} is not active throughout ${period.period}`);
      }
    }
    if (costCenter) {
      const c = costCenters.get(costCenter);
      if (!c) issue('costCenter', 'unknown_cost_center', `cost center ${costCenter} does not exist`);
      else if (c.legalEntity !== ref.legalEntity) {
        issue(
          'costCenter',
          'cost_center_other_entity',
          `cost center ${costCenter} belongs to ${c.legalEntity}`,
        );
      } else if (period && !effectiveThroughout(c, period.startDate, period.endDate)) {
        issue(
          'costCenter',
          'inactive_cost_center',
          `cost center ${costCenter} is not active throughout ${period.period}`,
        );
      }
    }

    const key = budgetKey({ account, costCenter, period: periodCode });
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      issue('version', 'duplicate_line', `${account}/${costCenter}/${periodCode} repeats line ${firstLine}`);
    } else {
      seen.set(key, lineNo);
    }

    if (issues.length === before) {
      const line = {
        lineNo,
        dimensions: { account, costCenter },
        period: periodCode,
        amount: money(amountText, currency),
      };
      lines.push(line);
      if (period?.status === 'closed') closedLines.push(line);
    }
  });

  const moves = closedPeriodChanges(ref, lines, closedLines, seen, issues);
  issues.sort((a, b) => a.lineNo - b.lineNo);
  return { lines: issues.length ? [] : lines, issues, moves: issues.length ? [] : moves };
}

/**
 * Settles the lines of closed periods against what is in control there: unchanged passes; a change is refused
 * (an issue naming it) or, under the `next_open_period` policy, moved: the closed period's line is set back
 * to what is in control and the change is added to the next open period of the year. A combination in
 * control in a closed period that the version leaves out is a change to zero, treated the same way.
 */
function closedPeriodChanges(
  ref: ReferenceSnapshot,
  lines: BudgetLine[],
  closedLines: readonly BudgetLine[],
  seen: ReadonlyMap<string, number>,
  issues: LineIssue[],
): PeriodMove[] {
  const periods = new Map(ref.periods.map((p) => [p.period, p]));
  const open = ref.periods.filter((p) => p.status === 'open').sort((a, b) => a.periodNumber - b.periodNumber);
  const nextOpen = (p: FiscalPeriodRef) => open.find((q) => q.periodNumber > p.periodNumber);
  const amount = (minor: bigint) => fromMinor(minor, ref.currency);
  const moves: PeriodMove[] = [];

  /**
   * When the line changes a closed period and the change can move: records the move and answers what the
   * closed period keeps. Undefined when nothing changes, or when the change is refused (an issue).
   */
  const settle = (
    lineNo: number,
    account: string,
    costCenter: string,
    period: FiscalPeriodRef,
    proposed: bigint,
  ) => {
    const held = ref.inControl?.get(budgetKey({ account, costCenter, period: period.period })) ?? [0n];
    if (held.every((h) => h === proposed)) return undefined;
    const what = `${account}/${costCenter} in closed period ${period.period}`;
    const agreed = held.every((h) => h === held[0]);
    if (!agreed) {
      issues.push({
        lineNo,
        field: 'period',
        code: 'period_closed',
        message: `${what}: its targets hold different amounts (${held.map(amount).join(', ')} ${ref.currency}); it cannot change until they are reconciled`,
      });
      return undefined;
    }
    const change = `would change from ${amount(held[0]!)} to ${amount(proposed)} ${ref.currency}`;
    const to = ref.closedPeriodPolicy === 'next_open_period' ? nextOpen(period) : undefined;
    if (!to) {
      issues.push({
        lineNo,
        field: 'period',
        code: 'period_closed',
        message:
          ref.closedPeriodPolicy === 'next_open_period'
            ? `${what} ${change}, and no later period of FY${ref.fiscalYear} is open to move the change to`
            : `${what} ${change}; a closed period keeps what is in control (${amount(held[0]!)})`,
      });
      return undefined;
    }
    moves.push({
      account,
      costCenter,
      from: period.period,
      to: to.period,
      amount: money(amount(proposed - held[0]!), ref.currency),
    });
    return held[0]!;
  };

  for (const line of closedLines) {
    const { account, costCenter } = line.dimensions;
    const kept = settle(
      line.lineNo,
      account,
      costCenter,
      periods.get(line.period)!,
      toMinor(line.amount.amount, ref.currency),
    );
    if (kept !== undefined) line.amount = money(amount(kept), ref.currency);
  }
  let next = lines.reduce((n, l) => Math.max(n, l.lineNo), 0) + 1;
  for (const key of ref.inControl?.keys() ?? []) {
    if (seen.has(key)) continue;
    const [account, costCenter, periodCode] = key.split('|') as [string, string, string];
    const period = periods.get(periodCode);
    if (period?.status !== 'closed') continue;
    const kept = settle(0, account, costCenter, period, 0n);
    if (kept !== undefined)
      lines.push({
        lineNo: next++,
        dimensions: { account, costCenter },
        period: periodCode,
        amount: money(amount(kept), ref.currency),
      });
  }
  for (const m of moves) {
    const into = lines.find(
      (l) =>
        l.period === m.to && l.dimensions.account === m.account && l.dimensions.costCenter === m.costCenter,
    );
    const delta = toMinor(m.amount.amount, ref.currency);
    if (into) into.amount = money(amount(toMinor(into.amount.amount, ref.currency) + delta), ref.currency);
    else
      lines.push({
        lineNo: next++,
        dimensions: { account: m.account, costCenter: m.costCenter },
        period: m.to,
        amount: m.amount,
      });
  }
  return moves;
}
