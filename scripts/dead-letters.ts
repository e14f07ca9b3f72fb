import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { loadConfig } from '../config';
import { getLegalEntity } from '../db/queries/reference';
import { REPLAYABLE_STREAMS, replaySourceExceptions, type ReplayableStream } from '../db/queries/replay';
import { listSourceExceptions } from '../db/queries/source-exceptions';
import { prepareDatabase } from './lib/database';

/**
 * Support's dead-letter commands (the API's GET /v1/source-exceptions and POST …/reprocess, from a shell):
 *
 *   npm run dead-letters -- list   --entity ACME-US [--stream master_data] [--code fx_rate_missing]
 *   npm run dead-letters -- replay --entity ACME-US [--stream actuals|master_data] [--code …] [--id <uuid> ...]
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
      stream: { type: 'string' },
      id: { type: 'string', multiple: true },
    },
  });
  const command = positionals[0];
  const stream = values.stream ?? (command === 'replay' ? 'actuals' : undefined);
  if (
    !values.entity ||
    (command !== 'list' && command !== 'replay') ||
    (command === 'replay' && !REPLAYABLE_STREAMS.includes(stream as ReplayableStream))
  )
    throw new Error(
      'usage: npm run dead-letters -- list|replay --entity <code> [--stream actuals|master_data] [--code <error code>] [--id <uuid> ...]',
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
          stream,
          statuses: ['open'],
          ids: values.id,
          limit: 1000,
        })
      ).filter((r) => !values.code || r.errorCode === values.code);
      for (const r of rows)
        console.log(
          `${r.id}  ${r.stream.padEnd(12)} ${r.errorCode.padEnd(20)} ${r.recordKey}  ${r.errorMessage}`,
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
    const result = await replaySourceExceptions(db, entity, {
      stream: stream as ReplayableStream,
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
