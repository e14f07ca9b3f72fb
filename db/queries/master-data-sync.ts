import { createHash } from 'node:crypto';
import { auditStream } from '../../domain/identity';
import {
  canonicalRecords,
  planMasterData,
  SourceMasterRecord,
  type UnmappedRecord,
} from '../../domain/master-data';
import { type Dimension, DIMENSIONS } from '../../domain/model';
import { describeIssues } from '../../domain/zod-issues';
import { type Database } from '../client';
import {
  createMasterRecord,
  deactivateMasterRecord,
  type MasterDataChangeRow,
  proposeMasterDataChange,
  storedMasterRecords,
  updateMasterRecord,
} from './master-data';
import { loadMappings } from './reference';
import {
  closeSourceException,
  keepSourceException,
  openSourceExceptions,
  type ReplayRequest,
} from './source-exceptions';

/** The dead-letter stream of master data: records that could not be applied, kept with their reason. */
export const MASTER_DATA_STREAM = 'master_data' as const;

export const MasterDataErrorCode = {
  /** The source value (or its parent's) has no mapping to a canonical code. */
  MappingMissing: 'mapping_missing',
  /** The source closes a value that still carries budget, reservations or commitments. */
  DeactivationRefused: 'deactivation_refused',
  /** The record as delivered is not a master record (a missing or malformed field). */
  InvalidRecord: 'invalid_record',
} as const;

export interface MasterDataCounts {
  read: number;
  created: number;
  updated: number;
  deactivated: number;
  unchanged: number;
  /** Kept as dead letters: unmapped, invalid, or a deactivation refused while money stands on the value. */
  deadLettered: number;
}

export interface MasterDataApplied {
  accounts: MasterDataCounts;
  costCenters: MasterDataCounts;
  /** Changes that wait for approval and were asked for by this read (a repeat of an older one is not). */
  changesRequested: Pick<MasterDataChangeRow, 'id' | 'code' | 'fromValue' | 'toValue' | 'effectiveFrom'>[];
}

interface ApplyContext {
  legalEntity: string;
  sourceSystem: string;
  /** The day the read is applied as of: what is effective today, and when a suspended value closes. */
  onDate: string;
  by: string;
  correlationId: string;
}

const emptyCounts = (): MasterDataCounts => ({
  read: 0,
  created: 0,
  updated: 0,
  deactivated: 0,
  unchanged: 0,
  deadLettered: 0,
});

const unmappedKey = (r: { dimension: Dimension; sourceValue: string }) => `${r.dimension}:${r.sourceValue}`;
const closeKey = (dimension: Dimension, code: string) => `${dimension}:${code}:close`;

/** Payloads of master-data dead letters, replayable as they are. */
type DeadLetterPayload =
  | { kind: 'source'; record: unknown }
  | { kind: 'deactivation'; dimension: Dimension; code: string; validTo: string };

/**
 * Applies a read of the ERP's master data to closeloop's records, dimension by dimension: new records are
 * created, harmless changes applied, closures guarded by the database (refused, and kept as a dead letter
 * naming the money that stands, while budget, reservations or commitments remain), and a cost center's move
 * under another parent is asked for, to wait for approval. A record that cannot be applied is kept as a dead
 * letter with its reason, never dropped; one that goes through closes its dead letter.
 *
 * `complete`: the read holds every record the source has (a full sync); only then may the absence of an end
 * date reopen, or an end close, a record mapped from several source values.
 */
