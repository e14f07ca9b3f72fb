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
import { midpoint, nextDay, type NetSuiteRest, SYSTEM } from './rest';
import { Amount, Day, Flag, Id, OptionalId, dateLiteral, isoDay, quoted } from './suiteql';

/**
 * NetSuite as the system of record of an acquired subsidiary's books, read with SuiteQL: posted accounting
 * lines (`transactionaccountingline` with its transaction and line), open purchase order lines, the currency
 * rates, accounts and departments. The entity's company is its subsidiary's internal ID; its route says which
 * NetSuite segment each canonical dimension is (`fields`: account, department, class, location).
 */

export type FieldMap = Record<string, string>;

/** Account types whose postings are budgeted: income statement accounts (NetSuite's `accttype` values). */
const PROFIT_AND_LOSS = ['Income', 'OthIncome', 'COGS', 'Expense', 'OthExpense'];

const dimensionsOf = (row: Record<string, unknown>, fields: FieldMap) => {
  const out: Record<string, string> = {};
  for (const [dimension, field] of Object.entries(fields)) {
    const v = row[field];
    if ((typeof v === 'string' && v) || typeof v === 'number') out[dimension] = String(v);
  }
  return out;
};

/** The segment columns a query selects: department, class and location from the line, the account as given. */
const segmentColumns = (fields: FieldMap, account: string) =>
  [...new Set(Object.values(fields))].map((f) =>
    f === 'account' ? `${account} AS account` : `tl.${f} AS ${f}`,
  );

// ---- actuals ------------------------------------------------------------------------------------------------

const PostedLine = z
  .object({
    transaction: Id,
    line: z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(Number),
    trandate: Day,
    lastmodified: Day,
    amount: Amount,
    currency: z.string().regex(/^[A-Z]{3}$/),
    memo: z.string().nullish(),
  })
  .passthrough();

/** Where a read of the actuals is: the date windows still to read (the first being read) and the offset in it. */
const Cursor = z.object({
  windows: z.array(z.object({ from: Day, to: Day })).min(1),
  offset: z.number().int().nonnegative(),
  highest: z.string(),
});

/**
 * The subsidiary's posted income statement lines dated in a window and last modified on or after the
 * watermark's day, in the subsidiary's currency (`transactionaccountingline.amount` is in the accounting book's
 * currency, the subsidiary's). A line is its transaction's accounting line: transaction ID, line ID, revision 0.
 */
function actualsQuery(query: LedgerQuery, fields: FieldMap, window: { from: string; to: string }) {
  return [
    'SELECT tal.transaction AS transaction, tal.transactionline AS line,',
    `${isoDay('t.trandate', 'trandate')}, ${isoDay('t.lastmodifieddate', 'lastmodified')},`,
    `${segmentColumns(fields, 'tal.account').join(', ')}, tal.amount AS amount, c.symbol AS currency, tl.memo AS memo`,
    'FROM transactionaccountingline tal',
    'JOIN transaction t ON t.id = tal.transaction',
    'JOIN transactionline tl ON tl.transaction = tal.transaction AND tl.id = tal.transactionline',
    'JOIN account a ON a.id = tal.account',
    'JOIN subsidiary s ON s.id = tl.subsidiary',
    'JOIN currency c ON c.id = s.currency',
    `WHERE tal.posting = 'T' AND tl.subsidiary = ${quoted(query.company)}`,
    `AND a.accttype IN (${PROFIT_AND_LOSS.map(quoted).join(', ')})`,
    `AND t.trandate BETWEEN ${dateLiteral(window.from)} AND ${dateLiteral(window.to)}`,
    ...(query.watermark ? [`AND t.lastmodifieddate >= ${dateLiteral(query.watermark)}`] : []),
    'ORDER BY tal.transaction, tal.transactionline',
  ].join(' ');
}

/**
 * One page of the actuals. A window with more rows than NetSuite serves of one query is halved, and each half
 * read in turn (down to one day); the cursor carries the windows still to read. The watermark is the latest
 * modification day read: that day is read again and its lines count once.
 */
