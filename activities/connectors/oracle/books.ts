import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { IsoDate } from '../../../domain/model';
import { fromMinor, toMinor } from '../../../domain/money';
import { describeIssues } from '../../../domain/zod-issues';
import { protocolFailure } from '../http';
import {
  type ActualsPage,
  type CallControl,
  type LedgerQuery,
  type SourceActualLine,
  type SourceCommitmentLine,
  type SourceExchangeRate,
} from '../types';
import { type SourceMasterRecord } from '../../../domain/master-data';
import { type OracleRest, SYSTEM } from './rest';

/**
 * Oracle Fusion as the system of record of an entity's books: its posted journals (General Ledger's
 * `journalBatches` → `journalHeaders` → `journalLines`), its open purchase orders (Procurement's
 * `purchaseOrders` → `lines` → `schedules` → `distributions`), its daily conversion rates (`currencyRates`) and
 * the values of its chart's account and cost center segments (`valueSets/{code}/child/values`). The entity's
 * company is its ledger's id; its route to Oracle names the ledger (`ledgerName`: journal headers carry the
 * name, not the id), and for commitments the legal entity its orders are sold to (`soldToLegalEntity`).
 * Attribute names Oracle's own pages did not show us are listed as assumed in docs/compatibility.md.
 */

/**
 * An amount as the REST framework writes a number: JSON numbers, which JavaScript reads as doubles. A value
 * with at most the currency's decimals survives the round trip (its shortest decimal form is the one sent); one
 * in exponent form or with more digits is refused rather than rounded.
 */
export const OracleAmount = z
  .union([z.string(), z.number().finite()])
  .transform((v) => (typeof v === 'number' ? String(v) : v))
  .pipe(z.string().regex(/^-?\d{1,15}(\.\d{1,6})?$/, 'must be a decimal amount'));

/** The canonical dimensions of an account combination's segments, in the settings' order. */
export interface SegmentLayout {
  segments: readonly string[];
  delimiter: string;
}

export function dimensionsOf(combination: string, layout: SegmentLayout): Record<string, string> {
  const parts = combination.split(layout.delimiter);
  const out: Record<string, string> = {};
  layout.segments.forEach((dimension, i) => {
    if (parts[i]) out[dimension] = parts[i];
  });
  return out;
}

const settingOf = (query: Pick<LedgerQuery, 'company' | 'settings'>, name: string, what: string) => {
  const value = query.settings?.[name];
  if (!value)
    throw ApplicationFailure.nonRetryable(
      `the ${SYSTEM} route to ledger ${query.company} needs the setting ${name} (${what})`,
      FailureType.ValidationFailed,
    );
  return value;
};

/** Text inside a row-match expression's quotes (framework version 2: a quote is doubled). */
const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;

// ---- journals -----------------------------------------------------------------------------------------

const Batch = z.object({
  JeBatchId: z.number().int().positive(),
  BatchName: z.string(),
  // GL_JE_BATCHES.STATUS: P posted, U unposted, S selected, I being posted; anything else is an error code.
  Status: z.string(),
  PostedDate: IsoDate.nullable().optional(),
  /** The journal source (GL_JE_SOURCES.USER_JE_SOURCE_NAME): Manual, Spreadsheet, a migration's own… */
  UserJeSourceName: z.string().nullable().optional(),
});
const JournalLine = z.object({
  JeLineNumber: z.number().int().positive(),
  AccountCombination: z.string().min(1),
  EnteredDr: OracleAmount.nullable().optional(),
  EnteredCr: OracleAmount.nullable().optional(),
  CurrencyCode: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  Description: z.string().nullable().optional(),
});
const JournalHeader = z.object({
  JournalName: z.string().min(1),
  LedgerName: z.string().min(1),
  CurrencyCode: z.string().regex(/^[A-Z]{3}$/),
  // The journal's accounting date, the date every one of its lines is posted on.
  DefaultEffectiveDate: IsoDate,
  /** The journal category (GL_JE_CATEGORIES): Adjustment, Accrual, a conversion category… */
  UserJeCategoryName: z.string().nullable().optional(),
  journalLines: z.array(z.unknown()).default([]),
});

