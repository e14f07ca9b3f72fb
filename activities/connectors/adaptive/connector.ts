import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { type PlanningBudgetRow } from '../../../domain/model';
import { probeHealth } from '../health';
import { protocolFailure } from '../http';
import {
  type ForecastImportResult,
  type ForecastPublication,
  forecastRowPages,
  type ForecastRow,
  type ImportIssue,
  type PlanningConnector,
} from '../types';
import { type AdaptiveConfig, type AdaptiveXmlApi, attr, createAdaptiveXmlApi, SYSTEM } from './xml-api';

/**
 * Workday Adaptive Planning as a planning platform, over its XML API (xml-api.ts):
 *
 * - A budget version is read with `exportData`: the version named by the entity's settings, its level and the
 *   levels under it, the fiscal year's months, leaf values only (`includeRollupAccounts` and
 *   `includeRollupLevels` false, the v25 rules). Adaptive's export also carries rollup rows when asked to, and
 *   a rollup row summed with its children doubles the totals, so the accounts and levels are read too
 *   (`exportAccounts`, `exportLevels`: nested trees) and a row of an account or level that has children is
 *   refused as a protocol failure rather than counted.
 * - Figures go back with `importCubeData` (the standard-sheet import's page was not found in the knowledge
 *   base, so closeloop writes a cube sheet the model keeps for it): elapsed periods' actuals into the Actuals
 *   version (`planOrActuals="Actuals"`, `moveBPtr="true"`: the actuals pointer moves to the last period
 *   imported), the periods to come into the plan version the settings name (`planOrActuals="Plan"`).
 *
 * Entity settings (db/queries/planning-platforms): `level` (required: the entity's level), `versionName` (the
 * budget version's name, `{scenario}`, `{fiscalYear}` and `{version}` filled in; default
 * `{scenario} FY{fiscalYear} v{version}`), `forecastVersion` and `sheet` (required to take a forecast back).
 * Levels stand for the entity's cost centers: a leaf level's name is the cost center's code.
 */

const DEFAULT_VERSION_NAME = '{scenario} FY{fiscalYear} v{version}';

/** `YYYY-MM-DD` → Adaptive's month code `MM/YYYY`. */
const monthCode = (isoDate: string) => `${isoDate.slice(5, 7)}/${isoDate.slice(0, 4)}`;
/** A month column of an export (`01/2027`, or unpadded `1/2027`) → `MM/YYYY`. */
const monthColumn = (header: string) => {
  const m = /^(\d{1,2})\/(\d{4})$/.exec(header.trim());
  return m ? `${m[1]!.padStart(2, '0')}/${m[2]}` : undefined;
};
const DECIMAL = /^-?\d+(\.\d+)?$/;

function required(settings: Readonly<Record<string, string>> | undefined, key: string, what: string) {
  const value = settings?.[key];
  if (!value)
    throw ApplicationFailure.nonRetryable(
      `the entity's Adaptive Planning settings have no ${key}: ${what}`,
      FailureType.ValidationFailed,
    );
  return value;
}

/** The codes (accounts) or names (levels) of a nested tree's elements that have children. */
function parentsOf(nodes: unknown, key: 'code' | 'name', child: 'account' | 'level'): Set<string> {
  const parents = new Set<string>();
  const walk = (list: unknown) => {
    for (const n of (Array.isArray(list) ? list : []) as Record<string, unknown>[]) {
      const children = n[child];
      if (Array.isArray(children) && children.length) {
        const id = attr(n, key);
        if (id) parents.add(id);
        walk(children);
      }
    }
  };
  walk(nodes);
  return parents;
}

/** A level and the currency Adaptive keeps it in, from exportLevels' tree. */
function levelCurrencies(nodes: unknown): Map<string, string> {
  const currencies = new Map<string, string>();
  const walk = (list: unknown, inherited?: string) => {
    for (const n of (Array.isArray(list) ? list : []) as Record<string, unknown>[]) {
      const currency = attr(n, 'currency') ?? inherited;
      const name = attr(n, 'name');
      if (name && currency) currencies.set(name, currency);
      walk(n.level, currency);
    }
  };
  walk(nodes);
  return currencies;
}

const Tree = (element: string) =>
  z.object({ [`${element}s`]: z.object({ [element]: z.array(z.unknown()).optional() }).passthrough() });

