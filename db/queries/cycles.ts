import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type BudgetVersionRef } from '../../domain/model';
import { type DbOrTx, type Tx } from '../client';
import { budgetCycles } from '../schema';
import { appendAudit } from './audit';

export type BudgetCycleRow = typeof budgetCycles.$inferSelect;

export interface CycleRegistration {
  cycleId: string;
  ref: BudgetVersionRef;
  revision: number;
  correlationId: string;
  startedBy: string;
}

export type RegisterOutcome =
  | { registered: true; cycle: BudgetCycleRow }
  | { registered: false; reason: 'revision_taken'; existing: BudgetCycleRow }
  | { registered: false; reason: 'cycle_open'; open: BudgetCycleRow };

const ofVersion = (ref: BudgetVersionRef) =>
  and(
    eq(budgetCycles.legalEntity, ref.legalEntity),
    eq(budgetCycles.fiscalYear, ref.fiscalYear),
    eq(budgetCycles.scenario, ref.scenario),
    eq(budgetCycles.versionNumber, ref.version),
  );

export async function getCycle(db: DbOrTx, cycleId: string) {
  const [row] = await db.select().from(budgetCycles).where(eq(budgetCycles.cycleId, cycleId));
  return row;
}

export function cyclesOfVersion(db: DbOrTx, ref: BudgetVersionRef) {
  return db.select().from(budgetCycles).where(ofVersion(ref)).orderBy(asc(budgetCycles.revision));
}

/** Why a registration was refused: the revision exists already, or another cycle of the version is open. */
async function explainRefusal(tx: Tx, c: CycleRegistration, reopening = false): Promise<RegisterOutcome> {
  const [existing] = reopening
    ? []
    : await tx
        .select()
        .from(budgetCycles)
        .where(and(ofVersion(c.ref), eq(budgetCycles.revision, c.revision)));
  if (existing) return { registered: false, reason: 'revision_taken', existing };
  const [open] = await tx
    .select()
    .from(budgetCycles)
    .where(and(ofVersion(c.ref), isNull(budgetCycles.closedAt)));
  return { registered: false, reason: 'cycle_open', open: open! };
}

/**
 * Registers a cycle before its workflow starts. The insert decides: a revision starts once, and a version
 * has at most one open cycle (a partial unique index), whoever races.
 */
export async function registerCycle(tx: Tx, c: CycleRegistration): Promise<RegisterOutcome> {
  const [cycle] = await tx
    .insert(budgetCycles)
    .values({
      cycleId: c.cycleId,
      legalEntity: c.ref.legalEntity,
      fiscalYear: c.ref.fiscalYear,
      scenario: c.ref.scenario,
      versionNumber: c.ref.version,
      revision: c.revision,
      correlationId: c.correlationId,
      startedBy: c.startedBy,
    })
    .onConflictDoNothing()
    .returning();
  if (!cycle) return explainRefusal(tx, c);
  await appendAudit(tx, {
    stream: auditStream.budget(c.ref.legalEntity),
    actor: c.startedBy,
    action: 'budget_cycle.started',
    entityType: 'budget_cycle',
    entityId: c.cycleId,
    correlationId: c.correlationId,
    eventKey: `cycle-started:${c.cycleId}:${c.correlationId}`,
    details: { ref: c.ref, revision: c.revision },
  });
  return { registered: true, cycle };
}

/**
 * The workflow's own claim on its cycle row: registers it when the workflow was started some other way
 * (Temporal UI, CLI), and reopens it when a Temporal UI reset runs a closed cycle again. Refused (false)
 * while another cycle of the same version is open.
 */
