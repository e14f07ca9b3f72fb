import { groupScenario } from './demo/group';
import { migrationScenario } from './demo/migration';
import { adaptiveScenario } from './demo/adaptive';
import { parseArgs } from 'node:util';
import { approvalsScenario } from './demo/approvals';
import { budgetScenario } from './demo/budget';
import { chartScenario } from './demo/chart';
import { controlScenario } from './demo/control';
import { closeScenario } from './demo/close';
import { ensureStack } from './demo/client';
import { masterDataScenario } from './demo/master-data';
import { procurementScenario } from './demo/procurement';

/**
 * npm run demo — drives the seed's services-company scenarios through the running stack (npm start), the
 * way their users would.
 *
 *   npm run demo                              # budget: plan → authorize → execute → reconcile → reforecast
 *   npm run demo -- --approve-by-signal       # the same, approved from Temporal UI or the CLI
 *   npm run demo -- --scenario approvals      # sent back, resubmitted, then reminders, escalation, expiry
 *                                             # (every mail read back from the mail sink)
 *   npm run demo -- --scenario procurement    # budget control: requisitions checked, warned, rejected, an
 *                                             # override, a freeze, a transfer, POs and invoices, balances
 *   npm run demo -- --scenario master-data    # master data from the ERP: an unmapped account replayed, a
 *                                             # hierarchy move approved, a closure refused while budget stands
 *   npm run demo -- --scenario close          # period close of 2027-03 for the group's entities: fan-out,
 *                                             # sign-offs, locks, a refused reservation, the report, a reopen
 *   npm run demo -- --scenario chart          # the manufacturer's chart of accounts: eight dimensions, two
 *                                             # custom ones added by API, rules, reports, a kept DOWNSIDE
 *   npm run demo -- --scenario control        # the manufacturer's budget control on any dimension: budgets per
 *                                             # department, projects and a grant from Dynamics 365, project
 *                                             # managers approving, a grant running out across the year end
 *   npm run demo -- --scenario manufacturer   # a group version over Dynamics 365, Oracle Fusion, SAP S/4HANA and
 *                                             # NetSuite: one cycle per entity, shown together, the books of
 *                                             # each ERP read back, all or nothing through a refusal
 *   npm run demo -- --scenario migration      # the UK moves from Dynamics 365 to Oracle Fusion: refused until
 *                                             # its cost centers are mapped, a parallel run compared, a rollback
 *   npm run demo -- --scenario adaptive       # Germany's FP&A moves to Workday Adaptive Planning: its version
 *                                             # exported from Adaptive, approved, published, reconciled, the
 *                                             # figures back into Adaptive's Actuals and Forecast versions
 */
async function main() {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'budget' },
      'approve-by-signal': { type: 'boolean', default: false },
    },
  });
  await ensureStack();
  if (values.scenario === 'budget') await budgetScenario({ approveBySignal: values['approve-by-signal'] });
  else if (values.scenario === 'approvals') await approvalsScenario();
  else if (values.scenario === 'procurement') await procurementScenario();
  else if (values.scenario === 'master-data') await masterDataScenario();
  else if (values.scenario === 'close') await closeScenario();
  else if (values.scenario === 'chart') await chartScenario();
  else if (values.scenario === 'control') await controlScenario();
  else if (values.scenario === 'manufacturer') await groupScenario();
  else if (values.scenario === 'migration') await migrationScenario();
  else if (values.scenario === 'adaptive') await adaptiveScenario();
  else
    throw new Error(
      `unknown scenario ${values.scenario}: use budget, approvals, procurement, master-data, close, chart, control, manufacturer, migration or adaptive`,
    );
}

main().catch((err) => {
  console.error(`\n✖ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
