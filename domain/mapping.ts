import { DIMENSIONS, type Dimension, type DimensionCombination } from './model';
import { type DimensionMappingRef } from './reference';

/**
 * A target system's values for the canonical dimensions, keyed by the canonical dimension name:
 * `{ account: "60010", costCenter: "100" }`. How a system lays them out (a display value, separate
 * segments, a chart-of-accounts string) is its adapter's business, not the mapping's.
 */
export type SystemDimensionValues = Record<Dimension, string>;

export interface MissingMapping {
  dimension: Dimension;
  code: string;
  onDate: string;
}

const effectiveOn = (m: DimensionMappingRef, onDate: string) =>
  m.validFrom <= onDate && (m.validTo === null || m.validTo > onDate);

/** The mapping effective on `onDate` (validFrom inclusive, validTo exclusive); the latest start wins. */
export function resolveMapping(
  mappings: readonly DimensionMappingRef[],
  dimension: Dimension,
  code: string,
  onDate: string,
): string | undefined {
  let best: DimensionMappingRef | undefined;
  for (const m of mappings) {
    if (m.dimension !== dimension || m.canonicalCode !== code || !effectiveOn(m, onDate)) continue;
    if (!best || m.validFrom > best.validFrom) best = m;
  }
  return best?.systemValue;
}

/** Canonical dimensions → a system's values on a date; reports every missing mapping instead of the first. */
export function mapDimensions(
  mappings: readonly DimensionMappingRef[],
  dims: DimensionCombination,
  onDate: string,
): { values: SystemDimensionValues } | { missing: MissingMapping[] } {
  const values: Partial<SystemDimensionValues> = {};
  const missing: MissingMapping[] = [];
  for (const dimension of DIMENSIONS) {
    const value = resolveMapping(mappings, dimension, dims[dimension], onDate);
    if (value === undefined) missing.push({ dimension, code: dims[dimension], onDate });
    else values[dimension] = value;
  }
  return missing.length ? { missing } : { values: values as SystemDimensionValues };
}

/** A system's values back to canonical dimensions on a date, for reading its totals and actuals. */
export function unmapDimensions(
  mappings: readonly DimensionMappingRef[],
  values: Partial<SystemDimensionValues>,
  onDate: string,
): { dimensions: DimensionCombination } | { missing: MissingMapping[] } {
  const dims: Partial<DimensionCombination> = {};
  const missing: MissingMapping[] = [];
  for (const dimension of DIMENSIONS) {
    const value = values[dimension];
    const match =
      value === undefined
        ? undefined
        : mappings
            .filter((m) => m.dimension === dimension && m.systemValue === value && effectiveOn(m, onDate))
            .sort((a, b) => (a.validFrom < b.validFrom ? 1 : -1))[0];
    if (match) dims[dimension] = match.canonicalCode;
    else missing.push({ dimension, code: value ?? '(none)', onDate });
  }
  return missing.length ? { missing } : { dimensions: dims as DimensionCombination };
}

export function describeMissing(missing: readonly MissingMapping[]): string {
  return missing.map((m) => `${m.dimension} ${m.code} on ${m.onDate}`).join('; ');
}