export async function readActualsPage(
  rest: NetSuiteRest,
  query: LedgerQuery,
  fields: FieldMap,
  cursor: string | undefined,
): Promise<ActualsPage> {
  let at: z.infer<typeof Cursor> = {
    windows: [{ from: query.fromDate, to: query.toDate }],
    offset: 0,
    highest: query.watermark ?? '',
  };
  if (cursor) {
    const parsed = Cursor.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (!parsed.success) throw protocolFailure(SYSTEM, 'the actuals cursor is not one this adapter wrote');
    at = parsed.data;
  }
  for (;;) {
    const [window, ...rest_] = at.windows as [
      { from: string; to: string },
      ...{ from: string; to: string }[],
    ];
    const page = await rest.suiteqlPage(actualsQuery(query, fields, window), at.offset);
    if (at.offset === 0 && page.overCap) {
      if (window.from === window.to)
        throw protocolFailure(
          SYSTEM,
          `one day (${window.from}) has more posted lines than one SuiteQL query serves`,
        );
      const middle = midpoint(window.from, window.to);
      at = {
        ...at,
        windows: [{ from: window.from, to: middle }, { from: nextDay(middle), to: window.to }, ...rest_],
      };
      continue;
    }
    const lines = page.rows.map((raw) => {
      const r = PostedLine.safeParse(raw);
      if (!r.success) throw protocolFailure(SYSTEM, `a posted line: ${describeIssues(r.error)}`);
      return { row: r.data, raw };
    });
    let highest = at.highest;
    for (const { row } of lines) if (row.lastmodified > highest) highest = row.lastmodified;
    const next = page.hasMore
      ? { windows: at.windows, offset: at.offset + page.rows.length, highest }
      : rest_.length
        ? { windows: rest_, offset: 0, highest }
        : undefined;
    return {
      lines: lines.map(({ row, raw }) => ({
        documentId: row.transaction,
        lineNo: row.line,
        revision: 0,
        dimensions: dimensionsOf(raw, fields),
        postingDate: row.trandate,
        amount: { amount: row.amount, currency: row.currency },
        description: row.memo || undefined,
      })),
      cursor: next ? Buffer.from(JSON.stringify(next)).toString('base64url') : undefined,
      watermark: highest,
    };
  }
}

// ---- purchase orders ----------------------------------------------------------------------------------------

const OrderLine = z
  .object({
    transaction: Id,
    line: z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(Number),
    duedate: Day.nullish(),
    trandate: Day,
    quantity: Amount,
    quantitybilled: Amount.nullish(),
    rate: Amount,
    currency: z.string().regex(/^[A-Z]{3}$/),
  })
  .passthrough();

/**
 * The open amount of every line of the subsidiary's purchase orders not yet billed in full. NetSuite keeps what a
 * line orders (`quantity` at `rate`) and how much of it has been billed (`quantitybilled`); what is still open is
 * the quantity not billed at the line's rate. Closed and fully billed orders (status G and H) are not read; a line
 * is dated by its expected receipt (`expectedreceiptdate`), else the order's date.
 */
export async function readOpenOrderLines(
  rest: NetSuiteRest,
  query: LedgerQuery,
  fields: FieldMap,
  control?: CallControl,
): Promise<SourceCommitmentLine[]> {
  const rows = await rest.suiteql(
    (w) =>
      [
        'SELECT t.id AS transaction, tl.id AS line,',
        `${isoDay('t.trandate', 'trandate')}, ${isoDay('tl.expectedreceiptdate', 'duedate')},`,
        `${segmentColumns(fields, 'tl.expenseaccount').join(', ')}, tl.quantity AS quantity,`,
        'tl.quantitybilled AS quantitybilled, tl.rate AS rate, c.symbol AS currency',
        'FROM transaction t JOIN transactionline tl ON tl.transaction = t.id',
        'JOIN currency c ON c.id = t.currency',
        `WHERE t.type = 'PurchOrd' AND tl.mainline = 'F' AND tl.subsidiary = ${quoted(query.company)}`,
        `AND t.status NOT IN ('G', 'H')`,
        `AND t.trandate BETWEEN ${dateLiteral(w.from)} AND ${dateLiteral(w.to)}`,
        'ORDER BY t.id, tl.id',
      ].join(' '),
    // Orders placed before the window can still be open in it.
    { from: '2000-01-01', to: query.toDate },
    control,
  );
  const out: SourceCommitmentLine[] = [];
  for (const raw of rows) {
    const r = OrderLine.safeParse(raw);
    if (!r.success) throw protocolFailure(SYSTEM, `a purchase order line: ${describeIssues(r.error)}`);
    const l = r.data;
    const open = multiply(subtract(l.quantity, l.quantitybilled ?? '0'), l.rate, l.currency);
    if (open <= 0n) continue;
    out.push({
      documentId: l.transaction,
      lineNo: l.line,
      revision: 0,
      dimensions: dimensionsOf(raw, fields),
      date: l.duedate ?? l.trandate,
      openAmount: { amount: fromMinor(open, l.currency), currency: l.currency },
    });
  }
  return out;
}

/** Decimal text as a scaled integer (6 places, the most a quantity or rate carries here). */
const scaled = (v: string) => {
  const neg = v.startsWith('-');
  const [w, f = ''] = v.replace('-', '').split('.');
  const n = BigInt(w!) * 1_000_000n + BigInt(f.padEnd(6, '0').slice(0, 6));
  return neg ? -n : n;
};
const subtract = (a: string, b: string) => scaled(a) - scaled(b);
/** quantity (scaled) × rate, in the currency's minor units, rounded half away from zero. */
function multiply(quantity: bigint, rate: string, currency: string): bigint {
  const unit = toMinor('1', currency);
  const product = quantity * scaled(rate) * unit;
  const divisor = 1_000_000n * 1_000_000n;
  const half = divisor / 2n;
  return product >= 0n ? (product + half) / divisor : -((-product + half) / divisor);
}

// ---- exchange rates -----------------------------------------------------------------------------------------

