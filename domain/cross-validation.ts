import { z } from 'zod';
import { DimensionCode, type Dimensions } from './chart';
import { isUnder, type TreeAsOf } from './hierarchy';
import { IsoDate } from './model';

/**
 * Cross-validation rules in the form ERPs keep them (Oracle's cross-validation rules, Dynamics 365's
 * advanced rules): when a combination matches the condition filter, it must also match the validation
 * filter. A filter names dimensions and, for each, which values match: an exact value, a wildcard ("6*",
 * "P-?"), a range of codes, a node of the dimension's hierarchy and everything below it, or only whether the
 * dimension is present at all. Values within a dimension are alternatives; dimensions are all required.
 * Rules are effective-dated and judged on the line's date.
 */

export const ValueMatch = z.union([
  /** An exact value, or a wildcard: `*` any run of characters, `?` one. "*" alone: any value present. */
  z.string().min(1).max(40),
  z.object({ range: z.tuple([z.string().min(1).max(40), z.string().min(1).max(40)]) }).strict(),
  z.object({ under: z.string().min(1).max(40) }).strict(),
  /** `present: false`: the line leaves the dimension out. */
  z.object({ present: z.boolean() }).strict(),
]);
export type ValueMatch = z.infer<typeof ValueMatch>;

/** Per dimension, the values that match (any of `in`), or the ones that do not (none of `notIn`). */
export const DimensionFilter = z.union([
  z.array(ValueMatch).min(1).max(100),
  z.object({ notIn: z.array(ValueMatch).min(1).max(100) }).strict(),
]);
export type DimensionFilter = z.infer<typeof DimensionFilter>;

export const CombinationFilter = z
  .record(DimensionCode, DimensionFilter)
  .refine((f) => Object.keys(f).length > 0, 'must name at least one dimension');
export type CombinationFilter = z.infer<typeof CombinationFilter>;

export const CrossValidationRule = z
  .object({
    code: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9_-]{1,39}$/, 'must be an upper-case rule code such as "CVR-OPEX-CC"'),
    description: z.string().min(3).max(300),
    condition: CombinationFilter,
    validation: CombinationFilter,
    validFrom: IsoDate,
    /** Exclusive end; null while open-ended. */
    validTo: IsoDate.nullable().default(null),
    /** Where it came from: declared here, or imported from a target's own rules (its name there). */
    origin: z.string().min(1).max(120).default('closeloop'),
  })
  .strict()
  .refine((r) => r.validTo === null || r.validTo > r.validFrom, {
    message: 'validTo must be after validFrom',
    path: ['validTo'],
  });
export type CrossValidationRule = z.infer<typeof CrossValidationRule>;

/** The trees rules may name nodes of, per dimension, as of the line's date. */
export type TreesAsOf = (dimension: string) => TreeAsOf | undefined;

const wildcards = new Map<string, RegExp>();
/** A value pattern as a regular expression: `*` any run of characters, `?` one (compiled once). */
export function wildcard(pattern: string): RegExp {
  let re = wildcards.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    wildcards.set(pattern, re);
  }
  return re;
}

function matchesValue(m: ValueMatch, value: string | undefined, tree: TreeAsOf | undefined): boolean {
  if (typeof m === 'string') {
    if (value === undefined) return false;
    return m.includes('*') || m.includes('?') ? wildcard(m).test(value) : m === value;
  }
  if ('present' in m) return m.present === (value !== undefined);
  if (value === undefined) return false;
  if ('range' in m) return m.range[0] <= value && value <= m.range[1];
  return tree !== undefined && isUnder(tree, value, m.under);
}

function matchesDimension(f: DimensionFilter, value: string | undefined, tree: TreeAsOf | undefined) {
  return Array.isArray(f)
    ? f.some((m) => matchesValue(m, value, tree))
    : !f.notIn.some((m) => matchesValue(m, value, tree));
}

export function matchesFilter(filter: CombinationFilter, dims: Dimensions, trees: TreesAsOf): boolean {
  return Object.entries(filter).every(([d, f]) => matchesDimension(f, dims[d], trees(d)));
}

export function describeMatch(m: ValueMatch): string {
  if (typeof m === 'string') return m;
  if ('present' in m) return m.present ? '(any)' : '(none)';
  if ('range' in m) return `${m.range[0]}..${m.range[1]}`;
  return `under ${m.under}`;
}

export function describeFilter(filter: CombinationFilter): string {
  return Object.entries(filter)
    .map(([d, f]) =>
      Array.isArray(f)
        ? `${d} ${f.length === 1 ? 'is' : 'in'} ${f.map(describeMatch).join(', ')}`
        : `${d} not in ${f.notIn.map(describeMatch).join(', ')}`,
    )
    .join(' and ');
}

export interface BrokenRule {
  rule: string;
  /** The dimensions of the validation filter the combination does not satisfy. */
  dimensions: string[];
  message: string;
}

export const ruleInForce = (r: Pick<CrossValidationRule, 'validFrom' | 'validTo'>, onDate: string) =>
  r.validFrom <= onDate && (r.validTo === null || r.validTo > onDate);

/**
 * The rules in force on `onDate` that the combination breaks: it matches a rule's condition but not its
 * validation. Each names the rule and what it asks, so the planner can fix the line.
 */
export function brokenRules(
  rules: readonly CrossValidationRule[],
  dims: Dimensions,
  onDate: string,
  trees: TreesAsOf,
): BrokenRule[] {
  const broken: BrokenRule[] = [];
  for (const r of rules) {
    if (!ruleInForce(r, onDate) || !matchesFilter(r.condition, dims, trees)) continue;
    const failing = Object.entries(r.validation).filter(([d, f]) => !matchesDimension(f, dims[d], trees(d)));
    if (!failing.length) continue;
    const has = failing.map(([d]) => `${d} ${dims[d] ?? '(none)'}`).join(', ');
    broken.push({
      rule: r.code,
      dimensions: failing.map(([d]) => d),
      message: `rule ${r.code} (${r.description}): when ${describeFilter(r.condition)}, ${describeFilter(
        Object.fromEntries(failing),
      )}; the line has ${has}`,
    });
  }
  return broken;
}

/** The dimensions whose hierarchies a set of rules names nodes of (`under`). */
export function dimensionsWithNodes(rules: readonly CrossValidationRule[]): string[] {
  const out = new Set<string>();
  for (const r of rules)
    for (const filter of [r.condition, r.validation])
      for (const [d, f] of Object.entries(filter))
        if ((Array.isArray(f) ? f : f.notIn).some((m) => typeof m === 'object' && 'under' in m)) out.add(d);
  return [...out];
}
