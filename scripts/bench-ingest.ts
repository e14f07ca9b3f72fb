import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse';
import postgres from 'postgres';
import { loadLedgerExportFile } from '../activities/bulk-load';
import { createConnectors } from '../activities/connectors/registry';
import { loadConfig } from '../config';
import { writeFigures } from './bench/figures';
import { actualLinesCopyCeiling, psqlCopy } from './bench/psql';
import { scratchDatabase } from './bench/scratch-database';

/**
 * npm run bench:ingest [-- --lines 1000000 --batch 5000]
 *
 * The month-end bulk load against the database's own ceiling, in one go on one machine:
 * 1. a ledger export of `--lines` lines (2% of them repeats of earlier lines), written to <data dir>/bench/;
 * 2. beside the ceiling: psql `\copy` of that file into an unlogged table of its shape (parsing alone);
 * 3. the CSV parser alone over the file (rows counted, nothing else): where a row-by-row load in Node.js stops;
 * 4. closeloop: the month-end load of the same file (loadLedgerExportFile: PostgreSQL parses it into a staging
 *    table; lines keyed, converted, deduplicated by business key and counted into the balances set-based), in
 *    this process, sampling its resident memory;
 * 5. the ceiling: psql `\copy` of the lines closeloop wrote into a table shaped, indexed and logged like
 *    actual_lines, where they land.
 * Prints both rates, the ratio, peak RSS and the counts, and writes them to <data dir>/bench/ingest.json.
 */

const BENCH_DB = 'closeloop_bench_ingest';
const ACCOUNTS = ['60010', '61020', '62030', '63040', '64050', '65060'];
const COST_CENTERS = ['100', '200', '300', '400'];

async function writeExport(file: string, lines: number): Promise<{ unique: number }> {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(
    'GeneralJournalAccountEntryRecId,JournalNumber,Voucher,AccountingDate,LedgerAccount,TransactionCurrencyAmount,TransactionCurrencyCode,Description\n',
  );
  const rowOf = (n: number) => {
    const month = String((n % 12) + 1).padStart(2, '0');
    const day = String((n % 28) + 1).padStart(2, '0');
    // Software moved to main account 62035 from July 2027 (the seed's effective-dated mapping).
    const account =
      ACCOUNTS[n % ACCOUNTS.length] === '62030' && n % 12 >= 6 ? '62035' : ACCOUNTS[n % ACCOUNTS.length]!;
    const cc = COST_CENTERS[Math.floor(n / ACCOUNTS.length) % COST_CENTERS.length]!;
    const cents = (n * 7919) % 100_000;
    return `${5_000_000_000 + n},GJ-2027${month},V${n},2027-${month}-${day},${account}-${cc},${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')},USD,bench line ${n}\n`;
  };
  let unique = 0;
  for (let i = 1; i <= lines; i++) {
    // Every 50th line repeats an earlier one: the 2% a month-end extract overlapping the hourly sync carries.
    if (i % 50 === 0) await write(rowOf(Math.max(1, unique - 1000)));
    else await write(rowOf(++unique));
  }
  out.end();
  await once(out, 'finish');
  return { unique };
}

