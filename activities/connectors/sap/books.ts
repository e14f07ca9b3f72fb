import { z } from 'zod';
import { type SourceMasterRecord } from '../../../domain/master-data';
import { fromMinor, toMinor } from '../../../domain/money';
import { describeIssues } from '../../../domain/zod-issues';
import { protocolFailure } from '../http';
import {
  type ActualsPage,
  type CallControl,
  type LedgerQuery,
  type SourceCommitmentLine,
  type SourceExchangeRate,
} from '../types';
import { type SapOData, SYSTEM } from './odata';

/**
 * SAP S/4HANA as the system of record of an entity's books: its journal entry items
 * (`API_OPLACCTGDOCITEMCUBE_SRV`, `A_OperationalAcctgDocItemCube`: one item per accounting document line,
 * keyed by company code, fiscal year, document and item), its purchase orders' account assignments
 * (`API_PURCHASEORDER_PROCESS_SRV`), exchange rates and its cost centers and G/L accounts. The entity's company
 * is its company code; its route names which field each canonical dimension is (`fields`).
 */

/** Edm.Decimal as V2 writes it: a string (a number is refused rather than guessed at). */
const Decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string');
/** Edm.DateTime as V2 writes it, `/Date(ms)/`, as an ISO day. */
export const SapDate = z
  .string()
  .regex(/^\/Date\(-?\d+([+-]\d{4})?\)\/$/, 'must be /Date(ms)/')
  .transform((v) => new Date(Number(/-?\d+/.exec(v)![0])).toISOString().slice(0, 10));
/** An ISO day as a V2 filter literal. */
export const dateLiteral = (day: string) => `datetime'${day}T00:00:00'`;
const quoted = (v: string) => `'${v.replace(/'/g, "''")}'`;

export type FieldMap = Record<string, string>;

const dimensionsOf = (item: Record<string, unknown>, fields: FieldMap) => {
  const out: Record<string, string> = {};
  for (const [dimension, field] of Object.entries(fields)) {
    const v = item[field];
    if (typeof v === 'string' && v) out[dimension] = v;
  }
  return out;
};

// ---- journal entry items --------------------------------------------------------------------------------

const DocItem = z
  .object({
    CompanyCode: z.string(),
    FiscalYear: z.string().regex(/^\d{4}$/),
    AccountingDocument: z.string().min(1),
    AccountingDocumentItem: z.string().regex(/^\d+$/),
    PostingDate: SapDate,
    AccountingDocumentCreationDate: SapDate,
    TransactionCurrency: z.string().regex(/^[A-Z]{3}$/),
    AmountInTransactionCurrency: Decimal,
    DocumentItemText: z.string().optional(),
  })
  .passthrough();

const Cursor = z.object({ next: z.string().url(), highest: z.string() });

/**
 * One page of the company code's profit-and-loss journal entry items posted in the window and created on or
 * after the watermark's day (a document's creation date: one posted late into an earlier period is still
 * read). An item is its document's line: company code, fiscal year and document, its item number, revision 0
 * (SAP reverses a document with another). The watermark is the latest creation date read; that day is read
 * again and its items count once.
 */
export async function readJournalEntryPage(
  odata: SapOData,
  query: LedgerQuery,
  fields: FieldMap,
  cursor: string | undefined,
): Promise<ActualsPage> {
  let resumed: z.infer<typeof Cursor> | undefined;
  if (cursor) {
    const parsed = Cursor.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (!parsed.success)
      throw protocolFailure(SYSTEM, 'the journal entries cursor is not one this adapter wrote');
    resumed = parsed.data;
  }
  const url =
    resumed?.next ??
    odata.queryUrl('A_OperationalAcctgDocItemCube', {
      filter: [
        `CompanyCode eq ${quoted(query.company)}`,
        'IsBalanceSheetAccount eq false',
        `PostingDate ge ${dateLiteral(query.fromDate)}`,
        `PostingDate le ${dateLiteral(query.toDate)}`,
        ...(query.watermark ? [`AccountingDocumentCreationDate ge ${dateLiteral(query.watermark)}`] : []),
      ].join(' and '),
      orderby: 'AccountingDocumentCreationDate,AccountingDocument,AccountingDocumentItem',
    });
  const page = await odata.page(url, DocItem, 'A_OperationalAcctgDocItemCube');
  let highest = resumed?.highest ?? query.watermark ?? '';
  for (const i of page.items)
    if (i.AccountingDocumentCreationDate > highest) highest = i.AccountingDocumentCreationDate;
  return {
    lines: page.items.map((i) => ({
      documentId: `${i.CompanyCode}/${i.FiscalYear}/${i.AccountingDocument}`,
      lineNo: Number(i.AccountingDocumentItem),
      revision: 0,
      dimensions: dimensionsOf(i, fields),
      postingDate: i.PostingDate,
      amount: { amount: i.AmountInTransactionCurrency, currency: i.TransactionCurrency },
      description: i.DocumentItemText || undefined,
    })),
    cursor: page.next
      ? Buffer.from(JSON.stringify({ next: page.next, highest })).toString('base64url')
      : undefined,
    watermark: highest,
  };
}