const Rate = z.object({
  basecurrency: z.string().regex(/^[A-Z]{3}$/),
  transactioncurrency: z.string().regex(/^[A-Z]{3}$/),
  exchangerate: Amount,
  effectivedate: Day,
});

/**
 * NetSuite's currency exchange rates (`currencyrate`: how many units of the base currency one unit of the
 * transaction currency is worth, from its effective date until the next), as closeloop's spot rates. NetSuite's
 * consolidated rates (average, historical) are rates between subsidiaries, not between currencies, and are not read.
 */
export async function readCurrencyRates(
  rest: NetSuiteRest,
  fromDate: string,
  control?: CallControl,
): Promise<SourceExchangeRate[]> {
  const rows = await rest.suiteql(
    (w) =>
      [
        'SELECT b.symbol AS basecurrency, tc.symbol AS transactioncurrency, cr.exchangerate AS exchangerate,',
        isoDay('cr.effectivedate', 'effectivedate'),
        'FROM currencyrate cr JOIN currency b ON b.id = cr.basecurrency',
        'JOIN currency tc ON tc.id = cr.transactioncurrency',
        `WHERE cr.effectivedate BETWEEN ${dateLiteral(w.from)} AND ${dateLiteral(w.to)}`,
        'ORDER BY cr.effectivedate',
      ].join(' '),
    { from: '2000-01-01', to: '2099-12-31' },
    control,
  );
  const series = new Map<string, z.infer<typeof Rate>[]>();
  for (const raw of rows) {
    const r = Rate.safeParse(raw);
    if (!r.success) throw protocolFailure(SYSTEM, `a currency rate: ${describeIssues(r.error)}`);
    const key = `${r.data.transactioncurrency}|${r.data.basecurrency}`;
    series.set(key, [...(series.get(key) ?? []), r.data]);
  }
  const out: SourceExchangeRate[] = [];
  for (const list of series.values()) {
    list.sort((a, b) => (a.effectivedate < b.effectivedate ? -1 : 1));
    list.forEach((r, i) => {
      const validTo = list[i + 1]?.effectivedate ?? null;
      if (validTo !== null && validTo <= fromDate) return;
      out.push({
        rateType: 'spot',
        from: r.transactioncurrency,
        to: r.basecurrency,
        validFrom: r.effectivedate,
        validTo,
        rate: r.exchangerate,
      });
    });
  }
  return out;
}

// ---- master data --------------------------------------------------------------------------------------------

const Account = z.object({
  id: Id,
  acctnumber: z.string().nullish(),
  fullname: z.string().min(1),
  accttype: z.string(),
  isinactive: Flag,
});
const Department = z.object({
  id: Id,
  name: z.string().min(1),
  parent: OptionalId,
  isinactive: Flag,
});
const KIND_OF: Record<string, SourceMasterRecord['kind']> = {
  Income: 'revenue',
  OthIncome: 'revenue',
  COGS: 'expense',
  Expense: 'expense',
  OthExpense: 'expense',
};

/**
 * The accounts available to the subsidiary and its departments (closeloop's cost centers, with the department
 * hierarchy as their parents), each by its internal ID: what the route's fields and the mappings name.
 */
export async function readNetSuiteMasterData(
  rest: NetSuiteRest,
  query: { company: string },
  control?: CallControl,
): Promise<(SourceMasterRecord | { invalid: unknown; reason: string })[]> {
  const all = { from: '2000-01-01', to: '2099-12-31' };
  const out: (SourceMasterRecord | { invalid: unknown; reason: string })[] = [];
  const accounts = await rest.suiteql(
    () =>
      'SELECT a.id AS id, a.acctnumber AS acctnumber, a.fullname AS fullname, a.accttype AS accttype, a.isinactive AS isinactive FROM account a ORDER BY a.id',
    all,
    control,
  );
  for (const raw of accounts) {
    const a = Account.safeParse(raw);
    if (!a.success) {
      out.push({ invalid: raw, reason: `account: ${describeIssues(a.error)}` });
      continue;
    }
    const kind = KIND_OF[a.data.accttype];
    out.push({
      dimension: 'account',
      sourceValue: a.data.id,
      name: a.data.fullname,
      ...(kind ? { kind } : {}),
      suspended: a.data.isinactive,
      activeFrom: null,
      activeTo: null,
    });
  }
  const departments = await rest.suiteql(
    () =>
      `SELECT d.id AS id, d.name AS name, d.parent AS parent, d.isinactive AS isinactive FROM department d WHERE d.subsidiary = ${quoted(query.company)} ORDER BY d.id`,
    all,
    control,
  );
  for (const raw of departments) {
    const d = Department.safeParse(raw);
    if (!d.success) {
      out.push({ invalid: raw, reason: `department: ${describeIssues(d.error)}` });
      continue;
    }
    out.push({
      dimension: 'costCenter',
      sourceValue: d.data.id,
      name: d.data.name,
      suspended: d.data.isinactive,
      activeFrom: null,
      activeTo: null,
      parent: d.data.parent ?? null,
      parentFrom: null,
    });
  }
  control?.progress?.({ records: out.length });
  return out;
}
