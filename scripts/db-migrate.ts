import { loadConfig } from '../config';
import { openDatabase } from '../db/client';
import { ensureDatabase, migrateDatabase } from '../db/migrate';

/** npm run db:migrate — creates the database if needed and applies every pending migration. */
async function main() {
  const config = loadConfig();
  await ensureDatabase(config.database.url);
  const handle = openDatabase(config.database.url, { poolSize: 1 });
  try {
    await migrateDatabase(handle.db);
    console.log(`migrated ${new URL(config.database.url).pathname.slice(1)}`);
  } finally {
    await handle.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
