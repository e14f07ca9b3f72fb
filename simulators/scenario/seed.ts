import { adaptiveMonth, type AdaptiveSimulator } from '../adaptive/simulator';
import { type AnaplanSimulator } from '../anaplan';
import { type D365Simulator, type PurchaseOrderSeed } from '../d365';
import { type OracleSimulator } from '../oracle/simulator';
import { type SapSimulator } from '../sap/simulator';
import { type NetSuiteSimulator } from '../netsuite/simulator';
import { NL_BOOKS, sapBooks } from './europe';
import { netsuiteBooks } from './acquired';
import {
  budgetRows,
  type LedgerEntry,
  ledgerEntries,
  masterData,
  openPurchaseOrders,
  ORACLE_CONTROL_BUDGET,
  ORACLE_LEDGER_ID,
  ORACLE_LEDGER_NAME,
  oracleLedgerPeriods,
} from './services-company';
import {
  periodsOf as subsidiaryPeriods,
  SUBSIDIARY_BOOKS,
  subsidiaryBudgetRows,
  subsidiaryDimensionValues,
  subsidiaryLedgerEntries,
} from './subsidiaries';
import { fromMinor, toMinor } from '../../domain/money';
import {
  CORPORATE_LEDGER,
  corporateJournals,
  corporatePurchaseOrders,
  corporateRates,
  corporateValueSets,
} from './corporate';
import { MFG_ACCOUNT_STRUCTURE, MFG_PROJECTS, manufacturerMasterData } from './manufacturer';

const COMPANY = 'acus';

/**
 * Loads the services company into the simulators: budget version(s) in Anaplan, posted actuals, open
 * purchase orders, exchange rates and master data in Dynamics 365. The launcher runs it so `npm start` has something to work on.
 */
export function seedServicesCompany(
  sims: { d365: D365Simulator; anaplan: AnaplanSimulator },
  opts: { fiscalYear?: number; version?: number; actualsThrough?: string } = {},
) {
  const fiscalYear = opts.fiscalYear ?? 2027;
  const version = opts.version ?? 1;
  const rows = budgetRows(fiscalYear, version);
  sims.anaplan.putBudgetVersion({ legalEntity: 'ACME-US', fiscalYear, scenario: 'BUDGET', version, rows });
  sims.d365.seedLedgerEntries(
    ledgerSeed(COMPANY, ledgerEntries(fiscalYear, opts.actualsThrough ?? `${fiscalYear}-03`)),
  );
  const orders = new Map<string, PurchaseOrderSeed>();
  for (const p of openPurchaseOrders(fiscalYear)) {
    const order = orders.get(p.purchaseOrderNumber) ?? {
      dataAreaId: COMPANY,
      PurchaseOrderNumber: p.purchaseOrderNumber,
      CurrencyCode: p.currency,
      lines: [],
    };
    order.lines.push({
      LineNumber: p.lineNumber,
      RequestedDeliveryDate: p.deliveryDate,
      DefaultLedgerDimensionDisplayValue: `${p.mainAccount}-${p.costCenter}`,
      LineAmount: p.lineAmount,
    });
    orders.set(p.purchaseOrderNumber, order);
  }
  sims.d365.seedPurchaseOrders([...orders.values()]);
  const master = masterData();
  sims.d365.seedMainAccounts(master.mainAccounts);
  sims.d365.seedDimensionValues(master.dimensionValues);
  sims.d365.publishHierarchyChanges(master.hierarchy);
  // Treasury's rates for the year: euro and sterling against the dollar (average and spot), sterling
  // against the euro for triangulation.
  const rate = (type: string, from: string, to: string, value: string) => ({
    ExchangeRateTypeName: type,
    FromCurrencyCode: from,
    ToCurrencyCode: to,
    ValidFrom: `${fiscalYear}-01-01`,
    Rate: value,
  });
  sims.d365.seedExchangeRates([
    rate('Average', 'EUR', 'USD', '1.0850'),
    rate('Default', 'EUR', 'USD', '1.0900'),
    rate('Budget', 'EUR', 'USD', '1.1000'),
    rate('Average', 'GBP', 'EUR', '1.1700'),
  ]);
  const total = fromMinor(
    rows.reduce((acc, r) => acc + toMinor(r.amount, r.currency), 0n),
    'USD',
  );
  return { ref: { legalEntity: 'ACME-US', fiscalYear, scenario: 'BUDGET' as const, version }, total };
}

