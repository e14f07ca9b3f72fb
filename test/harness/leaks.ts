import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * What keeps this process from exiting: the libuv handles and requests and the timers that are ref'd
 * (`process.getActiveResourcesInfo()` leaves unref'd ones out), and the processes it started. A jest worker
 * still holding one when its test files are done cannot exit, and jest reports that it "failed to exit
 * gracefully" and kills it; so a test stack takes a census when it starts and, at teardown, checks that
 * nothing was added since.
 */
export interface Census {
  /** Resource type → how many, e.g. `{ TCPSocketWrap: 2, Timeout: 1 }`. */
  resources: Map<string, number>;
  /** This process's live descendants (zombies are dead already), by pid: their command lines. */
  processes: Map<number, string>;
}

export function census(): Census {
  const resources = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) resources.set(type, (resources.get(type) ?? 0) + 1);
  return { resources, processes: descendants() };
}

interface ProcessEntry {
  pid: number;
  ppid: number;
  zombie: boolean;
  command: string;
}

function processTable(): ProcessEntry[] {
  if (existsSync('/proc/self/stat')) {
    const table: ProcessEntry[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after its last ')'.
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
        table.push({
          pid: Number(name),
          ppid: Number(ppid),
          zombie: state === 'Z' || state === 'X',
          command: argv.length
            ? argv.join(' ')
            : `[${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}]`,
        });
      } catch {
        // it ended while we looked
      }
    }
    return table;
  }
  // No /proc (macOS): ps lists every process with its parent; the ps itself, our child, is left out.
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat=,command='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, pid, ppid, stat, command]) => ({
      pid: Number(pid),
      ppid: Number(ppid),
      zombie: stat!.startsWith('Z'),
      command: command!,
    }))
    .filter((p) => !(p.ppid === process.pid && p.command.startsWith('ps -A -o ')));
}

function descendants(): Map<number, string> {
  const table = processTable();
  const found = new Map<number, string>();
  let parents = new Set([process.pid]);
  while (parents.size) {
    const next = new Set<number>();
    for (const p of table) {
      if (!parents.has(p.ppid) || p.pid === process.pid) continue;
      if (!p.zombie) found.set(p.pid, p.command);
      next.add(p.pid);
    }
    parents = next;
  }
  return found;
}

/**
 * What stays: two censuses `ms` apart, keeping what both saw (the fewer of each resource, the processes in
 * both), so that something only passing through — a timer jest's reporter runs for 100 ms when a file
 * starts — is not taken for part of the background, where it would hide one a stack leaves behind.
 */
export async function steadyCensus(ms = 150): Promise<Census> {
  const first = census();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const second = census();
  const resources = new Map<string, number>();
  for (const [type, count] of first.resources) {
    resources.set(type, Math.min(count, second.resources.get(type) ?? 0));
  }
  const processes = new Map([...first.processes].filter(([pid]) => second.processes.has(pid)));
  return { resources, processes };
}

/** What `after` holds beyond `before`: surplus resources by type, and processes started since. */
export function leftBehind(before: Census, after: Census): string[] {
  const leaks: string[] = [];
  for (const [type, count] of after.resources) {
    const extra = count - (before.resources.get(type) ?? 0);
    if (extra > 0) leaks.push(`${extra} × ${type}`);
  }
  for (const [pid, command] of after.processes) {
    if (!before.processes.has(pid)) leaks.push(`process ${pid}: ${command.slice(0, 300)}`);
  }
  return leaks;
}

/**
 * Waits up to `graceMs` for everything added since `before` to be gone (a socket's handle is freed a tick
 * after its server's close callback, a killed child is reaped a moment after its exit event), then fails
 * naming what is still there.
 */
export async function assertNothingLeftBehind(before: Census, what: string, graceMs = 3000): Promise<void> {
  const deadline = Date.now() + graceMs;
  let leaks = leftBehind(before, census());
  while (leaks.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    leaks = leftBehind(before, census());
  }
  if (leaks.length) {
    throw new Error(
      `${what} left behind what keeps a jest worker from exiting (still there ${graceMs} ms after teardown):\n` +
        `  ${leaks.join('\n  ')}\n` +
        'Close it in the teardown that owns it (run the file with --detectOpenHandles to see where it was opened).',
    );
  }
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection. A jest worker keeps what every test file it ran left for the collector, and
 * with a large heap limit and no memory pressure V8 never collects it: after a whole `npm test` each worker
 * held about a gigabyte of heap (1.3 GB resident), and tearing that down when the worker exits took some
 * 0.8 s, longer than the 500 ms jest-worker allows before it kills the worker ("a worker process has failed
 * to exit gracefully"). The test environment (test/harness/environment.ts) collects after every file, once its
 * modules are dropped, so a worker ends with next to nothing.
 */
export function collectGarbage(): void {
  if (!gc) {
    // The flag only puts `gc` on contexts made while it is set: this one, not the test files' after it.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
    setFlagsFromString('--no-expose-gc');
  }
  gc();
}
