import { DECIMAL_PATTERN, MoneyError, money, toMinor } from './money';
import { type BudgetLine, PeriodCode, type PlanningBudgetRow } from './model';
import { effectiveThroughout, type ReferenceSnapshot } from './reference';

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

export interface BudgetValidation {
  lines: BudgetLine[];
  issues: LineIssue[];
}

/**
 * Turns raw planning rows into canonical budget lines, or lists every reason they cannot be: amounts are
 * plain decimals in the entity's currency, periods are open periods of the fiscal year, and each
 * dimension exists and is active for the whole period it is budgeted in.
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
    } else if (period.status === 'closed') {
      issue('period', 'period_closed', `period ${periodCode} is closed`);
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

    const key = `${account}|${costCenter}|${periodCode}`;
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      issue('version', 'duplicate_line', `${account}/${costCenter}/${periodCode} repeats line ${firstLine}`);
    } else {
      seen.set(key, lineNo);
    }

    if (issues.length === before) {
      lines.push({
        lineNo,
        dimensions: { account, costCenter },
        period: periodCode,
        amount: money(amountText, currency),
      });
    }
  });

  return { lines: issues.length ? [] : lines, issues };
}
