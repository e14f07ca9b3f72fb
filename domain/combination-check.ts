import {
  type CombinationContext,
  type CombinationIssueCode,
  checkCombination,
  type Dimensions,
} from './chart';
import { brokenRules, type CrossValidationRule } from './cross-validation';
import { type HierarchyEdge, type TreeAsOf, treeAsOf } from './hierarchy';

/**
 * Whether a combination may be booked under an entity's chart on a date, everything considered at once: the
 * chart's own checks (dimensions, required, formats, value lists, dates) and its cross-validation rules. This
 * is what a budget line is checked with before anyone is asked to approve it, and what `POST …/chart/check`
 * answers, so a planning platform can ask before it exports.
 */

export type CombinationProblemCode = CombinationIssueCode | 'cross_validation';

export interface CombinationProblem {
  /** The dimension at fault (the first of a broken rule's). */
  dimension: string;
  code: CombinationProblemCode;
  /** The broken rule's code. */
  rule?: string;
  message: string;
}

export interface ChartRules {
  rules: readonly CrossValidationRule[];
  /** Every dated row of the hierarchies rules name nodes of, per dimension. */
  hierarchies: ReadonlyMap<string, readonly HierarchyEdge[]>;
}

/** Trees as of each date, built once per date a check asks for. */
function treesOn(hierarchies: ChartRules['hierarchies']) {
  const cache = new Map<string, Map<string, TreeAsOf>>();
  return (onDate: string) => (dimension: string) => {
    const edges = hierarchies.get(dimension);
    if (!edges) return undefined;
    let byDim = cache.get(onDate);
    if (!byDim) cache.set(onDate, (byDim = new Map()));
    let tree = byDim.get(dimension);
    if (!tree) byDim.set(dimension, (tree = treeAsOf(edges, onDate)));
    return tree;
  };
}

/**
 * A checker for one entity's chart and rules. Rules are judged on `ctx.from` (the first day the line covers,
 * the date an ERP judges a posting by); the value lists throughout the line's dates.
 */
export function combinationChecker(rules: ChartRules) {
  const trees = treesOn(rules.hierarchies);
  return (dims: Dimensions, ctx: CombinationContext): CombinationProblem[] => [
    ...checkCombination(dims, ctx),
    ...brokenRules(rules.rules, dims, ctx.from, trees(ctx.from)).map((b) => ({
      dimension: b.dimensions[0]!,
      code: 'cross_validation' as const,
      rule: b.rule,
      message: b.message,
    })),
  ];
}
