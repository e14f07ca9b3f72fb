import { and, asc, desc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import {
  type CanonicalMasterRecord,
  type DeactivationBlocker,
  describeBlockers,
  parentOn,
  type StoredMasterRecord,
} from '../../domain/master-data';
import { type Dimension } from '../../domain/model';
import { type DbOrTx, type Tx } from '../client';
import { accounts, costCenters, dimensionHierarchy, dimensionMappings, masterDataChanges } from '../schema';
import { appendAudit } from './audit';

export type MasterDataChangeRow = typeof masterDataChanges.$inferSelect;

interface Actor {
  legalEntity: string;
  by: string;
  correlationId: string;
}

/** What closeloop holds of a dimension's records (cost centers: the entity's, with their dated parents). */
export async function storedMasterRecords(
  db: DbOrTx,
  legalEntity: string,
  dimension: Dimension,
): Promise<Map<string, StoredMasterRecord>> {
  if (dimension === 'account') {
    const rows = await db.select().from(accounts);
    return new Map(rows.map((r) => [r.code, { ...r }]));
  }
  const [rows, hierarchy] = await Promise.all([
    db.select().from(costCenters).where(eq(costCenters.legalEntity, legalEntity)),
    db
      .select()
      .from(dimensionHierarchy)
      .where(
        and(eq(dimensionHierarchy.legalEntity, legalEntity), eq(dimensionHierarchy.dimension, 'costCenter')),
      )
      .orderBy(asc(dimensionHierarchy.validFrom)),
  ]);
  return new Map(
    rows.map((r) => [
      r.code,
      {
        ...r,
        parents: hierarchy
          .filter((h) => h.code === r.code)
          .map((h) => ({
            parent: h.parent,
            validFrom: h.validFrom,
            validTo: h.validTo,
            changeId: h.changeId,
          })),
      },
    ]),
  );
}

async function auditMaster(tx: Tx, a: Actor, action: string, entityId: string, key: string, details: object) {
  await appendAudit(tx, {
    stream: auditStream.masterData(a.legalEntity),
    actor: a.by,
    action,
    entityType: 'master_data',
    entityId,
    correlationId: a.correlationId,
    eventKey: key,
    details: details as Record<string, unknown>,
  });
}

/** A record the source has and closeloop not yet; a cost center starts in the hierarchy where the source puts it. */
export async function createMasterRecord(tx: Tx, a: Actor, r: CanonicalMasterRecord): Promise<boolean> {
  const values = { code: r.code, name: r.name, active: true, validFrom: r.validFrom, validTo: r.validTo };
  const inserted =
    r.dimension === 'account'
      ? await tx
          .insert(accounts)
          .values({ ...values, kind: r.kind ?? 'expense' })
          .onConflictDoNothing()
          .returning({ code: accounts.code })
      : await tx
          .insert(costCenters)
          .values({ ...values, legalEntity: a.legalEntity })
          .onConflictDoNothing()
          .returning({ code: costCenters.code });
  if (!inserted.length) return false;
  if (r.dimension === 'costCenter') {
    await tx
      .insert(dimensionHierarchy)
      .values({
        legalEntity: a.legalEntity,
        dimension: 'costCenter',
        code: r.code,
        parent: r.parent ?? null,
        validFrom: r.validFrom,
      })
      .onConflictDoNothing();
  }
  await auditMaster(
    tx,
    a,
    'master_data.created',
    `${r.dimension}:${r.code}`,
    `md-created:${r.dimension}:${r.code}`,
    {
      record: r,
    },
  );
  return true;
}

/** Changes that narrow nothing (name, kind, an earlier start, a later or no end); audited with what changed. */
export async function updateMasterRecord(
  tx: Tx,
  a: Actor,
  r: CanonicalMasterRecord,
  changed: string[],
): Promise<boolean> {
  const set = { name: r.name, validFrom: r.validFrom, validTo: r.validTo };
  const updated =
    r.dimension === 'account'
      ? await tx
          .update(accounts)
          .set({ ...set, ...(r.kind ? { kind: r.kind } : {}) })
          .where(eq(accounts.code, r.code))
          .returning({ code: accounts.code })
      : await tx
          .update(costCenters)
          .set(set)
          .where(and(eq(costCenters.code, r.code), eq(costCenters.legalEntity, a.legalEntity)))
          .returning({ code: costCenters.code });
  if (!updated.length) return false;
  await auditMaster(
    tx,
    a,
    'master_data.updated',
    `${r.dimension}:${r.code}`,
    `md-updated:${r.dimension}:${r.code}:${changed.join(',')}:${r.name}:${r.validFrom}:${r.validTo ?? ''}`,
    { changed, record: r },
  );
  return true;
}

/**
 * Closes an account or cost center from `validTo` (exclusive), unless money still stands on it in a period
 * that ends on or after that day: budget, open reservations or open commitments, in any entity for an account,
 * in its own for a cost center. The record's advisory lock is taken first (a reservation deciding on it
 * finishes before, one arriving after waits and then finds it closed); then one statement decides: it locks
 * the balances it looks at and closes only when it found none. The refusal names them.
 */
export async function deactivateMasterRecord(
  tx: Tx,
  a: Actor,
  d: { dimension: Dimension; code: string; validTo: string },
): Promise<
  | { outcome: 'deactivated' | 'unchanged' }
  | { outcome: 'refused'; reason: string; blockers: DeactivationBlocker[] }
> {
  // The record's lock first: reservations hold it shared while they decide (closeloop_reserve_funds_batch), so
  // once the closure has it, every reservation on the record has committed and the look below sees its money.
  const lockKey =
    d.dimension === 'account'
      ? `dimension:account:${d.code}`
      : `dimension:costCenter:${a.legalEntity}:${d.code}`;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`);
  const column = sql.raw(d.dimension === 'account' ? 'account' : 'cost_center');
  const entityFilter = d.dimension === 'costCenter' ? sql`and b.legal_entity = ${a.legalEntity}` : sql``;
  const close =
    d.dimension === 'account'
      ? sql`update accounts set valid_to = ${d.validTo}
              where code = ${d.code} and (valid_to is null or valid_to > ${d.validTo})
                and not exists (select 1 from blockers) returning code`
      : sql`update cost_centers set valid_to = ${d.validTo}
              where code = ${d.code} and legal_entity = ${a.legalEntity}
                and (valid_to is null or valid_to > ${d.validTo})
                and not exists (select 1 from blockers) returning code`;
  const [row] = (await tx.execute(sql`
    with blockers as (
      select b.legal_entity as "legalEntity", b.period, b.currency,
             b.budget::text as budget, b.reserved::text as reserved, b.committed::text as committed
        from control_balances b
        join legal_entities e on e.code = b.legal_entity
        join fiscal_periods p on p.calendar = e.fiscal_calendar and p.period = b.period
       where b.${column} = ${d.code} ${entityFilter}
         and p.end_date >= ${d.validTo}
         and (b.budget <> 0 or b.reserved <> 0 or b.committed <> 0)
       order by b.legal_entity, b.period
         for update of b
    ), closed as (${close})
    select coalesce((select json_agg(blockers) from blockers), '[]'::json) as blockers,
           (select count(*) from closed)::int as closed`)) as unknown as {
    blockers: DeactivationBlocker[];
    closed: number;
  }[];
  const blockers = row?.blockers ?? [];
  if (blockers.length) {
    return {
      outcome: 'refused',
      reason: describeBlockers(d.dimension, d.code, d.validTo, blockers),
      blockers,
    };
  }
  if (!row?.closed) return { outcome: 'unchanged' };
  await auditMaster(
    tx,
    a,
    'master_data.deactivated',
    `${d.dimension}:${d.code}`,
    `md-deactivated:${d.dimension}:${d.code}:${d.validTo}`,
    { validTo: d.validTo },
  );
  return { outcome: 'deactivated' };
}

/**
 * Asks for a change that waits for approval. Its identity (entity, kind, code, new value, from when) makes a
 * repeated report the same request: `created` is false when it was asked before (whatever became of it).
 */
export async function proposeMasterDataChange(
  tx: Tx,
  a: Actor,
  c: {
    dimension: string;
    code: string;
    fromValue: string | null;
    toValue: string | null;
    effectiveFrom: string;
    sourceSystem: string;
    payload: Record<string, unknown>;
  },
): Promise<{ created: boolean; change: MasterDataChangeRow }> {
  const [inserted] = await tx
    .insert(masterDataChanges)
    .values({
      legalEntity: a.legalEntity,
      kind: 'parent',
      dimension: c.dimension,
      code: c.code,
      fromValue: c.fromValue,
      toValue: c.toValue,
      effectiveFrom: c.effectiveFrom,
      sourceSystem: c.sourceSystem,
      payload: c.payload,
      requestedBy: a.by,
      correlationId: a.correlationId,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted) {
    await auditMaster(tx, a, 'master_data.change_requested', inserted.id, `md-change:${inserted.id}`, {
      kind: inserted.kind,
      code: c.code,
      from: c.fromValue,
      to: c.toValue,
      effectiveFrom: c.effectiveFrom,
    });
    return { created: true, change: inserted };
  }
  const [existing] = await tx
    .select()
    .from(masterDataChanges)
    .where(
      and(
        eq(masterDataChanges.legalEntity, a.legalEntity),
        eq(masterDataChanges.kind, 'parent'),
        eq(masterDataChanges.dimension, c.dimension),
        eq(masterDataChanges.code, c.code),
        sql`coalesce(${masterDataChanges.toValue}, '') = ${c.toValue ?? ''}`,
        eq(masterDataChanges.effectiveFrom, c.effectiveFrom),
      ),
    );
  return { created: false, change: existing! };
}

/**
 * Records the decision on a waiting change, and on approval applies it: the standing hierarchy row closes at
 * the change's date and the new parent holds from then (until a later row, if one was already dated). Only a
 * change still awaiting a decision moves; a retried call finds it decided and changes nothing again.
 */
export async function decideMasterDataChange(
  tx: Tx,
  d: {
    changeId: string;
    decision: 'approve' | 'reject' | 'expire';
    decidedBy: string;
    comment?: string;
    decidedAt: string;
  },
): Promise<MasterDataChangeRow> {
  const status = d.decision === 'approve' ? 'applied' : d.decision === 'reject' ? 'rejected' : 'expired';
  const [moved] = await tx
    .update(masterDataChanges)
    .set({
      status,
      decidedBy: d.decision === 'expire' ? null : d.decidedBy,
      decidedAt: new Date(d.decidedAt),
      decisionComment: d.comment ?? null,
    })
    .where(and(eq(masterDataChanges.id, d.changeId), eq(masterDataChanges.status, 'awaiting_approval')))
    .returning();
  if (!moved) {
    const [row] = await tx.select().from(masterDataChanges).where(eq(masterDataChanges.id, d.changeId));
    if (!row) throw new Error(`no master data change ${d.changeId}`);
    return row;
  }
  const a = { legalEntity: moved.legalEntity, by: d.decidedBy, correlationId: moved.correlationId };
  if (status === 'applied') {
    const key = { legalEntity: moved.legalEntity, dimension: moved.dimension, code: moved.code };
    const from = moved.effectiveFrom;
    await tx
      .update(dimensionHierarchy)
      .set({ validTo: from })
      .where(
        and(
          eq(dimensionHierarchy.legalEntity, key.legalEntity),
          eq(dimensionHierarchy.dimension, key.dimension),
          eq(dimensionHierarchy.code, key.code),
          sql`${dimensionHierarchy.validFrom} < ${from}`,
          or(isNull(dimensionHierarchy.validTo), gt(dimensionHierarchy.validTo, from)),
        ),
      );
    const [later] = await tx
      .select({ validFrom: dimensionHierarchy.validFrom })
      .from(dimensionHierarchy)
      .where(
        and(
          eq(dimensionHierarchy.legalEntity, key.legalEntity),
          eq(dimensionHierarchy.dimension, key.dimension),
          eq(dimensionHierarchy.code, key.code),
          gt(dimensionHierarchy.validFrom, from),
        ),
      )
      .orderBy(asc(dimensionHierarchy.validFrom))
      .limit(1);
    await tx
      .insert(dimensionHierarchy)
      .values({
        ...key,
        parent: moved.toValue,
        validFrom: from,
        validTo: later?.validFrom ?? null,
        changeId: moved.id,
      })
      .onConflictDoUpdate({
        target: [
          dimensionHierarchy.legalEntity,
          dimensionHierarchy.dimension,
          dimensionHierarchy.code,
          dimensionHierarchy.validFrom,
        ],
        set: { parent: moved.toValue, changeId: moved.id },
      });
  }
  await auditMaster(tx, a, `master_data.change_${status}`, moved.id, `md-change-${status}:${moved.id}`, {
    code: moved.code,
    from: moved.fromValue,
    to: moved.toValue,
    effectiveFrom: moved.effectiveFrom,
    comment: d.comment,
  });
  return moved;
}

export async function masterDataChangeById(db: DbOrTx, id: string) {
  const [row] = await db.select().from(masterDataChanges).where(eq(masterDataChanges.id, id));
  return row;
}

export function listMasterDataChanges(
  db: DbOrTx,
  q: { legalEntity?: string; statuses?: MasterDataChangeRow['status'][]; limit: number },
) {
  return db
    .select()
    .from(masterDataChanges)
    .where(
      and(
        q.legalEntity ? eq(masterDataChanges.legalEntity, q.legalEntity) : undefined,
        q.statuses?.length ? inArray(masterDataChanges.status, q.statuses) : undefined,
      ),
    )
    .orderBy(desc(masterDataChanges.createdAt))
    .limit(q.limit);
}

/** An entity's cost centers with their parent on a date, and the whole dated hierarchy of each. */
export async function costCentersOn(db: DbOrTx, legalEntity: string, onDate: string) {
  const stored = await storedMasterRecords(db, legalEntity, 'costCenter');
  return [...stored.values()]
    .sort((x, y) => (x.code < y.code ? -1 : 1))
    .map(({ parents, ...c }) => ({ ...c, parent: parentOn({ parents }, onDate), hierarchy: parents }));
}

export interface MappingKey {
  erpSystem: string;
  /** Any dimension code of a chart (domain/chart). */
  dimension: string;
  canonicalCode: string;
  erpValue: string;
}

export type MappingRow = Awaited<ReturnType<typeof mappingsOf>>[number];

export type AddMappingOutcome =
  | { outcome: 'added' | 'already_mapped'; mapping: MappingRow }
  /** The source value already stands for another canonical code (or this one over another range) then. */
  | { outcome: 'overlaps'; standing: MappingRow[] };

const mappingRow = (r: typeof dimensionMappings.$inferSelect): MappingRow => ({
  dimension: r.dimension,
  canonicalCode: r.canonicalCode,
  erpValue: r.erpValue,
  validFrom: r.validFrom,
  validTo: r.validTo,
});

/**
 * A source value of a target system stands for a canonical value from `validFrom` (to `validTo`, exclusive,
 * when given). It never ends another value's mapping: several source values may stand for one canonical
 * value (many-to-one), and ending one is its own act (endDimensionMapping). A source value stands for one
 * canonical value at a time, so a range that overlaps one it already has is refused, naming it; the same
 * mapping again changes nothing. The insert decides, under a lock on the source value. Audited.
 */
export async function addDimensionMapping(
  tx: Tx,
  m: MappingKey & { validFrom: string; validTo?: string | null; by: string; correlationId: string },
): Promise<AddMappingOutcome> {
  const validTo = m.validTo ?? null;
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`mapping:${m.erpSystem}:${m.dimension}:${m.erpValue}`}, 0))`,
  );
  const overlapping = sql`erp_system = ${m.erpSystem} and dimension = ${m.dimension} and erp_value = ${m.erpValue}
    and valid_from < coalesce(${validTo}::date, 'infinity'::date)
    and coalesce(valid_to, 'infinity'::date) > ${m.validFrom}::date`;
  const columns = sql`dimension, canonical_code as "canonicalCode", erp_value as "erpValue",
    valid_from::text as "validFrom", valid_to::text as "validTo"`;
  const [added] = (await tx.execute(sql`
    insert into ${dimensionMappings} (erp_system, dimension, canonical_code, erp_value, valid_from, valid_to)
    select ${m.erpSystem}, ${m.dimension}, ${m.canonicalCode}, ${m.erpValue}, ${m.validFrom}::date, ${validTo}::date
     where not exists (select 1 from ${dimensionMappings} where ${overlapping})
    returning ${columns}`)) as unknown as MappingRow[];
  if (!added) {
    const standing = (await tx.execute(
      sql`select ${columns} from ${dimensionMappings} where ${overlapping} order by valid_from`,
    )) as unknown as MappingRow[];
    const same = standing.find(
      (s) => s.canonicalCode === m.canonicalCode && s.validFrom === m.validFrom && s.validTo === validTo,
    );
    return same && standing.length === 1
      ? { outcome: 'already_mapped', mapping: same }
      : { outcome: 'overlaps', standing };
  }
  await appendAudit(tx, {
    stream: auditStream.mappings(m.erpSystem),
    actor: m.by,
    action: 'mapping.added',
    entityType: 'dimension_mapping',
    entityId: `${m.dimension}:${m.canonicalCode}`,
    correlationId: m.correlationId,
    eventKey: `mapping-added:${m.erpSystem}:${m.dimension}:${m.canonicalCode}:${m.erpValue}:${m.validFrom}`,
    details: { erpValue: m.erpValue, validFrom: m.validFrom, validTo },
  });
  return { outcome: 'added', mapping: added };
}

