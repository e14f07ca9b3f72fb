import { targetStructureProblems } from './target-structures';
import { DECIMAL_PATTERN, fromMinor, type Money, MoneyError, money, toMinor } from './money';
import { chartIn, combinationText } from './chart';
import { type CombinationProblemCode, combinationChecker } from './combination-check';
import { type BudgetLine, type Dimensions, PeriodCode, type PlanningBudgetRow } from './model';
import { mapDimensions } from './mapping';
import { type FiscalPeriodRef, type ReferenceSnapshot } from './reference';
import { budgetKey, combinationKey } from './revision';

export type LineIssueCode =
  | 'empty_version'
  | 'missing_field'
  | 'not_decimal'
  | 'too_many_decimals'
  | 'currency_mismatch'
  | 'period_outside_calendar'
  | 'period_closed'
  | 'duplicate_line'
  | 'unmapped_value'
  /** The target's own rules (a Dynamics 365 account structure) would refuse the line at posting. */
  | 'target_rule'
  | CombinationProblemCode
  // Issues stored with versions validated before charts were data; validation no longer makes them.
  | 'unknown_account'
  | 'inactive_account'
  | 'unknown_cost_center'
  | 'inactive_cost_center'
  | 'cost_center_other_entity';

export interface LineIssue {
  /** 1-based row of the export; 0 for issues about the version as a whole. */
  lineNo: number;
  /** A dimension's code, or the row's period, amount or currency, or the version. */
  field: string;
  code: LineIssueCode;
  /** The cross-validation rule the line broke (code `cross_validation`), or the target's structure (`target_rule`). */
  rule?: string;
  message: string;
}

/**
 * A change the planning platform made to a closed period, moved to the next open period by the entity's
 * policy: the closed period keeps what is in control, and `amount` (the change) lands in `to`.
 */
