import { asc, eq, sql } from 'drizzle-orm';
import {
  percentOfHundredths,
  toleranceHundredths,
  type ControlRule,
  type ConsumptionSource,
  type PeriodBasis,
} from '../../domain/budget-control';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { appendAudit } from './audit';
import { lockControlBudgets } from './control-budget-balances';
import { controlModels, controlRules, legalEntities } from '../schema';

/**
 * An entity's control model: its period basis and its rules. The entity's own control level and tolerance
 * are the default rule; rules by account and cost center refine it, effective-dated.
 */
export async function loadControlModel(
  db: DbOrTx,
  legalEntity: string,
): Promise<
  { periodBasis: PeriodBasis; consumptionSource: ConsumptionSource; rules: ControlRule[] } | undefined
> {
  const [entity] = await db
    .select({ level: legalEntities.controlLevel, tolerancePercent: legalEntities.tolerancePercent })
    .from(legalEntities)
    .where(eq(legalEntities.code, legalEntity));
  if (!entity) return undefined;
  const [model] = await db.select().from(controlModels).where(eq(controlModels.legalEntity, legalEntity));
  const rules = await db
    .select()
    .from(controlRules)
    .where(eq(controlRules.legalEntity, legalEntity))
    .orderBy(asc(controlRules.validFrom));
  // numeric(5,2) reads back as "5.00": rules speak in plain percentages ("5", "2.5").
  const percent = (p: string) => percentOfHundredths(toleranceHundredths(p));
  return {
    periodBasis: model?.periodBasis ?? 'period',
    consumptionSource: model?.consumptionSource ?? 'erp',
    rules: [
      {
        level: entity.level,
        tolerancePercent: percent(entity.tolerancePercent),
        account: null,
        costCenter: null,
        validFrom: '0001-01-01',
        validTo: null,
      },
      ...rules.map((r) => ({
        level: r.level,
        tolerancePercent: percent(r.tolerancePercent),
        account: r.account,
        costCenter: r.costCenter,
        validFrom: r.validFrom,
        validTo: r.validTo,
      })),
    ],
  };
}

/** Seed and configuration: an entity's period basis. */
export async function upsertControlModels(db: DbOrTx, rows: (typeof controlModels.$inferInsert)[]) {
  for (const row of rows) {
    await db
      .insert(controlModels)
      .values(row)
      .onConflictDoUpdate({
        target: controlModels.legalEntity,
        set: { periodBasis: row.periodBasis, consumptionSource: row.consumptionSource },
      });
  }
}

/** Seed and configuration: rules keyed by entity, dimensions and start date (running it twice changes nothing). */
export async function upsertControlRules(db: DbOrTx, rows: (typeof controlRules.$inferInsert)[]) {
  for (const row of rows) {
    await db
      .insert(controlRules)
      .values(row)
      .onConflictDoUpdate({
        target: [
          controlRules.legalEntity,
          controlRules.account,
          controlRules.costCenter,
          controlRules.validFrom,
        ],
        set: { level: row.level, tolerancePercent: row.tolerancePercent, validTo: row.validTo },
      });
  }
}

/**
 * A controller changes an entity's period basis or where its consumption comes from: one statement, audited
 * with the model before and after. Returns the model as it now stands.
 */
export async function changeControlModel(
  tx: Tx,
  c: {
    legalEntity: string;
    periodBasis?: PeriodBasis;
    consumptionSource?: ConsumptionSource;
    reason: string;
    by: string;
    correlationId: string;
  },
) {
  // Every API process caches the model a few seconds: the version moves with it, so a reservation another
  // process decides on the model before this change is refused by the database and decided again.
  await lockControlBudgets(tx, c.legalEntity, 'exclusive');
  await tx
    .update(legalEntities)
    .set({ controlBudgetsVersion: sql`${legalEntities.controlBudgetsVersion} + 1` })
    .where(eq(legalEntities.code, c.legalEntity));
  const [before] = await tx.select().from(controlModels).where(eq(controlModels.legalEntity, c.legalEntity));
  const [after] = await tx
    .insert(controlModels)
    .values({
      legalEntity: c.legalEntity,
      periodBasis: c.periodBasis,
      consumptionSource: c.consumptionSource,
    })
    .onConflictDoUpdate({
      target: controlModels.legalEntity,
      set: {
        ...(c.periodBasis ? { periodBasis: c.periodBasis } : {}),
        ...(c.consumptionSource ? { consumptionSource: c.consumptionSource } : {}),
      },
    })
    .returning();
  await appendAudit(tx, {
    stream: auditStream.control(c.legalEntity),
    actor: c.by,
    action: 'control_model.changed',
    entityType: 'control_model',
    entityId: c.legalEntity,
    correlationId: c.correlationId,
    eventKey: `control-model:${c.legalEntity}:${c.correlationId}`,
    details: { before: before ?? null, after, reason: c.reason },
  });
  return after!;
}
