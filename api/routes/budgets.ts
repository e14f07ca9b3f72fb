import { randomUUID } from 'node:crypto';
import { stringify as writeCsv } from 'csv-stringify/sync';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import { spendCombinations, versionCombinations } from '../../db/queries/budget-report';
import { activeVersionOf, findVersion } from '../../db/queries/budget-versions';
import { controlScenarioOf, setControlScenario } from '../../db/queries/control-scenarios';
import { fiscalYearPeriods } from '../../db/queries/reference';
import {
  FiscalYear,
  IsoDate,
  LegalEntityCode,
  PeriodCode,
  Scenario,
  VersionNumber,
} from '../../domain/model';
import { GroupBy, groupFigures, mergeFigures, termLabel } from '../../domain/report-grouping';
import { principalOf, requireRole } from '../auth';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity, unknownReference } from '../references';
import { groupedTable, groupingTrees } from '../report-groups';

const ControlBody = z.object({ scenario: Scenario, reason: Reason }).strict();
const ReportQuery = z
  .object({
    scenario: Scenario.optional(),
    version: z.coerce.number().pipe(VersionNumber).optional(),
    compareTo: Scenario.optional(),
    /** true: beside the budget, what was spent (`actual`), what is on order (`committed`) and `variance`. */
    actuals: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    groupBy: GroupBy.default([{ dimension: 'account' }]),
    period: PeriodCode.optional(),
    asOf: IsoDate.optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

/**
 * An entity's budgets by fiscal year, every scenario of them: which scenario is in control (published and
 * reserved against), and reports of any scenario's version grouped by any dimension or hierarchy level,
 * alone or against another scenario. Mounted at /v1/legal-entities/:code/budgets.
 */
export function budgetRoutes({ db }: { db: Database }) {
  const router = Router({ mergeParams: true });
  const yearOf = async (req: Request) => {
    const entity = await knownLegalEntity(
      db,
      LegalEntityCode.parse((req.params as { code?: string }).code),
      'code',
    );
    const fiscalYear = z.coerce.number().pipe(FiscalYear).parse(req.params.fiscalYear);
    const periods = await fiscalYearPeriods(db, entity.fiscalCalendar, fiscalYear, entity.code);
    if (!periods.length)
      throw unknownReference([
        { field: 'fiscalYear', message: `${fiscalYear} is not in ${entity.fiscalCalendar}` },
      ]);
    return { entity, fiscalYear, periods };
  };

  router.get('/:fiscalYear/control-scenario', async (req, res) => {
    const { entity, fiscalYear } = await yearOf(req);
    res.json(await controlScenarioOf(db, entity.code, fiscalYear));
  });

  /**
   * A controller puts another scenario in control of the year (audited). Refused (409) while a version of
   * either scenario is past approval, naming them: see db/queries/control-scenarios.
   */
  router.put('/:fiscalYear/control-scenario', requireRole('controller'), async (req, res) => {
    const { entity, fiscalYear } = await yearOf(req);
    const body = ControlBody.parse(req.body);
    const correlationId = req.header('x-correlation-id') ?? randomUUID();
    const change = await db.transaction((tx) =>
      setControlScenario(tx, {
        legalEntity: entity.code,
        fiscalYear,
        scenario: body.scenario,
        actor: principalOf(req).id,
        reason: body.reason,
        correlationId,
      }),
    );
    if ('refused' in change)
      throw new HttpError(
        409,
        'control_scenario_in_use',
        `${change.control.scenario} stays in control of FY${fiscalYear} for ${entity.code}: ${change.refused
          .map((v) => `${v.scenario} v${v.version} is ${v.status}`)
          .join(', ')}; the scenario in control can change only before either has a version past approval`,
        { control: change.control, versions: change.refused },
      );
    res.json({ ...change.control, changed: change.changed });
  });

  /**
   * A version's figures grouped by any dimension or hierarchy level (`groupBy=department,account@1`): the
   * version named, or the active version of the scenario (the one in control when none is named); with
   * `compareTo`, against another scenario's active version. Every grouping adds up to the totals.
   */
  router.get('/:fiscalYear/report', async (req, res) => {
    const { entity, fiscalYear, periods } = await yearOf(req);
    const q = ReportQuery.parse(req.query);
    const control = await controlScenarioOf(db, entity.code, fiscalYear);
    const scenario = q.scenario ?? control.scenario;
    // Hierarchy levels as the year ends, unless another date is asked for.
    const { trees, asOf } = await groupingTrees(db, entity, fiscalYear, q.groupBy, q.asOf);
    if (q.period && !periods.some((p) => p.period === q.period))
      throw unknownReference([
        { field: 'period', message: `${q.period} is not a period of FY${fiscalYear}` },
      ]);
    const version = q.version
      ? await findVersion(db, { legalEntity: entity.code, fiscalYear, scenario, version: q.version })
      : await activeVersionOf(db, entity.code, fiscalYear, scenario);
    if (!version)
      throw new HttpError(
        404,
        'not_found',
        q.version
          ? `${entity.code} FY${fiscalYear} ${scenario} has no version ${q.version}`
          : `${entity.code} FY${fiscalYear} ${scenario} has no active version: name one with ?version=`,
      );
    const compared = q.compareTo
      ? await activeVersionOf(db, entity.code, fiscalYear, q.compareTo)
      : undefined;
    if (q.compareTo && !compared)
      throw new HttpError(
        404,
        'not_found',
        `${entity.code} FY${fiscalYear} ${q.compareTo} has no active version to compare with`,
      );
    const inPeriods = q.period ? [q.period] : undefined;
    const spentIn = inPeriods ?? periods.map((p) => p.period);
    const rows = mergeFigures(
      {
        amount: await versionCombinations(db, version.id, inPeriods),
        ...(compared ? { compared: await versionCombinations(db, compared.id, inPeriods) } : {}),
        ...(q.actuals
          ? {
              actual: await spendCombinations(db, entity.code, 'actual', spentIn),
              committed: await spendCombinations(db, entity.code, 'committed', spentIn),
            }
          : {}),
      },
      {
        ...(compared ? { difference: (m) => m.amount! - m.compared! } : {}),
        // As the close report reads it: budget − actual.
        ...(q.actuals ? { variance: (m) => m.amount! - m.actual! } : {}),
      },
    );
    const fields = [
      'amount',
      ...(compared ? ['compared', 'difference'] : []),
      ...(q.actuals ? ['actual', 'committed', 'variance'] : []),
    ];
    const grouped = groupFigures(rows, q.groupBy, trees, fields);
    const labels = q.groupBy.map(termLabel);
    if (q.format === 'csv') {
      const table = groupedTable(labels, ['currency', ...fields], grouped, (row, column) =>
        column === 'currency' ? row.currency : row.figures[column],
      );
      return void res
        .type('text/csv')
        .attachment(`budget-${entity.code}-FY${fiscalYear}-${scenario}-v${version.versionNumber}.csv`)
        .send(writeCsv(table));
    }
    res.json({
      legalEntity: entity.code,
      fiscalYear,
      scenario,
      inControl: scenario === control.scenario,
      version: { number: version.versionNumber, status: version.status, id: version.id },
      compareTo: compared
        ? { scenario: compared.scenario, number: compared.versionNumber, id: compared.id }
        : null,
      period: q.period ?? null,
      groupBy: labels,
      asOf,
      groups: grouped.groups,
      totals: grouped.totals,
    });
  });

  return router;
}
