import { loadControlModel } from '../db/queries/control-model';
import { consumptionFlows } from '../domain/budget-control';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import { ACTUALS_STREAM, processActualPage } from '../db/queries/actuals';
import { loadSourceContext, type SourceContext } from '../db/queries/source-lines';
import { canonicaliseSourceLine, type SourceActualRecord } from '../domain/source-lines';
import { sourceRecordKey } from '../domain/identity';
import {
  beginCommitmentSnapshot,
  COMMITMENTS_STREAM,
  commitmentRecordKey,
  openCommitmentLines,
  processCommitmentLine,
  releaseCommitmentLine,
  snapshotTime,
} from '../db/queries/commitments';
import { upsertFxRates } from '../db/queries/fx-rates';
import { deliveryAsOf, fiscalYearPeriods, getLegalEntity, openFiscalYears } from '../db/queries/reference';
import {
  cutoverOf,
  cutoversTouching,
  keepParallelActuals,
  type ParallelActualRow,
} from '../db/queries/cutovers';
import { booksErpOn, booksIn, today } from './books-erp';
import { keepMigrationJournal } from '../db/queries/actuals';
import { booksWindows, isMigrationJournal, parallelWindow } from '../domain/cutover';
import { FxRate } from '../domain/fx';
import { describeIssues } from '../domain/zod-issues';
import { auditSync, readWatermark, storeWatermark } from '../db/queries/watermarks';
import { type LedgerQuery } from './connectors/types';
import { type ActivityDeps, booksFor } from './deps';
import { notFound } from './failures';
import { protocolFailure } from './connectors/http';
import { withHeartbeat } from './heartbeat';

/** The group's exchange rates from one ERP: taken, or why not (its entities then take them themselves). */
export type GroupRatesSync = { erpSystem: string; legalEntities: string[] } & (
  { read: number; written: number } | { error: string }
);

export interface SyncInput {
  legalEntity: string;
  fiscalYear: number;
  correlationId: string;
  /** The day a snapshot (open orders) is as of, which decides the ERP read across a cut-over (default: today). */
  asOf?: string;
}

export interface ActualsSyncResult {
  pages: number;
  inserted: number;
  /** Lines already ingested (same source, document, line and revision): they changed nothing. */
  duplicates: number;
  /** Lines kept in the exception store with their error (unmapped, outside the calendar, foreign currency). */
  exceptions: number;
  watermark: string;
  /** Set when the entity takes its consumption from procurement events: the ERP sync left it alone. */
  skipped?: string;
  /** Lines of a cut-over's migration journals (opening balances, conversion): kept for support, never counted. */
  migrationJournals?: number;
  /** New lines of the ERP whose books do not count during a cut-over's parallel run: kept for comparison only. */
  comparisonOnly?: number;
}

/** A posted line kept for a parallel run's comparison: in the entity's canonical terms, or with why it cannot be. */
function parallelRow(ctx: SourceContext, l: SourceActualRecord): ParallelActualRow {
  const canonical = canonicaliseSourceLine(
    { dimensions: l.dimensions, date: l.postingDate, amount: l.amount },
    ctx,
  );
  return {
    recordKey: sourceRecordKey({ sourceSystem: ctx.sourceSystem, ...l }),
    sourceSystem: ctx.sourceSystem,
    legalEntity: ctx.legalEntity,
    postingDate: l.postingDate,
    line:
      'error' in canonical
        ? null
        : {
            dimensions: canonical.line.dimensions,
            period: canonical.line.period,
            amount: canonical.line.amount.amount,
            currency: canonical.line.amount.currency,
          },
    error: 'error' in canonical ? `${canonical.error.code}: ${canonical.error.message}` : null,
    payload: { ...l },
  };
}

export interface CommitmentsSyncResult {
  lines: number;
  changed: number;
  unchanged: number;
  released: number;
  exceptions: number;
  /** True when a newer snapshot had already been applied: this one changed nothing. */
  stale: boolean;
  skipped?: string;
}

