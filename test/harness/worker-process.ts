import { type ChildProcess, spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../config/paths';
import { WORKER_NODE_FLAGS } from '../../workers/node-flags';
import { type TestStack } from './stack';

/** SIGKILL to the worker's whole process group: a lost node, with no chance to clean up. */
export function killHard(child: ChildProcess | undefined) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ESRCH') throw err;
  }
}

/** Starts `npm run worker` as its own process, joined to the stack; resolves once it polls. */
export async function workerProcess(
  stack: TestStack,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...WORKER_NODE_FLAGS, ...nodeArgs, 'workers/main.ts'],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...stack.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so the kill reaches the worker itself, not only the npx in front of it.
      detached: true,
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('closeloop worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${output}`));
    });
  });
  return child;
}

/** Runs `run` while a worker process polls the stack's queue, and kills the worker after, whatever happens. */
export async function withWorkerProcess<T>(
  stack: TestStack,
  run: (worker: ChildProcess) => Promise<T>,
  options: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<T> {
  const worker = await workerProcess(stack, options.env, options.nodeArgs);
  try {
    return await run(worker);
  } finally {
    killHard(worker);
  }
}
