import {
  ApplicationFailure,
  condition,
  executeChild,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type ApprovalPolicy,
  DecisionInput,
  describeIssues,
  fieldIssues,
  refuseDecision,
  RetryPublicationInput,
} from '../domain/approval';
import { FailureType } from '../domain/failures';
import { publicationWorkflowId, versionKey } from '../domain/identity';
import { dbWrite, erpCall, longSync, planningCall } from './activity-profiles';
import {
  type BudgetCycleInput,
  type BudgetCycleStatus,
  type CycleStage,
  type CycleStatus,
  type PublicationSummary,
} from './budget-cycle-state';
import {
  decideUpdate,
  decisionSignal,
  retryPublicationSignal,
  SearchAttributes,
  statusQuery,
} from './definitions';
import { publication } from './publication';

/** Patch ID: decision signals received during import are held until the version awaits approval. */
export const EARLY_DECISION_SIGNALS_WAIT = 'early-decision-signals-wait-for-authorize';

/**
 * One budget version's trip around the loop: plan → authorize → execute → reconcile → reforecast.
 * Nothing reaches an ERP before an eligible approver (never the submitter, never an integration admin)
 * approves it. Read top to bottom, this is the business process; the work happens in activities.
 */
export async function budgetCycle(input: BudgetCycleInput): Promise<BudgetCycleStatus> {
  const { ref, correlationId } = input;
  const db = proxyActivities<Activities>(dbWrite);
  const erp = proxyActivities<Activities>(erpCall(input.publication.erpRetry));
  const planning = proxyActivities<Activities>(planningCall(input.publication.erpRetry));
  const sync = proxyActivities<Activities>(longSync(input.publication.erpRetry));

  const state: BudgetCycleStatus = {
    cycleId: workflowInfo().workflowId,
    ref,
    correlationId,
    submittedBy: input.submittedBy,
    stage: 'plan',
    status: 'importing',
    refusedSignals: [],
    publications: [],
    publicationRetries: [],
    reconciliation: [],
    history: [],
  };
  const policy: ApprovalPolicy = {
    submittedBy: input.submittedBy,
    approvers: input.approval.approvers,
    integrationAdmins: input.approval.integrationAdmins,
  };
  let awaitingDecision = false;
  let decisionRecorded = false;
  let retryRequested = false;

  const now = () => new Date().toISOString();
  const moveTo = (stage: CycleStage, status: CycleStatus) => {
    state.stage = stage;
    state.status = status;
    state.history.push({ stage, status, at: now() });
    upsertSearchAttributes([
      { key: SearchAttributes.CycleStage, value: stage },
      { key: SearchAttributes.CycleStatus, value: status },
    ]);
    setCurrentDetails(`**${versionKey(ref)}**: ${stage} / ${status}`);
  };
  const accept = (decision: DecisionInput) => {
    state.decision = { ...decision, at: now() };
  };
  const refusalFor = (decision: DecisionInput) =>
    refuseDecision(policy, { awaitingDecision, decidedBy: state.decision?.principal }, decision);

  setHandler(statusQuery, () => state);
  // A signal cannot answer its sender, so a refused one is recorded where the status query shows it.
  // One that arrives while the version is still being imported waits for the authorize stage: after a
  // reset in Temporal UI the approval signal is reapplied right at the start of the new run.
  const earlySignals: unknown[] = [];
  const takeDecisionSignal = (raw: unknown) => {
    const parsed = DecisionInput.safeParse(raw);
    const principal = principalOf(raw);
    if (!parsed.success) {
      const reason = describeIssues(parsed.error);
      state.refusedSignals.push({ principal, reason: `invalid decision: ${reason}`, at: now() });
      return;
    }
    const refusal = refusalFor(parsed.data);
    if (refusal)
      state.refusedSignals.push({ principal, reason: `${refusal.code}: ${refusal.message}`, at: now() });
    else accept(parsed.data);
  };
  setHandler(decisionSignal, (raw) => {
    // Patched: cycles that started before this change refused early signals, and must replay as they ran.
    if (state.stage === 'plan' && state.status === 'importing' && patched(EARLY_DECISION_SIGNALS_WAIT))
      earlySignals.push(raw);
    else takeDecisionSignal(raw);
  });
  setHandler(
    decideUpdate,
    async (decision) => {
      accept(DecisionInput.parse(decision));
      await condition(() => decisionRecorded);
      return state;
    },
    {
      // Runs before the update is accepted into history: a refused decision leaves no trace and changes nothing.
      validator: (raw) => {
        const parsed = DecisionInput.safeParse(raw);
        if (!parsed.success) {
          throw ApplicationFailure.create({
            type: FailureType.ValidationFailed,
            message: 'invalid decision',
            nonRetryable: true,
            details: [fieldIssues(parsed.error)],
          });
        }
        const refusal = refusalFor(parsed.data);
        if (refusal) {
          throw ApplicationFailure.create({
            type: FailureType.DecisionRefused,
            message: refusal.message,
            nonRetryable: true,
            details: [{ code: refusal.code }],
          });
        }
      },
    },
  );
  setHandler(retryPublicationSignal, (raw) => {
    const parsed = RetryPublicationInput.safeParse(raw);
    const principal = principalOf(raw);
    if (!parsed.success) {
      const reason = describeIssues(parsed.error);
      state.refusedSignals.push({ principal, reason: `invalid retry-publication: ${reason}`, at: now() });
    } else if (state.status !== 'publication_failed') {
      state.refusedSignals.push({
        principal,
        reason: `retry-publication: the cycle is ${state.status}, not publication_failed`,
        at: now(),
      });
    } else {
      state.publicationRetries.push({ ...parsed.data, at: now() });
      retryRequested = true;
    }
  });

  // ── Plan ──────────────────────────────────────────────────────────────────────────────────────────
  moveTo('plan', 'importing');
  const imported = await planning.importBudgetVersion({ ref, submittedBy: input.submittedBy, correlationId });
  Object.assign(state, {
    versionId: imported.versionId,
    lineCount: imported.lineCount,
    total: imported.total,
    issueCount: imported.issueCount,
    issues: imported.issues,
  });
  if (!imported.valid) {
    moveTo('plan', 'invalid');
    return state;
  }
  const versionId = imported.versionId;

  // ── Authorize ─────────────────────────────────────────────────────────────────────────────────────
  moveTo('authorize', 'awaiting_approval');
  awaitingDecision = true;
  for (const raw of earlySignals.splice(0)) takeDecisionSignal(raw);
  let decided = await condition(() => state.decision !== undefined, input.approval.timeout);
  if (!decided) {
    state.escalatedAt = now();
    moveTo('authorize', 'escalated');
    await db.recordApprovalTimeout({
      versionId,
      kind: 'escalated',
      correlationId,
      escalateTo: input.approval.approvers,
    });
    decided = await condition(() => state.decision !== undefined, input.approval.escalationTimeout);
  }
  awaitingDecision = false;
  const decision = state.decision;
  if (!decided || !decision) {
    await db.recordApprovalTimeout({ versionId, kind: 'expired', correlationId, escalateTo: [] });
    moveTo('authorize', 'expired');
    return state;
  }
  await db.recordDecision({ versionId, ...decision, correlationId, decidedAt: decision.at });
  decisionRecorded = true;
  if (decision.decision === 'reject') {
    moveTo('authorize', 'rejected');
    return state;
  }

  // ── Execute ───────────────────────────────────────────────────────────────────────────────────────
  moveTo('execute', 'publishing');
  const targets = await db.planPublicationTargets({ versionId });
  for (let revision = 1; ; revision++) {
    if (
      await publishToEveryTarget(
        targets.map((t) => t.target),
        revision,
      )
    )
      break;
    moveTo('execute', 'publication_failed');
    retryRequested = false;
    if (!(await condition(() => retryRequested, input.publication.retryWindow ?? '7 days'))) return state;
    moveTo('execute', 'publishing');
  }
  await sync.supersedePreviousVersions({ versionId, correlationId });
  await db.activateControlBudget({ versionId, correlationId });

  // ── Reconcile ─────────────────────────────────────────────────────────────────────────────────────
  moveTo('reconcile', 'reconciling');
  for (const { target } of targets) {
    const { runId: _runId, ...summary } = await erp.reconcileVersion({ versionId, target, correlationId });
    state.reconciliation.push(summary);
  }
  const syncInput = { legalEntity: ref.legalEntity, fiscalYear: ref.fiscalYear, correlationId };
  const actuals = await sync.syncActuals(syncInput);
  const commitments = await sync.syncCommitments(syncInput);
  state.actualsSynced = {
    inserted: actuals.inserted,
    duplicates: actuals.duplicates,
    commitments: commitments.lines,
  };

  // ── Reforecast ────────────────────────────────────────────────────────────────────────────────────
  moveTo('reforecast', 'reforecasting');
  const forecast = await planning.reforecastVersion({
    versionId,
    asOfPeriod: input.reforecast.asOfPeriod,
    correlationId,
  });
  state.forecast = {
    versionName: forecast.versionName,
    total: forecast.total,
    lineCount: forecast.lineCount,
    alreadyImported: forecast.alreadyImported,
  };
  moveTo('done', 'completed');
  return state;

  /** Publishes to every target at once; if any fails for good, reverses the ones that succeeded. */
  async function publishToEveryTarget(targetSystems: string[], revision: number): Promise<boolean> {
    const summaries: PublicationSummary[] = targetSystems.map((target) => ({
      target,
      revision,
      status: 'publishing',
    }));
    state.publications.push(...summaries);
    const results = await Promise.allSettled(
      targetSystems.map((target) =>
        executeChild(publication, {
          workflowId: publicationWorkflowId(ref, target),
          args: [
            {
              versionId,
              target,
              revision,
              chunkSize: input.publication.chunkSize,
              correlationId,
              erpRetry: input.publication.erpRetry,
            },
          ],
          typedSearchAttributes: [
            { key: SearchAttributes.LegalEntity, value: ref.legalEntity },
            { key: SearchAttributes.FiscalYear, value: ref.fiscalYear },
            { key: SearchAttributes.BudgetVersion, value: versionKey(ref) },
            { key: SearchAttributes.ErpTarget, value: target },
          ],
          staticSummary: `Publish ${versionKey(ref)} to ${target} (revision ${revision})`,
        }),
      ),
    );
    results.forEach((r, i) => {
      const s = summaries[i]!;
      if (r.status === 'fulfilled')
        Object.assign(s, {
          status: 'published',
          chunkCount: r.value.chunkCount,
          documentNumbers: r.value.documentNumbers,
        });
      else Object.assign(s, { status: 'failed', error: rootMessage(r.reason) });
    });
    if (results.every((r) => r.status === 'fulfilled')) return true;
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      await sync.reversePublication({
        publicationId: r.value.publicationId,
        reason: 'another target of the same version failed',
      });
      const s = summaries.find((x) => x.target === r.value.target);
      if (s) s.status = 'reversed';
    }
    return false;
  }
}

/** Who sent a signal, as far as its (possibly malformed) payload says. */
function principalOf(raw: unknown): string {
  const p = (raw as { principal?: unknown } | null)?.principal;
  return typeof p === 'string' && p.length ? p : '(unknown)';
}

function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
