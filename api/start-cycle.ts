import { randomUUID } from 'node:crypto';
import {
  type Client,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { type Duration } from '@temporalio/common';
import { type Config } from '../config';
import { type Database, type Tx } from '../db/client';
import { closeCycle, cyclesOfVersion, registerCycle, type RegisterOutcome } from '../db/queries/cycles';
import { findPeriod, fiscalYearPeriods, getLegalEntity } from '../db/queries/reference';
import { budgetCycleWorkflowId, versionKey } from '../domain/identity';
import { type BudgetVersionRef, type Principal } from '../domain/model';
import { type FieldIssue } from '../domain/zod-issues';
import { type budgetCycle } from '../workflows/budget-cycle';
import { type BudgetCycleInput } from '../workflows/budget-cycle-state';
import { SearchAttributes } from '../workflows/definitions';
import { HttpError } from './errors';
import { unknownReference } from './references';

export interface StartCycleRequest {
  ref: BudgetVersionRef;
  /** The cycle's revision: 1 for a version's first trip, 2, 3… to go round again on purpose. */
  revision?: number;
  asOfPeriod?: string;
  approvalTimeout?: string;
  escalationTimeout?: string;
  reminderInterval?: string;
  chunkSize?: number;
  correlationId?: string;
}

/** Approvers and integration admins come from configuration: the roster a signal's principal is checked against. */
export function approvalRoster(config: Config) {
  const approvers: string[] = [];
  const integrationAdmins: string[] = [];
  for (const p of config.api.keys.values()) {
    if (p.role === 'approver' || p.role === 'controller') approvers.push(p.id);
    if (p.role === 'integration_admin') integrationAdmins.push(p.id);
  }
  return { approvers, integrationAdmins };
}

export function buildCycleInput(
  config: Config,
  request: StartCycleRequest,
  submitter: Principal,
): BudgetCycleInput {
  const { ref } = request;
  return {
    ref,
    revision: request.revision ?? 1,
    submittedBy: submitter.id,
    correlationId: request.correlationId ?? randomUUID(),
    approval: {
      ...approvalRoster(config),
      timeout: (request.approvalTimeout ?? config.cycle.approvalTimeout) as Duration,
      escalationTimeout: (request.escalationTimeout ?? config.cycle.escalationTimeout) as Duration,
      reminderInterval: (request.reminderInterval ?? config.cycle.reminderInterval) as Duration,
    },
    publication: { chunkSize: request.chunkSize ?? config.cycle.chunkSize },
    // By default the forecast is as of the last period of the year before: nothing has elapsed yet.
    reforecast: { asOfPeriod: request.asOfPeriod ?? `${ref.fiscalYear - 1}-12` },
  };
}

/**
 * Every reference in a start request must exist in the database before anything is started: the legal
 * entity (and active), its fiscal year in its calendar, and the forecast's as-of period. All unknown ones
 * are named at once.
 */
export async function checkStartReferences(db: Database, input: BudgetCycleInput): Promise<void> {
  const { ref } = input;
  const issues: FieldIssue[] = [];
  const entity = await getLegalEntity(db, ref.legalEntity);
  if (!entity)
    issues.push({
      field: 'legalEntity',
      message: `${ref.legalEntity} is not a legal entity closeloop knows`,
    });
  else if (!entity.active) issues.push({ field: 'legalEntity', message: `${ref.legalEntity} is not active` });
  if (entity) {
    if (!(await fiscalYearPeriods(db, entity.fiscalCalendar, ref.fiscalYear)).length)
      issues.push({
        field: 'fiscalYear',
        message: `FY${ref.fiscalYear} is not in ${entity.code}'s fiscal calendar ${entity.fiscalCalendar}`,
      });
    // An as-of period before the fiscal year means nothing has elapsed yet; any other must be a real period.
    const asOf = input.reforecast.asOfPeriod;
    if (asOf >= `${ref.fiscalYear}-01` && !(await findPeriod(db, entity.fiscalCalendar, asOf)))
      issues.push({
        field: 'asOfPeriod',
        message: `${input.reforecast.asOfPeriod} is not a period of fiscal calendar ${entity.fiscalCalendar}`,
      });
  }
  if (issues.length) throw unknownReference(issues);
}

/**
 * Registers the cycle in the database and starts its workflow, in one transaction: if Temporal refuses or
 * cannot be reached, the registration is undone. The database refuses a second start of the same revision
 * and a second open cycle of the same version; Temporal refuses a duplicate workflow ID as well
 * (conflict policy FAIL, reuse REJECT_DUPLICATE). Either way the answer is a 409, never a twin.
 */
export async function startBudgetCycle(
  deps: { client: Client; config: Config; db: Database },
  input: BudgetCycleInput,
) {
  const { client, config, db } = deps;
  const { ref } = input;
  const revision = input.revision ?? 1;
  const cycleId = budgetCycleWorkflowId(ref, revision);
  await checkStartReferences(db, input);
  return db.transaction(async (tx) => {
    await registerForStart(tx, { client, db }, input);
    return client.workflow.start<typeof budgetCycle>('budgetCycle', {
      taskQueue: config.temporal.taskQueue,
      workflowId: cycleId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: SearchAttributes.LegalEntity, value: ref.legalEntity },
        { key: SearchAttributes.FiscalYear, value: ref.fiscalYear },
        { key: SearchAttributes.BudgetVersion, value: versionKey(ref) },
        { key: SearchAttributes.CycleStage, value: 'plan' },
        { key: SearchAttributes.CycleStatus, value: 'importing' },
      ],
      staticSummary: `Budget cycle ${versionKey(ref)} r${revision} submitted by ${input.submittedBy}`,
      staticDetails: `correlation ID ${input.correlationId}`,
    });
  });
}

