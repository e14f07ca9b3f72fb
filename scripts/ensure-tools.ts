import { ensureMailpit } from './lib/mail-sink';
import { ensureTemporalCli } from './lib/temporal-cli';

/**
 * npm run tools:ensure — finds or builds the pinned Go tools closeloop runs (the Temporal CLI and the Mailpit
 * mail sink) into ~/.cache/closeloop, and prints their paths.
 */
async function main() {
  const log = (line: string) => console.error(`[tools] ${line}`);
  console.log(await ensureTemporalCli({ log }));
  console.log(await ensureMailpit(log));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
