import { type BudgetDecisionKind, type DecisionRefusal } from './approval';
import { type ApprovalRoute, levelDelegates, type RouteLevel } from './approval-policy';

type Decision = { decision: BudgetDecisionKind; principal: string; comment?: string };

/**
 * A version's walk along its approval route, as plain data the workflow keeps and its status query shows:
 * one stage open at a time, its levels in parallel, each level approved once `required` of its approvers
 * have approved. A rejection at any open level ends the chain. These functions decide; the workflow waits.
 */

export interface LevelApproval {
  principal: string;
  /** Set when a delegate decided: the approver they acted for. */
  onBehalfOf?: string;
  comment?: string;
  at: string;
}

export interface ChainLevel extends RouteLevel {
  status: 'pending' | 'open' | 'approved';
  approvals: LevelApproval[];
}

export interface ApprovalChainState {
  /** The policy revision the route came from (null: the approvers' roster, for an entity without one). */
  policyRevision: number | null;
  stages: ChainLevel[][];
  skipped: ApprovalRoute['skipped'];
  /** Index of the open stage; stages.length once every stage has passed. */
  current: number;
  /** A rejection, or a send-back for changes, at any open level ends the chain. */
  stopped?: {
    decision: Exclude<BudgetDecisionKind, 'approve'>;
    principal: string;
    /** Set when a delegate decided: the approver they acted for. */
    onBehalfOf?: string;
    comment?: string;
    at: string;
    levels: string[];
  };
}

export function openChain(route: ApprovalRoute, policyRevision: number | null): ApprovalChainState {
  return {
    policyRevision,
    stages: route.stages.map((levels, i) =>
      levels.map((l) => ({ ...l, status: i === 0 ? 'open' : 'pending', approvals: [] })),
    ),
    skipped: route.skipped,
    current: 0,
  };
}

const openLevels = (c: ApprovalChainState) => (c.stages[c.current] ?? []).filter((l) => l.status === 'open');

/** Whom a principal decides for at a level: themselves, or the approver they are the delegate of. */
const actingFor = (l: ChainLevel, principal: string) =>
  l.approvers.includes(principal) ? principal : l.delegates?.[principal];

const decidedFor = (l: ChainLevel, approver: string) =>
  l.approvals.some((a) => (a.onBehalfOf ?? a.principal) === approver);

/** The open levels this principal may still decide at (for themselves or as a delegate). */
export function levelsFor(c: ApprovalChainState, principal: string): ChainLevel[] {
  return openLevels(c).filter((l) => {
    const approver = actingFor(l, principal);
    return approver !== undefined && !decidedFor(l, approver);
  });
}

/** Why a decision is refused at the chain's current stage, or undefined when it counts somewhere. */
export function chainRefusal(
  c: ApprovalChainState,
  who: { submittedBy: string; integrationAdmins: readonly string[]; awaiting: boolean },
  d: Decision,
): DecisionRefusal | undefined {
  if (c.stopped)
    return {
      code: 'AlreadyDecided',
      message: `the version was already ${c.stopped.decision === 'reject' ? 'rejected' : 'sent back'} by ${c.stopped.principal}`,
    };
  if (!who.awaiting || c.current >= c.stages.length)
    return { code: 'WrongStage', message: 'the version is not awaiting approval' };
  if (d.principal === who.submittedBy)
    return {
      code: 'SegregationOfDuties',
      message: `${d.principal} submitted this version and cannot decide on it`,
    };
  if (who.integrationAdmins.includes(d.principal))
    return {
      code: 'SegregationOfDuties',
      message: `${d.principal} is an integration administrator and cannot decide on budgets`,
    };
  if (levelsFor(c, d.principal).length) return undefined;
  const open = openLevels(c);
  if (
    (c.stages[c.current] ?? []).some((l) => {
      const approver = actingFor(l, d.principal);
      return approver !== undefined && decidedFor(l, approver);
    })
  )
    return { code: 'AlreadyDecided', message: `${d.principal} already approved at this stage` };
  return {
    code: 'NotAnApprover',
    message: `${d.principal} is not an approver at the open stage (${open.map((l) => l.key).join(', ')})`,
  };
}

/**
 * Applies an accepted decision: an approval counts at every open level the principal may decide at, a
 * rejection or a send-back ends the chain. Returns the keys of the levels it counted at and, for a delegate,
 * the approver they acted for. Call chainRefusal first.
 */
export function applyDecision(
  c: ApprovalChainState,
  d: Decision & { at: string },
): { levels: string[]; onBehalfOf?: string } {
  const levels = levelsFor(c, d.principal);
  const approver = levels[0] && actingFor(levels[0], d.principal);
  const onBehalfOf = approver !== d.principal ? approver : undefined;
  if (d.decision !== 'approve') {
    c.stopped = {
      decision: d.decision,
      principal: d.principal,
      ...(onBehalfOf ? { onBehalfOf } : {}),
      comment: d.comment,
      at: d.at,
      levels: levels.map((l) => l.key),
    };
    return { levels: c.stopped.levels, onBehalfOf };
  }
  for (const l of levels) {
    const approver = actingFor(l, d.principal)!;
    l.approvals.push({
      principal: d.principal,
      ...(approver !== d.principal ? { onBehalfOf: approver } : {}),
      comment: d.comment,
      at: d.at,
    });
    if (l.approvals.length >= l.required) l.status = 'approved';
  }
  return { levels: levels.map((l) => l.key), onBehalfOf };
}

/** Whether every level of the open stage is approved. */
export function stagePassed(c: ApprovalChainState): boolean {
  const stage = c.stages[c.current];
  return !!stage && stage.every((l) => l.status === 'approved');
}

/** Opens the next stage once the open one passed; false when the chain is through (approved). */
export function advance(c: ApprovalChainState): boolean {
  c.current++;
  const next = c.stages[c.current];
  if (!next) return false;
  for (const l of next) l.status = 'open';
  return true;
}

/**
 * Who is still awaited at the open stage (an escalation's or a reminder's addressees, an inbox's owners):
 * each approver not yet decided for, and their delegates.
 */
export function awaitedApprovers(c: ApprovalChainState): string[] {
  return [
    ...new Set(
      openLevels(c).flatMap((l) => {
        const waiting = l.approvers.filter((p) => !decidedFor(l, p));
        const delegates = Object.entries(l.delegates ?? {})
          .filter(([, approver]) => waiting.includes(approver))
          .map(([d]) => d);
        return [...waiting, ...delegates];
      }),
    ),
  ];
}

/**
 * The delegations in force changed (an approver went on leave, or came back): the open stage's delegates
 * follow them. Approvals a delegate already gave stand; a revoked delegate cannot give more.
 */
export function refreshDelegates(
  c: ApprovalChainState,
  delegations: Record<string, readonly string[]>,
  who: { submittedBy: string; integrationAdmins: readonly string[] },
): void {
  for (const l of openLevels(c)) {
    const delegates = levelDelegates(l.approvers, delegations, who);
    if (delegates) l.delegates = delegates;
    else delete l.delegates;
  }
}