/** Where a sync's pages stand: the filter's day (fixed for the sync, or offsets would shift) and the latest read. */
const JournalCursor = z.object({
  offset: z.number().int().nonnegative(),
  since: z.string(),
  highest: z.string(),
});
const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const decode = (cursor: string): unknown => {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};

/**
 * One page of posted journal lines of the ledger: a page of the batches posted on or after the watermark's day,
 * oldest first, each batch's journals of this ledger with their lines expanded. A journal's lines are
 * identified by the batch, the journal's name (unique in its batch) and the line number; posted journals are
 * never changed (a correction is a reversal, another journal), so their revision is 0. The watermark is the
 * latest posting date read: the next sync reads that day again, and the lines it already counted change nothing.
 */
export async function readJournalPage(
  rest: OracleRest,
  query: LedgerQuery,
  layout: SegmentLayout,
  cursor: string | undefined,
): Promise<ActualsPage> {
  const ledgerName = settingOf(query, 'ledgerName', "the ledger's name, as its journals carry it");
  const resumed = cursor ? JournalCursor.safeParse(decode(cursor)) : undefined;
  if (resumed && !resumed.success)
    throw protocolFailure(SYSTEM, 'the journals cursor is not one this adapter wrote');
  const offset = resumed?.data.offset ?? 0;
  const since = resumed ? resumed.data.since : (query.watermark ?? '');
  const filter = [`Status = 'P'`, ...(since ? [`PostedDate >= ${quoted(since)}`] : [])].join(' and ');
  const page = await rest.page('journalBatches', Batch, {
    q: filter,
    orderBy: 'PostedDate:asc,JeBatchId:asc',
    fields: Object.keys(Batch.shape),
    offset,
    limit: query.pageSize,
  });
  let highest = resumed?.data.highest ?? since;
  const lines: SourceActualLine[] = [];
  for (const batch of page.items) {
    if (batch.PostedDate && batch.PostedDate > highest) highest = batch.PostedDate;
    for await (const headers of rest.collection(
      `journalBatches/${batch.JeBatchId}/child/journalHeaders`,
      JournalHeader,
      {
        q: `LedgerName = ${quoted(ledgerName)}`,
        expand: ['journalLines'],
      },
    ))
      for (const h of headers) {
        if (h.DefaultEffectiveDate < query.fromDate || h.DefaultEffectiveDate > query.toDate) continue;
        for (const raw of h.journalLines) {
          const parsed = JournalLine.safeParse(raw);
          if (!parsed.success)
            throw protocolFailure(
              SYSTEM,
              `journal ${batch.BatchName}/${h.JournalName}: a line ${describeIssues(parsed.error)}`,
            );
          const l = parsed.data;
          const currency = l.CurrencyCode ?? h.CurrencyCode;
          const minor = toMinor(l.EnteredDr ?? '0', currency) - toMinor(l.EnteredCr ?? '0', currency);
          lines.push({
            documentId: `${batch.JeBatchId}/${h.JournalName}`,
            lineNo: l.JeLineNumber,
            revision: 0,
            dimensions: dimensionsOf(l.AccountCombination, layout),
            postingDate: h.DefaultEffectiveDate,
            amount: { amount: fromMinor(minor, currency), currency },
            description: l.Description || undefined,
            ...(batch.UserJeSourceName || h.UserJeCategoryName
              ? {
                  journal: {
                    ...(batch.UserJeSourceName ? { source: batch.UserJeSourceName } : {}),
                    ...(h.UserJeCategoryName ? { category: h.UserJeCategoryName } : {}),
                  },
                }
              : {}),
          });
        }
      }
  }
  return {
    lines,
    cursor: page.hasMore ? encode({ offset: offset + page.items.length, since, highest }) : undefined,
    watermark: highest,
  };
}

