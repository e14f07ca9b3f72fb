import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { loadLedgerExport, loadLedgerExportFile } from '../../activities/bulk-load';
import { startStack, type TestStack } from '../harness/stack';

/**
 * The set-based month-end load (PostgreSQL parses the file; lines are keyed, converted, deduplicated and
 * counted in set-based statements) against the row path it replaces: one corpus of good rows, every kind of
 * bad row, repeats, a closed period and a missing rate goes through both, and both leave the same lines, the
 * same dead letters with the same reasons, the same balances and the same counts.
 */
describe('month-end load: the set path against the row path', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startStack({ worker: false });
    dir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-ledger-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await stack?.stop();
  });

  const header =
    'GeneralJournalAccountEntryRecId,JournalNumber,Voucher,AccountingDate,LedgerAccount,TransactionCurrencyAmount,TransactionCurrencyCode,Description';

  function corpus(fy: number): string {
    const day = (n: number) => String((n % 28) + 1).padStart(2, '0');
    const row = (
      n: number,
      o: Partial<Record<'date' | 'account' | 'amount' | 'currency' | 'desc', string>> = {},
    ) =>
      [
        8_000_000 + n,
        `DIFF-${fy}`,
        `V${n}`,
        o.date ?? `${fy}-0${(n % 6) + 1}-${day(n)}`,
        o.account ?? ['60010-100', '61020-200', '63040-300', '64050-100'][n % 4],
        o.amount ?? `${(n * 37) % 900}.${String(n % 100).padStart(2, '0')}`,
        o.currency ?? 'USD',
        o.desc ?? `line ${n}`,
      ].join(',');
    const good = Array.from({ length: 400 }, (_x, i) => row(i + 1));
    return [
      header,
      ...good,
      // Repeats of earlier lines, one with other content: the first in the file counts.
      row(3),
      row(17),
      row(17, { amount: '1.00' }),
      // Negative amounts, and an amount with trailing zeros past the currency's decimals.
      row(501, { amount: '-125.50' }),
      row(502, { amount: '10.5000' }),
      // Other currencies: converted at the posting date, rounded half away from zero; one with no rate.
      row(511, { currency: 'EUR', amount: '100.05' }),
      row(512, { currency: 'EUR', amount: '-0.05' }),
      row(513, { currency: 'EUR', amount: '1234567.89' }),
      row(514, { currency: 'GBP', amount: '50.00' }),
      // Lines that cannot be counted: unmapped, a closed period, outside the calendar.
      row(521, { account: '99999-100' }),
      row(522, { date: `${fy}-09-15` }),
      row(523, { date: '1999-01-04' }),
      // Rows that cannot be read: a record ID, an amount, a currency, an empty journal, too many decimals, an
      // unknown currency, a date that is no date.
      row(531).replace(/^\d+/, 'RID-531'),
      row(532, { amount: 'ten' }),
      row(533, { currency: 'US' }),
      row(534).replace(`DIFF-${fy}`, ''),
      row(535, { amount: '1.234' }),
      row(536, { currency: 'XYZ' }),
      row(537, { date: `${fy}-02-30` }),
      // Too few fields, and too many.
      `8000538,DIFF-${fy},V538`,
      `${row(539)},extra`,
      // Spaces around fields, a quoted description with a comma, an empty description.
      ` ${8_000_541} , DIFF-${fy} ,V541, ${fy}-03-05 ,60010-100, 12.00 ,USD, padded `,
      row(542, { desc: '"with, comma"' }),
      row(543, { desc: '' }),
    ].join('\n');
  }

  /** What a load leaves: its lines, its dead letters (the correlation ID taken out of keys) and balances. */
  async function outcome(fy: number, correlationId: string) {
    const lines = await stack.db.execute(sql`
      select dedupe_key, document_id, dimensions, account, cost_center, period, posting_date::text, amount::text,
             currency, description, routed_from_period
        from actual_lines where correlation_id = ${correlationId} order by dedupe_key`);
    const dead = await stack.db.execute(sql`
      select replace(record_key, ${correlationId}, '<load>') as record_key, error_code, error_message, payload
        from source_exceptions where correlation_id = ${correlationId} order by 1`);
    const balances = await stack.db.execute(sql`
      select account, cost_center, period, actual::text from control_balances
       where legal_entity = 'ACME-US' and period like ${`${fy}-%`} and actual <> 0 order by 1, 2, 3`);
    return { lines, dead, balances };
  }

  async function forget(fy: number, correlationId: string) {
    await stack.db.execute(sql`delete from actual_lines where correlation_id = ${correlationId}`);
    await stack.db.execute(sql`delete from source_exceptions where correlation_id = ${correlationId}`);
    await stack.db.execute(
      sql`update control_balances set actual = 0 where legal_entity = 'ACME-US' and period like ${`${fy}-%`}`,
    );
  }

  test('one corpus through both paths: the same lines, dead letters, reasons, balances and counts', async () => {
    const fy = await stack.newFiscalYear();
    await stack.db.execute(sql`
      insert into fx_rates (rate_type, from_currency, to_currency, valid_from, rate, source)
      values ('average', 'EUR', 'USD', ${`${fy}-01-01`}, 1.0837, 'test')`);
    await stack.db.execute(sql`update fiscal_periods set status = 'closed' where period = ${`${fy}-09`}`);
    const text = corpus(fy);
    const file = path.join(dir, `ledger-${fy}.csv`);
    writeFileSync(file, `${text}\n`);
    const deps = { db: stack.db, erps: stack.erps };

    const byRow = await loadLedgerExport(deps, {
      legalEntity: 'ACME-US',
      file: Readable.from([`${text}\n`]),
      correlationId: `row-${fy}`,
      batchSize: 50,
    });
    const rowOutcome = await outcome(fy, `row-${fy}`);
    await forget(fy, `row-${fy}`);

    const bySet = await loadLedgerExportFile(deps, {
      legalEntity: 'ACME-US',
      path: file,
      correlationId: `set-${fy}`,
    });
    const setOutcome = await outcome(fy, `set-${fy}`);

    expect(bySet.path).toBe('set');
    // Only the rows that are not counted are read one by one (to keep each with its reason).
    expect(bySet.rowByRow).toBe(13);
    const counts = (r: { read: number; inserted: number; duplicates: number; deadLetters: number }) => ({
      read: r.read,
      inserted: r.inserted,
      duplicates: r.duplicates,
      deadLetters: r.deadLetters,
    });
    expect(counts(bySet)).toEqual(counts(byRow));
    expect(byRow).toMatchObject({ read: 424, inserted: 408, duplicates: 3, deadLetters: 13 });
    expect(setOutcome.lines).toEqual(rowOutcome.lines);
    expect(setOutcome.dead).toEqual(rowOutcome.dead);
    expect(setOutcome.balances).toEqual(rowOutcome.balances);
    expect(rowOutcome.dead.length).toBe(byRow.deadLetters);
    expect(
      new Set((rowOutcome.dead as unknown as { error_code: string }[]).map((d) => d.error_code)),
    ).toEqual(
      new Set([
        'invalid_record',
        'invalid_amount',
        'unmapped_dimension',
        'period_closed',
        'period_not_in_calendar',
        'fx_rate_missing',
      ]),
    );

    // Staged in two parts on two connections (as a large file is), it leaves the same again.
    await forget(fy, `set-${fy}`);
    const inParts = await loadLedgerExportFile(deps, {
      legalEntity: 'ACME-US',
      path: file,
      correlationId: `set-${fy}`,
      splitFromBytes: 1,
    });
    expect(inParts.batches).toBe(2);
    expect(counts(inParts)).toEqual(counts(byRow));
    expect(await outcome(fy, `set-${fy}`)).toEqual(rowOutcome);

    // Loaded again, the set path counts nothing twice.
    const again = await loadLedgerExportFile(deps, {
      legalEntity: 'ACME-US',
      path: file,
      correlationId: `set-${fy}`,
    });
    expect(again).toMatchObject({ inserted: 0, duplicates: byRow.inserted + byRow.duplicates });
    expect((await outcome(fy, `set-${fy}`)).balances).toEqual(rowOutcome.balances);
  });

  test('a file whose records are not one a line is loaded row by row, every line counted once', async () => {
    const fy = await stack.newFiscalYear();
    const file = path.join(dir, `multiline-${fy}.csv`);
    writeFileSync(
      file,
      `${header}\n7000001,ML-${fy},V1,${fy}-03-05,60010-100,10.00,USD,"two\nlines"\n7000002,ML-${fy},V2\n`,
    );
    const result = await loadLedgerExportFile(
      { db: stack.db, erps: stack.erps },
      { legalEntity: 'ACME-US', path: file, correlationId: `ml-${fy}` },
    );
    expect(result).toMatchObject({ path: 'row', read: 2, inserted: 1, deadLetters: 1 });
    expect(result.reason).toMatch(/not one record a line: 2 lines hold a quoted field that spans lines/);
  });
});
