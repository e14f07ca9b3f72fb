import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config/paths';
import { freePort } from '../../scripts/lib/dev-server';
import { WORKER_NODE_FLAGS } from '../../workers/node-flags';

/** Processes started as a user starts them (`npm start`, `npm run worker`), and what they leave behind. */

export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The live processes of a process group: what a launcher started and left behind, if anything. */
export function processGroup(pgid: number): string[] {
  if (!existsSync('/proc/self/stat')) {
    return execFileSync('ps', ['-eo', 'pgid=,stat=,pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim().split(/\s+/)[0] === String(pgid) && !l.trim().split(/\s+/)[1]?.startsWith('Z'));
  }
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z')
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export interface Launched {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function launch(cwd: string, env: NodeJS.ProcessEnv, script: string): Launched {
  // `npm start` runs scripts/start.ts through node with the worker's flags; so does this, so its own exit code
  // is what we see.
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, '--import', 'tsx', script], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // a process group of its own, as a terminal gives it: what it starts is found by that
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitFor(l: Launched, text: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void l.exited.then(() => (exited = true));
  while (!l.output().includes(text)) {
    if (exited) {
      const left = processGroup(l.child.pid!);
      throw new Error(
        `${what} exited with ${l.child.exitCode}${left.length ? `, leaving running:\n${left.join('\n')}` : ''}:\n${l.output()}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready:\n${l.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Ports for a whole `npm start` of its own (dev server, UI, API, simulators, mail sink), the environment
 * that moves it there, and `temporal-dev.yaml` with the dev server moved (in memory: no dbFilename), written
 * to `devConfig`: every process started with that environment finds it, as in a user's clone.
 */
export async function ownPorts(devConfig: string) {
  const [temporal, ui, pg, api, d365, anaplan, procurement, oracle, sap, netsuite, smtp, mail, adaptive] =
    await Promise.all(Array.from({ length: 13 }, () => freePort()));
  writeFileSync(
    devConfig,
    readFileSync(path.join(PROJECT_ROOT, 'temporal-dev.yaml'), 'utf8')
      .replace(/^(\s+port:) \d+$/m, `$1 ${temporal}`)
      .replace(/^(\s+uiPort:) \d+$/m, `$1 ${ui}`)
      .replace(/^\s+dbFilename:.*$/m, ''),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    API_PORT: String(api),
    D365_SIMULATOR_PORT: String(d365),
    ANAPLAN_SIMULATOR_PORT: String(anaplan),
    ADAPTIVE_SIMULATOR_PORT: String(adaptive),
    PROCUREMENT_SIMULATOR_PORT: String(procurement),
    ORACLE_SIMULATOR_PORT: String(oracle),
    SAP_SIMULATOR_PORT: String(sap),
    NETSUITE_SIMULATOR_PORT: String(netsuite),
    MAIL_SINK_SMTP_PORT: String(smtp),
    MAIL_SINK_HTTP_PORT: String(mail),
    WORKFLOW_BUNDLE_PATH: process.env.CLOSELOOP_TEST_WORKFLOW_BUNDLE,
  };
  for (const name of [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_DEV_CONFIG',
    'CLOSELOOP_API_URL',
    'CLOSELOOP_DATA_DIR',
    'CLOSELOOP_POSTGRES',
    'EMBEDDED_POSTGRES_PORT',
    'EMBEDDED_POSTGRES_DIR',
    'EMBEDDED_POSTGRES_RUNTIME_DIR',
  ])
    delete env[name];
  return {
    temporal: temporal!,
    ui: ui!,
    pg: pg!,
    api: api!,
    mail: mail!,
    env,
    all: [temporal!, pg!, api!, d365!, anaplan!, procurement!, smtp!, mail!],
  };
}
