import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { loadConfig } from '../config';
import { writeFigures } from './bench/figures';
import { scratchDatabase } from './bench/scratch-database';
import { insertCostCenters } from '../db/queries/reference';
import { putControlBudget } from '../db/queries/control-budgets';
import { rebuildControlBudgets } from '../db/queries/control-budget-balances';
import { postgresCpuSeconds, summariseCpuProfile, treeCpuSeconds } from './bench/cpu';
import { type HttpTarget, pgbenchAtRate, vegetaAtRate } from './bench/open-loop';
import { ensureVegeta } from './lib/load-generator';

/**
 * npm run bench:budget-check [-- --seconds 15 --connections 64 --buckets 10000 --api-processes 1 --profile]
 *
 * The synchronous reservation against the database's own ceiling, on one machine in one go:
 * 1. the ceiling: pgbench on the same PostgreSQL, running the same conditional update (take funds only while
 *    the balance allows it) on a table shaped like control_balances, 64 clients;
 * 2. closeloop: POST /v1/budget-control/reservations over HTTP, 64 connections, a unique Idempotency-Key per
 *    request (autocannon), the full request path: auth, validation, control model, one transaction.
 * Each twice: over 10,000 buckets chosen uniformly, and on one hot bucket. Then, beside the spread figure, the
 * same spread on the manufacturer's chart where every line also falls in two overlapping control budgets (per
 * cost center, and per cost center and department: issue 22), each checked and held with the bucket. Then an
 * overspend audit: no bucket or control budget may hold more than its budget, and the reservations must add
 * up to what the balances say. Last, what bounds the spread: the same load against Express alone answering a
 * fixed reservation (the HTTP floor), and the CPU each party spends per request beside PostgreSQL's per
 * pgbench transaction, from which it prints the most the spread could reach were closeloop's own code free.
 * Figures are printed and written to <data dir>/bench/budget-check.json, with the CPU each party used during
 * each run (API process, PostgreSQL, the load generator). `--profile` also records the API process's V8 CPU
 * profile (node --cpu-prof, kept under <data dir>/bench/profile/) and prints where its time goes.
 */

const BENCH_DB = 'closeloop_bench';
const PERIOD = '2027-02';
const ACCOUNTS = ['600100', '610200', '620300', '630400', '640500'];
const BUDGET = '1000000000.00';
const MFG = 'ACME-MFG';
/** The manufacturer's operating expense accounts (under OPEX in its seeded hierarchy). */
const MFG_ACCOUNTS = ['600100', '640500'];
const DEPARTMENTS = ['ENG', 'OPS', 'SALES'];

interface Figures {
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  requests: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;

function pgbenchPath(): string {
  const found = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return 'pgbench';
  // pgbench ships with the PostgreSQL server package on Debian and Ubuntu.
  if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    console.log('[bench] pgbench not found: installing postgresql (for pgbench) with apt-get…');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'postgresql'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return 'pgbench';
  }
  throw new Error(
    'pgbench is needed for the ceiling; install your distribution’s PostgreSQL package (it ships pgbench)',
  );
}

/** pgbench with one statement per transaction; returns transactions per second and latency. */
function pgbench(url: string, script: string, clients: number, seconds: number): Figures {
  const file = path.join(os.tmpdir(), `closeloop-bench-${process.pid}.sql`);
  writeFileSync(file, script);
  const out = execFileSync(
    pgbenchPath(),
    [
      '-n',
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, os.cpus().length)),
      '-T',
      String(seconds),
      '-r',
      '-f',
      file,
      url,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
  const processed = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    throughput: tps,
    p50: latency,
    p95: Number.NaN,
    p99: Number.NaN,
    errors: failed,
    requests: processed,
  };
}

