import { upsertControlModels, upsertControlRules } from '../queries/control-model';
import { type Database } from '../client';
import {
  insertAccounts,
  insertHierarchy,
  insertCostCenters,
  upsertDimensionMappings,
  upsertLegalEntities,
  upsertPublicationTargets,
} from '../queries/reference';
import { insertCostCenterOwners, insertInitialApprovalPolicy } from '../queries/approval-policies';
import { declareChart } from '../queries/chart';
import { defineCalendar } from '../queries/fiscal-calendars';
import { twoDimensionChart } from '../../domain/chart';
import { ApprovalPolicySpec } from '../../domain/approval-policy';
import * as services from './services-company';
import * as subsidiaries from './subsidiaries';

/**
 * Loads the reference data of the services company and its subsidiaries. Running it twice changes nothing.
 * Accounts and cost centers are only added when missing: the ERP is their system of record, and its master
 * data sync keeps them.
 */
export async function seedReferenceData(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await upsertLegalEntities(tx, [services.legalEntity, ...subsidiaries.legalEntities]);
    await upsertPublicationTargets(tx, [...services.publicationTargets, ...subsidiaries.publicationTargets]);
    for (const calendar of [services.fiscalCalendar, subsidiaries.fiscalCalendar])
      await defineCalendar(tx, { ...calendar, by: 'closeloop', reason: 'seeded', correlationId: 'seed' });
    for (const entity of [services.legalEntity, ...subsidiaries.legalEntities])
      await declareChart(tx, {
        legalEntity: entity.code,
        spec: twoDimensionChart(entity.erpSystem),
        validFrom: '1900-01-01',
        by: 'closeloop',
        reason: 'seeded',
        correlationId: 'seed',
      });
    await insertAccounts(tx, services.accounts);
    await insertCostCenters(tx, [...services.costCenters, ...subsidiaries.costCenters]);
    await insertHierarchy(tx, [...services.costCenterHierarchy, ...subsidiaries.costCenterHierarchy]);
    await upsertDimensionMappings(tx, [...services.dimensionMappings, ...subsidiaries.dimensionMappings]);
    await upsertControlModels(tx, [...services.controlModels, ...subsidiaries.controlModels]);
    await upsertControlRules(tx, services.controlRules);
    await insertCostCenterOwners(tx, services.costCenterOwners);
    await insertInitialApprovalPolicy(tx, {
      legalEntity: services.SERVICES_COMPANY,
      spec: ApprovalPolicySpec.parse(services.approvalPolicy),
      by: 'closeloop',
      reason: 'initial policy of the demo data',
    });
  });
}
