import { insertRecordset } from './bulk-insert';
import { and, asc, desc, eq, inArray, isNotNull, lt, ne, sql } from 'drizzle-orm';
import { type BudgetDecisionKind } from '../../domain/approval';
import { type LineIssue, type PeriodMove } from '../../domain/budget-validation';
import { auditStream, versionKey } from '../../domain/identity';
import { type BudgetLine, type BudgetVersionRef, DEFAULT_CONTROL_SCENARIO } from '../../domain/model';
import { type BudgetVersionStatus, VersionStep } from '../../domain/version-lifecycle';
import { type DbOrTx, type Tx } from '../client';
import { budgetLines, budgetVersions, publications } from '../schema';
import { appendAudit } from './audit';
import { activateVersionBudget } from './balances';
import { lockControlScenario } from './control-scenarios';

export type BudgetVersionRow = typeof budgetVersions.$inferSelect;
export type BudgetLineRow = typeof budgetLines.$inferSelect;

export async function findVersion(db: DbOrTx, ref: BudgetVersionRef) {
  const [row] = await db
    .select()
    .from(budgetVersions)
    .where(
      and(
        eq(budgetVersions.legalEntity, ref.legalEntity),
        eq(budgetVersions.fiscalYear, ref.fiscalYear),
        eq(budgetVersions.scenario, ref.scenario),
        eq(budgetVersions.versionNumber, ref.version),
      ),
    );
  return row;
}

/**
 * The version in control of an entity's budget for a fiscal year, if any: the active version of the scenario
 * in control of the year (at most one is active per scenario), or of `scenario` when one is named.
 */
export async function activeVersionOf(
  db: DbOrTx,
  legalEntity: string,
  fiscalYear: number,
  scenario?: string,
) {
  const [row] = await db
    .select()
    .from(budgetVersions)
    .where(
      and(
        eq(budgetVersions.legalEntity, legalEntity),
        eq(budgetVersions.fiscalYear, fiscalYear),
        eq(
          budgetVersions.scenario,
          scenario ??
            sql`coalesce((select c.scenario from control_scenarios c
                           where c.legal_entity = ${legalEntity} and c.fiscal_year = ${fiscalYear}),
                         ${DEFAULT_CONTROL_SCENARIO})`,
        ),
        eq(budgetVersions.status, 'active'),
      ),
    );
  return row;
}

export async function getVersion(db: DbOrTx, versionId: string) {
  const [row] = await db.select().from(budgetVersions).where(eq(budgetVersions.id, versionId));
  return row;
}

export function versionRef(v: BudgetVersionRow): BudgetVersionRef {
  return {
    legalEntity: v.legalEntity,
    fiscalYear: v.fiscalYear,
    scenario: v.scenario,
    version: v.versionNumber,
  };
}

export async function versionLines(db: DbOrTx, versionId: string, range?: { from: number; to: number }) {
  const where = range
    ? and(
        eq(budgetLines.versionId, versionId),
        sql`${budgetLines.lineNo} between ${range.from} and ${range.to}`,
      )
    : eq(budgetLines.versionId, versionId);
  return db.select().from(budgetLines).where(where).orderBy(asc(budgetLines.lineNo));
}

/** The periods a version has lines in, in order. */
export async function versionPeriods(db: DbOrTx, versionId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ period: budgetLines.period })
    .from(budgetLines)
    .where(eq(budgetLines.versionId, versionId))
    .orderBy(asc(budgetLines.period));
  return rows.map((r) => r.period);
}

/** Version totals by period and account, summed in the database (numeric, exact). */
export async function versionTotalsByPeriodAccount(db: DbOrTx, versionId: string) {
  return db
    .select({
      period: budgetLines.period,
      account: budgetLines.account,
      amount: sql<string>`sum(${budgetLines.amount})::text`,
    })
    .from(budgetLines)
    .where(eq(budgetLines.versionId, versionId))
    .groupBy(budgetLines.period, budgetLines.account);
}

// ── The budget a version belongs to ───────────────────────────────────────────────────────────────────

type Family = Pick<BudgetVersionRow, 'legalEntity' | 'fiscalYear' | 'scenario'>;

