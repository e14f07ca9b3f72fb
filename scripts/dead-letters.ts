import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { loadConfig } from '../config';
import { reprocessActualExceptions } from '../db/queries/actuals';
import { getLegalEntity } from '../db/queries/reference';
import { listSourceExceptions } from '../db/queries/source-exceptions';
import { loadSourceContext } from '../db/queries/source-lines';
import { prepareDatabase } from './lib/database';

/**
 * Support's dead-letter commands (the API's GET /v1/source-exceptions and POST …/reprocess, from a shell):
 *
 *   npm run dead-letters -- list   --entity ACME-US [--code fx_rate_missing]
 *   npm run dead-letters -- replay --entity ACME-US [--code fx_rate_missing] [--id <uuid> ...]
 *
 * A replay takes each open dead letter through as if it had just arrived, with a progress bar; one that still
 * fails stays open with its new reason, and one counted meanwhile by another path is closed, not counted again.
 */
async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      entity: { type: 'string' },
      code: { type: 'string' },
      id: { type: 'string', multiple: true },
    },
  });
  const command = positionals[0];
  if (!values.entity || (command !== 'list' && command !== 'replay'))
    throw new Error(
      'usage: npm run dead-letters -- list|replay --entity <code> [--code <error code>] [--id <uuid> ...]',
    );
  const config = loadConfig();
  const database = await prepareDatabase(config, { startEmbedded: true, seed: false });
  try {
    const db = database.handle.db;
    const entity = await getLegalEntity(db, values.entity);
    if (!entity) throw new Error(`no legal entity ${values.entity}`);
    if (command === 'list') {
      const rows = (
        await listSourceExceptions(db, {
          legalEntity: entity.code,
          statuses: ['open'],
          ids: values.id,
          limit: 1000,
        })
      ).filter((r) => !values.code || r.errorCode === values.code);
      for (const r of rows)
        console.log(
          `${r.id}  ${r.stream.padEnd(11)} ${r.errorCode.padEnd(20)} ${r.recordKey}  ${r.errorMessage}`,
        );
      console.log(
        `${rows.length} open dead letter(s) of ${entity.code}${values.code ? ` with ${values.code}` : ''}`,
      );
      return;
    }
    const bar = new SingleBar(
      { format: ' {bar} {value}/{total} dead letters replayed', hideCursor: true },
      Presets.shades_classic,
    );
    let started = false;
    const correlationId = `replay:${entity.code}:${randomUUID()}`;
    const result = await reprocessActualExceptions(db, {
      ctx: await loadSourceContext(db, entity),
      by: process.env.USER ? `${process.env.USER} (cli)` : 'support (cli)',
      correlationId,
      ids: values.id,
      errorCodes: values.code ? [values.code] : undefined,
      onProgress: (done, total) => {
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      },
    });
    bar.stop();
    console.log(
      `${result.reprocessed} counted, ${result.stillFailing} still failing (kept with their new reason), ${result.duplicates} already counted elsewhere (closed); correlation ${correlationId}`,
    );
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
