import { MockActivityEnvironment } from '@temporalio/testing';
import { and, eq, like, sql } from 'drizzle-orm';
import { createActualsActivities } from '../../activities/actuals';
import { beginCommitmentSnapshot } from '../../db/queries/commitments';
import { upsertDimensionMappings } from '../../db/queries/reference';
import { auditLog, controlBalances, sourceExceptions } from '../../db/schema';
import { fromMinor, toMinor } from '../../domain/money';
import { type LedgerEntrySeed, type PurchaseOrderSeed } from '../../simulators/d365';
import { sumAmounts } from '../harness/cycle';
import { apiClient } from '../harness/http';
import { startStack, type TestStack } from '../harness/stack';

/**
 * Actuals and commitments from the ERP: nothing is dropped (a line that cannot be counted is kept with its
 * error, visible and replayable), amounts keep their currency, each fiscal year has its own watermark, and
 * the database decides every balance change, however many syncs run at once.
 */
describe('source lines from the ERP', () => {
  let stack: TestStack;
  let activities: ReturnType<typeof createActualsActivities>;
  beforeAll(async () => {
    // Two ledger lines per page, so syncs run over many pages and heartbeat between them.
    stack = await startStack({ api: true, env: { D365_PAGE_SIZE: '2' } });
    activities = createActualsActivities({ db: stack.db, erps: stack.erps });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const entry = (fiscalYear: number, n: number, over: Partial<LedgerEntrySeed> = {}): LedgerEntrySeed => ({
    DataArea: 'acus',
    JournalNumber: `GJ-${fiscalYear}-${n}`,
    Voucher: `V-${fiscalYear}-${n}`,
    AccountingDate: `${fiscalYear}-02-1${n % 10}`,
    LedgerAccount: '61020-300',
    AccountingCurrencyAmount: `${n}00.00`,
    TransactionCurrencyCode: 'USD',
    ...over,
  });
  const run = <R>(fn: () => Promise<R>, heartbeats: unknown[] = [], info = {}) => {
    const env = new MockActivityEnvironment(info);
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    return env.run(fn) as Promise<R>;
  };
  const sync = (fiscalYear: number, heartbeats?: unknown[], info?: object) =>
    run(
      () =>
        activities.syncActuals({ legalEntity: 'ACME-US', fiscalYear, correlationId: `sync-${fiscalYear}` }),
      heartbeats,
      info,
    );
  async function balance(column: 'actual' | 'committed', fiscalYear: number, currency = 'USD') {
    const [row] = (await stack.db.execute(sql`
      select coalesce(sum(${sql.identifier(column)}), 0)::text as total from control_balances
       where legal_entity = 'ACME-US' and period like ${`${fiscalYear}-%`} and currency = ${currency}`)) as unknown as {
      total: string;
    }[];
    return fromMinor(toMinor(row!.total, currency), currency);
  }

  test('a line with no mapping, or in a currency with no rate, is kept with its error; support replays it once the mapping exists', async () => {
    const fiscalYear = await stack.newFiscalYear();
    stack.d365.seedLedgerEntries([
      entry(fiscalYear, 1),
      entry(fiscalYear, 2, { LedgerAccount: '66070-300' }), // no mapping for main account 66070 yet
      // Posted in EUR: 100.00 EUR, booked at 110.00 in the company's accounting currency.
      entry(fiscalYear, 3, {
        TransactionCurrencyCode: 'EUR',
        TransactionCurrencyAmount: '100.00',
        AccountingCurrencyAmount: '110.00',
      }),
    ]);
    const first = await sync(fiscalYear);
    expect(first).toMatchObject({ inserted: 1, exceptions: 2 });
    expect(await balance('actual', fiscalYear)).toBe('100.00');
    // Without an EUR rate, the EUR amount is never counted as dollars, under either of its amounts.
    expect(await balance('actual', fiscalYear, 'EUR')).toBe('0.00');

    // The watermark moved past them, but they are not lost: they wait in the exception store.
    expect(await sync(fiscalYear)).toMatchObject({ inserted: 0, exceptions: 0 });
    const request = apiClient(stack.api!.url);
    const listed = await request('GET', '/v1/source-exceptions?legalEntity=ACME-US&status=open', {
      key: 'dev-admin',
    });
    expect(listed.status).toBe(200);
    const mine = (listed.body.exceptions as { recordKey: string; errorCode: string; errorMessage: string }[])
      .filter((e) => e.recordKey.includes(`GJ-${fiscalYear}-`))
      .map((e) => [e.recordKey, e.errorCode, e.errorMessage]);
    expect(mine).toEqual([
      [
        expect.stringMatching(new RegExp(`^d365:GJ-${fiscalYear}-2/V-${fiscalYear}-2/\\d+:1:r0$`)),
        'unmapped_dimension',
        expect.stringMatching(/account 66070/),
      ],
      [
        expect.stringMatching(new RegExp(`^d365:GJ-${fiscalYear}-3/V-${fiscalYear}-3/\\d+:1:r0$`)),
        'fx_rate_missing',
        expect.stringMatching(/no average rate converts EUR to USD on/),
      ],
    ]);

    // Master data is fixed, then support replays: the unmapped line goes through, the EUR one stays open.
    await upsertDimensionMappings(stack.db, [
      {
        erpSystem: 'd365',
        dimension: 'account',
        canonicalCode: '650600',
        erpValue: '66070',
        validFrom: '2020-01-01',
        validTo: null,
      },
    ]);
    expect(
      (
        await request('POST', '/v1/source-exceptions/reprocess', {
          key: 'dev-planner',
          body: { legalEntity: 'ACME-US' },
        })
      ).status,
    ).toBe(403);
    const replayed = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US' },
    });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ reprocessed: 1, stillFailing: 1 });
    expect(await balance('actual', fiscalYear)).toBe('300.00');
    const again = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US' },
    });
    expect(again.body).toMatchObject({ reprocessed: 0 });
    expect(await balance('actual', fiscalYear)).toBe('300.00');

    const [reprocessed] = await stack.db
      .select()
      .from(sourceExceptions)
      .where(like(sourceExceptions.recordKey, `d365:GJ-${fiscalYear}-2/%`));
    expect(reprocessed).toMatchObject({ status: 'reprocessed', resolvedBy: 'ian@acme.example' });
    const actions = (
      await stack.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityType, 'source_exception'), eq(auditLog.entityId, reprocessed!.id)))
    ).map((a) => [a.action, a.stream]);
    expect(actions).toEqual([
      ['source_record.kept_as_exception', 'actuals:ACME-US'],
      ['source_record.reprocessed', 'actuals:ACME-US'],
    ]);
    const bad = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'NOPE-XX' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issues).toEqual([expect.objectContaining({ field: 'legalEntity' })]);
    const closedOne = await request('POST', '/v1/source-exceptions/reprocess', {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US', ids: [reprocessed!.id] },
    });
    expect(closedOne.status).toBe(422);
    expect(closedOne.body.issues).toEqual([
      { field: 'ids.0', message: expect.stringMatching(/is not an open actuals exception of ACME-US/) },
    ]);
    expect(
      (await request('GET', '/v1/source-exceptions?legalEntity=NOPE-XX', { key: 'dev-admin' })).status,
    ).toBe(422);
  });

  test('each fiscal year keeps its own watermark: syncing a later year first never hides an earlier one', async () => {
    const earlier = await stack.newFiscalYear();
    const later = await stack.newFiscalYear();
    // The earlier year's lines are older records in the ERP (lower record IDs).
    stack.d365.seedLedgerEntries([entry(earlier, 4), entry(earlier, 5)]);
    stack.d365.seedLedgerEntries([entry(later, 6)]);
    expect(await sync(later)).toMatchObject({ inserted: 1 });
    expect(await sync(earlier)).toMatchObject({ inserted: 2 });
    expect(await balance('actual', earlier)).toBe('900.00');
    expect(await balance('actual', later)).toBe('600.00');
  });

  test('a sync heartbeats page by page, and a retry resumes at the page after the last one it finished', async () => {
    const fiscalYear = await stack.newFiscalYear();
    stack.d365.seedLedgerEntries([1, 2, 3, 4, 5, 6, 7].map((n) => entry(fiscalYear, n)));
    const beats: Record<string, unknown>[] = [];
    const full = await sync(fiscalYear, beats);
    expect(full).toMatchObject({ pages: 4, inserted: 7 });
    const pageBeats = beats.filter((b) => b.cursor !== undefined || b.pages !== undefined);
    expect(pageBeats.length).toBeGreaterThanOrEqual(4);

    // A worker died after the second page: the next attempt starts from that heartbeat's cursor.
    const another = await stack.newFiscalYear();
    stack.d365.seedLedgerEntries([1, 2, 3, 4, 5, 6, 7].map((n) => entry(another, n)));
    const seen: Record<string, unknown>[] = [];
    await sync(another, seen);
    const afterSecondPage = seen.find((b) => b.pages === 2)!;
    expect(afterSecondPage.cursor).toEqual(expect.any(String));
    const resumed = await sync(another, [], { heartbeatDetails: afterSecondPage });
    // Pages 1 and 2 are not read again (their counts come with the heartbeat); pages 3 and 4 are, and their
    // lines, already ingested by the first attempt, count as duplicates.
    expect(resumed).toMatchObject({ pages: 4, inserted: 4, duplicates: 3 });
  });

  test('concurrent commitment syncs count every purchase-order line once', async () => {
    const fiscalYear = await stack.newFiscalYear();
    const order = (n: number, amount: string): PurchaseOrderSeed => ({
      dataAreaId: 'acus',
      PurchaseOrderNumber: `PO-${fiscalYear}-${n}`,
      CurrencyCode: 'USD',
      lines: [
        {
          LineNumber: 1,
          RequestedDeliveryDate: `${fiscalYear}-05-01`,
          DefaultLedgerDimensionDisplayValue: '63040-100',
          LineAmount: amount,
        },
      ],
    });
    const open: PurchaseOrderSeed[] = [];
    for (let round = 1; round <= 6; round++) {
      // Each round a new PO arrives and the first one is revised; two syncs race to take them in.
      open.push(order(round, `${round}000.00`));
      open[0] = order(1, `${round * 11}00.00`);
      stack.d365.seedPurchaseOrders(open);
      const both = await Promise.all(
        [1, 2].map(() =>
          run(() =>
            activities.syncCommitments({
              legalEntity: 'ACME-US',
              fiscalYear,
              correlationId: `race-${round}`,
            }),
          ),
        ),
      );
      expect(both.map((r) => r.lines)).toEqual([round, round]);
      const expected = sumAmounts(open.map((o) => o.lines[0]!.LineAmount));
      expect(await balance('committed', fiscalYear)).toBe(expected);
    }
    // A snapshot taken before one already applied is stale: it changes nothing.
    expect(
      await stack.db.transaction((tx) =>
        beginCommitmentSnapshot(
          tx,
          { sourceSystem: 'd365', legalEntity: 'ACME-US', stream: 'commitments', scope: `FY${fiscalYear}` },
          '2000-01-01T00:00:00.000000Z',
        ),
      ),
    ).toBe(false);
    // Lines the ERP closed are released to zero.
    stack.d365.seedPurchaseOrders(
      open.map((o) => ({
        ...o,
        lines: o.lines.map((l) => ({ ...l, PurchaseOrderLineStatus: 'Received' as const })),
      })),
    );
    const closed = await run(() =>
      activities.syncCommitments({ legalEntity: 'ACME-US', fiscalYear, correlationId: 'closed' }),
    );
    expect(closed).toMatchObject({ lines: 0, released: 6 });
    expect(await balance('committed', fiscalYear)).toBe('0.00');
    const [{ n }] = (await stack.db
      .select({ n: sql<number>`count(*)::int` })
      .from(controlBalances)
      .where(and(eq(controlBalances.legalEntity, 'ACME-US'), sql`${controlBalances.committed} < 0`))) as [
      { n: number },
    ];
    expect(n).toBe(0);
  });
});
