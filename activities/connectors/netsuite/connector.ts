import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { fromMinor, toMinor } from '../../../domain/money';
import { describeIssues } from '../../../domain/zod-issues';
import { probeHealth } from '../health';
import { protocolFailure } from '../http';
import {
  type BudgetChunkPublication,
  type CallControl,
  type ErpConnector,
  type PostedDocument,
  type TargetBudgetTotal,
  type TargetLocation,
} from '../types';
import {
  type FieldMap,
  readActualsPage,
  readCurrencyRates,
  readNetSuiteMasterData,
  readOpenOrderLines,
} from './books';
import { mapConcurrently } from '../concurrency';
import { createNetSuiteRest, type NetSuiteConfig, SYSTEM } from './rest';
import { Amount, Day, Flag, Id, OptionalId, isoDay, jsonWithAmounts, quoted } from './suiteql';

/**
 * NetSuite, both ways. As a budget target (the `annual-lines` posting model), an entity's approved budget is
 * written as `budgetImport` records: one per account, fiscal year and segment values, with an amount for each
 * period of the year (`periodamount1..N`, the N-th posting period of NetSuite's fiscal year, whatever its first
 * month). closeloop pivots its lines by period: a line whose period changed is sent whole, every period at what
 * it is to hold. The route's company is the subsidiary's internal ID; its settings name the budget category
 * (`category`, with Multiple Budgets on) and which NetSuite segment each canonical dimension is (`fields`,
 * `account=account,costCenter=department` by default; `class` and `location` are the others). NetSuite's budgets
 * do not stop spending: budget control for these entities stays in closeloop. As the books of an entity whose
 * subsidiary it is, its posted lines, open purchase orders, currency rates and master data are read (books.ts).
 */

const SEGMENTS = ['account', 'department', 'class', 'location'] as const;
const Settings = z.object({
  category: z.string().regex(/^\d+$/, 'must be a budget category internal ID').optional(),
  fields: z
    .string()
    .regex(/^\w+=(account|department|class|location)(,\w+=(account|department|class|location))*$/)
    .optional(),
});
const DEFAULT_FIELDS = 'account=account,costCenter=department';

export const fieldsOf = (settings: Readonly<Record<string, string>> | undefined): FieldMap =>
  Object.fromEntries(
    (settings?.fields ?? DEFAULT_FIELDS).split(',').map((p) => p.split('=') as [string, string]),
  );

function settingsOf(target: TargetLocation) {
  if ((target.postingModel ?? 'annual-lines') !== 'annual-lines')
    throw ApplicationFailure.nonRetryable(
      `${SYSTEM} holds budgets as annual lines (annual-lines); ${target.postingModel} is not one of its ways`,
      FailureType.ValidationFailed,
    );
  const parsed = Settings.safeParse(target.settings);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `the ${SYSTEM} route to subsidiary ${target.company}: ${describeIssues(parsed.error)}`,
      FailureType.ValidationFailed,
    );
  const fields = fieldsOf(target.settings);
  if (!Object.values(fields).includes('account'))
    throw ApplicationFailure.nonRetryable(
      `the ${SYSTEM} route to subsidiary ${target.company} maps no dimension to the account`,
      FailureType.ValidationFailed,
    );
  return { category: parsed.data.category, fields };
}

const Period = z.object({
  id: Id,
  startdate: Day,
  enddate: Day,
  isyear: Flag,
  isquarter: Flag,
  isadjust: Flag,
  closed: Flag,
});
type Period = z.infer<typeof Period>;
interface FiscalYear {
  id: string;
  startdate: string;
  enddate: string;
  /** Its posting periods in order: periodamountN is months[N-1]. */
  months: Period[];
}

const Currency = z.object({ id: Id, symbol: z.string().regex(/^[A-Z]{3}$/) });
const BudgetRow = z
  .object({ id: Id, period: Id, amount: Amount, currency: z.string().regex(/^[A-Z]{3}$/) })
  .passthrough();

