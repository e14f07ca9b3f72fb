import { and, eq, sql } from 'drizzle-orm';
import { type DbOrTx, type Tx } from '../client';
import { erpJobCallbacks } from '../schema';
import { auditStream } from '../../domain/identity';
import { appendAudit } from './audit';

export interface JobCallback {
  system: string;
  requestId: string;
  outcome: 'running' | 'succeeded' | 'warning' | 'failed';
  jobs: { name: string; requestId: string; state: string }[];
  by: string;
  correlationId: string;
}

/**
 * Records a job's end as its callback reported it, with its audit row. A callback delivered again (ERPs retry
 * them) changes nothing; a later one that says otherwise (a job that was running and has ended) replaces it.
 */
export async function recordJobCallback(tx: Tx, c: JobCallback): Promise<'recorded' | 'unchanged'> {
  const rows = await tx
    .insert(erpJobCallbacks)
    .values({ system: c.system, requestId: c.requestId, outcome: c.outcome, jobs: c.jobs })
    .onConflictDoUpdate({
      target: [erpJobCallbacks.system, erpJobCallbacks.requestId],
      set: { outcome: sql`excluded.outcome`, jobs: sql`excluded.jobs`, receivedAt: sql`now()` },
      setWhere: sql`${erpJobCallbacks.outcome} is distinct from excluded.outcome`,
    })
    .returning({ requestId: erpJobCallbacks.requestId });
  if (!rows.length) return 'unchanged';
  await appendAudit(tx, {
    stream: auditStream.erpJobs(c.system),
    actor: c.by,
    action: 'job.reported',
    entityType: 'erp_job',
    entityId: c.requestId,
    correlationId: c.correlationId,
    eventKey: `job-callback:${c.system}:${c.requestId}:${c.outcome}`,
    details: { outcome: c.outcome, jobs: c.jobs },
  });
  return 'recorded';
}

/** How a job ended as its callback reported it; undefined while no callback has said. */
export async function jobCallbackOutcome(
  db: DbOrTx,
  system: string,
  requestId: string,
): Promise<JobCallback['outcome'] | undefined> {
  const [row] = await db
    .select({ outcome: erpJobCallbacks.outcome })
    .from(erpJobCallbacks)
    .where(and(eq(erpJobCallbacks.system, system), eq(erpJobCallbacks.requestId, requestId)));
  return row?.outcome as JobCallback['outcome'] | undefined;
}