/** General journal account entries of a D365 company, as the simulator is seeded with them. */
function ledgerSeed(company: string, entries: LedgerEntry[]) {
  return entries.map((e) => ({
    DataArea: company,
    JournalNumber: e.journalNumber,
    Voucher: e.voucher,
    AccountingDate: e.accountingDate,
    LedgerAccount: `${e.mainAccount}-${e.costCenter}`,
    AccountingCurrencyAmount: e.amount,
    TransactionCurrencyCode: e.currency,
    Description: e.text,
  }));
}

/**
 * Loads the subsidiaries into the simulators: each one's budget version in Anaplan, its actuals posted in
 * its own D365 company for the periods that end by `actualsThroughMonth` (a calendar month, March of the
 * year by default), and its cost centers.
 */
export function seedSubsidiaries(
  sims: { d365: D365Simulator; anaplan: AnaplanSimulator },
  opts: { fiscalYear?: number; version?: number; actualsThroughMonth?: string } = {},
) {
  const fiscalYear = opts.fiscalYear ?? 2027;
  const version = opts.version ?? 1;
  sims.d365.seedDimensionValues(subsidiaryDimensionValues());
  return SUBSIDIARY_BOOKS.map((s) => {
    const rows = subsidiaryBudgetRows(s.code, fiscalYear);
    sims.anaplan.putBudgetVersion({ legalEntity: s.code, fiscalYear, scenario: 'BUDGET', version, rows });
    sims.d365.seedLedgerEntries(
      ledgerSeed(
        s.erpCompany,
        subsidiaryLedgerEntries(s.code, fiscalYear, opts.actualsThroughMonth ?? `${fiscalYear}-03`),
      ),
    );
    const total = fromMinor(
      rows.reduce((acc, r) => acc + toMinor(r.amount, r.currency), 0n),
      s.functionalCurrency,
    );
    return {
      ref: { legalEntity: s.code, fiscalYear, scenario: 'BUDGET' as const, version },
      total,
      currency: s.functionalCurrency,
    };
  });
}

/**
 * The subsidiaries' plans as a Workday Adaptive Planning instance keeps them, for when one is switched to it
 * (`POST /v1/legal-entities/{code}/planning-platforms`, settings `level` = its code, `forecastVersion` =
 * `Forecast`, `sheet` = `closeloop Figures`): the accounts under one rollup, each subsidiary a level in its
 * currency with its cost centers under it, the budget version (one for the instance, as Adaptive's versions
 * are) holding the same figures Anaplan does, and the plan version forecasts go back to.
 */
export function seedAdaptivePlanning(
  adaptive: AdaptiveSimulator,
  opts: { fiscalYear?: number; version?: number } = {},
) {
  const fiscalYear = opts.fiscalYear ?? 2027;
  const version = opts.version ?? 1;
  const accounts = new Set<string>();
  const cells: { account: string; level: string; month: string; amount: string }[] = [];
  for (const s of SUBSIDIARY_BOOKS) {
    const months = new Map(
      subsidiaryPeriods(s.code, fiscalYear).map((p) => [p.period, adaptiveMonth(p.startDate)]),
    );
    for (const r of subsidiaryBudgetRows(s.code, fiscalYear)) {
      accounts.add(r.dimensions.account!);
      cells.push({
        account: r.dimensions.account!,
        level: r.dimensions.costCenter!,
        month: months.get(r.period)!,
        amount: r.amount,
      });
    }
  }
  adaptive.putAccounts([{ code: 'Expenses', children: [...accounts].sort().map((code) => ({ code })) }]);
  adaptive.putLevels([
    {
      code: 'ACME Group',
      children: SUBSIDIARY_BOOKS.map((s) => ({
        code: s.code,
        currency: s.functionalCurrency,
        children: s.costCenters.map((c) => ({ code: c.code })),
      })),
    },
  ]);
  adaptive.putPlanVersion(`BUDGET FY${fiscalYear} v${version}`, cells);
  adaptive.putPlanVersion('Forecast');
}

