import { isDeepStrictEqual } from 'node:util';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import {
  type Chart,
  type ChartDimension,
  ChartSpec,
  chartChangeProblems,
  type DimensionValueRef,
} from '../../domain/chart';
import {
  type CrossValidationRule,
  CrossValidationRule as RuleSchema,
  dimensionsWithNodes,
} from '../../domain/cross-validation';
import { type ChartRules } from '../../domain/combination-check';
import { cyclesIn, type HierarchyEdge, treeAsOf } from '../../domain/hierarchy';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import {
  accounts,
  charts,
  costCenters,
  crossValidationRules,
  dimensionHierarchy,
  dimensionValues,
} from '../schema';
import { appendAudit } from './audit';
import { type MasterDataChangeRow, proposeMasterDataChange } from './master-data';

/** Who changes an entity's chart, and the request it came with. */
export interface ChartActor {
  legalEntity: string;
  by: string;
  correlationId: string;
}

/** Dimensions whose value lists and hierarchies the ERP's master-data sync keeps (their own tables). */
export const ERP_SYNCED_DIMENSIONS = ['account', 'costCenter'] as const;
const erpSynced = (d: string) => (ERP_SYNCED_DIMENSIONS as readonly string[]).includes(d);

async function audit(tx: Tx, a: ChartActor, action: string, entityId: string, key: string, details: object) {
  await appendAudit(tx, {
    stream: auditStream.chart(a.legalEntity),
    actor: a.by,
    action,
    entityType: 'chart',
    entityId,
    correlationId: a.correlationId,
    eventKey: key,
    details: details as Record<string, unknown>,
  });
}

const lockChart = (tx: Tx, legalEntity: string) =>
  tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`chart:${legalEntity}`}, 0))`);

const toChart = (r: typeof charts.$inferSelect): Chart => ({
  legalEntity: r.legalEntity,
  version: r.version,
  validFrom: r.validFrom,
  spec: ChartSpec.parse(r.spec),
});

/** Every version of the entity's chart, oldest first. */
export async function chartVersions(db: DbOrTx, legalEntity: string): Promise<Chart[]> {
  const rows = await db
    .select()
    .from(charts)
    .where(eq(charts.legalEntity, legalEntity))
    .orderBy(asc(charts.version));
  return rows.map(toChart);
}

/** The version of the entity's chart in force on a date: the latest that starts on or before it. */
export async function chartOn(db: DbOrTx, legalEntity: string, onDate: string): Promise<Chart | undefined> {
  const [row] = await db
    .select()
    .from(charts)
    .where(and(eq(charts.legalEntity, legalEntity), sql`${charts.validFrom} <= ${onDate}`))
    .orderBy(desc(charts.validFrom))
    .limit(1);
  return row && toChart(row);
}

export type ChartDeclaration =
  { outcome: 'declared' | 'unchanged'; chart: Chart } | { outcome: 'refused'; problems: string[] };

/**
 * Declares the entity's chart from a date: a new version, unless the spec is the one already in force
 * (then nothing changes: a repeated declaration is the same act). A version starts after the latest one,
 * never before or on it (lines are booked under that one), and may not remove a dimension or change its
 * kind. Audited in the entity's chart stream with the spec it replaces.
 */
export async function declareChart(
  tx: Tx,
  a: ChartActor & { spec: ChartSpec; validFrom: string; reason: string },
): Promise<ChartDeclaration> {
  await lockChart(tx, a.legalEntity);
  const versions = await chartVersions(tx, a.legalEntity);
  const latest = versions.at(-1);
  if (latest && isDeepStrictEqual(latest.spec, a.spec)) return { outcome: 'unchanged', chart: latest };
  if (latest) {
    const problems = chartChangeProblems(latest.spec, a.spec);
    if (a.validFrom <= latest.validFrom)
      problems.unshift(
        `version ${latest.version} of ${a.legalEntity}'s chart is in force from ${latest.validFrom}; a change takes effect after that date`,
      );
    if (problems.length) return { outcome: 'refused', problems };
  }
  const chart: Chart = {
    legalEntity: a.legalEntity,
    version: (latest?.version ?? 0) + 1,
    validFrom: a.validFrom,
    spec: a.spec,
  };
  await tx.insert(charts).values({ ...chart, changedBy: a.by, reason: a.reason });
  const added = a.spec.dimensions.filter((d) => !latest?.spec.dimensions.some((x) => x.code === d.code));
  await audit(
    tx,
    a,
    latest ? 'chart.changed' : 'chart.declared',
    a.legalEntity,
    `chart:${a.legalEntity}:v${chart.version}`,
    {
      version: chart.version,
      validFrom: a.validFrom,
      spec: a.spec,
      ...(latest ? { previousVersion: latest.version, dimensionsAdded: added.map((d) => d.code) } : {}),
      reason: a.reason,
    },
  );
  return { outcome: 'declared', chart };
}

