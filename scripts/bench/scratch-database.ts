import postgres from 'postgres';
import { type Config } from '../../config';
import { openDatabase } from '../../db/client';
import { locateDatabase } from '../../db/embedded';
import { ensureDatabase, migrateDatabase } from '../../db/migrate';
import { seedReferenceData } from '../../db/seed';

/**
 * A benchmark's own database on the PostgreSQL closeloop uses (started if it is the embedded one): dropped and
 * created afresh, migrated and seeded with the reference data, so every run starts from the same state.
 */
export async function scratchDatabase(config: Config, name: string, poolSize: number) {
  const located = await locateDatabase({ ...config.database, startEmbedded: true });
  const url = new URL(located.url);
  url.pathname = `/${name}`;
  const maintenance = new URL(located.url);
  maintenance.pathname = '/postgres';
  const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => undefined });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
  await ensureDatabase(url.toString());
  const database = openDatabase(url.toString(), { poolSize });
  await migrateDatabase(database.db);
  await seedReferenceData(database.db);
  return {
    url: url.toString(),
    database,
    close: async () => {
      await database.close();
      await located.stop?.();
    },
  };
}
