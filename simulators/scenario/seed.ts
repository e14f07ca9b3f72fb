import { type AnaplanSimulator } from '../anaplan';
import { type D365Simulator } from '../d365';
import { budgetRows, ledgerEntries, openPurchaseOrders } from './services-company';
import { fromMinor, toMinor } from '../../domain/money';

const COMPANY = 'acus';

/**
 * Loads the services company into the simulators: budget version(s) in Anaplan, posted actuals and open
 * purchase orders in Dynamics 365. The launcher runs it so `npm start` has something to work on.
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
    ledgerEntries(fiscalYear, opts.actualsThrough ?? `${fiscalYear}-03`).map((e) => ({
      dataAreaId: COMPANY,
      JournalNumber: e.journalNumber,
      LineNumber: e.lineNumber,
      AccountingDate: e.accountingDate,
      LedgerAccount: `${e.mainAccount}-${e.costCenter}`,
      AccountingCurrencyAmount: e.amount,
      TransactionCurrencyCode: e.currency,
      Text: e.text,
    })),
  );
  sims.d365.seedPurchaseOrderLines(
    openPurchaseOrders(fiscalYear).map((p) => ({
      dataAreaId: COMPANY,
      PurchaseOrderNumber: p.purchaseOrderNumber,
      LineNumber: p.lineNumber,
      RequestedDeliveryDate: p.deliveryDate,
      LedgerDimensionDisplayValue: `${p.mainAccount}-${p.costCenter}`,
      RemainingPurchaseAmount: p.remainingAmount,
      CurrencyCode: p.currency,
      LineVersion: p.revision,
    })),
  );
  const total = fromMinor(
    rows.reduce((acc, r) => acc + toMinor(r.amount, r.currency), 0n),
    'USD',
  );
  return { ref: { legalEntity: 'ACME-US', fiscalYear, scenario: 'BUDGET' as const, version }, total };
}
