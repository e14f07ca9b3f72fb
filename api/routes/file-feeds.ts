import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import {
  allFileFeeds,
  fileFeed,
  inboxFilesOf,
  requestReprocess,
  upsertFileFeed,
} from '../../db/queries/file-feeds';
import { FeedCode, FeedDefinition } from '../../domain/file-feeds';
import { LegalEntityCode } from '../../domain/model';
import { type FileInboxProgress, fileInboxProgressQuery } from '../../workflows/definitions';
import { type FileInboxInput } from '../../workflows/file-inbox';
import { principalOf, requireRole } from '../auth';
import { Reason, temporalUiLink } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity } from '../references';
import { ensureIntervalSchedule, fileInboxSchedule, fileInboxScheduleId } from '../schedules';

const FeedBody = z.intersection(z.object({ legalEntity: LegalEntityCode }), FeedDefinition);
const ReprocessBody = z.object({ reason: Reason }).strict();
const FileId = z.uuid();
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

  const startPickup = async (feed: { code: string }, take?: string[]) => {
    const workflowId = `${fileInboxScheduleId(feed.code)}:${randomUUID()}`;
    const handle = await client.workflow.start('fileInbox', {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ feed: feed.code, ...(take ? { take } : {}) } satisfies FileInboxInput],
      staticSummary: `pickup of file feed ${feed.code}`,
    });
    return { handle, workflowId, links: { temporalUi: temporalUiLink(config, workflowId) } };
  };

  router.post('/:feed/pickups', requireRole('integration_admin', 'scheduler'), async (req, res) => {
    const feed = await feedOf(req.params.feed);
    const body = PickupBody.parse(req.body ?? {});
    const { handle, workflowId, links } = await startPickup(feed);
    if (!body.wait) {
      res.status(202).json({ workflowId, links });
      return;
    }
    const result = (await handle.result()) as FileInboxProgress;
    res.json({ workflowId, ...result, links });
  });

  /**
   * A pickup as it runs: its status, the files taken so far, the one in hand with its phase and lines read (its
   * activity's last heartbeat, as Temporal UI shows it), and those left waiting.
   */
  router.get('/:feed/pickups/:workflowId', async (req, res) => {
    const feed = await feedOf(req.params.feed);
    const workflowId = z
      .string()
      .startsWith(`${fileInboxScheduleId(feed.code)}:`)
      .parse(req.params.workflowId);
    const handle = client.workflow.getHandle(workflowId);
    const described = await handle.describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError)
        throw new HttpError(404, 'not_found', `no pickup ${workflowId}`);
      throw err;
    });
    const pending = described.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
    const inHand = pending
      ? (defaultPayloadConverter.fromPayload(pending) as Record<string, unknown>)
      : undefined;
    const progress = await handle.query(fileInboxProgressQuery).catch(() => undefined);
    res.json({
      workflowId,
      status: described.status.name,
      ...(progress ?? {}),
      ...(inHand ? { inHand } : {}),
      links: { temporalUi: temporalUiLink(config, workflowId) },
    });
  });

  /** Takes a file again, with why (a corrected re-extract, a refused file whose cause was fixed): audited. */
  router.post('/:feed/files/:id/reprocess', requireRole('integration_admin'), async (req, res) => {
    const feed = await feedOf(req.params.feed);
    const fileId = FileId.parse(req.params.id);
    const { reason } = ReprocessBody.parse(req.body);
    const outcome = await db.transaction((tx) =>
      requestReprocess(tx, {
        feedCode: feed.code,
        legalEntity: feed.legalEntity,
        fileId,
        reason,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    if (!outcome.requested && outcome.reason === 'not_found')
      throw new HttpError(404, 'not_found', `file feed ${feed.code} took no file ${fileId}`);
    if (!outcome.requested)
      throw new HttpError(
        409,
        'in_progress',
        `a load of the same content is under way (${outcome.file!.name})`,
        {
          file: outcome.file,
        },
      );
    const { workflowId, links } = await startPickup(feed, [outcome.file.name]);
    res.status(202).json({ file: outcome.file, workflowId, links });
  });

  return router;
}
