import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/dev-server';
import { findSshd, INSTALL_SSHD } from '../../scripts/lib/sshd';

/**
 * A real OpenSSH server for the SFTP tests, on a free port of its own: its own config, a host key generated for
 * it, key authentication only (a client key generated for the test), and `internal-sftp`. Nothing of the
 * machine's SSH setup is used or changed. `npm run tools:ensure` installs sshd where it can.
 */
export interface RunningSshd {
  host: string;
  port: number;
  username: string;
  /** The server's public host key, as known_hosts holds it. */
  hostKey: string;
  /** A private key the server accepts, and one it does not. */
  clientKeyFile: string;
  strangerKeyFile: string;
  /** A directory the tests may use as SFTP inboxes (absolute, on the server). */
  root: string;
  stop(): Promise<void>;
}

const keygen = (file: string) =>
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'closeloop-test', '-f', file]);

export async function startSshd(): Promise<RunningSshd> {
  const sshd = await findSshd();
  if (!sshd) throw new Error(INSTALL_SSHD);
  const dir = await mkdtemp(join(tmpdir(), 'closeloop-sshd-'));
  const root = join(dir, 'sftp');
  await mkdir(root);
  for (const k of ['host', 'client', 'stranger']) keygen(join(dir, k));
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client.pub')));
  const port = await freePort();
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      // The keys live in a temporary directory owned by the test, not a home directory sshd would vet.
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      `AllowUsers ${userInfo().username}`,
    ].join('\n') + '\n',
  );
  // As root, sshd wants its privilege separation directory (the package's service would make it).
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true });
  const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (i > 100) throw new Error(`sshd did not listen on ${port} within 10 s: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: '127.0.0.1',
    port,
    username: userInfo().username,
    hostKey: (await readFile(join(dir, 'host.pub'), 'utf8')).trim(),
    clientKeyFile: join(dir, 'client'),
    strangerKeyFile: join(dir, 'stranger'),
    root,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
