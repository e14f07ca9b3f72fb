import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { allFileFeeds, fileFeed, inboxFilesOf, upsertFileFeed } from '../../db/queries/file-feeds';
import { FeedCode, FeedDefinition } from '../../domain/file-feeds';
import { LegalEntityCode } from '../../domain/model';
import { type FileInboxProgress } from '../../workflows/definitions';
import { type FileInboxInput } from '../../workflows/file-inbox';
import { principalOf, requireRole } from '../auth';
import { temporalUiLink } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity } from '../references';
import { ensureIntervalSchedule, fileInboxSchedule, fileInboxScheduleId } from '../schedules';

const FeedBody = z.intersection(z.object({ legalEntity: LegalEntityCode }), FeedDefinition);
const PickupBody = z
  .object({
    /** Answer with what the pickup did (files taken, files waiting) instead of 202 at once. */
    wait: z.boolean().default(false),
  })
  .strict();

/**
 * File feeds (domain/file-feeds, docs/file-interfaces.md): integration admins declare an inbox (`PUT`), which
 * is then picked up on its schedule (`file-inbox:<feed>`); anyone may list feeds and a feed's processed-file
 * ledger; a pickup can be run at once (`POST …/pickups`).
 */
export function fileFeedRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router();
  const feedOf = async (code: unknown) => {
    const parsed = FeedCode.safeParse(code);
    const row = parsed.success ? await fileFeed(db, parsed.data) : undefined;
    if (!row) throw new HttpError(404, 'not_found', `no file feed ${String(code)}`);
    return row;
  };

  router.get('/', async (_req, res) => {
    res.json({ feeds: await allFileFeeds(db) });
  });

  router.put('/:feed', requireRole('integration_admin'), async (req, res) => {
    const code = FeedCode.parse(req.params.feed);
    const { legalEntity, ...definition } = FeedBody.parse(req.body);
    const entity = await knownLegalEntity(db, legalEntity);
    const outcome = await db.transaction((tx) =>
      upsertFileFeed(tx, {
        code,
        legalEntity: entity.code,
        definition,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    // The pickup's schedule follows the definition (its interval); an operator's pause stays.
    await ensureIntervalSchedule(
      client,
      fileInboxSchedule(config, { code, legalEntity: entity.code, every: definition.every }),
    );
    res.status(outcome.changed ? 201 : 200).json({
      ...outcome,
      scheduleId: fileInboxScheduleId(code),
    });
  });

  router.get('/:feed', async (req, res) => {
    res.json(await feedOf(req.params.feed));
  });

  /** The processed-file ledger: each file taken, its status, counts, where it was moved and its report. */
  router.get('/:feed/files', async (req, res) => {
    const feed = await feedOf(req.params.feed);
    res.json({ feed: feed.code, files: await inboxFilesOf(db, feed.code) });
  });

  router.post('/:feed/pickups', requireRole('integration_admin', 'scheduler'), async (req, res) => {
    const feed = await feedOf(req.params.feed);
    const body = PickupBody.parse(req.body ?? {});
    const workflowId = `${fileInboxScheduleId(feed.code)}:${randomUUID()}`;
    const handle = await client.workflow.start('fileInbox', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ feed: feed.code } satisfies FileInboxInput],
      staticSummary: `pickup of file feed ${feed.code}`,
    });
    const links = { temporalUi: temporalUiLink(config, workflowId) };
    if (!body.wait) {
      res.status(202).json({ workflowId, links });
      return;
    }
    const result = (await handle.result()) as FileInboxProgress;
    res.json({ workflowId, ...result, links });
  });

  return router;
}
