import { type DimensionCombination } from './model';
import { type DimensionMappingRef } from './reference';

export interface ErpSegments {
  mainAccount: string;
  /** ERP financial dimensions by the ERP's own names, e.g. { CostCenter: "100" }. */
  dimensions: Record<string, string>;
}

export interface MissingMapping {
  dimension: DimensionMappingRef['dimension'];
  code: string;
  onDate: string;
}

/** The mapping effective on `onDate` (validFrom inclusive, validTo exclusive); the latest start wins. */
export function resolveMapping(
  mappings: readonly DimensionMappingRef[],
  dimension: DimensionMappingRef['dimension'],
  code: string,
  onDate: string,
): string | undefined {
  let best: DimensionMappingRef | undefined;
  for (const m of mappings) {
    if (m.dimension !== dimension || m.canonicalCode !== code) continue;
    if (m.validFrom > onDate || (m.validTo !== null && m.validTo <= onDate)) continue;
    if (!best || m.validFrom > best.validFrom) best = m;
  }
  return best?.erpValue;
}

/** Maps canonical dimensions to ERP segments on a date; reports every missing mapping instead of the first. */
export function mapDimensions(
  mappings: readonly DimensionMappingRef[],
  dims: DimensionCombination,
  onDate: string,
): { segments: ErpSegments } | { missing: MissingMapping[] } {
  const mainAccount = resolveMapping(mappings, 'account', dims.account, onDate);
  const costCenter = resolveMapping(mappings, 'costCenter', dims.costCenter, onDate);
  const missing: MissingMapping[] = [];
  if (mainAccount === undefined) missing.push({ dimension: 'account', code: dims.account, onDate });
  if (costCenter === undefined) missing.push({ dimension: 'costCenter', code: dims.costCenter, onDate });
  if (missing.length || mainAccount === undefined || costCenter === undefined) return { missing };
  return { segments: { mainAccount, dimensions: { CostCenter: costCenter } } };
}

/** ERP segments back to canonical dimensions on a date, for reading ERP totals and actuals. */
export function unmapSegments(
  mappings: readonly DimensionMappingRef[],
  segments: ErpSegments,
  onDate: string,
): DimensionCombination | undefined {
  const find = (dimension: DimensionMappingRef['dimension'], erpValue: string | undefined) =>
    erpValue === undefined
      ? undefined
      : mappings
          .filter(
            (m) =>
              m.dimension === dimension &&
              m.erpValue === erpValue &&
              m.validFrom <= onDate &&
              (m.validTo === null || m.validTo > onDate),
          )
          .sort((a, b) => (a.validFrom < b.validFrom ? 1 : -1))[0]?.canonicalCode;
  const account = find('account', segments.mainAccount);
  const costCenter = find('costCenter', segments.dimensions.CostCenter);
  return account && costCenter ? { account, costCenter } : undefined;
}
