import { type WorkflowHandle } from '@temporalio/client';

/** One event of a workflow's history, as the client fetches it. */
export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** When the server recorded the event, in milliseconds since the epoch. */
export const eventMillis = (e: HistoryEvent) =>
  Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;

/** Each task of a history (workflow tasks, activities by type), with its time waiting to start and running. */
export function taskTimes(events: HistoryEvent[]): [string, { waiting: number; running: number }][] {
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const out: [string, { waiting: number; running: number }][] = [];
  for (const e of events) {
    const ended =
      e.workflowTaskCompletedEventAttributes ??
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes;
    if (!ended) continue;
    const scheduled = byId.get(Number(ended.scheduledEventId));
    const started = byId.get(Number(ended.startedEventId));
    if (!scheduled || !started) continue;
    const task = e.workflowTaskCompletedEventAttributes
      ? 'workflow task'
      : `activity ${scheduled.activityTaskScheduledEventAttributes?.activityType?.name}`;
    out.push([
      task,
      {
        waiting: eventMillis(started) - eventMillis(scheduled),
        running: eventMillis(e) - eventMillis(started),
      },
    ]);
  }
  return out;
}
