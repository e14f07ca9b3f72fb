import { ensureChromium } from './lib/browser';
import { ensureMailpit } from './lib/mail-sink';
import { ensureVegeta } from './lib/load-generator';
import { ensureSshd } from './lib/sshd';
import { ensureTemporalCli } from './lib/temporal-cli';

/**
 * npm run tools:ensure — finds or builds the pinned Go tools closeloop runs (the Temporal CLI, the Mailpit
 * mail sink and the vegeta load generator the budget-check benchmark drives) into ~/.cache/closeloop, finds (or, as root on Debian or Ubuntu, installs) the Chromium that the
 * Temporal UI browser test drives and the OpenSSH server the SFTP tests start, and prints their paths.
 */
async function main() {
  const log = (line: string) => console.error(`[tools] ${line}`);
  console.log(await ensureTemporalCli({ log }));
  console.log(await ensureMailpit(log));
  console.log(await ensureVegeta(log));
  console.log(await ensureChromium(log));
  console.log(await ensureSshd(log));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
