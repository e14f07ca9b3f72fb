import { randomUUID } from 'node:crypto';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import { hierarchyEdges, chartVersions } from '../../db/queries/chart';
import { controlBudgetInputs, controlBudgetSpecs, putControlBudget } from '../../db/queries/control-budgets';
import { chartDimensionCodes } from '../../domain/chart';
import { ControlBudgetSpec, controlBudgetKeyText, controlBudgetsOf } from '../../domain/control-budgets';
import { treeAsOf, type TreeAsOf } from '../../domain/hierarchy';
import { Dimensions, IsoDate, LegalEntityCode } from '../../domain/model';
import { principalOf, requireRole } from '../auth';
import { Reason } from '../control-decisions';
import { knownLegalEntity, unknownReference } from '../references';

const PutBody = z
  .object({
    description: z.unknown(),
    covers: z.unknown(),
    per: z.unknown().optional(),
    level: z.unknown(),
    tolerancePercent: z.unknown().optional(),
    periodBasis: z.unknown(),
    validFrom: z.unknown(),
    validTo: z.unknown().optional(),
    reason: Reason,
  })
  .strict();
const MatchBody = z.object({ dimensions: Dimensions, date: IsoDate }).strict();

/**
 * An entity's control budgets as data (issue 22): read them, put one (controllers; audited in the entity's
 * control stream), and ask which budgets a combination falls in on a date. Mounted at
 * /v1/budget-control/control-budgets/:legalEntity.
 */
export function controlBudgetRoutes({ db }: { db: Database }) {
  const router = Router({ mergeParams: true });
  const entityOf = (req: Request) =>
    knownLegalEntity(
      db,
      LegalEntityCode.parse((req.params as { legalEntity?: string }).legalEntity),
      'legalEntity',
    );

  router.get('/', async (req, res) => {
    const entity = await entityOf(req);
    res.json({ legalEntity: entity.code, controlBudgets: await controlBudgetInputs(db, entity.code) });
  });

  router.put('/:code', requireRole('controller'), async (req, res) => {
    const entity = await entityOf(req);
    const { reason, ...rest } = PutBody.parse(req.body);
    const input = { ...rest, code: req.params.code } as z.input<typeof ControlBudgetSpec>;
    const spec = ControlBudgetSpec.parse(input);
    // Every dimension it names is one of the entity's chart.
    const known = chartDimensionCodes(await chartVersions(db, entity.code));
    const named = [...Object.keys(spec.covers), ...spec.per.map((t) => t.dimension)];
    const unknown = [...new Set(named.filter((d) => !known.includes(d)))];
    if (unknown.length)
      throw unknownReference(
        unknown.map((d) => ({ field: 'covers', message: `${entity.code}'s chart has no dimension ${d}` })),
      );
    const put = await db.transaction((tx) =>
      putControlBudget(tx, {
        legalEntity: entity.code,
        input,
        by: principalOf(req).id,
        reason,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    res
      .status(put.outcome === 'created' ? 201 : 200)
      .json({ outcome: put.outcome, legalEntity: entity.code, code: spec.code });
  });

  /** Which of the entity's control budgets a combination falls in on a date: changes nothing. */
  router.post('/match', async (req, res) => {
    const entity = await entityOf(req);
    const body = MatchBody.parse(req.body);
    const specs = await controlBudgetSpecs(db, entity.code);
    const trees = new Map<string, TreeAsOf>();
    for (const d of new Set(
      specs.flatMap((s) => [...Object.keys(s.covers), ...s.per.map((t) => t.dimension)]),
    ))
      trees.set(d, treeAsOf(await hierarchyEdges(db, entity.code, d), body.date));
    const budgets = controlBudgetsOf(specs, body.dimensions, body.date, (d) => trees.get(d));
    res.json({
      legalEntity: entity.code,
      date: body.date,
      budgets: budgets.map((b) => ({
        budget: controlBudgetKeyText(b.key),
        code: b.key.code,
        values: b.key.values,
        level: b.spec.level,
        tolerancePercent: b.spec.tolerancePercent,
        periodBasis: b.spec.periodBasis,
      })),
    });
  });

  return router;
}
