import { legalEntity as servicesCompany } from './services-company';
import { UK_CALENDAR } from './subsidiaries';

/**
 * The seed's entities whose books are in neither Dynamics 365 nor Oracle: Northwind Instruments (ACME-NW), an
 * acquired subsidiary that kept its NetSuite account (a US dollar subsidiary of a OneWorld account, its fiscal
 * year from April), and Acme Manufacturing Europe (ACME-NL), European operations on SAP S/4HANA (a euro company
 * code on the calendar year). Each entity's books
 * and approved budget are in its own ERP, under the group chart of accounts mapped to that ERP's values; budget
 * control stays in closeloop (NetSuite's budgets do not stop spending). The simulators' scenarios mirror these
 * values (simulators/scenario/acquired.ts and europe.ts).
 */

const since = '2020-01-01';

interface Entity {
  code: string;
  name: string;
  functionalCurrency: string;
  fiscalCalendar: string;
  erpSystem: 'netsuite' | 'sap';
  erpCompany: string;
  route: { postingModel: 'annual-lines' | 'replace-scope'; settings: Record<string, string> };
  costCenters: { code: string; name: string; erpValue: string }[];
  /** The group accounts as the ERP's values. */
  accounts: Record<string, string>;
}

export const NETSUITE_ENTITY = 'ACME-NW';
export const SAP_ENTITY = 'ACME-NL';

const ENTITIES: Entity[] = [
  {
    code: NETSUITE_ENTITY,
    name: 'Northwind Instruments Inc.',
    functionalCurrency: 'USD',
    fiscalCalendar: UK_CALENDAR,
    erpSystem: 'netsuite',
    erpCompany: '7',
    route: { postingModel: 'annual-lines', settings: { category: '2' } },
    costCenters: [
      { code: 'CC-910', name: 'Sensor engineering', erpValue: '21' },
      { code: 'CC-920', name: 'Northwind general and administrative', erpValue: '22' },
    ],
    accounts: {
      '600100': '354',
      '610200': '355',
      '620300': '356',
      '630400': '357',
      '640500': '358',
      '650600': '359',
    },
  },
  {
    code: SAP_ENTITY,
    name: 'Acme Manufacturing Europe B.V.',
    functionalCurrency: 'EUR',
    fiscalCalendar: servicesCompany.fiscalCalendar,
    erpSystem: 'sap',
    erpCompany: '1710',
    route: { postingModel: 'replace-scope', settings: { planningCategory: 'PLN', fiscalYearVariant: 'K4' } },
    costCenters: [
      { code: 'CC-930', name: 'Rotterdam assembly', erpValue: '17101930' },
      { code: 'CC-940', name: 'NL general and administrative', erpValue: '17101940' },
    ],
    // The group accounts' SAP values are seeded with the German company's (subsidiaries.ts).
    accounts: {},
  },
];

export const legalEntities = ENTITIES.map((a) => ({
  ...servicesCompany,
  code: a.code,
  name: a.name,
  functionalCurrency: a.functionalCurrency,
  fiscalCalendar: a.fiscalCalendar,
  region: a.functionalCurrency === 'EUR' ? 'EMEA' : 'NA',
  erpSystem: a.erpSystem,
  erpCompany: a.erpCompany,
}));

export const publicationTargets = ENTITIES.map((a) => ({
  legalEntity: a.code,
  target: a.erpSystem,
  company: a.erpCompany,
  postingModel: a.route.postingModel,
  settings: a.route.settings,
}));

export const controlModels = ENTITIES.map((a) => ({ legalEntity: a.code, periodBasis: 'quarter' as const }));

export const costCenters = ENTITIES.flatMap((a) =>
  a.costCenters.map((c) => ({
    code: c.code,
    name: c.name,
    legalEntity: a.code,
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

export const dimensionMappings = ENTITIES.flatMap((a) => [
  ...a.costCenters.map((c) => ({
    erpSystem: a.erpSystem,
    dimension: 'costCenter' as const,
    canonicalCode: c.code,
    erpValue: c.erpValue,
    validFrom: since,
    validTo: null,
  })),
  ...Object.entries(a.accounts).map(([canonicalCode, erpValue]) => ({
    erpSystem: a.erpSystem,
    dimension: 'account' as const,
    canonicalCode,
    erpValue,
    validFrom: since,
    validTo: null,
  })),
]);
