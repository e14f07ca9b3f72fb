import { apiKeyOf, loadConfig } from '../../config';
import { type ApprovalChainState, awaitedApprovers } from '../../domain/approval-chain';
import { parseBudgetCycleWorkflowId } from '../../domain/identity';
import { type BudgetVersionRef, type PlanningBudgetRow } from '../../domain/model';
import { localApiUrl } from '../lib/simulators';

/** What every demo scenario shares: the running stack's addresses, its API, and how steps are printed. */

export const config = loadConfig();
export const api = process.env.CLOSELOOP_API_URL ?? localApiUrl(config);
export const planningSim = `http://127.0.0.1:${config.simulators.anaplanPort}`;
export const procurementSim = `http://127.0.0.1:${config.simulators.procurementPort}`;
export const d365Sim = `http://127.0.0.1:${config.simulators.d365Port}`;
export const ENTITY = 'ACME-US';

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** closeloop's API as the principal of `key` (one of the dev API keys). */
export function call(
  method: string,
  path: string,
  key?: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return send(api, method, path, { ...(key ? { 'x-api-key': key } : {}), ...headers }, body);
}

/** The procurement (Coupa-style) simulator, as a buyer in its UI would act. */
export function procurement(method: string, path: string, body?: unknown) {
  return send(procurementSim, method, path, {}, body);
}

/** The Dynamics 365 simulator's back office, as an administrator in the ERP would act (publish, suspend, …). */
export function erpAdmin(method: string, path: string, body?: unknown) {
  return send(d365Sim, method, path, {}, body);
}

/** The reply, when its status is one of `ok`; otherwise the demo stops, showing what closeloop answered. */
export function must(r: Reply, ...ok: number[]): Reply {
  if (!ok.includes(r.status)) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
}

/** The entity's budget cycles of a fiscal year (the last 200), each with its version's reference. */
export async function cyclesOf(
  legalEntity: string,
  fiscalYear: number,
): Promise<{ cycleId: string; status: string; ref?: BudgetVersionRef }[]> {
  const list = must(
    await call(
      'GET',
      `/v1/budget-cycles?legalEntity=${legalEntity}&fiscalYear=${fiscalYear}&limit=200`,
      'dev-planner',
    ),
    200,
  );
  return ((list.body.cycles as { cycleId: string; status: string }[]) ?? []).map((c) => ({
    ...c,
    ref: parseBudgetCycleWorkflowId(c.cycleId)?.ref,
  }));
}

/** Publishes a budget version in the planning simulator, as FP&A would in the planning platform. */
export async function putPlanningVersion(
  ref: { legalEntity: string; fiscalYear: number; scenario: string; version: number },
  rows: readonly PlanningBudgetRow[],
) {
  const put = await fetch(`${planningSim}/__sim/budget-versions`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...ref, rows }),
  });
  if (!put.ok)
    throw new Error(
      `planning simulator refused ${ref.legalEntity} v${ref.version}: ${put.status} ${await put.text()}`,
    );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads until `done` holds (every 250 ms, for up to 5 minutes), as a person refreshing a page would; stops at
 * once when `ended` says what it reads can no longer get there (and why).
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  ended: (value: T) => string | undefined = () => undefined,
) {
  for (let i = 0; i < 1200; i++) {
    const value = await read();
    if (done(value)) return value;
    const why = ended(value);
    if (why) throw new Error(`stopped waiting for ${what}: ${why}`);
    await sleep(250);
  }
  throw new Error(`waited 5 minutes for ${what}`);
}

/** Where a budget cycle ends; once there, nothing else will happen to it. */
export const CYCLE_ENDS = [
  'invalid',
  'unroutable',
  'rejected',
  'sent_back',
  'expired',
  'superseded',
  'kept',
  'withdrawn',
  'completed',
] as const;

/** Why a cycle that reads as ended is there: its status with the reasons it gives. */
export function cycleEnded(s: Record<string, unknown>): string | undefined {
  const status = String(s.status);
  if (!(CYCLE_ENDS as readonly string[]).includes(status) && status !== 'publication_failed')
    return undefined;
  const issues = ((s.issues ?? []) as { message: string }[]).map((i) => i.message);
  const decision = s.decision as { principal?: string; comment?: string } | undefined;
  const publications = ((s.publications ?? []) as { target: string; error?: string }[]).filter(
    (p) => p.error,
  );
  const reasons = [
    ...issues.slice(0, 5),
    ...(Number(s.issueCount ?? 0) > 5 ? [`… ${Number(s.issueCount) - 5} more`] : []),
    ...(s.outcomeReason ? [String(s.outcomeReason)] : []),
    ...(['rejected', 'sent_back'].includes(status) && decision
      ? [`by ${decision.principal}${decision.comment ? `: ${decision.comment}` : ''}`]
      : []),
    ...publications.map((p) => `${p.target}: ${p.error}`),
  ];
  return `${String(s.cycleId ?? 'the cycle')} is ${status}${reasons.length ? ` (${reasons.join('; ')})` : ''}`;
}

/** Follows a budget cycle until `done`; a cycle that ended otherwise stops the wait at once, saying why. */
export function followCycle(
  path: string,
  done: (s: Record<string, unknown>) => boolean,
  what: string,
  key = 'dev-planner',
) {
  return pollUntil(async () => must(await call('GET', path, key), 200).body, done, what, cycleEnded);
}
export const step = (msg: string) => console.log(`\n▶ ${msg}`);

/**
 * Approves a cycle as the people its route waits for, stage by stage (each with their own dev API key), until
 * it reaches `until`: whatever the entity's approval policy, the demo decides as its approvers would.
 */
export async function approveAsAwaited(path: string, until: string, comment: string) {
  for (;;) {
    const s = await followCycle(
      path,
      (x) =>
        x.status === until ||
        (x.status === 'awaiting_approval' && awaitedApprovers(x.approval as ApprovalChainState).length > 0),
      'the version to await approval',
    );
    if (s.status === until) return s;
    const chain = s.approval as ApprovalChainState;
    const awaited = awaitedApprovers(chain);
    // As many of each open level's approvers as it still needs (one of a roster, two of a quorum of three).
    const deciding = new Set<string>();
    for (const level of chain.stages[chain.current] ?? []) {
      if (level.status !== 'open') continue;
      const done = new Set(level.approvals.map((a) => a.onBehalfOf ?? a.principal));
      const needed = level.required - done.size;
      for (const p of level.approvers.filter((x) => !done.has(x)).slice(0, Math.max(0, needed)))
        deciding.add(p);
    }
    for (const principal of deciding) {
      const key = apiKeyOf(config, principal);
      if (!key) throw new Error(`no dev API key for ${principal}, whom the approval waits for`);
      // 409: the cycle moved on between the read and the decision (it took this one already).
      const decided = must(
        await call('POST', `${path}/decision`, key, { decision: 'approve', comment }),
        200,
        409,
      );
      if (decided.status === 200) console.log(`  ${principal} approves`);
    }
    // On once the cycle has taken the decisions: the next stage waits for others, or the cycle has moved on.
    const before = JSON.stringify(awaited);
    await followCycle(
      path,
      (x) =>
        x.status !== 'awaiting_approval' ||
        JSON.stringify(awaitedApprovers(x.approval as ApprovalChainState)) !== before,
      'the approvals to be taken',
    );
  }
}

export async function ensureStack() {
  step(`checking ${api}/health`);
  const health = await call('GET', '/health').catch(() => undefined);
  if (!health || health.status !== 200) {
    throw new Error(`the stack is not running at ${api}: start it with \`npm start\` in another terminal`);
  }
}
