import { type Config } from '../../config';
import { type DatabaseHandle, openDatabase } from '../../db/client';
import { describeLocatedDatabase, type LocatedDatabase, locateDatabase } from '../../db/embedded';
import { ensureDatabase, migrateDatabase } from '../../db/migrate';
import { seedReferenceData } from '../../db/seed';

export interface PreparedDatabase extends LocatedDatabase {
  handle: DatabaseHandle;
  /** Closes the pool, then stops the embedded server if this process started it. */
  close(): Promise<void>;
}

/** Finds (or starts) the database, creates it if missing, migrates it and optionally loads reference data. */
export async function prepareDatabase(
  config: Config,
  opts: { startEmbedded: boolean; seed: boolean; log?: (line: string) => void },
): Promise<PreparedDatabase> {
  const located = await locateDatabase({ ...config.database, startEmbedded: opts.startEmbedded });
  try {
    await ensureDatabase(located.url);
    const handle = openDatabase(located.url, { poolSize: config.database.poolSize });
    await migrateDatabase(handle.db);
    if (opts.seed) await seedReferenceData(handle.db);
    return {
      ...located,
      handle,
      close: async () => {
        await handle.close();
        await located.stop?.();
      },
    };
  } catch (err) {
    await located.stop?.();
    throw err;
  }
}

/** "closeloop on 127.0.0.1:5432 (the PostgreSQL answering at the default address)" — for start-up banners. */
export function describeDatabase(d: LocatedDatabase, config: Config): string {
  return describeLocatedDatabase(d, config.database.embedded.dataDir);
}
