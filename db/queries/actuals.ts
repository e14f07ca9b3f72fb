import { and, eq, inArray, sql } from 'drizzle-orm';
import { auditStream, sourceRecordKey } from '../../domain/identity';
import {
  type CanonicalSourceLine,
  canonicaliseSourceLine,
  SourceActualRecord,
} from '../../domain/source-lines';
import { type Database, type Tx } from '../client';
import { actualLines, sourceExceptions } from '../schema';
import { addToBalance } from './balances';
import { controlBudgetsOfFacts, countedAmount, lockControlBudgets } from './control-budget-balances';
import { type SourceContext, sourceLineRow } from './source-lines';
import {
  closeSourceException,
  keepSourceException,
  keepUncountableLine,
  openSourceExceptions,
  type ReplayRequest,
} from './source-exceptions';

export const ACTUALS_STREAM = 'actuals' as const;

export interface PostedLineRecord {
  sourceSystem: string;
  legalEntity: string;
  /** Business identity (source + document + line + revision); see sourceRecordKey. */
  recordKey: string;
  documentId: string;
  lineNo: number;
  revision: number;
  postingDate: string;
  description?: string;
  correlationId: string;
}

/**
 * Ingests one posted ledger line and its balance effect. The insert decides: a line whose identity is
 * already stored inserts nothing and changes no balance, so a retried page, a duplicate delivery or a reset
 * replay never counts spend twice. An open exception for the same record is closed as it goes through.
 */
export async function ingestActualLine(
  tx: Tx,
  r: PostedLineRecord,
  line: CanonicalSourceLine,
  closeAs: { status: 'reprocessed' | 'resolved'; by: string } = { status: 'resolved', by: 'closeloop' },
): Promise<'inserted' | 'duplicate'> {
  const inserted = await tx
    .insert(actualLines)
    .values({
      dedupeKey: r.recordKey,
      ...sourceLineRow(r, line),
      postingDate: r.postingDate,
      amount: line.amount.amount,
      currency: line.amount.currency,
      description: r.description,
      routedFromPeriod: line.routedFrom,
      correlationId: r.correlationId,
    })
    .onConflictDoNothing()
    .returning({ key: actualLines.dedupeKey });
  if (!inserted.length) return 'duplicate';
  await addToBalance(
    tx,
    {
      legalEntity: r.legalEntity,
      account: line.dimensions.account,
      costCenter: line.dimensions.costCenter ?? '',
      period: line.period,
      currency: line.amount.currency,
      dimensions: line.dimensions,
    },
    'actual',
    line.amount.amount,
  );
  await closeSourceException(tx, {
    sourceSystem: r.sourceSystem,
    stream: ACTUALS_STREAM,
    recordKey: r.recordKey,
    status: closeAs.status,
    by: closeAs.by,
    correlationId: r.correlationId,
    auditStream: auditStream.actuals(r.legalEntity),
  });
  return 'inserted';
}

/**
 * A journal line the migration posted in the new ERP (an opening balance, a conversion): not spend, so never an
 * actual; kept, discarded, in the exception store, where support sees it and no replay counts it.
 */
export async function keepMigrationJournal(
  tx: Tx,
  ctx: Pick<SourceContext, 'sourceSystem' | 'legalEntity'>,
  line: {
    documentId: string;
    lineNo: number;
    revision: number;
    journal?: { source?: string; category?: string };
  },
  correlationId: string,
): Promise<void> {
  await keepSourceException(tx, {
    sourceSystem: ctx.sourceSystem,
    legalEntity: ctx.legalEntity,
    stream: ACTUALS_STREAM,
    recordKey: sourceRecordKey({ sourceSystem: ctx.sourceSystem, ...line }),
    payload: { ...line },
    errorCode: 'migration_journal',
    errorMessage: `a journal of the migration to ${ctx.sourceSystem} (${[line.journal?.source, line.journal?.category].filter(Boolean).join(', ')}): an opening balance or conversion, not an actual`,
    correlationId,
    auditStream: auditStream.actuals(ctx.legalEntity),
    status: 'discarded',
  });
}

