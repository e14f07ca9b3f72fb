import { Context } from '@temporalio/activity';
import { releaseExpiredReservations } from '../db/queries/budget-control';
import { type ActivityDeps } from './deps';

export function createBudgetControlActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * Gives back what expired reservations hold, batch after batch until none is left. Safe to repeat: a
     * reservation is released once, and a run interrupted halfway leaves the rest for the next.
     */
    async releaseExpiredReservations(input: { batchSize: number }): Promise<{ released: number }> {
      const correlationId = `reservation-expiry:${Context.current().info.workflowExecution?.workflowId ?? 'direct'}`;
      let released = 0;
      for (;;) {
        const n = await releaseExpiredReservations(db, { limit: input.batchSize, correlationId });
        released += n;
        Context.current().heartbeat({ released });
        if (n < input.batchSize) return { released };
      }
    },
  };
}