const sameBudget = (v: Family) =>
  and(
    eq(budgetVersions.legalEntity, v.legalEntity),
    eq(budgetVersions.fiscalYear, v.fiscalYear),
    eq(budgetVersions.scenario, v.scenario),
  );

/**
 * Row-locks every version of the budget (entity, fiscal year, scenario) in a stable order, so lifecycle steps
 * that depend on the siblings (claiming publication, activation) run one at a time per budget and each sees
 * what the previous one committed.
 */
async function lockBudget(tx: Tx, v: Family): Promise<void> {
  await tx
    .select({ id: budgetVersions.id })
    .from(budgetVersions)
    .where(sameBudget(v))
    .orderBy(asc(budgetVersions.id))
    .for('update');
}

/** The newest version of the budget that has ever been activated (and so was the control budget). */
async function newestActivated(db: DbOrTx, v: Family) {
  const [row] = await db
    .select()
    .from(budgetVersions)
    .where(and(sameBudget(v), isNotNull(budgetVersions.activatedAt)))
    .orderBy(desc(budgetVersions.versionNumber))
    .limit(1);
  return row;
}

const noNewerActivated = (
  v: Pick<BudgetVersionRow, 'legalEntity' | 'fiscalYear' | 'scenario' | 'versionNumber'>,
) =>
  sql`not exists (select 1 from ${budgetVersions} n
                   where n.legal_entity = ${v.legalEntity} and n.fiscal_year = ${v.fiscalYear}
                     and n.scenario = ${v.scenario} and n.version_number > ${v.versionNumber}
                     and n.activated_at is not null)`;

const statusIn = (statuses: readonly BudgetVersionStatus[]) => inArray(budgetVersions.status, [...statuses]);
const includesStatus = (statuses: readonly BudgetVersionStatus[], status: BudgetVersionStatus) =>
  statuses.includes(status);

function budgetAudit(
  tx: Tx,
  v: Pick<BudgetVersionRow, 'id' | 'legalEntity'>,
  e: {
    actor?: string;
    action: string;
    correlationId: string;
    eventKey: string;
    details: Record<string, unknown>;
  },
) {
  return appendAudit(tx, {
    stream: auditStream.budget(v.legalEntity),
    actor: e.actor ?? 'closeloop',
    action: e.action,
    entityType: 'budget_version',
    entityId: v.id,
    correlationId: e.correlationId,
    eventKey: e.eventKey,
    details: e.details,
  });
}

// ── Plan ──────────────────────────────────────────────────────────────────────────────────────────────

export interface ImportedContent {
  ref: BudgetVersionRef;
  currency: string;
  sourceSystem: string;
  contentHash: string;
  lineCount: number;
  totalAmount: string;
  issues: LineIssue[];
  /** Changes to closed periods moved to the next open one (the lines carry them). */
  moves: PeriodMove[];
  lines: BudgetLine[];
  submittedBy: string;
  correlationId: string;
}

/** What an import's audit entry records about the content it stored. */
const contentDetails = (c: ImportedContent) => ({
  lineCount: c.lineCount,
  total: { amount: c.totalAmount, currency: c.currency },
  issueCount: c.issues.length,
  contentHash: c.contentHash,
  ...(c.moves.length ? { periodMoves: c.moves } : {}),
});

async function insertLines(tx: Tx, versionId: string, lines: readonly BudgetLine[]) {
  await insertRecordset(
    tx,
    'budget_lines',
    LINE_COLUMNS,
    lines.map((l) => ({
      version_id: versionId,
      line_no: l.lineNo,
      dimensions: l.dimensions,
      period: l.period,
      amount: l.amount.amount,
      currency: l.amount.currency,
    })),
  );
}

/** A stored line's columns (account and cost center are generated from its dimensions). */
const LINE_COLUMNS = {
  version_id: 'uuid',
  line_no: 'int',
  dimensions: 'jsonb',
  period: 'text',
  amount: 'numeric',
  currency: 'text',
};

/**
 * Stores a newly imported version with its lines and verdict. Returns undefined when the version already
 * exists (the caller decides what a re-import means); the insert itself decides, never a prior read.
 */
