import { createOracleConnector } from '../../activities/connectors/oracle/connector';
import { addRoute } from '../../db/queries/routes';
import { fromMinor, toMinor } from '../../domain/money';
import {
  ORACLE_CONTROL_BUDGET,
  ORACLE_LEDGER_ID,
  ORACLE_LEDGER_NAME,
} from '../../simulators/scenario/services-company';
import { seedOracleLedger } from '../../simulators/scenario/seed';
import { type TestStack } from './stack';

/**
 * Corporate finance's Oracle ledger for a test's year (its periods as `status` says, open by default) and a
 * route sending ACME-US's budget there from the year's first day, as an integration administrator adds one.
 */
export async function routeUsToOracle(
  stack: TestStack,
  fiscalYear: number,
  status?: Parameters<typeof seedOracleLedger>[2],
  model: 'control-budget' | 'replace-scope' = 'control-budget',
) {
  seedOracleLedger(stack.oracle, [fiscalYear], status);
  const routed = await stack.db.transaction((tx) =>
    addRoute(tx, {
      legalEntity: 'ACME-US',
      target: 'oracle',
      company: String(ORACLE_LEDGER_ID),
      postingModel: model,
      settings:
        model === 'control-budget'
          ? { controlBudget: ORACLE_CONTROL_BUDGET }
          : { budgetName: US_GL_BUDGET, ledgerName: ORACLE_LEDGER_NAME },
      validFrom: `${fiscalYear}-01-01`,
      replaces: [],
      by: 'test',
      reason: 'funds control moves to Oracle budgetary control',
      correlationId: `route-${fiscalYear}`,
    }),
  );
  if (routed.outcome !== 'added') throw new Error(`ACME-US was not routed to Oracle for ${fiscalYear}`);
}

/** The GL budget ACME-US's balances are loaded to when its route takes GL budget balances. */
export const US_GL_BUDGET = 'US Plan';

/** What the US ledger's GL budget holds for the year, in total. */
export const oracleGlTotal = (stack: TestStack, fiscalYear: number) =>
  fromMinor(
    stack.oracle
      .budgetBalances(ORACLE_LEDGER_ID, US_GL_BUDGET)
      .filter((b) => b.period.endsWith(`-${String(fiscalYear).slice(2)}`))
      .reduce((t, b) => t + toMinor(b.amount, 'USD'), 0n),
    'USD',
  );

/** What Oracle's control budget holds for the year, in total. */
export const oracleTotal = (stack: TestStack, fiscalYear: number) =>
  fromMinor(
    stack.oracle
      .controlBudgetBalances()
      .filter((b) => b.period.endsWith(`-${String(fiscalYear).slice(2)}`))
      .reduce((t, b) => t + toMinor(b.budget, 'USD'), 0n),
    'USD',
  );

/** Orders consuming `amount` of ACME-US's March travel budget (610200, CC-100) in Oracle's control budget. */
export const consumeMarchTravel = (stack: TestStack, fiscalYear: number, amount: string) =>
  stack.oracle.setConsumption({
    controlBudget: ORACLE_CONTROL_BUDGET,
    period: `Mar-${String(fiscalYear).slice(2)}`,
    account: '6102-1100',
    currency: 'USD',
    amount,
  });

/** GL budget loads as a test waits for them: the simulator's job state read every 20 ms. */
export const GL_BUDGETS = {
  jobName: '/oracle/apps/ess/financials/generalLedger/ledgers/ledgerDefinitions,ValidateAndLoadBudgets',
  documentAccount: 'fin$/generalLedgerBudgetBalance$/import$',
  pollIntervalMs: 20,
  waitMs: 5_000,
};

/** The Oracle adapter against a simulator at `url`, paging as a test asks. */
export const oracleConnectorAt = (url: string, over: { pageSize?: number; waitMs?: number } = {}) =>
  createOracleConnector({
    baseUrl: url,
    username: 'closeloop',
    password: 'dev-secret',
    timeoutMs: 1000,
    pageSize: over.pageSize ?? 25,
    rateTypeNames: { average: 'Corporate', spot: 'Spot' },
    accountValueSet: 'ACME_ACCOUNT',
    costCenterValueSet: 'ACME_COST_CENTER',
    glBudgets: { ...GL_BUDGETS, waitMs: over.waitMs ?? GL_BUDGETS.waitMs },
  });
