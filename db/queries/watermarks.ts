import { and, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { syncWatermarks } from '../schema';
import { appendAudit } from './audit';

export interface WatermarkKey {
  sourceSystem: string;
  legalEntity: string;
  stream: string;
  /** The window the sync reads (e.g. "FY2027"): one window's mark never moves another's. */
  scope: string;
}

export async function readWatermark(db: DbOrTx, k: WatermarkKey): Promise<string | undefined> {
  const [row] = await db
    .select({ watermark: syncWatermarks.watermark })
    .from(syncWatermarks)
    .where(
      and(
        eq(syncWatermarks.sourceSystem, k.sourceSystem),
        eq(syncWatermarks.legalEntity, k.legalEntity),
        eq(syncWatermarks.stream, k.stream),
        eq(syncWatermarks.scope, k.scope),
      ),
    );
  return row?.watermark;
}

/**
 * Stores a watermark. `forward-only` applies only when the stored mark sorts before the new one, and the
 * returned row says whether this call moved it, so a stale run finishing after a newer one never winds the
 * mark back. `replace` is for marks that are opaque to us (a source's own cursor): winding one back only
 * re-reads lines, and ingestion counts each line once.
 */
export async function storeWatermark(
  tx: Tx,
  k: WatermarkKey,
  watermark: string,
  mode: 'forward-only' | 'replace',
): Promise<boolean> {
  const rows = await tx
    .insert(syncWatermarks)
    .values({ ...k, watermark })
    .onConflictDoUpdate({
      target: [
        syncWatermarks.sourceSystem,
        syncWatermarks.legalEntity,
        syncWatermarks.stream,
        syncWatermarks.scope,
      ],
      set: { watermark: sql`excluded.watermark`, updatedAt: sql`now()` },
      setWhere: mode === 'forward-only' ? sql`${syncWatermarks.watermark} < excluded.watermark` : undefined,
    })
    .returning({ watermark: syncWatermarks.watermark });
  return rows.length > 0;
}

/**
 * One audit entry per sync of a source stream, written even when nothing was new: the trail shows that the
 * sync looked, up to which mark, and what came of it (inserted, duplicates, kept as exceptions, released).
 */
export function auditSync(
  tx: Tx,
  k: WatermarkKey & { stream: 'actuals' | 'commitments' },
  s: { action: string; mark: string; correlationId: string; details: Record<string, unknown> },
) {
  return appendAudit(tx, {
    stream: auditStream[k.stream](k.legalEntity),
    actor: 'closeloop',
    action: s.action,
    entityType: 'legal_entity',
    entityId: k.legalEntity,
    correlationId: s.correlationId,
    eventKey: `${k.stream}:${k.sourceSystem}:${k.legalEntity}:${k.scope}:${s.mark}:${s.correlationId}`,
    details: { scope: k.scope, mark: s.mark, ...s.details },
  });
}
