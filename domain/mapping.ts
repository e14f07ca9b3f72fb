import { DIMENSIONS, type Dimensions } from './model';
import { type DimensionMappingRef } from './reference';

/**
 * A target system's values for the canonical dimensions, keyed by the canonical dimension name:
 * `{ account: "60010", costCenter: "100" }`. How a system lays them out (a display value, separate
 * segments, a chart-of-accounts string) is its adapter's business, not the mapping's.
 */
export type SystemDimensionValues = Record<string, string>;

export interface MissingMapping {
  dimension: string;
  code: string;
  onDate: string;
}

const effectiveOn = (m: Pick<DimensionMappingRef, 'validFrom' | 'validTo'>, onDate: string) =>
  m.validFrom <= onDate && (m.validTo === null || m.validTo > onDate);

type DatedMapping = Pick<DimensionMappingRef, 'validFrom' | 'validTo' | 'systemValue'>;

/**
 * Of the source values that stand for one canonical value on a date (several may: many-to-one), the one a
 * budget is published to: the longest-standing (earliest start; the lower value on a tie). A value added
 * beside it does not take the budget over; ending the standing one does.
 */
export function publishedValue<T extends DatedMapping>(inForce: readonly T[], onDate: string): T | undefined {
  let best: T | undefined;
  for (const m of inForce) {
    if (!effectiveOn(m, onDate)) continue;
    if (
      !best ||
      m.validFrom < best.validFrom ||
      (m.validFrom === best.validFrom && m.systemValue < best.systemValue)
    )
      best = m;
  }
  return best;
}

/** The system value a canonical value is published to on `onDate` (validFrom inclusive, validTo exclusive). */
export function resolveMapping(
  mappings: readonly DimensionMappingRef[],
  dimension: string,
  code: string,
  onDate: string,
): string | undefined {
  return publishedValue(byCanonicalCode(mappings).get(`${dimension}|${code}`) ?? [], onDate)?.systemValue;
}

/**
 * The mappings of each canonical value, in the list's order, built once per mappings list: a publication maps
 * every line of a budget with the same list.
 */
const canonicalIndexes = new WeakMap<readonly DimensionMappingRef[], Map<string, DimensionMappingRef[]>>();
function byCanonicalCode(mappings: readonly DimensionMappingRef[]): Map<string, DimensionMappingRef[]> {
  let index = canonicalIndexes.get(mappings);
  if (!index) {
    index = new Map();
    for (const m of mappings) {
      const key = `${m.dimension}|${m.canonicalCode}`;
      const list = index.get(key);
      if (list) list.push(m);
      else index.set(key, [m]);
    }
    canonicalIndexes.set(mappings, index);
  }
  return index;
}

/**
 * Canonical dimensions → a system's values on a date, every dimension the line carries; reports every
 * missing mapping instead of the first.
 */
export function mapDimensions(
  mappings: readonly DimensionMappingRef[],
  dims: Dimensions,
  onDate: string,
): { values: SystemDimensionValues } | { missing: MissingMapping[] } {
  const values: SystemDimensionValues = {};
  const missing: MissingMapping[] = [];
  for (const [dimension, code] of Object.entries(dims)) {
    const value = resolveMapping(mappings, dimension, code, onDate);
    if (value === undefined) missing.push({ dimension, code, onDate });
    else values[dimension] = value;
  }
  return missing.length ? { missing } : { values };
}

/**
 * The mappings of each system value, latest start first, built once per mappings list: reading a ledger
 * looks every line's values up, and a bulk load reads hundreds of thousands of lines with the same list.
 */
const indexes = new WeakMap<readonly DimensionMappingRef[], Map<string, DimensionMappingRef[]>>();
function bySystemValue(mappings: readonly DimensionMappingRef[]): Map<string, DimensionMappingRef[]> {
  let index = indexes.get(mappings);
  if (!index) {
    index = new Map();
    for (const m of mappings) {
      const key = `${m.dimension}|${m.systemValue}`;
      index.set(key, [...(index.get(key) ?? []), m]);
    }
    for (const list of index.values()) list.sort((a, b) => (a.validFrom < b.validFrom ? 1 : -1));
    indexes.set(mappings, index);
  }
  return index;
}

/**
 * A system's values back to canonical dimensions on a date, for reading its totals and actuals: every
 * dimension the system gave is mapped (one without a mapping is missing, never dropped), and each of
 * `required` must be there (budget control keeps actuals per account and cost center).
 */
export function unmapDimensions(
  mappings: readonly DimensionMappingRef[],
  values: SystemDimensionValues,
  onDate: string,
  required: readonly string[] = DIMENSIONS,
): { dimensions: Dimensions } | { missing: MissingMapping[] } {
  const dims: Dimensions = {};
  const missing: MissingMapping[] = [];
  const index = bySystemValue(mappings);
  for (const dimension of required)
    if (values[dimension] === undefined) missing.push({ dimension, code: '(none)', onDate });
  for (const [dimension, value] of Object.entries(values)) {
    const match = index.get(`${dimension}|${value}`)?.find((m) => effectiveOn(m, onDate));
    if (match) dims[dimension] = match.canonicalCode;
    else missing.push({ dimension, code: value, onDate });
  }
  return missing.length ? { missing } : { dimensions: dims };
}

export function describeMissing(missing: readonly MissingMapping[]): string {
  return missing.map((m) => `${m.dimension} ${m.code} on ${m.onDate}`).join('; ');
}