/** From this many lines a page is counted by one set-based statement (bulkIngestActuals) instead of line by line. */
export const SET_PAGE_FROM = 200;

/**
 * A page of posted lines from a source, end to end in the caller's transaction, as processActualLine takes each
 * of them: the same outcomes, exceptions and audit. A large page's lines are counted by the month-end load's
 * set-based statement (one insert and one count into the balances and control budgets for the page); a line
 * with an open exception still goes through the one-line path, which closes the exception with its audit row.
 */
export async function processActualPage(
  tx: Tx,
  ctx: SourceContext,
  records: SourceActualRecord[],
  correlationId: string,
): Promise<{ inserted: number; duplicates: number; exceptions: number }> {
  const counts = { inserted: 0, duplicates: 0, exceptions: 0 };
  const tally = (outcome: Awaited<ReturnType<typeof processActualLine>>) => {
    if (outcome === 'inserted') counts.inserted++;
    else if (outcome === 'duplicate') counts.duplicates++;
    else counts.exceptions++;
  };
  if (records.length < SET_PAGE_FROM) {
    for (const record of records) tally(await processActualLine(tx, ctx, record, correlationId));
    return counts;
  }
  const keys = records.map((record) => sourceRecordKey({ sourceSystem: ctx.sourceSystem, ...record }));
  const open = new Set(
    (
      await tx
        .select({ key: sourceExceptions.recordKey })
        .from(sourceExceptions)
        .where(
          and(
            eq(sourceExceptions.sourceSystem, ctx.sourceSystem),
            eq(sourceExceptions.stream, ACTUALS_STREAM),
            eq(sourceExceptions.status, 'open'),
            inArray(sourceExceptions.recordKey, keys),
          ),
        )
    ).map((r) => r.key),
  );
  const rows: BulkActualRow[] = [];
  for (const [i, record] of records.entries()) {
    const recordKey = keys[i]!;
    const canonical = canonicaliseSourceLine(
      { dimensions: record.dimensions, date: record.postingDate, amount: record.amount },
      ctx,
    );
    if ('error' in canonical || open.has(recordKey)) {
      tally(await processActualLine(tx, ctx, record, correlationId));
      continue;
    }
    rows.push({ recordKey, ...record, line: canonical.line, correlationId: `${correlationId}:${recordKey}` });
  }
  const inserted = await bulkIngestActuals(tx, ctx, rows, correlationId);
  counts.inserted += inserted;
  counts.duplicates += rows.length - inserted;
  return counts;
}

/**
 * One posted line from a source, end to end in the caller's transaction: canonicalised and ingested, or kept
 * with its error in the exception store. Nothing is dropped.
 */
export async function processActualLine(
  tx: Tx,
  ctx: SourceContext,
  record: SourceActualRecord,
  correlationId: string,
): Promise<'inserted' | 'duplicate' | 'kept' | 'kept_again'> {
  const recordKey = sourceRecordKey({ sourceSystem: ctx.sourceSystem, ...record });
  const canonical = canonicaliseSourceLine(
    { dimensions: record.dimensions, date: record.postingDate, amount: record.amount },
    ctx,
  );
  if ('error' in canonical) {
    const kept = await keepUncountableLine(tx, {
      sourceSystem: ctx.sourceSystem,
      legalEntity: ctx.legalEntity,
      stream: ACTUALS_STREAM,
      recordKey,
      payload: record,
      error: canonical.error,
      correlationId,
    });
    // An exception already reprocessed or resolved means the line was ingested: this is a duplicate.
    return kept === 'closed' ? 'duplicate' : kept;
  }
  return ingestActualLine(
    tx,
    {
      sourceSystem: ctx.sourceSystem,
      legalEntity: ctx.legalEntity,
      recordKey,
      documentId: record.documentId,
      lineNo: record.lineNo,
      revision: record.revision,
      postingDate: record.postingDate,
      description: record.description,
      correlationId: `${correlationId}:${recordKey}`,
    },
    canonical.line,
  );
}

