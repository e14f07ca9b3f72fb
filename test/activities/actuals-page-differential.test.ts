import { sql } from 'drizzle-orm';
import { processActualLine, processActualPage, SET_PAGE_FROM } from '../../db/queries/actuals';
import { getLegalEntity } from '../../db/queries/reference';
import { keepUncountableLine } from '../../db/queries/source-exceptions';
import { loadSourceContext } from '../../db/queries/source-lines';
import { type SourceActualRecord } from '../../domain/source-lines';
import { startStack, type TestStack } from '../harness/stack';

/**
 * A scheduled sync's large page is counted by the month-end load's set-based statement instead of line by
 * line: one page of good lines, repeats, lines that cannot be counted (unmapped, a closed period, a missing
 * rate) and a line whose earlier exception is still open goes through both, and both leave the same lines,
 * exceptions, audit of the closed exception, balances and counts; the page again counts nothing twice.
 */
describe("a sync's large page: set-based against line by line", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(() => stack?.stop());

  const HEADER = [
    'GeneralJournalAccountEntryRecId',
    'JournalNumber',
    'Voucher',
    'AccountingDate',
    'LedgerAccount',
    'TransactionCurrencyAmount',
    'TransactionCurrencyCode',
    'Description',
  ];

  /** The page, as the Dynamics 365 adapter reads its lines. */
  function page(fy: number, journal: string): SourceActualRecord[] {
    const d365 = stack.erps.d365!;
    const day = (n: number) => String((n % 28) + 1).padStart(2, '0');
    const record = (
      n: number,
      o: Partial<Record<'date' | 'account' | 'currency' | 'amount', string>> = {},
    ) => {
      const item = d365.parseLedgerExportRecord!(
        [
          String(6_000_000 + n),
          journal,
          `P${n}`,
          o.date ?? `${fy}-0${(n % 6) + 1}-${day(n)}`,
          o.account ?? ['60010-100', '61020-200', '63040-300', '64050-100'][n % 4]!,
          o.amount ?? `${(n * 37) % 900}.${String(n % 100).padStart(2, '0')}`,
          o.currency ?? 'USD',
          `line ${n}`,
        ],
        HEADER,
        n + 1,
      );
      if ('invalid' in item) throw new Error(item.invalid.reason);
      return item;
    };
    return [
      ...Array.from({ length: SET_PAGE_FROM + 50 }, (_x, i) => record(i + 1)),
      record(3),
      record(17),
      record(511, { currency: 'EUR', amount: '100.05' }),
      // No GBP rate: kept with its error.
      record(514, { currency: 'GBP', amount: '50.00' }),
      record(521, { account: '99999-100' }),
      record(522, { date: `${fy}-09-15` }),
      // Kept with its error by an earlier sync (see below), countable now.
      record(600),
    ];
  }

  /** What a page left: its lines, exceptions, their audit entries and the year's balances (journal named <page>). */
  async function outcome(fy: number, journal: string) {
    const lines = await stack.db.execute(sql`
      select dedupe_key, document_id, dimensions, account, cost_center, period, posting_date::text, amount::text,
             currency, description, routed_from_period, correlation_id
        from actual_lines where document_id like ${`${journal}%`} order by dedupe_key`);
    const exceptions = await stack.db.execute(sql`
      select record_key, status, error_code, error_message, correlation_id
        from source_exceptions where record_key like ${`%:${journal}%`} order by 1`);
    const audited = await stack.db.execute(sql`
      select action, count(*)::int as n from audit_log
       where action like 'source_record.%' and details->>'recordKey' like ${`%:${journal}%`} group by 1 order by 1`);
    const balances = await stack.db.execute(sql`
      select account, cost_center, period, actual::text from control_balances
       where legal_entity = 'ACME-US' and period like ${`${fy}-%`} and actual <> 0 order by 1, 2, 3`);
    return JSON.parse(
      JSON.stringify({ lines, exceptions, audited, balances }).replaceAll(journal, '<page>'),
    ) as Record<string, unknown[]>;
  }

  test('the same lines, exceptions, audit, balances and counts; again, nothing twice', async () => {
    const fy = await stack.newFiscalYear();
    await stack.db.execute(sql`
      insert into fx_rates (rate_type, from_currency, to_currency, valid_from, rate, source)
      values ('average', 'EUR', 'USD', ${`${fy}-01-01`}, 1.0837, 'test')`);
    await stack.db.execute(sql`update fiscal_periods set status = 'closed' where period = ${`${fy}-09`}`);
    const ctx = await loadSourceContext(stack.db, (await getLegalEntity(stack.db, 'ACME-US'))!);
    /** An earlier sync kept the page's last line with an error; it is countable now. */
    const earlierException = async (lines: SourceActualRecord[]) => {
      const kept = lines[lines.length - 1]!;
      await stack.db.transaction((tx) =>
        keepUncountableLine(tx, {
          sourceSystem: ctx.sourceSystem,
          legalEntity: ctx.legalEntity,
          stream: 'actuals',
          recordKey: `${ctx.sourceSystem}:${kept.documentId}:${kept.lineNo}:r${kept.revision}`,
          payload: { ...kept },
          error: { code: 'unmapped_dimension', message: 'not mapped then' },
          correlationId: `earlier-${fy}`,
        }),
      );
    };

    const lineJournal = `PAGE-L${fy}`;
    const linePage = page(fy, lineJournal);
    await earlierException(linePage);
    const byLine = { inserted: 0, duplicates: 0, exceptions: 0 };
    await stack.db.transaction(async (tx) => {
      for (const line of linePage) {
        const o = await processActualLine(tx, ctx, line, `sync-${fy}`);
        if (o === 'inserted') byLine.inserted++;
        else if (o === 'duplicate') byLine.duplicates++;
        else byLine.exceptions++;
      }
    });
    const lineOutcome = await outcome(fy, lineJournal);
    // The same page again under another journal, on balances back at zero.
    await stack.db.execute(
      sql`update control_balances set actual = 0 where legal_entity = 'ACME-US' and period like ${`${fy}-%`}`,
    );
    const setJournal = `PAGE-S${fy}`;
    const setPage = page(fy, setJournal);
    await earlierException(setPage);
    const bySet = await stack.db.transaction((tx) => processActualPage(tx, ctx, setPage, `sync-${fy}`));
    const setOutcome = await outcome(fy, setJournal);

    expect(byLine).toEqual({ inserted: SET_PAGE_FROM + 52, duplicates: 2, exceptions: 3 });
    expect(bySet).toEqual(byLine);
    expect(setOutcome).toEqual(lineOutcome);
    // The earlier exception was closed as its line went through, with its audit entry.
    expect(
      lineOutcome.exceptions!.filter((e) => (e as { status: string }).status === 'resolved'),
    ).toHaveLength(1);
    expect(lineOutcome.audited).toEqual([
      { action: 'source_record.kept_as_exception', n: 4 },
      { action: 'source_record.resolved', n: 1 },
    ]);

    const again = await stack.db.transaction((tx) => processActualPage(tx, ctx, setPage, `sync-${fy}`));
    expect(again).toEqual({ inserted: 0, duplicates: SET_PAGE_FROM + 52 + 2, exceptions: 3 });
    expect(await outcome(fy, setJournal)).toEqual(setOutcome);
  });
});
