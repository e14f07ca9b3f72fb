import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Latency percentiles in milliseconds, each request measured from the time it was meant to be sent. */
export interface OpenLoopFigures {
  rate: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  /** Answers by HTTP status (vegeta) or completed transactions (pgbench: "ok"). */
  statuses: Record<string, number>;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN;

/**
 * pgbench at a fixed arrival rate (`-R`): each transaction's latency is counted from its scheduled start (the
 * per-transaction log's time column includes the schedule lag), so it is the database's own open-loop figure.
 */
export function pgbenchAtRate(
  pgbench: string,
  url: string,
  script: string,
  opts: { clients: number; seconds: number; rate: number },
): OpenLoopFigures {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-pgbench-'));
  try {
    const file = path.join(dir, 'script.sql');
    writeFileSync(file, script);
    execFileSync(
      pgbench,
      [
        '-n',
        '-c',
        String(opts.clients),
        '-j',
        String(Math.min(opts.clients, os.cpus().length)),
        '-T',
        String(opts.seconds),
        '-R',
        String(opts.rate),
        '-l',
        `--log-prefix=${path.join(dir, 'tx')}`,
        '-f',
        file,
        url,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Log lines: client_id transaction_no time script_no time_epoch time_us [schedule_lag], time in µs.
    const latencies = readdirSync(dir)
      .filter((f) => f.startsWith('tx'))
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
      .filter(Boolean)
      .map((l) => Number(l.split(' ')[2]) / 1000)
      .sort((a, b) => a - b);
    return {
      rate: opts.rate,
      requests: latencies.length,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      statuses: { ok: latencies.length },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface HttpTarget {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * vegeta at a fixed arrival rate over the given targets (one per request, in order): it sends on schedule
 * whatever the answers' latency, so queueing in the server shows in the figures.
 */
export function vegetaAtRate(
  vegeta: string,
  targets: HttpTarget[],
  opts: { seconds: number; rate: number },
): OpenLoopFigures {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-vegeta-'));
  try {
    const file = path.join(dir, 'targets.json');
    writeFileSync(
      file,
      targets
        .map((t) =>
          JSON.stringify({
            method: t.method,
            url: t.url,
            header: Object.fromEntries(Object.entries(t.headers).map(([k, v]) => [k, [v]])),
            body: Buffer.from(t.body).toString('base64'),
          }),
        )
        .join('\n'),
    );
    const results = path.join(dir, 'results.bin');
    execFileSync(
      vegeta,
      [
        'attack',
        '-format=json',
        `-targets=${file}`,
        `-rate=${opts.rate}/1s`,
        `-duration=${opts.seconds}s`,
        '-timeout=30s',
        '-max-body=0',
        `-output=${results}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const report = JSON.parse(
      execFileSync(vegeta, ['report', '-type=json', results], { encoding: 'utf8' }),
    ) as { requests: number; latencies: Record<string, number>; status_codes: Record<string, number> };
    const ms = (ns: number | undefined) => (ns ?? Number.NaN) / 1e6;
    return {
      rate: opts.rate,
      requests: report.requests,
      p50: ms(report.latencies['50th']),
      p95: ms(report.latencies['95th']),
      p99: ms(report.latencies['99th']),
      statuses: report.status_codes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
