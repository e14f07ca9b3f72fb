import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the benchmark's CPU goes: the CPU seconds each party used during a run (from /proc, Linux), and a
 * summary of the API process's V8 CPU profile (`node --cpu-prof`) by layer and by function.
 */

const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * CPU seconds a process has used so far (utime + stime), and those of its children that have ended (cutime +
 * cstime); zeros when it is gone or /proc is absent.
 */
function processTimes(pid: number): { own: number; endedChildren: number } {
  try {
    // Fields after the command name (which may hold spaces, hence the last ')'): utime, stime, cutime and
    // cstime are fields 14 to 17 of the line.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return { own: (f[11]! + f[12]!) / CLOCK_TICKS, endedChildren: (f[13]! + f[14]!) / CLOCK_TICKS };
  } catch {
    return { own: 0, endedChildren: 0 };
  }
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone or /proc is absent. */
function cpuSeconds(pid: number): number {
  return processTimes(pid).own;
}

/** CPU seconds a process and its live children (an API's cluster processes) have used so far. */
export function treeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    // No /proc: the process alone.
  }
  return cpuSeconds(pid) + children.reduce((sum, child) => sum + treeCpuSeconds(child), 0);
}

/** Every process on this machine whose command is `name` (PostgreSQL's postmaster and backends, the Temporal CLI). */
function processesNamed(name: string): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** CPU seconds of the Temporal dev servers running on this machine (`temporal server start-dev`). */
export function temporalCpuSeconds(): number {
  return processesNamed('temporal').reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** CPU seconds of PostgreSQL's processes, counting backends that exited during the run via their parent's children time. */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of processesNamed('postgres')) {
    const t = processTimes(pid);
    total += t.own + t.endedChildren;
  }
  return total;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const LAYERS: [string, RegExp][] = [
  ['idle (waiting for I/O)', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['V8 and native (program)', /^\(program\)$/],
  ['sockets and streams (node:net, node:stream)', /node:(net|stream|internal\/(stream|net|streams))/],
  ['HTTP server (node:http, _http_*)', /node:(_http|http|internal\/http)/],
  [
    'express, body parsing, routing',
    /node_modules\/(express|body-parser|router|raw-body|iconv-lite|qs|type-is|content-type|finalhandler|send|on-finished)/,
  ],
  ['postgres driver', /node_modules\/postgres\//],
  ['drizzle-orm', /node_modules\/drizzle-orm\//],
  ['zod', /node_modules\/zod\//],
  ['closeloop code', /\/(api|db|domain|config)\//],
  ['other node internals', /^node:/],
  ['other packages', /node_modules/],
];

/** Self time of the API's CPU profile by layer, and its heaviest functions. */
export function summariseCpuProfile(dir: string) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const layers = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const key = url || functionName;
    const layer = LAYERS.find(([, re]) => re.test(key) || re.test(functionName))?.[0] ?? 'other';
    layers.set(layer, (layers.get(layer) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(api|db|domain|config)\//, '$1/')}:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const percent = (us: number) => Math.round((1000 * us) / total) / 10;
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, percent: percent(us) }));
  return {
    seconds: Math.round(total / 1e4) / 100,
    layers: top(layers, LAYERS.length + 1),
    functions: top(functions, 12),
  };
}

/** CPU seconds used so far by each party: the dev server, PostgreSQL, closeloop's worker process, this process. */
export const cpuNow = (workerPid?: number) => {
  const own = process.cpuUsage();
  return {
    temporal: temporalCpuSeconds(),
    postgres: postgresCpuSeconds(),
    worker: workerPid ? treeCpuSeconds(workerPid) : 0,
    bench: (own.user + own.system) / 1e6,
  };
};
export const cpuSince = (before: ReturnType<typeof cpuNow>, workerPid?: number) => {
  const now = cpuNow(workerPid);
  const r = (k: keyof typeof now) => Number((now[k] - before[k]).toFixed(1));
  return { temporal: r('temporal'), postgres: r('postgres'), worker: r('worker'), bench: r('bench') };
};
