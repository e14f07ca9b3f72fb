import { isDeepStrictEqual } from 'node:util';
import { and, asc, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type Project, ProjectSpec } from '../../domain/projects';
import { type DbOrTx, type Tx } from '../client';
import { projects } from '../schema';
import { appendAudit } from './audit';
import { rebuildControlBudgets, type OverBudget } from './control-budget-balances';

/** An entity's projects, as their system of record last put them. */
export async function projectsOf(db: DbOrTx, legalEntity: string): Promise<Project[]> {
  const rows = await db
    .select()
    .from(projects)
    .where(eq(projects.legalEntity, legalEntity))
    .orderBy(asc(projects.code));
  return rows.map((r) => ({ code: r.code, ...ProjectSpec.parse(r.spec) }));
}

/**
 * A project as its system of record has it now (new, or changed: its lifecycle, its grant's award), audited
 * with what it replaced. Its funding is part of the entity's control model: a change re-evaluates the control
 * budgets' figures in the same transaction, as any model change does, and says which it leaves over.
 */
export async function putProject(
  tx: Tx,
  a: {
    legalEntity: string;
    code: string;
    spec: ProjectSpec;
    source: string;
    by: string;
    correlationId: string;
  },
): Promise<{ outcome: 'created' | 'changed' | 'unchanged'; overBudget: OverBudget[] }> {
  const where = and(eq(projects.legalEntity, a.legalEntity), eq(projects.code, a.code));
  const [before] = await tx.select().from(projects).where(where).for('update');
  if (before && isDeepStrictEqual(ProjectSpec.parse(before.spec), a.spec))
    return { outcome: 'unchanged', overBudget: [] };
  const row = {
    legalEntity: a.legalEntity,
    code: a.code,
    spec: a.spec,
    status: a.spec.status,
    source: a.source,
    changedBy: a.by,
    changedAt: new Date(),
  };
  await tx
    .insert(projects)
    .values(row)
    .onConflictDoUpdate({ target: [projects.legalEntity, projects.code], set: row });
  await appendAudit(tx, {
    stream: auditStream.control(a.legalEntity),
    actor: a.by,
    action: before ? 'project.changed' : 'project.created',
    entityType: 'project',
    entityId: `${a.legalEntity}:${a.code}`,
    correlationId: a.correlationId,
    eventKey: `project:${a.legalEntity}:${a.code}:${a.correlationId}`,
    details: { spec: a.spec, source: a.source, ...(before ? { previous: before.spec } : {}) },
  });
  return {
    outcome: before ? 'changed' : 'created',
    overBudget: await rebuildControlBudgets(tx, a.legalEntity),
  };
}

/** What stands on a project: budget in the active versions, held reservations, open commitments. */
export async function moneyOnProject(tx: DbOrTx, legalEntity: string, code: string) {
  const [row] = (await tx.execute(sql`
    select
      (select count(*)::int from budget_lines bl
        where bl.dimensions->>'project' = ${code} and bl.amount <> 0
          and bl.version_id in (select distinct version_id from control_balances
                                 where legal_entity = ${legalEntity} and version_id is not null)) as "budgetLines",
      (select count(*)::int from funds_reservations
        where legal_entity = ${legalEntity} and status = 'held' and dimensions->>'project' = ${code}) as reservations,
      (select count(*)::int from consumption_lines
        where legal_entity = ${legalEntity} and open_counted <> 0 and dimensions->>'project' = ${code})
      + (select count(*)::int from commitment_lines
          where legal_entity = ${legalEntity} and open_amount <> 0 and dimensions->>'project' = ${code}) as commitments`)) as unknown as {
    budgetLines: number;
    reservations: number;
    commitments: number;
  }[];
  return row!;
}

/**
 * Closes a project unless money stands on it: under the control model's exclusive lock (so no reservation
 * lands on it meanwhile), refused naming what stands; otherwise closed as a project change is put.
 */
export async function closeProject(
  tx: Tx,
  a: { legalEntity: string; code: string; reason: string; by: string; correlationId: string },
): Promise<
  | { outcome: 'closed' | 'already_closed' }
  | { outcome: 'refused'; standing: Awaited<ReturnType<typeof moneyOnProject>> }
  | { outcome: 'unknown' }
> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`control-budgets:${a.legalEntity}`}, 0))`,
  );
  const project = (await projectsOf(tx, a.legalEntity)).find((p) => p.code === a.code);
  if (!project) return { outcome: 'unknown' };
  if (project.status === 'closed') return { outcome: 'already_closed' };
  const standing = await moneyOnProject(tx, a.legalEntity, a.code);
  if (standing.budgetLines || standing.reservations || standing.commitments) {
    await appendAudit(tx, {
      stream: auditStream.control(a.legalEntity),
      actor: a.by,
      action: 'project.closure_refused',
      entityType: 'project',
      entityId: `${a.legalEntity}:${a.code}`,
      correlationId: a.correlationId,
      eventKey: `project-close-refused:${a.legalEntity}:${a.code}:${a.correlationId}`,
      details: { standing, reason: a.reason },
    });
    return { outcome: 'refused', standing };
  }
  const { code: _code, ...spec } = project;
  await putProject(tx, {
    legalEntity: a.legalEntity,
    code: a.code,
    spec: { ...spec, status: 'closed' },
    source: 'closeloop',
    by: a.by,
    correlationId: a.correlationId,
  });
  return { outcome: 'closed' };
}