/**
 * Registers a cycle about to start, in the caller's transaction: refused (409, nothing registered) when its
 * revision is taken or another cycle of its version is open, unless that one's workflow already ended
 * without closing it (terminated in Temporal UI), which is closed first.
 */
export async function registerForStart(
  tx: Tx,
  deps: { client: Client; db: Database },
  input: BudgetCycleInput,
) {
  const { ref } = input;
  const revision = input.revision ?? 1;
  const registration = {
    cycleId: budgetCycleWorkflowId(ref, revision),
    ref,
    revision,
    correlationId: input.correlationId,
    startedBy: input.submittedBy,
  };
  let outcome = await registerCycle(tx, registration);
  if (!outcome.registered && outcome.reason === 'cycle_open') {
    const execution = await executionStatus(deps.client, outcome.open.cycleId);
    if (execution !== 'running') {
      await closeCycle(tx, {
        cycleId: outcome.open.cycleId,
        legalEntity: ref.legalEntity,
        outcome: execution,
        correlationId: outcome.open.correlationId,
      });
      outcome = await registerCycle(tx, registration);
    }
  }
  if (!outcome.registered) throw await refusal(deps.db, ref, outcome);
}

/** The Temporal execution status of a cycle, lower-cased ("running", "terminated", …; "not_found"). */
async function executionStatus(client: Client, cycleId: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(cycleId).describe()).status.name.toLowerCase();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'not_found';
    throw err;
  }
}

async function refusal(
  db: Database,
  ref: BudgetVersionRef,
  outcome: Exclude<RegisterOutcome, { registered: true }>,
): Promise<HttpError> {
  const nextRevision = Math.max(0, ...(await cyclesOfVersion(db, ref)).map((c) => c.revision)) + 1;
  if (outcome.reason === 'revision_taken') {
    return new HttpError(
      409,
      'already_started',
      `revision ${outcome.existing.revision} of this version is cycle ${outcome.existing.cycleId}; to go round again on purpose, start revision ${nextRevision}`,
      { cycleId: outcome.existing.cycleId, nextRevision },
    );
  }
  return new HttpError(
    409,
    'cycle_open',
    `cycle ${outcome.open.cycleId} of this version is still open; decide, retry or terminate it before starting another`,
    { cycleId: outcome.open.cycleId, nextRevision },
  );
}