export async function applyMasterDataRead(
  db: Database,
  ctx: ApplyContext,
  raw: readonly unknown[],
  opts: { complete: boolean; closeAs?: 'resolved' | 'reprocessed' },
): Promise<MasterDataApplied> {
  const closeAs = opts.closeAs ?? 'resolved';
  const result: MasterDataApplied = {
    accounts: emptyCounts(),
    costCenters: emptyCounts(),
    changesRequested: [],
  };
  const countsOf = (d: Dimension) => (d === 'account' ? result.accounts : result.costCenters);
  const actor = { legalEntity: ctx.legalEntity, by: ctx.by, correlationId: ctx.correlationId };
  const records: SourceMasterRecord[] = [];
  for (const [i, r] of raw.entries()) {
    // An adapter hands over what it could not read as `{ invalid, reason }`; anything else must parse.
    const unread =
      r && typeof r === 'object' && 'invalid' in r ? (r as { invalid: unknown; reason: string }) : undefined;
    const parsed = unread ? undefined : SourceMasterRecord.safeParse(r);
    if (parsed?.success) {
      records.push(parsed.data);
      continue;
    }
    const record = unread?.invalid ?? r;
    const dimension = (r as { dimension?: unknown })?.dimension === 'costCenter' ? 'costCenter' : 'account';
    countsOf(dimension).deadLettered++;
    await db.transaction((tx) =>
      keepSourceException(tx, {
        ...deadLetterBase(ctx),
        recordKey: `invalid:${createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 32)}`,
        payload: { kind: 'source', record },
        errorCode: MasterDataErrorCode.InvalidRecord,
        errorMessage: unread?.reason ?? `master record ${i + 1}: ${describeIssues(parsed!.error!)}`,
      }),
    );
  }
  const mappings = await loadMappings(db, ctx.sourceSystem);
  const { records: canonical, unmapped } = canonicalRecords(records, mappings, ctx.onDate);
  for (const u of unmapped) {
    countsOf(u.record.dimension).deadLettered++;
    await keepUnmapped(db, ctx, u);
  }
  for (const r of records) countsOf(r.dimension).read++;
  // The dead letters an earlier read kept, read once: only those can close here, so a sync of a clean chart
  // writes nothing for them.
  const kept = new Set(
    (
      await openSourceExceptions(db, {
        sourceSystem: ctx.sourceSystem,
        legalEntity: ctx.legalEntity,
        stream: MASTER_DATA_STREAM,
      })
    ).map((e) => e.recordKey),
  );

  for (const dimension of DIMENSIONS) {
    const counts = countsOf(dimension);
    const incoming = canonical.filter((r) => r.dimension === dimension);
    const stored = await storedMasterRecords(db, ctx.legalEntity, dimension);
    const steps = planMasterData(stored, incoming, opts);
    if (opts.complete) {
      // A closure the source no longer asks for (it was reopened there) leaves nothing to replay.
      const closing = new Set(steps.filter((st) => st.step === 'deactivate').map((st) => st.record.code));
      const reopened = incoming.filter((r) => !closing.has(r.code) && kept.has(closeKey(dimension, r.code)));
      if (reopened.length) {
        await db.transaction(async (tx) => {
          for (const r of reopened) await closeDeadLetter(tx, ctx, closeKey(dimension, r.code), 'resolved');
        });
      }
    }
    counts.unchanged += incoming.filter((r) => !steps.some((s) => s.record.code === r.code)).length;
    for (const step of steps) {
      await db.transaction(async (tx) => {
        if (step.step === 'create') {
          if (await createMasterRecord(tx, actor, step.record)) counts.created++;
          else counts.unchanged++;
        } else if (step.step === 'update') {
          if (await updateMasterRecord(tx, actor, step.record, step.changed)) counts.updated++;
        } else if (step.step === 'deactivate') {
          const outcome = await deactivateMasterRecord(tx, actor, {
            dimension,
            code: step.record.code,
            validTo: step.validTo,
          });
          if (outcome.outcome === 'refused') {
            counts.deadLettered++;
            await keepSourceException(tx, {
              ...deadLetterBase(ctx),
              recordKey: closeKey(dimension, step.record.code),
              payload: {
                kind: 'deactivation',
                dimension,
                code: step.record.code,
                validTo: step.validTo,
              } satisfies DeadLetterPayload,
              errorCode: MasterDataErrorCode.DeactivationRefused,
              errorMessage: outcome.reason,
            });
            return;
          }
          if (outcome.outcome === 'deactivated') counts.deactivated++;
          await closeDeadLetter(tx, ctx, closeKey(dimension, step.record.code), closeAs);
        } else {
          const { created, change } = await proposeMasterDataChange(tx, actor, {
            dimension,
            code: step.record.code,
            fromValue: step.from,
            toValue: step.to,
            effectiveFrom: step.effectiveFrom,
            sourceSystem: ctx.sourceSystem,
            payload: { record: step.record },
          });
          if (created) result.changesRequested.push(change);
        }
      });
    }
  }
  // Records that went through close the dead letters an earlier read kept for them.
  const through = records.filter((r) => kept.has(unmappedKey(r)) && !unmapped.some((u) => u.record === r));
  if (through.length) {
    await db.transaction(async (tx) => {
      for (const r of through) await closeDeadLetter(tx, ctx, unmappedKey(r), closeAs);
    });
  }
  return result;
}

