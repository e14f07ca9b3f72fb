import { Context } from '@temporalio/activity';
import { type CallControl } from './connectors/types';

/**
 * Runs an activity's work with its heartbeat going. The heartbeat is what tells Temporal the worker is
 * alive: if the worker dies (SIGKILL, a lost node) the heartbeat stops, the activity times out within its
 * heartbeat timeout, and another worker takes over. Each beat carries the latest progress, and the next
 * attempt starts from it (`resumeFrom`), so a retry resumes instead of starting over.
 */
export async function withHeartbeat<T>(
  work: (control: Required<Pick<CallControl, 'progress'>> & Pick<CallControl, 'resumeFrom'>) => Promise<T>,
  everyMs = 2000,
): Promise<T> {
  const ctx = Context.current();
  const resumeFrom = ctx.info.heartbeatDetails as Record<string, unknown> | undefined;
  let latest: Record<string, unknown> = resumeFrom ?? {};
  const beat = () => ctx.heartbeat(latest);
  beat();
  const timer = setInterval(beat, everyMs);
  try {
    return await work({
      progress: (detail) => {
        latest = { ...latest, ...detail };
        beat();
      },
      resumeFrom,
    });
  } finally {
    clearInterval(timer);
  }
}
