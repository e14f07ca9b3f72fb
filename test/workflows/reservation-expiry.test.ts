import { sql } from 'drizzle-orm';
import { ensureReservationExpiry, RESERVATION_EXPIRY_WORKFLOW_ID } from '../../api/reservation-expiry';
import { loadConfig } from '../../config';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Reservations nobody consumed or released are given back when they expire, by the reservation-expiry
 * workflow on the real dev server (durations shortened: a one-second reservation, a half-second round).
 */
describe('reservation expiry', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      api: true,
      env: { BUDGET_RESERVATION_TTL: '1 second', RESERVATION_EXPIRY_INTERVAL: '500ms' },
    });
  });
  afterAll(async () => {
    await stack?.client.workflow
      .getHandle(RESERVATION_EXPIRY_WORKFLOW_ID)
      .terminate('test over')
      .catch(() => undefined);
    await stack?.stop();
  });

  test('an expired reservation is released once, audited, and its funds are available again', async () => {
    const fy = await stack.newFiscalYear();
    await stack.db.execute(sql`
      insert into control_balances (legal_entity, account, cost_center, period, currency, budget)
      values ('ACME-US', '600100', 'CC-100', ${`${fy}-01`}, 'USD', 100.00)`);
    const config = loadConfig(stack.env);
    // Started twice (two API processes starting): one workflow runs.
    await ensureReservationExpiry(stack.client, config);
    await ensureReservationExpiry(stack.client, config);
    const request = apiClient(stack.api!.url);
    const reserved = await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      headers: { 'idempotency-key': `expiring-${fy}` },
      body: {
        legalEntity: 'ACME-US',
        lines: [
          {
            account: '600100',
            costCenter: 'CC-100',
            period: `${fy}-01`,
            amount: { amount: '60.00', currency: 'USD' },
          },
        ],
      },
    });
    expect(reserved.status).toBe(201);
    const reservedNow = async () => {
      const [row] = (await stack.db.execute(sql`
        select sum(reserved)::text as reserved from control_balances
         where legal_entity = 'ACME-US' and account = '600100' and cost_center = 'CC-100' and period = ${`${fy}-01`}`)) as unknown as {
        reserved: string;
      }[];
      return Number(row!.reserved);
    };
    expect(await reservedNow()).toBe(60);
    const deadline = Date.now() + 20_000;
    while ((await reservedNow()) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await reservedNow()).toBe(0);
    const audit = (await stack.db.execute(
      sql`select action from audit_log where entity_id = ${`coupa@acme.example/expiring-${fy}`}`,
    )) as unknown as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(['reservation.expired']);
    // Released means released: the caller's own release now finds nothing held.
    const again = await request('POST', `/v1/budget-control/reservations/expiring-${fy}/release`, {
      key: 'dev-procurement',
      body: { legalEntity: 'ACME-US' },
    });
    expect(again.status).toBe(409);
  });
});
