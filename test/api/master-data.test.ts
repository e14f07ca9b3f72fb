import { sql } from 'drizzle-orm';
import { decisionSignal } from '../../workflows/definitions';
import { masterData } from '../../simulators/scenario/services-company';
import { seedBudget } from '../harness/budget-control';
import { apiClient, type JsonResponse } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Master data from the ERP, its system of record, as the integration team and approvers meet it through the
 * API: a sync applies what changed, a cost center's move in the hierarchy waits for an approver, a closure
 * is refused while money stands on the cost center, an unmapped account waits in the dead letters until its
 * mapping exists and is replayed, and source values are added to and ended on canonical values by date.
 */
describe('master data from the ERP', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  const sync = async (): Promise<JsonResponse> => {
    const res = await request('POST', '/v1/master-data/syncs', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US', wait: true },
    });
    expect(res.status).toBe(200);
    return res;
  };
  const costCentersOn = async (asOf: string) => {
    const res = await request('GET', `/v1/master-data/cost-centers?legalEntity=ACME-US&asOf=${asOf}`, {
      key: 'dev-planner',
    });
    expect(res.status).toBe(200);
    return new Map(
      (res.body.costCenters as { code: string; parent: string | null; validTo: string | null }[]).map((c) => [
        c.code,
        c,
      ]),
    );
  };
  const deadLetters = async () =>
    (
      await request('GET', '/v1/source-exceptions?legalEntity=ACME-US&stream=master_data', {
        key: 'dev-admin',
      })
    ).body.exceptions as {
      id: string;
      recordKey: string;
      errorCode: string;
      errorMessage: string;
      status: string;
    }[];

  beforeAll(async () => {
    stack = await startStack({ api: true, env: { MASTER_DATA_APPROVAL_TIMEOUT: '5 minutes' } });
    request = apiClient(stack.api!.url);
    const master = masterData();
    stack.d365.seedMainAccounts(master.mainAccounts);
    stack.d365.seedDimensionValues(master.dimensionValues);
    stack.d365.publishHierarchyChanges(master.hierarchy);
  });
  afterAll(() => stack?.stop());

  test('the seeded chart and cost centers agree with the ERP: a first sync changes nothing and keeps nothing aside', async () => {
    const res = await sync();
    expect(res.body.accounts).toMatchObject({
      read: 8,
      created: 0,
      updated: 0,
      deactivated: 0,
      deadLettered: 0,
    });
    expect(res.body.costCenters).toMatchObject({
      read: 7,
      created: 0,
      updated: 0,
      deactivated: 0,
      deadLettered: 0,
    });
    expect(res.body.changesRequested).toEqual([]);
    expect(await deadLetters()).toEqual([]);
  });

  test('a cost center moving under another parent waits for an approver, then holds from its date only', async () => {
    // Finance moves Sales under Client services from 2027-04-01 and publishes the hierarchy in D365.
    stack.d365.publishHierarchyChanges([
      { ChildOrganization: '300', ParentOrganization: '010', validFrom: '2027-04-01' },
    ]);
    const first = await sync();
    const requested = first.body.changesRequested as { id: string; code: string; toValue: string }[];
    expect(requested).toEqual([
      expect.objectContaining({ code: 'CC-300', fromValue: 'CC-020', toValue: 'CC-010' }),
    ]);
    const [workflowId] = first.body.approvalsStarted as string[];
    expect(workflowId).toBe(`master-data-change:ACME-US:CC-300:${requested[0]!.id}`);
    // Not yet in effect, and a second sync does not ask again.
    expect((await costCentersOn('2027-05-01')).get('CC-300')?.parent).toBe('CC-020');
    const second = await sync();
    expect(second.body.changesRequested).toEqual([]);
    expect(second.body.approvalsStarted).toEqual([]);

    const path = `/v1/master-data/changes/${requested[0]!.id}`;
    const pending = await request('GET', path, { key: 'dev-planner' });
    expect(pending.body).toMatchObject({ status: 'awaiting_approval', workflow: { execution: 'RUNNING' } });
    // Segregation of duties: an integration administrator never approves.
    const refused = await request('POST', `${path}/decision`, {
      key: 'dev-admin',
      body: { decision: 'approve' },
    });
    expect(refused.status).toBe(403);
    const approved = await request('POST', `${path}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve', comment: 'reorganisation signed off' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'applied', decidedBy: 'carol@acme.example' });

    expect((await costCentersOn('2027-03-31')).get('CC-300')?.parent).toBe('CC-020');
    expect((await costCentersOn('2027-04-01')).get('CC-300')?.parent).toBe('CC-010');
    const audit = (await stack.db.execute(sql`
      select action, actor from audit_log where stream = 'master-data:ACME-US' order by seq`)) as unknown as {
      action: string;
      actor: string;
    }[];
    expect(audit).toEqual(
      expect.arrayContaining([
        { action: 'master_data.change_requested', actor: 'sync:d365' },
        { action: 'master_data_change.decision_refused', actor: 'ian@acme.example' },
        { action: 'master_data.change_applied', actor: 'carol@acme.example' },
      ]),
    );
  });

  test('a move rejected from Temporal UI (a signal) leaves the hierarchy as it was, and is not asked for again', async () => {
    stack.d365.publishHierarchyChanges([
      { ChildOrganization: '200', ParentOrganization: '020', validFrom: '2027-02-01' },
    ]);
    const res = await sync();
    const [change] = res.body.changesRequested as { id: string }[];
    const handle = stack.client.workflow.getHandle((res.body.approvalsStarted as string[])[0]!);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, {
        decision: 'reject',
        principal: 'carol@acme.example',
        comment: 'not yet',
      }),
    );
    expect(await handle.result()).toMatchObject({ status: 'rejected' });
    expect((await costCentersOn('2027-03-01')).get('CC-200')?.parent).toBe('CC-010');
    const again = await sync();
    expect(again.body.changesRequested).toEqual([]);
    const listed = await request('GET', '/v1/master-data/changes?legalEntity=ACME-US&status=rejected', {
      key: 'dev-planner',
    });
    expect((listed.body.changes as { id: string }[]).map((c) => c.id)).toContain(change!.id);
  });

  test('closing a cost center that still has budget is refused with the reason, and goes through once the budget is moved', async () => {
    await seedBudget(stack.db, '640500', 'CC-400', '2027-05', '30000.00');
    const direct = await request('POST', '/v1/master-data/cost-centers/CC-400/deactivation', {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', validTo: '2027-01-01', reason: 'G&A merges into Corporate' },
    });
    expect(direct.status).toBe(409);
    expect(direct.body).toMatchObject({ error: 'deactivation_refused' });
    expect(JSON.stringify(direct.body)).toContain('budget of 30000.00 USD in 2027-05');

    // The ERP suspends it: the sync keeps the closure aside with the same reason, and CC-400 stays open.
    stack.d365.seedDimensionValues([
      {
        DimensionValue: '400',
        Description: 'General and administrative',
        LegalEntityId: 'acus',
        ActiveFrom: '2020-01-01',
        ActiveTo: '2026-12-31',
      },
    ]);
    const res = await sync();
    expect(res.body.costCenters).toMatchObject({ deactivated: 0, deadLettered: 1 });
    const [kept] = (await deadLetters()).filter((d) => d.errorCode === 'deactivation_refused');
    expect(kept).toMatchObject({ recordKey: 'costCenter:CC-400:close', status: 'open' });
    expect(kept!.errorMessage).toMatch(
      /cost center CC-400 cannot close from 2027-01-01: it still has budget of 30000.00 USD in 2027-05/,
    );
    expect((await costCentersOn('2026-12-01')).get('CC-400')?.validTo).toBeNull();

    // The controller moves the budget away (here: the balance no longer carries it), then support replays.
    await stack.db.execute(sql`update control_balances set budget = 0 where cost_center = 'CC-400'`);
    const replay = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US', stream: 'master_data', ids: [kept!.id] },
    });
    expect(replay.body).toMatchObject({ reprocessed: 1, stillFailing: 0 });
    expect((await costCentersOn('2026-12-01')).get('CC-400')?.validTo).toBe('2027-01-01');
    expect((await deadLetters()).find((d) => d.id === kept!.id)?.status).toBe('reprocessed');
    // Replaying again changes nothing more; the next sync finds it closed.
    const twice = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US', stream: 'master_data' },
    });
    expect(twice.body).toMatchObject({ reprocessed: 0, stillFailing: 0 });
    expect((await sync()).body.costCenters).toMatchObject({ deactivated: 0, deadLettered: 0 });
  });

  test('a refused closure the ERP takes back (the cost center reopened there) leaves no dead letter behind', async () => {
    await seedBudget(stack.db, '600100', 'CC-100', '2027-02', '1000.00');
    const value = {
      DimensionValue: '100',
      Description: 'Consulting delivery',
      LegalEntityId: 'acus',
      ActiveFrom: '2020-01-01',
    };
    stack.d365.seedDimensionValues([{ ...value, IsSuspended: 'Yes' }]);
    expect((await sync()).body.costCenters).toMatchObject({ deactivated: 0, deadLettered: 1 });
    const refused = (await deadLetters()).find((d) => d.recordKey === 'costCenter:CC-100:close');
    expect(refused).toMatchObject({ status: 'open', errorCode: 'deactivation_refused' });
    expect(refused!.errorMessage).toContain('budget of 1000.00 USD in 2027-02');
    stack.d365.seedDimensionValues([value]);
    expect((await sync()).body.costCenters).toMatchObject({ deactivated: 0, deadLettered: 0 });
    expect((await deadLetters()).find((d) => d.id === refused!.id)?.status).toBe('resolved');
    expect((await costCentersOn('2027-02-01')).get('CC-100')?.validTo).toBeNull();
  });

  test('a new main account without a mapping waits in the dead letters; once mapped, a replay creates it', async () => {
    stack.d365.seedMainAccounts([
      { MainAccountId: '66070', Name: 'Cloud hosting', ActiveFrom: '2027-01-01' },
    ]);
    const res = await sync();
    expect(res.body.accounts).toMatchObject({ created: 0, deadLettered: 1 });
    const [kept] = (await deadLetters()).filter((d) => d.recordKey === 'account:66070');
    expect(kept).toMatchObject({ errorCode: 'mapping_missing', status: 'open' });
    expect(kept!.errorMessage).toContain('d365 main account 66070 has no account mapping');

    const mapped = await request('PUT', '/v1/master-data/mappings', {
      key: 'dev-admin',
      body: {
        erpSystem: 'd365',
        dimension: 'account',
        canonicalCode: '660700',
        erpValue: '66070',
        validFrom: '2027-01-01',
      },
    });
    expect(mapped.status).toBe(200);
    const replay = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US', stream: 'master_data', errorCode: 'mapping_missing' },
    });
    expect(replay.body).toMatchObject({ reprocessed: 1, stillFailing: 0 });
    const [account] = (await stack.db.execute(
      sql`select name, kind, valid_from as "validFrom", valid_to as "validTo" from accounts where code = '660700'`,
    )) as unknown as Record<string, unknown>[];
    expect(account).toEqual({
      name: 'Cloud hosting',
      kind: 'expense',
      validFrom: '2027-01-01',
      validTo: null,
    });
    expect((await deadLetters()).find((d) => d.id === kept!.id)?.status).toBe('reprocessed');
  });

  test('adding a second source value onto a canonical account keeps the first (many-to-one): both count; ending one is its own act', async () => {
    const fy = await stack.newFiscalYear();
    const mapping = (erpValue: string, validFrom: string, canonicalCode = '630400') =>
      request('PUT', '/v1/master-data/mappings', {
        key: 'dev-admin',
        body: { erpSystem: 'd365', dimension: 'account', canonicalCode, erpValue, validFrom },
      });
    const res = await mapping('63046', `${fy}-10-01`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'added',
      mapping: { erpValue: '63046', validFrom: `${fy}-10-01`, validTo: null },
      inForce: {
        onDate: `${fy}-10-01`,
        mappings: [
          { erpValue: '63040', validFrom: '2020-01-01', validTo: null, publishedTo: true },
          { erpValue: '63046', validFrom: `${fy}-10-01`, validTo: null, publishedTo: false },
        ],
      },
    });
    expect((await mapping('63046', `${fy}-10-01`)).body).toMatchObject({ outcome: 'already_mapped' });
    // A source value stands for one canonical value at a time.
    const overlap = await mapping('63046', `${fy}-11-01`, '640500');
    expect(overlap.status).toBe(409);
    expect(overlap.body).toMatchObject({
      error: 'mapping_overlaps',
      standing: [{ canonicalCode: '630400', erpValue: '63046' }],
    });

    // A later reload of the first source's lines still counts them: nothing goes to the dead letters.
    const line = (voucher: string, ledgerAccount: string) => ({
      DataArea: 'acus',
      JournalNumber: `MAP-${fy}`,
      Voucher: `MAP-${fy}-${voucher}`,
      AccountingDate: `${fy}-11-15`,
      LedgerAccount: `${ledgerAccount}-100`,
      AccountingCurrencyAmount: '120.00',
      TransactionCurrencyCode: 'USD',
    });
    stack.d365.seedLedgerEntries([line('1', '63040'), line('2', '63046')]);
    const synced = await request('POST', '/v1/erp-syncs', {
      key: 'dev-scheduler',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, wait: true },
    });
    expect(synced.body).toMatchObject({ years: [{ actuals: { inserted: 2, exceptions: 0 } }] });
    const [actual] = (await stack.db.execute(sql`
      select actual::numeric(18,2)::text as actual from control_balances
       where legal_entity = 'ACME-US' and account = '630400' and cost_center = 'CC-100' and period = ${`${fy}-11`}`)) as unknown as {
      actual: string;
    }[];
    expect(actual).toEqual({ actual: '240.00' });

    // Ending a source value is explicit, with a reason; the others stay.
    const end = (validTo: string) =>
      request('POST', '/v1/master-data/mappings/end', {
        key: 'dev-admin',
        body: {
          erpSystem: 'd365',
          dimension: 'account',
          canonicalCode: '630400',
          erpValue: '63046',
          validTo,
          reason: 'sub-account merged back',
        },
      });
    const ended = await end(`${fy}-12-01`);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({
      outcome: 'ended',
      mapping: { erpValue: '63046', validFrom: `${fy}-10-01`, validTo: `${fy}-12-01` },
      inForce: {
        onDate: `${fy}-12-01`,
        mappings: [{ erpValue: '63040', validTo: null, publishedTo: true }],
      },
    });
    expect((await end(`${fy}-12-01`)).body).toMatchObject({ error: 'mapping_not_in_force' });
    const trail = (await stack.db.execute(sql`
      select action, details->>'reason' as reason from audit_log
       where stream = 'mappings:d365' and entity_id = 'account:630400' order by seq`)) as unknown as {
      action: string;
      reason: string | null;
    }[];
    expect(trail).toEqual([
      { action: 'mapping.added', reason: null },
      { action: 'mapping.ended', reason: 'sub-account merged back' },
    ]);
    const planner = await request('PUT', '/v1/master-data/mappings', {
      key: 'dev-planner',
      body: {
        erpSystem: 'd365',
        dimension: 'account',
        canonicalCode: '630400',
        erpValue: '1',
        validFrom: '2027-10-01',
      },
    });
    expect(planner.status).toBe(403);
    const bad = await request('PUT', '/v1/master-data/mappings', {
      key: 'dev-admin',
      body: { erpSystem: 'd365', dimension: 'Cost-Center', canonicalCode: '630400', validFrom: '2027-13-01' },
    });
    expect(bad.status).toBe(400);
    const fields = (bad.body.issues as { field: string }[]).map((i) => i.field).sort();
    expect(fields).toEqual(['dimension', 'erpValue', 'validFrom']);
    const badEnd = await request('POST', '/v1/master-data/mappings/end', {
      key: 'dev-admin',
      body: { erpSystem: 'd365', dimension: 'account', canonicalCode: '630400', erpValue: '63040' },
    });
    expect(badEnd.status).toBe(400);
    expect((badEnd.body.issues as { field: string }[]).map((i) => i.field).sort()).toEqual([
      'reason',
      'validTo',
    ]);
  });
});