// ---- open purchase orders -------------------------------------------------------------------------------

const Distribution = z.object({
  DistributionNumber: z.number().int().positive(),
  POChargeAccount: z.string().min(1),
  BudgetDate: IsoDate,
  // What the distribution orders and what has been invoiced against it (docs/compatibility.md: assumed names).
  Ordered: OracleAmount,
  AmountBilled: OracleAmount.nullable().optional(),
});
const Schedule = z.object({
  ScheduleNumber: z.number().int().positive(),
  distributions: z.array(z.unknown()).default([]),
});
const OrderLine = z.object({
  LineNumber: z.number().int().positive(),
  schedules: z.array(Schedule).default([]),
});
const Order = z.object({
  OrderNumber: z.string().min(1),
  Revision: z.number().int().nonnegative().default(0),
  CurrencyCode: z.string().regex(/^[A-Z]{3}$/),
  lines: z.array(OrderLine).default([]),
});

/**
 * The open amount of every distribution of the open purchase orders sold to the entity's legal entity: what it
 * orders less what has been invoiced against it (an invoice turns the commitment into an actual), dated by its
 * budget date (the date budgetary control consumes funds on) and booked to its charge account. A distribution
 * fully invoiced is not open. A distribution is a line of its own: the order, its line and schedule are its
 * document, its number the line; the order's revision is its revision.
 */
export async function readOpenCommitments(
  rest: OracleRest,
  query: LedgerQuery,
  layout: SegmentLayout,
  control?: CallControl,
): Promise<SourceCommitmentLine[]> {
  const legalEntity = settingOf(
    query,
    'soldToLegalEntity',
    'the legal entity its purchase orders are sold to',
  );
  const out: SourceCommitmentLine[] = [];
  let read = 0;
  for await (const orders of rest.collection('purchaseOrders', z.unknown(), {
    q: `StatusCode = 'OPEN' and SoldToLegalEntity = ${quoted(legalEntity)}`,
    expand: ['lines.schedules.distributions'],
  })) {
    for (const raw of orders) {
      const parsed = Order.safeParse(raw);
      if (!parsed.success) throw protocolFailure(SYSTEM, `purchase order: ${describeIssues(parsed.error)}`);
      const o = parsed.data;
      for (const line of o.lines)
        for (const schedule of line.schedules)
          for (const rawDistribution of schedule.distributions) {
            const d = Distribution.safeParse(rawDistribution);
            if (!d.success)
              throw protocolFailure(
                SYSTEM,
                `purchase order ${o.OrderNumber} line ${line.LineNumber}: a distribution ${describeIssues(d.error)}`,
              );
            const open =
              toMinor(d.data.Ordered, o.CurrencyCode) - toMinor(d.data.AmountBilled ?? '0', o.CurrencyCode);
            if (open <= 0n) continue;
            out.push({
              documentId: `${o.OrderNumber}/${line.LineNumber}/${schedule.ScheduleNumber}`,
              lineNo: d.data.DistributionNumber,
              revision: o.Revision,
              dimensions: dimensionsOf(d.data.POChargeAccount, layout),
              date: d.data.BudgetDate,
              openAmount: { amount: fromMinor(open, o.CurrencyCode), currency: o.CurrencyCode },
            });
          }
    }
    read += orders.length;
    control?.progress?.({ purchaseOrders: read });
  }
  return out;
}

// ---- conversion rates ---------------------------------------------------------------------------------------

const Rate = z.object({
  FromCurrency: z.string().regex(/^[A-Z]{3}$/),
  ToCurrency: z.string().regex(/^[A-Z]{3}$/),
  UserConversionType: z.string().min(1),
  ConversionDate: IsoDate,
  ConversionRate: OracleAmount,
});

