import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ANAPLAN_RESPONSES, dumpIssues, importCounts } from '../../activities/connectors/anaplan/connector';
import { D365_READS, entryHeaderBody, entryLineBody } from '../../activities/connectors/d365/connector';
import { errorReason } from '../../activities/connectors/http';
import { createAnaplanSimulator } from '../../simulators/anaplan';
import { ENTITIES } from '../../simulators/d365/entities';
import { odataError } from '../../simulators/d365/simulator';
import { anaplanConnectorFor } from '../harness/connectors';
import { budgetImportBody } from '../../activities/connectors/netsuite/connector';
import { createNetSuiteRest, SuiteQLPage } from '../../activities/connectors/netsuite/rest';
import { planDataItem, settingsOf as sapSettingsOf } from '../../activities/connectors/sap/connector';
import { createNetSuiteSimulator, errorBody as netsuiteErrorBody } from '../../simulators/netsuite/simulator';
import { sapErrorBody } from '../../simulators/sap/simulator';
import { D365_TARGET } from '../harness/cycle';
import { XMLParser } from 'fast-xml-parser';
import { createAdaptiveConnector, importOutcome } from '../../activities/connectors/adaptive/connector';
import {
  callDocument,
  createAdaptiveXmlApi,
  readResponse,
  type XmlElements,
} from '../../activities/connectors/adaptive/xml-api';
import { createAdaptiveSimulator } from '../../simulators/adaptive/simulator';

/**
 * Contract tests: the adapters' parsers and the simulators' answers, held against what the vendors publish
 * (fixtures in this folder, each naming its source). A drift on either side fails here, whatever the other
 * side does.
 */

const fixture = <T = Record<string, unknown>>(file: string): T =>
  JSON.parse(readFileSync(path.join(__dirname, file), 'utf8')) as T;