const deadLetterBase = (ctx: ApplyContext) => ({
  sourceSystem: ctx.sourceSystem,
  legalEntity: ctx.legalEntity,
  stream: MASTER_DATA_STREAM,
  correlationId: ctx.correlationId,
  auditStream: auditStream.masterData(ctx.legalEntity),
});

function keepUnmapped(db: Database, ctx: ApplyContext, u: UnmappedRecord) {
  const { record } = u;
  const name = record.dimension === 'costCenter' ? 'cost center' : 'main account';
  const message =
    u.missing === 'value'
      ? `${ctx.sourceSystem} ${name} ${record.sourceValue} has no ${record.dimension} mapping; add one (PUT /v1/master-data/mappings) and replay`
      : `${ctx.sourceSystem} cost center ${record.sourceValue} sits under ${record.parent ?? '(none)'}, which has no costCenter mapping; add one and replay`;
  return db.transaction((tx) =>
    keepSourceException(tx, {
      ...deadLetterBase(ctx),
      recordKey: unmappedKey(record),
      payload: { kind: 'source', record } satisfies DeadLetterPayload,
      errorCode: MasterDataErrorCode.MappingMissing,
      errorMessage: message,
    }),
  );
}

function closeDeadLetter(
  tx: Parameters<Parameters<Database['transaction']>[0]>[0],
  ctx: ApplyContext,
  recordKey: string,
  status: 'reprocessed' | 'resolved',
) {
  return closeSourceException(tx, {
    sourceSystem: ctx.sourceSystem,
    stream: MASTER_DATA_STREAM,
    recordKey,
    status,
    by: ctx.by,
    correlationId: ctx.correlationId,
    auditStream: auditStream.masterData(ctx.legalEntity),
  });
}

/**
 * Replays master-data dead letters once their cause is fixed (a mapping added, the money moved off a value):
 * each is applied again on its own and closes as reprocessed when it goes through; one that still fails keeps
 * its new reason. Replaying twice changes nothing more.
 */
export async function reprocessMasterDataExceptions(
  db: Database,
  r: ReplayRequest & { legalEntity: string; sourceSystem: string; onDate: string },
): Promise<{ reprocessed: number; stillFailing: number; duplicates: number }> {
  const open = await openSourceExceptions(db, { ...r, stream: MASTER_DATA_STREAM });
  const ctx: ApplyContext = { ...r };
  const actor = { legalEntity: r.legalEntity, by: r.by, correlationId: r.correlationId };
  const result = { reprocessed: 0, stillFailing: 0, duplicates: 0 };
  let done = 0;
  for (const exception of open) {
    r.onProgress?.(done++, open.length);
    const payload = exception.payload as DeadLetterPayload;
    if (payload.kind === 'deactivation') {
      const through = await db.transaction(async (tx) => {
        const outcome = await deactivateMasterRecord(tx, actor, payload);
        if (outcome.outcome === 'refused') {
          await keepSourceException(tx, {
            ...deadLetterBase(ctx),
            recordKey: exception.recordKey,
            payload,
            errorCode: MasterDataErrorCode.DeactivationRefused,
            errorMessage: outcome.reason,
          });
          return false;
        }
        await closeDeadLetter(tx, ctx, exception.recordKey, 'reprocessed');
        return true;
      });
      if (through) result.reprocessed++;
      else result.stillFailing++;
      continue;
    }
    const parsed = SourceMasterRecord.safeParse(payload.record);
    if (!parsed.success) {
      result.stillFailing++;
      continue;
    }
    const applied = await applyMasterDataRead(db, ctx, [parsed.data], {
      complete: false,
      closeAs: 'reprocessed',
    });
    const counts = parsed.data.dimension === 'account' ? applied.accounts : applied.costCenters;
    if (counts.deadLettered) {
      result.stillFailing++;
      continue;
    }
    result.reprocessed++;
  }
  return result;
}