/** What an import's messages say: the rows taken, and each row refused or taken only in part. */
export function importOutcome(
  messages: readonly { key?: string; text: string }[],
  rows: readonly Record<string, string>[],
): Pick<ForecastImportResult, 'rowsImported' | 'rowsFailed' | 'issues'> {
  let rowsImported: number | undefined;
  const issues: ImportIssue[] = [];
  for (const m of messages) {
    const imported = /Rows imported:\s*(\d+)/i.exec(m.text);
    if (imported) {
      rowsImported = Number(imported[1]);
      continue;
    }
    // A message naming a row (`Row 3: …`, the header being row 1 as in closeloop's own reports).
    const row = /\brow (\d+)\b/i.exec(m.text);
    const line = row ? Number(row[1]) : 0;
    issues.push({
      line,
      severity: /warn/i.test(m.key ?? '') ? 'warning' : 'error',
      message: m.key ? `${m.key}: ${m.text}` : m.text,
      row: rows[line - 2] ?? {},
    });
  }
  const rowsFailed = issues.filter((i) => i.severity === 'error' && i.line > 0).length;
  return { rowsImported: rowsImported ?? rows.length - rowsFailed, rowsFailed, issues };
}

export function createAdaptiveConnector(
  config: AdaptiveConfig,
  api: AdaptiveXmlApi = createAdaptiveXmlApi(config),
) {
  /** The leaf check: which accounts and levels are rollups, and each level's currency. */
  async function structure(level: string) {
    const [accounts, levels] = await Promise.all([
      api.call('exportAccounts', {}),
      api.call('exportLevels', {}),
    ]);
    const a = Tree('account').safeParse(accounts.output);
    const l = Tree('level').safeParse(levels.output);
    if (!a.success || !l.success)
      throw protocolFailure(SYSTEM, 'exportAccounts or exportLevels answered without its nested tree');
    const levelTree = (l.data.levels as { level?: unknown[] }).level;
    const currencies = levelCurrencies(levelTree);
    if (!currencies.has(level))
      throw ApplicationFailure.nonRetryable(
        `${SYSTEM} has no level ${level} (the entity's settings name it)`,
        FailureType.ValidationFailed,
      );
    return {
      rollupAccounts: parentsOf((a.data.accounts as { account?: unknown[] }).account, 'code', 'account'),
      rollupLevels: parentsOf(levelTree, 'name', 'level'),
      currencies,
    };
  }

  async function fetchBudgetVersion(
    ref: Parameters<PlanningConnector['fetchBudgetVersion']>[0],
  ): Promise<PlanningBudgetRow[]> {
    const level = required(ref.settings, 'level', "the entity's level in Adaptive Planning");
    const versionName = (ref.settings?.versionName ?? DEFAULT_VERSION_NAME)
      .replaceAll('{scenario}', ref.scenario)
      .replaceAll('{fiscalYear}', String(ref.fiscalYear))
      .replaceAll('{version}', String(ref.version));
    const periods = ref.periods ?? [];
    if (!periods.length)
      throw ApplicationFailure.nonRetryable(
        `FY${ref.fiscalYear} has no periods for ${ref.legalEntity}: Adaptive Planning is read month by month`,
        FailureType.ValidationFailed,
      );
    const byMonth = new Map(periods.map((p) => [monthCode(p.startDate), p.period]));
    const { rollupAccounts, rollupLevels, currencies } = await structure(level);
    const exported = await api.call('exportData', {
      version: { '@_name': versionName, '@_isDefault': 'false' },
      format: { '@_useInternalCodes': 'true', '@_includeUnmappedItems': 'false' },
      filters: {
        levels: { level: { '@_name': level, '@_isRollup': 'false', '@_includeDescendants': 'true' } },
        timeSpan: {
          '@_start': monthCode(periods[0]!.startDate),
          '@_end': monthCode(periods[periods.length - 1]!.startDate),
        },
      },
      rules: {
        '@_includeZeroRows': 'false',
        '@_includeRollupAccounts': 'false',
        '@_includeRollupLevels': 'false',
        '@_markInvalidValues': 'false',
        '@_markBlanks': 'false',
        '@_timeRollups': 'false',
        currency: { '@_useLocal': 'true' },
      },
    });
    const csv = typeof exported.output === 'string' ? exported.output : '';
    const records = parse(csv, { relax_column_count: false, skip_empty_lines: true }) as string[][];
    const [header, ...body] = records;
    if (!header) return [];
    const col = (name: string) => header.findIndex((h) => h.trim() === name);
    const [accountAt, levelAt] = [col('Account Code'), col('Level Name')];
    if (accountAt < 0 || levelAt < 0)
      throw protocolFailure(
        SYSTEM,
        `exportData's header has no Account Code or Level Name: ${header.join(',')}`,
      );
    const months = header.map(monthColumn);
    const rows: PlanningBudgetRow[] = [];
    body.forEach((r, i) => {
      const account = r[accountAt]!;
      const costCenter = r[levelAt]!;
      // Summed with its children, a rollup row would count their amounts twice.
      if (rollupAccounts.has(account) || rollupLevels.has(costCenter))
        throw protocolFailure(
          SYSTEM,
          `exportData row ${i + 2} is a rollup (${rollupAccounts.has(account) ? `account ${account}` : `level ${costCenter}`}) though leaves only were asked for: it would double the totals`,
        );
      const currency = currencies.get(costCenter) ?? currencies.get(level)!;
      months.forEach((month, c) => {
        if (!month) return;
        const period = byMonth.get(month);
        const value = (r[c] ?? '').trim();
        if (!period || value === '' || Number(value) === 0) return;
        if (!DECIMAL.test(value))
          throw protocolFailure(
            SYSTEM,
            `exportData row ${i + 2}, ${month}: ${JSON.stringify(value)} is not a number`,
          );
        rows.push({ dimensions: { account, costCenter }, period, amount: value, currency });
      });
    });
    return rows;
  }

  /** One `importCubeData` of rows pivoted to one line per account and level, a column per month. */
  async function importCube(
    rows: readonly ForecastRow[],
    periodStarts: ReadonlyMap<string, string>,
    options: { actuals: boolean; version?: string; sheet: string },
  ) {
    const months = [...new Set(rows.map((r) => monthCode(periodStarts.get(r.period)!)))].sort((a, b) =>
      a.slice(3) + a.slice(0, 2) < b.slice(3) + b.slice(0, 2) ? -1 : 1,
    );
    const lines = new Map<string, Record<string, string>>();
    for (const r of rows) {
      const key = `${r.account}|${r.costCenter}`;
      const line = lines.get(key) ?? { Account: r.account, Level: r.costCenter };
      line[monthCode(periodStarts.get(r.period)!)] = r.amount;
      lines.set(key, line);
    }
    const header = ['Account', 'Level', ...months];
    // A month without a line for the combination holds nothing in this forecast: it is sent as zero, which
    // Adaptive takes as erasing the cell, so a figure an earlier forecast put there does not linger.
    const sent = [...lines.values()].map((l) => Object.fromEntries(header.map((h) => [h, l[h] ?? '0'])));
    const answer = await api.call('importCubeData', {
      importDataOptions: {
        '@_planOrActuals': options.actuals ? 'Actuals' : 'Plan',
        '@_allowParallel': 'false',
        '@_moveBPtr': options.actuals ? 'true' : 'false',
      },
      ...(options.version ? { version: { '@_name': options.version, '@_isDefault': 'false' } } : {}),
      sheet: { '@_name': options.sheet, '@_isUserAssigned': 'false' },
      rowData: {
        header: header.join('|'),
        rows: { row: sent.map((l) => header.map((h) => l[h]).join('|')) },
      },
    });
    return importOutcome(answer.messages, sent);
  }

  return {
    system: SYSTEM,
    health: () => probeHealth(SYSTEM, async () => void (await api.call('exportVersions', {}))),
    fetchBudgetVersion,

    async publishForecast(forecast: ForecastPublication): Promise<ForecastImportResult> {
      // importCubeData takes a sheet's rows in one request, each combination's months together (a month left
      // out of a row is sent as zero): the rows are gathered whole, as the request is.
      const rows: ForecastRow[] = [];
      for await (const page of forecastRowPages(forecast.rows)) rows.push(...page);
      const sheet = required(forecast.settings, 'sheet', 'the cube sheet the figures go back to');
      const version = required(forecast.settings, 'forecastVersion', 'the plan version the forecast goes to');
      const starts = new Map((forecast.periods ?? []).map((p) => [p.period, p.startDate]));
      const unknown = rows.find((r) => !starts.has(r.period));
      if (unknown)
        throw ApplicationFailure.nonRetryable(
          `period ${unknown.period} has no first day among the forecast's periods: Adaptive Planning keeps months`,
          FailureType.ValidationFailed,
        );
      const actuals = rows.filter((r) => r.basis === 'actual');
      const projections = rows.filter((r) => r.basis !== 'actual');
      const outcomes = [
        ...(actuals.length ? [await importCube(actuals, starts, { actuals: true, sheet })] : []),
        ...(projections.length
          ? [await importCube(projections, starts, { actuals: false, version, sheet })]
          : []),
      ];
      return {
        idempotencyKey: forecast.idempotencyKey,
        rowsImported: outcomes.reduce((n, o) => n + o.rowsImported, 0),
        rowsIgnored: 0,
        rowsFailed: outcomes.reduce((n, o) => n + o.rowsFailed, 0),
        issues: outcomes.flatMap((o) => o.issues),
      };
    },
  } satisfies PlanningConnector;
}
