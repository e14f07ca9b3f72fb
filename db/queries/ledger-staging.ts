import { randomUUID } from 'node:crypto';
import { type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql as drizzleSql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import { DECIMAL_PATTERN } from '../../domain/money';
import { type Database } from '../client';
import { controlBudgetsLockName } from './control-budget-balances';
import { countedIntoBalances } from './actuals';

/**
 * The set-based month-end load: PostgreSQL parses the ledger export (COPY … FROM STDIN into a temporary table
 * of text columns, on one connection of the pool kept for the load), then its well-formed rows are keyed,
 * converted, deduplicated, counted into the balances and control budgets in a few statements. What a row
 * means comes from the caller: which column holds what, the pattern each value must match, and for every
 * distinct (account value, posting date, currency) the canonical line it makes (activities/bulk-load.ts turns
 * them with the same domain code as the row path). Rows it does not take whole are handed back, to be read
 * one by one.
 */

const dialect = new PgDialect();

/** The file's columns by 1-based position in its header. */
export interface StagedColumns {
  count: number;
  wellFormed: { column: number; pattern: string }[];
  documentId: number[];
  postingDate: number;
  amount: number;
  currency: number;
  description?: number;
  account: number;
}

/** A distinct (account value, posting date, currency) of the file, as its canonical line says. */
export interface StagedKey {
  account: string;
  date: string;
  currency: string;
  dimensions: Record<string, string>;
  ledgerAccount: string;
  costCenter: string;
  period: string;
  routedFrom: string | null;
  /** The functional currency the line counts in. */
  target: string;
  /** The quote converting `currency` to `target` (integers: rate = num / den); null when they are one. */
  num: string | null;
  den: string | null;
  /** Minor units of `currency` and `target`. */
  fromMinorUnits: number;
  toMinorUnits: number;
  /** The control budgets the line falls in: key, code, values, indirect cost in hundredths of a percent. */
  budgets: { k: string; c: string; v: Record<string, string | null>; h: number }[];
}

export interface LedgerStage {
  rows: number;
  release(): Promise<void>;
  /** The distinct (account value, posting date, currency) of the rows. */
  keys(): Promise<{ account: string; date: string; currency: string }[]>;
  /** The table of the rows `take` took (unlogged, so another part's connection reads it too). */
  fastTable: string;
  /** Takes every well-formed row whose key is given, converted; how many it took. */
  take(r: { sourceSystem: string; keys: StagedKey[] }): Promise<number>;
  /**
   * Inserts the lines of the rows taken, counted into the balances and control budgets; how many were new. A
   * record the `earlier` parts of the file took is theirs (its first row is there), so the parts, inserted at
   * once, never wait on each other's uncommitted lines.
   */
  insert(
    r: { sourceSystem: string; legalEntity: string; correlationId: string },
    earlier: string[],
  ): Promise<number>;
  /** The rows `take` did not take, in file order, a batch at a time: row number and every field it has. */
  others(batchSize: number): AsyncIterable<{ n: number; fields: string[] }[]>;
}

/** A value as csv-parse's trim reads it: surrounding spaces and tabs dropped, a missing field ''. */
const trimmed = (value: string) => `coalesce(btrim(${value}, E' \\t'), '')`;
/** A field's value, trimmed once per row by the stage view. */
const valueOf = (column: number) => `s.c${column}`;

/** The load's temporary tables on its connection (its rows taken are in an unlogged table of their own). */
const TEMPORARY = 'pg_temp.ledger_raw, pg_temp.ledger_keys, pg_temp.ledger_others';

/** The file cannot be read line by line as one record each (a quoted field spans lines, or a blank line). */
export class NotLineByLine extends Error {}

/**
 * Stages a file, or a part of one (`header`: whether it starts with the file's header line, which is skipped).
 * Rows are numbered from 1 within the part.
 */
export async function stageLedgerFile(
  db: Database,
  file: Readable,
  columns: StagedColumns,
  opts: { header: boolean } = { header: true },
): Promise<LedgerStage> {
  const sql = await db.$client.reserve();
  const fastTable = `closeloop_ledger_fast_${randomUUID().replaceAll('-', '')}`;
  const release = async () => {
    await sql.unsafe(`drop table if exists ${TEMPORARY}, ${fastTable} cascade`).catch(() => undefined);
    sql.release();
  };
  try {
    await sql.unsafe(`drop table if exists ${TEMPORARY} cascade`);
    await sql.unsafe('create temp table ledger_raw (n bigserial, line text)');
    // Each line whole (delimiter and quote are control characters no ledger export holds), so no row can make
    // COPY stop the load: a row with too few or too many fields is split below and kept as a dead letter.
    // The file's own header line is skipped; row n is the part's record n.
    await pipeline(
      file,
      await sql
        .unsafe(
          `copy ledger_raw (line) from stdin with (format csv, header ${opts.header}, delimiter E'\\x01', quote E'\\x02')`,
        )
        .writable(),
    );
    const [shape] = (await sql.unsafe(
      `select count(*) filter (where coalesce(line, '') <> '')::int as rows,
              count(*) filter (where (length(line) - length(replace(line, '"', ''))) % 2 = 1)::int as unbalanced,
              count(*) filter (where coalesce(line, '') = ''
                                 and n < (select max(n) from ledger_raw where coalesce(line, '') <> ''))::int as blank
         from ledger_raw`,
    )) as unknown as [{ rows: number; unbalanced: number; blank: number }];
    if (shape.unbalanced || shape.blank)
      throw new NotLineByLine(
        shape.unbalanced
          ? `${shape.unbalanced} lines hold a quoted field that spans lines`
          : `${shape.blank} blank lines between records`,
      );
    // Trailing blank lines are no records (csv-parse skips them too).
    await sql.unsafe("delete from ledger_raw where coalesce(line, '') = ''");
    const names = Array.from({ length: columns.count }, (_x, i) => `${trimmed(`f[${i + 1}]`)} as c${i + 1}`);
    await sql.unsafe(
      `create temp view ledger_stage as
       select * from (
         select n, cardinality(f) as fields, f, ${names.join(', ')}
           from (select n, case when strpos(line, '"') = 0 then string_to_array(line, ',')
                                else closeloop_csv_fields(line) end as f
                   from ledger_raw offset 0) split
         -- Each OFFSET 0 keeps its subquery whole: each line is split once, and each field trimmed once,
         -- not once per time a statement reads it.
         offset 0) fields`,
    );
    return { rows: shape.rows, release, fastTable, ...staged(sql, columns, fastTable) };
  } catch (err) {
    await release();
    throw err;
  }
}

function staged(sql: postgres.ReservedSql, columns: StagedColumns, fast: string) {
  const patterns = columns.wellFormed.map((w) => w.pattern);
  const wellFormed = [
    `s.fields = ${columns.count}`,
    ...columns.wellFormed.map((w, i) => `${valueOf(w.column)} ~ $${i + 1}`),
  ].join(' and ');
  const account = valueOf(columns.account);
  const date = `left(${valueOf(columns.postingDate)}, 10)`;
  const currency = valueOf(columns.currency);
  const amount = `${valueOf(columns.amount)}::numeric`;
  const documentId = columns.documentId.map(valueOf).join(` || '/' || `);
  const p = patterns.length;
  /** Runs `work` in a transaction on the load's connection. */
  const inTransaction = async <T>(work: () => Promise<T>): Promise<T> => {
    await sql.unsafe('begin');
    try {
      // Sorting and hashing a month of lines fits in memory for this one transaction; compiling the
      // statements' expressions (JIT) would cost more than a second each and gain nothing here.
      await sql.unsafe("set local work_mem = '256MB'");
      await sql.unsafe('set local jit = off');
      const result = await work();
      await sql.unsafe('commit');
      return result;
    } catch (err) {
      await sql.unsafe('rollback').catch(() => undefined);
      throw err;
    }
  };

  return {
    // Over every row, well formed or not (the patterns are applied once, when the rows are taken): a key
    // only a malformed row has is turned into a line for nothing, which costs less than a second pass.
    keys: async () =>
      (await sql.unsafe(
        `select distinct ${account} as account, ${date} as date, ${currency} as currency from ledger_stage s`,
      )) as unknown as { account: string; date: string; currency: string }[],

    async take(r: { sourceSystem: string; keys: StagedKey[] }) {
      await sql.unsafe('drop table if exists pg_temp.ledger_keys');
      return inTransaction(async () => {
        // The keys as a table the planner can count (a jsonb set it would guess at 100 rows).
        await sql.unsafe(
          `create temp table ledger_keys as
           select row_number() over () as id, k.*
             from jsonb_to_recordset($1::jsonb) as k(account text, date text, currency text, dimensions jsonb,
                    "ledgerAccount" text, "costCenter" text, period text, "routedFrom" text, target text, num numeric,
                    den numeric, "fromMinorUnits" int, "toMinorUnits" int, budgets jsonb)`,
          [JSON.stringify(r.keys)],
        );
        await sql.unsafe('analyze ledger_keys');
        // The patterns make the planner expect next to no well-formed rows, and so a nested loop over the keys
        // for each row: a hash join is what this takes, whatever the estimate.
        await sql.unsafe('set local enable_nestloop = off');
        // The rows taken whole: well formed, their key turned into a line, their amount a decimal string
        // (domain/money) within the currency's decimals. Converted as domain/fx convert does: to minor units,
        // times the quote, rounded half away from zero on integers.
        await sql.unsafe(
          `create unlogged table ${fast} as
           select s.n, $${p + 1}::text || ':' || ${documentId} || ':1:r0' as dedupe_key, ${documentId} as document_id,
                  k.id as key_id, ${date}::date as posting_date,
                  case when k.num is null then ${amount}
                       else sign(${amount}) * div(abs(${amount}) * 10::numeric ^ k."fromMinorUnits" * k.num
                                                  * 10::numeric ^ k."toMinorUnits" * 2 + k.den * 10::numeric ^ k."fromMinorUnits",
                                                  2 * k.den * 10::numeric ^ k."fromMinorUnits") / 10::numeric ^ k."toMinorUnits"
                  end as amount,
                  nullif(${columns.description ? valueOf(columns.description) : "''"}, '') as description
             from ledger_stage s
             join ledger_keys k on k.account = ${account} and k.date = ${date} and k.currency = ${currency}
            where ${wellFormed} and ${valueOf(columns.amount)} ~ $${p + 2}
              and scale(trim_scale(${amount})) <= k."fromMinorUnits"`,
          [...patterns, r.sourceSystem, DECIMAL_PATTERN.source],
        );
        await sql.unsafe(`create unique index on ${fast} (n)`);
        await sql.unsafe(`analyze ${fast}`);
        const [{ taken }] = (await sql.unsafe(`select count(*)::int as taken from ${fast}`)) as unknown as [
          { taken: number },
        ];
        return taken;
      });
    },

    insert(r: { sourceSystem: string; legalEntity: string; correlationId: string }, earlier: string[]) {
      return inTransaction(async () => {
        // Spend writers hold the entity's control-budget lock shared (a model change holds it exclusive).
        await sql.unsafe('select pg_advisory_xact_lock_shared(hashtextextended($1, 0))', [
          controlBudgetsLockName(r.legalEntity),
        ]);
        const statement = drizzleSql`
          with chosen as (
            -- A record twice in the file counts once: its first row. In key order, as the index wants them.
            select distinct on (f.dedupe_key) f.*, k.dimensions, k."ledgerAccount" as account,
                   k."costCenter" as cost_center, k.period, k."routedFrom" as routed_from, k.target as currency,
                   k."toMinorUnits" as minor_units, k.budgets
              from ${drizzleSql.raw(fast)} f join ledger_keys k on k.id = f.key_id
             ${drizzleSql.raw(earlier.map((e, i) => `${i ? 'and' : 'where'} not exists (select 1 from ${e} e where e.dedupe_key = f.dedupe_key)`).join(' '))}
             order by f.dedupe_key, f.n
          ), inserted as (
            insert into actual_lines (dedupe_key, source_system, document_id, line_no, revision, legal_entity,
                                      dimensions, account, cost_center, period, posting_date, amount, currency,
                                      description, routed_from_period, correlation_id)
            select dedupe_key, ${r.sourceSystem}, document_id, 1, 0, ${r.legalEntity}, dimensions, account,
                   cost_center, period, posting_date, amount, currency, description, routed_from, ${r.correlationId}
              from chosen
            on conflict (dedupe_key) do nothing
            returning dedupe_key, account, cost_center, period, currency, amount
          ), per_budget as (
            -- What each inserted line counts for in the control budgets it falls in (with a grant's indirect
            -- cost, rounded as domain/projects countedMinor does), summed per budget.
            select b->>'k' as budget_key, min(b->>'c') as code, min((b->'v')::text)::jsonb as key_values,
                   i.period, i.currency,
                   sum(case when (b->>'h')::int = 0 then i.amount
                            else (i.amount * 10::numeric ^ c.minor_units
                                  + sign(i.amount) * div(abs(i.amount * 10::numeric ^ c.minor_units * (b->>'h')::int) + 5000, 10000))
                                 / 10::numeric ^ c.minor_units end) as amount
              from (select * from chosen where budgets <> '[]'::jsonb) c
              join inserted i on c.dedupe_key = i.dedupe_key, jsonb_array_elements(c.budgets) b
             group by b->>'k', i.period, i.currency
          ), ${countedIntoBalances(r)}
          select (select count(*) from inserted)::int as inserted`;
        // Built with drizzle's sql (the balance steps are the row path's own), run on this connection.
        const query = dialect.sqlToQuery(statement);
        const [{ inserted }] = (await sql.unsafe(query.sql, query.params as never[])) as unknown as [
          { inserted: number },
        ];
        return inserted;
      });
    },

    async *others(batchSize: number) {
      // The rows not taken (few, in a month-end file) are set apart in one pass, then read a batch at a time,
      // each with every field it has (trimmed as csv-parse's trim reads them).
      await sql.unsafe('drop table if exists pg_temp.ledger_others');
      await sql.unsafe(
        `create temp table ledger_others as
         select s.n::int as n, array(select ${trimmed('v')} from unnest(s.f) v) as fields
           from ledger_stage s where not exists (select 1 from ${fast} f where f.n = s.n)`,
      );
      await sql.unsafe('create unique index on ledger_others (n)');
      let after = 0;
      for (;;) {
        const rows = (await sql.unsafe(
          `select n, fields from ledger_others where n > $1 order by n limit $2`,
          [after, batchSize],
        )) as unknown as { n: number; fields: string[] }[];
        if (!rows.length) return;
        after = rows[rows.length - 1]!.n;
        yield rows;
      }
    },
  };
}
