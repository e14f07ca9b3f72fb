import { budgetControlRoutes } from './routes/budget-control';
import { controlFreezeRoutes } from './routes/control-freezes';
import { controlOverrideRoutes } from './routes/control-overrides';
import { controlTransferRoutes } from './routes/control-transfers';
import { type Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import express, { type Express } from 'express';
import { type Config } from '../config';
import { type Database } from '../db/client';
import { authenticate } from './auth';
import { createControlCache } from './control-context';
import { errorHandler, HttpError } from './errors';
import { budgetCycleRoutes } from './routes/budget-cycles';
import { groupBudgetCycleRoutes } from './routes/group-budget-cycles';
import { erpSyncRoutes } from './routes/erp-syncs';
import { fileFeedRoutes } from './routes/file-feeds';
import { webhookRoutes } from './routes/webhooks';
import { sourceExceptionRoutes } from './routes/source-exceptions';
import { masterDataRoutes } from './routes/master-data';
import { fiscalCalendarRoutes } from './routes/fiscal-calendars';
import { legalEntityRoutes } from './routes/legal-entities';
import { chartRoutes } from './routes/chart';
import { budgetRoutes } from './routes/budgets';
import { controlBudgetRoutes } from './routes/control-budgets';
import { projectRoutes } from './routes/projects';
import { publicationTargetRoutes, routingRoutes } from './routes/publication-targets';
import { cutoverRoutes } from './routes/cutovers';
import { planningPlatformRoutes } from './routes/planning-platforms';
import { periodCloseRoutes } from './routes/period-closes';
import { approvalPolicyRoutes } from './routes/approval-policies';
import { approvalRoutes } from './routes/approvals';

/** The largest request body the API reads; anything bigger is refused with 413 before it is parsed. */
export const BODY_LIMIT = '256kb';

export interface AppDeps {
  config: Config;
  client: Client;
  db: Database;
}

/** The HTTP API, built from injected clients so tests run the real app on a random port. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: BODY_LIMIT }));

  app.get('/health', async (_req, res) => {
    const [temporal, database] = await Promise.all([
      deps.client.connection.workflowService
        .getSystemInfo({})
        .then(() => 'ok')
        .catch((e: Error) => `unreachable: ${e.message}`),
      deps.db
        .execute(sql`select 1`)
        .then(() => 'ok')
        .catch((e: Error) => `unreachable: ${e.message}`),
    ]);
    const ok = temporal === 'ok' && database === 'ok';
    res.status(ok ? 200 : 503).json({ ok, temporal, database });
  });

  app.use('/v1', authenticate(deps.config.api.keys));
  app.use('/v1/budget-cycles', budgetCycleRoutes(deps));
  app.use('/v1/group-budget-cycles', groupBudgetCycleRoutes(deps));
  app.use('/v1/source-exceptions', sourceExceptionRoutes(deps));
  app.use('/v1/erp-syncs', erpSyncRoutes(deps));
  app.use('/v1/file-feeds', fileFeedRoutes(deps));
  app.use('/v1/master-data', masterDataRoutes(deps));
  app.use('/v1/webhooks', webhookRoutes(deps));
  app.use('/v1/period-closes', periodCloseRoutes(deps));
  app.use('/v1/approval-policies', approvalPolicyRoutes(deps));
  app.use('/v1/approvals', approvalRoutes(deps));
  app.use('/v1/budget-control/freezes', controlFreezeRoutes(deps));
  const controlDeps = { ...deps, cache: createControlCache() };
  app.use('/v1/legal-entities/:code/chart', chartRoutes(deps));
  app.use('/v1/legal-entities/:code/projects', projectRoutes(controlDeps));
  app.use('/v1/legal-entities/:code/budgets', budgetRoutes(deps));
  app.use('/v1/legal-entities/:code/publication-targets', publicationTargetRoutes(deps));
  app.use('/v1/legal-entities/:code/routes', routingRoutes(deps));
  app.use('/v1/legal-entities/:code/cutovers', cutoverRoutes(deps));
  app.use('/v1/legal-entities/:code/planning-platforms', planningPlatformRoutes(deps));
  app.use('/v1/legal-entities', legalEntityRoutes(controlDeps));
  app.use('/v1/fiscal-calendars', fiscalCalendarRoutes(deps));
  app.use('/v1/budget-control/control-budgets/:legalEntity', controlBudgetRoutes(controlDeps));
  app.use('/v1/budget-control/overrides', controlOverrideRoutes(controlDeps));
  app.use('/v1/budget-control/transfers', controlTransferRoutes(controlDeps));
  app.use('/v1/budget-control', budgetControlRoutes(controlDeps));
  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route')));
  app.use(errorHandler);
  return app;
}
