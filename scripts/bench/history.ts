import { type WorkflowHandle } from '@temporalio/client';

/** One event of a workflow's history, as the client fetches it. */
export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** When the server recorded the event, in milliseconds since the epoch. */
export const eventMillis = (e: HistoryEvent) =>
  Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