/**
 * Replays the open actuals exceptions of an entity (all, or the given ones) once their cause is fixed: each
 * record goes through as if it had just arrived, in its own transaction. Those that still fail stay open
 * with their new error.
 */
export async function reprocessActualExceptions(
  db: Database,
  r: ReplayRequest & { ctx: SourceContext },
): Promise<{ reprocessed: number; stillFailing: number; duplicates: number }> {
  const open = await openSourceExceptions(db, {
    sourceSystem: r.ctx.sourceSystem,
    legalEntity: r.ctx.legalEntity,
    stream: ACTUALS_STREAM,
    ids: r.ids,
    errorCodes: r.errorCodes,
  });
  const result = { reprocessed: 0, stillFailing: 0, duplicates: 0 };
  let done = 0;
  for (const exception of open) {
    r.onProgress?.(done++, open.length);
    const parsed = SourceActualRecord.safeParse(exception.payload);
    if (!parsed.success) {
      result.stillFailing++;
      continue;
    }
    const record = parsed.data;
    const canonical = canonicaliseSourceLine(
      { dimensions: record.dimensions, date: record.postingDate, amount: record.amount },
      r.ctx,
    );
    await db.transaction(async (tx) => {
      if ('error' in canonical) {
        result.stillFailing++;
        await tx
          .update(sourceExceptions)
          .set({
            errorCode: canonical.error.code,
            errorMessage: canonical.error.message,
            lastSeenAt: new Date(),
          })
          .where(and(eq(sourceExceptions.id, exception.id), eq(sourceExceptions.status, 'open')));
        return;
      }
      const outcome = await ingestActualLine(
        tx,
        {
          sourceSystem: exception.sourceSystem,
          legalEntity: exception.legalEntity,
          recordKey: exception.recordKey,
          documentId: record.documentId,
          lineNo: record.lineNo,
          revision: record.revision,
          postingDate: record.postingDate,
          description: record.description,
          correlationId: `${r.correlationId}:${exception.recordKey}`,
        },
        canonical.line,
        { status: 'reprocessed', by: r.by },
      );
      if (outcome === 'inserted') result.reprocessed++;
      else {
        // Ingested meanwhile by another path: the exception is closed without counting anything again.
        result.duplicates++;
        await closeSourceException(tx, {
          sourceSystem: exception.sourceSystem,
          stream: ACTUALS_STREAM,
          recordKey: exception.recordKey,
          status: 'resolved',
          by: r.by,
          correlationId: r.correlationId,
          auditStream: auditStream.actuals(exception.legalEntity),
        });
      }
    });
  }
  r.onProgress?.(done, open.length);
  return result;
}

/** A canonical posted line ready to be counted, with its business identity. */
export type BulkActualRow = Pick<
  PostedLineRecord,
  'recordKey' | 'documentId' | 'lineNo' | 'revision' | 'postingDate' | 'description'
> & {
  line: CanonicalSourceLine;
  /** The line's own correlation ID (a sync's lines carry one each); absent: the load's. */
  correlationId?: string;
};

/**
 * The steps that count newly inserted actual lines, after a step named `inserted` (dedupe_key, account,
 * cost_center, period, currency, amount) and one named `per_budget` (budget_key, code, key_values, period,
 * currency, amount: what they count for in each control budget): the control budgets' and the buckets'
 * actuals move by them, each row once, in key order, and an open dead letter of an inserted record is resolved.
 */
