import os from 'node:os';
import { parseArgs } from 'node:util';
import { budgetRows } from '../simulators/scenario/services-company';
import { type BudgetCycleStatus } from '../workflows/budget-cycle-state';
import { SearchAttributes } from '../workflows/definitions';
import { planVersion } from '../test/harness/cycle';
import { apiClient, cyclePath } from '../test/harness/http';
import { writeFigures } from './bench/figures';
import { benchOnHarness } from './bench/harness';
import { eventMillis } from './bench/history';

/**
 * npm run bench:approvals [-- --cycles 1000 --sample 200 --concurrency 4]
 *
 * Approvals at load: `--cycles` budget cycles are started through the API and left awaiting approval; then
 * approvers decide a sample of them, `--concurrency` at a time, each through the API (POST …/decision) and each
 * followed by the status read a requester makes (GET /v1/budget-cycles/{id}). What is measured is the time
 * from sending the approval until the status read shows it (the approval at its level, or the decision): p50,
 * p95 and p99 (target: p99 < 50 ms). Beside it, the same status read alone on cycles nobody is deciding, and the
 * decision's answer alone. On the test harness's dev server, worker and API, in one process; figures to
 * <data dir>/bench/approvals.json.
 */

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN;
const figures = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Number(x.toFixed(1));
  return { count: s.length, p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), p99: r(percentile(s, 99)) };
};

/** The approver of the cycle's first approval, as its `decide` update answered. */
const principal = (status: Partial<BudgetCycleStatus>) =>
  status.approval?.stages.flat().flatMap((l) => l.approvals)[0]?.principal;

/** Whether a status read shows the approval: at its level in the chain, or as the cycle's decision. */
const shows = (status: Partial<BudgetCycleStatus>, approver: string | undefined) =>
  status.decision?.decision === 'approve' ||
  (approver !== undefined &&
    !!status.approval?.stages.flat().some((l) => l.approvals.some((a) => a.principal === approver)));

/** Runs `work` over `items`, `concurrency` at a time. */
async function inTurn<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

benchOnHarness({ api: true }, async (stack) => {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '1000' },
      sample: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
    },
  });
  const n = Number(values.cycles);
  const sample = Math.min(n, Number(values.sample ?? Math.min(n, 200)));
  const concurrency = Number(values.concurrency);
  const request = apiClient(stack.api!.url);
  const fy = await stack.newFiscalYear();
  console.log(`[bench] starting ${n} budget cycles through the API and waiting for them to await approval…`);
  const versions = Array.from({ length: n }, (_x, i) => i + 1);
  // Small versions (four lines each): the benchmark is about the approvals, not the validation.
  for (const v of versions) planVersion(stack, fy, v, budgetRows(fy, v).slice(0, 4));
  const started = performance.now();
  const ids: string[] = [];
  await inTurn(versions, 16, async (version) => {
    const res = await request('POST', '/v1/budget-cycles', {
      key: 'dev-planner',
      body: { legalEntity: 'ACME-US', fiscalYear: fy, version },
    });
    if (res.status !== 202)
      throw new Error(`starting version ${version}: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(res.body.cycleId as string);
  });
  const awaiting = `WorkflowType = 'budgetCycle' AND ${SearchAttributes.FiscalYear.name} = ${fy} AND ${SearchAttributes.CycleStatus.name} = 'awaiting_approval'`;
  for (;;) {
    const { count } = await stack.client.workflow.count(awaiting);
    if (count >= n) break;
    if (performance.now() - started > 30 * 60_000)
      throw new Error(`only ${count} of ${n} cycles await approval`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const readySeconds = (performance.now() - started) / 1000;
  console.log(`[bench] ${n} cycles await approval after ${readySeconds.toFixed(1)} s`);

  // The status read alone, on cycles nobody decides in this run (the last ones started).
  const idle = ids.slice(sample);
  const alone: number[] = [];
  await inTurn(idle.length ? idle.slice(0, sample) : ids.slice(0, sample), concurrency, async (id) => {
    const t0 = performance.now();
    const res = await request('GET', cyclePath(id), { key: 'dev-planner' });
    if (res.status !== 200) throw new Error(`status of ${id}: ${res.status}`);
    alone.push(performance.now() - t0);
  });

  console.log(`[bench] approving ${sample} of them, ${concurrency} approvers at once…`);
  const visible: number[] = [];
  const answered: number[] = [];
  await inTurn(ids.slice(0, sample), concurrency, async (id) => {
    const t0 = performance.now();
    const decided = await request('POST', `${cyclePath(id)}/decision`, {
      key: 'dev-approver',
      body: { decision: 'approve', comment: 'bench' },
    });
    if (decided.status !== 200)
      throw new Error(`approving ${id}: ${decided.status} ${JSON.stringify(decided.body)}`);
    answered.push(performance.now() - t0);
    for (;;) {
      const status = await request('GET', cyclePath(id), { key: 'dev-planner' });
      if (shows(status.body as Partial<BudgetCycleStatus>, principal(decided.body))) break;
      if (performance.now() - t0 > 60_000) throw new Error(`${id}'s status never showed its approval`);
    }
    visible.push(performance.now() - t0);
  });

  // Where an approval's time goes: the events of one approved cycle from the workflow task that took the
  // update (scheduled when it arrived) to the update's completion, in milliseconds since that task was
  // scheduled (activities the update waits for show here).
  const history = await stack.client.workflow.getHandle(ids[Math.floor(sample / 2)]!).fetchHistory();
  const events = history.events ?? [];
  const acceptedAt = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  let accepted = acceptedAt;
  while (accepted > 0 && !events[accepted]!.workflowTaskScheduledEventAttributes) accepted--;
  const completed = events.findIndex((e) => e.workflowExecutionUpdateCompletedEventAttributes);
  const at = (i: number) => eventMillis(events[i]!);
  const anatomy =
    acceptedAt >= 0 && completed > accepted
      ? events.slice(accepted, completed + 1).map((e, j) => {
          const type = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof typeof e]);
          const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
          return `+${(at(accepted + j) - at(accepted)).toFixed(0)} ms ${type?.replace('EventAttributes', '')}${activity ? ` ${activity}` : ''}`;
        })
      : [];
  console.log('[bench] one approval, from the workflow task that took the update to the update completed:');
  for (const line of anatomy) console.log(`[bench]   ${line}`);

  const result = {
    machine: { cpus: os.cpus().length },
    cycles: n,
    sample,
    concurrency,
    readySeconds: Number(readySeconds.toFixed(1)),
    ceiling: { tool: 'GET /v1/budget-cycles/{id} alone, on cycles awaiting approval', ...figures(alone) },
    closeloop: { measured: 'POST …/decision until GET shows it', ...figures(visible) },
    decisionAnswered: figures(answered),
    target: 'p99 < 50 ms',
    anatomy,
  };
  console.log(
    `[bench] status read alone p50 ${result.ceiling.p50} ms p95 ${result.ceiling.p95} ms p99 ${result.ceiling.p99} ms`,
  );
  console.log(
    `[bench] decision answered p50 ${result.decisionAnswered.p50} ms p95 ${result.decisionAnswered.p95} ms p99 ${result.decisionAnswered.p99} ms (POST …/decision alone)`,
  );
  console.log(
    `[bench] approval visible  p50 ${result.closeloop.p50} ms p95 ${result.closeloop.p95} ms p99 ${result.closeloop.p99} ms (target p99 < 50 ms), ${n} cycles awaiting`,
  );
  console.log(`[bench] figures written to ${writeFigures('approvals.json', result)}`);
});
