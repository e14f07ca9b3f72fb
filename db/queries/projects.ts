import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { and, asc, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type Project, ProjectSpec, type SourceProject } from '../../domain/projects';
import { fromMinor, toMinor } from '../../domain/money';
import { type Database, type DbOrTx, type Tx } from '../client';
import { loadMappings } from './reference';
import { closeSourceException, keepSourceException } from './source-exceptions';
import { projects } from '../schema';
import { appendAudit } from './audit';
import { lockControlBudgets, rebuildControlBudgets, type OverBudget } from './control-budget-balances';

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
  await lockControlBudgets(tx, a.legalEntity, 'exclusive');
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

export const PROJECTS_STREAM = 'projects' as const;

/** What one read of the ERP's projects did. */
export interface ProjectsApplied {
  created: string[];
  changed: string[];
  unchanged: number;
  closed: string[];
  /** The ERP finished a project closeloop still holds money on: it stays open here, and the next read tries again. */
  closureRefused: { code: string; standing: Awaited<ReturnType<typeof moneyOnProject>> }[];
  /** Kept with their reason, never dropped: a project with no mapping to a project value, or a row unread. */
  notApplied: { source: string; reason: string }[];
}

/**
 * Applies a read of the ERP's projects (their system of record): each mapped to its value of the project
 * dimension, its lifecycle and award put (the indirect cost terms, which the ERP keeps in cost templates
 * rather than on the grant, stay as closeloop holds them), a finished one closed unless money stands on it.
 */
export async function applyProjectsRead(
  db: Database,
  a: {
    legalEntity: string;
    currency: string;
    source: string;
    by: string;
    correlationId: string;
    onDate: string;
  },
  records: readonly (SourceProject | { invalid: unknown; reason: string })[],
): Promise<ProjectsApplied> {
  const out: ProjectsApplied = {
    created: [],
    changed: [],
    unchanged: 0,
    closed: [],
    closureRefused: [],
    notApplied: [],
  };
  const mapped = new Map(
    (await loadMappings(db, a.source))
      .filter(
        (m) =>
          m.dimension === 'project' &&
          m.validFrom <= a.onDate &&
          (m.validTo === null || m.validTo > a.onDate),
      )
      .map((m) => [m.systemValue, m.canonicalCode]),
  );
  const held = new Map((await projectsOf(db, a.legalEntity)).map((p) => [p.code, p]));
  // What is not applied is kept where support sees it (stream "projects"); it settles with a later read.
  const base = {
    sourceSystem: a.source,
    legalEntity: a.legalEntity,
    stream: PROJECTS_STREAM,
    correlationId: a.correlationId,
    auditStream: auditStream.control(a.legalEntity),
  };
  const keep = (
    recordKey: string,
    payload: Record<string, unknown>,
    errorCode: string,
    errorMessage: string,
  ) =>
    db.transaction((tx) => keepSourceException(tx, { ...base, recordKey, payload, errorCode, errorMessage }));
  const settle = (recordKey: string) =>
    db.transaction((tx) =>
      closeSourceException(tx, {
        sourceSystem: a.source,
        stream: PROJECTS_STREAM,
        recordKey,
        status: 'resolved',
        by: a.by,
        correlationId: a.correlationId,
        auditStream: auditStream.control(a.legalEntity),
      }),
    );
  for (const r of records) {
    if ('invalid' in r) {
      out.notApplied.push({ source: JSON.stringify(r.invalid).slice(0, 200), reason: r.reason });
      const key = `invalid:${createHash('sha256').update(JSON.stringify(r.invalid)).digest('hex').slice(0, 32)}`;
      await keep(key, { kind: 'source', record: r.invalid }, 'invalid_record', r.reason);
      continue;
    }
    const code = mapped.get(r.sourceValue);
    if (!code) {
      const reason = `project ${r.sourceValue} has no mapping to a value of the project dimension`;
      out.notApplied.push({ source: r.sourceValue, reason });
      await keep(`project:${r.sourceValue}`, { kind: 'source', record: { ...r } }, 'mapping_missing', reason);
      continue;
    }
    await settle(`project:${r.sourceValue}`);
    const before = held.get(code);
    const terms = before?.grant;
    const spec = ProjectSpec.parse({
      name: r.name,
      // A finish is a closure, decided below; until then the project keeps the status it has here.
      status: r.status === 'closed' ? (before?.status ?? 'active') : r.status,
      grant: r.grant
        ? {
            grantId: r.grant.grantId,
            name: r.grant.name,
            awarded: {
              amount: fromMinor(toMinor(r.grant.awarded, a.currency), a.currency),
              currency: a.currency,
            },
            awardFrom: r.grant.awardFrom,
            awardTo: r.grant.awardTo,
            indirectRatePercent: terms?.indirectRatePercent ?? '0',
            indirectCountsAgainstFunding: terms?.indirectCountsAgainstFunding ?? false,
          }
        : null,
    });
    const put = await db.transaction((tx) =>
      putProject(tx, {
        legalEntity: a.legalEntity,
        code,
        spec,
        source: a.source,
        by: a.by,
        correlationId: a.correlationId,
      }),
    );
    if (put.outcome === 'created') out.created.push(code);
    else if (put.outcome === 'changed') out.changed.push(code);
    else out.unchanged++;
    if (r.status === 'closed' && spec.status !== 'closed') {
      const closed = await db.transaction((tx) =>
        closeProject(tx, {
          legalEntity: a.legalEntity,
          code,
          reason: `finished in ${a.source}`,
          by: a.by,
          correlationId: a.correlationId,
        }),
      );
      if (closed.outcome === 'refused') {
        out.closureRefused.push({ code, standing: closed.standing });
        await keep(
          `close:${code}`,
          { kind: 'closure', code, standing: closed.standing },
          'closure_refused',
          `${a.source} finished project ${r.sourceValue}, but money stands on ${code} in closeloop: ${closed.standing.budgetLines} budget line(s), ${closed.standing.reservations} held reservation line(s), ${closed.standing.commitments} open commitment line(s)`,
        );
        continue;
      }
      if (closed.outcome === 'closed') out.closed.push(code);
    }
    await settle(`close:${code}`);
  }
  return out;
}