export async function openCycle(tx: Tx, c: CycleRegistration): Promise<RegisterOutcome> {
  const existing = await getCycle(tx, c.cycleId);
  if (!existing) {
    const registered = await registerCycle(tx, c);
    // The API registered it in a transaction that committed while this one waited: it is ours.
    if (
      !registered.registered &&
      registered.reason === 'revision_taken' &&
      registered.existing.cycleId === c.cycleId
    )
      return { registered: true, cycle: registered.existing };
    return registered;
  }
  if (!existing.closedAt) return { registered: true, cycle: existing };
  const [reopened] = await tx
    .update(budgetCycles)
    .set({ closedAt: null, outcome: null })
    .where(
      and(
        eq(budgetCycles.cycleId, c.cycleId),
        sql`not exists (select 1 from ${budgetCycles} o
                         where o.legal_entity = ${c.ref.legalEntity} and o.fiscal_year = ${c.ref.fiscalYear}
                           and o.scenario = ${c.ref.scenario} and o.version_number = ${c.ref.version}
                           and o.closed_at is null and o.cycle_id <> ${c.cycleId})`,
      ),
    )
    .returning();
  if (!reopened) return explainRefusal(tx, c, true);
  await appendAudit(tx, {
    stream: auditStream.budget(c.ref.legalEntity),
    actor: 'closeloop',
    action: 'budget_cycle.reopened',
    entityType: 'budget_cycle',
    entityId: c.cycleId,
    correlationId: c.correlationId,
    eventKey: `cycle-reopened:${c.cycleId}:${existing.closedAt.toISOString()}`,
    details: { previousOutcome: existing.outcome },
  });
  return { registered: true, cycle: reopened };
}

/** The cycle ended (completed, rejected, expired, superseded, failed, terminated): its version may go again. */
export async function closeCycle(
  tx: Tx,
  c: { cycleId: string; outcome: string; legalEntity: string; correlationId: string },
): Promise<boolean> {
  const rows = await tx
    .update(budgetCycles)
    .set({ closedAt: new Date(), outcome: c.outcome })
    .where(and(eq(budgetCycles.cycleId, c.cycleId), isNull(budgetCycles.closedAt)))
    .returning({ closedAt: budgetCycles.closedAt });
  if (!rows.length) return false;
  await appendAudit(tx, {
    stream: auditStream.budget(c.legalEntity),
    actor: 'closeloop',
    action: 'budget_cycle.closed',
    entityType: 'budget_cycle',
    entityId: c.cycleId,
    correlationId: c.correlationId,
    eventKey: `cycle-closed:${c.cycleId}:${rows[0]!.closedAt!.toISOString()}`,
    details: { outcome: c.outcome },
  });
  return true;
}

/**
 * A decision that was refused (by the API's update or by a signal): nothing changes but the record that it
 * was asked for, by whom, and why it was refused.
 */
export async function recordRefusedDecision(
  tx: Tx,
  r: {
    cycle: Pick<BudgetCycleRow, 'cycleId' | 'legalEntity' | 'correlationId'>;
    principal: string;
    via: 'api' | 'signal';
    request: Record<string, unknown>;
    code: string;
    reason: string;
    /** Identifies this refusal, so a retried write records it once. */
    eventId: string;
  },
): Promise<boolean> {
  return appendAudit(tx, {
    stream: auditStream.budget(r.cycle.legalEntity),
    actor: r.principal,
    action: r.via === 'api' ? 'budget_cycle.decision_refused' : 'budget_cycle.signal_refused',
    entityType: 'budget_cycle',
    entityId: r.cycle.cycleId,
    correlationId: r.cycle.correlationId,
    eventKey: `refused:${r.cycle.cycleId}:${r.via}:${r.eventId}`,
    details: { request: r.request, code: r.code, reason: r.reason },
  });
}

/** The cycles still open (their workflow has not closed them), newest first: an inbox's candidates. */
export function openCycles(db: DbOrTx, legalEntity?: string) {
  return db
    .select()
    .from(budgetCycles)
    .where(
      legalEntity
        ? and(isNull(budgetCycles.closedAt), eq(budgetCycles.legalEntity, legalEntity))
        : isNull(budgetCycles.closedAt),
    )
    .orderBy(desc(budgetCycles.startedAt))
    .limit(500);
}