export async function insertImportedVersion(
  tx: Tx,
  c: ImportedContent,
): Promise<BudgetVersionRow | undefined> {
  const [version] = await tx
    .insert(budgetVersions)
    .values({
      legalEntity: c.ref.legalEntity,
      fiscalYear: c.ref.fiscalYear,
      scenario: c.ref.scenario,
      versionNumber: c.ref.version,
      currency: c.currency,
      sourceSystem: c.sourceSystem,
      status: c.issues.length ? 'invalid' : 'awaiting_approval',
      contentHash: c.contentHash,
      lineCount: c.lineCount,
      totalAmount: c.totalAmount,
      validationIssues: c.issues,
      periodMoves: c.moves,
      submittedBy: c.submittedBy,
      correlationId: c.correlationId,
    })
    .onConflictDoNothing()
    .returning();
  if (!version) return undefined;
  await insertLines(tx, version.id, c.lines);
  await budgetAudit(tx, version, {
    actor: c.submittedBy,
    action: c.issues.length ? 'budget_version.rejected_by_validation' : 'budget_version.imported',
    correlationId: c.correlationId,
    eventKey: `import:${versionKey(c.ref)}`,
    details: { ref: c.ref, source: c.sourceSystem, ...contentDetails(c) },
  });
  return version;
}

/**
 * A new cycle revision of a version that did not pass (invalid, rejected, expired): its content as the
 * planning platform now holds it is validated and stored again, and it waits for a fresh decision. Returns
 * the updated version, or undefined when the version is not in a status that can be resubmitted.
 */
export async function resubmitVersion(
  tx: Tx,
  versionId: string,
  c: ImportedContent & { cycleId: string },
): Promise<BudgetVersionRow | undefined> {
  const [version] = await tx
    .update(budgetVersions)
    .set({
      status: c.issues.length ? 'invalid' : 'awaiting_approval',
      contentHash: c.contentHash,
      lineCount: c.lineCount,
      totalAmount: c.totalAmount,
      validationIssues: c.issues,
      periodMoves: c.moves,
      submittedBy: c.submittedBy,
      correlationId: c.correlationId,
      decidedBy: null,
      decidedOnBehalfOf: null,
      decidedAt: null,
      decisionComment: null,
    })
    .where(and(eq(budgetVersions.id, versionId), statusIn(VersionStep.resubmit.from)))
    .returning();
  if (!version) return undefined;
  await tx.delete(budgetLines).where(eq(budgetLines.versionId, versionId));
  await insertLines(tx, versionId, c.lines);
  await budgetAudit(tx, version, {
    actor: c.submittedBy,
    action: c.issues.length ? 'budget_version.resubmitted_invalid' : 'budget_version.resubmitted',
    correlationId: c.correlationId,
    eventKey: `resubmit:${c.cycleId}`,
    details: { cycleId: c.cycleId, ...contentDetails(c) },
  });
  return version;
}

// ── Authorize ─────────────────────────────────────────────────────────────────────────────────────────

export type DecisionOutcome =
  | { outcome: 'recorded' | 'already_recorded' }
  | { outcome: 'refused'; status: BudgetVersionStatus; decidedBy: string | null };

/** Records an approval or rejection; only a version awaiting approval takes one. */
const NOT_APPROVED: readonly BudgetVersionStatus[] = [
  'invalid',
  'awaiting_approval',
  'rejected',
  'sent_back',
  'expired',
];
const DECIDED_STATUS = { approve: 'approved', reject: 'rejected', send_back: 'sent_back' } as const;

