import { z } from 'zod';
import { IsoDate, type Dimension } from './model';
import { fromMinor, toMinor } from './money';
import { type DimensionMappingRef } from './reference';

/**
 * Master data from its system of record (the ERP keeps the chart of accounts and the cost centers): what a
 * read of it turns into in closeloop's canonical records, and which changes may be applied at once, which
 * wait for a person (a cost center moving under another parent) and which the database must guard
 * (a deactivation, refused while money still stands on the value).
 */

export const ACCOUNT_KINDS = ['expense', 'revenue', 'asset', 'liability', 'equity'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** The start of time for a record the source keeps without a start date. */
export const SINCE_EVER = '1900-01-01';

/** A master record as a connector hands it over, in the source's own codes. Parsed at the boundary. */
export const SourceMasterRecord = z.object({
  dimension: z.enum(['account', 'costCenter']),
  /** The source's value (D365: the main account ID, or the CostCenter dimension value). */
  sourceValue: z.string().min(1).max(40),
  name: z.string().min(1).max(200),
  /** Accounts only. */
  kind: z.enum(ACCOUNT_KINDS).optional(),
  /** Suspended: closed for new postings from now on. */
  suspended: z.boolean(),
  activeFrom: IsoDate.nullable(),
  /** The last day it is active (inclusive, as ERPs keep it); null while open-ended. */
  activeTo: IsoDate.nullable(),
  /** Cost centers only: the source value of the parent, null at the top of the hierarchy. */
  parent: z.string().min(1).max(40).nullable().optional(),
  /** From when the parent holds; null when the source does not date it. */
  parentFrom: IsoDate.nullable().optional(),
});
export type SourceMasterRecord = z.infer<typeof SourceMasterRecord>;

/** A canonical account or cost center as closeloop keeps it (valid_to exclusive). */
export interface CanonicalMasterRecord {
  dimension: Dimension;
  code: string;
  name: string;
  kind?: AccountKind;
  validFrom: string;
  validTo: string | null;
  /** Cost centers: the canonical parent, and from when. */
  parent?: string | null;
  parentFrom?: string;
}

/** The day after an ISO date (an inclusive end becomes an exclusive one). */
export function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/**
 * The canonical code a source value stands for: the mapping effective on `onDate`, else the one that starts
 * latest (a value that only becomes effective later, or stopped earlier, is still the same record).
 */
export function canonicalCodeOf(
  mappings: readonly DimensionMappingRef[],
  dimension: Dimension,
  sourceValue: string,
  onDate: string,
): string | undefined {
  const candidates = mappings
    .filter((m) => m.dimension === dimension && m.systemValue === sourceValue)
    .sort((a, b) => (a.validFrom < b.validFrom ? 1 : -1));
  const effective = candidates.find(
    (m) => m.validFrom <= onDate && (m.validTo === null || m.validTo > onDate),
  );
  return (effective ?? candidates[0])?.canonicalCode;
}

export interface UnmappedRecord {
  record: SourceMasterRecord;
  /** Which value has no mapping: the record's own, or its parent's. */
  missing: 'value' | 'parent';
}

/**
 * A read of the source, as canonical records. Several source values may stand for one canonical code (an
 * account renumbered in the ERP from a date, both mapped to the same code): the canonical record is open
 * wherever one of them is, so a source value ending because its successor took over closes nothing.
 * A record whose value (or parent) has no mapping comes back as unmapped, never dropped.
 */
export function canonicalRecords(
  records: readonly SourceMasterRecord[],
  mappings: readonly DimensionMappingRef[],
  onDate: string,
): { records: CanonicalMasterRecord[]; unmapped: UnmappedRecord[] } {
  const byCode = new Map<string, { record: CanonicalMasterRecord; effective: boolean }>();
  const unmapped: UnmappedRecord[] = [];
  for (const r of records) {
    const code = canonicalCodeOf(mappings, r.dimension, r.sourceValue, onDate);
    if (!code) {
      unmapped.push({ record: r, missing: 'value' });
      continue;
    }
    let parent: string | null | undefined;
    // A source that does not say where a cost center sits (undefined) leaves its place as closeloop keeps it.
    if (r.dimension === 'costCenter' && r.parent !== undefined) {
      parent = r.parent ? canonicalCodeOf(mappings, 'costCenter', r.parent, onDate) : null;
      if (parent === undefined) {
        unmapped.push({ record: r, missing: 'parent' });
        continue;
      }
    }
    const validFrom = r.activeFrom ?? SINCE_EVER;
    // A suspended value is closed from the day it is read suspended, unless its own end is sooner.
    const ends = [r.activeTo ? nextDay(r.activeTo) : null, r.suspended ? onDate : null].filter(
      (d): d is string => d !== null,
    );
    const validTo = ends.length ? ends.sort()[0]! : null;
    const candidate: CanonicalMasterRecord = {
      dimension: r.dimension,
      code,
      name: r.name,
      ...(r.kind ? { kind: r.kind } : {}),
      validFrom,
      validTo: validTo !== null && validTo < validFrom ? validFrom : validTo,
      ...(r.dimension === 'costCenter' && r.parent !== undefined
        ? { parent, parentFrom: r.parentFrom ?? validFrom }
        : {}),
    };
    const effective = validFrom <= onDate && (validTo === null || validTo > onDate);
    const seen = byCode.get(code);
    if (!seen) {
      byCode.set(code, { record: candidate, effective });
      continue;
    }
    // Union of the validity; the value effective today names it.
    const merged = seen.record;
    merged.validFrom = merged.validFrom < candidate.validFrom ? merged.validFrom : candidate.validFrom;
    merged.validTo =
      merged.validTo === null || candidate.validTo === null
        ? null
        : merged.validTo > candidate.validTo
          ? merged.validTo
          : candidate.validTo;
    if (effective && !seen.effective) {
      Object.assign(merged, {
        name: candidate.name,
        ...(candidate.kind ? { kind: candidate.kind } : {}),
        ...(candidate.dimension === 'costCenter'
          ? { parent: candidate.parent, parentFrom: candidate.parentFrom }
          : {}),
      });
      seen.effective = true;
    }
  }
  return { records: [...byCode.values()].map((v) => v.record), unmapped };
}

/** What closeloop holds of a record now. */
export interface StoredMasterRecord {
  code: string;
  name: string;
  kind?: AccountKind;
  active: boolean;
  validFrom: string;
  validTo: string | null;
  /** Cost centers: where it sits in the hierarchy, dated (valid_to exclusive); no row on a date: a root. */
  parents?: { parent: string | null; validFrom: string; validTo: string | null }[];
}

/** A stored cost center's parent on a date (null: at the top of the hierarchy then). */
export function parentOn(stored: Pick<StoredMasterRecord, 'parents'>, date: string): string | null {
  const row = stored.parents?.find((p) => p.validFrom <= date && (p.validTo === null || p.validTo > date));
  return row?.parent ?? null;
}

export type MasterDataStep =
  | { step: 'create'; record: CanonicalMasterRecord }
  /** Changes that narrow nothing: a new name or kind, an earlier start, a later (or no) end. */
  | { step: 'update'; record: CanonicalMasterRecord; changed: string[] }
  /** The record closes from `validTo` (exclusive): guarded by the database against money standing on it. */
  | { step: 'deactivate'; record: CanonicalMasterRecord; validTo: string }
  /** A cost center under another parent from `effectiveFrom`: waits for approval. */
  | {
      step: 'reparent';
      record: CanonicalMasterRecord;
      from: string | null;
      to: string | null;
      effectiveFrom: string;
    };

/**
 * What applying a read of the source to what closeloop holds takes, record by record. `complete` says the
 * read holds every source value of the records given (a full sync): only then may an end the source reports
 * close a record, since a partial read (one replayed record) cannot know the record's other values.
 */
export function planMasterData(
  stored: ReadonlyMap<string, StoredMasterRecord>,
  incoming: readonly CanonicalMasterRecord[],
  opts: { complete: boolean },
): MasterDataStep[] {
  const steps: MasterDataStep[] = [];
  for (const record of incoming) {
    const current = stored.get(record.code);
    if (!current) {
      steps.push({ step: 'create', record });
      continue;
    }
    const changed: string[] = [];
    if (current.name !== record.name) changed.push('name');
    if (record.kind && current.kind !== record.kind) changed.push('kind');
    if (record.validFrom < current.validFrom) changed.push('validFrom');
    const later = (a: string | null, b: string | null) => a !== b && (a === null || (b !== null && a > b));
    if (later(record.validTo, current.validTo)) changed.push('validTo');
    if (changed.length) {
      const validTo = changed.includes('validTo') ? record.validTo : current.validTo;
      const validFrom = changed.includes('validFrom') ? record.validFrom : current.validFrom;
      steps.push({ step: 'update', record: { ...record, validFrom, validTo }, changed });
    }
    if (opts.complete && record.validTo !== null && later(current.validTo, record.validTo)) {
      steps.push({ step: 'deactivate', record, validTo: record.validTo });
    }
    // Compared on the day the source's parent holds from: a move already applied from then is no change.
    const effectiveFrom = record.parentFrom ?? record.validFrom;
    const from = parentOn(current, effectiveFrom);
    if (record.dimension === 'costCenter' && record.parent !== undefined && record.parent !== from) {
      steps.push({ step: 'reparent', record, from, to: record.parent, effectiveFrom });
    }
  }
  return steps;
}

/** Why a deactivation was refused: money still standing on the value from its end on. */
export interface DeactivationBlocker {
  legalEntity: string;
  period: string;
  currency: string;
  budget: string;
  reserved: string;
  committed: string;
}

/** One sentence a person can act on: what stands where, summed per kind of money and currency. */
export function describeBlockers(
  dimension: Dimension,
  code: string,
  validTo: string,
  blockers: readonly DeactivationBlocker[],
): string {
  const kinds = (['budget', 'reserved', 'committed'] as const).flatMap((k) => {
    const standing = blockers.filter((b) => toMinor(b[k], b.currency) !== 0n);
    if (!standing.length) return [];
    const totals = new Map<string, bigint>();
    for (const b of standing)
      totals.set(b.currency, (totals.get(b.currency) ?? 0n) + toMinor(b[k], b.currency));
    const periods = [...new Set(standing.map((b) => b.period))].sort();
    const span = periods.length === 1 ? periods[0] : `${periods[0]}..${periods[periods.length - 1]}`;
    const label = k === 'budget' ? 'budget' : k === 'reserved' ? 'open reservations' : 'open commitments';
    const amounts = [...totals].map(([c, m]) => `${fromMinor(m, c)} ${c}`).join(' + ');
    return [`${label} of ${amounts} in ${span}`];
  });
  const name = dimension === 'costCenter' ? 'cost center' : 'account';
  return `${name} ${code} cannot close from ${validTo}: it still has ${kinds.join(', ')}; move or release them first`;
}
