import { and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import { wholeCombination } from '../../domain/control-budgets';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { controlFreezes } from '../schema';
import { appendAudit } from './audit';

export type FreezeRow = typeof controlFreezes.$inferSelect;

/**
 * The freeze in force on a line, if any (the oldest, which is the one to lift first): on its bucket, or on
 * values of other dimensions its whole combination holds.
 */
export async function freezeOn(
  db: DbOrTx,
  legalEntity: string,
  account: string,
  costCenter: string,
  dimensions: Record<string, string> = {},
) {
  const combination = wholeCombination(account, costCenter, dimensions);
  const [row] = await db
    .select()
    .from(controlFreezes)
    .where(
      and(
        eq(controlFreezes.legalEntity, legalEntity),
        isNull(controlFreezes.unfrozenAt),
        or(isNull(controlFreezes.account), eq(controlFreezes.account, account)),
        or(isNull(controlFreezes.costCenter), eq(controlFreezes.costCenter, costCenter)),
        or(
          isNull(controlFreezes.dimensions),
          sql`${JSON.stringify(combination)}::jsonb @> ${controlFreezes.dimensions}`,
        ),
      ),
    )
    .orderBy(controlFreezes.frozenAt)
    .limit(1);
  return row;
}

/** Freezes an entity, a cost center, an account or both; audited with its principal and reason. */
export async function freeze(
  tx: Tx,
  f: {
    legalEntity: string;
    account: string | null;
    costCenter: string | null;
    /** Values of other dimensions it stops (a project, a department); null: none. */
    dimensions?: Record<string, string> | null;
    reason: string;
    by: string;
    correlationId: string;
  },
): Promise<FreezeRow> {
  const [row] = await tx
    .insert(controlFreezes)
    .values({
      legalEntity: f.legalEntity,
      account: f.account,
      costCenter: f.costCenter,
      dimensions: f.dimensions ?? null,
      reason: f.reason,
      frozenBy: f.by,
    })
    .returning();
  await appendAudit(tx, {
    stream: auditStream.control(f.legalEntity),
    actor: f.by,
    action: 'control.frozen',
    entityType: 'control_freeze',
    entityId: row!.id,
    correlationId: f.correlationId,
    eventKey: `freeze:${row!.id}`,
    details: {
      account: f.account,
      costCenter: f.costCenter,
      ...(f.dimensions ? { dimensions: f.dimensions } : {}),
      reason: f.reason,
    },
  });
  return row!;
}

/**
 * Lifts a freeze: a separate act, with its own principal and reason. Only a freeze in force is lifted; the
 * returned row says whether this call lifted it (undefined: unknown, or lifted already).
 */
export async function unfreeze(
  tx: Tx,
  u: { id: string; legalEntity: string; reason: string; by: string; correlationId: string },
): Promise<FreezeRow | undefined> {
  const [row] = await tx
    .update(controlFreezes)
    .set({ unfrozenBy: u.by, unfrozenAt: sql`now()`, unfreezeReason: u.reason })
    .where(
      and(
        eq(controlFreezes.id, u.id),
        eq(controlFreezes.legalEntity, u.legalEntity),
        isNull(controlFreezes.unfrozenAt),
      ),
    )
    .returning();
  if (!row) return undefined;
  await appendAudit(tx, {
    stream: auditStream.control(u.legalEntity),
    actor: u.by,
    action: 'control.unfrozen',
    entityType: 'control_freeze',
    entityId: row.id,
    correlationId: u.correlationId,
    eventKey: `unfreeze:${row.id}`,
    details: { account: row.account, costCenter: row.costCenter, reason: u.reason, frozenBy: row.frozenBy },
  });
  return row;
}

export function listFreezes(db: DbOrTx, legalEntity: string, inForceOnly: boolean) {
  return db
    .select()
    .from(controlFreezes)
    .where(
      and(
        eq(controlFreezes.legalEntity, legalEntity),
        inForceOnly ? isNull(controlFreezes.unfrozenAt) : undefined,
      ),
    )
    .orderBy(desc(controlFreezes.frozenAt));
}