// ---- purchase orders -----------------------------------------------------------------------------------

const Assignment = z
  .object({
    AccountAssignmentNumber: z.string().regex(/^\d+$/),
    IsDeleted: z.boolean().optional(),
    PurgDocNetAmount: Decimal,
    GLAccount: z.string(),
    CostCenter: z.string().optional(),
  })
  .passthrough();
const ScheduleLine = z.object({ ScheduleLineDeliveryDate: SapDate });
const OrderItem = z.object({
  PurchaseOrderItem: z.string().regex(/^\d+$/),
  PurchasingDocumentDeletionCode: z.string().optional(),
  IsFinallyInvoiced: z.boolean().optional(),
  DocumentCurrency: z.string().regex(/^[A-Z]{3}$/),
  to_AccountAssignment: z.object({ results: z.array(z.unknown()) }),
  to_ScheduleLine: z.object({ results: z.array(ScheduleLine) }),
});
const Order = z.object({
  PurchaseOrder: z.string().min(1),
  PurchasingDocumentDeletionCode: z.string().optional(),
  to_PurchaseOrderItem: z.object({ results: z.array(OrderItem) }),
});
const InvoicedItem = z.object({
  PurchasingDocument: z.string(),
  PurchasingDocumentItem: z.string(),
  GLAccount: z.string(),
  CostCenter: z.string().optional(),
  TransactionCurrency: z.string(),
  AmountInTransactionCurrency: Decimal,
});

/**
 * The open amount of every account assignment of the company code's purchase orders. `PurgDocNetAmount` is
 * what an assignment orders, not what is still open, so closeloop takes off it what the books already count
 * against the order's item on the assignment's account and cost center: the profit-and-loss journal entry
 * items that carry the order (goods receipts, invoices). An item finally invoiced or deleted, or an assignment
 * deleted, is not open; an assignment is dated by its item's first delivery date.
 */