export interface PeriodMove {
  dimensions: Dimensions;
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

/** "costCenter" → "cost center", "productLine" → "product line": a dimension named in messages. */
export const dimensionWords = (code: string) => code.replace(/([A-Z])/g, ' $1').toLowerCase();

/**
 * Turns raw planning rows into canonical budget lines, or lists every reason they cannot be: amounts are
 * plain decimals in the entity's currency, periods are periods of the fiscal year, and each line's
 * combination may be booked under the entity's chart throughout its period (its dimensions, required ones,
 * formats, value lists, and cross-validation rules: domain/combination-check). A closed period keeps what is
 * in control: a line there that equals it passes; a change to it (a different amount, or a combination left
 * out) is refused naming it, or, where the entity's policy says so, moved to the next open period (`moves`).
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
  const ordered = [...ref.periods].sort((a, b) => a.periodNumber - b.periodNumber);
  const yearStart = ordered[0]?.startDate ?? `${ref.fiscalYear}-01-01`;
  const check = combinationChecker(ref.rules ?? { rules: [], hierarchies: new Map() });
  const seen = new Map<string, number>();
  const closedLines: BudgetLine[] = [];

  rows.forEach((row, index) => {
    const lineNo = index + 1;
    const before = issues.length;
    const issue = (field: string, code: LineIssueCode, message: string, rule?: string) =>
      issues.push({ lineNo, field, code, ...(rule ? { rule } : {}), message });

    // A blank cell is a dimension the line leaves out.
    const dimensions: Dimensions = {};
    for (const [code, value] of Object.entries(row.dimensions)) {
      const v = value.trim();
      if (v) dimensions[code] = v;
    }
    const periodCode = row.period.trim();
    const amountText = row.amount.trim();
    const currency = row.currency.trim();

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

    const chart = chartIn(ref.charts, period?.startDate ?? yearStart) ?? ref.charts[0];
    if (!chart) throw new Error(`${ref.legalEntity} has no chart of accounts`);
    const problems = check(dimensions, {
      legalEntity: ref.legalEntity,
      spec: chart.spec,
      values: (d) => ref.values.get(d),
      from: period?.startDate ?? yearStart,
      to: period?.endDate ?? yearStart,
      label: dimensionWords,
    });
    for (const p of problems) {
      // Without a period of the year there are no dates to judge a value's activity on.
      if (!period && p.code === 'inactive_value') continue;
      issue(p.dimension, p.code, p.message, p.rule);
    }
    // A line that could be booked must also reach every target it is published to: an approved budget
    // never fails at posting for want of a mapping.
    if (period && !problems.length)
      for (const t of ref.targets ?? []) {
        const outside = t.holds ? Object.keys(dimensions).filter((d) => !t.holds!.includes(d)) : [];
        for (const d of outside)
          issue(
            d,
            'unmapped_value',
            `${dimensionWords(d)} has no place in ${t.target}'s form (it holds ${t.holds!.map(dimensionWords).join(', ')})`,
          );
        const mapped = mapDimensions(t.mappings, dimensions, period.startDate);
        if ('missing' in mapped)
          for (const m of mapped.missing)
            issue(
              m.dimension,
              'unmapped_value',
              `${dimensionWords(m.dimension)} ${m.code} has no ${t.target} mapping on ${m.onDate}`,
            );
        // The target's own rules, on the values it would receive: what it would refuse at posting.
        else if (t.structures && !outside.length)
          for (const p of targetStructureProblems(t.structures, mapped.values, t.heldByCompany))
            issue(p.dimension, 'target_rule', `${t.target}: ${p.message}`, p.structure);
      }

    const key = budgetKey({ dimensions, period: periodCode });
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      issue(
        'version',
        'duplicate_line',
        `${combinationText(chart.spec, dimensions)}/${periodCode} repeats line ${firstLine}`,
      );
    } else {
      seen.set(key, lineNo);
    }

    if (issues.length === before) {
      const line = {
        lineNo,
        dimensions,
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
  const settle = (lineNo: number, dimensions: Dimensions, period: FiscalPeriodRef, proposed: bigint) => {
    const held = ref.inControl?.get(budgetKey({ dimensions, period: period.period }))?.byTarget ?? [0n];
    if (held.every((h) => h === proposed)) return undefined;
    const chart = chartIn(ref.charts, period.startDate) ?? ref.charts[0]!;
    const what = `${combinationText(chart.spec, dimensions)} in closed period ${period.period}`;
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
      dimensions,
      from: period.period,
      to: to.period,
      amount: money(amount(proposed - held[0]!), ref.currency),
    });
    return held[0]!;
  };

  for (const line of closedLines) {
    const kept = settle(
      line.lineNo,
      line.dimensions,
      periods.get(line.period)!,
      toMinor(line.amount.amount, ref.currency),
    );
    if (kept !== undefined) line.amount = money(amount(kept), ref.currency);
  }
  let next = lines.reduce((n, l) => Math.max(n, l.lineNo), 0) + 1;
  for (const [key, held] of ref.inControl ?? []) {
    if (seen.has(key)) continue;
    const period = periods.get(held.period);
    if (period?.status !== 'closed') continue;
    const kept = settle(0, held.dimensions, period, 0n);
    if (kept !== undefined)
      lines.push({
        lineNo: next++,
        dimensions: held.dimensions,
        period: held.period,
        amount: money(amount(kept), ref.currency),
      });
  }
  for (const m of moves) {
    const into = lines.find(
      (l) => l.period === m.to && combinationKey(l.dimensions) === combinationKey(m.dimensions),
    );
    const delta = toMinor(m.amount.amount, ref.currency);
    if (into) into.amount = money(amount(toMinor(into.amount.amount, ref.currency) + delta), ref.currency);
    else
      lines.push({
        lineNo: next++,
        dimensions: m.dimensions,
        period: m.to,
        amount: m.amount,
      });
  }
  return moves;
}