const FROM_EVENTS = 'the entity takes these figures from consumption events, not its ERP';

export function createActualsActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;

  async function context(input: SyncInput) {
    const entity = await getLegalEntity(db, input.legalEntity);
    if (!entity) throw notFound(`legal entity ${input.legalEntity} does not exist`);
    const ctx = await loadSourceContext(db, entity, input.fiscalYear);
    const { periods } = ctx;
    if (!periods.length)
      throw notFound(`no fiscal periods for ${entity.fiscalCalendar} FY${input.fiscalYear}`);
    const window = { from: periods[0]!.startDate, to: periods[periods.length - 1]!.endDate };
    // The entity's own route to its ERP says how that company's lines read (its display value format).
    const query: LedgerQuery = {
      ...(await booksIn(db, entity, entity.erpSystem, window)),
      fromDate: window.from,
      toDate: window.to,
    };
    return { ctx, query, erp: booksFor(deps, entity.erpSystem), scope: `FY${input.fiscalYear}`, entity };
  }

  /**
   * Where a fiscal year's actuals are read: the entity's ERP, or, when a cut-over (domain/cutover) falls in the
   * year, each ERP for the days its books count, each window with its own company, form, mappings and
   * watermark, and for the ERP moved to, the journal sources and categories that are the migration's own. During
   * the parallel run the ERP whose books do not count is read too, for the comparison only.
   */
  async function booksWindowsOf(input: SyncInput) {
    const base = await context(input);
    const { entity } = base;
    const whole = { from: base.query.fromDate, to: base.query.toDate };
    const [cut] = await cutoversTouching(db, input.legalEntity, whole);
    const windows = cut ? booksWindows(cut, whole) : [];
    const parallel = cut ? parallelWindow(cut, whole) : null;
    if (!cut || (!parallel && windows.length === 1 && windows[0]!.system === entity.erpSystem))
      return [{ ...base, conversion: [] as string[], comparisonFor: undefined as string | undefined }];
    const read = async (w: { system: string; from: string; to: string }, comparison: boolean) => {
      const ctx = await loadSourceContext(db, { ...entity, erpSystem: w.system }, input.fiscalYear);
      const query: LedgerQuery = {
        ...(await booksIn(db, entity, w.system, w)),
        fromDate: w.from,
        toDate: w.to,
      };
      return {
        ctx,
        query,
        erp: booksFor(deps, w.system),
        scope: comparison ? `FY${input.fiscalYear}:parallel:${w.from}` : `FY${input.fiscalYear}:${w.from}`,
        conversion: w.system === cut.toTarget ? cut.conversionSources : [],
        comparisonFor: comparison ? cut.id : undefined,
      };
    };
    return Promise.all([...windows.map((w) => read(w, false)), ...(parallel ? [read(parallel, true)] : [])]);
  }

  /**
   * Pulls one books window's posted ledger lines after its watermark, page by page. Each page commits its lines
   * (or keeps the ones that cannot be counted, with their error) and their balance effect in one transaction; a
   * line already stored changes nothing; a migration's own journal is kept for support, discarded, never
   * counted. The heartbeat carries the cursor of the next page, so a retry after a lost worker resumes there.
   */
  async function syncWindow(
    w: Awaited<ReturnType<typeof booksWindowsOf>>[number],
    correlationId: string,
  ): Promise<ActualsSyncResult> {
    const { ctx, query, erp, scope } = w;
    const mark = {
      sourceSystem: ctx.sourceSystem,
      legalEntity: ctx.legalEntity,
      stream: ACTUALS_STREAM,
      scope,
    };
    const stored = await readWatermark(db, mark);
    return withHeartbeat(async ({ progress, resumeFrom }) => {
      const resumed =
        resumeFrom?.scope === scope
          ? (resumeFrom as Partial<ActualsSyncResult> & { cursor?: string })
          : undefined;
      const result: ActualsSyncResult = {
        pages: resumed?.pages ?? 0,
        inserted: resumed?.inserted ?? 0,
        duplicates: resumed?.duplicates ?? 0,
        exceptions: resumed?.exceptions ?? 0,
        watermark: resumed?.watermark ?? stored ?? '',
        ...(resumed?.comparisonOnly ? { comparisonOnly: resumed.comparisonOnly } : {}),
      };
      let cursor = resumed?.cursor;
      do {
        let page;
        try {
          page = await erp.fetchActualsPage({ ...query, watermark: stored }, cursor);
        } catch (err) {
          // A cursor from a lost attempt the source no longer honours: start again from the watermark.
          if (
            !resumed ||
            !cursor ||
            !(err instanceof ApplicationFailure) ||
            err.type !== FailureType.ConnectorRejected
          )
            throw err;
          cursor = undefined;
          continue;
        }
        const migration = page.lines.filter((l) => isMigrationJournal(l, w.conversion));
        const lines = migration.length ? page.lines.filter((l) => !migration.includes(l)) : page.lines;
        const counted = await db.transaction(async (tx) => {
          for (const l of migration) await keepMigrationJournal(tx, ctx, l, correlationId);
          if (!w.comparisonFor) return processActualPage(tx, ctx, lines, correlationId);
          const kept = await keepParallelActuals(
            tx,
            w.comparisonFor,
            lines.map((l) => parallelRow(ctx, l)),
            correlationId,
          );
          result.comparisonOnly = (result.comparisonOnly ?? 0) + kept;
          return { inserted: 0, duplicates: lines.length - kept, exceptions: 0 };
        });
        result.inserted += counted.inserted;
        result.duplicates += counted.duplicates;
        result.exceptions += counted.exceptions;
        if (migration.length) result.migrationJournals = (result.migrationJournals ?? 0) + migration.length;
        result.pages++;
        result.watermark = page.watermark;
        cursor = page.cursor;
        progress({ scope, ...result, cursor });
      } while (cursor);

      await db.transaction(async (tx) => {
        await storeWatermark(tx, mark, result.watermark, 'replace');
        // Audited even when nothing was new: the trail shows that the cycle looked, and up to where.
        await auditSync(tx, mark, {
          action: 'actuals.ingested',
          mark: result.watermark,
          correlationId,
          details: {
            inserted: result.inserted,
            duplicates: result.duplicates,
            exceptions: result.exceptions,
            ...(result.migrationJournals ? { migrationJournals: result.migrationJournals } : {}),
            ...(w.comparisonFor
              ? { comparisonOnly: result.comparisonOnly ?? 0, cutover: w.comparisonFor }
              : {}),
          },
        });
      });
      return result;
    });
  }

  /**
   * Where a snapshot of open orders is read: the ERP whose books count on its day. Across a cut-over the orders
   * move with the books, so a stored open line of either ERP that the snapshot no longer holds is released: the
   * old ERP's orders, migrated to the new one, are not counted twice.
   */
  async function snapshotSource(input: SyncInput) {
    const base = await context(input);
    const books = await booksErpOn(db, base.entity, input.asOf ?? today());
    const cut = books.cutoverId ? await cutoverOf(db, books.cutoverId) : undefined;
    const moved = books.system !== base.entity.erpSystem;
    const ctx = moved
      ? await loadSourceContext(db, { ...base.entity, erpSystem: books.system }, input.fiscalYear)
      : base.ctx;
    return {
      ...base,
      ctx,
      query: moved
        ? { ...base.query, company: books.company, ...(books.settings ? { settings: books.settings } : {}) }
        : base.query,
      erp: moved ? booksFor(deps, books.system) : base.erp,
      released: cut ? [...new Set([cut.fromTarget, cut.toTarget])] : [ctx.sourceSystem],
    };
  }

  /** Which of the entity's figures its ERP's syncs bring (the others come from consumption events). */
  const flowsOf = async (legalEntity: string) =>
    consumptionFlows((await loadControlModel(db, legalEntity))?.consumptionSource ?? 'erp');

  /** Rates still valid from the start of the entity's earliest open fiscal year (today when none is open). */
  async function ratesFrom(entity: { code: string; fiscalCalendar: string }): Promise<string> {
    const [first] = await openFiscalYears(db, entity.code);
    const periods = first === undefined ? [] : await fiscalYearPeriods(db, entity.fiscalCalendar, first);
    return periods[0]?.startDate ?? today();
  }

  async function takeRates(erpSystem: string, fromDate: string) {
    const read = await booksFor(deps, erpSystem).fetchExchangeRates({ fromDate });
    const rates = read.map((r, i) => {
      const parsed = FxRate.safeParse(r);
      if (!parsed.success)
        throw protocolFailure(erpSystem, `exchange rate ${i + 1}: ${describeIssues(parsed.error)}`);
      return parsed.data;
    });
    return { read: rates.length, written: await upsertFxRates(db, rates, erpSystem) };
  }

  return {
    /**
     * Takes the exchange rates of the ERP whose books count today (those still valid from the start of the
     * earliest open fiscal year), so lines in other currencies are converted with the rates the ERP itself uses. Rates are replaced only
     * where the ERP changed them.
     */
    async syncExchangeRates(input: { legalEntity: string }): Promise<{ read: number; written: number }> {
      const entity = await getLegalEntity(db, input.legalEntity);
      if (!entity) throw notFound(`legal entity ${input.legalEntity} does not exist`);
      return takeRates((await booksErpOn(db, entity, today())).system, await ratesFrom(entity));
    },

    /**
     * The group close takes the exchange rates once per ERP for all its entities (one set of rates for every
     * entity's close), from the start of the earliest open fiscal year among them. An ERP whose rates cannot
     * be read now is reported, not thrown: its entities' own final syncs take the rates, with their retries.
     */
    async syncGroupExchangeRates(input: { legalEntities: string[] }): Promise<GroupRatesSync[]> {
      const byErp = new Map<string, { legalEntities: string[]; fromDate: string }>();
      for (const code of input.legalEntities) {
        const entity = await getLegalEntity(db, code);
        if (!entity) throw notFound(`legal entity ${code} does not exist`);
        const fromDate = await ratesFrom(entity);
        const { system } = await booksErpOn(db, entity, today());
        const erp = byErp.get(system) ?? { legalEntities: [], fromDate };
        erp.legalEntities.push(code);
        if (fromDate < erp.fromDate) erp.fromDate = fromDate;
        byErp.set(system, erp);
      }
      const out: GroupRatesSync[] = [];
      for (const [erpSystem, { legalEntities, fromDate }] of byErp) {
        try {
          out.push({ erpSystem, legalEntities, ...(await takeRates(erpSystem, fromDate)) });
        } catch (err) {
          out.push({ erpSystem, legalEntities, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return out;
    },

    /** The fiscal years a standing sync of the entity covers: those with a period still open. */
    async openFiscalYears(input: { legalEntity: string }): Promise<number[]> {
      return openFiscalYears(db, input.legalEntity);
    },

    /** The period a year's figures are delivered to planning as of, once synced (null: none yet). */
    async deliveryAsOf(input: { legalEntity: string; fiscalYear: number }): Promise<string | null> {
      return deliveryAsOf(db, input.legalEntity, input.fiscalYear);
    },

    /**
     * Pulls posted ledger lines of one fiscal year after that year's watermark, page by page. Each page
     * commits its lines (or keeps the ones that cannot be counted, with their error) and their balance
     * effect in one transaction; a line already stored changes nothing. The heartbeat carries the cursor of
     * the next page, so a retry after a lost worker resumes there.
     */
    async syncActuals(input: SyncInput): Promise<ActualsSyncResult> {
      if (!(await flowsOf(input.legalEntity)).erpActuals) {
        return { pages: 0, inserted: 0, duplicates: 0, exceptions: 0, watermark: '', skipped: FROM_EVENTS };
      }
      const total: ActualsSyncResult = { pages: 0, inserted: 0, duplicates: 0, exceptions: 0, watermark: '' };
      for (const window of await booksWindowsOf(input)) {
        const r = await syncWindow(window, input.correlationId);
        total.pages += r.pages;
        total.inserted += r.inserted;
        total.duplicates += r.duplicates;
        total.exceptions += r.exceptions;
        if (r.comparisonOnly !== undefined)
          total.comparisonOnly = (total.comparisonOnly ?? 0) + r.comparisonOnly;
        else total.watermark = r.watermark;
        if (r.migrationJournals)
          total.migrationJournals = (total.migrationJournals ?? 0) + r.migrationJournals;
      }
      return total;
    },

    /**
     * Open purchase-order commitments are a snapshot: applied whole, one snapshot at a time per entity and
     * year, and only when newer than the last one applied. A line's newer revision replaces its older
     * amount (the balance moves by the difference), the same line again changes nothing, and a stored line
     * the snapshot no longer holds is released to zero. Every change is decided by the database.
     */
    async syncCommitments(input: SyncInput): Promise<CommitmentsSyncResult> {
      if (!(await flowsOf(input.legalEntity)).erpCommitments) {
        return {
          lines: 0,
          changed: 0,
          unchanged: 0,
          released: 0,
          exceptions: 0,
          stale: false,
          skipped: FROM_EVENTS,
        };
      }
      const { ctx, query, erp, scope, released } = await snapshotSource(input);
      return withHeartbeat(async ({ progress }) => {
        const takenAt = await snapshotTime(db);
        // The snapshot of this fiscal year: lines dated in another year belong to that year's sync.
        const open = (await erp.fetchOpenCommitments(query, { progress })).filter(
          (l) => l.date >= query.fromDate && l.date <= query.toDate,
        );
        const result: CommitmentsSyncResult = {
          lines: open.length,
          changed: 0,
          unchanged: 0,
          released: 0,
          exceptions: 0,
          stale: false,
        };
        await db.transaction(async (tx) => {
          const mark = {
            sourceSystem: ctx.sourceSystem,
            legalEntity: ctx.legalEntity,
            stream: COMMITMENTS_STREAM,
            scope,
          };
          if (!(await beginCommitmentSnapshot(tx, mark, takenAt))) {
            result.stale = true;
            return;
          }
          const seen = new Set<string>();
          for (const [i, line] of open.entries()) {
            seen.add(commitmentRecordKey(ctx.sourceSystem, line));
            const outcome = await processCommitmentLine(tx, ctx, line, input.correlationId);
            if (outcome === 'inserted' || outcome === 'replaced') result.changed++;
            else if (outcome === 'unchanged' || outcome === 'closed') result.unchanged++;
            else result.exceptions++;
            if (i % 200 === 0) progress({ applied: i });
          }
          const periods = new Set(ctx.periods.map((p) => p.period));
          for (const system of released)
            for (const stored of await openCommitmentLines(tx, system, ctx.legalEntity)) {
              if (!periods.has(stored.period) || seen.has(commitmentRecordKey(stored.sourceSystem, stored)))
                continue;
              if (await releaseCommitmentLine(tx, { ...stored, correlationId: input.correlationId }))
                result.released++;
            }
          await auditSync(tx, mark, {
            action: 'commitments.synced',
            mark: takenAt,
            correlationId: input.correlationId,
            details: {
              lines: result.lines,
              changed: result.changed,
              released: result.released,
              exceptions: result.exceptions,
            },
          });
        });
        return result;
      });
    },
  };
}
