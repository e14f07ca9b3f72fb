import { spawn } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Finds a pinned Go tool, or builds it with `go install` into a cache outside the clone: the Temporal CLI
 * (its SDK download needs internet access we do not assume) and the local mail sink. Order: the tool's
 * environment override, the cache, the tool on PATH, then `go install`.
 */

export interface GoTool {
  /** For messages: "Temporal CLI". */
  label: string;
  /** The cache folder's name and the binary's: "temporal". */
  binary: string;
  module: string;
  version: string;
  /** An environment variable naming a binary to use instead (TEMPORAL_CLI_PATH). */
  pathVariable: string;
}

export function goToolCacheDir(tool: Pick<GoTool, 'binary' | 'version'>): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'closeloop', tool.binary, tool.version);
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function findGo(): Promise<string | undefined> {
  if (process.env.GO && (await isExecutable(process.env.GO))) return process.env.GO;
  return (
    (await onPath('go')) ??
    ((await isExecutable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined)
  );
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** A build lock: mkdir is atomic; a lock older than 30 minutes is from a dead build and is taken over. */
async function withLock<T>(
  dir: string,
  label: string,
  fn: () => Promise<T>,
  log: (l: string) => void,
): Promise<T> {
  const lock = path.join(dir, '.build.lock');
  for (let waited = 0; ; waited += 2) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 30 * 60_000) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (waited % 30 === 0) log(`another process is building ${label}; waiting…`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export async function ensureGoTool(
  tool: GoTool,
  log: (line: string) => void = () => undefined,
): Promise<string> {
  const { label, binary, module, version } = tool;
  const explicit = process.env[tool.pathVariable];
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new Error(`${tool.pathVariable}=${explicit} is not an executable file`);
  }
  const dir = goToolCacheDir(tool);
  const cached = path.join(dir, binary);
  if (await isExecutable(cached)) return cached;
  const fromPath = await onPath(binary);
  if (fromPath) return fromPath;

  const go = await findGo();
  if (!go) {
    throw new Error(
      `the ${label} was not found and cannot be built. Either set ${tool.pathVariable} to a ${binary} binary, ` +
        `put \`${binary}\` on PATH, or install Go ≥ 1.22 so closeloop can run \`go install ${module}@${version}\`.`,
    );
  }
  await mkdir(dir, { recursive: true });
  return withLock(
    dir,
    label,
    async () => {
      if (await isExecutable(cached)) return cached;
      const gobin = await mkdtemp(path.join(dir, 'build-'));
      const started = Date.now();
      log(`building ${label} ${version} with ${go} (first run only, a few minutes)…`);
      try {
        const { code, output } = await run(go, ['install', `${module}@${version}`], {
          ...process.env,
          GOBIN: gobin,
          CGO_ENABLED: '0',
        });
        if (code !== 0 || !existsSync(path.join(gobin, binary))) {
          throw new Error(
            `go install ${module}@${version} failed (exit ${code}):\n${output.split('\n').slice(-20).join('\n')}`,
          );
        }
        await rename(path.join(gobin, binary), cached);
        log(`built ${label} ${version} in ${((Date.now() - started) / 1000).toFixed(0)}s → ${cached}`);
        return cached;
      } finally {
        await rm(gobin, { recursive: true, force: true });
      }
    },
    log,
  );
}