export async function readOpenAssignments(
  orders: SapOData,
  journal: SapOData,
  query: LedgerQuery,
  fields: FieldMap,
  control?: CallControl,
): Promise<SourceCommitmentLine[]> {
  const booked = new Map<string, bigint>();
  for await (const items of journal.collection('A_OperationalAcctgDocItemCube', InvoicedItem, {
    filter: `CompanyCode eq ${quoted(query.company)} and IsBalanceSheetAccount eq false and PurchasingDocument ne ''`,
    select: Object.keys(InvoicedItem.shape),
  }))
    for (const i of items) {
      const key = [i.PurchasingDocument, i.PurchasingDocumentItem, i.GLAccount, i.CostCenter ?? ''].join('|');
      booked.set(
        key,
        (booked.get(key) ?? 0n) + toMinor(i.AmountInTransactionCurrency, i.TransactionCurrency),
      );
    }
  const out: SourceCommitmentLine[] = [];
  let read = 0;
  for await (const page of orders.collection('A_PurchaseOrder', Order, {
    filter: `CompanyCode eq ${quoted(query.company)}`,
    expand: [
      'to_PurchaseOrderItem',
      'to_PurchaseOrderItem/to_AccountAssignment',
      'to_PurchaseOrderItem/to_ScheduleLine',
    ],
  })) {
    for (const o of page) {
      if (o.PurchasingDocumentDeletionCode) continue;
      for (const item of o.to_PurchaseOrderItem.results) {
        if (item.PurchasingDocumentDeletionCode || item.IsFinallyInvoiced) continue;
        const date = item.to_ScheduleLine.results.map((s) => s.ScheduleLineDeliveryDate).sort()[0];
        if (!date) continue;
        for (const raw of item.to_AccountAssignment.results) {
          const a = Assignment.safeParse(raw);
          if (!a.success)
            throw protocolFailure(
              SYSTEM,
              `purchase order ${o.PurchaseOrder} item ${item.PurchaseOrderItem}: ${describeIssues(a.error)}`,
            );
          if (a.data.IsDeleted) continue;
          const key = [
            o.PurchaseOrder,
            item.PurchaseOrderItem,
            a.data.GLAccount,
            a.data.CostCenter ?? '',
          ].join('|');
          const open = toMinor(a.data.PurgDocNetAmount, item.DocumentCurrency) - (booked.get(key) ?? 0n);
          if (open <= 0n) continue;
          out.push({
            documentId: `${o.PurchaseOrder}/${item.PurchaseOrderItem}`,
            lineNo: Number(a.data.AccountAssignmentNumber),
            revision: 0,
            dimensions: dimensionsOf(a.data, fields),
            date,
            openAmount: { amount: fromMinor(open, item.DocumentCurrency), currency: item.DocumentCurrency },
          });
        }
      }
    }
    read += page.length;
    control?.progress?.({ purchaseOrders: read });
  }
  return out;
}

// ---- exchange rates ------------------------------------------------------------------------------------------

const Rate = z.object({
  ExchangeRateType: z.string(),
  SourceCurrency: z.string().regex(/^[A-Z]{3}$/),
  TargetCurrency: z.string().regex(/^[A-Z]{3}$/),
  ValidityStartDate: SapDate,
  ExchangeRate: Decimal,
  NumberOfSourceCurrencyUnits: Decimal,
  NumberOfTargetCurrencyUnits: Decimal,
});

/**
 * Rates of the mapped exchange rate types (SAP: M the average rate, B the bank selling rate…), each from its
 * validity start until the next; a rate quoted per 100 units is divided down to one.
 */
export async function readExchangeRates(
  odata: SapOData,
  typeNames: Partial<Record<SourceExchangeRate['rateType'], string>>,
  fromDate: string,
): Promise<SourceExchangeRate[]> {
  const byName = new Map(Object.entries(typeNames).map(([t, n]) => [n, t as SourceExchangeRate['rateType']]));
  const rows: z.infer<typeof Rate>[] = [];
  for await (const page of odata.collection('A_ExchangeRate', Rate, {
    filter: [...byName.keys()].map((n) => `ExchangeRateType eq ${quoted(n)}`).join(' or '),
  }))
    rows.push(...page);
  const out: SourceExchangeRate[] = [];
  const series = new Map<string, z.infer<typeof Rate>[]>();
  for (const r of rows) {
    const key = `${r.ExchangeRateType}|${r.SourceCurrency}|${r.TargetCurrency}`;
    series.set(key, [...(series.get(key) ?? []), r]);
  }
  for (const list of series.values()) {
    list.sort((a, b) => (a.ValidityStartDate < b.ValidityStartDate ? -1 : 1));
    list.forEach((r, i) => {
      const validTo = list[i + 1]?.ValidityStartDate ?? null;
      if (validTo !== null && validTo <= fromDate) return;
      out.push({
        rateType: byName.get(r.ExchangeRateType)!,
        from: r.SourceCurrency,
        to: r.TargetCurrency,
        validFrom: r.ValidityStartDate,
        validTo,
        rate: perUnit(r.ExchangeRate, r.NumberOfSourceCurrencyUnits, r.NumberOfTargetCurrencyUnits),
      });
    });
  }
  return out;
}

/** A rate for `source` units in `target` units, as the rate of one source unit in one target unit. */
function perUnit(rate: string, source: string, target: string): string {
  const units = (u: string) => BigInt(u.split('.')[0]!);
  if (units(source) === units(target)) return rate;
  const scale = 10n ** 12n;
  const [w, f = ''] = rate.split('.');
  const r = BigInt(w!) * scale + BigInt(f.padEnd(12, '0').slice(0, 12));
  const value = (r * units(target)) / units(source);
  return `${value / scale}.${String(value % scale).padStart(12, '0')}`.replace(/\.?0+$/, '');
}