async function main() {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '1000000' },
      batch: { type: 'string', default: '5000' },
    },
  });
  const lines = Number(values.lines);
  const config = loadConfig();
  const scratch = await scratchDatabase(config, BENCH_DB, 4);
  const { database, url } = scratch;
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  const dir = path.join(config.dataDir, 'bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `ledger-${lines}.csv`);
  try {
    console.log(`[bench] writing a ledger export of ${lines} lines (2% repeats) to ${file}…`);
    const { unique } = await writeExport(file, lines);
    const bytes = statSync(file).size;

    // Beside the ceiling: psql \copy of the raw file into an unlogged table of the file's shape (no indexes,
    // no WAL), what parsing alone costs PostgreSQL.
    console.log('[bench] psql \\copy of the raw file into an unlogged table of its shape…');
    await sql`create unlogged table bench_ledger_copy (rec_id bigint, journal text, voucher text,
      accounting_date date, ledger_account text, amount numeric(24, 6), currency text, description text)`;
    const unloggedSeconds = psqlCopy(
      url,
      `\\copy bench_ledger_copy from '${file}' with (format csv, header)`,
    );

    // Where the Node.js side of a row-by-row load stops, measured the same way: the CSV parser alone.
    console.log('[bench] the CSV parser alone over the same file…');
    const parseStart = process.hrtime.bigint();
    let parsed = 0;
    for await (const _row of createReadStream(file).pipe(parseCsv({ bom: true, skip_empty_lines: true })))
      parsed++;
    const parseSeconds = Number(process.hrtime.bigint() - parseStart) / 1e9;

    console.log('[bench] closeloop: the month-end load of the same file (set-based; PostgreSQL parses it)…');
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const loadStart = process.hrtime.bigint();
    const result = await loadLedgerExportFile(
      { db: database.db, erps: createConnectors(config, database.db).erps },
      {
        legalEntity: 'ACME-US',
        path: file,
        correlationId: `bench-ingest-${Date.now()}`,
        batchSize: Number(values.batch),
      },
    );
    const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
    clearInterval(sampler);
    const [counted] = await sql<{ n: number }[]>`select count(*)::int as n from actual_lines`;

    // The ceiling: the lines closeloop wrote, copied by psql into a table of the same shape, indexes and
    // durability as actual_lines (logged, its unique business key and every index): what PostgreSQL itself
    // takes to write these rows.
    console.log(
      '[bench] ceiling: psql \\copy of the same lines into a table shaped, indexed and logged like actual_lines…',
    );
    const linesFile = path.join(dir, `actual-lines-${lines}.csv`);
    const copySeconds = await actualLinesCopyCeiling(url, (q) => sql(q), linesFile);
    rmSync(linesFile, { force: true });

    const figures = {
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      lines,
      bytes,
      uniqueLines: unique,
      ceiling: {
        tool: 'psql \\copy of the counted lines into a logged table like actual_lines (same indexes)',
        seconds: copySeconds,
        // Per line of the file, as closeloop's figure is: the file's lines over the time to write its rows.
        linesPerSecond: Math.round(lines / copySeconds),
      },
      unlogged: {
        tool: 'psql \\copy of the raw file into an unlogged table of its shape, no indexes',
        seconds: unloggedSeconds,
        linesPerSecond: Math.round(lines / unloggedSeconds),
      },
      parserAlone: {
        tool: 'csv-parse, rows counted, nothing else',
        seconds: parseSeconds,
        linesPerSecond: Math.round(parsed / parseSeconds),
      },
      closeloop: {
        seconds: loadSeconds,
        linesPerSecond: Math.round(lines / loadSeconds),
        peakRssMiB: Math.round(peakRss / 2 ** 20),
        ...result,
        countedInDatabase: counted!.n,
      },
      ratio: Number((copySeconds / loadSeconds).toFixed(2)),
      targets: { ratio: '>= 0.5', peakRssMiB: '<= 512' },
    };
    console.log(
      `[bench] ceiling   ${figures.ceiling.linesPerSecond} lines/s (${copySeconds.toFixed(1)} s): \\copy into a logged table like actual_lines\n` +
        `[bench] unlogged  ${figures.unlogged.linesPerSecond} lines/s (${unloggedSeconds.toFixed(1)} s): \\copy of the raw file, unlogged, no indexes\n` +
        `[bench] parser    ${figures.parserAlone.linesPerSecond} lines/s (${parseSeconds.toFixed(1)} s): the CSV parser alone in Node.js\n` +
        `[bench] closeloop ${figures.closeloop.linesPerSecond} lines/s (${loadSeconds.toFixed(1)} s, ${result.path} path, ${result.rowByRow ?? 0} rows one by one), peak RSS ${figures.closeloop.peakRssMiB} MiB\n` +
        `[bench] ratio ${figures.ratio} (target ≥ 0.5); ${result.inserted} counted, ${result.duplicates} duplicates, ${result.deadLetters} dead letters; ${counted!.n} lines in the database (expected ${unique})`,
    );
    console.log(`[bench] figures written to ${writeFigures('ingest.json', figures)}`);
    if (counted!.n !== unique) process.exitCode = 1;
  } finally {
    await sql.end();
    await scratch.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
