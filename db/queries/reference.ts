import { and, asc, eq } from 'drizzle-orm';
import { type DimensionMappingRef, type ReferenceSnapshot } from '../../domain/reference';
import { type DbOrTx } from '../client';
import { accounts, costCenters, dimensionMappings, fiscalPeriods, legalEntities } from '../schema';

export type LegalEntityRow = typeof legalEntities.$inferSelect;

export async function getLegalEntity(db: DbOrTx, code: string): Promise<LegalEntityRow | undefined> {
  const [row] = await db.select().from(legalEntities).where(eq(legalEntities.code, code));
  return row;
}

export async function fiscalYearPeriods(db: DbOrTx, calendar: string, fiscalYear: number) {
  return db
    .select()
    .from(fiscalPeriods)
    .where(and(eq(fiscalPeriods.calendar, calendar), eq(fiscalPeriods.fiscalYear, fiscalYear)))
    .orderBy(asc(fiscalPeriods.periodNumber));
}

/** Everything budget validation needs about one entity and fiscal year, read in one place. */
export async function loadReferenceSnapshot(
  db: DbOrTx,
  entity: LegalEntityRow,
  fiscalYear: number,
): Promise<ReferenceSnapshot> {
  const [periods, accountRows, costCenterRows] = await Promise.all([
    fiscalYearPeriods(db, entity.fiscalCalendar, fiscalYear),
    db.select().from(accounts),
    db.select().from(costCenters),
  ]);
  return {
    legalEntity: entity.code,
    currency: entity.functionalCurrency,
    fiscalYear,
    periods: periods.map((p) => ({
      period: p.period,
      periodNumber: p.periodNumber,
      startDate: p.startDate,
      endDate: p.endDate,
      status: p.status,
    })),
    accounts: accountRows.map((a) => ({
      code: a.code,
      active: a.active,
      validFrom: a.validFrom,
      validTo: a.validTo,
    })),
    costCenters: costCenterRows.map((c) => ({
      code: c.code,
      legalEntity: c.legalEntity,
      active: c.active,
      validFrom: c.validFrom,
      validTo: c.validTo,
    })),
  };
}

export async function loadMappings(db: DbOrTx, erpSystem: string): Promise<DimensionMappingRef[]> {
  const rows = await db.select().from(dimensionMappings).where(eq(dimensionMappings.erpSystem, erpSystem));
  return rows.map((r) => ({
    dimension: r.dimension,
    canonicalCode: r.canonicalCode,
    erpValue: r.erpValue,
    validFrom: r.validFrom,
    validTo: r.validTo,
  }));
}