export async function recordDecision(
  tx: Tx,
  d: {
    versionId: string;
    decision: BudgetDecisionKind;
    principal: string;
    /** Set when a delegate decided: the approver they decided for. */
    onBehalfOf?: string;
    comment?: string;
    decidedAt: Date;
    correlationId: string;
  },
): Promise<DecisionOutcome> {
  const status = DECIDED_STATUS[d.decision];
  const [version] = await tx
    .update(budgetVersions)
    .set({
      status,
      decidedBy: d.principal,
      decidedOnBehalfOf: d.onBehalfOf ?? null,
      decidedAt: d.decidedAt,
      decisionComment: d.comment ?? null,
    })
    .where(and(eq(budgetVersions.id, d.versionId), statusIn(VersionStep.decide.from)))
    .returning();
  if (version) {
    await budgetAudit(tx, version, {
      actor: d.principal,
      action: `budget_version.${status}`,
      correlationId: d.correlationId,
      eventKey: `decision:${d.versionId}:${d.correlationId}`,
      details: {
        decision: d.decision,
        ...(d.onBehalfOf ? { onBehalfOf: d.onBehalfOf } : {}),
        comment: d.comment,
        submittedBy: version.submittedBy,
      },
    });
    return { outcome: 'recorded' };
  }
  const current = await getVersion(tx, d.versionId);
  if (!current) return { outcome: 'refused', status: 'invalid', decidedBy: null };
  // A retry, or a Temporal UI reset replaying the decision: the same decision again changes nothing.
  const same =
    current.decidedBy === d.principal &&
    (d.decision === 'approve' ? !NOT_APPROVED.includes(current.status) : current.status === status);
  return same
    ? { outcome: 'already_recorded' }
    : { outcome: 'refused', status: current.status, decidedBy: current.decidedBy };
}

/** The approval window passed: escalation is recorded; expiry moves a version still awaiting approval. */
export async function recordApprovalTimeout(
  tx: Tx,
  t: { versionId: string; kind: 'escalated' | 'expired'; correlationId: string; escalateTo: string[] },
): Promise<boolean> {
  const version =
    t.kind === 'expired'
      ? (
          await tx
            .update(budgetVersions)
            .set({ status: 'expired' })
            .where(and(eq(budgetVersions.id, t.versionId), statusIn(VersionStep.expire.from)))
            .returning()
        )[0]
      : await getVersion(tx, t.versionId);
  if (!version) return false;
  await budgetAudit(tx, version, {
    action: `budget_version.approval_${t.kind}`,
    correlationId: t.correlationId,
    eventKey: `approval-${t.kind}:${t.versionId}:${t.correlationId}`,
    details: { escalateTo: t.escalateTo },
  });
  return true;
}

// ── Execute ───────────────────────────────────────────────────────────────────────────────────────────

export type PublicationClaim =
  | { claimed: true; alreadyPublished: boolean }
  | { claimed: false; status: BudgetVersionStatus; newerActive?: number }
  /** Another version of the budget is publishing: this one waits its turn (it claimed nothing). */
  | { claimed: false; status: BudgetVersionStatus; waitingFor: { versionNumber: number; status: string } };

/**
 * The right to publish, decided by the database: an approved version may publish only while no newer
 * version of its budget has been activated. A version already published (a later cycle, or a reset run)
 * resumes after publication and posts nothing. The versions of one budget publish one at a time: a revision
 * posts its differences from what the budget holds, so it waits while another version still publishing
 * (and not yet active) could change that.
 */
