import { z } from 'zod';
import { rollUpTo, type TreeAsOf } from './hierarchy';
import { type Dimensions } from './model';
import { fromMinor, percentOf, toMinor } from './money';
import { combinationKey } from './revision';

/**
 * Reports grouped by any dimension or hierarchy level. Every row falls in exactly one group (a value the
 * tree does not hold, or that sits above the level, stands for itself; a row without the dimension groups
 * under null), so every grouping adds up to the total, exactly: amounts are summed in minor units.
 */

/** One term of a grouping: a dimension's values, or the nodes they roll up to at a level of its hierarchy. */
export interface GroupTerm {
  dimension: string;
  /** 0 = the tree's roots, 1 = their children, …; absent: the values themselves. */
  level?: number;
}

const TERM = /^([a-z][a-zA-Z0-9]{1,39})(?:@(\d{1,2}))?$/;

/**
 * `?groupBy=department,account@1,project`: comma-separated dimension codes, each optionally with `@level`
 * (a hierarchy level). Empty: one group per currency, the total.
 */
export const GroupBy = z
  .string()
  .max(400)
  .transform((text, ctx): GroupTerm[] => {
    const terms: GroupTerm[] = [];
    for (const raw of text.split(',').filter((t) => t.trim() !== '')) {
      const m = TERM.exec(raw.trim());
      if (!m) {
        ctx.addIssue({
          code: 'custom',
          message: `"${raw}" is not a grouping term: a dimension code, optionally with @level (e.g. "account@1")`,
        });
        return z.NEVER;
      }
      terms.push({ dimension: m[1]!, ...(m[2] !== undefined ? { level: Number(m[2]) } : {}) });
    }
    const labels = terms.map(termLabel);
    const twice = labels.find((l, i) => labels.indexOf(l) !== i);
    if (twice) {
      ctx.addIssue({ code: 'custom', message: `${twice} is named twice` });
      return z.NEVER;
    }
    return terms;
  });

/** A term's column name in a report: "department", "account@1". */
export const termLabel = (t: GroupTerm) =>
  t.level === undefined ? t.dimension : `${t.dimension}@${t.level}`;

/** The dimensions whose hierarchies a grouping needs. */
export const dimensionsWithLevels = (terms: readonly GroupTerm[]) => [
  ...new Set(terms.filter((t) => t.level !== undefined).map((t) => t.dimension)),
];

/** A row to group: a combination's figures (decimal strings) in one currency. */
export interface FigureRow {
  dimensions: Dimensions;
  currency: string;
  figures: Readonly<Record<string, string>>;
}

export interface FigureGroup {
  /** Each term's value for the group, by termLabel; null: the rows carry no value of that dimension. */
  key: Record<string, string | null>;
  currency: string;
  figures: Record<string, string>;
  /** How many rows the group holds. */
  rows: number;
}

export interface GroupedFigures {
  groups: FigureGroup[];
  /** Per currency: the sum of every row, which the groups of that currency add up to. */
  totals: { currency: string; figures: Record<string, string>; rows: number }[];
}

/** The value of one term for a row's dimensions. */
export function termValue(
  dims: Dimensions,
  term: GroupTerm,
  trees: ReadonlyMap<string, TreeAsOf>,
): string | null {
  const value = dims[term.dimension];
  if (value === undefined) return null;
  if (term.level === undefined) return value;
  const tree = trees.get(term.dimension);
  return tree ? rollUpTo(tree, value, term.level) : value;
}

