import { and, eq, ne, sql } from 'drizzle-orm';
import { type PeriodMove } from '../../domain/budget-validation';
import { type BudgetDecisionKind } from '../../domain/approval';
import { type ApprovalPolicySpec } from '../../domain/approval-policy';
import { auditStream } from '../../domain/identity';
import { fromMinor, toMinor } from '../../domain/money';
import { type Dimensions } from '../../domain/model';
import { compareFigures, type ReviewFigures, reviewFigures } from '../../domain/report-grouping';
import { combinationKey } from '../../domain/revision';
import { type DbOrTx, type Tx } from '../client';
import { appendAudit } from './audit';
import { versionCombinations } from './budget-report';
import { getVersion } from './budget-versions';
import { budgetVersions } from '../schema';

export interface StoredApprovalPolicy {
  legalEntity: string;
  revision: number;
  spec: ApprovalPolicySpec;
  changedBy: string;
  reason: string;
  changedAt: string;
}

/** An entity's policy as it stands (its latest revision), or undefined when it has none. */
export async function currentApprovalPolicy(
  db: DbOrTx,
  legalEntity: string,
): Promise<StoredApprovalPolicy | undefined> {
  const [row] = (await db.execute(sql`
    select legal_entity as "legalEntity", revision, spec, changed_by as "changedBy", reason,
           created_at::text as "changedAt"
      from approval_policies where legal_entity = ${legalEntity}
     order by revision desc limit 1`)) as unknown as StoredApprovalPolicy[];
  return row;
}

export type PolicyChangeOutcome =
  { outcome: 'changed'; revision: number } | { outcome: 'stale'; currentRevision: number };

/**
 * Stores a new revision of an entity's policy, audited with the policy before and after. The database
 * decides: the revision is written only when the caller's `expectedRevision` is still the latest (0 for an
 * entity without a policy), so two people editing at once cannot overwrite each other unseen.
 */
