import { upsertControlModels, upsertControlRules } from '../queries/control-model';
import { type Database, type Tx } from '../client';
import {
  insertAccounts,
  insertHierarchy,
  insertCostCenters,
  upsertDimensionMappings,
  upsertLegalEntities,
} from '../queries/reference';
import { upsertRoutes } from '../queries/routes';
import {
  insertCostCenterOwners,
  insertDimensionOwners,
  insertInitialApprovalPolicy,
} from '../queries/approval-policies';
import { chartVersions, declareChart, loadDimensionValues, putCrossValidationRule } from '../queries/chart';
import { defineCalendar } from '../queries/fiscal-calendars';
import { twoDimensionChart } from '../../domain/chart';
import { ApprovalPolicySpec } from '../../domain/approval-policy';
import * as services from './services-company';
import * as subsidiaries from './subsidiaries';
import * as manufacturer from './manufacturer';
import * as corporate from './corporate';
import * as otherErps from './sap-and-netsuite-entities';

/**
 * Loads the reference data of the services company and its subsidiaries. Running it twice changes nothing.
 * Accounts and cost centers are only added when missing: the ERP is their system of record, and its master
 * data sync keeps them.
 */
export async function seedReferenceData(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await upsertLegalEntities(tx, [
      services.legalEntity,
      ...subsidiaries.legalEntities,
      manufacturer.legalEntity,
      corporate.legalEntity,
      ...otherErps.legalEntities,
    ]);
    await upsertRoutes(tx, [
      ...services.publicationTargets,
      ...subsidiaries.publicationTargets,
      ...manufacturer.publicationTargets,
      ...corporate.publicationTargets,
      ...otherErps.publicationTargets,
    ]);
    for (const calendar of [
      services.fiscalCalendar,
      subsidiaries.fiscalCalendar,
      manufacturer.fiscalCalendar,
    ])
      await defineCalendar(tx, { ...calendar, by: 'closeloop', reason: 'seeded', correlationId: 'seed' });
    for (const entity of [
      services.legalEntity,
      ...subsidiaries.legalEntities,
      corporate.legalEntity,
      ...otherErps.legalEntities,
    ])
      await declareChart(tx, {
        legalEntity: entity.code,
        spec: twoDimensionChart(entity.erpSystem),
        validFrom: '1900-01-01',
        by: 'closeloop',
        reason: 'seeded',
        correlationId: 'seed',
      });
    await insertAccounts(tx, [...services.accounts, ...manufacturer.accounts]);
    await insertCostCenters(tx, [
      ...services.costCenters,
      ...subsidiaries.costCenters,
      ...corporate.costCenters,
      ...otherErps.costCenters,
      ...manufacturer.costCenters.map((c) => ({
        code: c.code,
        name: c.name,
        legalEntity: manufacturer.MANUFACTURER,
        validFrom: '2020-01-01',
      })),
    ]);
    await insertHierarchy(tx, [
      ...services.costCenterHierarchy,
      ...subsidiaries.costCenterHierarchy,
      ...corporate.costCenterHierarchy,
      ...otherErps.costCenterHierarchy,
      ...manufacturer.accountHierarchy,
    ]);
    await upsertDimensionMappings(tx, [
      ...services.dimensionMappings,
      ...services.oracleDimensionMappings,
      ...subsidiaries.dimensionMappings,
      ...subsidiaries.sapDimensionMappings,
      ...corporate.dimensionMappings,
      ...otherErps.dimensionMappings,
      ...manufacturer.dimensionMappings,
    ]);
    await seedManufacturerChart(tx);
    await upsertControlModels(tx, [
      ...services.controlModels,
      ...subsidiaries.controlModels,
      ...corporate.controlModels,
      ...otherErps.controlModels,
    ]);
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

/**
 * The manufacturer's chart, value lists and rules, declared as an integration administrator would over the
 * API. The chart only when it has none: the demo adds custom dimensions to it later, and they stay.
 */
async function seedManufacturerChart(tx: Tx) {
  const actor = { legalEntity: manufacturer.MANUFACTURER, by: 'closeloop', correlationId: 'seed' };
  if (!(await chartVersions(tx, manufacturer.MANUFACTURER)).length)
    await declareChart(tx, { ...actor, spec: manufacturer.chart, validFrom: '1900-01-01', reason: 'seeded' });
  for (const [dimension, values] of Object.entries(manufacturer.dimensionValues))
    await loadDimensionValues(tx, {
      ...actor,
      dimension,
      source: 'closeloop',
      values: values.map((v) => ({
        code: v.code,
        name: v.name,
        active: true,
        validFrom: '2020-01-01',
        validTo: null,
      })),
    });
  for (const rule of manufacturer.crossValidationRules) await putCrossValidationRule(tx, { ...actor, rule });
  await insertDimensionOwners(
    tx,
    manufacturer.projectManagers.map((o) => ({
      ...o,
      legalEntity: manufacturer.MANUFACTURER,
      validFrom: '2020-01-01',
    })),
  );
}
