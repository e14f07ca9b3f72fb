import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite, longSync } from './activity-profiles';
import { type FileInboxProgress, fileInboxProgressQuery } from './definitions';

export interface FileInboxInput {
  feed: string;
  /** Files to take besides those the scan finds ready: a reprocess's, wherever the file was moved. */
  take?: string[];
}

/**
 * One pickup of a file feed's inbox (scheduled as `file-inbox:<feed>`, or started at once by the API): the files
 * that are complete are taken one at a time, in name order, each verified, loaded and moved (activities/
 * file-inbox); files still being written wait for the next pickup. The file in hand reports its phase and lines
 * read in its activity's heartbeat (Temporal UI's pending activity) and in the `progress` query.
 */
export async function fileInbox(input: FileInboxInput): Promise<FileInboxProgress> {
  const { scanInbox } = proxyActivities<Activities>(dbWrite);
  // A file of a million lines is read twice (verified, then loaded): minutes, heartbeating throughout.
  const { takeInboxFile } = proxyActivities<Activities>(longSync());
  const progress: FileInboxProgress = { feed: input.feed, taken: [], waiting: [] };
  setHandler(fileInboxProgressQuery, () => progress);
  const scan = await scanInbox({ feed: input.feed });
  progress.waiting = scan.waiting;
  const names = [...new Set([...(input.take ?? []), ...scan.ready.map((f) => f.name)])];
  for (const name of names) {
    progress.current = name;
    progress.taken.push(await takeInboxFile({ feed: input.feed, name }));
  }
  progress.current = undefined;
  return progress;
}