export async function changeApprovalPolicy(
  tx: Tx,
  c: {
    legalEntity: string;
    spec: ApprovalPolicySpec;
    expectedRevision: number;
    reason: string;
    by: string;
    correlationId: string;
  },
): Promise<PolicyChangeOutcome> {
  // One writer per entity at a time: the revision check and the insert see the same latest revision.
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`approval-policy:${c.legalEntity}`}, 0))`,
  );
  const inserted = (await tx.execute(sql`
    insert into approval_policies (legal_entity, revision, spec, changed_by, reason)
    select ${c.legalEntity}, latest.revision + 1, ${JSON.stringify(c.spec)}::jsonb, ${c.by}, ${c.reason}
      from (select coalesce(max(revision), 0) as revision from approval_policies
             where legal_entity = ${c.legalEntity}) latest
     where latest.revision = ${c.expectedRevision}
    returning revision`)) as unknown as { revision: number }[];
  if (!inserted.length) {
    const current = await currentApprovalPolicy(tx, c.legalEntity);
    return { outcome: 'stale', currentRevision: current?.revision ?? 0 };
  }
  const revision = inserted[0]!.revision;
  await appendAudit(tx, {
    stream: auditStream.approvals(c.legalEntity),
    actor: c.by,
    action: 'approval_policy.changed',
    entityType: 'approval_policy',
    entityId: c.legalEntity,
    correlationId: c.correlationId,
    eventKey: `approval-policy:${c.legalEntity}:r${revision}`,
    details: { revision, spec: c.spec, reason: c.reason },
  });
  return { outcome: 'changed', revision };
}

/** The owners of an entity's cost centers on a date (cost center → principals). */
export async function costCenterOwnersOn(
  db: DbOrTx,
  legalEntity: string,
  date: string,
): Promise<Record<string, string[]>> {
  const rows = (await db.execute(sql`
    select o.cost_center as "costCenter", o.principal
      from cost_center_owners o join cost_centers c on c.code = o.cost_center
     where c.legal_entity = ${legalEntity} and o.valid_from <= ${date}
       and (o.valid_to is null or o.valid_to > ${date})
     order by o.cost_center, o.principal`)) as unknown as { costCenter: string; principal: string }[];
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.costCenter] ??= []).push(r.principal);
  return out;
}

/**
 * Hands a cost center to new owners from a date: the standing owners' rows end there and the new ones
 * start, in one transaction with its audit row. Returns who owned it before.
 */
export async function changeCostCenterOwners(
  tx: Tx,
  c: {
    legalEntity: string;
    costCenter: string;
    owners: string[];
    from: string;
    reason: string;
    by: string;
    correlationId: string;
  },
): Promise<{ before: string[]; after: string[] }> {
  const ended = (await tx.execute(sql`
    update cost_center_owners set valid_to = ${c.from}
     where cost_center = ${c.costCenter} and (valid_to is null or valid_to > ${c.from})
       and valid_from < ${c.from}
    returning principal`)) as unknown as { principal: string }[];
  // Rows that would only have started on or after the date are replaced outright.
  await tx.execute(
    sql`delete from cost_center_owners where cost_center = ${c.costCenter} and valid_from >= ${c.from}`,
  );
  for (const principal of c.owners)
    await tx.execute(sql`
      insert into cost_center_owners (cost_center, principal, valid_from)
      values (${c.costCenter}, ${principal}, ${c.from})`);
  const before = ended.map((r) => r.principal).sort();
  await appendAudit(tx, {
    stream: auditStream.approvals(c.legalEntity),
    actor: c.by,
    action: 'cost_center.owners_changed',
    entityType: 'cost_center',
    entityId: c.costCenter,
    correlationId: c.correlationId,
    eventKey: `cost-center-owners:${c.costCenter}:${c.from}:${c.correlationId}`,
    details: { before, after: c.owners, from: c.from, reason: c.reason },
  });
  return { before, after: [...c.owners].sort() };
}

/** The owners of an entity's values of one dimension on a date (value → principals). */
export async function dimensionOwnersOn(
  db: DbOrTx,
  legalEntity: string,
  dimension: string,
  date: string,
): Promise<Record<string, string[]>> {
  if (dimension === 'costCenter') return costCenterOwnersOn(db, legalEntity, date);
  const rows = (await db.execute(sql`
    select code, principal from dimension_value_owners
     where legal_entity = ${legalEntity} and dimension = ${dimension} and valid_from <= ${date}
       and (valid_to is null or valid_to > ${date})
     order by code, principal`)) as unknown as { code: string; principal: string }[];
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.code] ??= []).push(r.principal);
  return out;
}

/**
 * Hands a value of any dimension to new owners from a date (a project to its new manager): the standing
 * owners' rows end there and the new ones start, in one transaction with its audit row.
 */
export async function changeDimensionOwners(
  tx: Tx,
  c: {
    legalEntity: string;
    dimension: string;
    code: string;
    owners: string[];
    from: string;
    reason: string;
    by: string;
    correlationId: string;
  },
): Promise<{ before: string[]; after: string[] }> {
  const which = sql`legal_entity = ${c.legalEntity} and dimension = ${c.dimension} and code = ${c.code}`;
  const ended = (await tx.execute(sql`
    update dimension_value_owners set valid_to = ${c.from}
     where ${which} and (valid_to is null or valid_to > ${c.from}) and valid_from < ${c.from}
    returning principal`)) as unknown as { principal: string }[];
  await tx.execute(sql`delete from dimension_value_owners where ${which} and valid_from >= ${c.from}`);
  for (const principal of c.owners)
    await tx.execute(sql`
      insert into dimension_value_owners (legal_entity, dimension, code, principal, valid_from)
      values (${c.legalEntity}, ${c.dimension}, ${c.code}, ${principal}, ${c.from})`);
  const before = ended.map((r) => r.principal).sort();
  await appendAudit(tx, {
    stream: auditStream.approvals(c.legalEntity),
    actor: c.by,
    action: 'dimension_value.owners_changed',
    entityType: 'dimension_value',
    entityId: `${c.dimension}:${c.code}`,
    correlationId: c.correlationId,
    eventKey: `dimension-owners:${c.legalEntity}:${c.dimension}:${c.code}:${c.from}:${c.correlationId}`,
    details: {
      dimension: c.dimension,
      code: c.code,
      before,
      after: c.owners,
      from: c.from,
      reason: c.reason,
    },
  });
  return { before, after: [...c.owners].sort() };
}

/**
 * What a dimension owners level routes on: the values of each dimension named that a version has lines on,
 * with their totals (lines without a value of it need no owner of it), and their owners on the date.
 */
export async function versionDimensionValues(
  db: DbOrTx,
  a: {
    versionId: string;
    legalEntity: string;
    currency: string;
    dimensions: readonly string[];
    date: string;
  },
) {
  const out: Record<
    string,
    {
      values: { value: string; total: { amount: string; currency: string } }[];
      owners: Record<string, string[]>;
    }
  > = {};
  for (const d of a.dimensions) {
    const rows = (await db.execute(sql`
      select dimensions->>${d} as value, sum(amount)::text as total from budget_lines
       where version_id = ${a.versionId}::uuid and dimensions ? ${d}
       group by 1 order by 1`)) as unknown as { value: string; total: string }[];
    out[d] = {
      values: rows.map((r) => ({
        value: r.value,
        total: { amount: fromMinor(toMinor(r.total, a.currency), a.currency), currency: a.currency },
      })),
      owners: await dimensionOwnersOn(db, a.legalEntity, d, a.date),
    };
  }
  return out;
}

/** First load of owners (the seed): rows already there are left as they are. */
export async function insertCostCenterOwners(
  db: DbOrTx,
  rows: { costCenter: string; principal: string; validFrom: string }[],
) {
  for (const r of rows)
    await db.execute(sql`
      insert into cost_center_owners (cost_center, principal, valid_from)
      values (${r.costCenter}, ${r.principal}, ${r.validFrom}) on conflict do nothing`);
}

/** First load of owners of other dimensions' values (the seed): rows already there are left as they are. */
export async function insertDimensionOwners(
  db: DbOrTx,
  rows: { legalEntity: string; dimension: string; code: string; principal: string; validFrom: string }[],
) {
  for (const r of rows)
    await db.execute(sql`
      insert into dimension_value_owners (legal_entity, dimension, code, principal, valid_from)
      values (${r.legalEntity}, ${r.dimension}, ${r.code}, ${r.principal}, ${r.validFrom}) on conflict do nothing`);
}

/** First load of a policy (the seed): only for an entity that has none yet. */
export async function insertInitialApprovalPolicy(
  db: DbOrTx,
  p: { legalEntity: string; spec: ApprovalPolicySpec; by: string; reason: string },
) {
  await db.execute(sql`
    insert into approval_policies (legal_entity, revision, spec, changed_by, reason)
    values (${p.legalEntity}, 1, ${JSON.stringify(p.spec)}::jsonb, ${p.by}, ${p.reason})
    on conflict do nothing`);
}

/** A version and the active budget it would replace (same entity, year and scenario): its route and review. */
async function versionBesideActive(db: DbOrTx, versionId: string) {
  const version = await getVersion(db, versionId);
  if (!version) return undefined;
  const [active] = await db
    .select()
    .from(budgetVersions)
    .where(
      and(
        eq(budgetVersions.legalEntity, version.legalEntity),
        eq(budgetVersions.fiscalYear, version.fiscalYear),
        eq(budgetVersions.scenario, version.scenario),
        eq(budgetVersions.status, 'active'),
        ne(budgetVersions.id, version.id),
      ),
    )
    .limit(1);
  return { version, active };
}

/** What a version's route is computed from: its total, the active budget's, and its cost centers' totals. */
export async function versionRoutingFigures(db: DbOrTx, versionId: string) {
  const found = await versionBesideActive(db, versionId);
  if (!found) return undefined;
  const { version, active } = found;
  const costCenters = (await db.execute(sql`
    select cost_center as "costCenter", sum(amount)::text as total from budget_lines
     where version_id = ${versionId} group by cost_center order by cost_center`)) as unknown as {
    costCenter: string;
    total: string;
  }[];
  return {
    legalEntity: version.legalEntity,
    currency: version.currency,
    total: version.totalAmount,
    // Totals in two currencies do not compare: the route then sees no active budget.
    activeTotal: active && active.currency === version.currency ? active.totalAmount : null,
    costCenters,
  };
}

const LEVEL_ACTION = {
  approve: 'approval.level_approved',
  reject: 'approval.level_rejected',
  send_back: 'approval.level_sent_back',
} as const;

/**
 * One approver's decision at the levels of a version's route it counted at, audited in the entity's budget
 * stream. Keyed by the cycle, the principal and the levels: a retry or a reset writes it once.
 */
export async function recordLevelDecision(
  tx: Tx,
  d: {
    versionId: string;
    legalEntity: string;
    cycleId: string;
    stage: number;
    levels: string[];
    decision: BudgetDecisionKind;
    principal: string;
    /** A delegate decided: the approver they acted for (both are recorded). */
    onBehalfOf?: string;
    comment?: string;
    decidedAt: string;
    correlationId: string;
  },
): Promise<boolean> {
  return appendAudit(tx, {
    stream: auditStream.budget(d.legalEntity),
    actor: d.principal,
    action: LEVEL_ACTION[d.decision],
    entityType: 'budget_version',
    entityId: d.versionId,
    correlationId: d.correlationId,
    eventKey: `level-decision:${d.cycleId}:s${d.stage}:${d.principal}:${d.levels.join(',')}`,
    details: {
      stage: d.stage,
      levels: d.levels,
      onBehalfOf: d.onBehalfOf,
      comment: d.comment,
      decidedAt: d.decidedAt,
    },
  });
}

export interface ReviewLine extends ReviewFigures {
  dimensions: Dimensions;
  currency: string;
}

/**
 * What an approver reviews: the version's lines summed per combination of its dimensions beside the active
 * budget of the same year and scenario (the version it would replace), the change absolute and in % of the
 * active budget, exact (minor units). `rows` are the same figures for grouping (domain/report-grouping).
 */
export async function versionReview(db: DbOrTx, versionId: string) {
  const found = await versionBesideActive(db, versionId);
  if (!found) return undefined;
  const activeVersionId = found.active?.id ?? null;
  const version = {
    legalEntity: found.version.legalEntity,
    fiscalYear: found.version.fiscalYear,
    activeVersionId,
    validationIssues: found.version.validationIssues,
    periodMoves: found.version.periodMoves as PeriodMove[],
  };
  const rows = compareFigures(
    await versionCombinations(db, versionId),
    activeVersionId ? await versionCombinations(db, activeVersionId) : [],
  );
  const lines: ReviewLine[] = rows
    .map((r) => ({ dimensions: r.dimensions, currency: r.currency, ...reviewFigures(r.figures, r.currency) }))
    .sort((a, b) => {
      const x = `${combinationKey(a.dimensions)}|${a.currency}`;
      const y = `${combinationKey(b.dimensions)}|${b.currency}`;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  return { version, lines, rows };
}

export interface Delegation {
  id: string;
  principal: string;
  delegate: string;
  validFrom: string;
  validTo: string;
  reason: string;
}

/** An approver hands their approvals to a delegate for a date range, audited in one transaction. */
export async function createDelegation(
  tx: Tx,
  d: Omit<Delegation, 'id'> & { correlationId: string },
): Promise<Delegation> {
  const [row] = (await tx.execute(sql`
    insert into approval_delegations (principal, delegate, valid_from, valid_to, reason)
    values (${d.principal}, ${d.delegate}, ${d.validFrom}, ${d.validTo}, ${d.reason})
    returning id, principal, delegate, valid_from::text as "validFrom", valid_to::text as "validTo", reason`)) as unknown as Delegation[];
  await appendAudit(tx, {
    stream: auditStream.delegations(),
    actor: d.principal,
    action: 'approval.delegated',
    entityType: 'delegation',
    entityId: row!.id,
    correlationId: d.correlationId,
    eventKey: `delegation:${row!.id}`,
    details: { delegate: d.delegate, validFrom: d.validFrom, validTo: d.validTo, reason: d.reason },
  });
  return row!;
}

/** Delegations in force on a date: principal → their delegates. */
export async function delegationsOn(db: DbOrTx, date: string): Promise<Record<string, string[]>> {
  const rows = (await db.execute(sql`
    select principal, delegate from approval_delegations
     where revoked_at is null and valid_from <= ${date} and valid_to > ${date}
     order by principal, delegate`)) as unknown as { principal: string; delegate: string }[];
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.principal] ??= []).push(r.delegate);
  return out;
}

/** A principal's delegations, given and received, that have not ended. */
export async function delegationsOf(db: DbOrTx, principal: string, today: string) {
  return (await db.execute(sql`
    select id, principal, delegate, valid_from::text as "validFrom", valid_to::text as "validTo", reason
      from approval_delegations
     where revoked_at is null and valid_to > ${today} and (principal = ${principal} or delegate = ${principal})
     order by valid_from`)) as unknown as Delegation[];
}

/**
 * The approver ends a delegation early (back in the office): only their own, only once. Undefined when
 * there is no such delegation in force for them.
 */
export async function revokeDelegation(
  tx: Tx,
  r: { id: string; principal: string; correlationId: string },
): Promise<Delegation | undefined> {
  const [row] = (await tx.execute(sql`
    update approval_delegations set revoked_at = now()
     where id = ${r.id} and principal = ${r.principal} and revoked_at is null
    returning id, principal, delegate, valid_from::text as "validFrom", valid_to::text as "validTo", reason`)) as unknown as Delegation[];
  if (!row) return undefined;
  await appendAudit(tx, {
    stream: auditStream.delegations(),
    actor: r.principal,
    action: 'approval.delegation_revoked',
    entityType: 'delegation',
    entityId: row.id,
    correlationId: r.correlationId,
    eventKey: `delegation-revoked:${row.id}`,
    details: { delegate: row.delegate, validFrom: row.validFrom, validTo: row.validTo },
  });
  return row;
}