/** Groups rows by the terms, summing each of `fields` (missing figures count as zero). */
export function groupFigures(
  rows: readonly FigureRow[],
  terms: readonly GroupTerm[],
  trees: ReadonlyMap<string, TreeAsOf>,
  fields: readonly string[],
): GroupedFigures {
  type Acc = { key: Record<string, string | null>; currency: string; sums: bigint[]; rows: number };
  const groups = new Map<string, Acc>();
  const totals = new Map<string, Acc>();
  const add = (into: Map<string, Acc>, id: string, key: Acc['key'], row: FigureRow) => {
    let acc = into.get(id);
    if (!acc) {
      acc = { key, currency: row.currency, sums: fields.map(() => 0n), rows: 0 };
      into.set(id, acc);
    }
    fields.forEach((f, i) => {
      const v = row.figures[f];
      if (v !== undefined) acc.sums[i]! += toMinor(v, row.currency);
    });
    acc.rows += 1;
  };
  for (const row of rows) {
    const values = terms.map((t) => termValue(row.dimensions, t, trees));
    const key = Object.fromEntries(terms.map((t, i) => [termLabel(t), values[i]!]));
    add(groups, JSON.stringify([...values, row.currency]), key, row);
    add(totals, row.currency, {}, row);
  }
  const figures = (a: Acc) =>
    Object.fromEntries(fields.map((f, i) => [f, fromMinor(a.sums[i]!, a.currency)]));
  const order = (a: Acc, b: Acc) => {
    for (const t of terms) {
      const x = a.key[termLabel(t)] ?? '';
      const y = b.key[termLabel(t)] ?? '';
      if (x !== y) return x < y ? -1 : 1;
    }
    return a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0;
  };
  return {
    groups: [...groups.values()]
      .sort(order)
      .map((a) => ({ key: a.key, currency: a.currency, figures: figures(a), rows: a.rows })),
    totals: [...totals.values()]
      .sort(order)
      .map((a) => ({ currency: a.currency, figures: figures(a), rows: a.rows })),
  };
}

/** A combination's amount in one currency, as a version holds it. */
export interface CombinationAmount {
  dimensions: Dimensions;
  currency: string;
  amount: string;
}

/**
 * Sets of amounts side by side per combination and currency, one figure per set (zero where a set has
 * nothing for the combination), and `derived` figures computed from them in minor units.
 */
export function mergeFigures(
  sets: Readonly<Record<string, readonly CombinationAmount[]>>,
  derived: Readonly<Record<string, (minor: Readonly<Record<string, bigint>>) => bigint>> = {},
): FigureRow[] {
  const names = Object.keys(sets);
  const rows = new Map<string, { dimensions: Dimensions; currency: string; minor: Record<string, bigint> }>();
  for (const name of names)
    for (const r of sets[name]!) {
      const id = `${combinationKey(r.dimensions)}|${r.currency}`;
      const row = rows.get(id) ?? {
        dimensions: r.dimensions,
        currency: r.currency,
        minor: Object.fromEntries(names.map((n) => [n, 0n])),
      };
      row.minor[name]! += toMinor(r.amount, r.currency);
      rows.set(id, row);
    }
  return [...rows.values()].map((r) => ({
    dimensions: r.dimensions,
    currency: r.currency,
    figures: Object.fromEntries([
      ...names.map((n) => [n, fromMinor(r.minor[n]!, r.currency)]),
      ...Object.entries(derived).map(([n, f]) => [n, fromMinor(f(r.minor), r.currency)]),
    ]),
  }));
}

/**
 * A version against another (another scenario's, or the one it would replace): `amount`, `compared` and
 * `difference` = amount − compared per combination and currency.
 */
export const compareFigures = (
  amounts: readonly CombinationAmount[],
  compared: readonly CombinationAmount[],
) => mergeFigures({ amount: amounts, compared }, { difference: (m) => m.amount! - m.compared! });

/** A comparison as an approver reviews it: proposed against active, the change, and the change in % of active. */
export interface ReviewFigures {
  proposed: string;
  active: string;
  change: string;
  /** Change over the active budget in %, two decimals; null where the active budget has nothing. */
  changePercent: string | null;
}

/** compareFigures' amount, compared and difference (of one row or one group) as review figures. */
export function reviewFigures(f: Readonly<Record<string, string>>, currency: string): ReviewFigures {
  const active = toMinor(f.compared ?? '0', currency);
  const change = toMinor(f.difference ?? '0', currency);
  return {
    proposed: fromMinor(toMinor(f.amount ?? '0', currency), currency),
    active: fromMinor(active, currency),
    change: fromMinor(change, currency),
    changePercent: percentOf(change, active),
  };
}
