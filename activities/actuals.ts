import { Context } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import { actualDedupeKey } from '../domain/identity';
import { unmapSegments } from '../domain/mapping';
import { fromMinor, money, toMinor } from '../domain/money';
import { periodOfDate } from '../domain/reference';
import { type Tx } from '../db/client';
import { appendAudit } from '../db/queries/audit';
import { addToBalance } from '../db/queries/balances';
import { fiscalYearPeriods, getLegalEntity, loadMappings } from '../db/queries/reference';
import { actualLines, commitmentLines, syncWatermarks } from '../db/schema';
import { type ErpLedgerQuery } from './connectors/types';
import { type ActivityDeps, erpFor } from './deps';
import { notFound } from './failures';

export interface SyncInput {
  legalEntity: string;
  fiscalYear: number;
  correlationId: string;
}

export interface ActualsSyncResult {
  pages: number;
  inserted: number;
  /** Lines already ingested (same source, document, line and revision): they changed nothing. */
  duplicates: number;
  /** Lines whose ERP segments map to no canonical dimension, or fall outside the fiscal year. */
  unmapped: number;
  watermark: string;
}

export interface CommitmentsSyncResult {
  lines: number;
  changed: number;
  unchanged: number;
  released: number;
  unmapped: number;
}

const STREAM_ACTUALS = 'actuals';

/** Takes a stored commitment line's open amount back out of its balance. */
function releaseCommitment(tx: Tx, line: typeof commitmentLines.$inferSelect) {
  const key = {
    legalEntity: line.legalEntity,
    account: line.account,
    costCenter: line.costCenter,
    period: line.period,
    currency: line.currency,
  };
  return addToBalance(
    tx,
    key,
    'committed',
    fromMinor(-toMinor(line.openAmount, line.currency), line.currency),
  );
}

