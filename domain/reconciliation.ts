import { fromMinor, toMinor } from './money';

export interface PeriodAccountTotal {
  period: string;
  account: string;
  amount: string;
}

export interface ReconciliationLine {
  period: string;
  account: string;
  sourceAmount: string;
  targetAmount: string;
  difference: string;
  status: 'matched' | 'mismatched';
}

export type ReconciliationExceptionKind = 'amount_mismatch' | 'missing_in_target' | 'unexpected_in_target';

export interface ReconciliationException {
  kind: ReconciliationExceptionKind;
  period: string;
  account: string;
  sourceAmount: string;
  targetAmount: string;
  difference: string;
}

export interface Reconciliation {
  currency: string;
  sourceTotal: string;
  targetTotal: string;
  lines: ReconciliationLine[];
  exceptions: ReconciliationException[];
  matchedCount: number;
  mismatchedCount: number;
}

function totalsByKey(rows: readonly PeriodAccountTotal[], currency: string): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const r of rows) {
    const key = `${r.period}|${r.account}`;
    totals.set(key, (totals.get(key) ?? 0n) + toMinor(r.amount, currency));
  }
  return totals;
}

/**
 * Compares source (canonical, approved) totals with target (ERP) totals by period and account, exactly.
 * Every difference becomes an exception of the kind that tells support staff where to look.
 */
export function reconcileTotals(
  source: readonly PeriodAccountTotal[],
  target: readonly PeriodAccountTotal[],
  currency: string,
): Reconciliation {
  const s = totalsByKey(source, currency);
  const t = totalsByKey(target, currency);
  const keys = [...new Set([...s.keys(), ...t.keys()])].sort();
  const lines: ReconciliationLine[] = [];
  const exceptions: ReconciliationException[] = [];
  let sourceTotal = 0n;
  let targetTotal = 0n;
  for (const key of keys) {
    const [period, account] = key.split('|') as [string, string];
    const src = s.get(key) ?? 0n;
    const tgt = t.get(key) ?? 0n;
    sourceTotal += src;
    targetTotal += tgt;
    const diff = tgt - src;
    const line: ReconciliationLine = {
      period,
      account,
      sourceAmount: fromMinor(src, currency),
      targetAmount: fromMinor(tgt, currency),
      difference: fromMinor(diff, currency),
      status: diff === 0n ? 'matched' : 'mismatched',
    };
    lines.push(line);
    if (diff !== 0n) {
      const kind: ReconciliationExceptionKind =
        !t.has(key) || tgt === 0n
          ? 'missing_in_target'
          : !s.has(key) || src === 0n
            ? 'unexpected_in_target'
            : 'amount_mismatch';
      exceptions.push({
        kind,
        period,
        account,
        sourceAmount: line.sourceAmount,
        targetAmount: line.targetAmount,
        difference: line.difference,
      });
    }
  }
  return {
    currency,
    sourceTotal: fromMinor(sourceTotal, currency),
    targetTotal: fromMinor(targetTotal, currency),
    lines,
    exceptions,
    matchedCount: lines.length - exceptions.length,
    mismatchedCount: exceptions.length,
  };
}

/** One target's reconciliation of a version, as the cycle's status and the API report it. */
export interface ReconciliationSummary {
  target: string;
  currency: string;
  sourceTotal: string;
  targetTotal: string;
  matchedCount: number;
  mismatchedCount: number;
  exceptionCount: number;
}
