import { msToNumber } from '@temporalio/common/lib/time';
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  patched,
  proxyLocalActivities,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PublicationTargetPlan } from '../activities/version-lifecycle';
import {
  type ApprovalPolicy,
  type BudgetDecisionInput,
  BudgetSignalDecisionInput,
  refuseDecision,
  RetryPublicationInput,
} from '../domain/approval';
import { type NotificationKind } from '../domain/approval-notification';
import {
  advance,
  type ApprovalChainState,
  applyDecision,
  awaitedApprovers,
  chainRefusal,
  openChain,
  refreshDelegates,
  stagePassed,
} from '../domain/approval-chain';
import { FailureType } from '../domain/failures';
import { publicationWorkflowId, versionKey } from '../domain/identity';
import { describeIssues } from '../domain/zod-issues';
import { dbWrite, dbWriteLocal, erpCall, longSync, notification, planningCall } from './activity-profiles';
import {
  type BudgetCycleInput,
  type BudgetCycleStatus,
  type CycleStage,
  type CycleStatus,
  type GroupWord,
  type PublicationSummary,
} from './budget-cycle-state';
import {
  decideUpdate,
  decisionSignal,
  delegationsChangedSignal,
  groupReportSignal,
  groupWordSignal,
  retryPublicationSignal,
  SearchAttributes,
  statusQuery,
} from './definitions';
import { decisionRefused, principalOf, UNSIGNED_UPDATE, validateDecision } from './decision-gate';
import { publication } from './publication';
import { cycleDetails, ENDED, md } from './budget-cycle-details';
import { decisionProofs } from './signed-decision';

/** Patch ID: decision signals received during import are held until the version awaits approval. */
export const EARLY_DECISION_SIGNALS_WAIT = 'early-decision-signals-wait-for-authorize';
/** Patch ID: the cycle claims its row in the database (one open cycle per version) and closes it at the end. */
export const CYCLE_REGISTERED = 'cycle-registered-in-database';
/**
 * Patch ID: the database decides whether the version may publish (and under which revision) and whether it
 * may become active; a version overtaken by a newer activated one takes itself back out.
 */
export const DATABASE_DECIDES_ACTIVATION = 'database-decides-publication-and-activation';
/** Patch ID: refused signals are written to the audit trail, not only shown by the status query. */
export const REFUSED_SIGNALS_AUDITED = 'refused-signals-audited';
/** Patch ID: authorization walks the route of the entity's approval policy, level by level. */
export const APPROVAL_CHAIN = 'approval-chain-by-policy';
/** Patch ID: a running chain's delegates follow delegations made or revoked after it was routed. */
export const APPROVAL_DELEGATIONS_FOLLOWED = 'approval-delegations-followed';
/** Patch ID: approvers are told when a stage opens, reminded on a cadence, escalated to contacts; submitters of the outcome. */
export const APPROVAL_NOTIFICATIONS = 'approval-notifications';
/** Patch ID: a version waits while another version of its budget publishes (revisions post differences). */
export const PUBLICATIONS_ONE_AT_A_TIME = 'publications-one-at-a-time';

/**
 * Patch ID: after approval the database says whether the version's scenario is in control of its year; a
 * version of any other scenario is kept for reporting and goes no further.
 */
export const SCENARIOS_OUT_OF_CONTROL = 'scenarios-out-of-control-kept';

/**
 * Patch ID: each target is reconciled as soon as the version is published to every target, before the group's
 * word and the activation (what a target holds is the publication's doing, not the activation's), so a group's
 * entities reconcile while the slowest ERP still takes its budget.
 */
export const RECONCILED_ON_PUBLICATION = 'reconciled-on-publication';

/**
 * One budget version's trip around the loop: plan → authorize → execute → reconcile → reforecast.
 * Nothing reaches an ERP before an eligible approver (never the submitter, never an integration admin)
 * approves it, and nothing a newer version did is ever undone. Read top to bottom, this is the business
 * process; the work happens in activities.
 */
