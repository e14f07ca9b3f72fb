import { Readable } from 'node:stream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { createActualsActivities } from '../../activities/actuals';
import { loadLedgerExport } from '../../activities/bulk-load';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The month-end bulk load: a ledger export streamed in batches, counted by the same business key as the
 * hourly sync (so a load run twice, or overlapping the sync, counts every line once), converted and
 * period-aligned like every other line, and nothing dropped: unreadable rows and lines that cannot be counted
 * wait in the dead letters.
 */
describe('month-end bulk load of actuals', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const header =
    'GeneralJournalAccountEntryRecId,JournalNumber,Voucher,AccountingDate,LedgerAccount,TransactionCurrencyAmount,TransactionCurrencyCode,Description';
  const row = (fy: number, n: number, account = '63040-200', amount = '10.00', currency = 'USD') =>
    `${9_000_000 + n},ME-${fy},V-${fy}-${n},${fy}-03-${String((n % 28) + 1).padStart(2, '0')},${account},${amount},${currency},line ${n}`;
  const load = (csv: string, correlationId: string, batchSize = 7) =>
    loadLedgerExport(
      { db: stack.db, erps: stack.erps },
      { legalEntity: 'ACME-US', file: Readable.from([csv]), correlationId, batchSize },
    );
  const actual = async (fy: number) =>
    (
      (await stack.db.execute(sql`
      select coalesce(sum(actual), 0)::text as total from control_balances
       where legal_entity = 'ACME-US' and period = ${`${fy}-03`} and account = '630400'`)) as unknown as {
        total: string;
      }[]
    )[0]!.total;

  test('a load run twice, and overlapping the hourly sync, counts every line once; bad rows wait as dead letters', async () => {
    const fy = await stack.newFiscalYear();
    // Lines 1-5 were already synced from the ERP by the hourly sync.
    stack.d365.seedLedgerEntries(
      [1, 2, 3, 4, 5].map((n) => ({
        DataArea: 'acus',
        JournalNumber: `ME-${fy}`,
        Voucher: `V-${fy}-${n}`,
        AccountingDate: `${fy}-03-${String((n % 28) + 1).padStart(2, '0')}`,
        LedgerAccount: '63040-200',
        AccountingCurrencyAmount: '10.00',
        TransactionCurrencyCode: 'USD',
        Description: `line ${n}`,
      })),
    );
    // The simulator assigns its own record IDs: the file below carries the same ones, read back here.
    const activities = createActualsActivities({ db: stack.db, erps: stack.erps });
    const syncResult = await new MockActivityEnvironment().run(() =>
      activities.syncActuals({ legalEntity: 'ACME-US', fiscalYear: fy, correlationId: `hourly-${fy}` }),
    );
    expect(syncResult).toMatchObject({ inserted: 5 });
    const recIds = (
      (await stack.db.execute(sql`
      select document_id from actual_lines where document_id like ${`ME-${fy}/%`} order by document_id`)) as unknown as {
        document_id: string;
      }[]
    ).map((r) => r.document_id.split('/')[2]!);

    // The month-end file: the 5 synced lines (same record IDs), 30 new ones, 3 repeated within the file,
    // one unmapped account, one unreadable row, one row cut short.
    const lines = [
      ...recIds.map(
        (id, i) => `${id},ME-${fy},V-${fy}-${i + 1},${fy}-03-0${i + 2},63040-200,10.00,USD,line ${i + 1}`,
      ),
      ...Array.from({ length: 30 }, (_x, i) => row(fy, 100 + i)),
      row(fy, 100),
      row(fy, 101),
      row(fy, 102),
      row(fy, 200, '99999-200'),
      `not-a-recid,ME-${fy},V-x,${fy}-03-05,63040-200,ten,USD,bad`,
      `5999999,ME-${fy},V-short`,
    ];
    const csv = `${header}\n${lines.join('\n')}\n`;
    const first = await load(csv, `load-${fy}-1`);
    expect(first).toMatchObject({ read: 41, inserted: 30, duplicates: 8, deadLetters: 3 });
    expect(Number(await actual(fy))).toBe(350);

    const again = await load(csv, `load-${fy}-2`);
    expect(again).toMatchObject({ read: 41, inserted: 0, duplicates: 38, deadLetters: 3 });
    expect(Number(await actual(fy))).toBe(350);

    const dead = (await stack.db.execute(sql`
      select error_code, error_message, occurrences from source_exceptions
       where correlation_id like ${`load-${fy}-%`} order by error_code, error_message`)) as unknown as {
      error_code: string;
      error_message: string;
      occurrences: number;
    }[];
    expect(dead.map((d) => d.error_code)).toEqual([
      'invalid_record',
      'invalid_record',
      'invalid_record',
      'invalid_record',
      'unmapped_dimension',
    ]);
    expect(
      dead.filter((d) => d.error_message.includes('has 3 fields where the header names 8')),
    ).toHaveLength(2);
  });

  test('lines in another currency are converted at their posting date; the file is streamed, not held', async () => {
    const fy = await stack.newFiscalYear();
    await stack.db.execute(sql`
      insert into fx_rates (rate_type, from_currency, to_currency, valid_from, rate, source)
      values ('average', 'EUR', 'USD', ${`${fy}-01-01`}, 1.085, 'test')`);
    const many = 20_000;
    const body = Readable.from(
      (function* () {
        yield `${header}\n`;
        for (let n = 1; n <= many; n++) yield `${row(fy, n, '63040-200', '1.00', 'EUR')}\n`;
      })(),
    );
    const result = await loadLedgerExport(
      { db: stack.db, erps: stack.erps },
      { legalEntity: 'ACME-US', file: body, correlationId: `eur-${fy}`, batchSize: 2000 },
    );
    expect(result).toMatchObject({ read: many, inserted: many, deadLetters: 0 });
    expect(result.batches).toBe(10);
    // 1.00 EUR at 1.085 → 1.09 USD (rounded per line, as the ledger would), 20,000 times.
    expect(await actual(fy)).toBe('21800.000000');
  });

  test('a posting into a closed period is routed as the entity says: kept as a dead letter, or counted in the next open period and flagged', async () => {
    const fy = await stack.newFiscalYear();
    await stack.db.execute(sql`update fiscal_periods set status = 'closed' where period = ${`${fy}-03`}`);
    const csv = (from: number) => `${header}\n${[0, 1, 2].map((i) => row(fy, from + i)).join('\n')}\n`;
    try {
      const kept = await load(csv(500), `closed-${fy}-1`);
      expect(kept).toMatchObject({ inserted: 0, deadLetters: 3 });
      await stack.db.execute(
        sql`update legal_entities set closed_period_policy = 'next_open_period' where code = 'ACME-US'`,
      );
      const routed = await load(csv(600), `closed-${fy}-2`);
      expect(routed).toMatchObject({ inserted: 3, deadLetters: 0 });
      const lines = (await stack.db.execute(sql`
        select period, routed_from_period from actual_lines where correlation_id = ${`closed-${fy}-2`}`)) as unknown as {
        period: string;
        routed_from_period: string;
      }[];
      expect(lines).toEqual([0, 1, 2].map(() => ({ period: `${fy}-04`, routed_from_period: `${fy}-03` })));
    } finally {
      await stack.db.execute(
        sql`update legal_entities set closed_period_policy = 'dead_letter' where code = 'ACME-US'`,
      );
    }
  });
});
