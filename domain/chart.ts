import { z } from 'zod';
import { DimensionCode, DimensionValueCode, Dimensions } from './model';
import { effectiveThroughout, type EffectiveDated } from './reference';

/**
 * A legal entity's chart of accounts as data: the dimensions it books on, in its own order, each with where
 * its values come from, whether a line must carry it, and the form of its codes. Dimensions are chosen from
 * the canonical set (so a project in one entity means what a project means in another) or are the entity's
 * own, named by it. A chart is versioned: a change makes a new version from a date, and a line keeps the
 * version it was booked under.
 */

/**
 * The canonical dimensions, in the order a line is written by default. `company` is the balancing entity
 * (Oracle's balancing segment, SAP's company code, NetSuite's subsidiary).
 */
export const CANONICAL_DIMENSIONS = [
  'company',
  'ledger',
  'account',
  'costCenter',
  'department',
  'project',
  'fund',
  'location',
  'productLine',
  'intercompany',
] as const;
export type CanonicalDimension = (typeof CANONICAL_DIMENSIONS)[number];

export { DimensionCode, DimensionValueCode, Dimensions };

const compiles = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

export const ChartDimension = z
  .object({
    code: DimensionCode,
    /** canonical: one of CANONICAL_DIMENSIONS (its code is its name); custom: the entity's own. */
    kind: z.enum(['canonical', 'custom']),
    label: z.string().min(1).max(80),
    required: z.boolean(),
    /**
     * The system of record of its value list: an ERP or planning platform whose values are synchronised
     * into closeloop, or "closeloop" for a list kept here (loaded over the API).
     */
    valuesFrom: z
      .string()
      .regex(/^[a-z][a-z0-9_]{1,29}$/, 'must name a system such as "d365" or "closeloop"'),
    /** A regular expression every value's code must match whole (anchors are implied). */
    format: z
      .string()
      .min(1)
      .max(200)
      .refine(compiles, 'must be a regular expression such as "[0-9]{6}"')
      .optional(),
    /** Balancing: the dimension every entry balances by (at most one; company, when the chart has it). */
    balancing: z.boolean().default(false),
  })
  .strict()
  .superRefine((d, ctx) => {
    const canonical = (CANONICAL_DIMENSIONS as readonly string[]).includes(d.code);
    if (d.kind === 'canonical' && !canonical)
      ctx.addIssue({
        code: 'custom',
        path: ['code'],
        message: `${d.code} is not a canonical dimension (${CANONICAL_DIMENSIONS.join(', ')}); declare it as custom`,
      });
    if (d.kind === 'custom' && canonical)
      ctx.addIssue({
        code: 'custom',
        path: ['code'],
        message: `${d.code} is a canonical dimension; a custom one needs its own name`,
      });
  });
export type ChartDimension = z.infer<typeof ChartDimension>;

export const ChartSpec = z
  .object({ dimensions: z.array(ChartDimension).min(1).max(30) })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.dimensions.forEach((d, i) => {
      if (seen.has(d.code))
        ctx.addIssue({
          code: 'custom',
          path: ['dimensions', i, 'code'],
          message: `${d.code} is declared twice`,
        });
      seen.add(d.code);
    });
    const account = c.dimensions.find((d) => d.code === 'account');
    if (!account?.required)
      ctx.addIssue({
        code: 'custom',
        path: ['dimensions'],
        message: 'a chart books on account, and every line carries one (account, required)',
      });
    if (c.dimensions.filter((d) => d.balancing).length > 1)
      ctx.addIssue({ code: 'custom', path: ['dimensions'], message: 'at most one dimension is balancing' });
  });
export type ChartSpec = z.infer<typeof ChartSpec>;

/** A chart as stored: a version of the entity's chart, from a date. */
export interface Chart {
  legalEntity: string;
  version: number;
  validFrom: string;
  spec: ChartSpec;
}

/** The version of a chart in force on a date, of versions oldest first; undefined before the first. */
export function chartIn<C extends Pick<Chart, 'validFrom'>>(
  versions: readonly C[],
  onDate: string,
): C | undefined {
  let found: C | undefined;
  for (const c of versions) if (c.validFrom <= onDate) found = c;
  return found;
}

/** Every dimension any version of a chart has named, in the order they first appear. */
export function chartDimensionCodes(versions: readonly Pick<Chart, 'spec'>[]): string[] {
  return [...new Set(versions.flatMap((c) => c.spec.dimensions.map((d) => d.code)))];
}

export const isCanonical = (code: string): code is CanonicalDimension =>
  (CANONICAL_DIMENSIONS as readonly string[]).includes(code);

/**
 * The chart today's entities were created with, before charts were data: account and cost center, both
 * required, their values synchronised from the entity's ERP.
 */
