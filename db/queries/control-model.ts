import { asc, eq } from 'drizzle-orm';
import {
  percentOfHundredths,
  toleranceHundredths,
  type ControlRule,
  type PeriodBasis,
} from '../../domain/budget-control';
import { type DbOrTx } from '../client';
import { controlModels, controlRules, legalEntities } from '../schema';

/**
 * An entity's control model: its period basis and its rules. The entity's own control level and tolerance
 * are the default rule; rules by account and cost center refine it, effective-dated.
 */
export async function loadControlModel(
  db: DbOrTx,
  legalEntity: string,
): Promise<
  { periodBasis: PeriodBasis; consumptionSource: 'erp' | 'events'; rules: ControlRule[] } | undefined
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
