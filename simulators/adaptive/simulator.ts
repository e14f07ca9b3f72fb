import express, { type Request, type Response } from 'express';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { stringify as writeCsv } from 'csv-stringify/sync';
import { type RunningServer } from '../../api/listen';
import { z } from 'zod';
import { DECIMAL_PATTERN } from '../../domain/money';
import { describeIssues } from '../../domain/zod-issues';
import { FaultInjector, serveSimulator } from '../faults';
import { loadState, saveState } from '../state-file';

/**
 * A Workday Adaptive Planning instance behind its XML API, as the knowledge base documents it (Integration ›
 * Managing Data Integration › API Documentation) for what closeloop calls:
 * - `POST /api/v<N>` with the XML `<call method callerName><credentials login password/>…</call>` as the body;
 *   every answer is HTTP 200 `<response success="true|false">` with `<messages><message key>` and `<output>`
 *   (a wrong login: `error-authentication-failure`, the key public clients check);
 * - `exportVersions`: nested `<versions><version id name type isDefaultVersion isLocked …>`, one `ACTUALS` root
 *   carrying `completedValuesThru`, the plan versions `PLANNING`;
 * - `exportAccounts`, `exportLevels`: nested trees (a level carries its `currency`; a parent `hasChildren`);
 * - `exportData`: CSV in `<output>` (`Account Name,Account Code,Level Name,MM/YYYY…`), filtered by version,
 *   levels (with descendants) and time span; rollup accounts and levels appear only when the v25 rules
 *   `includeRollupAccounts` / `includeRollupLevels` ask for them, each as the sum of the leaves under it;
 * - `importCubeData`: pipe-separated `<rowData>` (`Account|Level|MM/YYYY…`) into a cube sheet of a plan
 *   version, or of the one Actuals version with `planOrActuals="Actuals"`; a zero erases a cell (documented);
 *   `moveBPtr="true"` moves the Actuals version's `completedValuesThru` to the last month imported (the
 *   knowledge base names the option but its meaning was not found: this is the simulator's reading). A row
 *   naming an account or level the instance does not have is refused with a message naming its row; the answer
 *   says `Rows imported: N` (the message form of the documented modeled-sheet import).
 */

export interface AdaptiveSimulatorOptions {
  login?: string;
  password?: string;
  /** A JSON file to keep the instance (its trees, versions and cells) in across restarts. */
  stateFile?: string;
}

interface Node {
  code: string;
  name: string;
  currency?: string;
  children: Node[];
}

const ATTR = '@_';
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  parseAttributeValue: false,
  parseTagValue: false,
  // Requests repeat these (a filter's levels, the rows of an import).
  isArray: (name) => ['account', 'level', 'row'].includes(name),
});
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  cdataPropName: '#cdata',
  // 'true' is written as the attribute's value, as Adaptive writes it, never as a bare attribute.
  suppressBooleanAttributes: false,
});
const a = (el: unknown, name: string): string | undefined => {
  const v = (el as Record<string, unknown> | undefined)?.[`${ATTR}${name}`];
  return v === undefined ? undefined : String(v);
};
/** The month code Adaptive names a period by (`MM/YYYY`), from the period's first day. */
export const adaptiveMonth = (isoDate: string) => `${isoDate.slice(5, 7)}/${isoDate.slice(0, 4)}`;
/** `MM/YYYY` sorts as `YYYYMM`. */
export const monthOrder = (m: string) => `${m.slice(3)}${m.slice(0, 2)}`;
const ACTUALS = 'Actuals';