export async function claimPublication(
  tx: Tx,
  c: { versionId: string; correlationId: string },
): Promise<PublicationClaim> {
  const current = await getVersion(tx, c.versionId);
  if (!current) return { claimed: false, status: 'invalid' };
  await lockBudget(tx, current);
  if (includesStatus(VersionStep.claimPublication.from, current.status) && current.status !== 'publishing') {
    const [busy] = await tx
      .select({ versionNumber: budgetVersions.versionNumber, status: budgetVersions.status })
      .from(budgetVersions)
      .where(
        and(
          sameBudget(current),
          ne(budgetVersions.id, current.id),
          inArray(budgetVersions.status, ['publishing', 'published']),
          sql`not exists (select 1 from ${budgetVersions} n
                           where n.legal_entity = ${budgetVersions.legalEntity} and n.fiscal_year = ${budgetVersions.fiscalYear}
                             and n.scenario = ${budgetVersions.scenario} and n.version_number > ${budgetVersions.versionNumber}
                             and n.activated_at is not null)`,
        ),
      )
      .orderBy(asc(budgetVersions.versionNumber))
      .limit(1);
    if (busy) return { claimed: false, status: current.status, waitingFor: busy };
  }
  const [claimed] = await tx
    .update(budgetVersions)
    .set({ status: 'publishing' })
    .where(
      and(
        eq(budgetVersions.id, c.versionId),
        statusIn(VersionStep.claimPublication.from),
        noNewerActivated(current),
      ),
    )
    .returning();
  if (claimed) return { claimed: true, alreadyPublished: false };
  const [resumed] = await tx
    .select()
    .from(budgetVersions)
    .where(
      and(eq(budgetVersions.id, c.versionId), statusIn(['published', 'active']), noNewerActivated(current)),
    );
  if (resumed) return { claimed: true, alreadyPublished: true };
  const newer = await newestActivated(tx, current);
  const newerActive = newer && newer.versionNumber > current.versionNumber ? newer.versionNumber : undefined;
  // Overtaken before it could publish: it never will, so it is superseded now, not left looking approved.
  if (newerActive !== undefined)
    await withdrawVersion(tx, {
      versionId: c.versionId,
      correlationId: c.correlationId,
      reason: `version ${newerActive} of this budget was activated first`,
    });
  return { claimed: false, status: (await getVersion(tx, c.versionId))!.status, newerActive };
}

export async function markVersionPublicationFailed(tx: Tx, versionId: string): Promise<boolean> {
  const rows = await tx
    .update(budgetVersions)
    .set({ status: 'publication_failed' })
    .where(and(eq(budgetVersions.id, versionId), statusIn(VersionStep.failPublication.from)))
    .returning({ id: budgetVersions.id });
  return rows.length > 0;
}

/**
 * The version becomes its budget's active one when its status is one of `from` and no newer version of the
 * budget was activated (under the budget's row locks, taken by the caller); otherwise why not.
 */
async function markActive(
  tx: Tx,
  current: BudgetVersionRow,
  from: readonly BudgetVersionStatus[],
): Promise<{ version: BudgetVersionRow } | { status: BudgetVersionStatus; newerActive?: number }> {
  const [version] = await tx
    .update(budgetVersions)
    .set({ status: 'active', activatedAt: sql`coalesce(${budgetVersions.activatedAt}, now())` })
    .where(and(eq(budgetVersions.id, current.id), statusIn(from), noNewerActivated(current)))
    .returning();
  if (version) return { version };
  const after = (await getVersion(tx, current.id))!;
  const newer = await newestActivated(tx, current);
  return {
    status: after.status,
    newerActive: newer && newer.versionNumber > current.versionNumber ? newer.versionNumber : undefined,
  };
}

export type Activation =
  | { activated: true; superseded: { id: string; versionNumber: number }[] }
  | { activated: false; status: BudgetVersionStatus; newerActive?: number };

/**
 * Makes a published version the control budget, decided by the database under the budget's row locks:
 * refused when a newer version has been activated (a reset or a late cycle never overrules it). Older
 * approved versions are superseded in the same transaction; their ERP postings are reversed afterwards.
 */
export async function activateVersion(
  tx: Tx,
  a: { versionId: string; correlationId: string; periods: string[]; controlLevel: string },
): Promise<Activation> {
  const current = await getVersion(tx, a.versionId);
  if (!current) return { activated: false, status: 'invalid' };
  await lockBudget(tx, current);
  const marked = await markActive(tx, current, VersionStep.activate.from);
  if (!('version' in marked)) return { activated: false, ...marked };
  const { version } = marked;
  const superseded = await supersedeOlder(tx, version, a.correlationId);
  await activateVersionBudget(tx, { id: version.id, legalEntity: version.legalEntity, periods: a.periods });
  await budgetAudit(tx, version, {
    action: 'budget_version.activated',
    correlationId: a.correlationId,
    eventKey: `activated:${version.id}`,
    details: {
      legalEntity: version.legalEntity,
      fiscalYear: version.fiscalYear,
      controlLevel: a.controlLevel,
      superseded: superseded.map((s) => s.versionNumber),
    },
  });
  return { activated: true, superseded };
}

