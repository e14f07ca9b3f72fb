import { createActualsActivities } from './actuals';
import { createApprovalActivities } from './approval';
import { createBudgetImportActivities } from './budget-import';
import { createControlBudgetActivities } from './control-budget';
import { type ActivityDeps } from './deps';
import { createPublicationActivities } from './publication';
import { createReconciliationActivities } from './reconciliation';
import { createReforecastActivities } from './reforecast';

export type { ActivityDeps } from './deps';

/** Every activity the worker registers, built once from its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBudgetImportActivities(deps),
    ...createApprovalActivities(deps),
    ...createPublicationActivities(deps),
    ...createControlBudgetActivities(deps),
    ...createActualsActivities(deps),
    ...createReconciliationActivities(deps),
    ...createReforecastActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
