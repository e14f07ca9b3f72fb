import { sql } from 'drizzle-orm';
import { type Database } from '../client';
import { accounts, costCenters, dimensionMappings, fiscalPeriods, legalEntities } from '../schema';
import * as services from './services-company';

/** Loads the services-company reference data. Upserts only: running it twice changes nothing. */
export async function seedReferenceData(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    const excluded = (col: string) => sql.raw(`excluded.${col}`);
    await tx
      .insert(legalEntities)
      .values(services.legalEntity)
      .onConflictDoUpdate({
        target: legalEntities.code,
        set: {
          name: excluded('name'),
          functionalCurrency: excluded('functional_currency'),
          erpSystem: excluded('erp_system'),
          erpCompany: excluded('erp_company'),
          erpBudgetModel: excluded('erp_budget_model'),
          erpBudgetCode: excluded('erp_budget_code'),
        },
      });
    await tx
      .insert(fiscalPeriods)
      .values(services.fiscalPeriods)
      .onConflictDoNothing({ target: [fiscalPeriods.calendar, fiscalPeriods.period] });
    await tx
      .insert(accounts)
      .values(services.accounts)
      .onConflictDoUpdate({
        target: accounts.code,
        set: {
          name: excluded('name'),
          active: excluded('active'),
          validFrom: excluded('valid_from'),
          validTo: excluded('valid_to'),
        },
      });
    await tx
      .insert(costCenters)
      .values(services.costCenters)
      .onConflictDoUpdate({
        target: costCenters.code,
        set: {
          name: excluded('name'),
          active: excluded('active'),
          validFrom: excluded('valid_from'),
          validTo: excluded('valid_to'),
        },
      });
    await tx
      .insert(dimensionMappings)
      .values(services.dimensionMappings)
      .onConflictDoUpdate({
        target: [
          dimensionMappings.erpSystem,
          dimensionMappings.dimension,
          dimensionMappings.canonicalCode,
          dimensionMappings.validFrom,
        ],
        set: { erpValue: excluded('erp_value'), validTo: excluded('valid_to') },
      });
  });
}