/**
 * Adds one dimension (the entity's own, or a canonical one it had not booked on) to the chart from a date:
 * a new version that is the one in force plus the dimension. Adding it again as it is changes nothing.
 */
export async function addChartDimension(
  tx: Tx,
  a: ChartActor & { dimension: ChartDimension; validFrom: string; reason: string },
): Promise<ChartDeclaration> {
  await lockChart(tx, a.legalEntity);
  const latest = (await chartVersions(tx, a.legalEntity)).at(-1);
  if (!latest)
    return { outcome: 'refused', problems: [`${a.legalEntity} has no chart to add a dimension to`] };
  const same = latest.spec.dimensions.find((d) => d.code === a.dimension.code);
  if (same) {
    if (isDeepStrictEqual(same, a.dimension)) return { outcome: 'unchanged', chart: latest };
    return {
      outcome: 'refused',
      problems: [`${a.dimension.code} is already in ${a.legalEntity}'s chart; change it with PUT …/chart`],
    };
  }
  const spec = ChartSpec.parse({ dimensions: [...latest.spec.dimensions, a.dimension] });
  return declareChart(tx, { ...a, spec });
}

/**
 * The value lists of the given dimensions, for checking combinations: accounts (shared), cost centers (every
 * entity's, so a line naming another entity's is told so) and the entity's own lists of other dimensions.
 * A dimension with no list at all is left out: any value in its format passes.
 */
export async function dimensionValueLists(
  db: DbOrTx,
  legalEntity: string,
  dimensions: readonly string[],
): Promise<Map<string, Map<string, DimensionValueRef>>> {
  const lists = new Map<string, Map<string, DimensionValueRef>>();
  if (dimensions.includes('account')) {
    const rows = await db.select().from(accounts);
    lists.set('account', new Map(rows.map((r) => [r.code, r])));
  }
  if (dimensions.includes('costCenter')) {
    const rows = await db.select().from(costCenters);
    lists.set('costCenter', new Map(rows.map((r) => [r.code, r])));
  }
  const others = dimensions.filter((d) => !erpSynced(d));
  if (others.length) {
    const rows = await db
      .select()
      .from(dimensionValues)
      .where(
        and(eq(dimensionValues.legalEntity, legalEntity), sql`${dimensionValues.dimension} in ${others}`),
      );
    for (const r of rows) {
      if (!lists.has(r.dimension)) lists.set(r.dimension, new Map());
      lists.get(r.dimension)!.set(r.code, r);
    }
  }
  return lists;
}

export interface DimensionValueInput {
  code: string;
  name: string;
  active: boolean;
  validFrom: string;
  validTo: string | null;
}

export type ValuesLoad = { created: string[]; changed: string[]; unchanged: number };

/**
 * Loads a dimension's values from its system of record: new codes are added, changed ones updated (name,
 * active, dates), the same ones left alone. A code is never deleted (lines keep naming it); the source ends
 * it with `validTo` or `active: false`. Audited once per load that changes something.
 */