// ---- master data ---------------------------------------------------------------------------------------------

const CostCenter = z.object({
  CostCenter: z.string().min(1),
  CompanyCode: z.string(),
  ValidityStartDate: SapDate,
  ValidityEndDate: SapDate,
  IsBlkdForPrimaryCostsPosting: z.boolean().optional(),
  CostCenterStandardHierArea: z.string().optional(),
  to_Text: z
    .object({ results: z.array(z.object({ Language: z.string(), CostCenterName: z.string() })) })
    .optional(),
});
const GLAccount = z.object({
  ChartOfAccounts: z.string(),
  GLAccount: z.string().min(1),
  GLAccountType: z.string(),
  AccountIsBlockedForPosting: z.boolean().optional(),
  AccountIsMarkedForDeletion: z.boolean().optional(),
  to_Text: z
    .object({ results: z.array(z.object({ Language: z.string(), GLAccountName: z.string() })) })
    .optional(),
});
/**
 * SAP's G/L account types: P primary costs or revenue, N non-operating expense or income, X balance sheet (which
 * does not say asset or liability: such an account is read without a kind, and keeps the one closeloop has).
 */
const KIND_OF: Record<string, SourceMasterRecord['kind']> = { P: 'expense', N: 'expense' };
const SAP_FOREVER = '9999-12-31';

/**
 * The company code's cost centers (`A_CostCenter`; its standard hierarchy area is not a parent cost center,
 * so the place in closeloop's hierarchy is left as it is) and the chart's G/L accounts
 * (`A_GLAccountInChartOfAccounts`), each with its dates and blocks. A record the adapter cannot read is handed
 * over with its reason.
 */
export async function readSapMasterData(
  costCenters: SapOData,
  glAccounts: SapOData,
  query: { company: string; chartOfAccounts: string },
  control?: CallControl,
): Promise<(SourceMasterRecord | { invalid: unknown; reason: string })[]> {
  const out: (SourceMasterRecord | { invalid: unknown; reason: string })[] = [];
  for await (const page of glAccounts.collection('A_GLAccountInChartOfAccounts', z.unknown(), {
    filter: `ChartOfAccounts eq ${quoted(query.chartOfAccounts)}`,
    expand: ['to_Text'],
  }))
    for (const raw of page) {
      const a = GLAccount.safeParse(raw);
      if (!a.success) {
        out.push({ invalid: raw, reason: `G/L account: ${describeIssues(a.error)}` });
        continue;
      }
      const kind = KIND_OF[a.data.GLAccountType];
      out.push({
        dimension: 'account',
        sourceValue: a.data.GLAccount,
        name: a.data.to_Text?.results.find((t) => t.Language === 'EN')?.GLAccountName ?? a.data.GLAccount,
        ...(kind ? { kind } : {}),
        suspended: Boolean(a.data.AccountIsBlockedForPosting || a.data.AccountIsMarkedForDeletion),
        activeFrom: null,
        activeTo: null,
      });
    }
  for await (const page of costCenters.collection('A_CostCenter', z.unknown(), {
    filter: `CompanyCode eq ${quoted(query.company)}`,
    expand: ['to_Text'],
  }))
    for (const raw of page) {
      const c = CostCenter.safeParse(raw);
      if (!c.success) {
        out.push({ invalid: raw, reason: `cost center: ${describeIssues(c.error)}` });
        continue;
      }
      out.push({
        dimension: 'costCenter',
        sourceValue: c.data.CostCenter,
        name: c.data.to_Text?.results.find((t) => t.Language === 'EN')?.CostCenterName ?? c.data.CostCenter,
        suspended: Boolean(c.data.IsBlkdForPrimaryCostsPosting),
        activeFrom: c.data.ValidityStartDate,
        activeTo: c.data.ValidityEndDate === SAP_FOREVER ? null : c.data.ValidityEndDate,
      });
    }
  control?.progress?.({ records: out.length });
  return out;
}