export const countedIntoBalances = (ctx: { sourceSystem: string; legalEntity: string }) => sql`budgeted as (
      insert into control_budget_balances (legal_entity, budget_key, code, key_values, period, currency, actual)
      select ${ctx.legalEntity}, budget_key, code, key_values, period, currency, amount from per_budget
       order by budget_key, period, currency
      on conflict (legal_entity, budget_key, period, currency)
      do update set actual = control_budget_balances.actual + excluded.actual, updated_at = now()
      returning 1
    ), per_balance as (
      select account, cost_center, period, currency, sum(amount) as amount from inserted
       group by account, cost_center, period, currency
    ), balanced as (
      insert into control_balances (legal_entity, account, cost_center, period, currency, actual)
      select ${ctx.legalEntity}, account, cost_center, period, currency, amount from per_balance
       order by account, cost_center, period, currency
      on conflict (legal_entity, account, cost_center, period, currency)
      do update set actual = control_balances.actual + excluded.actual, updated_at = now()
      returning 1
    ), resolved as (
      update source_exceptions set status = 'resolved', resolved_at = now(), resolved_by = 'closeloop'
       where source_system = ${ctx.sourceSystem} and stream = ${ACTUALS_STREAM} and status = 'open'
         and record_key in (select dedupe_key from inserted)
      returning 1
    )`;

/**
 * Counts a batch of posted lines in one statement: each line inserted by its business key (a line already
 * stored, by the hourly sync, an earlier load or earlier in this batch, inserts nothing), the balances moved
 * by exactly what was inserted, and any open dead letter of an inserted record closed. Returns how many were
 * new. The month-end bulk load sends thousands a statement.
 */
export async function bulkIngestActuals(
  tx: Tx,
  ctx: Pick<SourceContext, 'sourceSystem' | 'legalEntity'>,
  rows: BulkActualRow[],
  correlationId: string,
): Promise<number> {
  if (!rows.length) return 0;
  await lockControlBudgets(tx, ctx.legalEntity, 'shared');
  const budgets = await controlBudgetsOfFacts(
    tx,
    ctx.legalEntity,
    rows.map((r) => ({ dimensions: r.line.dimensions, period: r.line.period })),
  );
  const input = rows.map((r, i) => ({
    h: budgets[i]!.map((b) => ({
      k: b.key,
      c: b.code,
      v: b.values,
      a: countedAmount(b, r.line.amount.amount, r.line.amount.currency),
    })),
    k: r.recordKey,
    d: r.documentId,
    n: r.lineNo,
    v: r.revision,
    dm: r.line.dimensions,
    a: r.line.dimensions.account,
    c: r.line.dimensions.costCenter ?? '',
    p: r.line.period,
    t: r.postingDate,
    m: r.line.amount.amount,
    y: r.line.amount.currency,
    x: r.description ?? null,
    r: r.line.routedFrom ?? null,
    o: r.correlationId ?? correlationId,
  }));
  const [result] = (await tx.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        as x(h jsonb, k text, d text, n int, v int, dm jsonb, a text, c text, p text, t date, m numeric, y text, x text, r text,
             o text)
    ), inserted as (
      insert into actual_lines (dedupe_key, source_system, document_id, line_no, revision, legal_entity, dimensions,
                                account, cost_center, period, posting_date, amount, currency, description,
                                routed_from_period, correlation_id)
      select k, ${ctx.sourceSystem}, d, n, v, ${ctx.legalEntity}, dm, a, c, p, t, m, y, x, r, o
        from input
      on conflict (dedupe_key) do nothing
      returning dedupe_key, account, cost_center, period, currency, amount
    ), per_budget as (
      -- The control budgets each inserted line falls in (control-budget-balances), summed per budget.
      select b->>'k' as budget_key, min(b->>'c') as code, min((b->'v')::text)::jsonb as key_values,
             i.period, i.currency, sum((b->>'a')::numeric) as amount
        from inserted i join input src on src.k = i.dedupe_key, jsonb_array_elements(src.h) b
       group by b->>'k', i.period, i.currency
    ), ${countedIntoBalances(ctx)}
    select (select count(*) from inserted)::int as inserted`)) as unknown as { inserted: number }[];
  return result!.inserted;
}
