import { randomUUID } from 'node:crypto';
import { type Duration } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import { proposeMasterDataChange } from '../../db/queries/master-data';
import { decisionSignal, masterDataChangeWorkflowId } from '../../workflows/definitions';
import { type MasterDataChangeInput, type masterDataChange } from '../../workflows/master-data-change';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The approval of a cost center's move in the hierarchy on the dev server: refused signals (an integration
 * administrator, the requester, a malformed payload) are audited and change nothing; an undecided move
 * expires after its (short, for the test) timeout and leaves the hierarchy as it was.
 */
describe('masterDataChange workflow', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  async function propose(code: string, to: string, effectiveFrom: string) {
    const { change } = await stack.db.transaction((tx) =>
      proposeMasterDataChange(
        tx,
        { legalEntity: 'ACME-US', by: 'sync:d365', correlationId: randomUUID() },
        {
          dimension: 'costCenter',
          code,
          fromValue: 'CC-010',
          toValue: to,
          effectiveFrom,
          sourceSystem: 'd365',
          payload: {},
        },
      ),
    );
    return change;
  }

  function start(
    change: { id: string; code: string; toValue: string | null; correlationId: string },
    timeout: Duration,
  ) {
    const input: MasterDataChangeInput = {
      changeId: change.id,
      legalEntity: 'ACME-US',
      code: change.code,
      from: 'CC-010',
      to: change.toValue,
      effectiveFrom: '2027-06-01',
      requestedBy: 'sync:d365',
      approvers: ['carol@acme.example', 'dave@acme.example'],
      integrationAdmins: ['ian@acme.example'],
      timeout,
      correlationId: change.correlationId,
    };
    return stack.client.workflow.start<typeof masterDataChange>('masterDataChange', {
      workflowId: masterDataChangeWorkflowId({
        legalEntity: 'ACME-US',
        code: change.code,
        changeId: change.id,
      }),
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
    });
  }

  const parentOf = async (code: string, date: string) => {
    const [row] = (await stack.db.execute(sql`
      select parent from dimension_hierarchy
       where legal_entity = 'ACME-US' and dimension = 'costCenter' and code = ${code}
         and valid_from <= ${date} and (valid_to is null or valid_to > ${date})`)) as unknown as {
      parent: string | null;
    }[];
    return row?.parent;
  };

  test('refused signals are audited and change nothing; an approver signal applies the move from its date', async () => {
    const change = await propose('CC-100', 'CC-020', '2027-06-01');
    const handle = await start(change, '1 minute');
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'ian@acme.example' }),
    );
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'sync:d365' }),
    );
    await handle.signal(decisionSignal, { decision: 'maybe', principal: 'carol@acme.example' } as never);
    await handle.signal(
      decisionSignal,
      await stack.signed(handle.workflowId, { decision: 'approve', principal: 'dave@acme.example' }),
    );
    const status = await handle.result();
    expect(status).toMatchObject({ status: 'applied', decision: { principal: 'dave@acme.example' } });
    // A malformed signal is refused at once, a signed one once its token is verified: in any order.
    expect(status.refusedSignals.map((r) => r.principal).sort()).toEqual([
      'carol@acme.example',
      'ian@acme.example',
      'sync:d365',
    ]);
    const refusals = (await stack.db.execute(sql`
      select actor from audit_log where stream = 'master-data:ACME-US'
         and action = 'master_data_change.decision_refused' and entity_id = ${change.id} order by seq`)) as unknown as {
      actor: string;
    }[];
    // Each refusal is written by its own activity, so the trail holds all three in any order.
    expect(refusals.map((r) => r.actor).sort()).toEqual([
      'carol@acme.example',
      'ian@acme.example',
      'sync:d365',
    ]);
    expect(await parentOf('CC-100', '2027-05-31')).toBe('CC-010');
    expect(await parentOf('CC-100', '2027-06-01')).toBe('CC-020');
  });

  test('an undecided move expires after its timeout; the hierarchy stays as it was', async () => {
    const change = await propose('CC-200', 'CC-020', '2027-06-01');
    const handle = await start(change, '1 second');
    expect(await handle.result()).toMatchObject({ status: 'expired' });
    const [row] = (await stack.db.execute(
      sql`select status, decided_by as "decidedBy" from master_data_changes where id = ${change.id}`,
    )) as unknown as { status: string; decidedBy: string | null }[];
    expect(row).toEqual({ status: 'expired', decidedBy: null });
    expect(await parentOf('CC-200', '2027-07-01')).toBe('CC-010');
  });
});