export async function loadDimensionValues(
  tx: Tx,
  a: ChartActor & { dimension: string; source: string; values: readonly DimensionValueInput[] },
): Promise<ValuesLoad> {
  const out: ValuesLoad = { created: [], changed: [], unchanged: 0 };
  if (!a.values.length) return out;
  const rows = await tx
    .insert(dimensionValues)
    .values(
      a.values.map((v) => ({ ...v, legalEntity: a.legalEntity, dimension: a.dimension, source: a.source })),
    )
    .onConflictDoUpdate({
      target: [dimensionValues.legalEntity, dimensionValues.dimension, dimensionValues.code],
      set: {
        name: sql`excluded.name`,
        active: sql`excluded.active`,
        validFrom: sql`excluded.valid_from`,
        validTo: sql`excluded.valid_to`,
        source: sql`excluded.source`,
      },
      // Only a row that differs is written: the returned rows are exactly the ones created or changed.
      setWhere: sql`(${dimensionValues.name}, ${dimensionValues.active}, ${dimensionValues.validFrom}, ${dimensionValues.validTo}, ${dimensionValues.source})
        is distinct from (excluded.name, excluded.active, excluded.valid_from, excluded.valid_to, excluded.source)`,
    })
    .returning({ code: dimensionValues.code, inserted: sql<boolean>`xmax = 0` });
  for (const r of rows) (r.inserted ? out.created : out.changed).push(r.code);
  out.created.sort();
  out.changed.sort();
  out.unchanged = a.values.length - rows.length;
  if (rows.length)
    await audit(
      tx,
      a,
      'chart.values_loaded',
      `${a.legalEntity}:${a.dimension}`,
      `chart-values:${a.legalEntity}:${a.dimension}:${a.correlationId}`,
      { dimension: a.dimension, source: a.source, created: out.created, changed: out.changed },
    );
  return out;
}

/** The entity's hierarchy of a dimension, every dated row, oldest first. */
export async function hierarchyEdges(
  db: DbOrTx,
  legalEntity: string,
  dimension: string,
): Promise<HierarchyEdge[]> {
  const rows = await db
    .select()
    .from(dimensionHierarchy)
    .where(and(eq(dimensionHierarchy.legalEntity, legalEntity), eq(dimensionHierarchy.dimension, dimension)))
    .orderBy(asc(dimensionHierarchy.validFrom), asc(dimensionHierarchy.code));
  return rows.map((r) => ({
    code: r.code,
    parent: r.parent,
    validFrom: r.validFrom,
    validTo: r.validTo,
    ...(r.name ? { name: r.name } : {}),
  }));
}

export interface HierarchyNodeInput {
  code: string;
  parent: string | null;
  name?: string;
}

export type HierarchyLoad =
  | {
      outcome: 'loaded';
      added: string[];
      unchanged: number;
      movesRequested: MasterDataChangeRow[];
      movesAlreadyAsked: string[];
    }
  | { outcome: 'refused'; cycles: string[][] };

/**
 * Loads the tree a system of record publishes as of a date. A node not yet in the tree on that date is added
 * from then (until a row already dated later, if any); a node that stands under another parent is a move,
 * which waits for approval (master_data_changes, the same request a master-data sync makes for a cost
 * center); a node where it stands is left alone. Nodes the load leaves out stay where they are. A load that
 * would make a cycle is refused whole, naming it.
 */
