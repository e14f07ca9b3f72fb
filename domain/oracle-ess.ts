import { z } from 'zod';

/**
 * Oracle Fusion's Enterprise Scheduler (ESS) jobs, which run its bulk imports (`erpintegrations`
 * `importBulkData`), as closeloop reads them wherever they arrive: their state as
 * `GET erpintegrations?finder=ESSJobStatusRF;requestId=<id>` answers it (the adapter's poll), and the callback
 * Oracle posts to the request's CallbackURL when the job ends (relayed to the API). The states are those of Oracle's ESS `State`
 * (docs.oracle.com/cd/E72987_01/ess/reference-scheduler/oracle/as/scheduler/State.html); the REST answer may
 * spell a state with spaces ("ERROR MANUAL RECOVERY"), read the same as with underscores.
 */

const ENDED_WELL = ['SUCCEEDED', 'WARNING', 'FINISHED'] as const;
const ENDED_BADLY = [
  'ERROR',
  'ERROR_MANUAL_RECOVERY',
  'CANCELLED',
  'EXPIRED',
  'VALIDATION_FAILED',
  'SCHEDULE_ENDED',
] as const;
const STILL_GOING = [
  'WAIT',
  'READY',
  'RUNNING',
  'COMPLETED',
  'BLOCKED',
  'HOLD',
  'CANCELLING',
  'ERROR_AUTO_RETRY',
  'PAUSED',
  'PENDING_VALIDATION',
  'UNKNOWN',
] as const;

export const EssState = z
  .string()
  .transform((s) => s.trim().toUpperCase().replace(/\s+/g, '_'))
  .pipe(z.enum([...ENDED_WELL, ...ENDED_BADLY, ...STILL_GOING]));
export type EssState = z.output<typeof EssState>;

/**
 * Where a job stands for whoever waits on it: still going (poll again), ended well (`WARNING`: its output has
 * rows to look at), or ended badly. COMPLETED is the state before the job's post-processing, not its end.
 */
export function essOutcome(state: EssState): 'running' | 'succeeded' | 'warning' | 'failed' {
  if (state === 'WARNING') return 'warning';
  if ((ENDED_WELL as readonly string[]).includes(state)) return 'succeeded';
  if ((ENDED_BADLY as readonly string[]).includes(state)) return 'failed';
  return 'running';
}

interface CallbackJob {
  JOBNAME: string;
  JOBPATH?: string;
  DOCUMENTNAME?: string;
  REQUESTID: string;
  STATUS: EssState;
  CHILD?: CallbackJob[];
}
const CallbackJob: z.ZodType<CallbackJob, unknown> = z.lazy(() =>
  z.object({
    JOBNAME: z.string(),
    JOBPATH: z.string().optional(),
    DOCUMENTNAME: z.string().optional(),
    REQUESTID: z.string().regex(/^\d+$/, 'must be an ESS request id'),
    STATUS: EssState,
    CHILD: z.array(CallbackJob).optional(),
  }),
);

/** The JSON Oracle posts to an importBulkData request's CallbackURL once its jobs end. */
export const EssCallback = z.object({ JOBS: z.array(CallbackJob).min(1) });
export type EssCallback = z.infer<typeof EssCallback>;

/**
 * What a callback says of the request closeloop submitted: its own state and every child job's, the request
 * failing when any of them failed (an import whose load step failed has not loaded, whatever the parent says).
 */
export function callbackOutcome(
  callback: EssCallback,
  requestId: string,
):
  | { outcome: ReturnType<typeof essOutcome>; jobs: { name: string; requestId: string; state: EssState }[] }
  | undefined {
  const job = callback.JOBS.find((j) => j.REQUESTID === requestId);
  if (!job) return undefined;
  const all: CallbackJob[] = [];
  const walk = (j: CallbackJob) => {
    all.push(j);
    for (const c of j.CHILD ?? []) walk(c);
  };
  walk(job);
  const outcomes = all.map((j) => essOutcome(j.STATUS));
  const outcome = outcomes.includes('failed')
    ? 'failed'
    : outcomes.includes('running')
      ? 'running'
      : outcomes.includes('warning')
        ? 'warning'
        : 'succeeded';
  return { outcome, jobs: all.map((j) => ({ name: j.JOBNAME, requestId: j.REQUESTID, state: j.STATUS })) };
}