export function twoDimensionChart(erp: string): ChartSpec {
  return {
    dimensions: [
      {
        code: 'account',
        kind: 'canonical',
        label: 'Main account',
        required: true,
        valuesFrom: erp,
        balancing: false,
      },
      {
        code: 'costCenter',
        kind: 'canonical',
        label: 'Cost center',
        required: true,
        valuesFrom: erp,
        balancing: false,
      },
    ],
  };
}

/**
 * One text per combination under a chart, for keys and messages: the values in the chart's order, with an
 * empty place for a dimension the line leaves out ("610200/CC-100//P-7"), trailing empty places dropped.
 */
export function combinationText(spec: ChartSpec, dims: Dimensions): string {
  const parts = spec.dimensions.map((d) => dims[d.code] ?? '');
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('/');
}

/** A dimension value as its value list keeps it, effective-dated (valid_to exclusive). */
export interface DimensionValueRef extends EffectiveDated {
  name?: string;
  /** The legal entity that owns it, when the list is per entity (cost centers are). */
  legalEntity?: string | null;
}

export type CombinationIssueCode =
  | 'not_in_chart'
  | 'missing_dimension'
  | 'bad_format'
  | 'unknown_value'
  | 'inactive_value'
  | 'value_other_entity';

export interface CombinationIssue {
  dimension: string;
  code: CombinationIssueCode;
  message: string;
}

/** What checking a combination needs to know: the value lists and the dates the line covers. */
export interface CombinationContext {
  legalEntity: string;
  spec: ChartSpec;
  /** The value list of a dimension; undefined when closeloop holds none for it (then any value in format). */
  values(dimension: string): ReadonlyMap<string, DimensionValueRef> | undefined;
  /** The dates the line covers (its period), inclusive. */
  from: string;
  to: string;
  /** How to name a value in messages ("cost center CC-100"). */
  label?(dimension: string): string;
}

const formats = new WeakMap<ChartDimension, RegExp>();
function formatOf(d: ChartDimension): RegExp | undefined {
  if (!d.format) return undefined;
  let re = formats.get(d);
  if (!re) {
    re = new RegExp(`^(?:${d.format})$`);
    formats.set(d, re);
  }
  return re;
}

/**
 * Every reason a combination cannot be booked under the chart on the line's dates: a dimension the chart
 * does not have, a required one missing, a code not in the dimension's format, a value not in its list,
 * not active throughout, or another entity's. All of them, not the first.
 */
export function checkCombination(dims: Dimensions, ctx: CombinationContext): CombinationIssue[] {
  const issues: CombinationIssue[] = [];
  const name = (d: string) => ctx.label?.(d) ?? d;
  const known = new Set(ctx.spec.dimensions.map((d) => d.code));
  for (const code of Object.keys(dims)) {
    if (!known.has(code))
      issues.push({
        dimension: code,
        code: 'not_in_chart',
        message: `${ctx.legalEntity}'s chart has no dimension ${code} (it books on ${[...known].join(', ')})`,
      });
  }
  for (const d of ctx.spec.dimensions) {
    const value = dims[d.code];
    if (value === undefined) {
      if (d.required)
        issues.push({ dimension: d.code, code: 'missing_dimension', message: `${name(d.code)} is required` });
      continue;
    }
    const format = formatOf(d);
    if (format && !format.test(value)) {
      issues.push({
        dimension: d.code,
        code: 'bad_format',
        message: `${name(d.code)} ${value} is not in the form ${d.format}`,
      });
      continue;
    }
    const list = ctx.values(d.code);
    if (!list) continue;
    const v = list.get(value);
    if (!v) {
      issues.push({
        dimension: d.code,
        code: 'unknown_value',
        message: `${name(d.code)} ${value} does not exist`,
      });
    } else if (v.legalEntity && v.legalEntity !== ctx.legalEntity) {
      issues.push({
        dimension: d.code,
        code: 'value_other_entity',
        message: `${name(d.code)} ${value} belongs to ${v.legalEntity}`,
      });
    } else if (!effectiveThroughout(v, ctx.from, ctx.to)) {
      issues.push({
        dimension: d.code,
        code: 'inactive_value',
        message: `${name(d.code)} ${value} is not active throughout ${ctx.from}..${ctx.to}`,
      });
    }
  }
  return issues;
}

/**
 * What a new version of a chart may not do, because lines, actuals and budget control run across versions:
 * remove a dimension (make it optional instead) or change whether it is canonical. Anything else may change
 * from a date (a new dimension, even a required one, a label, a format, a source): lines booked before keep
 * the version they were booked under.
 */
export function chartChangeProblems(before: ChartSpec, after: ChartSpec): string[] {
  const problems: string[] = [];
  const next = new Map(after.dimensions.map((d) => [d.code, d]));
  for (const d of before.dimensions) {
    const n = next.get(d.code);
    if (!n) problems.push(`${d.code} cannot be removed: lines are booked on it (make it optional instead)`);
    else if (n.kind !== d.kind) problems.push(`${d.code} cannot change from ${d.kind} to ${n.kind}`);
  }
  return problems;
}