export async function loadHierarchy(
  tx: Tx,
  a: ChartActor & { dimension: string; asOf: string; source: string; nodes: readonly HierarchyNodeInput[] },
): Promise<HierarchyLoad> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`hierarchy:${a.legalEntity}:${a.dimension}`}, 0))`,
  );
  const edges = await hierarchyEdges(tx, a.legalEntity, a.dimension);
  const tree = treeAsOf(edges, a.asOf);
  const proposed: HierarchyEdge[] = a.nodes.map((n) => ({
    code: n.code,
    parent: n.parent,
    validFrom: a.asOf,
    validTo: null,
  }));
  const after = [
    ...edges.map((e) =>
      a.nodes.some((n) => n.code === e.code) &&
      e.validFrom <= a.asOf &&
      (e.validTo === null || e.validTo > a.asOf)
        ? { ...e, validTo: a.asOf }
        : e,
    ),
    ...proposed,
  ].filter((e) => e.validTo === null || e.validTo > e.validFrom);
  const cycles = cyclesIn(after);
  if (cycles.length) return { outcome: 'refused', cycles };

  const added: string[] = [];
  const movesRequested: MasterDataChangeRow[] = [];
  const movesAlreadyAsked: string[] = [];
  let unchanged = 0;
  for (const n of a.nodes) {
    if (!tree.has(n.code)) {
      const later = edges.find((e) => e.code === n.code && e.validFrom > a.asOf);
      await tx
        .insert(dimensionHierarchy)
        .values({
          legalEntity: a.legalEntity,
          dimension: a.dimension,
          code: n.code,
          parent: n.parent,
          name: n.name ?? null,
          validFrom: a.asOf,
          validTo: later?.validFrom ?? null,
        })
        .onConflictDoNothing();
      added.push(n.code);
    } else if (tree.get(n.code) === n.parent) {
      unchanged++;
    } else {
      const { created, change } = await proposeMasterDataChange(tx, a, {
        dimension: a.dimension,
        code: n.code,
        fromValue: tree.get(n.code) ?? null,
        toValue: n.parent,
        effectiveFrom: a.asOf,
        sourceSystem: a.source,
        payload: { node: n, asOf: a.asOf },
      });
      if (created) movesRequested.push(change);
      else movesAlreadyAsked.push(n.code);
    }
  }
  if (added.length)
    await audit(
      tx,
      a,
      'chart.hierarchy_loaded',
      `${a.legalEntity}:${a.dimension}`,
      `chart-hierarchy:${a.legalEntity}:${a.dimension}:${a.asOf}:${a.correlationId}`,
      { dimension: a.dimension, asOf: a.asOf, source: a.source, added },
    );
  return { outcome: 'loaded', added, unchanged, movesRequested, movesAlreadyAsked };
}

/** The entity's cross-validation rules (all, or those in force on a date). */
export async function crossValidationRulesOf(
  db: DbOrTx,
  legalEntity: string,
  onDate?: string,
): Promise<CrossValidationRule[]> {
  const rows = await db
    .select()
    .from(crossValidationRules)
    .where(
      and(
        eq(crossValidationRules.legalEntity, legalEntity),
        onDate === undefined
          ? undefined
          : sql`${crossValidationRules.validFrom} <= ${onDate} and (${crossValidationRules.validTo} is null or ${crossValidationRules.validTo} > ${onDate})`,
      ),
    )
    .orderBy(asc(crossValidationRules.code));
  return rows.map(toRule);
}

const toRule = (r: typeof crossValidationRules.$inferSelect): CrossValidationRule =>
  RuleSchema.parse({
    code: r.code,
    description: r.description,
    condition: r.condition,
    validation: r.validation,
    validFrom: r.validFrom,
    validTo: r.validTo,
    origin: r.origin,
  });

/**
 * Puts a rule (new, or a change of one with the same code): written only when it differs, audited with what
 * it was. Ending a rule is a change of its `validTo`; rules are never deleted, so a line's check can be
 * explained later.
 */
export async function putCrossValidationRule(
  tx: Tx,
  a: ChartActor & { rule: CrossValidationRule },
): Promise<{ outcome: 'created' | 'changed' | 'unchanged' }> {
  const [before] = await tx
    .select()
    .from(crossValidationRules)
    .where(
      and(eq(crossValidationRules.legalEntity, a.legalEntity), eq(crossValidationRules.code, a.rule.code)),
    )
    .for('update');
  const previous = before && toRule(before);
  if (previous && isDeepStrictEqual(previous, a.rule)) return { outcome: 'unchanged' };
  const row = { ...a.rule, legalEntity: a.legalEntity, changedBy: a.by, changedAt: new Date() };
  await tx
    .insert(crossValidationRules)
    .values(row)
    .onConflictDoUpdate({ target: [crossValidationRules.legalEntity, crossValidationRules.code], set: row });
  await audit(
    tx,
    a,
    previous ? 'chart.rule_changed' : 'chart.rule_added',
    `${a.legalEntity}:${a.rule.code}`,
    `chart-rule:${a.legalEntity}:${a.rule.code}:${a.correlationId}`,
    { rule: a.rule, ...(previous ? { previous } : {}) },
  );
  return { outcome: previous ? 'changed' : 'created' };
}

/** The entity's cross-validation rules with the hierarchies they name nodes of. */
export async function chartRules(db: DbOrTx, legalEntity: string): Promise<ChartRules> {
  const rules = await crossValidationRulesOf(db, legalEntity);
  const hierarchies = await Promise.all(
    dimensionsWithNodes(rules).map(async (d) => [d, await hierarchyEdges(db, legalEntity, d)] as const),
  );
  return { rules, hierarchies: new Map(hierarchies) };
}

/**
 * What checking combinations against the entity's chart on a date needs: the chart version in force, the
 * value lists of its dimensions, and its rules with the hierarchies they name nodes of.
 */
export async function chartCheckContext(db: DbOrTx, legalEntity: string, onDate: string) {
  const chart = await chartOn(db, legalEntity, onDate);
  if (!chart) return undefined;
  const [lists, rules] = await Promise.all([
    dimensionValueLists(
      db,
      legalEntity,
      chart.spec.dimensions.map((d) => d.code),
    ),
    chartRules(db, legalEntity),
  ]);
  return { chart, lists, ...rules };
}
