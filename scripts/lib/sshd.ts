import { aptGetInstall, canAptGet } from './debian-package';
import { isExecutable, onPath } from './go-tool';

/**
 * The OpenSSH server the SFTP tests start on a free port of their own (test/harness/sshd.ts): SSHD_PATH, then
 * `/usr/sbin/sshd` or `sshd` on PATH; `npm run tools:ensure` installs Debian's `openssh-server` when none is found
 * and it runs as root on Debian or Ubuntu (no service is started: the tests run their own).
 */
export const INSTALL_SSHD =
  'No OpenSSH server (sshd) was found for the SFTP tests: install one (Debian or Ubuntu: `sudo apt-get install openssh-server`; macOS has /usr/sbin/sshd), or set SSHD_PATH to its binary.';

export async function findSshd(): Promise<string | undefined> {
  const explicit = process.env.SSHD_PATH;
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new Error(`SSHD_PATH=${explicit} is not an executable file`);
  }
  if (await isExecutable('/usr/sbin/sshd')) return '/usr/sbin/sshd';
  return onPath('sshd');
}

export async function ensureSshd(log: (line: string) => void = () => undefined): Promise<string> {
  const found = await findSshd();
  if (found) return found;
  if (await canAptGet()) {
    const started = Date.now();
    log("installing Debian's openssh-server package with apt-get (first run only)…");
    await aptGetInstall(['openssh-server'], INSTALL_SSHD);
    const installed = await findSshd();
    if (installed) {
      log(`installed openssh-server in ${((Date.now() - started) / 1000).toFixed(0)}s → ${installed}`);
      return installed;
    }
  }
  throw new Error(INSTALL_SSHD);
}
