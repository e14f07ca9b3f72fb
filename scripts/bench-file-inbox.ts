import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Presets, SingleBar } from 'cli-progress';
import iconv from 'iconv-lite';
import postgres from 'postgres';
import { createFileInboxActivities, type InboxScan, type TakenFile } from '../activities/file-inbox';
import { loadConfig } from '../config';
import { upsertFileFeed } from '../db/queries/file-feeds';
import { FeedDefinition } from '../domain/file-feeds';
import { glDetail, glHeader, glTrailer, LEGACY_GL_LAYOUT } from '../simulators/legacy-erp/gl-extract';
import { writeFigures } from './bench/figures';
import { actualLinesCopyCeiling } from './bench/psql';
import { scratchDatabase } from './bench/scratch-database';

/**
 * npm run bench:file-inbox [-- --lines 1000000]
 *
 * A legacy GL's month-end extract of `--lines` records dropped into a watched inbox and taken as a pickup takes
 * it (activities/file-inbox, in this process, its heartbeats drawn as a progress bar): a fixed-width Windows-1252
 * file with signed zoned-decimal amounts and a trailer, read twice as a stream (verified whole, then loaded
 * through the ledger load: each line mapped, converted and counted once by its business key) and archived.
 * Prints its rate against the ceiling measured in the same run (psql \copy of the lines it wrote into a table
 * shaped, indexed and logged like actual_lines), the peak resident memory over the process's own before it
 * began (bounded: no file is ever whole in memory), and writes them to <data dir>/bench/file-inbox.json.
 */

const BENCH_DB = 'closeloop_bench_file_inbox';
const ACCOUNTS = ['60010', '61020', '62030', '63040', '64050', '65060'];
const COST_CENTERS = ['100', '200', '300', '400'];
async function writeExtract(file: string, lines: number) {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(iconv.encode(s, 'windows-1252'))) await once(out, 'drain');
  };
  await write(`${glHeader('LEGACY GL MONTH-END EXTRACT 2027')}\r\n`);
  let total = 0n;
  for (let n = 1; n <= lines; n++) {
    const month = String((n % 12) + 1).padStart(2, '0');
    const day = String((n % 28) + 1).padStart(2, '0');
    // Software moved to main account 62035 from July 2027 (the seed's effective-dated mapping).
    const account =
      ACCOUNTS[n % ACCOUNTS.length] === '62030' && n % 12 >= 6 ? '62035' : ACCOUNTS[n % ACCOUNTS.length]!;
    const minor = BigInt(((n * 7919) % 100_000) * (n % 10 === 0 ? -1 : 1));
    total += minor;
    const line = glDetail({
      account,
      costCenter: COST_CENTERS[Math.floor(n / ACCOUNTS.length) % COST_CENTERS.length]!,
      postingDate: `2027${month}${day}`,
      minor,
      currency: 'USD',
      documentId: `GL${String(Math.ceil(n / 100)).padStart(10, '0')}`,
      lineNo: ((n - 1) % 100) + 1,
      description: `Café line ${n}`,
    });
    await write(`${line}\r\n`);
  }
  await write(`${glTrailer(lines, total)}\r\n`);
  out.end();
  await once(out, 'finish');
}

async function main() {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' } } });
  const lines = Number(values.lines);
  const config = loadConfig();
  const dir = path.join(config.dataDir, 'bench', 'file-inbox');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const name = `gl-extract-${lines}.dat`;
  console.log(`[bench] writing a ${lines.toLocaleString('en')}-record fixed-width extract…`);
  await writeExtract(path.join(dir, name), lines);
  const bytes = statSync(path.join(dir, name)).size;

  const scratch = await scratchDatabase(config, BENCH_DB, 10);
  const { url, database } = scratch;
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await database.db.transaction((tx) =>
      upsertFileFeed(tx, {
        code: 'bench-gl',
        legalEntity: 'ACME-US',
        definition: FeedDefinition.parse({
          kind: 'actuals',
          transport: { type: 'local', path: dir },
          layout: LEGACY_GL_LAYOUT,
          readiness: 'rename',
          settleSeconds: 0,
        }),
        by: 'bench',
        correlationId: 'bench-file-inbox',
      }),
    );
    const activities = createFileInboxActivities({ db: database.db });
    const env = new MockActivityEnvironment();
    const bar = new SingleBar(
      { format: ' {phase} {bar} {value}/{total} lines | {eta_formatted}', hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(lines, 0, { phase: 'verifying' });
    // The heartbeat's details: what Temporal UI shows of the pickup's activity while it runs.
    env.on('heartbeat', (d: { phase?: string; read?: number }) => {
      if (d?.read !== undefined) bar.update(Math.min(d.read, lines), { phase: d.phase ?? '' });
    });
    global.gc?.();
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const started = process.hrtime.bigint();
    const scan: InboxScan = await env.run(() => activities.scanInbox({ feed: 'bench-gl' }));
    if (scan.ready.length !== 1) throw new Error(`the extract is not ready: ${JSON.stringify(scan)}`);
    const taken: TakenFile = await env.run(() => activities.takeInboxFile({ feed: 'bench-gl', name }));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    bar.stop();
    if (taken.status !== 'loaded') throw new Error(`the extract was not loaded: ${JSON.stringify(taken)}`);

    console.log('[bench] ceiling: psql \\copy of the same lines into a table like actual_lines…');
    const linesFile = path.join(dir, 'actual-lines.csv');
    const copySeconds = await actualLinesCopyCeiling(url, (q) => sql(q), linesFile);
    rmSync(linesFile, { force: true });
    const figures = {
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      lines,
      bytes,
      counts: taken.counts,
      closeloop: { seconds: Number(seconds.toFixed(1)), linesPerSecond: Math.round(lines / seconds) },
      ceiling: {
        tool: 'psql \\copy of the counted lines into a logged table like actual_lines (same indexes)',
        seconds: Number(copySeconds.toFixed(1)),
        linesPerSecond: Math.round(lines / copySeconds),
      },
      ratio: Number((copySeconds / seconds).toFixed(2)),
      memory: {
        baselineMiB: Math.round(baselineRss / 2 ** 20),
        peakMiB: Math.round(peakRss / 2 ** 20),
        aboveBaselineMiB: Math.round((peakRss - baselineRss) / 2 ** 20),
      },
    };
    const out = writeFigures('file-inbox.json', figures);
    console.log(
      `[bench] file inbox: ${lines.toLocaleString('en')} records (${(bytes / 2 ** 20).toFixed(0)} MiB) verified, loaded and archived in ${figures.closeloop.seconds} s: ${figures.closeloop.linesPerSecond.toLocaleString('en')} lines/s\n` +
        `[bench] ceiling    ${figures.ceiling.linesPerSecond.toLocaleString('en')} lines/s (${figures.ceiling.seconds} s): \\copy into a logged table like actual_lines\n` +
        `[bench] ratio      ${figures.ratio} (closeloop's rate over the ceiling's)\n` +
        `[bench] memory     peak ${figures.memory.peakMiB} MiB resident, ${figures.memory.aboveBaselineMiB} MiB above the ${figures.memory.baselineMiB} MiB before the file was taken\n` +
        `[bench] counts     ${JSON.stringify(taken.counts)}\n[bench] figures → ${out}`,
    );
  } finally {
    await sql.end();
    await scratch.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
