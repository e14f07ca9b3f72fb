import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { type SystemDimensionValues } from '../../../domain/mapping';
import { DIMENSIONS } from '../../../domain/model';
import { fromMinor, negate, toMinor } from '../../../domain/money';
import { httpJson, httpRequest, parseResponse } from '../http';
import {
  type ActualsPage,
  type BudgetChunkPublication,
  type BudgetChunkReversal,
  type CallControl,
  type ErpConnector,
  type HealthStatus,
  type LedgerQuery,
  type PostedDocument,
  type SourceCommitmentLine,
  type TargetBudgetTotal,
  type TargetLocation,
} from '../types';

/**
 * Microsoft Dynamics 365 Finance over its OData data entities. Budgets become budget register entries (one
 * per chunk, keyed by our idempotency key in DocumentNumber); actuals come from GeneralJournalAccountEntries;
 * commitments from open purchase order lines. Decimals travel as strings (IEEE754Compatible=true).
 */

export const D365ConnectorConfig = z.object({
  baseUrl: z.string().url(),
  tokenUrl: z.string().url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Defaults to `<baseUrl>/.default`, the resource of the environment. */
  scope: z.string().optional(),
  timeoutMs: z.number().int().positive(),
  pageSize: z.number().int().positive(),
  /**
   * Which canonical dimension each segment of a ledger dimension display value holds, in order: with
   * ["account", "costCenter"], "60010-100" is main account 60010 and cost center 100.
   */
  dimensionFormat: z.array(z.enum(DIMENSIONS)).min(1).default(['account', 'costCenter']),
});

/** A publication target's settings for Dynamics 365: which budget the entries belong to. */
const BudgetSettings = z.object({ budgetModel: z.string().min(1), budgetCode: z.string().min(1) });

function budgetSettings(target: TargetLocation) {
  const parsed = BudgetSettings.safeParse(target.settings);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: `the d365 publication target of company ${target.company} needs settings budgetModel and budgetCode`,
      nonRetryable: true,
    });
  }
  return parsed.data;
}
export type D365ConnectorConfig = z.input<typeof D365ConnectorConfig>;

const SYSTEM = 'd365';
const DecimalText = z.union([z.string(), z.number()]).transform((v) => String(v));
const collection = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ value: z.array(item), '@odata.nextLink': z.string().url().optional() });

const Token = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });
const Header = z.object({
  dataAreaId: z.string(),
  EntryNumber: z.string(),
  DocumentNumber: z.string(),
  Status: z.string(),
});
const Line = z.object({
  LineNumber: z.number().int(),
  Date: z.string(),
  AccountDisplayValue: z.string(),
  Amount: DecimalText,
  CurrencyCode: z.string(),
});
const LedgerEntry = z.object({
  RecId: z.number().int(),
  JournalNumber: z.string(),
  LineNumber: z.number().int(),
  AccountingDate: z.string(),
  LedgerAccount: z.string(),
  // The transaction-currency amount is the one that pairs with TransactionCurrencyCode; the accounting-
  // currency amount is in the ledger's currency, which the entry does not name. (Fields as published in
  // microsoft/CDM schemaDocuments/core/operationsCommon/Entities/Finance/GeneralLedger/
  // GeneralJournalAccountEntryEntity.cdm.json; its other fields are not yet aligned with that schema.)
  TransactionCurrencyAmount: DecimalText,
  TransactionCurrencyCode: z.string(),
  Text: z.string().optional(),
});
const PurchaseOrderLine = z.object({
  PurchaseOrderNumber: z.string(),
  LineNumber: z.number().int(),
  RequestedDeliveryDate: z.string(),
  LedgerDimensionDisplayValue: z.string(),
  RemainingPurchaseAmount: DecimalText,
  CurrencyCode: z.string(),
  LineVersion: z.number().int(),
});

const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;

function isStatus(err: unknown, status: number): boolean {
  return (
    err instanceof ApplicationFailure &&
    (err.details?.[0] as { status?: number } | undefined)?.status === status
  );
}