export async function budgetCycle(input: BudgetCycleInput): Promise<BudgetCycleStatus> {
  const { ref, correlationId } = input;
  const cycleId = workflowInfo().workflowId;
  const db = proxyActivities<Activities>(dbWrite);
  const erp = proxyActivities<Activities>(erpCall(input.publication.erpRetry));
  const planning = proxyActivities<Activities>(planningCall(input.publication.erpRetry));
  const sync = proxyActivities<Activities>(longSync(input.publication.erpRetry));
  const notifyActivity = proxyActivities<Activities>(notification);
  // Whether decisions must prove their sender is settled once, when the cycle starts (see decisionProofs).
  const proofs = decisionProofs();
  // An update answers once its decision is recorded at its levels: locally where tokens are checked so.
  const levelRecords = proofs.local ? proxyLocalActivities<Activities>(dbWriteLocal) : db;

  const state: BudgetCycleStatus = {
    cycleId,
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
  let followDelegations = false;
  let decisionRecorded = false;
  let retryRequested = false;
  // Set once the targets were reconciled right after publication (RECONCILED_ON_PUBLICATION).
  let reconciledOnPublication = false;

  const now = () => new Date().toISOString();
  const moveTo = (stage: CycleStage, status: CycleStatus) => {
    state.stage = stage;
    state.status = status;
    state.history.push({ stage, status, at: now() });
    upsertSearchAttributes([
      { key: SearchAttributes.CycleStage, value: stage },
      { key: SearchAttributes.CycleStatus, value: status },
    ]);
    setCurrentDetails(cycleDetails(state, ENDED.has(status)));
  };
  // Under an approval chain each accepted decision counts at its levels and waits to be recorded (in order);
  // the update that brought it answers once it is. Without one, the single decision is the cycle's.
  const levelDecisions: {
    decision: BudgetDecisionInput;
    at: string;
    stage: number;
    levels: string[];
    onBehalfOf?: string;
  }[] = [];
  let levelDecisionsRecorded = 0;
  const accept = (decision: BudgetDecisionInput): number => {
    const at = now();
    if (!state.approval) {
      state.decision = { ...decision, at };
      return 0;
    }
    const stage = state.approval.current;
    const { levels, onBehalfOf } = applyDecision(state.approval, { ...decision, at });
    levelDecisions.push({ decision, at, stage, levels, onBehalfOf });
    return levelDecisions.length;
  };
  const refusalFor = (decision: BudgetDecisionInput) =>
    state.approval
      ? chainRefusal(
          state.approval,
          {
            submittedBy: input.submittedBy,
            integrationAdmins: input.approval.integrationAdmins,
            awaiting: awaitingDecision,
          },
          decision,
        )
      : refuseDecision(policy, { awaitingDecision, decidedBy: state.decision?.principal }, decision);

  // A signal cannot answer its sender, so a refused one is recorded where the status query shows it, and
  // (patched) in the audit trail. Writing the audit entry must never fail the cycle.
  const refuseSignal = async (signal: string, raw: unknown, reason: string) => {
    const principal = principalOf(raw);
    state.refusedSignals.push({ principal, reason, at: now() });
    if (!patched(REFUSED_SIGNALS_AUDITED)) return;
    try {
      await db.recordRefusedSignal({
        cycleId,
        legalEntity: ref.legalEntity,
        correlationId,
        principal,
        signal,
        payload: raw,
        reason,
        sequence: state.refusedSignals.length,
      });
    } catch {
      // the refusal stays visible in the status query
    }
  };

  setHandler(statusQuery, () => state);
  // A decision signal that arrives while the version is still being imported waits for the authorize
  // stage: after a reset in Temporal UI the approval signal is reapplied right at the start of the new run.
  const earlySignals: { raw: unknown; at: string }[] = [];
  const openStage = () => state.approval?.current ?? 0;
  /** `receivedAt`: when the signal reached the cycle (its token must not have expired by then). */
  const takeDecisionSignal = async (raw: unknown, receivedAt = now()) => {
    const parsed = BudgetSignalDecisionInput.safeParse(raw);
    if (!parsed.success) {
      await refuseSignal('decision', raw, `invalid decision: ${describeIssues(parsed.error)}`);
      return;
    }
    const { token, ...decision } = parsed.data;
    // Who sent it must be proven: a token signed for them, this cycle, this decision and the open stage.
    if (proofs.required) {
      const unproven = await proofs.prove({ ...decision, token }, openStage, receivedAt);
      if (unproven) return refuseSignal('decision', raw, unproven);
    }
    const refusal = refusalFor(decision);
    if (refusal) return refuseSignal('decision', raw, `${refusal.code}: ${refusal.message}`);
    accept(decision);
  };
  setHandler(decisionSignal, async (raw) => {
    // Patched: cycles that started before this change refused early signals, and must replay as they ran.
    if (state.stage === 'plan' && state.status === 'importing' && patched(EARLY_DECISION_SIGNALS_WAIT))
      earlySignals.push({ raw, at: now() });
    else await takeDecisionSignal(raw);
  });
  setHandler(
    decideUpdate,
    async (raw) => {
      const { token, ...decision } = BudgetSignalDecisionInput.parse(raw);
      if (proofs.required) {
        // The API signs a token for its authenticated caller; an update typed into Temporal UI has none.
        const unproven = await proofs.prove({ ...decision, token }, openStage);
        if (unproven) {
          // Someone typed the update into Temporal UI with a token that proves nothing: audited, as a signal is.
          await refuseSignal('decide', raw, unproven);
          throw decisionRefused(unproven);
        }
        // The chain may have moved on while the token was checked (the API audits what it is told).
        const late = refusalFor(decision);
        if (late) throw decisionRefused(`${late.code}: ${late.message}`);
      }
      const ticket = accept(decision);
      // An approval answers once it is recorded at its levels; a rejection or a send-back, which ends the
      // chain, once the cycle has recorded it as the version's decision (the status then says so).
      const ends = decision.decision !== 'approve';
      await condition(() =>
        ticket ? levelDecisionsRecorded >= ticket && (!ends || decisionRecorded) : decisionRecorded,
      );
      return state;
    },
    {
      validator: (raw) => {
        validateDecision(raw, refusalFor, BudgetSignalDecisionInput);
        if (proofs.required && !(raw as { token?: string }).token) throw decisionRefused(UNSIGNED_UPDATE);
      },
    },
  );
  let delegationsChanged = false;
  setHandler(delegationsChangedSignal, () => {
    delegationsChanged = true;
  });
  setHandler(retryPublicationSignal, async (raw) => {
    const parsed = RetryPublicationInput.safeParse(raw);
    if (!parsed.success) {
      await refuseSignal(
        'retry-publication',
        raw,
        `invalid retry-publication: ${describeIssues(parsed.error)}`,
      );
    } else if (state.status !== 'publication_failed') {
      await refuseSignal(
        'retry-publication',
        raw,
        `retry-publication: the cycle is ${state.status}, not publication_failed`,
      );
    } else {
      state.publicationRetries.push({ ...parsed.data, at: now() });
      retryRequested = true;
    }
  });

  // One entity of a group version landing all or nothing: its parent says when to go on (words arrive at any
  // time; the last one counts).
  const holdsForGroup = input.group?.policy === 'all-or-nothing';
  let groupWord: GroupWord | undefined;
  setHandler(groupWordSignal, (w) => {
    groupWord = w;
  });

  moveTo('plan', 'importing');
  const registered = patched(CYCLE_REGISTERED);
  if (registered) {
    await db.openCycle({
      cycleId,
      ref,
      revision: input.revision ?? 1,
      correlationId,
      startedBy: input.submittedBy,
    });
  }
  let failed = false;
  try {
    const ended = await runCycle();
    // Also a publication whose retry window passed: it ends publication_failed, which no moveTo calls an end.
    setCurrentDetails(cycleDetails(ended, true));
    return ended;
  } catch (err) {
    // A step found that a newer version replaced this one (a reset or a late cycle): it ends, changing nothing.
    if (failureType(err) === FailureType.Superseded) return endSuperseded(rootMessage(err));
    failed = true;
    setCurrentDetails(
      `**Outcome: FAILED** during ${state.stage} — ${md(rootMessage(err))}\n\n**${versionKey(ref)}**: ${state.stage} / ${state.status} when it failed.`,
    );
    throw err;
  } finally {
    if (registered) {
      await CancellationScope.nonCancellable(async () => {
        const outcome = failed ? `failed during ${state.stage}` : state.status;
        await db.closeCycle({ cycleId, legalEntity: ref.legalEntity, outcome, correlationId });
        // Refusals still being written by signal handlers finish before the cycle does.
        await condition(allHandlersFinished);
      });
    }
  }

  async function runCycle(): Promise<BudgetCycleStatus> {
    // ── Plan ────────────────────────────────────────────────────────────────────────────────────────
    const imported = await planning.importBudgetVersion({
      ref,
      submittedBy: input.submittedBy,
      correlationId,
      cycleId,
      revision: input.revision,
    });
    Object.assign(state, {
      versionId: imported.versionId,
      lineCount: imported.lineCount,
      total: imported.total,
      issueCount: imported.issueCount,
      issues: imported.issues,
      ...(imported.periodMoves?.length ? { periodMoves: imported.periodMoves } : {}),
    });
    if (imported.status === 'superseded') {
      return endSuperseded(
        `version ${ref.version} was superseded: a newer version of this budget is in control`,
      );
    }
    if (!imported.valid) {
      moveTo('plan', 'invalid');
      return state;
    }
    const versionId = imported.versionId;

    // ── Authorize ───────────────────────────────────────────────────────────────────────────────────
    if (imported.decision) {
      // An earlier cycle of this version had it approved: the approval stands, no new decision is asked.
      state.decision = { ...imported.decision, carriedOver: true };
      decisionRecorded = true;
    } else if (patched(APPROVAL_CHAIN)) {
      const routed = await db.routeForApproval({
        versionId,
        submittedBy: input.submittedBy,
        integrationAdmins: input.approval.integrationAdmins,
        roster: input.approval.approvers,
      });
      if ('unroutable' in routed) {
        state.outcomeReason = `no approval route: ${routed.unroutable}`;
        moveTo('authorize', 'unroutable');
        return state;
      }
      state.approval = openChain(routed.route, routed.policyRevision);
      const notify = patched(APPROVAL_NOTIFICATIONS) ? notifier(versionId, routed.escalateTo) : undefined;
      followDelegations = patched(APPROVAL_DELEGATIONS_FOLLOWED);
      moveTo('authorize', 'awaiting_approval');
      awaitingDecision = true;
      for (const { raw, at } of earlySignals.splice(0)) await takeDecisionSignal(raw, at);
      const outcome = await walkChain(versionId, state.approval, notify);
      awaitingDecision = false;
      if (outcome === 'expired') {
        await db.recordApprovalTimeout({ versionId, kind: 'expired', correlationId, escalateTo: [] });
        moveTo('authorize', 'expired');
        await notify?.('expired', [
          input.submittedBy,
          ...awaitedApprovers(state.approval),
          ...routed.escalateTo,
        ]);
        return state;
      }
      const decision = state.decision!;
      await db.recordDecision({ versionId, ...decision, correlationId, decidedAt: decision.at });
      decisionRecorded = true;
      if (decision.decision !== 'approve') {
        moveTo('authorize', decision.decision === 'reject' ? 'rejected' : 'sent_back');
        await notify?.(decision.decision === 'reject' ? 'rejected' : 'sent_back', [input.submittedBy]);
        return state;
      }
    } else {
      moveTo('authorize', 'awaiting_approval');
      awaitingDecision = true;
      for (const { raw, at } of earlySignals.splice(0)) await takeDecisionSignal(raw, at);
      let decided = await condition(() => state.decision !== undefined, input.approval.timeout);
      if (!decided) {
        await escalate(versionId, input.approval.approvers);
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
      if (decision.decision !== 'approve') {
        moveTo('authorize', decision.decision === 'reject' ? 'rejected' : 'sent_back');
        return state;
      }
    }

    // Only the scenario in control of the year is published and reserved against (BASE, DOWNSIDE, … are
    // approved and kept for reporting).
    if (patched(SCENARIOS_OUT_OF_CONTROL)) {
      const keeping = await db.keepOutOfControl({ versionId, correlationId });
      if (!keeping.inControl) {
        if (!keeping.kept) return endSuperseded(keeping.reason);
        state.outcomeReason = keeping.reason;
        moveTo('done', 'kept');
        return state;
      }
    }

    // ── Execute ─────────────────────────────────────────────────────────────────────────────────────
    moveTo('execute', 'publishing');
    let targets: PublicationTargetPlan[];
    if (patched(DATABASE_DECIDES_ACTIVATION)) {
      let begun = await beginPublication(versionId);
      for (;;) {
        if (!begun.proceed) return endSuperseded(begun.reason);
        const outcome = await publishToEveryTarget(begun.targets);
        if (outcome === 'published') {
          if (patched(RECONCILED_ON_PUBLICATION)) {
            reconciledOnPublication = true;
            await reconcileTargets(versionId, begun.targets);
          }
          if (!holdsForGroup) break;
          const word = await holdForGroup();
          if (word === 'go') break;
          if (word === 'abandon') return state;
        } else if (outcome === 'failed') {
          if (holdsForGroup) await reportToGroup('failed', failureOfPublication());
          // A plan the database has since withdrawn (e.g. a newer version reversed it) is not a failure to
          // wait on: the database is asked again, and decides.
          if (!(await waitForRetry())) return state;
        }
        begun = await beginPublication(versionId);
      }
      targets = begun.targets;
      const activation = await db.activateVersion({ versionId, correlationId });
      if (!activation.activated) {
        await sync.withdrawVersion({ versionId, correlationId, reason: activation.reason });
        return endSuperseded(activation.reason);
      }
      await sync.reverseSupersededPublications({ versionId, correlationId });
    } else {
      // Cycles started before the database decided activation replay this path as they ran.
      const planned = await db.planPublicationTargets({ versionId });
      for (let revision = 1; ; revision++) {
        targets = planned.map((t) => ({ ...t, revision }));
        if ((await publishToEveryTarget(targets)) === 'published') break;
        if (!(await waitForRetry())) return state;
      }
      await sync.supersedePreviousVersions({ versionId, correlationId });
      await db.activateControlBudget({ versionId, correlationId });
    }

    // ── Reconcile ───────────────────────────────────────────────────────────────────────────────────
    // Reconciled on publication and not held by a group since, the cycle is in this stage already.
    if (state.stage !== 'reconcile' || state.status !== 'reconciling') moveTo('reconcile', 'reconciling');
    if (!reconciledOnPublication)
      for (const { target } of targets) state.reconciliation.push(await reconcileTarget(versionId, target));
    const syncInput = { legalEntity: ref.legalEntity, fiscalYear: ref.fiscalYear, correlationId };
    const actuals = await sync.syncActuals(syncInput);
    const commitments = await sync.syncCommitments(syncInput);
    state.actualsSynced = {
      inserted: actuals.inserted,
      duplicates: actuals.duplicates,
      exceptions: (actuals.exceptions ?? 0) + (commitments.exceptions ?? 0),
      commitments: commitments.lines,
    };

    // ── Reforecast ──────────────────────────────────────────────────────────────────────────────────
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
  }

  /**
   * Walks the route stage by stage: each stage waits for its levels' approvals, its approvers told when it
   * opens and reminded on the reminder cadence; one that waits longer than the approval timeout is escalated
   * (the approvers still awaited and the escalation contacts told), and after the escalation timeout the
   * cycle expires. Every decision is recorded where it counted before the next is looked at.
   */
  async function walkChain(versionId: string, chain: ApprovalChainState, notify?: Notify) {
    for (;;) {
      // A later stage opens days after the route was computed: its delegates are those in force now.
      if (followDelegations && chain.current > 0) await followDelegationsInForce(chain);
      await notify?.('approval_requested', awaitedApprovers(chain));
      const outcome = await waitForStage(versionId, chain, notify);
      if (outcome !== 'passed') return outcome;
      if (!advance(chain)) break;
      if (state.status !== 'awaiting_approval') moveTo('authorize', 'awaiting_approval');
    }
    const last = chain.stages
      .flat()
      .flatMap((l) => l.approvals)
      .sort((a, b) => (a.at < b.at ? -1 : 1))
      .pop()!;
    state.decision = {
      decision: 'approve',
      principal: last.principal,
      ...(last.onBehalfOf ? { onBehalfOf: last.onBehalfOf } : {}),
      comment: last.comment,
      at: last.at,
    };
    return 'approved' as const;
  }

  async function waitForStage(versionId: string, chain: ApprovalChainState, notify?: Notify) {
    let escalated = false;
    let deadline = Date.now() + msToNumber(input.approval.timeout);
    // Reminders only where notifications are on (cycles before them replay their timers as they ran).
    const every = notify && input.approval.reminderInterval ? msToNumber(input.approval.reminderInterval) : 0;
    let nextReminder = every ? Date.now() + every : Infinity;
    let reminders = 0;
    for (;;) {
      while (levelDecisionsRecorded < levelDecisions.length) {
        const d = levelDecisions[levelDecisionsRecorded]!;
        await levelRecords.recordLevelDecision({
          versionId,
          legalEntity: ref.legalEntity,
          cycleId,
          stage: d.stage,
          levels: d.levels,
          decision: d.decision.decision,
          principal: d.decision.principal,
          onBehalfOf: d.onBehalfOf,
          comment: d.decision.comment,
          decidedAt: d.at,
          correlationId,
        });
        levelDecisionsRecorded++;
      }
      if (chain.stopped) {
        const { decision, principal, onBehalfOf, comment, at } = chain.stopped;
        state.decision = { decision, principal, ...(onBehalfOf ? { onBehalfOf } : {}), comment, at };
        return 'stopped' as const;
      }
      if (stagePassed(chain)) return 'passed' as const;
      if (followDelegations && delegationsChanged) {
        const before = awaitedApprovers(chain);
        await followDelegationsInForce(chain);
        const added = awaitedApprovers(chain).filter((p) => !before.includes(p));
        if (added.length) await notify?.('delegated', added);
        continue;
      }
      const remaining = Math.min(deadline, nextReminder) - Date.now();
      const woken = () =>
        levelDecisions.length > levelDecisionsRecorded || (followDelegations && delegationsChanged);
      if (remaining > 0 && (await condition(woken, remaining))) continue;
      if (Date.now() < deadline) {
        // The reminder cadence came round before the deadline: those still awaited hear again (a bounded
        // number of times, so a cadence set too short cannot flood mailboxes or the workflow's history).
        reminders++;
        nextReminder = reminders < MAX_REMINDERS_PER_STAGE ? nextReminder + every : Infinity;
        const contacts = escalated ? (notify?.escalateTo ?? []) : [];
        await notify?.('reminder', [...awaitedApprovers(chain), ...contacts], reminders);
        continue;
      }
      if (escalated) return 'expired' as const;
      escalated = true;
      const escalateTo = [...new Set([...awaitedApprovers(chain), ...(notify?.escalateTo ?? [])])];
      await escalate(versionId, escalateTo);
      await notify?.('escalated', escalateTo);
      deadline = Date.now() + msToNumber(input.approval.escalationTimeout);
      // The escalation is itself the reminder that was due: the cadence starts again from it.
      if (every && reminders < MAX_REMINDERS_PER_STAGE) nextReminder = Date.now() + every;
    }
  }

  /** The open stage's delegates become those of the delegations in force (see refreshDelegates). */
  async function followDelegationsInForce(chain: ApprovalChainState) {
    delegationsChanged = false;
    const delegations = await db.delegationsInForce();
    refreshDelegates(chain, delegations, {
      submittedBy: input.submittedBy,
      integrationAdmins: input.approval.integrationAdmins,
    });
  }

  /**
   * Tells people where the chain stands; a notice that cannot be delivered (mail down for good) is listed in
   * the cycle's status (`notificationFailures`) and never stops the cycle.
   */
  function notifier(versionId: string, escalateTo: string[]) {
    const send = async (kind: NotificationKind, to: string[], reminder?: number) => {
      const chain = state.approval!;
      const stopped = chain.stopped;
      const open = (chain.stages[chain.current] ?? []).filter((l) => l.status === 'open');
      const levels = stopped ? stopped.levels : open.map((l) => l.key);
      try {
        await notifyActivity.notifyApprovers({
          versionId,
          correlationId,
          notice: {
            kind,
            cycleId,
            legalEntity: ref.legalEntity,
            version: `${versionKey(ref)}${(input.revision ?? 1) > 1 ? ` revision ${input.revision}` : ''}`,
            total: state.total,
            submittedBy: input.submittedBy,
            stage: { number: Math.min(chain.current, chain.stages.length - 1) + 1, of: chain.stages.length },
            levels,
            to: [...new Set(to)],
            reminder,
            decidedBy: stopped?.principal,
            comment: stopped?.comment,
          },
        });
      } catch (err) {
        state.notificationFailures = [
          ...(state.notificationFailures ?? []),
          { kind, error: rootMessage(err), at: now() },
        ];
      }
    };
    return Object.assign(send, { escalateTo });
  }

  /** The approval window passed with the version still waiting: escalated to these, and audited. */
  async function escalate(versionId: string, escalateTo: string[]) {
    state.escalatedAt = now();
    moveTo('authorize', 'escalated');
    await db.recordApprovalTimeout({ versionId, kind: 'escalated', correlationId, escalateTo });
  }

  /**
   * The database's go to publish. Versions of one budget publish one at a time (a revision posts its
   * differences from what the budget holds): while another is publishing, the cycle waits its turn, saying
   * for whom, and asks again, from every 2 s up to every minute.
   */
  async function beginPublication(versionId: string) {
    let pause = 2_000;
    for (;;) {
      const begun = await db.beginPublication({ versionId, correlationId });
      if (begun.proceed || begun.status !== 'waiting' || !patched(PUBLICATIONS_ONE_AT_A_TIME)) {
        delete state.waitingFor;
        return begun;
      }
      state.waitingFor = begun.reason;
      setCurrentDetails(cycleDetails(state, false));
      await sleep(pause);
      pause = Math.min(pause * 2, 60_000);
    }
  }

  /** Tells the group's parent how this entity's publication stands; a parent gone no longer listens. */
  async function reportToGroup(report: 'published' | 'failed', reason?: string) {
    try {
      await getExternalWorkflowHandle(input.group!.workflowId).signal(groupReportSignal, {
        legalEntity: ref.legalEntity,
        runId: workflowInfo().firstExecutionRunId,
        report,
        ...(reason ? { reason } : {}),
      });
    } catch {
      // the parent ended: the status query still says where this cycle stands
    }
  }

  function failureOfPublication(): string {
    const failed = state.publications.filter((p) => p.status === 'failed' && p.error);
    return failed.map((p) => `${p.target}: ${p.error}`).join('; ') || 'the publication failed';
  }

  /**
   * Published, this entity waits for the rest of its all-or-nothing group: `go` makes it the control budget;
   * `stand-down` (another entity failed) takes its postings back out until the group says `republish`, and the
   * caller publishes again under the next revision's keys; `abandon` (the group can no longer land everywhere)
   * takes them back out and ends the cycle.
   */
  async function holdForGroup(): Promise<'go' | 'republish' | 'abandon'> {
    groupWord = undefined;
    await reportToGroup('published');
    // Reconciled on publication, the entity waits in the reconcile stage.
    moveTo(reconciledOnPublication ? 'reconcile' : 'execute', 'awaiting_group');
    await condition(() => groupWord !== undefined && groupWord.word !== 'republish');
    const word = groupWord!;
    if (word.word === 'go') return 'go';
    await sync.standDownPublication({ versionId: state.versionId!, correlationId, reason: word.reason });
    for (const p of state.publications) if (p.status === 'published') p.status = 'reversed';
    state.outcomeReason = word.reason;
    if (word.word === 'abandon') {
      moveTo('done', 'withdrawn');
      return 'abandon';
    }
    moveTo('execute', 'stood_down');
    await condition(() => groupWord?.word === 'republish' || groupWord?.word === 'abandon');
    if (groupWord!.word === 'abandon') {
      state.outcomeReason = groupWord!.reason;
      moveTo('done', 'withdrawn');
      return 'abandon';
    }
    delete state.outcomeReason;
    moveTo('execute', 'publishing');
    return 'republish';
  }

  /**
   * Reconciles every target at once, each as its reconciliation ends; a version published again (a group stood
   * it down) is reconciled again, and the summaries are those of its last publication.
   */
  async function reconcileTargets(versionId: string, plans: PublicationTargetPlan[]) {
    moveTo('reconcile', 'reconciling');
    state.reconciliation = [];
    state.reconciliation = await Promise.all(plans.map(({ target }) => reconcileTarget(versionId, target)));
  }

  async function reconcileTarget(versionId: string, target: string) {
    const { runId: _runId, ...summary } = await erp.reconcileVersion({ versionId, target, correlationId });
    return summary;
  }

  function endSuperseded(reason: string): BudgetCycleStatus {
    state.outcomeReason = reason;
    moveTo('done', 'superseded');
    return state;
  }

  /** After a publication failed for good (and was reversed), wait for support to signal a retry. */
  async function waitForRetry(): Promise<boolean> {
    moveTo('execute', 'publication_failed');
    retryRequested = false;
    const abandoned = () => holdsForGroup && groupWord?.word === 'abandon';
    const retried = await condition(
      () => retryRequested || abandoned(),
      input.publication.retryWindow ?? '7 days',
    );
    if (!retryRequested && abandoned()) {
      state.outcomeReason = groupWord!.reason;
      moveTo('done', 'withdrawn');
      return false;
    }
    if (!retried) return false;
    moveTo('execute', 'publishing');
    return true;
  }

  /**
   * Publishes to every target at once (a target that already holds the version is not posted to again);
   * if any fails for good, reverses the ones that hold it, so no ERP keeps a version that is not active.
   * `withdrawn`: every failure was a publication the database had already reversed.
   */
  async function publishToEveryTarget(
    plans: PublicationTargetPlan[],
  ): Promise<'published' | 'failed' | 'withdrawn'> {
    const summaries: PublicationSummary[] = plans.map((p) =>
      p.published
        ? {
            target: p.target,
            revision: p.revision,
            status: 'published',
            chunkCount: p.published.chunkCount,
            documentNumbers: p.published.documentNumbers,
          }
        : { target: p.target, revision: p.revision, status: 'publishing' },
    );
    state.publications.push(...summaries);
    const results = await Promise.allSettled(
      plans.map((p) =>
        p.published
          ? Promise.resolve({ publicationId: p.published.publicationId, target: p.target })
          : executeChild(publication, {
              workflowId: publicationWorkflowId(ref, p.target),
              args: [
                {
                  versionId: state.versionId!,
                  target: p.target,
                  revision: p.revision,
                  chunkSize: input.publication.chunkSize,
                  correlationId,
                  erpRetry: input.publication.erpRetry,
                },
              ],
              typedSearchAttributes: [
                { key: SearchAttributes.LegalEntity, value: ref.legalEntity },
                { key: SearchAttributes.FiscalYear, value: ref.fiscalYear },
                { key: SearchAttributes.BudgetVersion, value: versionKey(ref) },
                { key: SearchAttributes.ErpTarget, value: p.target },
              ],
              staticSummary: `Publish ${versionKey(ref)} to ${p.target} (revision ${p.revision})`,
            }).then((r) => {
              Object.assign(
                summaries.find((s) => s.target === r.target)!,
                {
                  status: 'published',
                  chunkCount: r.chunkCount,
                  documentNumbers: r.documentNumbers,
                },
              );
              return { publicationId: r.publicationId, target: r.target };
            }),
      ),
    );
    results.forEach((r, i) => {
      if (r.status === 'rejected')
        Object.assign(summaries[i]!, { status: 'failed', error: rootMessage(r.reason) });
    });
    if (results.every((r) => r.status === 'fulfilled')) return 'published';
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      await sync.reversePublication({
        publicationId: r.value.publicationId,
        reason: 'another target of the same version failed',
        correlationId,
      });
      const s = summaries.find((x) => x.target === r.value.target);
      if (s) s.status = 'reversed';
    }
    const withdrawn = results.every(
      (r) => r.status === 'fulfilled' || failureType(r.reason) === FailureType.PublicationWithdrawn,
    );
    return withdrawn ? 'withdrawn' : 'failed';
  }
}

/** Reminders one stage sends at most, before and after its escalation together. */
const MAX_REMINDERS_PER_STAGE = 20;

/** Sends one notice of the cycle's chain (see notifier); carries the policy's escalation contacts. */
type Notify = ((kind: NotificationKind, to: string[], reminder?: number) => Promise<void>) & {
  escalateTo: string[];
};

/** The type of the ApplicationFailure at the root of an activity or child workflow failure. */
function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof ApplicationFailure ? (e.type ?? undefined) : undefined;
}

function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