export function createActualsActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;

  async function context(input: SyncInput) {
    const entity = await getLegalEntity(db, input.legalEntity);
    if (!entity) throw notFound(`legal entity ${input.legalEntity} does not exist`);
    const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, input.fiscalYear);
    if (!periods.length)
      throw notFound(`no fiscal periods for ${entity.fiscalCalendar} FY${input.fiscalYear}`);
    const mappings = await loadMappings(db, entity.erpSystem);
    const query: ErpLedgerQuery = {
      company: entity.erpCompany,
      fromDate: periods[0]!.startDate,
      toDate: periods[periods.length - 1]!.endDate,
    };
    return { entity, periods, mappings, query, erp: erpFor(deps, entity.erpSystem) };
  }

  return {
    /**
     * Pulls posted ledger lines after the stored watermark, page by page. Each page commits its lines and
     * their balance effect in one transaction, and a line whose dedupe key is already stored changes
     * nothing: a retried page, a duplicate delivery or a reset replay cannot count spend twice.
     */
    async syncActuals(input: SyncInput): Promise<ActualsSyncResult> {
      const { entity, periods, mappings, query, erp } = await context(input);
      const [stored] = await db
        .select()
        .from(syncWatermarks)
        .where(
          and(
            eq(syncWatermarks.sourceSystem, entity.erpSystem),
            eq(syncWatermarks.legalEntity, entity.code),
            eq(syncWatermarks.stream, STREAM_ACTUALS),
          ),
        );
      const result: ActualsSyncResult = {
        pages: 0,
        inserted: 0,
        duplicates: 0,
        unmapped: 0,
        watermark: stored?.watermark ?? '',
      };
      let cursor: string | undefined;
      do {
        const page = await erp.fetchActualsPage({ ...query, watermark: stored?.watermark }, cursor);
        result.pages++;
        await db.transaction(async (tx) => {
          for (const line of page.lines) {
            const period = periodOfDate(line.postingDate, periods);
            const dims = unmapSegments(mappings, line, line.postingDate);
            if (!period || !dims) {
              result.unmapped++;
              continue;
            }
            const dedupeKey = actualDedupeKey({ sourceSystem: entity.erpSystem, ...line });
            const amount = money(line.amount, line.currency);
            const inserted = await tx
              .insert(actualLines)
              .values({
                dedupeKey,
                sourceSystem: entity.erpSystem,
                documentId: line.documentId,
                lineNo: line.lineNo,
                revision: line.revision,
                legalEntity: entity.code,
                account: dims.account,
                costCenter: dims.costCenter,
                period: period.period,
                postingDate: line.postingDate,
                amount: amount.amount,
                currency: amount.currency,
                description: line.description,
                correlationId: `${input.correlationId}:${dedupeKey}`,
              })
              .onConflictDoNothing()
              .returning({ key: actualLines.dedupeKey });
            if (!inserted.length) {
              result.duplicates++;
              continue;
            }
            result.inserted++;
            await addToBalance(
              tx,
              { legalEntity: entity.code, ...dims, period: period.period, currency: amount.currency },
              'actual',
              amount.amount,
            );
          }
        });
        result.watermark = page.watermark;
        cursor = page.cursor;
        Context.current().heartbeat({ pages: result.pages });
      } while (cursor);

      await db.transaction(async (tx) => {
        await tx
          .insert(syncWatermarks)
          .values({
            sourceSystem: entity.erpSystem,
            legalEntity: entity.code,
            stream: STREAM_ACTUALS,
            watermark: result.watermark,
          })
          .onConflictDoUpdate({
            target: [syncWatermarks.sourceSystem, syncWatermarks.legalEntity, syncWatermarks.stream],
            set: { watermark: result.watermark, updatedAt: new Date() },
          });
        if (result.inserted) {
          await appendAudit(tx, {
            actor: 'closeloop',
            action: 'actuals.ingested',
            entityType: 'legal_entity',
            entityId: entity.code,
            correlationId: input.correlationId,
            eventKey: `actuals:${entity.erpSystem}:${entity.code}:${result.watermark}`,
            details: { ...result },
          });
        }
      });
      return result;
    },

    /**
     * Open purchase-order commitments are a snapshot: a line's newer revision replaces its older amount
     * (the balance moves by the difference), the same revision again changes nothing, and a stored line
     * that is no longer open is released to zero.
     */
    async syncCommitments(input: SyncInput): Promise<CommitmentsSyncResult> {
      const { entity, periods, mappings, query, erp } = await context(input);
      const open = await erp.fetchOpenCommitments(query);
      const result: CommitmentsSyncResult = {
        lines: open.length,
        changed: 0,
        unchanged: 0,
        released: 0,
        unmapped: 0,
      };
      await db.transaction(async (tx) => {
        // Row locks on this entity's commitments serialise concurrent syncs of the same entity.
        const stored = await tx
          .select()
          .from(commitmentLines)
          .where(
            and(
              eq(commitmentLines.sourceSystem, entity.erpSystem),
              eq(commitmentLines.legalEntity, entity.code),
            ),
          )
          .for('update');
        const byKey = new Map(stored.map((s) => [`${s.documentId}:${s.lineNo}`, s]));
        const seen = new Set<string>();
        for (const line of open) {
          const period = periodOfDate(line.date, periods);
          const dims = unmapSegments(mappings, line, line.date);
          if (!period || !dims) {
            result.unmapped++;
            continue;
          }
          const key = `${line.documentId}:${line.lineNo}`;
          seen.add(key);
          const prev = byKey.get(key);
          if (prev && prev.revision >= line.revision) {
            result.unchanged++;
            continue;
          }
          const amount = money(line.openAmount, line.currency);
          const row = {
            sourceSystem: entity.erpSystem,
            documentId: line.documentId,
            lineNo: line.lineNo,
            revision: line.revision,
            legalEntity: entity.code,
            account: dims.account,
            costCenter: dims.costCenter,
            period: period.period,
            openAmount: amount.amount,
            currency: amount.currency,
            correlationId: `${input.correlationId}:${entity.erpSystem}:${key}:r${line.revision}`,
          };
          if (prev) await releaseCommitment(tx, prev);
          await tx
            .insert(commitmentLines)
            .values(row)
            .onConflictDoUpdate({
              target: [commitmentLines.sourceSystem, commitmentLines.documentId, commitmentLines.lineNo],
              set: { ...row, updatedAt: sql`now()` },
            });
          await addToBalance(
            tx,
            { legalEntity: entity.code, ...dims, period: period.period, currency: amount.currency },
            'committed',
            amount.amount,
          );
          result.changed++;
        }
        for (const prev of stored) {
          if (seen.has(`${prev.documentId}:${prev.lineNo}`) || toMinor(prev.openAmount, prev.currency) === 0n)
            continue;
          await releaseCommitment(tx, prev);
          await tx
            .update(commitmentLines)
            .set({ openAmount: '0', updatedAt: new Date() })
            .where(
              and(
                eq(commitmentLines.sourceSystem, prev.sourceSystem),
                eq(commitmentLines.documentId, prev.documentId),
                eq(commitmentLines.lineNo, prev.lineNo),
              ),
            );
          result.released++;
        }
      });
      return result;
    },
  };
}
