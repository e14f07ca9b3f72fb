import { wildcard } from './cross-validation';
import { type Dimensions } from './model';

/**
 * A target's own rules of which combinations it accepts, in the form ERPs keep them as allowed values by
 * segment (Dynamics 365 account structures: "the main account identifies the account structure", and each
 * allowed-values row lists, segment by segment, the values it accepts). Judged on the line's values as the
 * target knows them (after mapping), so a version is refused before approval for what the ERP would refuse
 * at posting. The adapter reads the target's rules into this form; this module only judges.
 */

/** What one segment of an allowed-values row accepts. */
export type SegmentCriterion =
  /** Any value, but not blank. */
  | { any: true }
  /** Blank: the line leaves the dimension out. */
  | { blank: true }
  /** A value between the two, inclusive (the target's codes compared as text, as it does). */
  | { range: [string, string] }
  /** A value, where `*` stands for any run of characters and `?` for one. */
  | { value: string };

export interface AllowedValuesRow {
  /** Where the row stands in the target, for the message ("MFG-PL row 2"). */
  source: string;
  /** Per canonical dimension, its alternatives; a dimension the row does not name accepts anything. */
  criteria: Readonly<Record<string, readonly SegmentCriterion[]>>;
}

export interface TargetStructure {
  name: string;
  /** The canonical dimension of each segment, in the target's order; the first identifies the structure. */
  segments: readonly string[];
  rows: readonly AllowedValuesRow[];
}

export interface TargetStructureProblem {
  dimension: string;
  structure?: string;
  message: string;
}

export function accepts(criteria: readonly SegmentCriterion[], value: string | undefined): boolean {
  return criteria.some((c) =>
    'blank' in c
      ? value === undefined
      : value === undefined
        ? false
        : 'any' in c
          ? true
          : 'range' in c
            ? c.range[0] <= value && value <= c.range[1]
            : wildcard(c.value).test(value),
  );
}

const describe = (criteria: readonly SegmentCriterion[]) =>
  criteria
    .map((c) =>
      'blank' in c
        ? 'blank'
        : 'any' in c
          ? 'any value'
          : 'range' in c
            ? `${c.range[0]}..${c.range[1]}`
            : c.value,
    )
    .join(' or ');

/**
 * Whether the target accepts a line's values (as the target knows them): the structure its identifying
 * segment's value falls in must have a segment for each of the line's dimensions (but those the company
 * holds itself) and an allowed-values row that accepts every segment. Empty when it does.
 */
export function targetStructureProblems(
  structures: readonly TargetStructure[],
  values: Dimensions,
  heldByCompany: readonly string[] = [],
): TargetStructureProblem[] {
  if (!structures.length) return [];
  const identifying = structures[0]!.segments[0]!;
  const key = values[identifying];
  const rowsFor = (s: TargetStructure) =>
    s.rows.filter((r) => accepts(r.criteria[identifying] ?? [{ any: true }], key));
  const structure = structures.find((s) => rowsFor(s).length > 0);
  if (!structure)
    return [
      {
        dimension: identifying,
        message: `${identifying} ${key ?? '(none)'} is in none of the target's account structures (${structures.map((s) => s.name).join(', ')})`,
      },
    ];
  const outside = Object.keys(values).filter(
    (d) => !structure.segments.includes(d) && !heldByCompany.includes(d),
  );
  if (outside.length)
    return outside.map((d) => ({
      dimension: d,
      structure: structure.name,
      message: `account structure ${structure.name} has no segment for ${d}`,
    }));
  // The row that fails on the fewest segments says best what the line lacks.
  let best: { row: AllowedValuesRow; failing: string[] } | undefined;
  for (const row of rowsFor(structure)) {
    const failing = structure.segments.filter(
      (d) => row.criteria[d] && !accepts(row.criteria[d]!, values[d]),
    );
    if (!failing.length) return [];
    if (!best || failing.length < best.failing.length) best = { row, failing };
  }
  return best!.failing.map((d) => ({
    dimension: d,
    structure: structure.name,
    message: `account structure ${structure.name} (${best!.row.source}) accepts ${describe(best!.row.criteria[d]!)} for ${d}; the line has ${values[d] ?? 'blank'}`,
  }));
}