export function createAdaptiveSimulator(options: AdaptiveSimulatorOptions = {}) {
  const login = options.login ?? 'closeloop@acme.example';
  const password = options.password ?? 'dev-password';
  const faults = new FaultInjector();
  const accounts: Node[] = [];
  const levels: Node[] = [];
  const versions = new Map<
    string,
    { id: number; type: 'ACTUALS' | 'PLANNING'; completedValuesThru?: string }
  >([[ACTUALS, { id: 1, type: 'ACTUALS' }]]);
  /** Cell values: version → sheet ('' for standard data) → `account|level|MM/YYYY` → decimal text. */
  const cells = new Map<string, Map<string, Map<string, string>>>();
  const calls: { method: string; body: string }[] = [];
  interface Saved {
    accounts: Node[];
    levels: Node[];
    versions: [string, { id: number; type: 'ACTUALS' | 'PLANNING'; completedValuesThru?: string }][];
    cells: [string, [string, [string, string][]][]][];
  }
  const saved = loadState<Saved>(options.stateFile);
  if (saved) {
    accounts.push(...saved.accounts);
    levels.push(...saved.levels);
    for (const [k, v] of saved.versions) versions.set(k, v);
    for (const [version, sheets] of saved.cells)
      cells.set(version, new Map(sheets.map(([sheet, values]) => [sheet, new Map(values)])));
  }
  const persist = () =>
    saveState(options.stateFile, () => ({
      accounts,
      levels,
      versions: [...versions],
      cells: [...cells].map(([version, sheets]) => [version, [...sheets].map(([s, v]) => [s, [...v]])]),
    }));

  const walk = (nodes: Node[], fn: (n: Node, parent?: Node) => void, parent?: Node) => {
    for (const n of nodes) {
      fn(n, parent);
      walk(n.children, fn, n);
    }
  };
  const find = (nodes: Node[], key: 'code' | 'name', value: string) => {
    let found: Node | undefined;
    walk(nodes, (n) => {
      if (!found && n[key] === value) found = n;
    });
    return found;
  };
  const leavesUnder = (n: Node): Node[] => (n.children.length ? n.children.flatMap(leavesUnder) : [n]);
  const sheetOf = (version: string, sheet: string) => {
    let v = cells.get(version);
    if (!v) cells.set(version, (v = new Map()));
    let s = v.get(sheet);
    if (!s) v.set(sheet, (s = new Map()));
    return s;
  };

  const answer = (res: Response, body: Record<string, unknown>) =>
    res.type('text/xml').send(`<?xml version='1.0' encoding='UTF-8'?>\n${builder.build({ response: body })}`);
  const refuse = (res: Response, key: string, text: string) =>
    answer(res, {
      [`${ATTR}success`]: 'false',
      messages: { message: [{ [`${ATTR}key`]: key, '#text': text }] },
    });

  const tree = (nodes: Node[], element: 'account' | 'level'): Record<string, unknown>[] =>
    nodes.map((n) => ({
      [`${ATTR}code`]: n.code,
      [`${ATTR}name`]: n.name,
      ...(n.currency ? { [`${ATTR}currency`]: n.currency } : {}),
      ...(n.children.length ? { [`${ATTR}hasChildren`]: 'true', [element]: tree(n.children, element) } : {}),
    }));

  function exportData(call: Record<string, unknown>, res: Response) {
    const versionName = a(call.version, 'name') ?? '';
    if (!versions.has(versionName))
      return refuse(res, 'error-invalid-version', `Version ${versionName} does not exist.`);
    const filters = (call.filters ?? {}) as Record<string, unknown>;
    const rules = call.rules as Record<string, unknown> | undefined;
    const rollupAccounts = a(rules, 'includeRollupAccounts') === 'true';
    const rollupLevels = a(rules, 'includeRollupLevels') === 'true';
    const start = a(filters.timeSpan, 'start');
    const end = a(filters.timeSpan, 'end');
    const inSpan = (m: string) =>
      (!start || monthOrder(m) >= monthOrder(start)) && (!end || monthOrder(m) <= monthOrder(end));
    // The levels asked for (with their descendants), or all.
    const asked = ((filters.levels as { level?: unknown[] } | undefined)?.level ?? []).flatMap((l) => {
      const n = find(levels, 'name', a(l, 'name') ?? '');
      if (!n) return [];
      if (a(l, 'includeDescendants') !== 'true') return [n];
      const all: Node[] = [];
      walk([n], (x) => all.push(x));
      return all;
    });
    const levelSet = asked.length
      ? asked
      : (() => {
          const all: Node[] = [];
          walk(levels, (x) => all.push(x));
          return all;
        })();
    // Standard data is what every sheet of the version holds, per cell.
    const data = new Map<string, bigint>();
    const scale = 10n ** 6n;
    const toMicro = (v: string) => {
      const [w, f = ''] = v.replace('-', '').split('.');
      const micro = BigInt(w!) * scale + BigInt((f + '000000').slice(0, 6));
      return v.startsWith('-') ? -micro : micro;
    };
    const fromMicro = (m: bigint) => {
      const neg = m < 0n;
      const abs = neg ? -m : m;
      const frac = (abs % scale).toString().padStart(6, '0').replace(/0+$/, '');
      return `${neg ? '-' : ''}${abs / scale}.${frac || '0'}`;
    };
    for (const sheet of cells.get(versionName)?.values() ?? [])
      for (const [key, value] of sheet) data.set(key, (data.get(key) ?? 0n) + toMicro(value));
    const months = [...new Set([...data.keys()].map((k) => k.split('|')[2]!))]
      .filter(inSpan)
      .sort((x, y) => (monthOrder(x) < monthOrder(y) ? -1 : 1));
    const value = (account: Node, level: Node, month: string): bigint =>
      leavesUnder(account).reduce(
        (sum, acc) =>
          sum +
          leavesUnder(level).reduce((s, lv) => s + (data.get(`${acc.code}|${lv.name}|${month}`) ?? 0n), 0n),
        0n,
      );
    const rows: string[][] = [];
    const accountList: Node[] = [];
    walk(accounts, (n) => accountList.push(n));
    for (const account of accountList) {
      if (account.children.length && !rollupAccounts) continue;
      for (const level of levelSet) {
        if (level.children.length && !rollupLevels) continue;
        const amounts = months.map((m) => value(account, level, m));
        if (amounts.every((x) => x === 0n) && a(rules, 'includeZeroRows') !== 'true') continue;
        rows.push([account.name, account.code, level.name, ...amounts.map(fromMicro)]);
      }
    }
    const csv = writeCsv([['Account Name', 'Account Code', 'Level Name', ...months], ...rows]);
    return answer(res, { [`${ATTR}success`]: 'true', output: { '#cdata': csv } });
  }

  function importCubeData(call: Record<string, unknown>, res: Response) {
    const options = call.importDataOptions;
    const actuals = a(options, 'planOrActuals') === 'Actuals';
    const versionName = actuals ? ACTUALS : (a(call.version, 'name') ?? '');
    const version = versions.get(versionName);
    if (!version) return refuse(res, 'error-invalid-version', `Version ${versionName} does not exist.`);
    if (!actuals && version.type !== 'PLANNING')
      return refuse(res, 'error-invalid-version', `Version ${versionName} is not a plan version.`);
    const sheetName = a(call.sheet, 'name');
    if (!sheetName) return refuse(res, 'error-missing-sheet', 'A sheet is required.');
    const rowData = (call.rowData ?? {}) as { header?: string; rows?: { row?: string[] } };
    const header = String(rowData.header ?? '').split('|');
    const at = (name: string) => header.indexOf(name);
    if (at('Account') < 0 || at('Level') < 0)
      return refuse(res, 'error-invalid-header', 'The header must name the Account and Level columns.');
    const monthCols = header.map((h, i) => [h, i] as const).filter(([h]) => /^\d{2}\/\d{4}$/.test(h));
    const sheet = sheetOf(versionName, sheetName);
    const messages: Record<string, string>[] = [];
    let imported = 0;
    let last: string | undefined;
    (rowData.rows?.row ?? []).forEach((line, i) => {
      const fields = String(line).split('|');
      const rowNumber = i + 2;
      const account = find(accounts, 'code', fields[at('Account')] ?? '');
      const level = find(levels, 'name', fields[at('Level')] ?? '');
      const problem = !account
        ? `account ${fields[at('Account')]} does not exist`
        : account.children.length
          ? `account ${account.code} is a rollup account`
          : !level
            ? `level ${fields[at('Level')]} does not exist`
            : level.children.length
              ? `level ${level.name} is a rollup level`
              : monthCols.find(([, c]) => !DECIMAL_PATTERN.test(fields[c] ?? ''))
                ? 'a value is not a number'
                : undefined;
      if (problem) {
        messages.push({ [`${ATTR}key`]: 'error-import-row', '#text': `Row ${rowNumber}: ${problem}.` });
        return;
      }
      for (const [month, c] of monthCols) {
        const key = `${account!.code}|${level!.name}|${month}`;
        // Importing a zero into a cube sheet erases the data at that location (documented).
        if (Number(fields[c]) === 0) sheet.delete(key);
        else sheet.set(key, fields[c]!);
        if (!last || monthOrder(month) > monthOrder(last)) last = month;
      }
      imported++;
    });
    if (actuals && a(options, 'moveBPtr') === 'true' && last) {
      const through = version.completedValuesThru;
      if (!through || monthOrder(last) > monthOrder(through)) version.completedValuesThru = last;
    }
    persist();
    messages.unshift({
      [`${ATTR}key`]: 'cube-import-success',
      '#text': `${sheetName} import successful. Rows imported: ${imported}`,
    });
    return answer(res, { [`${ATTR}success`]: 'true', messages: { message: messages } });
  }

  const app = express();
  app.use(faults.router());
  // Development only (the demo, a person with curl): what FP&A enters in a plan version, and what a sheet holds.
  const PlanVersionSeed = z.object({
    name: z.string().min(1),
    rows: z.array(
      z.object({
        account: z.string().min(1),
        level: z.string().min(1),
        month: z.string().regex(/^\d{2}\/\d{4}$/),
        amount: z.string().regex(DECIMAL_PATTERN),
      }),
    ),
  });
  app.put('/__sim/plan-versions', express.json({ limit: '50mb' }), (req, res) => {
    const seed = PlanVersionSeed.safeParse(req.body);
    if (!seed.success) return void res.status(400).json({ error: describeIssues(seed.error) });
    putPlanVersion(seed.data.name, seed.data.rows);
    res.status(204).end();
  });
  app.get('/__sim/sheets', (req, res) => {
    const version = String(req.query.version ?? '');
    const sheet = String(req.query.sheet ?? '');
    res.json({
      version,
      sheet,
      cells: [...(cells.get(version)?.get(sheet) ?? [])].map(([key, amount]) => {
        const [account, level, month] = key.split('|');
        return { account, level, month, amount };
      }),
      actualsThrough: versions.get(ACTUALS)!.completedValuesThru ?? null,
    });
  });
  app.post(
    /^\/api\/v(\d+)$/,
    express.text({ type: ['text/xml', 'application/xml'], limit: '200mb' }),
    faults.middleware(() => 'Service Unavailable'),
    (req: Request, res: Response) => {
      const body = typeof req.body === 'string' ? req.body : '';
      let doc: { call?: Record<string, unknown> };
      try {
        doc = parser.parse(body) as typeof doc;
      } catch {
        return refuse(res, 'error-invalid-xml', 'The request is not a well-formed XML document.');
      }
      const call = doc.call;
      const method = a(call, 'method') ?? '';
      calls.push({ method, body });
      const credentials = call?.credentials;
      if (a(credentials, 'login') !== login || a(credentials, 'password') !== password)
        return refuse(
          res,
          'error-authentication-failure',
          `Authentication failed for User: ${a(credentials, 'login') ?? ''}`,
        );
      switch (method) {
        case 'exportVersions':
          return answer(res, {
            [`${ATTR}success`]: 'true',
            output: {
              versions: {
                version: [...versions].map(([name, v]) => ({
                  [`${ATTR}id`]: String(v.id),
                  [`${ATTR}name`]: name,
                  [`${ATTR}type`]: v.type,
                  [`${ATTR}isDefaultVersion`]: 'false',
                  [`${ATTR}isLocked`]: 'false',
                  ...(v.completedValuesThru ? { [`${ATTR}completedValuesThru`]: v.completedValuesThru } : {}),
                })),
              },
            },
          });
        case 'exportAccounts':
          return answer(res, {
            [`${ATTR}success`]: 'true',
            output: { accounts: { account: tree(accounts, 'account') } },
          });
        case 'exportLevels':
          return answer(res, {
            [`${ATTR}success`]: 'true',
            output: { levels: { level: tree(levels, 'level') } },
          });
        case 'exportData':
          return exportData(call!, res);
        case 'importCubeData':
          return importCubeData(call!, res);
        default:
          return refuse(res, 'error-invalid-method', `Method ${method} is not supported.`);
      }
    },
  );

  /** A plan version and what planners entered in it (standard data: sheet ''). */
  function putPlanVersion(
    name: string,
    rows: { account: string; level: string; month: string; amount: string }[] = [],
  ) {
    if (!versions.has(name)) versions.set(name, { id: versions.size + 1, type: 'PLANNING' });
    const sheet = sheetOf(name, '');
    for (const r of rows) sheet.set(`${r.account}|${r.level}|${r.month}`, r.amount);
    persist();
  }

  const node = (n: { code: string; name?: string; currency?: string; children?: unknown[] }): Node => ({
    code: n.code,
    name: n.name ?? n.code,
    currency: n.currency,
    children: ((n.children ?? []) as Parameters<typeof node>[0][]).map(node),
  });

  return {
    app,
    faults,
    /** The calls received, method and XML body, oldest first. */
    calls: () => [...calls],
    /** The instance's account tree (codes; a parent is a rollup of its children). */
    putAccounts(tree: { code: string; name?: string; children?: unknown[] }[]) {
      accounts.splice(0, accounts.length, ...tree.map(node));
      persist();
    },
    /** The instance's level tree (names; a level's currency is inherited by the levels under it). */
    putLevels(tree: { code: string; name?: string; currency?: string; children?: unknown[] }[]) {
      levels.splice(0, levels.length, ...tree.map(node));
      persist();
    },
    putPlanVersion,
    /** What a sheet of a version holds (`account|level|MM/YYYY` → amount). */
    sheet: (version: string, sheet: string) => new Map(cells.get(version)?.get(sheet) ?? []),
    /** The Actuals version's actuals-through month (the pointer `moveBPtr` moves). */
    actualsThrough: () => versions.get(ACTUALS)!.completedValuesThru,
    listen: (port = 0, host = '127.0.0.1'): Promise<RunningServer> => serveSimulator(app, faults, port, host),
  };
}

export type AdaptiveSimulator = ReturnType<typeof createAdaptiveSimulator>;
