import { type Dimensions } from './model';
import { type Money, fromMinor, money, toMinor } from './money';

/**
 * What a revision of a budget changes, against what the budget already holds. A target (an ERP) holds the sum
 * of everything closeloop posted there for the budget; completed entries cannot be changed, so a revision
 * posts only its differences, and never into a period that is closed.
 */

/** An amount of a budget on one dimension combination and period. */
export interface KeyedAmount {
  dimensions: Dimensions;
  period: string;
  /** Decimal string in `currency`. */
  amount: string;
  currency: string;
}

/**
 * One text per combination, whatever order its dimensions were written in: the dimensions sorted by code,
 * JSON-encoded (a value may hold any character). A dimension left out is absent, never an empty value.
 */
export function combinationKey(dims: Dimensions): string {
  return JSON.stringify(
    Object.keys(dims)
      .sort()
      .map((k) => [k, dims[k]]),
  );
}

export const budgetKey = (k: Pick<KeyedAmount, 'dimensions' | 'period'>) =>
  `${combinationKey(k.dimensions)}|${k.period}`;

/** The amounts summed per combination, period and currency, in minor units (the order of first appearance). */
export function netByKey(lines: readonly KeyedAmount[]): Map<string, KeyedAmount & { minor: bigint }> {
  const net = new Map<string, KeyedAmount & { minor: bigint }>();
  for (const l of lines) {
    const key = `${budgetKey(l)}|${l.currency}`;
    const held = net.get(key) ?? { ...l, minor: 0n };
    held.minor += toMinor(l.amount, l.currency);
    net.set(key, held);
  }
  return net;
}

export interface Difference {
  dimensions: Dimensions;
  period: string;
  amount: Money;
}

/**
 * The lines a version publishes to a target that already holds `held`: per combination and period, the
 * version's amount minus what is held, where they differ; a combination the version no longer has is taken
 * back out. Differences in periods that are not open cannot be published and come back as `closed`.
 * In the version's line order, then what it dropped, so a first publication posts the version as it reads.
 */
export function publicationDifferences(
  version: readonly KeyedAmount[],
  held: readonly KeyedAmount[],
  isOpen: (period: string) => boolean,
): { lines: Difference[]; closed: Difference[] } {
  const target = netByKey(version);
  const before = netByKey(held);
  const lines: Difference[] = [];
  const closed: Difference[] = [];
  const consider = (k: KeyedAmount, diff: bigint) => {
    if (diff === 0n) return;
    const d = {
      dimensions: k.dimensions,
      period: k.period,
      amount: money(fromMinor(diff, k.currency), k.currency),
    };
    (isOpen(k.period) ? lines : closed).push(d);
  };
  for (const [key, t] of target) consider(t, t.minor - (before.get(key)?.minor ?? 0n));
  const dropped = [...before].filter(([key]) => !target.has(key)).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [, h] of dropped) consider(h, -h.minor);
  return { lines, closed };
}
