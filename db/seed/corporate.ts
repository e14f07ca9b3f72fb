import { CALENDAR, legalEntity as servicesCompany } from './services-company';

/**
 * The seed's group corporate entity: corporate finance, which keeps its books in Oracle Fusion (a US dollar
 * ledger of its own) and its approved budget there as GL budget balances, which General Ledger reports variances
 * against, while the operating companies keep theirs in Dynamics 365. It plans in the same Anaplan model and shares the group chart of accounts; its cost
 * centers are its own.
 */

export const CORPORATE = 'ACME-CORP';
const since = '2020-01-01';

/** Corporate finance's Oracle ledger, as its route names it (the simulator's scenario mirrors it). */
export const CORPORATE_LEDGER = {
  id: '300000046976001',
  name: 'ACME Corporate USD',
  budgetName: 'Corporate Plan',
  legalEntityName: 'Acme Group Holdings Inc.',
};

export const legalEntity = {
  ...servicesCompany,
  code: CORPORATE,
  name: CORPORATE_LEDGER.legalEntityName,
  fiscalCalendar: CALENDAR,
  erpSystem: 'oracle',
  erpCompany: CORPORATE_LEDGER.id,
};

/** Its budget goes to its ledger's GL budget; the same route tells how its books read. */
export const publicationTargets = [
  {
    legalEntity: CORPORATE,
    target: 'oracle',
    company: CORPORATE_LEDGER.id,
    postingModel: 'replace-scope' as const,
    settings: {
      budgetName: CORPORATE_LEDGER.budgetName,
      ledgerName: CORPORATE_LEDGER.name,
      soldToLegalEntity: CORPORATE_LEDGER.legalEntityName,
    },
  },
];

export const CORPORATE_COST_CENTERS = [
  { code: 'CC-810', name: 'Group treasury', erpValue: '1810' },
  { code: 'CC-820', name: 'Group finance and audit', erpValue: '1820' },
];

export const costCenters = CORPORATE_COST_CENTERS.map((c) => ({
  code: c.code,
  name: c.name,
  legalEntity: CORPORATE,
  active: true,
  validFrom: since,
  validTo: null,
}));

export const costCenterHierarchy = costCenters.map((c) => ({
  legalEntity: CORPORATE,
  dimension: 'costCenter',
  code: c.code,
  parent: null,
  validFrom: since,
}));

/** Its cost centers as the ledger's cost center segment values (accounts map as for every Oracle ledger). */
export const dimensionMappings = CORPORATE_COST_CENTERS.map((c) => ({
  erpSystem: 'oracle',
  dimension: 'costCenter' as const,
  canonicalCode: c.code,
  erpValue: c.erpValue,
  validFrom: since,
  validTo: null,
}));

export const controlModels = [{ legalEntity: CORPORATE, periodBasis: 'quarter' as const }];