/**
 * A source value no longer stands for the canonical value from `validTo` on (exclusive end): the mapping in
 * force the day before ends there; earlier periods keep it. Undefined when none was in force then. Audited
 * with the reason.
 */
export async function endDimensionMapping(
  tx: Tx,
  m: MappingKey & { validTo: string; reason: string; by: string; correlationId: string },
): Promise<MappingRow | undefined> {
  const [before] = await tx
    .select()
    .from(dimensionMappings)
    .where(
      and(
        eq(dimensionMappings.erpSystem, m.erpSystem),
        eq(dimensionMappings.dimension, m.dimension),
        eq(dimensionMappings.canonicalCode, m.canonicalCode),
        eq(dimensionMappings.erpValue, m.erpValue),
        sql`${dimensionMappings.validFrom} < ${m.validTo}::date`,
        or(isNull(dimensionMappings.validTo), gt(dimensionMappings.validTo, m.validTo)),
      ),
    )
    .for('update');
  if (!before) return undefined;
  const [ended] = await tx
    .update(dimensionMappings)
    .set({ validTo: m.validTo })
    .where(eq(dimensionMappings.id, before.id))
    .returning();
  await appendAudit(tx, {
    stream: auditStream.mappings(m.erpSystem),
    actor: m.by,
    action: 'mapping.ended',
    entityType: 'dimension_mapping',
    entityId: `${m.dimension}:${m.canonicalCode}`,
    correlationId: m.correlationId,
    eventKey: `mapping-ended:${m.erpSystem}:${m.dimension}:${m.canonicalCode}:${m.erpValue}:${before.validFrom}:${m.validTo}`,
    details: {
      erpValue: m.erpValue,
      validFrom: before.validFrom,
      validTo: m.validTo,
      wasValidTo: before.validTo,
      reason: m.reason,
    },
  });
  return mappingRow(ended!);
}

/** The dated mappings of one canonical value (or of every value of a dimension) in a target system. */
export function mappingsOf(db: DbOrTx, q: { erpSystem: string; dimension?: string; canonicalCode?: string }) {
  return db
    .select({
      dimension: dimensionMappings.dimension,
      canonicalCode: dimensionMappings.canonicalCode,
      erpValue: dimensionMappings.erpValue,
      validFrom: dimensionMappings.validFrom,
      validTo: dimensionMappings.validTo,
    })
    .from(dimensionMappings)
    .where(
      and(
        eq(dimensionMappings.erpSystem, q.erpSystem),
        q.dimension ? eq(dimensionMappings.dimension, q.dimension) : undefined,
        q.canonicalCode ? eq(dimensionMappings.canonicalCode, q.canonicalCode) : undefined,
      ),
    )
    .orderBy(
      asc(dimensionMappings.dimension),
      asc(dimensionMappings.canonicalCode),
      asc(dimensionMappings.validFrom),
      asc(dimensionMappings.erpValue),
    );
}
