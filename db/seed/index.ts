import { upsertControlModels, upsertControlRules } from '../queries/control-model';
import { type Database } from '../client';
import {
  insertAccounts,
  insertCostCenterHierarchy,
  insertCostCenters,
  insertFiscalPeriods,
  upsertDimensionMappings,
  upsertLegalEntities,
  upsertPublicationTargets,
} from '../queries/reference';
import * as services from './services-company';

/**
 * Loads the services-company reference data. Running it twice changes nothing. Accounts and cost centers
 * are only added when missing: the ERP is their system of record, and its master data sync keeps them.
 */
export async function seedReferenceData(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await upsertLegalEntities(tx, [services.legalEntity]);
    await upsertPublicationTargets(tx, services.publicationTargets);
    await insertFiscalPeriods(tx, services.fiscalPeriods);
    await insertAccounts(tx, services.accounts);
    await insertCostCenters(tx, services.costCenters);
    await insertCostCenterHierarchy(tx, services.costCenterHierarchy);
    await upsertDimensionMappings(tx, services.dimensionMappings);
    await upsertControlModels(tx, services.controlModels);
    await upsertControlRules(tx, services.controlRules);
  });
}
