import { ensureTemporalCli } from './lib/temporal-cli';

/** npm run temporal:ensure — finds or builds the pinned Temporal CLI and prints its path. */
ensureTemporalCli({ log: (line) => console.error(`[temporal] ${line}`) })
  .then((cli) => console.log(cli))
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