/** The key structure of a JSON value: objects as sorted keys with their shapes, arrays by their first item. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  }
  return typeof value;
}

interface EntityContract {
  cdm: string;
  keys: string[];
  companySpecific: boolean;
  complete: boolean;
  attributes: string[];
  notInMetadata: string[];
  absent?: string[];
}

describe('Dynamics 365 entities against the published CDM schemas', () => {
  const contract = fixture<Record<string, EntityContract | string>>('d365/entities.json');
  const published = (set: string) => {
    const c = contract[set] as EntityContract;
    return new Set([
      ...c.attributes.filter((a) => !c.notInMetadata.includes(a)),
      ...(c.companySpecific ? ['dataAreaId'] : []),
    ]);
  };

  test.each(ENTITIES.map((e) => [e.set, e] as const))(
    'the simulator serves %s field for field',
    (set, entity) => {
      const c = contract[set] as EntityContract;
      expect(c).toBeDefined();
      const served = Object.keys(entity.properties);
      if (c.complete) expect(new Set(served)).toEqual(published(set));
      else expect(served.filter((f) => !published(set).has(f))).toEqual([]);
      expect(entity.keys).toEqual(c.keys);
      expect(served.filter((f) => c.absent?.includes(f))).toEqual([]);
    },
  );

  test.each(Object.entries(D365_READS))('the adapter reads only published fields of %s', (set, schema) => {
    expect(Object.keys(schema.shape).filter((f) => !published(set).has(f))).toEqual([]);
  });

  test('the adapter writes only published fields of headers and lines', () => {
    const target = { ...D365_TARGET, settings: { ...D365_TARGET.settings, accountStructure: 'P&L' } };
    const line = {
      lineNumber: 1,
      dimensions: { account: '60010', costCenter: '100' },
      period: '2027-01',
      date: '2027-01-01',
      amount: { amount: '1.00', currency: 'USD' },
    };
    const header = entryHeaderBody({
      idempotencyKey: 'k',
      correlationId: 'c',
      target,
      purpose: 'original',
      description: '',
      lines: [line],
    });
    expect(Object.keys(header).filter((f) => !published('BudgetRegisterEntryHeaders').has(f))).toEqual([]);
    const body = entryLineBody(
      { dataAreaId: 'acus', LegalEntityId: 'acus', EntryNumber: 'E' },
      line,
      target,
      '60010-100',
    );
    expect(Object.keys(body).filter((f) => !published('BudgetRegisterEntryLines').has(f))).toEqual([]);
    expect(body).toMatchObject({
      LineNumber: '1',
      EntryDate: '2027-01-01T12:00:00Z',
      DimensionAccountStructure: 'P&L',
    });
  });

  test('Int64 and Decimal values parse whether they come as strings (IEEE754Compatible) or numbers', () => {
    const entry = {
      GeneralJournalAccountEntryRecId: 5637144576,
      JournalNumber: 'GJ-1',
      Voucher: 'V-1',
      AccountingDate: '2027-01-05T12:00:00Z',
      LedgerAccount: '60010-100',
      TransactionCurrencyAmount: 10.5,
      TransactionCurrencyCode: 'USD',
    };
    const asNumbers = D365_READS.GeneralJournalAccountEntries.parse(entry);
    const asStrings = D365_READS.GeneralJournalAccountEntries.parse({
      ...entry,
      GeneralJournalAccountEntryRecId: '5637144576',
      TransactionCurrencyAmount: '10.50',
    });
    expect(asNumbers.GeneralJournalAccountEntryRecId).toBe(5637144576n);
    expect(asStrings.GeneralJournalAccountEntryRecId).toBe(5637144576n);
    expect(asStrings.TransactionCurrencyAmount).toBe('10.50');
    expect(
      D365_READS.BudgetRegisterEntryLines.parse({ LineNumber: '3', BudgetCheckResult: 'Passed' }).LineNumber,
    ).toBe(3);
  });

  test('the error body: the reason is read from innererror, and the simulator answers in the same shape', () => {
    const e = fixture<{ body: unknown; reason: string }>('d365/error-body.json');
    expect(errorReason(JSON.stringify(e.body))).toBe(e.reason);
    expect(shape(odataError('any reason'))).toEqual(shape(e.body));
    expect(odataError('x').error.message).toBe('An error has occurred.');
  });
});

describe('Anaplan answers against its published examples', () => {
  test('authentication and refresh bodies parse; the token and its expiry are what the adapter takes', () => {
    for (const file of ['anaplan/authenticate-response.json', 'anaplan/refresh-response.json']) {
      const { body } = fixture<{ body: unknown }>(file);
      expect(ANAPLAN_RESPONSES.authenticate.parse(body).tokenInfo).toMatchObject({
        tokenValue: '{token}',
        expiresAt: expect.any(Number),
      });
    }
  });

  test('an import task result: counts read from name/value pairs in any order', () => {
    const official = fixture<{ body: unknown; counts: unknown }>('anaplan/import-task-status.json');
    const status = ANAPLAN_RESPONSES.taskStatus.parse(official.body);
    expect(importCounts(status.task.result!)).toEqual(official.counts);
    const reordered = fixture<{ result: unknown; counts: unknown }>(
      'anaplan/import-task-status-reordered.json',
    );
    const task = ANAPLAN_RESPONSES.taskStatus.parse({
      task: { taskId: 'T', taskState: 'COMPLETE', result: reordered.result },
    });
    expect(importCounts(task.task.result!)).toEqual(reordered.counts);
    const exported = ANAPLAN_RESPONSES.taskStatus.parse(
      fixture<{ body: unknown }>('anaplan/export-task-status.json').body,
    );
    expect(importCounts(exported.task.result!)).toBeUndefined();
  });

  test('a failure dump: every row with its line, severity and reason', () => {
    const issues = dumpIssues(readFileSync(path.join(__dirname, 'anaplan/failure-dump.csv')));
    expect(issues.map((i) => [i.line, i.severity, i.message])).toEqual([
      [151, 'warning', 'Invalid parent'],
      [153, 'warning', 'Invalid date: ,,,'],
      [11522, 'error', 'Invalid name: Code'],
      [23043, 'error', 'Invalid name: Code'],
    ]);
    expect(issues[0]!.row).toMatchObject({ 'Column 1': 'Max Warren', Parent: ',,' });
  });

  test('file and list answers parse; the error body gives its reason', () => {
    expect(
      ANAPLAN_RESPONSES.setChunkCount.parse(
        fixture<{ body: unknown }>('anaplan/set-chunk-count-response.json').body,
      ).file,
    ).toMatchObject({ id: '113000000008', chunkCount: 1 });
    expect(
      ANAPLAN_RESPONSES.imports.parse(fixture<{ body: unknown }>('anaplan/imports-list.json').body)
        .imports[0],
    ).toMatchObject({
      importDataSourceId: '113000000006',
    });
    const e = fixture<{ body: unknown; reason: string }>('anaplan/error-body.json');
    expect(errorReason(JSON.stringify(e.body))).toBe(e.reason);
  });

  test('the simulator answers in the published shapes', async () => {
    const sim = createAnaplanSimulator({ taskPolls: 0 });
    const server = await sim.listen(0);
    try {
      const auth = await fetch(`${server.url}/token/authenticate`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from('closeloop:dev-password').toString('base64')}` },
      });
      const authBody = (await auth.json()) as { tokenInfo: { tokenValue: string } };
      expect(shape(authBody)).toEqual(
        shape(fixture<{ body: unknown }>('anaplan/authenticate-response.json').body),
      );
      const token = authBody.tokenInfo.tokenValue;
      const refreshed = (await (
        await fetch(`${server.url}/token/refresh`, {
          method: 'POST',
          headers: { Authorization: `AnaplanAuthToken ${token}` },
        })
      ).json()) as { tokenInfo: { tokenValue: string } };
      expect(shape(refreshed)).toEqual(
        shape(fixture<{ body: unknown }>('anaplan/refresh-response.json').body),
      );
      expect(refreshed.tokenInfo.tokenValue).toBe(token);

      const model = `${server.url}/2/0/workspaces/8a81b01068d1f2c0/models/75A40874E6B64FA3AE0743278996850F`;
      const get = async (p: string) =>
        (await (
          await fetch(`${model}${p}`, { headers: { Authorization: `AnaplanAuthToken ${token}` } })
        ).json()) as Record<string, unknown>;
      expect(shape(await get('/imports'))).toEqual(
        shape(fixture<{ body: unknown }>('anaplan/imports-list.json').body),
      );
      const missing = await fetch(`${model}/nothing-here`, {
        headers: { Authorization: `AnaplanAuthToken ${token}` },
      });
      expect(missing.status).toBe(404);
      expect(shape(await missing.json())).toEqual(
        shape(fixture<{ body: unknown }>('anaplan/error-body.json').body),
      );

      // An import through the adapter, then its task status and dump read raw.
      const planning = anaplanConnectorFor(server.url);
      const row = { account: 'A', costCenter: 'C', period: '2027-01', currency: 'USD' };
      await planning.publishForecast({
        idempotencyKey: 'k',
        correlationId: 'c',
        legalEntity: 'ACME-US',
        fiscalYear: 2027,
        versionName: 'FC',
        rows: [
          { ...row, amount: '1.00' },
          { ...row, amount: 'bad' },
        ],
      });
      const official = fixture<{ body: { task: { result: { details: { values: string[] }[] } } } }>(
        'anaplan/import-task-status.json',
      );
      const names = (values: string[]) => values.filter((_v, i) => i % 2 === 0);
      const simulated = sim.lastImportResult()!;
      expect(Object.keys(simulated).sort()).toEqual(Object.keys(official.body.task.result).sort());
      expect(Object.keys(simulated.details![0]!).sort()).toEqual(
        Object.keys(official.body.task.result.details[0]!).sort(),
      );
      const publishedNames = new Set(names(official.body.task.result.details[0]!.values));
      expect(names(simulated.details![0]!.values).filter((n) => !publishedNames.has(n))).toEqual([]);
      const dumpHeader = readFileSync(path.join(__dirname, 'anaplan/failure-dump.csv'), 'utf8').split(
        '\n',
      )[0]!;
      const simulatedHeader = sim.lastDump()!.toString().split('\r\n')[0]!;
      expect(simulatedHeader.startsWith('"_Status_"')).toBe(dumpHeader.startsWith('"_Status_"'));
      expect(simulatedHeader.endsWith('"_Line_","_Error_1_"')).toBe(
        dumpHeader.endsWith('"_Line_","_Error_1_"'),
      );
    } finally {
      await server.close();
    }
  });
});

describe('SAP S/4HANA answers and writes against its published shapes', () => {
  test('the error body: code, text and each errordetail read; the simulator answers in the same shape', () => {
    const e = fixture<{ body: { error: { message: { value: string } } } }>('sap/error-body.json');
    expect(errorReason(JSON.stringify(e.body))).toContain('Planning category PLN is locked');
    const served = sapErrorBody('FINS_PLANNING/012', 'Planning category PLN is locked', [
      {
        code: 'FINS_PLANNING/012',
        message: 'Planning category PLN is locked',
        propertyref: '',
        severity: 'error',
      },
    ]);
    expect(shape(served)).toEqual(shape(e.body));
  });

  test("a plan data entry item carries only fields the service's documentation names", () => {
    const c = fixture<{ item: string[] }>('sap/plan-data.json');
    const target = {
      company: '1710',
      settings: { planningCategory: 'PLN', fiscalYearVariant: 'K4', ledger: '0L' },
      postingModel: 'replace-scope' as const,
    };
    const item = planDataItem(
      {
        lineNumber: 1,
        dimensions: { account: '61001000', costCenter: '17101930' },
        period: '2028-13',
        date: '2028-12-31',
        amount: { amount: '10.00', currency: 'EUR' },
      },
      target.company,
      sapSettingsOf(target),
    );
    expect(Object.keys(item).filter((k) => !c.item.includes(k))).toEqual([]);
    // Period 13 of closeloop's calendar is SAP's first special period.
    expect(item.FiscalYearPeriod).toBe('013.2028');
  });
});

describe('NetSuite answers and writes against its published shapes', () => {
  test('the error body: detail and code read; the simulator answers in the same shape', () => {
    const e = fixture<{ body: unknown; reason: string }>('netsuite/error-body.json');
    expect(errorReason(JSON.stringify(e.body))).toBe(e.reason);
    expect(shape(netsuiteErrorBody(401, 'Unauthorized', 'INVALID_LOGIN', 'x'))).toEqual(shape(e.body));
  });

  test("a SuiteQL page parses with the adapter's schema, and the simulator's page has the same members", async () => {
    const page = fixture<{ body: unknown }>('netsuite/suiteql-page.json').body;
    expect(SuiteQLPage.parse(page)).toMatchObject({ hasMore: true, totalResults: 4, count: 2 });
    const tba = { consumerKey: 'ck', consumerSecret: 'cs', tokenId: 'tk', tokenSecret: 'ts' };
    const sim = createNetSuiteSimulator({ tba });
    sim.putTable('currency', [{ id: '1', symbol: 'USD' }]);
    const server = await sim.listen(0);
    try {
      const rest = createNetSuiteRest({
        accountId: sim.accountId,
        baseUrl: server.url,
        auth: { kind: 'tba', ...tba },
        timeoutMs: 2000,
        pollIntervalMs: 10,
        waitMs: 1000,
      });
      const res = await rest.send(
        'POST',
        `${server.url}/services/rest/query/v1/suiteql?limit=1000&offset=0`,
        {
          headers: { Prefer: 'transient' },
          body: { q: 'SELECT c.id AS id, c.symbol AS symbol FROM currency c' },
        },
      );
      const served = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(served).sort()).toEqual(Object.keys(page as object).sort());
    } finally {
      await server.close();
    }
  });

  test("a budgetImport carries only the record's documented fields and period amounts", () => {
    const c = fixture<{ fields: string[] }>('netsuite/budget-import.json');
    const body = JSON.parse(
      budgetImportBody({
        subsidiary: '7',
        year: { id: '100', months: Array.from({ length: 12 }) },
        category: '2',
        currency: '1',
        segments: { account: '354', department: '21', class: '3', location: '4' },
        amounts: new Map([[1, 3100000n]]),
        currencyCode: 'USD',
      }),
    ) as Record<string, unknown>;
    const undocumented = Object.keys(body).filter(
      (k) => !c.fields.includes(k) && !/^periodamount([1-9]|1\d|2[0-4])$/.test(k),
    );
    expect(undocumented).toEqual([]);
    expect(body.periodamount1).toBe(31000);
    expect(body.periodamount12).toBe(0);
  });
});

describe('Workday Adaptive Planning XML API against its documented messages', () => {
  const xml = (file: string) => readFileSync(path.join(__dirname, 'adaptive', file), 'utf8');
  /** An XML document's structure: each element's attribute names and child elements, values left out. */
  function xmlShape(value: unknown): unknown {
    if (Array.isArray(value)) return value.length ? [xmlShape(value[0])] : [];
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.keys(value)
          .filter((k) => k !== '?xml' && k !== '#text')
          .sort()
          .map((k) => [k, xmlShape((value as Record<string, unknown>)[k])]),
      );
    return 'value';
  }
  const plain = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false });

  test('the forecast import closeloop sends has the documented importCubeData request shape', async () => {
    let sent: { method: string; elements: XmlElements } | undefined;
    const config = {
      baseUrl: 'http://adaptive.invalid',
      apiVersion: 40,
      login: 'sampleuser@company.com',
      password: 'my_pwd',
      instanceCode: 'INSTANCE1',
      timeoutMs: 1000,
    };
    const connector = createAdaptiveConnector(config, {
      call: async (method, elements) => {
        sent = { method, elements };
        return { messages: [{ key: 'cube-import-success', text: 'Rows imported: 1' }], output: undefined };
      },
    });
    await connector.publishForecast({
      idempotencyKey: 'k',
      correlationId: 'c',
      legalEntity: 'ACME-AP',
      fiscalYear: 2014,
      versionName: 'FC',
      settings: { level: 'Corporate Plan', forecastVersion: 'Budget 2014', sheet: 'Sales Cube' },
      periods: [{ period: '2014-06', startDate: '2014-06-01' }],
      rows: [
        { account: 'Price', costCenter: 'Corporate Plan', period: '2014-06', amount: '0', currency: 'USD' },
      ],
    });
    const ours = xmlShape(plain.parse(callDocument(config, sent!.method, sent!.elements)));
    const documented = xmlShape(plain.parse(xml('import-cube-data-request.xml')));
    expect(ours).toEqual(documented);
  });

  test('the simulator takes the documented importCubeData request as Adaptive does', async () => {
    const sim = createAdaptiveSimulator({ login: 'sampleuser@company.com', password: 'my_pwd' });
    sim.putAccounts([{ code: 'Price' }]);
    sim.putLevels([{ code: 'Corporate Plan', currency: 'USD' }]);
    sim.putPlanVersion('Budget 2014');
    const server = await sim.listen(0);
    try {
      const res = await fetch(`${server.url}/api/v40`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml' },
        body: xml('import-cube-data-request.xml'),
      });
      const answer = readResponse(await res.text(), 'importCubeData');
      expect(answer.success).toBe(true);
      expect(importOutcome(answer.messages, [{}])).toMatchObject({ rowsImported: 1, rowsFailed: 0 });
      // Every value of the documented row is a zero: importing zeroes erases, so the sheet holds nothing.
      expect(sim.sheet('Budget 2014', 'Sales Cube').size).toBe(0);
    } finally {
      await server.close();
    }
  });

  test('the adapter reads the documented success envelope and the authentication failure', () => {
    const success = readResponse(xml('import-success-response.xml'), 'importConfigurableModelData');
    expect(success).toMatchObject({
      success: true,
      messages: [{ key: 'modeled-import-success', text: 'Personnel import successful. Rows imported: 100' }],
    });
    expect(importOutcome(success.messages, []).rowsImported).toBe(100);
    const refused = readResponse(xml('authentication-failure-response.xml'), 'exportVersions');
    expect(refused).toMatchObject({ success: false, messages: [{ key: 'error-authentication-failure' }] });
  });

  test("the simulator's versions carry the attributes Adaptive's exportVersions documents, in its forms", async () => {
    const documented = plain.parse(xml('export-versions-response.xml')) as {
      response: { output: { versions: { version: Record<string, unknown>[] } } };
    };
    const attributes = new Set(
      documented.response.output.versions.version.flatMap((v) =>
        Object.keys(v).filter((k) => k.startsWith('@_')),
      ),
    );
    const sim = createAdaptiveSimulator();
    sim.putPlanVersion('Budget 2027');
    const server = await sim.listen(0);
    try {
      const api = createAdaptiveXmlApi({
        baseUrl: server.url,
        apiVersion: 40,
        login: 'closeloop@acme.example',
        password: 'dev-password',
        timeoutMs: 5000,
      });
      const { output } = await api.call('exportVersions', {});
      const served = (output as { versions: { version: Record<string, unknown>[] } }).versions.version;
      expect(served.map((v) => [v['@_name'], v['@_type']])).toEqual([
        ['Actuals', 'ACTUALS'],
        ['Budget 2027', 'PLANNING'],
      ]);
      for (const v of served) {
        expect(Object.keys(v).filter((k) => !attributes.has(k))).toEqual([]);
        expect(['true', 'false']).toContain(v['@_isDefaultVersion']);
      }
    } finally {
      await server.close();
    }
  });
});