/** Supersedes the budget's older approved versions in favour of `version` (same transaction), audited. */
async function supersedeOlder(tx: Tx, version: BudgetVersionRow, correlationId: string) {
  const superseded = await tx
    .update(budgetVersions)
    .set({ status: 'superseded', supersededBy: version.id })
    .where(
      and(
        sameBudget(version),
        lt(budgetVersions.versionNumber, version.versionNumber),
        statusIn(VersionStep.supersede.from),
      ),
    )
    .returning({ id: budgetVersions.id, versionNumber: budgetVersions.versionNumber });
  for (const s of superseded) {
    await budgetAudit(
      tx,
      { id: s.id, legalEntity: version.legalEntity },
      {
        action: 'budget_version.superseded',
        correlationId: correlationId,
        eventKey: `superseded:${s.id}`,
        details: { supersededBy: version.id, versionNumber: version.versionNumber },
      },
    );
  }
  return superseded;
}

export type Keeping =
  | { inControl: true; controlScenario: string }
  | {
      inControl: false;
      controlScenario: string;
      /** It is now its scenario's active version (also when an earlier attempt already made it so). */
      kept: boolean;
      status: BudgetVersionStatus;
      newerActive?: number;
      superseded: number[];
    };

/**
 * After approval, the database says which way a version goes. Its scenario in control of the year: nothing
 * happens here, it publishes. Any other scenario: it becomes that scenario's active version, superseding the
 * older ones, with nothing posted to an ERP and nothing loaded into budget control; refused when a newer
 * version of the scenario was kept first. Holds the year's control lock, so a change of control never
 * crosses it (db/queries/control-scenarios).
 */
export async function keepOutOfControl(
  tx: Tx,
  k: { versionId: string; correlationId: string },
): Promise<Keeping | undefined> {
  const current = await getVersion(tx, k.versionId);
  if (!current) return undefined;
  const controlScenario = await lockControlScenario(tx, current.legalEntity, current.fiscalYear);
  if (current.scenario === controlScenario) return { inControl: true, controlScenario };
  await lockBudget(tx, current);
  const marked = await markActive(tx, current, VersionStep.keep.from);
  if (!('version' in marked))
    return { inControl: false, controlScenario, kept: marked.status === 'active', ...marked, superseded: [] };
  const { version } = marked;
  const superseded = await supersedeOlder(tx, version, k.correlationId);
  await budgetAudit(tx, version, {
    action: 'budget_version.kept',
    correlationId: k.correlationId,
    eventKey: `kept:${version.id}`,
    details: {
      scenario: version.scenario,
      controlScenario,
      superseded: superseded.map((s) => s.versionNumber),
    },
  });
  return {
    inControl: false,
    controlScenario,
    kept: true,
    status: 'active',
    superseded: superseded.map((s) => s.versionNumber),
  };
}

/**
 * A version overtaken by a newer activated one before it became active: it is superseded (never published
 * further, never activated). Returns false when it is in no status that can be withdrawn.
 */
export async function withdrawVersion(
  tx: Tx,
  w: { versionId: string; correlationId: string; reason: string },
): Promise<boolean> {
  const [version] = await tx
    .update(budgetVersions)
    .set({ status: 'superseded' })
    .where(and(eq(budgetVersions.id, w.versionId), statusIn(VersionStep.supersede.from)))
    .returning();
  if (!version) return false;
  await budgetAudit(tx, version, {
    action: 'budget_version.withdrawn',
    correlationId: w.correlationId,
    eventKey: `withdrawn:${version.id}`,
    details: { reason: w.reason },
  });
  return true;
}

/** Publications still standing in an ERP for older, superseded versions of the same budget. */
export async function publicationsOfSupersededVersions(db: DbOrTx, versionId: string) {
  const version = await getVersion(db, versionId);
  if (!version) return [];
  return db
    .select({ publication: publications })
    .from(publications)
    .innerJoin(budgetVersions, eq(publications.versionId, budgetVersions.id))
    .where(
      and(
        sameBudget(version),
        lt(budgetVersions.versionNumber, version.versionNumber),
        eq(budgetVersions.status, 'superseded'),
        inArray(publications.status, ['published']),
      ),
    )
    .then((rows) => rows.map((r) => r.publication));
}