/**
 * An idempotency key NetSuite takes (a UUID) made from closeloop's business key: the same business key always
 * gives the same UUID, so a retry or a reset sends the key NetSuite already knows.
 */
export function idempotencyUuid(businessKey: string): string {
  const h = createHash('sha256').update(`closeloop:${businessKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * One `budgetImport` record as JSON (REST record `budgetImport`, NetSuite help article_0305054912): the
 * subsidiary, fiscal year, budget category, currency and segments as references, and an amount for every posting
 * period of the year (`periodamountN`, zero where closeloop holds none), so the record holds what closeloop says
 * and nothing older. Amounts are written as their decimal literals, never through a float.
 */
export function budgetImportBody(r: {
  subsidiary: string;
  year: { id: string; months: readonly unknown[] };
  category?: string;
  currency: string;
  segments: Record<string, string>;
  /** Minor units by period number (1 = the year's first posting period). */
  amounts: ReadonlyMap<number, bigint>;
  currencyCode: string;
}): string {
  return jsonWithAmounts(
    {
      subsidiary: { id: r.subsidiary },
      year: { id: r.year.id },
      ...(r.category ? { category: { id: r.category } } : {}),
      currency: { id: r.currency },
      ...Object.fromEntries(Object.entries(r.segments).map(([f, v]) => [f, { id: v }])),
    },
    Object.fromEntries(
      r.year.months.map((_, i) => [
        `periodamount${i + 1}`,
        fromMinor(r.amounts.get(i + 1) ?? 0n, r.currencyCode),
      ]),
    ),
  );
}

/** Records a lane creates under one taking of the account's slots before they are let go. */
const RECORDS_PER_LANE_PER_LEASE = 4;

export function createNetSuiteConnector(config: NetSuiteConfig): ErpConnector {
  const rest = createNetSuiteRest(config);

  /** The account's fiscal years, each with its posting periods (adjustment periods are not budgeted). */
  async function fiscalYears(control?: CallControl): Promise<FiscalYear[]> {
    const rows = await rest.suiteql(
      () =>
        [
          'SELECT ap.id AS id,',
          `${isoDay('ap.startdate', 'startdate')}, ${isoDay('ap.enddate', 'enddate')},`,
          'ap.isyear AS isyear, ap.isquarter AS isquarter, ap.isadjust AS isadjust, ap.closed AS closed',
          'FROM accountingperiod ap ORDER BY ap.startdate',
        ].join(' '),
      { from: '2000-01-01', to: '2099-12-31' },
      control,
    );
    const periods = rows.map((raw) => {
      const p = Period.safeParse(raw);
      if (!p.success) throw protocolFailure(SYSTEM, `an accounting period: ${describeIssues(p.error)}`);
      return p.data;
    });
    const months = periods.filter((p) => !p.isyear && !p.isquarter && !p.isadjust);
    return periods
      .filter((p) => p.isyear)
      .map((y) => ({
        id: y.id,
        startdate: y.startdate,
        enddate: y.enddate,
        months: months
          .filter((m) => m.startdate >= y.startdate && m.enddate <= y.enddate)
          .sort((a, b) => (a.startdate < b.startdate ? -1 : 1)),
      }));
  }

  const yearOn = (years: FiscalYear[], day: string) => {
    const year = years.find((y) => y.startdate <= day && day <= y.enddate);
    const index = year?.months.findIndex((m) => m.startdate <= day && day <= m.enddate) ?? -1;
    if (!year || index < 0)
      throw ApplicationFailure.nonRetryable(
        `${SYSTEM} has no posting period on ${day}: set up the fiscal year's accounting periods first`,
        FailureType.ValidationFailed,
      );
    return { year, n: index + 1 };
  };

  async function currencies(control?: CallControl): Promise<Map<string, string>> {
    const rows = await rest.suiteql(
      () => 'SELECT c.id AS id, c.symbol AS symbol FROM currency c ORDER BY c.id',
      { from: '2000-01-01', to: '2099-12-31' },
      control,
    );
    return new Map(
      rows.map((raw) => {
        const c = Currency.safeParse(raw);
        if (!c.success) throw protocolFailure(SYSTEM, `a currency: ${describeIssues(c.error)}`);
        return [c.data.symbol, c.data.id];
      }),
    );
  }

  /**
   * Sets every line of a chunk whole: one `budgetImport` per account, year and segment values, each created once
   * under its own key (the chunk's key and the line's), asynchronously as NetSuite creates records under a key.
   */
  async function load(chunk: BudgetChunkPublication, control: CallControl = {}): Promise<PostedDocument> {
    const s = settingsOf(chunk.target);
    const [years, currencyIds] = await Promise.all([fiscalYears(control), currencies(control)]);
    const lines = new Map<
      string,
      { year: FiscalYear; segments: Record<string, string>; currency: string; amounts: Map<number, bigint> }
    >();
    for (const l of chunk.lines) {
      const { year, n } = yearOn(years, l.date);
      const segments: Record<string, string> = {};
      for (const [dimension, field] of Object.entries(s.fields)) {
        const value = l.dimensions[dimension];
        if (!value)
          throw ApplicationFailure.nonRetryable(
            `line ${l.lineNumber} has no ${dimension} for the ${SYSTEM} budget's ${field}`,
            FailureType.ValidationFailed,
          );
        segments[field] = value;
      }
      const key = [year.id, l.amount.currency, ...SEGMENTS.map((f) => segments[f] ?? '')].join('|');
      const line = lines.get(key) ?? { year, segments, currency: l.amount.currency, amounts: new Map() };
      line.amounts.set(n, (line.amounts.get(n) ?? 0n) + toMinor(l.amount.amount, l.amount.currency));
      lines.set(key, line);
    }
    const ordered = [...lines].sort(([a], [b]) => (a < b ? -1 : 1));
    // As many records at once as the account takes; each is created once under its own key, whatever the order.
    // Records are created a few per lane at a time under slots taken together (a record's requests follow one
    // another in its lane), rather than one slot taken for each of a record's four requests; the slots are let
    // go between batches, so the account's other callers (a reconciliation's reads) are not kept waiting long.
    const want = Math.min(config.concurrencyLimit ?? 1, Math.max(1, ordered.length));
    const createAll = (records: typeof ordered, lanes: number, c: CallControl) =>
      mapConcurrently(records, lanes, (record) => createRecord(record, c));
    const created: Awaited<ReturnType<typeof createRecord>>[] = [];
    // A caller's own slot (CallControl.slot) is taken for each request, as it asks.
    if (config.slots && !control.slot) {
      const batch = want * RECORDS_PER_LANE_PER_LEASE;
      for (let i = 0; i < ordered.length; i += batch) {
        const records = ordered.slice(i, i + batch);
        created.push(
          ...(await config.slots(Math.min(want, records.length), (taken) =>
            createAll(records, taken, { ...control, slot: (fn) => fn() }),
          )),
        );
      }
    } else created.push(...(await createAll(ordered, want, control)));
    const records = created.map((c) => c.record.split('/').pop() ?? c.record);
    const reused = created.filter((c) => c.reused).length;
    return {
      idempotencyKey: chunk.idempotencyKey,
      documentNumber: records.length
        ? `budgetImport ${records[0]}${records.length > 1 ? `…${records[records.length - 1]} (${records.length})` : ''}`
        : chunk.idempotencyKey,
      lineCount: chunk.lines.length,
      alreadyPosted: records.length > 0 && reused === records.length,
    };

    function createRecord([key, line]: (typeof ordered)[number], c: CallControl) {
      const currency = currencyIds.get(line.currency);
      if (!currency)
        throw ApplicationFailure.nonRetryable(
          `${SYSTEM} has no currency ${line.currency}`,
          FailureType.ValidationFailed,
        );
      const body = budgetImportBody({
        subsidiary: chunk.target.company,
        year: line.year,
        category: s.category,
        currency,
        segments: line.segments,
        amounts: line.amounts,
        currencyCode: line.currency,
      });
      return rest.createAsync('budgetImport', body, idempotencyUuid(`${chunk.idempotencyKey}|${key}`), c);
    }
  }

  return {
    system: SYSTEM,
    heldByCompany: ['company'],

    health: () =>
      probeHealth(SYSTEM, async () => {
        await rest.suiteqlPage('SELECT c.id AS id, c.symbol AS symbol FROM currency c ORDER BY c.id', 0);
      }),

    dimensionsHeld: (target) => ['company', ...Object.keys(settingsOf(target).fields)],

    publishBudgetChunk: load,
    // A line taken back is set to what it held before the chunk: the lines are those amounts already.
    reverseBudgetChunk: (reversal, control) => load(reversal, control),

    /** The periods NetSuite has closed: a budget line of a closed period is not changed by closeloop. */
    async periodsRefused(_target, days, control) {
      const years = await fiscalYears(control);
      return days.flatMap((day) => {
        const month = years.flatMap((y) => y.months).find((m) => m.startdate <= day && day <= m.enddate);
        return month?.closed
          ? [{ day, reason: `the accounting period starting ${month.startdate} is closed` }]
          : [];
      });
    },

    /** What the subsidiary's budgets of the category hold in the window, by posting period. */
    async fetchBudgetTotals(query, control): Promise<TargetBudgetTotal[]> {
      const s = settingsOf(query.target);
      const years = await fiscalYears(control);
      const starts = new Map(years.flatMap((y) => y.months.map((m) => [m.id, m.startdate] as const)));
      const inWindow = years.filter((y) => y.enddate >= query.fromDate && y.startdate <= query.toDate);
      const totals: TargetBudgetTotal[] = [];
      for (const year of inWindow) {
        const rows = await rest.suiteql(
          () =>
            [
              `SELECT b.id AS id, ${[...new Set(Object.values(s.fields))].map((f) => `b.${f} AS ${f}`).join(', ')},`,
              'bm.period AS period, bm.amount AS amount, c.symbol AS currency',
              'FROM budgets b JOIN budgetsmachine bm ON bm.budget = b.id JOIN currency c ON c.id = b.currency',
              `WHERE b.subsidiary = ${quoted(query.target.company)} AND b.year = ${quoted(year.id)}`,
              ...(s.category ? [`AND b.category = ${quoted(s.category)}`] : []),
              'ORDER BY b.id, bm.period',
            ].join(' '),
          { from: year.startdate, to: year.enddate },
          control,
        );
        for (const raw of rows) {
          const r = BudgetRow.safeParse(raw);
          if (!r.success) throw protocolFailure(SYSTEM, `a budget amount: ${describeIssues(r.error)}`);
          const date = starts.get(r.data.period);
          if (!date || date < query.fromDate || date > query.toDate) continue;
          const dimensions: Record<string, string> = {};
          for (const [dimension, field] of Object.entries(s.fields)) {
            const v = OptionalId.parse((raw as Record<string, unknown>)[field]);
            if (v) dimensions[dimension] = v;
          }
          totals.push({ dimensions, date, amount: { amount: r.data.amount, currency: r.data.currency } });
        }
      }
      return totals;
    },

    fetchActualsPage: (query, cursor) => readActualsPage(rest, query, fieldsOf(query.settings), cursor),
    fetchOpenCommitments: (query, control) =>
      readOpenOrderLines(rest, query, fieldsOf(query.settings), control),
    fetchExchangeRates: (query, control) => readCurrencyRates(rest, query.fromDate, control),
    fetchMasterData: (query, control) => readNetSuiteMasterData(rest, query, control),
  };
}