function isDuplicate(err: unknown): boolean {
  return (
    err instanceof ApplicationFailure &&
    err.type === FailureType.ConnectorRejected &&
    /already exists|DuplicateRecord/i.test(err.message)
  );
}

export function createD365Connector(input: D365ConnectorConfig): ErpConnector {
  const config = D365ConnectorConfig.parse(input);
  const base = config.baseUrl.replace(/\/$/, '');
  let token: { value: string; expiresAt: number } | undefined;

  async function accessToken(force = false): Promise<string> {
    if (!force && token && token.expiresAt > Date.now() + 60_000) return token.value;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: config.clientId,
      client_secret: config.clientSecret,
      scope: config.scope ?? `${base}/.default`,
    }).toString();
    const t = await httpJson(
      {
        system: SYSTEM,
        method: 'POST',
        url: config.tokenUrl,
        body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        timeoutMs: config.timeoutMs,
      },
      Token,
    );
    token = { value: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
    return token.value;
  }

  /** One OData call; a 401 refreshes the token once (it may have been revoked early) and tries again. */
  async function odata(
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    opts: { body?: unknown; correlationId?: string; maxPageSize?: number } = {},
  ): Promise<unknown> {
    const send = async (force: boolean) => {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${await accessToken(force)}`,
        Accept: 'application/json;odata.metadata=minimal;IEEE754Compatible=true',
        'OData-Version': '4.0',
      };
      if (opts.body !== undefined) headers['Content-Type'] = 'application/json;IEEE754Compatible=true';
      if (opts.correlationId) headers['x-ms-client-request-id'] = opts.correlationId;
      if (opts.maxPageSize) headers.Prefer = `odata.maxpagesize=${opts.maxPageSize}`;
      const res = await httpRequest({
        system: SYSTEM,
        method,
        url: url.startsWith('http') ? url : `${base}/data/${url}`,
        headers,
        body: opts.body,
        timeoutMs: config.timeoutMs,
      });
      const text = await res.text();
      return text ? (JSON.parse(text) as unknown) : undefined;
    };
    try {
      return await send(false);
    } catch (err) {
      if (isStatus(err, 401)) return send(true);
      throw err;
    }
  }

  async function readAll<T extends z.ZodTypeAny>(
    entitySet: string,
    filter: string,
    item: T,
    orderby?: string,
    control?: CallControl,
  ): Promise<z.output<T>[]> {
    const params = new URLSearchParams({ 'cross-company': 'true', $filter: filter });
    if (orderby) params.set('$orderby', orderby);
    const out: z.output<T>[] = [];
    let url: string | undefined = `${entitySet}?${params.toString()}`;
    while (url) {
      const page: z.output<ReturnType<typeof collection<T>>> = parseResponse(
        SYSTEM,
        `GET ${entitySet}`,
        collection(item),
        await odata('GET', url, { maxPageSize: config.pageSize }),
      );
      out.push(...page.value);
      url = page['@odata.nextLink'];
      control?.progress?.({ entitySet, read: out.length });
    }
    return out;
  }

  const displayValue = (values: SystemDimensionValues) =>
    config.dimensionFormat.map((dimension) => values[dimension]).join('-');
  const parseDisplayValue = (value: string): Partial<SystemDimensionValues> => {
    const parts = value.split('-');
    const values: Partial<SystemDimensionValues> = {};
    config.dimensionFormat.forEach((dimension, i) => {
      if (parts[i]) values[dimension] = parts[i];
    });
    return values;
  };

  async function findHeader(company: string, key: string) {
    const [h] = await readAll(
      'BudgetRegisterEntryHeaders',
      `dataAreaId eq ${odataString(company)} and DocumentNumber eq ${odataString(key)}`,
      Header,
    );
    return h;
  }

  /** Create-or-resume: header by key, then only the missing lines, then complete. Safe to repeat at any point. */
  async function post(chunk: BudgetChunkPublication, control: CallControl = {}): Promise<PostedDocument> {
    const company = chunk.target.company;
    const settings = budgetSettings(chunk.target);
    let header = await findHeader(company, chunk.idempotencyKey);
    if (header?.Status === 'Completed') {
      return {
        idempotencyKey: chunk.idempotencyKey,
        documentNumber: header.EntryNumber,
        lineCount: chunk.lines.length,
        alreadyPosted: true,
      };
    }
    if (!header) {
      try {
        header = parseResponse(
          SYSTEM,
          'POST BudgetRegisterEntryHeaders',
          Header,
          await odata('POST', 'BudgetRegisterEntryHeaders', {
            correlationId: chunk.correlationId,
            body: {
              dataAreaId: company,
              BudgetModelId: settings.budgetModel,
              BudgetCode: settings.budgetCode,
              DefaultDate: chunk.lines[0]?.date ?? new Date().toISOString().slice(0, 10),
              Description: chunk.description,
              DocumentNumber: chunk.idempotencyKey,
              IntegrationCorrelationId: chunk.correlationId,
            },
          }),
        );
      } catch (err) {
        // An earlier attempt created it and its answer was lost: carry on with that header.
        if (!isDuplicate(err)) throw err;
        header = await findHeader(company, chunk.idempotencyKey);
        if (!header) throw err;
      }
    }
    const existing = new Set(
      (
        await readAll(
          'BudgetRegisterEntryLines',
          `dataAreaId eq ${odataString(company)} and EntryNumber eq ${odataString(header.EntryNumber)}`,
          Line,
        )
      ).map((l) => l.LineNumber),
    );
    let linesPosted = existing.size;
    control.progress?.({ entryNumber: header.EntryNumber, linesPosted });
    for (const line of chunk.lines) {
      if (existing.has(line.lineNumber)) continue;
      try {
        await odata('POST', 'BudgetRegisterEntryLines', {
          correlationId: chunk.correlationId,
          body: {
            dataAreaId: company,
            EntryNumber: header.EntryNumber,
            LineNumber: line.lineNumber,
            Date: line.date,
            AccountDisplayValue: displayValue(line.dimensions),
            Amount: line.amount.amount,
            CurrencyCode: line.amount.currency,
            Comment: line.period,
          },
        });
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
      control.progress?.({ entryNumber: header.EntryNumber, linesPosted: ++linesPosted });
    }
    const key = `dataAreaId=${odataString(company)},EntryNumber=${odataString(header.EntryNumber)}`;
    await odata('PATCH', `BudgetRegisterEntryHeaders(${key})`, {
      body: { Status: 'Completed' },
      correlationId: chunk.correlationId,
    });
    return {
      idempotencyKey: chunk.idempotencyKey,
      documentNumber: header.EntryNumber,
      lineCount: chunk.lines.length,
      alreadyPosted: false,
    };
  }

  return {
    system: SYSTEM,

    async health(): Promise<HealthStatus> {
      const started = Date.now();
      try {
        await odata('GET', 'BudgetRegisterEntryHeaders?$top=1&cross-company=true');
        return { system: SYSTEM, ok: true, latencyMs: Date.now() - started };
      } catch (err) {
        return { system: SYSTEM, ok: false, latencyMs: Date.now() - started, detail: (err as Error).message };
      }
    },

    publishBudgetChunk: (chunk, control) => post(chunk, control),

    async reverseBudgetChunk(reversal: BudgetChunkReversal, control?: CallControl): Promise<PostedDocument> {
      // A negative entry for an original the ERP does not hold (removed by hand, or a reset environment)
      // would unbalance the budget rather than restore it.
      const company = reversal.target.company;
      const original = await findHeader(company, reversal.originalIdempotencyKey);
      if (original?.Status !== 'Completed' && !(await findHeader(company, reversal.idempotencyKey))) {
        return {
          idempotencyKey: reversal.idempotencyKey,
          documentNumber: '',
          lineCount: 0,
          alreadyPosted: false,
          originalMissing: true,
        };
      }
      return post(
        { ...reversal, lines: reversal.lines.map((l) => ({ ...l, amount: negate(l.amount) })) },
        control,
      );
    },

    async fetchBudgetTotals(query, control?: CallControl): Promise<TargetBudgetTotal[]> {
      const { budgetModel } = budgetSettings(query.target);
      const lines = await readAll(
        'BudgetRegisterEntryLines',
        `dataAreaId eq ${odataString(query.target.company)} and BudgetModelId eq ${odataString(budgetModel)} and EntryStatus eq 'Completed' and Date ge ${query.fromDate} and Date le ${query.toDate}`,
        Line,
        undefined,
        control,
      );
      const totals = new Map<string, { display: string; date: string; currency: string; minor: bigint }>();
      for (const l of lines) {
        const date = l.Date.slice(0, 10);
        const k = `${l.AccountDisplayValue}|${date}|${l.CurrencyCode}`;
        const t = totals.get(k) ?? {
          display: l.AccountDisplayValue,
          date,
          currency: l.CurrencyCode,
          minor: 0n,
        };
        t.minor += toMinor(l.Amount, l.CurrencyCode);
        totals.set(k, t);
      }
      return [...totals.values()].map((t) => ({
        dimensions: parseDisplayValue(t.display),
        date: t.date,
        amount: { amount: fromMinor(t.minor, t.currency), currency: t.currency },
      }));
    },

    async fetchActualsPage(query: LedgerQuery, cursor?: string): Promise<ActualsPage> {
      let url = cursor;
      if (!url) {
        const filter = [
          `dataAreaId eq ${odataString(query.company)}`,
          `AccountingDate ge ${query.fromDate}`,
          `AccountingDate le ${query.toDate}`,
          ...(query.watermark ? [`RecId gt ${Number(query.watermark)}`] : []),
        ].join(' and ');
        url = `GeneralJournalAccountEntries?${new URLSearchParams({ 'cross-company': 'true', $filter: filter, $orderby: 'RecId asc' }).toString()}`;
      }
      const page = parseResponse(
        SYSTEM,
        'GET GeneralJournalAccountEntries',
        collection(LedgerEntry),
        await odata('GET', url, { maxPageSize: query.pageSize ?? config.pageSize }),
      );
      const highest = page.value.reduce((m, e) => Math.max(m, e.RecId), Number(query.watermark ?? 0));
      const priorHighest = cursor ? Number(new URL(cursor).searchParams.get('closeloop-watermark') ?? 0) : 0;
      const watermark = String(Math.max(highest, priorHighest));
      let next = page['@odata.nextLink'];
      // Carry the running watermark in the cursor so the last page can report the highest record id seen.
      if (next) {
        const u = new URL(next);
        u.searchParams.set('closeloop-watermark', watermark);
        next = u.toString();
      }
      return {
        lines: page.value.map((e) => ({
          documentId: e.JournalNumber,
          lineNo: e.LineNumber,
          revision: 0,
          dimensions: parseDisplayValue(e.LedgerAccount),
          postingDate: e.AccountingDate.slice(0, 10),
          amount: { amount: e.TransactionCurrencyAmount, currency: e.TransactionCurrencyCode },
          description: e.Text,
        })),
        cursor: next,
        watermark: page.value.length || cursor ? watermark : (query.watermark ?? ''),
      };
    },

    async fetchOpenCommitments(query: LedgerQuery, control?: CallControl): Promise<SourceCommitmentLine[]> {
      const rows = await readAll(
        'PurchaseOrderLinesV2',
        `dataAreaId eq ${odataString(query.company)} and PurchaseOrderLineStatus eq 'Backorder' and RequestedDeliveryDate ge ${query.fromDate} and RequestedDeliveryDate le ${query.toDate}`,
        PurchaseOrderLine,
        undefined,
        control,
      );
      return rows.map((r) => ({
        documentId: r.PurchaseOrderNumber,
        lineNo: r.LineNumber,
        revision: r.LineVersion,
        dimensions: parseDisplayValue(r.LedgerDimensionDisplayValue),
        date: r.RequestedDeliveryDate.slice(0, 10),
        openAmount: { amount: r.RemainingPurchaseAmount, currency: r.CurrencyCode },
      }));
    },
  };
}
