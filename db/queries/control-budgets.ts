import { isDeepStrictEqual } from 'node:util';
import { and, asc, eq } from 'drizzle-orm';
import { type z } from 'zod';
import {
  budgetControlsOf,
  ControlBudgetSpec,
  dimensionsNamedBy,
  type BudgetControl,
} from '../../domain/control-budgets';
import { treeAsOf, type HierarchyEdge, type TreeAsOf } from '../../domain/hierarchy';
import { type Dimensions } from '../../domain/model';
import { type FiscalPeriodRef } from '../../domain/reference';
import { hierarchyEdges } from './chart';
import { projectsOf } from './projects';
import { fundingControl } from '../../domain/projects';
import { auditStream } from '../../domain/identity';
import { termLabel } from '../../domain/report-grouping';
import { type DbOrTx, type Tx } from '../client';
import { controlBudgets } from '../schema';
import { appendAudit } from './audit';

/** A control budget as a controller puts it (its `per` as text, "department,account@1"). */
export type ControlBudgetInput = z.input<typeof ControlBudgetSpec>;

/** The entity's control budgets as they were put, oldest code first. */
export async function controlBudgetInputs(db: DbOrTx, legalEntity: string): Promise<ControlBudgetInput[]> {
  const rows = await db
    .select()
    .from(controlBudgets)
    .where(eq(controlBudgets.legalEntity, legalEntity))
    .orderBy(asc(controlBudgets.code));
  return rows.map((r) => r.spec as ControlBudgetInput);
}

/** The entity's control budgets, read for deciding (`per` as its terms). */
export async function controlBudgetSpecs(db: DbOrTx, legalEntity: string): Promise<ControlBudgetSpec[]> {
  return (await controlBudgetInputs(db, legalEntity)).map((i) => ControlBudgetSpec.parse(i));
}

/**
 * A controller puts a control budget (new, or changed in place), audited with the spec it replaces. The same
 * spec again changes nothing. The row is locked while it is compared, so two changes never cross.
 */
export async function putControlBudget(
  tx: Tx,
  a: { legalEntity: string; input: ControlBudgetInput; by: string; reason: string; correlationId: string },
): Promise<{ outcome: 'created' | 'changed' | 'unchanged' }> {
  const spec = ControlBudgetSpec.parse(a.input);
  // Kept in one form (defaults filled, `per` as its labels), so the same budget put twice compares equal.
  const input: ControlBudgetInput = { ...spec, per: spec.per.map(termLabel).join(',') };
  const where = and(eq(controlBudgets.legalEntity, a.legalEntity), eq(controlBudgets.code, spec.code));
  const [before] = await tx.select().from(controlBudgets).where(where).for('update');
  if (before && isDeepStrictEqual(before.spec, input)) return { outcome: 'unchanged' };
  const row = {
    legalEntity: a.legalEntity,
    code: spec.code,
    spec: input,
    validFrom: spec.validFrom,
    validTo: spec.validTo,
    changedBy: a.by,
    changedAt: new Date(),
  };
  await tx
    .insert(controlBudgets)
    .values(row)
    .onConflictDoUpdate({ target: [controlBudgets.legalEntity, controlBudgets.code], set: row });
  await appendAudit(tx, {
    stream: auditStream.control(a.legalEntity),
    actor: a.by,
    action: before ? 'control_budget.changed' : 'control_budget.created',
    entityType: 'control_budget',
    entityId: `${a.legalEntity}:${spec.code}`,
    correlationId: a.correlationId,
    eventKey: `control-budget:${a.legalEntity}:${spec.code}:${a.correlationId}`,
    details: { spec: input, ...(before ? { previous: before.spec } : {}), reason: a.reason },
  });
  return { outcome: before ? 'changed' : 'created' };
}

/** A calendar period as control budgets pool it. */
export type CalendarPeriod = FiscalPeriodRef & { fiscalYear: number };

/**
 * What deciding which budgets a line falls in needs, read once: the entity's control budgets and the
 * hierarchies they name (each tree read as of a date once). `of` gives a line's budgets; none when the entity
 * has no control budgets, without reading anything more.
 */
export async function controlBudgetContext(db: DbOrTx, legalEntity: string) {
  const specs = await controlBudgetSpecs(db, legalEntity);
  const projects = new Map((await projectsOf(db, legalEntity)).map((p) => [p.code, p]));
  const funded = [...projects.values()].some((p) => p.grant);
  const edges = new Map<string, HierarchyEdge[]>();
  for (const d of dimensionsNamedBy(specs)) edges.set(d, await hierarchyEdges(db, legalEntity, d));
  const trees = new Map<string, TreeAsOf>();
  const treeOn = (d: string, date: string) => {
    const k = `${d}|${date}`;
    if (!trees.has(k)) trees.set(k, treeAsOf(edges.get(d) ?? [], date));
    return trees.get(k);
  };
  return {
    specs,
    projects,
    /** Whether any line can fall in a budget here (a control budget, or a grant-funded project's funding). */
    controls: specs.length > 0 || funded,
    of(dims: Dimensions, period: CalendarPeriod, calendar: readonly CalendarPeriod[]): BudgetControl[] {
      const budgets = specs.length
        ? budgetControlsOf(specs, dims, period, calendar, (d) => treeOn(d, period.startDate))
        : [];
      const project = dims.project ? projects.get(dims.project) : undefined;
      const funding = project && fundingControl(project, period.period, calendar);
      return funding ? [...budgets, funding].sort((a, b) => (a.key < b.key ? -1 : 1)) : budgets;
    },
  };
}
