import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import iconv from 'iconv-lite';
import { closeloopCli } from '../harness/cli';
import { apiClient } from '../harness/http';
import { glDetail, glHeader, glTrailer, LEGACY_GL_LAYOUT } from '../../simulators/legacy-erp/gl-extract';
import { startSshd, type RunningSshd } from '../harness/sshd';
import { startStack, type TestStack } from '../harness/stack';
import { WorkflowFailedError } from '@temporalio/client';

/**
 * A watched inbox of month-end ledger extracts, end to end through the API, the scheduled workflow's pickup and
 * the ledger load: a fixed-width Windows-1252 extract with a trailer, a CSV with a control file; a file dropped
 * twice and renamed, a half-written or still-growing file, a refused file and its report.
 */
describe('file feeds: a watched inbox of ledger extracts', () => {
  let stack: TestStack;
  let request: ReturnType<typeof apiClient>;
  let inbox: string;
  let fy: number;
  let sshd: RunningSshd;
  const feeds: string[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    stack = await startStack({ api: true });
    request = apiClient(stack.api!.url);
    inbox = await mkdtemp(join(tmpdir(), 'closeloop-inbox-'));
    fy = await stack.newFiscalYear();
  });
  afterAll(async () => {
    for (const feed of feeds)
      await stack.client.schedule
        .getHandle(`file-inbox:${feed}`)
        .delete()
        .catch((e: unknown) => {
          if (!(e instanceof ScheduleNotFoundError)) throw e;
        });
    await stack?.stop();
    await sshd?.stop();
    await rm(inbox, { recursive: true, force: true });
  });

  const declare = async (code: string, definition: Record<string, unknown>) => {
    feeds.push(code);
    return request('PUT', `/v1/file-feeds/${code}`, {
      key: 'dev-admin',
      body: { legalEntity: 'ACME-US', ...definition },
    });
  };
  const pickup = async (code: string) => {
    const res = await request('POST', `/v1/file-feeds/${code}/pickups`, {
      key: 'dev-admin',
      body: { wait: true },
    });
    expect(res.status).toBe(200);
    return res.body as {
      taken: {
        name: string;
        status: string;
        reason?: string;
        movedTo?: string;
        report?: string;
        counts?: object;
      }[];
      waiting: { name: string; reason: string }[];
    };
  };
  const actual = async (account: string) =>
    (
      (await stack.db.execute(sql`
      select coalesce(sum(actual), 0)::text as total from control_balances
       where legal_entity = 'ACME-US' and period = ${`${fy}-03`} and account = ${account}`)) as unknown as {
        total: string;
      }[]
    )[0]!.total;
  /** A file written long enough ago to have settled. */
  const drop = async (dir: string, name: string, content: Buffer | string, ageSeconds = 60) => {
    await writeFile(join(dir, name), content);
    const then = new Date(Date.now() - ageSeconds * 1000);
    await utimes(join(dir, name), then, then);
  };

  // A legacy GL's extract (simulators/legacy-erp/gl-extract): fixed-width Windows-1252 records, amounts in signed
  // zoned decimal with two implied decimals, a trailer counting the details and summing the amounts.
  const fixedLayout = LEGACY_GL_LAYOUT;
  const detail = (doc: string, line: number, cents: number, text: string, account = '63040') =>
    glDetail({
      account,
      costCenter: '200',
      postingDate: `${fy}0315`,
      minor: BigInt(cents),
      currency: 'USD',
      documentId: doc,
      lineNo: line,
      description: text,
    });
  const extract = (details: string[], trailer?: { count: number; cents: number }) =>
    iconv.encode(
      [
        glHeader(`GL EXTRACT ${fy}03`),
        ...details,
        ...(trailer ? [glTrailer(trailer.count, BigInt(trailer.cents))] : []),
      ].join('\r\n') + '\r\n',
      'windows-1252',
    );

  test('a fixed-width extract loads once; the same content again, renamed, is recognised; a half-written or growing file waits', async () => {
    const dir = join(inbox, 'legacy-gl');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const definition = {
      kind: 'actuals',
      transport: { type: 'local', path: dir },
      layout: fixedLayout,
      readiness: 'rename',
      settleSeconds: 30,
      every: '1h',
    };
    expect((await declare('legacy-gl', definition)).status).toBe(201);
    const schedule = await stack.client.schedule.getHandle('file-inbox:legacy-gl').describe();
    expect(schedule.action).toMatchObject({ workflowType: 'fileInbox', args: [{ feed: 'legacy-gl' }] });
    // The same definition again changes nothing.
    expect(await declare('legacy-gl', definition)).toMatchObject({ status: 200, body: { changed: false } });

    const before = await actual('630400');
    const march = extract(
      [detail(`ME-${fy}`, 1, 12_345, 'Café Paris'), detail(`ME-${fy}`, 2, -2_000, 'Crédit note')],
      { count: 2, cents: 10_345 },
    );
    await drop(dir, `gl-${fy}-03.dat`, march);
    // Written under a temporary name, not yet renamed: never looked at.
    await drop(dir, `gl-${fy}-04.dat.tmp`, extract([detail(`AP-${fy}`, 1, 100, 'x')]));
    // Renamed but cut short: no trailer yet.
    await drop(dir, `gl-${fy}-05.dat`, extract([detail(`MAY-${fy}`, 1, 100, 'x')]));
    // Still being written: changed a moment ago.
    await drop(
      dir,
      `gl-${fy}-06.dat`,
      extract([detail(`JUN-${fy}`, 1, 100, 'x')], { count: 1, cents: 100 }),
      0,
    );

    const first = await pickup('legacy-gl');
    expect(first.taken).toEqual([
      expect.objectContaining({
        name: `gl-${fy}-03.dat`,
        status: 'loaded',
        movedTo: `archive/gl-${fy}-03.dat`,
        counts: expect.objectContaining({ read: 2, inserted: 2 }),
      }),
    ]);
    expect(first.waiting).toEqual([
      { name: `gl-${fy}-05.dat`, reason: 'no trailer record yet: half-written' },
      { name: `gl-${fy}-06.dat`, reason: 'changed within the last 30 s: still growing' },
    ]);
    // 123.45 − 20.00, to the cent, through the D365 entity's mappings (63040 is canonical 630400).
    expect(Number(await actual('630400')) - Number(before)).toBeCloseTo(103.45, 2);
    expect((await readdir(join(dir, 'archive'))).sort()).toEqual([`gl-${fy}-03.dat`]);

    // The producer drops the same file again under another name: recognised by its content, loaded nothing.
    await drop(dir, `gl-${fy}-03-again.dat`, march);
    const second = await pickup('legacy-gl');
    expect(second.taken).toEqual([
      expect.objectContaining({
        name: `gl-${fy}-03-again.dat`,
        status: 'duplicate',
        movedTo: `rejected/gl-${fy}-03-again.dat`,
        reason: expect.stringContaining(`the same content was taken before as gl-${fy}-03.dat (loaded`),
      }),
    ]);
    expect(Number(await actual('630400')) - Number(before)).toBeCloseTo(103.45, 2);
    const ledger = await request('GET', '/v1/file-feeds/legacy-gl/files', { key: 'dev-admin' });
    expect(
      (ledger.body.files as { name: string; status: string; sha256: string }[]).map((f) => [
        f.name,
        f.status,
      ]),
    ).toEqual([
      [`gl-${fy}-03-again.dat`, 'duplicate'],
      [`gl-${fy}-03.dat`, 'loaded'],
    ]);
    const files = ledger.body.files as { id: string; sha256: string }[];
    expect(files[0]!.sha256).toBe(createHash('sha256').update(march).digest('hex'));

    // Support takes the refused copy again, with why: audited, taken from rejected/ into archive/, and its lines,
    // counted already, are not counted twice.
    const path = `/v1/file-feeds/legacy-gl/files/${files[0]!.id}/reprocess`;
    expect((await request('POST', path, { key: 'dev-admin', body: {} })).status).toBe(400);
    expect((await request('POST', path, { key: 'dev-approver', body: { reason: 'mine' } })).status).toBe(403);
    const reprocess = await request('POST', path, {
      key: 'dev-admin',
      body: { reason: 'GL team re-sent March by mistake; checking it changes nothing' },
    });
    expect(reprocess.status).toBe(202);
    const again = (await stack.client.workflow.getHandle(reprocess.body.workflowId as string).result()) as {
      taken: { name: string; status: string; movedTo?: string; counts?: object }[];
    };
    expect(again.taken).toEqual([
      expect.objectContaining({
        name: `gl-${fy}-03-again.dat`,
        status: 'loaded',
        movedTo: `archive/gl-${fy}-03-again.dat`,
        counts: expect.objectContaining({ read: 2, inserted: 0, duplicates: 2 }),
      }),
    ]);
    expect(Number(await actual('630400')) - Number(before)).toBeCloseTo(103.45, 2);
    const audited = (await stack.db.execute(sql`
      select action, actor, details->>'reason' as reason from audit_log
       where action = 'inbox_file.reprocess_requested' and details->>'feed' = 'legacy-gl'`)) as unknown as {
      actor: string;
      reason: string;
    }[];
    expect(audited).toEqual([
      expect.objectContaining({ reason: 'GL team re-sent March by mistake; checking it changes nothing' }),
    ]);
    // What the pickup did, as the CLI and support read it back.
    const seen = await request(
      'GET',
      `/v1/file-feeds/legacy-gl/pickups/${String(reprocess.body.workflowId)}`,
      {
        key: 'dev-admin',
      },
    );
    expect(seen.body).toMatchObject({
      status: 'COMPLETED',
      taken: [expect.objectContaining({ status: 'loaded' })],
    });
  });

  test('a file that does not verify is refused whole, with a report naming each bad row', async () => {
    const dir = join(inbox, 'legacy-gl-2');
    await mkdir(dir, { recursive: true });
    expect(
      (
        await declare('legacy-gl-2', {
          kind: 'actuals',
          transport: { type: 'local', path: dir },
          layout: fixedLayout,
          readiness: 'rename',
          settleSeconds: 1,
        })
      ).status,
    ).toBe(201);
    const before = await actual('630400');
    const bad = extract(
      [
        detail(`BAD-${fy}`, 1, 5_000, 'fine'),
        detail(`BAD-${fy}`, 2, 7_000, 'bad date').replace(`${fy}0315`, `${fy}0231`),
        detail(`BAD-${fy}`, 3, 1_000, 'fine'),
      ],
      { count: 4, cents: 13_000 },
    );
    await drop(dir, `gl-${fy}-bad.dat`, bad);
    // Support runs the pickup from the command line: it follows it, says what became of the file, and exits 1.
    const cli = await closeloopCli(stack, 'dev-admin', 'feeds', 'pickup', 'legacy-gl-2').then(
      () => {
        throw new Error('a refused file must fail the command');
      },
      (err: { code: number; stdout: string }) => err,
    );
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(
      `rejected  gl-${fy}-bad.dat → rejected/gl-${fy}-bad.dat: row count: the trailer says 4, the file has 3`,
    );
    expect(cli.stdout).toContain(`[report rejected/gl-${fy}-bad.dat.errors.csv]`);
    expect(cli.stdout).toMatch(/pickup completed: http/);
    const report = await readFile(join(dir, 'rejected', `gl-${fy}-bad.dat.errors.csv`), 'utf8');
    expect(report.split('\n')).toEqual([
      'line,field,value,reason',
      ',(file),,"row count: the trailer says 4, the file has 3"',
      ',(file),,1 record(s) do not read by the layout (listed below)',
      `3,postingDate,${fy}0231,not a date as YYYYMMDD`,
      '',
    ]);
    // Nothing of it was loaded, not even its good rows.
    expect(await actual('630400')).toBe(before);
  });

  test('a CSV with a control file: decimal comma and a byte-order mark; a checksum that does not match refuses it', async () => {
    const dir = join(inbox, 'planner-csv');
    await mkdir(dir, { recursive: true });
    const csvFeed = {
      kind: 'actuals',
      transport: { type: 'local', path: dir },
      layout: {
        format: 'csv',
        delimiter: ';',
        decimalSeparator: ',',
        fields: [
          { name: 'documentId', column: 'Beleg', type: 'text' },
          { name: 'lineNo', column: 'Zeile', type: 'decimal', sign: 'none' },
          { name: 'account', column: 'Konto', type: 'text' },
          { name: 'costCenter', column: 'Kostenstelle', type: 'text' },
          { name: 'postingDate', column: 'Buchungsdatum', type: 'date', format: 'DD.MM.YYYY' },
          { name: 'amount', column: 'Betrag', type: 'decimal' },
          { name: 'currency', column: 'Währung', type: 'text' },
        ],
      },
      readiness: 'control-file',
      settleSeconds: 1,
    };
    // A CSV has no trailer: its producer must send a control file.
    const refused = await declare('planner-csv', { ...csvFeed, readiness: 'rename' });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('its producer sends a control file');
    expect((await declare('planner-csv', csvFeed)).status).toBe(201);

    const before = await actual('630400');
    const content = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(
        `Beleg;Zeile;Konto;Kostenstelle;Buchungsdatum;Betrag;Währung\r\nCSV-${fy};1;63040;200;14.03.${fy};1234,50;USD\r\nCSV-${fy};2;63040;200;15.03.${fy};-34,50;USD\r\n`,
        'utf8',
      ),
    ]);
    const sha256 = createHash('sha256').update(content).digest('hex');
    await drop(dir, 'march.csv', content);
    // No control file yet: it waits.
    expect((await pickup('planner-csv')).waiting).toEqual([
      { name: 'march.csv', reason: 'no control file march.csv.ctl yet' },
    ]);
    await drop(
      dir,
      'march.csv.ctl',
      `rows=2\ntotal=1200.00\nsha256=${'0'.repeat(64)}\nsubmittedBy=erika@acme.example\n`,
    );
    const wrong = await pickup('planner-csv');
    expect(wrong.taken).toEqual([
      expect.objectContaining({
        status: 'rejected',
        reason: expect.stringContaining(`the file's SHA-256 is ${sha256}`),
      }),
    ]);
    expect(await actual('630400')).toBe(before);

    // Sent again with the right control file (the same content: a reprocess of refused content is not a reload).
    await drop(dir, 'march-2.csv', Buffer.concat([content, Buffer.from('\r\n')]));
    const sha2 = createHash('sha256')
      .update(Buffer.concat([content, Buffer.from('\r\n')]))
      .digest('hex');
    await drop(
      dir,
      'march-2.csv.ctl',
      `rows=2\ntotal=1200.00\nsha256=${sha2}\nsubmittedBy=erika@acme.example\n`,
    );
    const loaded = await pickup('planner-csv');
    expect(loaded.taken).toEqual([
      expect.objectContaining({ name: 'march-2.csv', status: 'loaded', movedTo: 'archive/march-2.csv' }),
    ]);
    expect(Number(await actual('630400')) - Number(before)).toBeCloseTo(1200, 2);
    expect((await readdir(join(dir, 'archive'))).sort()).toEqual(['march-2.csv', 'march-2.csv.ctl']);
    const ledger = await request('GET', '/v1/file-feeds/planner-csv/files', { key: 'dev-admin' });
    expect((ledger.body.files as { outcome: Record<string, unknown> }[])[0]!.outcome).toMatchObject({
      details: 2,
      total: '1200',
      submittedBy: 'erika@acme.example',
    });
  });

  test('an SFTP inbox on a real OpenSSH server: key authentication, the host key checked, files archived on the server', async () => {
    const dir = join(sshd.root, 'gl-inbox');
    await mkdir(dir, { recursive: true });
    const sftp = {
      type: 'sftp',
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      path: dir,
      privateKeyFile: sshd.clientKeyFile,
      hostKey: sshd.hostKey,
    };
    const definition = {
      kind: 'actuals',
      transport: sftp,
      layout: fixedLayout,
      readiness: 'rename',
      settleSeconds: 1,
    };
    expect((await declare('legacy-sftp', definition)).status).toBe(201);
    const before = await actual('630400');
    await drop(
      dir,
      `sftp-${fy}-03.dat`,
      extract([detail(`SFTP-${fy}`, 1, 50_000, 'via SFTP')], { count: 1, cents: 50_000 }),
    );
    await drop(dir, `sftp-${fy}-04.dat`, extract([detail(`SFTP4-${fy}`, 1, 100, 'cut short')]));
    const result = await pickup('legacy-sftp');
    expect(result.taken).toEqual([
      expect.objectContaining({
        name: `sftp-${fy}-03.dat`,
        status: 'loaded',
        movedTo: `archive/sftp-${fy}-03.dat`,
      }),
    ]);
    expect(result.waiting).toEqual([
      { name: `sftp-${fy}-04.dat`, reason: 'no trailer record yet: half-written' },
    ]);
    expect(Number(await actual('630400')) - Number(before)).toBeCloseTo(500, 2);
    expect(await readdir(join(dir, 'archive'))).toEqual([`sftp-${fy}-03.dat`]);

    // A server presenting another host key than the feed declares is never trusted; a key it does not accept
    // is refused: both are failures a person must act on, not retried.
    const failure = async (code: string, transport: Record<string, unknown>) => {
      expect((await declare(code, { ...definition, transport: { ...sftp, ...transport } })).status).toBe(201);
      const started = await request('POST', `/v1/file-feeds/${code}/pickups`, { key: 'dev-admin', body: {} });
      const err = await stack.client.workflow
        .getHandle(started.body.workflowId as string)
        .result()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      return (err as WorkflowFailedError).cause?.cause as { type?: string; message: string };
    };
    const stranger = (await readFile(`${sshd.strangerKeyFile}.pub`, 'utf8')).trim();
    expect(await failure('sftp-wrong-host', { hostKey: stranger })).toMatchObject({
      type: 'ConnectorUnauthorized',
      message: expect.stringContaining('is not the one the feed declares'),
    });
    expect(await failure('sftp-wrong-key', { privateKeyFile: sshd.strangerKeyFile })).toMatchObject({
      type: 'ConnectorUnauthorized',
      message: expect.stringMatching(/authentication/i),
    });
  });
});
