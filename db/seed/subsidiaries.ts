import { D365_BUDGET_SETTINGS, FISCAL_YEARS, legalEntity as servicesCompany } from './services-company';

/**
 * The services company's European subsidiaries, as the seed's multinational has them: each keeps its books
 * in its own Dynamics 365 company, in its own currency, and plans in the same Anaplan model. The UK
 * company runs an April–March fiscal year (its March close is period 12), and routes a posting into a
 * closed period to the next open one; the German company keeps the calendar year and the group's default
 * (a dead letter for a controller). Both share the group chart of accounts; cost centers are their own.
 */

export const UK_CALENDAR = 'CAL-APR';
const since = '2020-01-01';

interface Subsidiary {
  code: string;
  name: string;
  functionalCurrency: string;
  fiscalCalendar: string;
  erpCompany: string;
  closedPeriodPolicy: 'dead_letter' | 'next_open_period';
  costCenters: { code: string; name: string; erpValue: string }[];
}

export const SUBSIDIARIES: Subsidiary[] = [
  {
    code: 'ACME-UK',
    name: 'Acme Services UK Ltd.',
    functionalCurrency: 'GBP',
    fiscalCalendar: UK_CALENDAR,
    erpCompany: 'acuk',
    closedPeriodPolicy: 'next_open_period',
    costCenters: [
      { code: 'CC-510', name: 'London consulting', erpValue: '510' },
      { code: 'CC-520', name: 'UK general and administrative', erpValue: '520' },
    ],
  },
  {
    code: 'ACME-DE',
    name: 'Acme Services GmbH',
    functionalCurrency: 'EUR',
    fiscalCalendar: servicesCompany.fiscalCalendar,
    erpCompany: 'acde',
    closedPeriodPolicy: 'dead_letter',
    costCenters: [
      { code: 'CC-610', name: 'Berlin engineering', erpValue: '610' },
      { code: 'CC-620', name: 'DE general and administrative', erpValue: '620' },
    ],
  },
];

export const legalEntities = SUBSIDIARIES.map((s) => ({
  ...servicesCompany,
  code: s.code,
  name: s.name,
  functionalCurrency: s.functionalCurrency,
  fiscalCalendar: s.fiscalCalendar,
  region: 'EMEA',
  erpCompany: s.erpCompany,
  closedPeriodPolicy: s.closedPeriodPolicy,
}));

export const controlModels = SUBSIDIARIES.map((s) => ({
  legalEntity: s.code,
  periodBasis: 'quarter' as const,
}));

export const publicationTargets = SUBSIDIARIES.map((s) => ({
  legalEntity: s.code,
  target: 'd365',
  company: s.erpCompany,
  settings: D365_BUDGET_SETTINGS,
}));

/** The April–March calendar; the January calendar is the services company's. */
export const fiscalCalendar = {
  code: UK_CALENDAR,
  spec: { kind: 'monthly', firstMonth: 4, adjustmentPeriods: 0 } as const,
  fiscalYears: FISCAL_YEARS,
};

export const costCenters = SUBSIDIARIES.flatMap((s) =>
  s.costCenters.map((c) => ({
    code: c.code,
    name: c.name,
    legalEntity: s.code,
    active: true,
    validFrom: since,
    validTo: null,
  })),
);

export const costCenterHierarchy = costCenters.map((c) => ({
  legalEntity: c.legalEntity,
  dimension: 'costCenter',
  code: c.code,
  parent: null,
  validFrom: since,
}));

export const dimensionMappings = SUBSIDIARIES.flatMap((s) =>
  s.costCenters.map((c) => ({
    erpSystem: 'd365',
    dimension: 'costCenter' as const,
    canonicalCode: c.code,
    erpValue: c.erpValue,
    validFrom: since,
    validTo: null,
  })),
);

/**
 * The German company's values in SAP S/4HANA, where European operations keep their plan data once a route
 * sends its budget there (docs/routing.md): the group accounts as SAP G/L accounts and its cost centers as
 * SAP's (mirrored by simulators/scenario/europe.ts).
 */
export const sapDimensionMappings = [
  ...[
    ['600100', '61001000'],
    ['610200', '61020000'],
    ['620300', '62030000'],
    ['630400', '63040000'],
    ['640500', '64050000'],
    ['650600', '65060000'],
  ].map(([canonicalCode, erpValue]) => ({
    dimension: 'account' as const,
    canonicalCode: canonicalCode!,
    erpValue: erpValue!,
  })),
  { dimension: 'costCenter' as const, canonicalCode: 'CC-610', erpValue: '10101610' },
  { dimension: 'costCenter' as const, canonicalCode: 'CC-620', erpValue: '10101620' },
].map((m) => ({ erpSystem: 'sap', ...m, validFrom: since, validTo: null }));
