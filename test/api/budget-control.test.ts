import { sql } from 'drizzle-orm';
import { upsertControlModels } from '../../db/queries/control-model';
import { deactivateMasterRecord } from '../../db/queries/master-data';
import { insertCostCenters } from '../../db/queries/reference';
import { apiClient } from '../harness/http';
import { seedBudget, usdLine as line } from '../harness/budget-control';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The synchronous budget check and reservation, over HTTP on the real stack: the database decides every
 * reservation, so concurrent requests never overspend, and an Idempotency-Key reserves once however often
 * (and however concurrently) it is sent.
 */
describe('budget control API', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    stack = await startStack({ api: true, worker: false });
    request = apiClient(stack.api!.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const budget = (account: string, costCenter: string, period: string, amount: string) =>
    seedBudget(stack.db, account, costCenter, period, amount);
  const reserve = (key: string, lines: unknown[], apiKey = 'dev-procurement') =>
    request('POST', '/v1/budget-control/reservations', {
      key: apiKey,
      headers: { 'idempotency-key': key },
      body: { legalEntity: 'ACME-US', lines },
    });
  const balance = async (account: string, costCenter: string, period: string) =>
    (
      await request(
        'GET',
        `/v1/budget-control/balances?legalEntity=ACME-US&account=${account}&costCenter=${costCenter}&period=${period}`,
        { key: 'dev-controller' },
      )
    ).body as { budget: { amount: string }; reserved: { amount: string }; available: { amount: string } };

  test('64 concurrent reservations against room for exactly 10: 10 approved, the rest refused, no overspend', async () => {
    const fy = await stack.newFiscalYear();
    // The services company pools funds over the quarter: a budget in February covers a March request.
    await budget('600100', 'CC-200', `${fy}-02`, '1000.00');
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_x, i) =>
        reserve(`race-${fy}-${i}`, [line('600100', 'CC-200', `${fy}-03`, '100.00')]),
      ),
    );
    const approved = answers.filter((a) => a.status === 201);
    expect(approved).toHaveLength(10);
    expect(answers.filter((a) => a.status === 200 && a.body.outcome === 'rejected')).toHaveLength(54);
    expect(approved[0]!.body).toMatchObject({
      outcome: 'approved',
      reserved: true,
      lines: [
        expect.objectContaining({
          controlLevel: 'absolute',
          pooledPeriods: [`${fy}-01`, `${fy}-02`, `${fy}-03`],
          budget: '1000.00',
        }),
      ],
    });
    const refused = answers.find((a) => a.body.outcome === 'rejected')!.body as {
      lines: { reason: string; availableBefore: string }[];
    };
    expect(refused.lines[0]).toMatchObject({
      reason: 'over budget (absolute control)',
      availableBefore: '0.00',
    });
    expect(await balance('600100', 'CC-200', `${fy}-03`)).toMatchObject({
      budget: { amount: '1000.00' },
      reserved: { amount: '1000.00' },
      available: { amount: '0.00' },
    });
  });

  test('the same Idempotency-Key sent three times at once reserves once and answers the same', async () => {
    const fy = await stack.newFiscalYear();
    await budget('600100', 'CC-100', `${fy}-04`, '500.00');
    const lines = [line('600100', 'CC-100', `${fy}-04`, '120.00')];
    const answers = await Promise.all([1, 2, 3].map(() => reserve(`dup-${fy}`, lines)));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);
    expect(answers[1]!.body).toEqual(answers[0]!.body);
    expect(answers[2]!.body).toEqual(answers[0]!.body);
    expect((await balance('600100', 'CC-100', `${fy}-04`)).reserved.amount).toBe('120.00');
    // The same key with other content is refused, and reserves nothing.
    const reused = await reserve(`dup-${fy}`, [line('600100', 'CC-100', `${fy}-04`, '1.00')]);
    expect(reused).toMatchObject({ status: 422, body: { error: 'idempotency_key_reused' } });
    expect((await balance('600100', 'CC-100', `${fy}-04`)).reserved.amount).toBe('120.00');
  });

  test('a request is all or nothing across buckets; tolerance and advisory rules warn', async () => {
    const fy = await stack.newFiscalYear();
    await budget('600100', 'CC-300', `${fy}-01`, '100.00');
    await budget('610200', 'CC-300', `${fy}-01`, '1000.00');
    await budget('650600', 'CC-300', `${fy}-01`, '10.00');
    const both = await reserve(`mixed-${fy}`, [
      line('610200', 'CC-300', `${fy}-01`, '50.00'),
      line('600100', 'CC-300', `${fy}-01`, '100.01'),
    ]);
    expect(both.body).toMatchObject({ outcome: 'rejected', reserved: false });
    expect((both.body.lines as { outcome: string }[]).map((l) => l.outcome)).toEqual([
      'approved',
      'rejected',
    ]);
    expect((await balance('610200', 'CC-300', `${fy}-01`)).reserved.amount).toBe('0.00');

    // Travel (610200) is absolute with 5% tolerance: up to 1,050.00 passes with a warning, beyond is refused.
    const within = await reserve(`tol-${fy}-1`, [line('610200', 'CC-300', `${fy}-01`, '1040.00')]);
    expect(within).toMatchObject({ status: 201, body: { outcome: 'warning' } });
    expect((within.body.lines as { reason: string }[])[0]!.reason).toMatch(/within the 5% tolerance/);
    const beyond = await reserve(`tol-${fy}-2`, [line('610200', 'CC-300', `${fy}-01`, '10.01')]);
    expect(beyond.body).toMatchObject({ outcome: 'rejected' });
    // Software (650600) is advisory: over budget passes with a warning.
    const advisory = await reserve(`adv-${fy}`, [line('650600', 'CC-300', `${fy}-01`, '99.00')]);
    expect(advisory).toMatchObject({ status: 201, body: { outcome: 'warning' } });
  });

  test('a freeze rejects new reservations at once; only a controller freezes; the unfreeze is its own audited act', async () => {
    const fy = await stack.newFiscalYear();
    await budget('630400', 'CC-100', `${fy}-01`, '1000.00');
    const before = await reserve(`pre-freeze-${fy}`, [line('630400', 'CC-100', `${fy}-01`, '100.00')]);
    expect(before.status).toBe(201);

    expect(
      (
        await request('POST', '/v1/budget-control/freezes', {
          key: 'dev-procurement',
          body: { legalEntity: 'ACME-US', costCenter: 'CC-100', reason: 'audit' },
        })
      ).status,
    ).toBe(403);
    const noReason = await request('POST', '/v1/budget-control/freezes', {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', costCenter: 'CC-100' },
    });
    expect(noReason.status).toBe(400);
    const frozen = await request('POST', '/v1/budget-control/freezes', {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', costCenter: 'CC-100', reason: 'fraud investigation on CC-100' },
    });
    expect(frozen).toMatchObject({
      status: 201,
      body: { costCenter: 'CC-100', frozenBy: 'dave@acme.example' },
    });
    const id = frozen.body.id as string;
    try {
      const during = await reserve(`in-freeze-${fy}`, [line('630400', 'CC-100', `${fy}-01`, '1.00')]);
      expect(during.body).toMatchObject({ outcome: 'rejected', reserved: false });
      expect((during.body.lines as { reason: string }[])[0]!.reason).toMatch(
        /frozen \(cost center CC-100\) by dave@acme.example .*fraud investigation/,
      );
      // Another cost center is not frozen.
      await budget('630400', 'CC-200', `${fy}-01`, '10.00');
      expect((await reserve(`other-${fy}`, [line('630400', 'CC-200', `${fy}-01`, '1.00')])).status).toBe(201);
    } finally {
      const lifted = await request('POST', `/v1/budget-control/freezes/${id}/unfreeze`, {
        key: 'dev-controller',
        body: { legalEntity: 'ACME-US', reason: 'investigation closed' },
      });
      expect(lifted).toMatchObject({
        status: 200,
        body: { unfrozenBy: 'dave@acme.example', unfreezeReason: 'investigation closed' },
      });
    }
    const again = await request('POST', `/v1/budget-control/freezes/${id}/unfreeze`, {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US', reason: 'twice' },
    });
    expect(again.status).toBe(409);
    expect((await reserve(`after-freeze-${fy}`, [line('630400', 'CC-100', `${fy}-01`, '1.00')])).status).toBe(
      201,
    );
    const audit = (await stack.db.execute(
      sql`select action, actor from audit_log where entity_id = ${id} order by seq`,
    )) as unknown as { action: string; actor: string }[];
    expect(audit.map((a) => a.action)).toEqual(['control.frozen', 'control.unfrozen']);
  });

  test('a released reservation gives its funds back once; a second release holds nothing', async () => {
    const fy = await stack.newFiscalYear();
    await budget('620300', 'CC-200', `${fy}-03`, '100.00');
    const lines = [
      line('620300', 'CC-200', `${fy}-03`, '30.00'),
      line('620300', 'CC-200', `${fy}-03`, '40.00'),
    ];
    expect((await reserve(`rel-${fy}`, lines)).status).toBe(201);
    expect((await balance('620300', 'CC-200', `${fy}-03`)).available.amount).toBe('30.00');
    const release = () =>
      request('POST', `/v1/budget-control/reservations/rel-${fy}/release`, {
        key: 'dev-procurement',
        body: { legalEntity: 'ACME-US' },
      });
    const [first, second] = await Promise.all([release(), release()]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect(await balance('620300', 'CC-200', `${fy}-03`)).toMatchObject({
      reserved: { amount: '0.00' },
      available: { amount: '100.00' },
    });
    // Another caller cannot release it.
    expect((await reserve(`rel2-${fy}`, [lines[0]])).status).toBe(201);
    const stranger = await request('POST', `/v1/budget-control/reservations/rel2-${fy}/release`, {
      key: 'dev-controller',
      body: { legalEntity: 'ACME-US' },
    });
    expect(stranger.status).toBe(409);
  });

  test('balances grouped by any dimension or hierarchy level add up to the totals', async () => {
    const fy = await stack.newFiscalYear();
    await budget('610200', 'CC-100', `${fy}-01`, '100.00');
    await budget('610200', 'CC-200', `${fy}-02`, '200.00');
    await budget('640500', 'CC-400', `${fy}-02`, '300.00');
    expect((await reserve(`grp-${fy}`, [line('610200', 'CC-200', `${fy}-02`, '25.00')])).status).toBe(201);
    const grouped = (query: string) =>
      request('GET', `/v1/budget-control/balances/grouped?legalEntity=ACME-US&fiscalYear=${fy}&${query}`, {
        key: 'dev-controller',
      });
    // By the cost-center hierarchy's top level: client services (CC-100, CC-200), corporate (CC-400).
    const byDivision = await grouped('groupBy=costCenter@0');
    expect(byDivision.status).toBe(200);
    expect(byDivision.body).toMatchObject({
      groupBy: ['costCenter@0'],
      groups: [
        { key: { 'costCenter@0': 'CC-010' }, budget: '300.00', reserved: '25.00', available: '275.00' },
        { key: { 'costCenter@0': 'CC-020' }, budget: '300.00', reserved: '0.00', available: '300.00' },
      ],
      totals: [{ currency: 'USD', budget: '600.00', reserved: '25.00', available: '575.00' }],
    });
    // One period, by account and cost center.
    const february = await grouped(`period=${fy}-02&groupBy=account,costCenter`);
    expect(february.body).toMatchObject({
      periods: [`${fy}-02`],
      groups: [
        { key: { account: '610200', costCenter: 'CC-200' }, budget: '200.00' },
        { key: { account: '640500', costCenter: 'CC-400' }, budget: '300.00' },
      ],
      totals: [{ budget: '500.00' }],
    });
    expect((await grouped(`period=${fy}-13`)).status).toBe(422);
    expect((await grouped('groupBy=plant')).status).toBe(422);
  });

  test('the database and the rules agree at every edge: exactly at the limit, a cent over, odd tolerances', async () => {
    const fy = await stack.newFiscalYear();
    // Travel (610200) allows 5%: 1,000.01 of budget allows 1,050.01 (1,050.0105 rounded down).
    await budget('610200', 'CC-100', `${fy}-07`, '1000.01');
    const over = await reserve(`edge-${fy}-1`, [line('610200', 'CC-100', `${fy}-07`, '1050.02')]);
    expect(over.body).toMatchObject({ outcome: 'rejected' });
    const at = await reserve(`edge-${fy}-2`, [line('610200', 'CC-100', `${fy}-07`, '1050.01')]);
    expect(at).toMatchObject({ status: 201, body: { outcome: 'warning' } });
    expect((at.body.lines as { availableAfter: string }[])[0]!.availableAfter).toBe('-50.00');
    // Absolute with no tolerance (600100): the last cent fits, the next does not.
    await budget('600100', 'CC-100', `${fy}-07`, '0.03');
    const answers = [];
    for (const n of [1, 2, 3, 4])
      answers.push(await reserve(`edge-${fy}-c${n}`, [line('600100', 'CC-100', `${fy}-07`, '0.01')]));
    expect(answers.map((a) => a.body.outcome)).toEqual(['approved', 'approved', 'approved', 'rejected']);
  });

  test('the consumption lifecycle: events late, twice and out of order still leave the balances right', async () => {
    const fy = await stack.newFiscalYear();
    await budget('640500', 'CC-200', `${fy}-02`, '1000.00');
    const events = (list: unknown[]) =>
      request('POST', '/v1/budget-control/consumption-events', {
        key: 'dev-procurement',
        body: { legalEntity: 'ACME-US', sourceSystem: 'coupa', events: list },
      });
    const po = (type: string, extra: Record<string, unknown>) => ({
      type,
      documentId: `PO-${fy}`,
      lineNo: 1,
      ...extra,
    });
    const at = (period: string, amount: string) => ({
      account: '640500',
      costCenter: 'CC-200',
      period: `${fy}-${period}`,
      amount: { amount, currency: 'USD' },
    });
    // An entity whose consumption comes from its ERP refuses events: they would count twice.
    expect((await events([po('closed', {})])).status).toBe(409);
    await upsertControlModels(stack.db, [
      { legalEntity: 'ACME-US', periodBasis: 'quarter', consumptionSource: 'events' },
    ]);
    try {
      expect((await reserve(`req-${fy}`, [line('640500', 'CC-200', `${fy}-02`, '500.00')])).status).toBe(201);
      const figures = async () => {
        const b = (await balance('640500', 'CC-200', `${fy}-02`)) as unknown as Record<
          string,
          { amount: string }
        >;
        return ['reserved', 'committed', 'actual', 'available'].map((k) => `${k} ${b[k]!.amount}`).join(', ');
      };
      expect(await figures()).toBe('reserved 500.00, committed 0.00, actual 0.00, available 500.00');
      const held = (await balance('640500', 'CC-200', `${fy}-02`)) as unknown as {
        behind: { reservations: { idempotencyKey: string; amount: { amount: string } }[] };
      };
      expect(held.behind.reservations).toEqual([
        expect.objectContaining({
          idempotencyKey: `req-${fy}`,
          amount: { amount: '500.00', currency: 'USD' },
        }),
      ]);

      // The first invoice arrives before the purchase order; then the PO (consuming the reservation), twice.
      const first = await events([
        po('invoiced', { invoiceId: 'INV-1', ...at('03', '300.00') }),
        po('committed', { sequence: 1, reservationKey: `req-${fy}`, ...at('02', '400.00') }),
        po('committed', { sequence: 1, reservationKey: `req-${fy}`, ...at('02', '400.00') }),
      ]);
      expect((first.body.results as { outcome: string }[]).map((r) => r.outcome)).toEqual([
        'applied',
        'applied',
        'duplicate',
      ]);
      expect(await figures()).toBe('reserved 0.00, committed 100.00, actual 300.00, available 600.00');
      const behind = (
        (await balance('640500', 'CC-200', `${fy}-02`)) as unknown as {
          behind: { reservations: unknown[]; documents: { documentId: string; openCommitment: unknown }[] };
        }
      ).behind;
      expect(behind.reservations).toEqual([]);
      expect(behind.documents).toEqual([
        expect.objectContaining({
          documentId: `PO-${fy}`,
          openCommitment: { amount: '100.00', currency: 'USD' },
        }),
      ]);

      // The PO is changed (version 2), an older version arrives late, a second invoice, the close, a repeat.
      const second = await events([
        po('committed', { sequence: 2, ...at('02', '450.00') }),
        po('committed', { sequence: 0, ...at('02', '999.00') }),
        po('invoiced', { invoiceId: 'INV-2', ...at('03', '100.00') }),
      ]);
      expect((second.body.results as { outcome: string }[]).map((r) => r.outcome)).toEqual([
        'applied',
        'stale',
        'applied',
      ]);
      expect(await figures()).toBe('reserved 0.00, committed 50.00, actual 400.00, available 550.00');
      await events([po('closed', {}), po('invoiced', { invoiceId: 'INV-2', ...at('03', '100.00') })]);
      expect(await figures()).toBe('reserved 0.00, committed 0.00, actual 400.00, available 600.00');
      // An event naming an unknown cost center is refused, naming it, and changes nothing.
      const unknown = await events([
        po('invoiced', { invoiceId: 'INV-9', ...at('03', '1.00'), costCenter: 'CC-999' }),
      ]);
      expect(unknown.status).toBe(422);
      expect(JSON.stringify(unknown.body)).toMatch(/events\.0\.costCenter/);
      expect(await figures()).toBe('reserved 0.00, committed 0.00, actual 400.00, available 600.00');

      // Another requisition's order: its change (v2) overtakes its first version, the only one naming the
      // reservation; the late first version is stale for the amount but still gives the reservation way.
      expect((await reserve(`req2-${fy}`, [line('640500', 'CC-200', `${fy}-02`, '200.00')])).status).toBe(
        201,
      );
      const po2 = (extra: Record<string, unknown>) => ({
        ...po('committed', extra),
        documentId: `PO2-${fy}`,
      });
      const overtaken = await events([
        po2({ sequence: 2, ...at('02', '150.00') }),
        po2({ sequence: 1, reservationKey: `req2-${fy}`, ...at('02', '200.00') }),
      ]);
      expect((overtaken.body.results as { outcome: string }[]).map((r) => r.outcome)).toEqual([
        'applied',
        'stale',
      ]);
      expect(await figures()).toBe('reserved 0.00, committed 150.00, actual 400.00, available 450.00');
    } finally {
      await upsertControlModels(stack.db, [
        { legalEntity: 'ACME-US', periodBasis: 'quarter', consumptionSource: 'erp' },
      ]);
    }
  });

  test('a check answers without reserving', async () => {
    const fy = await stack.newFiscalYear();
    await budget('600100', 'CC-200', `${fy}-05`, '300.00');
    const check = await request('POST', '/v1/budget-control/checks', {
      key: 'dev-procurement',
      body: { legalEntity: 'ACME-US', lines: [line('600100', 'CC-200', `${fy}-05`, '250.00')] },
    });
    expect(check).toMatchObject({ status: 200, body: { outcome: 'approved', reserved: false } });
    expect((check.body.lines as { availableAfter: string }[])[0]!.availableAfter).toBe('50.00');
    expect((await balance('600100', 'CC-200', `${fy}-05`)).reserved.amount).toBe('0.00');
  });

  test('bad input is refused with its fields named, and nothing is reserved', async () => {
    const fy = await stack.newFiscalYear();
    const missingKey = await request('POST', '/v1/budget-control/reservations', {
      key: 'dev-procurement',
      body: { legalEntity: 'ACME-US', lines: [line('600100', 'CC-200', `${fy}-01`, '1.00')] },
    });
    expect(missingKey).toMatchObject({ status: 400, body: { error: 'idempotency_key_required' } });
    const malformed = await reserve(`bad-${fy}`, [
      { account: '600100', costCenter: 'CC-200', period: 'March', amount: { amount: '-5', currency: 'USD' } },
    ]);
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toMatch(/lines\.0\.period/);
    expect(JSON.stringify(malformed.body)).toMatch(/lines\.0\.amount/);
    const unknown = await reserve(`unknown-${fy}`, [line('699999', 'CC-999', `${fy}-01`, '1.00')]);
    expect(unknown).toMatchObject({ status: 422, body: { error: 'unknown_reference' } });
    expect(JSON.stringify(unknown.body)).toMatch(/account 699999/);
    expect(JSON.stringify(unknown.body)).toMatch(/cost center CC-999/);
    const planner = await reserve(
      `planner-${fy}`,
      [line('600100', 'CC-200', `${fy}-01`, '1.00')],
      'dev-planner',
    );
    expect(planner.status).toBe(403);
    const [{ n }] = (await stack.db.execute(
      sql`select count(*)::int as n from funds_requests where idempotency_key like ${`%-${fy}`}`,
    )) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });

  test('a cost center closed while the API still holds it active takes no reservation on an advisory bucket: the database orders the two', async () => {
    const fy = await stack.newFiscalYear();
    const costCenter = `CC-R${fy}`;
    await insertCostCenters(stack.db, [
      { code: costCenter, legalEntity: 'ACME-US', name: 'Race test', validFrom: '2020-01-01', validTo: null },
    ]);
    // 650600 is advisory: no budget is needed, so no balance stands in the closure's way.
    const lines = [line('650600', costCenter, `${fy}-05`, '100.00')];
    const first = await reserve(`closure-${fy}-1`, lines);
    expect(first.status).toBe(201);
    const released = await request('POST', `/v1/budget-control/reservations/closure-${fy}-1/release`, {
      key: 'dev-procurement',
      body: { legalEntity: 'ACME-US' },
    });
    expect(released.status).toBe(200);
    // The closure, straight in the database: the API's cache (a few seconds) still has the cost center active.
    const closed = await stack.db.transaction((tx) =>
      deactivateMasterRecord(
        tx,
        { legalEntity: 'ACME-US', by: 'dave@acme.example', correlationId: `closure-${fy}` },
        { dimension: 'costCenter', code: costCenter, validTo: `${fy}-01-01` },
      ),
    );
    expect(closed).toEqual({ outcome: 'deactivated' });
    const refused = await reserve(`closure-${fy}-2`, lines);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      error: 'unknown_reference',
      issues: [
        {
          field: 'lines.0.costCenter',
          message: `cost center ${costCenter} of ACME-US is not active on ${fy}-05-01`,
        },
      ],
    });
    const [{ n }] = (await stack.db.execute(
      sql`select count(*)::int as n from funds_requests where idempotency_key = ${`closure-${fy}-2`}`,
    )) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });
});
