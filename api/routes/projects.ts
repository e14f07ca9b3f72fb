import { randomUUID } from 'node:crypto';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { dimensionValueLists } from '../../db/queries/chart';
import { closeProject, projectsOf, putProject } from '../../db/queries/projects';
import { LegalEntityCode } from '../../domain/model';
import { ProjectSpec } from '../../domain/projects';
import { principalOf, requireRole } from '../auth';
import { type ControlRouteDeps } from '../control-context';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';
import { knownLegalEntity } from '../references';

const PutBody = z
  .object({
    name: z.unknown(),
    status: z.unknown(),
    grant: z.unknown().optional(),
    /** The system of record it comes from ("d365"); closeloop when a person keys it. */
    source: z.string().min(1).max(50).default('closeloop'),
  })
  .strict();
const CloseBody = z.object({ reason: Reason }).strict();

/**
 * An entity's projects and the grants that fund them (issue 22), at /v1/legal-entities/:code/projects: put as
 * their system of record has them (an integration, or a controller), read, and closed, which is refused while
 * budget, reservations or commitments stand on the project. Every change re-evaluates the control budgets.
 */
export function projectRoutes({ db, cache }: Pick<ControlRouteDeps, 'db' | 'cache'>) {
  const router = Router({ mergeParams: true });
  const entityOf = (req: Request) =>
    knownLegalEntity(db, LegalEntityCode.parse((req.params as { code?: string }).code), 'code');

  router.get('/', async (req, res) => {
    const entity = await entityOf(req);
    res.json({ legalEntity: entity.code, projects: await projectsOf(db, entity.code) });
  });

  router.put('/:project', requireRole('integration_admin', 'controller'), async (req, res) => {
    const entity = await entityOf(req);
    const { source, ...rest } = PutBody.parse(req.body);
    const spec = ProjectSpec.parse(rest);
    const code = String(req.params.project);
    const values = (await dimensionValueLists(db, entity.code, ['project'])).get('project');
    if (!values?.has(code))
      throw new HttpError(404, 'not_found', `${entity.code} has no value ${code} of a project dimension`);
    if (spec.grant && spec.grant.awarded.currency !== entity.functionalCurrency)
      throw new HttpError(
        422,
        'currency_mismatch',
        `${entity.code} controls spend in ${entity.functionalCurrency}, the award is in ${spec.grant.awarded.currency}`,
      );
    const put = await db.transaction((tx) =>
      putProject(tx, {
        legalEntity: entity.code,
        code,
        spec,
        source,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    cache.entities.clear();
    res.status(put.outcome === 'created' ? 201 : 200).json({ legalEntity: entity.code, code, ...put });
  });

  router.post('/:project/close', requireRole('controller'), async (req, res) => {
    const entity = await entityOf(req);
    const { reason } = CloseBody.parse(req.body);
    const code = String(req.params.project);
    const closed = await db.transaction((tx) =>
      closeProject(tx, {
        legalEntity: entity.code,
        code,
        reason,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    cache.entities.clear();
    if (closed.outcome === 'unknown')
      throw new HttpError(404, 'not_found', `${entity.code} has no project ${code}`);
    if (closed.outcome === 'refused')
      throw new HttpError(
        409,
        'money_stands_on_project',
        `project ${code} cannot close while money stands on it: ${closed.standing.budgetLines} budget line(s) in force, ${closed.standing.reservations} held reservation line(s), ${closed.standing.commitments} open commitment line(s)`,
        { standing: closed.standing },
      );
    res.json({ legalEntity: entity.code, code, outcome: closed.outcome });
  });

  return router;
}