/** Starts scripts/bench/api-server.ts in a child process and waits for the URL it prints. */
function startApiProcess(
  databaseUrl: string,
  poolSize: number,
  processes: number,
  profileDir?: string,
  httpFloor = false,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(
    process.execPath,
    [...profiling, '--import', 'tsx', path.join(__dirname, 'bench', 'api-server.ts')],
    {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: String(poolSize),
        API_PORT: '0',
        API_PROCESSES: String(processes),
        BENCH_HTTP_FLOOR: httpFloor ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench API exited with ${code}`)));
    child.stdout.once('data', (chunk: Buffer) =>
      resolve({
        url: chunk.toString().trim().split('\n')[0]!,
        pid: child.pid!,
        // The CPU profile is written as the process exits: wait for it.
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      }),
    );
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '15' },
      connections: { type: 'string', default: '64' },
      buckets: { type: 'string', default: '10000' },
      pool: { type: 'string', default: '20' },
      'api-processes': { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const buckets = Number(values.buckets);
  const costCenters = Math.ceil(buckets / ACCOUNTS.length);

  const config = loadConfig();
  const scratch = await scratchDatabase(config, BENCH_DB, Number(values.pool));
  const { database } = scratch;
  const url = new URL(scratch.url);
  const sql = postgres(scratch.url, { max: 2, onnotice: () => undefined });
  const results: Record<string, unknown> = {
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    seconds,
    connections,
    buckets,
  };
  try {
    console.log(`[bench] preparing ${buckets} buckets in ${BENCH_DB}…`);
    await insertCostCenters(
      database.db,
      Array.from({ length: costCenters }, (_x, i) => ({
        code: `B${i + 1}`,
        name: `Bench ${i + 1}`,
        legalEntity: 'ACME-US',
        validFrom: '2020-01-01',
      })),
    );
    // Benchmark fixture on a scratch database: each bucket holds an approved budget it will not run out of.
    await sql`
      insert into control_balances (legal_entity, account, cost_center, period, currency, budget)
      select 'ACME-US', a.account, 'B' || n, ${PERIOD}, 'USD', ${BUDGET}::numeric
        from generate_series(1, ${costCenters}) n cross join unnest(${`{${ACCOUNTS.join(',')}}`}::text[]) as a(account)`;
    // The manufacturer: the same number of buckets, and two control budgets every line falls in.
    const mfgCostCenters = Math.ceil(buckets / MFG_ACCOUNTS.length);
    await insertCostCenters(
      database.db,
      Array.from({ length: mfgCostCenters }, (_x, i) => ({
        code: `M${i + 1}`,
        name: `Bench plant ${i + 1}`,
        legalEntity: MFG,
        validFrom: '2020-01-01',
      })),
    );
    for (const [code, per] of [
      ['BENCH-CC', 'costCenter'],
      ['BENCH-CC-DEPT', 'costCenter,department'],
    ] as const)
      await database.db.transaction(async (tx) => {
        await putControlBudget(tx, {
          legalEntity: MFG,
          input: {
            code,
            description: `operating expenses per ${per}`,
            covers: { account: [{ under: 'OPEX' }] },
            per,
            level: 'absolute',
            periodBasis: 'quarter',
            validFrom: '2020-01-01',
          },
          by: 'bench',
          reason: 'bench',
          correlationId: `bench-${code}`,
        });
        await rebuildControlBudgets(tx, MFG);
      });
    await sql`
      insert into control_balances (legal_entity, account, cost_center, period, currency, budget)
      select ${MFG}, a.account, 'M' || n, ${PERIOD}, 'USD', ${BUDGET}::numeric
        from generate_series(1, ${mfgCostCenters}) n cross join unnest(${`{${MFG_ACCOUNTS.join(',')}}`}::text[]) as a(account)`;
    await sql`
      insert into control_budget_balances (legal_entity, budget_key, code, key_values, period, currency, budget)
      select ${MFG}, 'BENCH-CC[costCenter=M' || n || ']', 'BENCH-CC', jsonb_build_object('costCenter', 'M' || n),
             ${PERIOD}, 'USD', ${BUDGET}::numeric
        from generate_series(1, ${mfgCostCenters}) n
      union all
      select ${MFG}, 'BENCH-CC-DEPT[costCenter=M' || n || ',department=' || d || ']', 'BENCH-CC-DEPT',
             jsonb_build_object('costCenter', 'M' || n, 'department', d), ${PERIOD}, 'USD', ${BUDGET}::numeric
        from generate_series(1, ${mfgCostCenters}) n cross join unnest(${`{${DEPARTMENTS.join(',')}}`}::text[]) as d(d)`;
    // The ceiling's table: the same shape, the same rows.
    await sql`create table bench_balances (like control_balances including all)`;
    await sql`insert into bench_balances select * from control_balances where cost_center like 'B%'`;
    await sql`vacuum analyze`;

    const update = (bucket: string) => `\\set n random(1, ${costCenters})
\\set a random(0, ${ACCOUNTS.length - 1})
update bench_balances set reserved = reserved + 1.00, updated_at = now()
 where legal_entity = 'ACME-US' and account = (array['${ACCOUNTS.join("','")}'])[:a + 1]
   and cost_center = ${bucket} and period = '${PERIOD}' and currency = 'USD'
   and budget - reserved - committed - actual >= 1.00;
`;
    console.log(`[bench] ceiling: pgbench, ${connections} clients, ${seconds} s each…`);
    const pgBefore = postgresCpuSeconds();
    const ceilingSpread = pgbench(url.toString(), update(`'B' || :n`), connections, seconds);
    // PostgreSQL's CPU for one ceiling transaction, beside what it spends on one reservation below.
    const ceilingPostgresMs =
      ((postgresCpuSeconds() - pgBefore) * 1000) / Math.max(1, ceilingSpread.requests);
    const ceilingHot = pgbench(
      url.toString(),
      update(`'B1'`).replace(`(array['${ACCOUNTS.join("','")}'])[:a + 1]`, `'600100'`),
      connections,
      seconds,
    );

    // closeloop's own API in its own process, against the bench database, as a deployment runs it.
    const profileDir = values.profile ? path.join(config.dataDir, 'bench', 'profile') : undefined;
    if (profileDir) {
      rmSync(profileDir, { recursive: true, force: true });
      mkdirSync(profileDir, { recursive: true });
    }
    const server = await startApiProcess(
      url.toString(),
      Number(values.pool),
      Number(values['api-processes']),
      profileDir,
    );
    const cpu: Record<
      string,
      {
        apiPercent: number;
        postgresPercent: number;
        loadGeneratorPercent: number;
        apiMsPerRequest: number;
        postgresMsPerRequest: number;
        loadGeneratorMsPerRequest: number;
      }
    > = {};
    const run = async (
      label: string,
      pick: () => { account: string; costCenter: string; dimensions?: Record<string, string> },
      legalEntity = 'ACME-US',
      target: { url: string; pid: number } = server,
    ): Promise<Figures> => {
      let n = 0;
      const latencies: number[] = [];
      const options: autocannon.Options = {
        url: target.url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/v1/budget-control/reservations',
            setupRequest: (req) => {
              const bucket = pick();
              return {
                ...req,
                headers: {
                  'content-type': 'application/json',
                  'x-api-key': 'dev-procurement',
                  'idempotency-key': `${label}-${process.pid}-${n++}`,
                },
                body: JSON.stringify({
                  legalEntity,
                  lines: [{ ...bucket, period: PERIOD, amount: { amount: '1.00', currency: 'USD' } }],
                }),
              };
            },
          },
        ],
      };
      // Where the two cores went during the run: the API process, PostgreSQL, and this load generator.
      const before = { api: treeCpuSeconds(target.pid), pg: postgresCpuSeconds(), self: process.cpuUsage() };
      const started = Date.now();
      const result = await new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(options, (err, res) => (err ? reject(err as Error) : resolve(res)));
        instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
      });
      const wall = (Date.now() - started) / 1000;
      const self = process.cpuUsage(before.self);
      const pct = (s: number) => Math.round((100 * s) / wall);
      const msEach = (s: number) => Number(((1000 * s) / Math.max(1, result.requests.total)).toFixed(3));
      const used = { api: treeCpuSeconds(target.pid) - before.api, pg: postgresCpuSeconds() - before.pg };
      cpu[label] = {
        apiPercent: pct(used.api),
        postgresPercent: pct(used.pg),
        loadGeneratorPercent: pct((self.user + self.system) / 1e6),
        apiMsPerRequest: msEach(used.api),
        postgresMsPerRequest: msEach(used.pg),
        loadGeneratorMsPerRequest: msEach((self.user + self.system) / 1e6),
      };
      latencies.sort((a, b) => a - b);
      return {
        throughput: result.requests.total / seconds,
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        errors: result.errors + result.timeouts + result.non2xx,
        requests: result.requests.total,
      };
    };
    console.log(
      `[bench] closeloop: POST /v1/budget-control/reservations, ${connections} connections, ${seconds} s each…`,
    );
    const random = (k: number) => Math.floor(Math.random() * k);
    const pickSpread = () => ({
      account: ACCOUNTS[random(ACCOUNTS.length)]!,
      costCenter: `B${random(costCenters) + 1}`,
    });
    const spread = await run('spread', pickSpread);
    const hot = await run('hot', () => ({ account: '600100', costCenter: 'B1' }));
    const overlapping = await run(
      'overlapping',
      () => ({
        account: MFG_ACCOUNTS[random(MFG_ACCOUNTS.length)]!,
        costCenter: `M${random(mfgCostCenters) + 1}`,
        dimensions: { department: DEPARTMENTS[random(DEPARTMENTS.length)]! },
      }),
      MFG,
    );

    // Latency where it means something: a fixed arrival rate at half the maximum the closed loop reached,
    // closeloop (vegeta, measuring from each request's intended send time) beside pgbench -R at the same rate.
    // Then 1.5× the maximum, where closeloop must shed (503, Retry-After) rather than queue without end; then
    // the overload's keys sent again at half the rate: each is decided once (the audit below checks the sums).
    const vegeta = await ensureVegeta((l) => console.log(`[bench] ${l}`));
    const half = Math.max(1, Math.round(spread.throughput / 2));
    const overRate = Math.max(2, Math.round(spread.throughput * 1.5));
    const spreadTargets = (label: string, count: number): HttpTarget[] =>
      Array.from({ length: count }, (_x, i) => ({
        method: 'POST',
        url: `${server.url}/v1/budget-control/reservations`,
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'dev-procurement',
          'idempotency-key': `${label}-${process.pid}-${i}`,
        },
        body: JSON.stringify({
          legalEntity: 'ACME-US',
          lines: [{ ...pickSpread(), period: PERIOD, amount: { amount: '1.00', currency: 'USD' } }],
        }),
      }));
    console.log(`[bench] open loop: ${half} req/s (half the closed loop's maximum), ${seconds} s each…`);
    const ceilingOpen = pgbenchAtRate(pgbenchPath(), url.toString(), update(`'B' || :n`), {
      clients: connections,
      seconds,
      rate: half,
    });
    const open = vegetaAtRate(vegeta, spreadTargets('open', half * seconds), { seconds, rate: half });
    console.log(
      `[bench] overload: ${overRate} req/s (1.5× the maximum), then its keys again at ${half} req/s…`,
    );
    const overloadTargets = spreadTargets('overload', overRate * seconds);
    const overload = vegetaAtRate(vegeta, overloadTargets, { seconds, rate: overRate });
    const recovery = vegetaAtRate(vegeta, overloadTargets.slice(0, half * seconds), { seconds, rate: half });
    await server.stop();

    // The HTTP floor: the same load against Express with the API's body parser and authentication answering a
    // fixed reservation (no validation, no database), as many processes, on this machine. No Express route can
    // answer faster here, so it bounds what any decision behind it can reach.
    console.log(`[bench] HTTP floor: Express answering a fixed reservation, ${connections} connections…`);
    const floorServer = await startApiProcess(
      url.toString(),
      Number(values.pool),
      Number(values['api-processes']),
      undefined,
      true,
    );
    const floor = await run('floor', pickSpread, 'ACME-US', floorServer);
    await floorServer.stop();

    // The audit: nothing over budget, and the held reservations are exactly what the balances say is reserved.
    // Each manufacturer line holds in its two control budgets too.
    const [audit] = await sql<
      { overspent: number; reserved: string; held: string; budgetsReserved: string; budgetsHeld: string }[]
    >`
      select (select count(*)::int from control_balances where reserved + committed + actual > budget)
             + (select count(*)::int from control_budget_balances where reserved + committed + actual > budget) as overspent,
             (select coalesce(sum(reserved), 0)::text from control_balances) as reserved,
             (select coalesce(sum(amount), 0)::text from funds_reservations where status = 'held') as held,
             (select coalesce(sum(reserved), 0)::text from control_budget_balances) as "budgetsReserved",
             (select coalesce(sum((h->>'amount')::numeric), 0)::text
                from funds_reservations, jsonb_array_elements(holds) h where status = 'held') as "budgetsHeld"`;
    const consistent =
      Number(audit!.reserved) === Number(audit!.held) &&
      Number(audit!.budgetsReserved) === Number(audit!.budgetsHeld);

    const report = (name: string, ceiling: Figures, closeloop: Figures) => ({
      ceilingTps: Math.round(ceiling.throughput),
      ceilingLatencyAvgMs: ceiling.p50,
      closeloopRps: Math.round(closeloop.throughput),
      ratio: Number((closeloop.throughput / ceiling.throughput).toFixed(2)),
      p50Ms: closeloop.p50,
      p95Ms: closeloop.p95,
      p99Ms: closeloop.p99,
      errors: closeloop.errors,
      requests: closeloop.requests,
      name,
    });
    Object.assign(results, {
      spread: report(`${buckets.toLocaleString('en')} buckets, uniform`, ceilingSpread, spread),
      hot: report('one hot bucket', ceilingHot, hot),
      overlapping: report('+ 2 control budgets/line', ceilingSpread, overlapping),
      httpFloor: report('HTTP floor (Express, fixed answer)', ceilingSpread, floor),
      audit: {
        overspentBuckets: audit!.overspent,
        reservedInBalances: audit!.reserved,
        heldReservations: audit!.held,
        reservedInControlBudgets: audit!.budgetsReserved,
        heldInControlBudgets: audit!.budgetsHeld,
        consistent,
      },
      openLoop: {
        rate: half,
        ceiling: ceilingOpen,
        closeloop: open,
        p99OverCeilingMs: Number((open.p99 - ceilingOpen.p99).toFixed(2)),
      },
      overload: {
        rate: overRate,
        statuses: overload.statuses,
        shedPercent: Math.round((100 * (overload.statuses['503'] ?? 0)) / Math.max(1, overload.requests)),
        p99Ms: overload.p99,
      },
      recovery: { rate: half, statuses: recovery.statuses, p99Ms: recovery.p99 },
      targets: {
        spread: 'ratio >= 0.6',
        hot: 'ratio >= 2',
        openLoop: 'p99 <= pgbench -R p99 + 5 ms',
        overload: 'sheds with 503 and Retry-After; recovers; no key reserved twice',
      },
      cpu: {
        cores: os.cpus().length,
        ceilingPostgresMsPerTransaction: Number(ceilingPostgresMs.toFixed(3)),
        ...cpu,
      },
      ...(profileDir ? { apiProfile: summariseCpuProfile(profileDir) } : {}),
    });
    for (const key of ['spread', 'overlapping', 'hot', 'httpFloor'] as const) {
      const r = results[key] as ReturnType<typeof report>;
      console.log(
        `[bench] ${r.name.padEnd(34)} ceiling ${String(r.ceilingTps).padStart(6)} tps | ${key === 'httpFloor' ? 'floor    ' : 'closeloop'} ${String(r.closeloopRps).padStart(6)} req/s | ratio ${r.ratio} | p50 ${r.p50Ms.toFixed(1)} ms p95 ${r.p95Ms.toFixed(1)} ms p99 ${r.p99Ms.toFixed(1)} ms | errors ${r.errors}`,
      );
    }
    console.log(
      `[bench] open loop at ${half} req/s: closeloop p50 ${open.p50.toFixed(1)} ms p95 ${open.p95.toFixed(1)} ms p99 ${open.p99.toFixed(1)} ms | pgbench -R p50 ${ceilingOpen.p50.toFixed(1)} ms p95 ${ceilingOpen.p95.toFixed(1)} ms p99 ${ceilingOpen.p99.toFixed(1)} ms | statuses ${JSON.stringify(open.statuses)}`,
    );
    console.log(
      `[bench] overload at ${overRate} req/s: statuses ${JSON.stringify(overload.statuses)}, p99 ${overload.p99.toFixed(1)} ms; its keys again at ${half} req/s: statuses ${JSON.stringify(recovery.statuses)}, p99 ${recovery.p99.toFixed(1)} ms`,
    );
    // What bounds the spread on this machine: were closeloop's own Node.js code free (the API costing what the
    // floor's Express does), each request would still cost the floor's CPU, the load generator's and what
    // PostgreSQL spends on a reservation; the cores divided by that sum is the most the spread could reach.
    const bound =
      (1000 * os.cpus().length) /
      (cpu.floor!.apiMsPerRequest + cpu.spread!.postgresMsPerRequest + cpu.spread!.loadGeneratorMsPerRequest);
    Object.assign(results, {
      spreadBound: {
        requestsPerSecond: Math.round(bound),
        ratio: Number((bound / ceilingSpread.throughput).toFixed(2)),
      },
    });
    console.log(
      `[bench] PostgreSQL CPU per transaction: ceiling ${ceilingPostgresMs.toFixed(3)} ms, closeloop's reservation ${cpu.spread!.postgresMsPerRequest} ms; with closeloop's Node.js code as cheap as the floor's, the spread could reach at most ${Math.round(bound)} req/s (ratio ${(bound / ceilingSpread.throughput).toFixed(2)}) on ${os.cpus().length} cores`,
    );
    for (const [label, c] of Object.entries(cpu)) {
      console.log(
        `[bench] CPU during ${label} (${os.cpus().length} cores = ${100 * os.cpus().length}%): API ${c.apiPercent}%, PostgreSQL ${c.postgresPercent}%, load generator ${c.loadGeneratorPercent}%; CPU per request: API ${c.apiMsPerRequest} ms, PostgreSQL ${c.postgresMsPerRequest} ms`,
      );
    }
    const profile = results.apiProfile as ReturnType<typeof summariseCpuProfile>;
    if (profile) {
      console.log(`[bench] API CPU profile (${profile.seconds} s sampled), self time by layer:`);
      for (const l of profile.layers) console.log(`[bench]   ${String(l.percent).padStart(5)}%  ${l.name}`);
      console.log('[bench] heaviest functions:');
      for (const f of profile.functions)
        console.log(`[bench]   ${String(f.percent).padStart(5)}%  ${f.name}`);
    }
    console.log(
      `[bench] overspent buckets: ${audit!.overspent}; reservations ${consistent ? 'match' : 'DO NOT match'} the balances`,
    );
    console.log(`[bench] figures written to ${writeFigures('budget-check.json', results)}`);
    if (audit!.overspent !== 0 || !consistent) process.exitCode = 1;
  } finally {
    await sql.end();
    await scratch.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
