import { upsertControlModels, upsertControlRules } from '../queries/control-model';
import { type Database } from '../client';
import {
  insertFiscalPeriods,
  upsertAccounts,
  upsertCostCenters,
  upsertDimensionMappings,
  upsertLegalEntities,
  upsertPublicationTargets,
} from '../queries/reference';
import * as services from './services-company';

/** Loads the services-company reference data. Upserts only: running it twice changes nothing. */
export async function seedReferenceData(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await upsertLegalEntities(tx, [services.legalEntity]);
    await upsertPublicationTargets(tx, services.publicationTargets);
    await insertFiscalPeriods(tx, services.fiscalPeriods);
    await upsertAccounts(tx, services.accounts);
    await upsertCostCenters(tx, services.costCenters);
    await upsertDimensionMappings(tx, services.dimensionMappings);
    await upsertControlModels(tx, services.controlModels);
    await upsertControlRules(tx, services.controlRules);
  });
}