/** Loads the manufacturer's Dynamics 365 company (acmf): its main accounts, cost centers and account structure. */
export function seedManufacturer(sims: { d365: D365Simulator }) {
  const master = manufacturerMasterData();
  sims.d365.seedMainAccounts(master.mainAccounts);
  sims.d365.seedDimensionValues(master.dimensionValues);
  sims.d365.seedAccountStructure(MFG_ACCOUNT_STRUCTURE);
  for (const project of MFG_PROJECTS) sims.d365.seedProject(project);
}

/**
 * Corporate finance's Oracle ledger for the given years (every period open) and its control budget, kept
 * alongside periods already there for other years.
 */
/** The UK subsidiary's sterling ledger in Oracle Fusion, which it moves to from Dynamics 365 (docs/migration.md). */
export const UK_ORACLE_LEDGER = { id: 300000046976101, name: 'ACME UK Primary', budgetName: 'UK Plan' };

export function seedOracleLedger(
  oracle: OracleSimulator,
  fiscalYears: readonly number[],
  status?: Parameters<typeof oracleLedgerPeriods>[1],
) {
  const corporateLedger = CORPORATE_LEDGER.id;
  oracle.setAccountingPeriods([
    ...oracle.accountingPeriods().filter((p) => !fiscalYears.some((y) => p.StartDate.startsWith(`${y}-`))),
    ...fiscalYears.flatMap((y) => [
      ...oracleLedgerPeriods(y, status),
      ...oracleLedgerPeriods(y, status, corporateLedger),
      ...oracleLedgerPeriods(y, status, UK_ORACLE_LEDGER.id),
    ]),
  ]);
  oracle.setLedgers([
    { LedgerId: ORACLE_LEDGER_ID, Name: ORACLE_LEDGER_NAME },
    { LedgerId: corporateLedger, Name: CORPORATE_LEDGER.name },
    { LedgerId: UK_ORACLE_LEDGER.id, Name: UK_ORACLE_LEDGER.name },
  ]);
  oracle.setControlBudgets([{ name: ORACLE_CONTROL_BUDGET, ledgerId: ORACLE_LEDGER_ID, currency: 'USD' }]);
}

/**
 * Group corporate finance's books in its Oracle ledger for a year: the journals posted through `actualsThrough`
 * (a calendar month, March by default), its open purchase orders, treasury's rates and the chart's values.
 */
export function seedCorporateBooks(
  oracle: OracleSimulator,
  opts: { fiscalYear: number; actualsThrough?: string },
) {
  for (const batch of corporateJournals(opts.fiscalYear, opts.actualsThrough ?? `${opts.fiscalYear}-03`))
    oracle.postJournalBatch(batch);
  oracle.putPurchaseOrders(corporatePurchaseOrders(opts.fiscalYear));
  oracle.putRates(corporateRates(opts.fiscalYear));
  for (const [code, values] of Object.entries(corporateValueSets())) oracle.putValueSet(code, values);
}

/** Acme Manufacturing Europe's books in SAP for a year (its company code's documents, orders and master data). */
export function seedEuropeBooks(sap: SapSimulator, opts: { fiscalYear: number; actualsThrough?: string }) {
  const books = sapBooks(opts.fiscalYear, opts.actualsThrough ?? `${opts.fiscalYear}-03`, NL_BOOKS);
  sap.postJournalEntries(books.journal);
  sap.putPurchaseOrders(books.purchaseOrders);
  sap.putExchangeRates(books.exchangeRates);
  sap.putCostCenters(books.costCenters);
  sap.putGLAccounts(books.glAccounts);
}

/** Northwind's NetSuite account: its reference records and its books for a year, as SuiteQL tables. */
export function seedAcquiredBooks(
  netsuite: NetSuiteSimulator,
  opts: { fiscalYear: number; years?: number[] },
) {
  const tables = netsuiteBooks(opts.fiscalYear, { years: opts.years });
  for (const [name, rows] of Object.entries(tables)) netsuite.putTable(name, rows);
  netsuite.putSubsidiaries(tables.subsidiary);
}
