import { randomUUID } from 'node:crypto';
import { type Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { type Duration } from '@temporalio/common';
import { type Config } from '../config';
import { budgetCycleWorkflowId, versionKey } from '../domain/identity';
import { type BudgetVersionRef, type Principal } from '../domain/model';
import { type BudgetCycleInput } from '../workflows/budget-cycle-state';
import { type budgetCycle } from '../workflows/budget-cycle';
import { SearchAttributes } from '../workflows/definitions';

export interface StartCycleRequest {
  ref: BudgetVersionRef;
  asOfPeriod?: string;
  approvalTimeout?: string;
  escalationTimeout?: string;
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
    submittedBy: submitter.id,
    correlationId: request.correlationId ?? randomUUID(),
    approval: {
      ...approvalRoster(config),
      timeout: (request.approvalTimeout ?? config.cycle.approvalTimeout) as Duration,
      escalationTimeout: (request.escalationTimeout ?? config.cycle.escalationTimeout) as Duration,
    },
    publication: { chunkSize: request.chunkSize ?? config.cycle.chunkSize },
    // By default the forecast is as of the last period of the year before: nothing has elapsed yet.
    reforecast: { asOfPeriod: request.asOfPeriod ?? `${ref.fiscalYear - 1}-12` },
  };
}

/**
 * Starts the cycle under its business workflow ID. A second start for the same version is refused by
 * Temporal (conflict policy FAIL, reuse REJECT_DUPLICATE), never a twin.
 */
export async function startBudgetCycle(client: Client, config: Config, input: BudgetCycleInput) {
  const { ref } = input;
  return client.workflow.start<typeof budgetCycle>('budgetCycle', {
    taskQueue: config.temporal.taskQueue,
    workflowId: budgetCycleWorkflowId(ref),
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
    staticSummary: `Budget cycle ${versionKey(ref)} submitted by ${input.submittedBy}`,
    staticDetails: `correlation ID ${input.correlationId}`,
  });
}
