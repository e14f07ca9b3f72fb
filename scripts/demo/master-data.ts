import { budgetScenario } from './budget';
import { call, ENTITY, erpAdmin, must, step } from './client';

/**
 * Master data from the ERP, its system of record: a new main account arrives unmapped and waits in the dead
 * letters until the integration team maps it and replays it; finance moves a cost center under another parent
 * in Dynamics 365, and the move waits for an approver before it holds from its date; a cost center with
 * budget is suspended in the ERP, and closeloop refuses to close it, naming the money that stands on it.
 */

const KEY = { admin: 'dev-admin', approver: 'dev-approver', controller: 'dev-controller' };

const sync = async () =>
  must(await call('POST', '/v1/master-data/syncs', KEY.admin, { legalEntity: ENTITY, wait: true }), 200).body;

const summary = (counts: unknown) => JSON.stringify(counts);

export async function masterDataScenario() {
  const balance = must(
    await call(
      'GET',
      `/v1/budget-control/balances?legalEntity=${ENTITY}&account=610200&costCenter=CC-300&period=2027-03`,
      KEY.controller,
    ),
    200,
  ).body as { budget: { amount: string } };
  if (Number(balance.budget.amount) === 0) {
    step('no FY2027 budget in control yet: running the budget scenario first');
    await budgetScenario({ approveBySignal: false });
  }

  step('master data sync now (the daily master-data:ACME-US schedule does the same)');
  const first = await sync();
  console.log(`  accounts ${summary(first.accounts)}\n  cost centers ${summary(first.costCenters)}`);

  step('Dynamics 365: a new main account 66070 "Cloud hosting" from 2027-01-01; sync');
  must(
    await erpAdmin('POST', '/__sim/main-accounts', [
      { MainAccountId: '66070', Name: 'Cloud hosting', ActiveFrom: '2027-01-01' },
    ]),
    201,
  );
  await sync();
  const kept = must(
    await call(
      'GET',
      `/v1/source-exceptions?legalEntity=${ENTITY}&stream=master_data&status=open`,
      KEY.admin,
    ),
    200,
  ).body.exceptions as { id: string; errorCode: string; errorMessage: string }[];
  for (const k of kept) console.log(`  dead letter ${k.errorCode}: ${k.errorMessage}`);

  step('the integration team maps it (660700 ↔ 66070 from 2027-01-01) and replays the dead letter');
  must(
    await call('PUT', '/v1/master-data/mappings', KEY.admin, {
      erpSystem: 'd365',
      dimension: 'account',
      canonicalCode: '660700',
      erpValue: '66070',
      validFrom: '2027-01-01',
    }),
    200,
  );
  const replay = must(
    await call('POST', '/v1/source-exceptions/reprocess', KEY.admin, {
      legalEntity: ENTITY,
      stream: 'master_data',
      errorCode: 'mapping_missing',
    }),
    200,
  ).body;
  console.log(`  replayed: ${summary(replay)}`);

  step('Dynamics 365: Sales (300) moves under Client services (010) from 2027-07-01, published; sync');
  must(
    await erpAdmin('POST', '/__sim/organization-hierarchies', [
      { ChildOrganization: '300', ParentOrganization: '010', validFrom: '2027-07-01' },
    ]),
    201,
  );
  const moved = await sync();
  const requested = moved.changesRequested as {
    id: string;
    code: string;
    fromValue: string;
    toValue: string;
  }[];
  const change =
    requested[0] ??
    (
      must(
        await call(
          'GET',
          `/v1/master-data/changes?legalEntity=${ENTITY}&status=awaiting_approval`,
          KEY.approver,
        ),
        200,
      ).body.changes as typeof requested
    ).find((c) => c.code === 'CC-300');
  if (change) {
    console.log(
      `  waiting for approval: ${change.code} ${change.fromValue} → ${change.toValue} (${change.id})`,
    );
    const refused = await call('POST', `/v1/master-data/changes/${change.id}/decision`, KEY.admin, {
      decision: 'approve',
    });
    console.log(`  the integration admin may not approve: ${refused.status} ${String(refused.body.message)}`);
    const approved = must(
      await call('POST', `/v1/master-data/changes/${change.id}/decision`, KEY.approver, {
        decision: 'approve',
        comment: 'reorganisation signed off',
      }),
      200,
    ).body;
    console.log(`  carol approves: ${String(approved.status)}`);
  } else {
    console.log('  already decided in an earlier run');
  }
  for (const asOf of ['2027-06-30', '2027-07-01']) {
    const cc = must(
      await call('GET', `/v1/master-data/cost-centers?legalEntity=${ENTITY}&asOf=${asOf}`, KEY.approver),
      200,
    ).body.costCenters as { code: string; parent: string | null }[];
    console.log(`  on ${asOf}: CC-300 reports to ${cc.find((c) => c.code === 'CC-300')?.parent ?? '(top)'}`);
  }

  step('Dynamics 365: Sales (300) suspended; closeloop refuses to close it while it has budget');
  must(
    await erpAdmin('POST', '/__sim/financial-dimension-values', [
      {
        DimensionValue: '300',
        Description: 'Sales',
        LegalEntityId: 'acus',
        ActiveFrom: '2020-01-01',
        IsSuspended: 'Yes',
      },
    ]),
    201,
  );
  const suspended = await sync();
  console.log(`  cost centers ${summary(suspended.costCenters)}`);
  const refusals = must(
    await call(
      'GET',
      `/v1/source-exceptions?legalEntity=${ENTITY}&stream=master_data&status=open`,
      KEY.admin,
    ),
    200,
  ).body.exceptions as { errorCode: string; errorMessage: string }[];
  for (const r of refusals.filter((x) => x.errorCode === 'deactivation_refused'))
    console.log(`  refused: ${r.errorMessage}`);
  // Put the ERP back as it was, so the other scenarios keep working on Sales.
  must(
    await erpAdmin('POST', '/__sim/financial-dimension-values', [
      { DimensionValue: '300', Description: 'Sales', LegalEntityId: 'acus', ActiveFrom: '2020-01-01' },
    ]),
    201,
  );
  console.log(
    '\n✔ master data scenario done: see Temporal UI → Schedules and the master-data-change workflows',
  );
}
