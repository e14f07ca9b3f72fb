import { createActualsActivities } from './actuals';
import { createApprovalActivities } from './approval';
import { createBudgetControlActivities } from './budget-control';
import { createBudgetImportActivities } from './budget-import';
import { createCutoverActivities } from './cutover';
import { createCycleActivities } from './cycles';
import { type ActivityDeps } from './deps';
import { createFileInboxActivities } from './file-inbox';
import { createMasterDataActivities } from './master-data';
import { createPeriodCloseActivities } from './period-close';
import { createPublicationActivities } from './publication';
import { createReconciliationActivities } from './reconciliation';
import { createReforecastActivities } from './reforecast';
import { createVersionLifecycleActivities } from './version-lifecycle';

export type { ActivityDeps } from './deps';

/** Every activity the worker registers, built once from its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createCycleActivities(deps),
    ...createBudgetImportActivities(deps),
    ...createApprovalActivities(deps),
    ...createPublicationActivities(deps),
    ...createVersionLifecycleActivities(deps),
    ...createActualsActivities(deps),
    ...createReconciliationActivities(deps),
    ...createReforecastActivities(deps),
    ...createBudgetControlActivities(deps),
    ...createMasterDataActivities(deps),
    ...createPeriodCloseActivities(deps),
    ...createCutoverActivities(deps),
    ...createFileInboxActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
