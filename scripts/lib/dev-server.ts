import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { PROJECT_ROOT } from '../../config/paths';
import { type DevServerOverrides, startDevArgs, type TemporalDevConfig } from '../../config/temporal-dev';

export interface RunningDevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A port free now, for a process started next to listen on. It is picked below the operating systems'
 * ephemeral ranges (Linux 32768–60999, macOS and Windows from 49152): a port the OS handed out would be free
 * again after the check, and any outgoing connection could take it as its own local port before the child
 * binds it.
 */
const handedOut = new Set<number>();
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    // Never the same port twice from this process (callers ask for several at once, before any binds).
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port found on ${host} between 20000 and 32000`);
}

function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs `temporal server start-dev` with the flags from temporal-dev.yaml and resolves once the namespace
 * answers, so callers never race a half-started server.
 */
export async function startDevServer(opts: {
  cliPath: string;
  config: TemporalDevConfig;
  overrides?: DevServerOverrides;
  output?: 'inherit' | 'ignore' | { file: string };
  readyTimeoutMs?: number;
}): Promise<RunningDevServer> {
  const { config, overrides = {} } = opts;
  const ip = overrides.ip ?? config.server.ip;
  const port = overrides.port ?? config.server.port;
  if (await portTaken(ip, port)) {
    throw new Error(
      `${ip}:${port} is already in use: is another \`npm start\` (or Temporal server) running? Stop it, or set TEMPORAL_ADDRESS to use it.`,
    );
  }
  const db = overrides.dbFilename === undefined ? config.server.dbFilename : overrides.dbFilename;
  if (db) mkdirSync(path.dirname(path.resolve(PROJECT_ROOT, db)), { recursive: true });

  const child = spawn(opts.cliPath, startDevArgs(config, overrides), { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keepTail = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stdout.on('data', keepTail);
  child.stderr.on('data', keepTail);
  const output = opts.output ?? 'ignore';
  if (output === 'inherit') {
    child.stdout.pipe(process.stdout);
    child.stderr.pipe(process.stderr);
  } else if (typeof output === 'object') {
    mkdirSync(path.dirname(output.file), { recursive: true });
    const file = createWriteStream(output.file, { flags: 'a' });
    child.stdout.pipe(file);
    child.stderr.pipe(file);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const stop = async () => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const address = `${ip}:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (hasExited)
      throw new Error(`temporal server start-dev exited early:\n${tail.split('\n').slice(-15).join('\n')}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      try {
        await connection.workflowService.describeNamespace({ namespace: config.server.namespace });
        break;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`Temporal dev server at ${address} was not ready in time: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    namespace: config.server.namespace,
    uiUrl: overrides.headless ? undefined : `http://${ip}:${overrides.uiPort ?? config.server.uiPort}`,
    pid: child.pid!,
    stop,
  };
}
