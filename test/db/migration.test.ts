import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { type DatabaseHandle, openDatabase } from '../../db/client';
import { ensureDatabase, migrateDatabase, MIGRATIONS_FOLDER } from '../../db/migrate';
import { appendAudit, verifyAuditChain } from '../../db/queries/audit';
import { addToBalance } from '../../db/queries/balances';
import { chartOn, hierarchyEdges } from '../../db/queries/chart';
import { listCalendars } from '../../db/queries/fiscal-calendars';
import { twoDimensionChart } from '../../domain/chart';
import { budgetHeld } from '../../db/queries/publications';
import { routesOf } from '../../db/queries/routes';
import { fromMinor, toMinor } from '../../domain/money';
import { publications } from '../../db/schema';

const sumOf = (amounts: string[]) =>
  fromMinor(
    amounts.reduce((t, a) => t + toMinor(a, 'USD'), 0n),
    'USD',
  );

/**
 * A database written by the previous release (migrations 0000–0001, with a real cycle's data) is migrated to
 * today's schema without losing or misreading anything: the budget target moves to publication_targets, the
 * old audit rows still verify as their own chain, and balances take the currency into their key.
 */
describe('migrating a database from the previous release', () => {
  const adminUrl = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `closeloop_test_migration_${process.pid}`;
  const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  let handle: DatabaseHandle;

  beforeAll(async () => {
    await ensureDatabase(url);
    handle = openDatabase(url, { poolSize: 2 });
  });
  afterAll(async () => {
    await handle?.close();
    const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end({ timeout: 5 });
  });

  /** Migrates up to and including migration `last`, as a release that shipped with it would have. */
  async function migrateThrough(last: number) {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'closeloop-migrations-'));
    const journal = JSON.parse(
      await readFile(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
    ) as {
      entries: { idx: number; tag: string }[];
    };
    journal.entries = journal.entries.filter((e) => e.idx <= last);
    await mkdir(path.join(folder, 'meta'));
    await writeFile(path.join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
    for (const e of journal.entries)
      await copyFile(path.join(MIGRATIONS_FOLDER, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
    await migrate(handle.db, { migrationsFolder: folder });
  }

  test('the previous release’s data survives migration 0002 and keeps working', async () => {
    // The first release's schema (migrations 0000 and 0001) with a real cycle's data.
    await migrateThrough(1);
    await handle.sql.unsafe(await readFile(path.join(__dirname, 'fixtures', 'before-0002.sql'), 'utf8'));
    // The release before charts were data (through 0018): a cost center hierarchy with an approved move.
    await migrateThrough(18);
    await handle.sql.unsafe(`
      insert into cost_centers (code, name, legal_entity, valid_from)
        select 'CC-010', 'Delivery', 'ACME-US', '2020-01-01' where not exists (select 1 from cost_centers where code = 'CC-010');
      insert into cost_center_hierarchy (legal_entity, cost_center, parent, valid_from, valid_to) values
        ('ACME-US', 'CC-300', 'CC-020', '2020-01-01', '2027-04-01'),
        ('ACME-US', 'CC-300', 'CC-010', '2027-04-01', null);
      insert into master_data_changes (legal_entity, kind, code, from_value, to_value, effective_from, status,
                                       source_system, payload, requested_by, correlation_id)
        values ('ACME-US', 'cost_center_parent', 'CC-300', 'CC-020', 'CC-010', '2027-04-01', 'applied',
                'd365', '{}', 'sync:d365', 'c-1');`);

    await migrateDatabase(handle.db);

    // Migration 0019: each entity books on the chart it always had; the cost center hierarchy is the cost
    // center dimension's, every dated row kept; the move asked for is the same request.
    expect(await chartOn(handle.db, 'ACME-US', '2027-03-01')).toEqual({
      legalEntity: 'ACME-US',
      version: 1,
      validFrom: '1900-01-01',
      spec: twoDimensionChart('d365'),
    });
    expect(await hierarchyEdges(handle.db, 'ACME-US', 'costCenter')).toEqual([
      { code: 'CC-300', parent: 'CC-020', validFrom: '2020-01-01', validTo: '2027-04-01' },
      { code: 'CC-300', parent: 'CC-010', validFrom: '2027-04-01', validTo: null },
    ]);
    // Migration 0020: budget and publication lines carry their dimensions; account and cost center are
    // generated from them, so every line reads as it did.
    const lineShapes = await handle.sql`
      select count(*)::int as n from budget_lines
       where dimensions = jsonb_build_object('account', account, 'costCenter', cost_center)`;
    expect(lineShapes[0]).toEqual({ n: 132 });
    // Migration 0022: stored actuals and commitments carry the dimensions they were kept on.
    const sourceShapes = await handle.sql`
      select (select count(*) from actual_lines)::int as actuals,
             (select count(*) from actual_lines
               where dimensions = jsonb_build_object('account', account, 'costCenter', cost_center))::int as kept`;
    expect(sourceShapes[0]!.actuals).toBeGreaterThan(0);
    expect(sourceShapes[0]!.kept).toBe(sourceShapes[0]!.actuals);
    expect(
      await handle.sql`select kind, dimension, code, status from master_data_changes`.then((r) => [...r]),
    ).toEqual([{ kind: 'parent', dimension: 'costCenter', code: 'CC-300', status: 'applied' }]);

    // The target became a route in force since always, under its ERP's own posting model.
    expect(await routesOf(handle.db, 'ACME-US')).toEqual([
      expect.objectContaining({
        target: 'd365',
        company: 'acus',
        validFrom: '1900-01-01',
        validTo: null,
        postingModel: null,
        settings: { budgetModel: 'FY-BUDGET', budgetCode: 'Original' },
      }),
    ]);
    const [publication] = await handle.db.select().from(publications);
    expect(publication).toMatchObject({
      status: 'published',
      settings: { budgetModel: 'FY-BUDGET', budgetCode: 'Original' },
      // Migration 0017: a publication from before revisions published their differences posted its whole
      // version; its chunks' line ranges now name its own lines, so what the budget holds reads back exactly.
      basis: 'full',
      purpose: 'original',
      lineCount: 132,
      // Migration 0032: every publication before posting models was Dynamics 365's additive entries.
      postingModel: 'additive',
    });
    // Migration 0018: the calendar in use becomes data, and its periods know their quarter.
    expect(await listCalendars(handle.db)).toEqual([
      expect.objectContaining({
        code: 'CAL-JAN',
        spec: { kind: 'monthly', firstMonth: 1, adjustmentPeriods: 0 },
        fiscalYears: [2026, 2027, 2028],
      }),
    ]);
    const quarters = (await handle.db.execute(sql`
      select period_number as n, quarter, kind from fiscal_periods where fiscal_year = 2027 order by period_number`)) as unknown as {
      n: number;
      quarter: number;
      kind: string;
    }[];
    expect(quarters.map((q) => [q.n, q.quarter, q.kind])).toEqual(
      Array.from({ length: 12 }, (_x, i) => [i + 1, Math.floor(i / 3) + 1, 'regular']),
    );
    const held = await budgetHeld(handle.db, {
      legalEntity: 'ACME-US',
      fiscalYear: 2027,
      scenario: 'BUDGET',
    });
    expect(held).toHaveLength(132);
    const [versionTotal] = (await handle.db.execute(
      sql`select sum(amount)::text as total from budget_lines`,
    )) as unknown as { total: string }[];
    expect(sumOf(held.map((h) => h.amount))).toBe(sumOf([versionTotal!.total]));

    // The old rows are one chain of their own and still verify; new streams start beside them.
    expect(await verifyAuditChain(handle.db)).toMatchObject({
      ok: true,
      streams: [{ stream: 'legacy', entries: 9, ok: true }],
    });
    await handle.db.transaction((tx) =>
      appendAudit(tx, {
        stream: 'budget:ACME-US',
        actor: 'test',
        action: 'test.appended',
        entityType: 'test',
        entityId: '1',
        correlationId: 'c',
        eventKey: 'migration-test',
        details: {},
      }),
    );
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: true, entries: 10 });

    // Balances now key on currency: the old USD rows are the same rows, found and added to as before.
    const key = {
      legalEntity: 'ACME-US',
      account: '610200',
      costCenter: 'CC-300',
      period: '2027-01',
      currency: 'USD',
    };
    const actualOf = async () =>
      (
        (await handle.db.execute(sql`
        select actual::text as actual from control_balances
         where legal_entity = 'ACME-US' and account = '610200' and cost_center = 'CC-300' and period = '2027-01'`)) as unknown as {
          actual: string;
        }[]
      ).map((r) => r.actual);
    const [before] = await actualOf();
    await addToBalance(handle.db, key, 'actual', '1.00');
    expect(await actualOf()).toEqual([(Number(before) + 1).toFixed(6)]);
  });
});
