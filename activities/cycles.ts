import { closeCycle, openCycle } from '../db/queries/cycles';
import { type BudgetVersionRef } from '../domain/model';
import { type ActivityDeps } from './deps';
import { conflict } from './failures';

export interface OpenCycleInput {
  cycleId: string;
  ref: BudgetVersionRef;
  revision: number;
  correlationId: string;
  startedBy: string;
}

export function createCycleActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * The cycle's claim on its version: at most one open cycle per version, whoever started it (API, Temporal
     * UI, CLI) and however often it is reset.
     */
    async openCycle(input: OpenCycleInput): Promise<void> {
      const outcome = await db.transaction((tx) => openCycle(tx, input));
      if (outcome.registered) return;
      if (outcome.reason === 'cycle_open')
        throw conflict(
          `cycle ${outcome.open.cycleId} of this version is still open; finish or terminate it first`,
        );
      throw conflict(`revision ${input.revision} of this version is cycle ${outcome.existing.cycleId}`);
    },

    async closeCycle(input: {
      cycleId: string;
      legalEntity: string;
      outcome: string;
      correlationId: string;
    }) {
      await db.transaction((tx) => closeCycle(tx, input));
    },
  };
}
