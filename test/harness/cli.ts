import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli';
import { type TestStack } from './stack';

const run = promisify(execFile);

/** `npm run closeloop -- <args>` against the stack's API, as the principal of `key`. */
export function closeloopCli(stack: TestStack, key: string, ...args: string[]) {
  return run('npx', ['tsx', 'scripts/closeloop.ts', ...args], {
    env: { ...process.env, ...stack.env, API_PORT: new URL(stack.api!.url).port, CLOSELOOP_API_KEY: key },
  });
}

/** A `temporal …` command line as closeloop prints it for an approver, run with the pinned Temporal CLI. */
export async function runTemporalCommand(command: string) {
  if (!command.startsWith('temporal ')) throw new Error(`not a temporal command: ${command}`);
  return run('bash', ['-c', `'${await ensureTemporalCli()}'${command.slice('temporal'.length)}`]);
}
