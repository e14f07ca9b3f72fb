import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { onPath } from './go-tool';

/** Whether this process may install Debian packages: root on Debian or Ubuntu, with apt-get. */
export async function canAptGet(): Promise<boolean> {
  return process.getuid?.() === 0 && existsSync('/etc/debian_version') && Boolean(await onPath('apt-get'));
}

/** `apt-get update`, then `apt-get install` of the packages, non-interactive; `hint` ends a failure's message. */
export async function aptGetInstall(packages: string[], hint: string): Promise<void> {
  await aptGet(['update', '-qq'], hint);
  await aptGet(['install', '-y', '-qq', ...packages], hint);
}

function aptGet(args: string[], hint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`apt-get ${args.join(' ')} failed (exit ${code}):\n${output}\n${hint}`)),
    );
  });
}
