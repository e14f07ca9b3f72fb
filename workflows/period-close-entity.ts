import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { type Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { CloseReconciliation, CloseReportSummary, CloseStepInput } from '../activities/period-close';
import { RetryPublicationInput } from '../domain/approval';
import { describeIssues } from '../domain/zod-issues';
import { dbWrite, dbWriteLocal, longSync, planningCall, type ErpRetryOverride } from './activity-profiles';
import { controlDecisionGate, type GateDecision, principalOf, type RefusedSignal } from './decision-gate';
import { decisionProofs } from './signed-decision';
import { retryStepSignal, SearchAttributes } from './definitions';
import { EXCHANGE_RATES_SYNCED, type Delivery, type ErpSyncResult, syncRound } from './erp-sync';

export interface CloseSignOffPolicy {
  /** Who may sign off: the entity's controllers, never the close's starter nor an integration administrator. */
  controllers: string[];
  integrationAdmins: string[];
  /** No sign-off after this long: the close is escalated, and these may sign off too. */
  escalateAfter: Duration;
  escalateTo: string[];
  /** After the escalation, no sign-off for this long: the entity's close ends unsigned and unlocked. */
  expireAfter: Duration;
}

export interface PeriodCloseEntityInput {
  /** The calendar month of the group's close (`2027-03`). */
  month: string;
  legalEntity: string;
  /** The period of the entity's own calendar that ends in the month, and its fiscal year. */
  fiscalPeriod: string;
  fiscalYear: number;
  /** The scheduler (or `closeloop` for a scheduled close) who started it. */
  requestedBy: string;
  signOff: CloseSignOffPolicy;
  /** Names this run of the entity's close: every mark it leaves is keyed by it (a reset writes nothing twice). */
  correlationId: string;
  /** The group close took the exchange rates for this entity already (its final sync skips them). */
  ratesTaken?: boolean;
  erpRetry?: ErpRetryOverride;
}

export const CLOSE_DB_STEPS_LOCAL = 'period-close-db-steps-local';
/**
 * Patch ID: the sync's rates patch is settled at the start, before any local activity runs. Settled after the
 * cut-off's local activity, in the same workflow task, its marker made a reset at some workflow tasks fail to
 * replay (nondeterminism on erp-sync-takes-exchange-rates); closes recorded before still settle it there.
 */
export const CLOSE_RATES_PATCH_FIRST = 'period-close-settles-rates-patch-first';

export const CLOSE_STEPS = [
  'cut_off',
  'sync',
  'reconcile',
  'sign_off',
  'lock',
  'reforecast',
  'report',
] as const;
export type CloseStepName = (typeof CLOSE_STEPS)[number];

export interface CloseStepState {
  name: CloseStepName;
  state: 'pending' | 'running' | 'done' | 'failed' | 'skipped';
  startedAt?: string;
  endedAt?: string;
  /** The last failure, while the step waits for support's `retry-step`. */
  error?: { type?: string; message: string };
  attempts: number;
}

export type EntityCloseOutcome = 'closed' | 'rejected' | 'sign_off_expired';

export interface EntityCloseStatus {
  month: string;
  legalEntity: string;
  fiscalPeriod: string;
  correlationId: string;
  status: 'running' | 'awaiting_sign_off' | 'escalated' | 'step_failed' | EntityCloseOutcome;
  step: CloseStepName;
  steps: CloseStepState[];
  sync?: ErpSyncResult;
  reconciliation?: CloseReconciliation;
  signOff?: GateDecision & { recordedBefore?: boolean };
  lock?: string;
  reforecast?: Delivery;
  report?: CloseReportSummary;
  refusedSignals: RefusedSignal[];
  retries: { step: CloseStepName; principal: string; reason?: string; at: string }[];
}

export const entityCloseStatusQuery = defineQuery<EntityCloseStatus>('status');

/**
 * One legal entity's close of a period, top to bottom: cut-off, the final actuals and commitments sync from
 * its ERP, the budget's reconciliation against it, a controller's sign-off (by the `decide` update from the
 * API or CLI, or a `decision` signal from Temporal UI; escalated when it waits too long, ended unsigned when
 * it waits longer still), the period lock, the reforecast to the planning platform, and the close report.
 *
 * A step that fails for good (after its activity's retries) waits for support's `retry-step` signal and runs
 * again; the entity's other steps and the group's other entities go on without it. Every step is idempotent
 * by entity, period and `correlationId`: a reset in Temporal UI re-runs steps that count nothing twice
 * (watermarked syncs), lock nothing twice (already_locked), reforecast once per as-of period (its key) and
 * take the sign-off already recorded instead of asking again.
 */
export async function periodCloseEntity(input: PeriodCloseEntityInput): Promise<EntityCloseStatus> {
  // Patched: closes recorded before ran their database steps as activities; local ones spare the server a
  // task round trip per mark (bench:close). The ERP's steps (sync, reconciliation, reforecast) stay activities.
  const localDb = patched(CLOSE_DB_STEPS_LOCAL);
  // Whether sign-off decisions must prove their sender: settled here, before any local activity ran.
  const proofs = decisionProofs();
  // Whether the sync takes the ERP's rates, settled here for the same reason.
  const ratesPatched = patched(CLOSE_RATES_PATCH_FIRST) ? patched(EXCHANGE_RATES_SYNCED) : undefined;
  const db = localDb ? proxyLocalActivities<Activities>(dbWriteLocal) : proxyActivities<Activities>(dbWrite);
  // The reconciliation reads the ERP's budget register back: an activity with heartbeats.
  const erp = localDb ? proxyActivities<Activities>(longSync(input.erpRetry)) : db;
  const planning = proxyActivities<Activities>(planningCall(input.erpRetry));
  const { legalEntity, fiscalPeriod: period, correlationId } = input;
  const now = () => new Date().toISOString();
  const state: EntityCloseStatus = {
    month: input.month,
    legalEntity,
    fiscalPeriod: period,
    correlationId,
    status: 'running',
    step: 'cut_off',
    steps: CLOSE_STEPS.map((name) => ({ name, state: 'pending', attempts: 0 })),
    refusedSignals: [],
    retries: [],
  };
  setHandler(entityCloseStatusQuery, () => state);
  const setStatus = (status: EntityCloseStatus['status']) => {
    state.status = status;
    upsertSearchAttributes([
      { key: SearchAttributes.CycleStage, value: state.step },
      { key: SearchAttributes.CycleStatus, value: status },
    ]);
  };
  const mark = (step: Omit<CloseStepInput, 'legalEntity' | 'period' | 'correlationId'>) =>
    db.recordCloseStep({ legalEntity, period, correlationId, ...step });

  let retryRequested = false;
  setHandler(retryStepSignal, async (raw) => {
    const parsed = RetryPublicationInput.safeParse(raw);
    const refuse = (reason: string) => {
      state.refusedSignals.push({ principal: principalOf(raw), reason, at: now() });
    };
    if (!parsed.success) return refuse(`invalid retry-step: ${describeIssues(parsed.error)}`);
    if (state.status !== 'step_failed')
      return refuse(`retry-step: the close is ${state.status}, no step failed`);
    state.retries.push({ step: state.step, ...parsed.data, at: now() });
    retryRequested = true;
  });

  /** Runs a step; when it fails for good, waits for `retry-step` and runs it again. */
  async function step<T>(name: CloseStepName, run: () => Promise<T>): Promise<T> {
    const s = state.steps.find((x) => x.name === name)!;
    state.step = name;
    for (;;) {
      Object.assign(s, { state: 'running', startedAt: now(), attempts: s.attempts + 1 });
      setStatus('running');
      try {
        const result = await run();
        Object.assign(s, { state: 'done', endedAt: now(), error: undefined });
        return result;
      } catch (err) {
        if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
        const cause = err.cause as { type?: string; message?: string } | undefined;
        Object.assign(s, {
          state: 'failed',
          endedAt: now(),
          error: { type: cause?.type, message: cause?.message ?? err.message },
        });
        setStatus('step_failed');
        await condition(() => retryRequested);
        retryRequested = false;
        const retry = state.retries[state.retries.length - 1]!;
        await mark({
          step: 'step_retried',
          actor: retry.principal,
          sequence: state.retries.length,
          details: { step: name, reason: retry.reason, error: s.error },
        });
      }
    }
  }

  await step('cut_off', () =>
    mark({
      step: 'cut_off',
      actor: input.requestedBy,
      details: { month: input.month, fiscalYear: input.fiscalYear, cutOffAt: now() },
    }),
  );
  state.sync = await step('sync', () =>
    syncRound(
      {
        legalEntity,
        fiscalYear: input.fiscalYear,
        correlationId,
        takeRates: !input.ratesTaken,
        erpRetry: input.erpRetry,
      },
      { ratesPatched },
    ),
  );
  state.reconciliation = await step('reconcile', async () => {
    const r = await erp.reconcileClosePeriod({ legalEntity, fiscalYear: input.fiscalYear, correlationId });
    await mark({ step: 'reconciled', actor: 'closeloop', details: { reconciliation: r } });
    return r;
  });

  // The review gate. Its handlers exist from here on: a `decision` signal sent earlier waited in Temporal
  // and is taken now; a `decide` update sent earlier was refused (the API answers it as not awaiting).
  const policy = {
    submittedBy: input.requestedBy,
    approvers: [...input.signOff.controllers],
    integrationAdmins: input.signOff.integrationAdmins,
  };
  const gate = controlDecisionGate(
    policy,
    { legalEntity, entityType: 'period_close', entityId: `${legalEntity}:${period}`, correlationId },
    state,
    proofs,
  );
  const decision = await step('sign_off', async (): Promise<GateDecision | undefined> => {
    const earlier = await db.recordedSignOff({ legalEntity, period, correlationId });
    if (earlier)
      return {
        decision: 'approve',
        principal: earlier.principal,
        comment: earlier.comment ?? undefined,
        at: earlier.at,
      };
    setStatus('awaiting_sign_off');
    let d = await gate.wait(input.signOff.escalateAfter, { keepOpen: true });
    if (!d) {
      gate.addApprovers(input.signOff.escalateTo);
      setStatus('escalated');
      await mark({
        step: 'sign_off_escalated',
        actor: 'closeloop',
        details: { waited: input.signOff.escalateAfter, escalateTo: input.signOff.escalateTo },
      });
      d = await gate.wait(input.signOff.expireAfter);
    }
    const outcome = !d ? 'sign_off_expired' : d.decision === 'approve' ? 'signed_off' : 'sign_off_rejected';
    await mark({
      step: outcome,
      actor: d?.principal ?? 'closeloop',
      details: { comment: d?.comment, decidedAt: d?.at },
    });
    return d;
  });
  state.signOff = decision;
  gate.recorded();

  if (decision?.decision === 'approve') {
    state.lock = await step('lock', () =>
      db.lockClosedPeriod({ legalEntity, period, by: decision.principal, correlationId }),
    );
    state.reforecast = await step('reforecast', async (): Promise<Delivery> => {
      const f = await planning.reforecastActiveVersion({
        legalEntity,
        fiscalYear: input.fiscalYear,
        asOfPeriod: period,
        correlationId,
      });
      const delivered =
        'skipped' in f ? f : { versionName: f.versionName, lineCount: f.lineCount, total: f.total };
      await mark({ step: 'reforecast', actor: 'closeloop', details: { delivered } });
      return delivered;
    });
  }
  for (const s of state.steps) if (s.state === 'pending' && s.name !== 'report') s.state = 'skipped';
  state.report = await step('report', () => db.closeReportSummary({ legalEntity, period }));
  const outcome: EntityCloseOutcome = !decision
    ? 'sign_off_expired'
    : decision.decision === 'approve'
      ? 'closed'
      : 'rejected';
  if (outcome === 'closed') await mark({ step: 'closed', actor: 'closeloop', details: { lock: state.lock } });
  setStatus(outcome);
  await condition(allHandlersFinished);
  return state;
}