/**
 * The daily rates of the conversion types closeloop maps, from `fromDate` on. Oracle keeps a rate per day (an
 * average rate type holds the month's average on each of its days), so each is valid on its day only.
 */
export async function readRates(
  rest: OracleRest,
  typeNames: Partial<Record<SourceExchangeRate['rateType'], string>>,
  fromDate: string,
  control?: CallControl,
): Promise<SourceExchangeRate[]> {
  const out: SourceExchangeRate[] = [];
  for (const [rateType, name] of Object.entries(typeNames) as [SourceExchangeRate['rateType'], string][]) {
    for await (const rows of rest.collection('currencyRates', Rate, {
      q: `UserConversionType = ${quoted(name)} and ConversionDate >= ${quoted(fromDate)}`,
    })) {
      for (const r of rows) {
        const next = new Date(`${r.ConversionDate}T00:00:00Z`);
        next.setUTCDate(next.getUTCDate() + 1);
        out.push({
          rateType,
          from: r.FromCurrency,
          to: r.ToCurrency,
          validFrom: r.ConversionDate,
          validTo: next.toISOString().slice(0, 10),
          rate: r.ConversionRate,
        });
      }
      control?.progress?.({ rateType, rates: out.length });
    }
  }
  return out;
}

// ---- chart of accounts ------------------------------------------------------------------------------------

const ValueRow = z.object({
  Value: z.string().min(1),
  Description: z.string().nullable().optional(),
  EnabledFlag: z.enum(['Y', 'N']),
  StartDateActive: IsoDate.nullable().optional(),
  EndDateActive: IsoDate.nullable().optional(),
  SummaryFlag: z.enum(['Y', 'N']).optional(),
  AccountType: z.string().nullable().optional(),
});
/** The natural account segment's account type qualifier (A, L, O, R, E), in closeloop's kinds. */
const ACCOUNT_KIND = { A: 'asset', L: 'liability', O: 'equity', R: 'revenue', E: 'expense' } as const;

/**
 * The values of the chart's natural account and cost center value sets. A parent value (summary) is not
 * posted to and is left out; Oracle's account hierarchies are trees that its REST API does not publish, so a
 * cost center's parent is not read (closeloop's hierarchy stays as it is kept). A value the adapter cannot read
 * is handed over with its reason.
 */
export async function readChartValues(
  rest: OracleRest,
  valueSets: { account: string; costCenter: string },
  control?: CallControl,
): Promise<(SourceMasterRecord | { invalid: unknown; reason: string })[]> {
  const out: (SourceMasterRecord | { invalid: unknown; reason: string })[] = [];
  for (const dimension of ['account', 'costCenter'] as const) {
    const code = valueSets[dimension];
    for await (const rows of rest.collection(
      `valueSets/${encodeURIComponent(code)}/child/values`,
      z.unknown(),
    ))
      for (const raw of rows) {
        const parsed = ValueRow.safeParse(raw);
        if (!parsed.success) {
          out.push({ invalid: raw, reason: `${code} value: ${describeIssues(parsed.error)}` });
          continue;
        }
        const v = parsed.data;
        if (v.SummaryFlag === 'Y') continue;
        const kind =
          dimension === 'account' && v.AccountType
            ? ACCOUNT_KIND[v.AccountType as keyof typeof ACCOUNT_KIND]
            : undefined;
        if (dimension === 'account' && v.AccountType && !kind) {
          out.push({
            invalid: raw,
            reason: `${code} value ${v.Value}: unknown AccountType ${v.AccountType}`,
          });
          continue;
        }
        out.push({
          dimension,
          sourceValue: v.Value,
          name: v.Description || v.Value,
          ...(kind ? { kind } : {}),
          suspended: v.EnabledFlag === 'N',
          activeFrom: v.StartDateActive ?? null,
          activeTo: v.EndDateActive ?? null,
        });
      }
    control?.progress?.({ valueSet: code, values: out.length });
  }
  return out;
}
