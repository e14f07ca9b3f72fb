import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from '@temporalio/worker';
import { sql } from 'drizzle-orm';
import { insertFiscalPeriods, upsertLegalEntities } from '../db/queries/reference';
import { legalEntity as servicesCompany } from '../db/seed/services-company';
import { monthlyFiscalPeriods } from '../domain/reference';
import { writeFigures } from './bench/figures';
import { cpuNow, cpuSince } from './bench/cpu';
import { benchOnHarness } from './bench/harness';
import { taskTimes } from './bench/history';
import { withWorkerProcess } from '../test/harness/worker-process';
import { connectWorker } from '../config/temporal-connection';
import { decisionSignal } from '../workflows/definitions';
import { type PeriodCloseInput, type periodClose, periodCloseStatusQuery } from '../workflows/period-close';

/**
 * npm run bench:close [-- --entities 500]
 *
 * The close of a month for N legal entities (each with a small ledger in the Dynamics 365 simulator: a few
 * posted lines and an open purchase order; the benchmark signs each off as a controller as soon as its close
 * exists) against a no-op fan-out of N child workflows, on the same dev server and machine, in the same run.
 * closeloop's worker runs as its own process (`npm run worker`), as in production, so the simulators and the
 * benchmark's own calls in this process do not take its CPU; the no-op fan-out's worker runs here, alone.
 * Prints both times, their ratio (target ≤ 2×) and the largest histories.
 */
benchOnHarness({ worker: false }, async (stack) => {
  const { values } = parseArgs({ options: { entities: { type: 'string', default: '500' } } });
  const n = Number(values.entities);
  const fy = await stack.newFiscalYear();
  const month = `${fy}-03`;
  const codes = Array.from({ length: n }, (_, i) => `BENCH-${String(i).padStart(4, '0')}`);
  await upsertLegalEntities(
    stack.db,
    codes.map((code, i) => ({ ...servicesCompany, code, name: code, erpCompany: `b${i}` })),
  );
  await insertFiscalPeriods(
    stack.db,
    monthlyFiscalPeriods(fy).map((p) => ({ calendar: 'CAL-JAN', fiscalYear: fy, ...p })),
  ).catch(() => undefined);
  stack.d365.seedLedgerEntries(
    codes.flatMap((_, i) =>
      [1, 2, 3].map((k) => ({
        DataArea: `b${i}`,
        JournalNumber: `B${i}`,
        Voucher: `B${i}-${k}`,
        AccountingDate: `${month}-1${k}`,
        LedgerAccount: '64050-400',
        AccountingCurrencyAmount: `${k}00.00`,
        TransactionCurrencyCode: 'USD',
      })),
    ),
  );

  // The baseline: its own worker (the bench's no-op workflows) on its own task queue, same server.
  const connection = await connectWorker(stack.config.temporal);
  const baselineWorker = await Worker.create({
    connection,
    namespace: stack.config.temporal.namespace,
    taskQueue: `${stack.config.temporal.taskQueue}-baseline`,
    workflowsPath: require.resolve('./bench/fan-out-baseline'),
  });
  const baseline = await baselineWorker.runUntil(async () => {
    const cpu0 = cpuNow();
    const t0 = performance.now();
    const handle = await stack.client.workflow.start('noopFanOut', {
      workflowId: `bench-noop-${fy}`,
      taskQueue: `${stack.config.temporal.taskQueue}-baseline`,
      args: [{ count: n, batch: 100, prefix: `bench-noop-${fy}` }],
    });
    await handle.result();
    const ms = performance.now() - t0;
    return { ms, cpu: cpuSince(cpu0), events: (await handle.fetchHistory()).events!.length };
  });
  await connection.close();

  const { handle, result, closeMs, cpu } = await withWorkerProcess(stack, async (worker) => {
    const cpu0 = cpuNow(worker.pid);
    const input: PeriodCloseInput = {
      month,
      legalEntities: codes,
      requestedBy: 'sam@acme.example',
      signOff: {
        controllers: ['dave@acme.example'],
        integrationAdmins: [],
        escalateAfter: '1 hour',
        escalateTo: [],
        expireAfter: '1 hour',
      },
    };
    const t0 = performance.now();
    const handle = await stack.client.workflow.start<typeof periodClose>('periodClose', {
      workflowId: `period-close:${month}`,
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
    });
    // Sign-offs as the children start (the parent's status names them; a signal waits in Temporal until the
    // child's gate is open), so the benchmark adds no calls for children that do not exist yet.
    const signed = new Set<string>();
    while (signed.size < n) {
      const status = await handle.query(periodCloseStatusQuery).catch(() => undefined);
      const started = (status?.entities ?? []).filter((e) => e.workflowId && !signed.has(e.workflowId));
      await Promise.all(
        started.map(async (e) => {
          await stack.client.workflow
            .getHandle(e.workflowId!)
            .signal(
              decisionSignal,
              await stack.signed(e.workflowId!, { decision: 'approve', principal: 'dave@acme.example' }),
            );
          signed.add(e.workflowId!);
        }),
      );
      if (signed.size < n) await new Promise((r) => setTimeout(r, 500));
    }
    const result = await handle.result();
    const closeMs = performance.now() - t0;
    return { handle, result, closeMs, cpu: cpuSince(cpu0, worker.pid) };
  });
  const parentEvents = (await handle.fetchHistory()).events!.length;
  let childMax = 0;
  const profile = new Map<string, { count: number; waiting: number; running: number }>();
  const sampled = Math.min(20, n);
  for (const code of codes.slice(0, sampled)) {
    const h = await stack.client.workflow.getHandle(`period-close:${month}:${code}`).fetchHistory();
    childMax = Math.max(childMax, h.events!.length);
    for (const [task, t] of taskTimes(h.events ?? [])) {
      const p = profile.get(task) ?? { count: 0, waiting: 0, running: 0 };
      profile.set(task, {
        count: p.count + 1,
        waiting: p.waiting + t.waiting,
        running: p.running + t.running,
      });
    }
  }
  // Where an entity's close spends its time (of those sampled): each kind of task, how long it waited to be taken
  // and how long it ran, on average per entity. Workflow tasks include the local activities they ran.
  const anatomy = [...profile]
    .map(([task, p]) => ({
      task,
      perEntity: Number((p.count / sampled).toFixed(1)),
      waitingMs: Math.round(p.waiting / sampled),
      runningMs: Math.round(p.running / sampled),
    }))
    .sort((a, b) => b.waitingMs + b.runningMs - (a.waitingMs + a.runningMs));
  const closed = result.entities.filter((e) => e.state === 'closed').length;
  const [locks] = (await stack.db.execute(
    sql`select count(*)::int as n from entity_period_locks where period = ${month}`,
  )) as unknown as { n: number }[];

  console.log(
    `bench:close — ${n} legal entities, 3 ledger lines each, on ${process.platform} (${os.cpus().length} cores)`,
  );
  console.log(
    `  no-op fan-out of ${n} children   ${(baseline.ms / 1000).toFixed(1)} s   (parent history ${baseline.events} events)`,
  );
  console.log(
    `  period close of ${n} entities    ${(closeMs / 1000).toFixed(1)} s   (${closed} closed, ${locks!.n} periods locked)`,
  );
  console.log(`  ratio                            ${(closeMs / baseline.ms).toFixed(2)}×   (target ≤ 2×)`);
  console.log(
    `  largest history                  parent ${parentEvents} events; an entity's close ≤ ${childMax} events (of ${sampled} sampled)`,
  );
  // CPU seconds each party used, whole run: the dev server's share is what a close asks of Temporal itself.
  const parties = (c: typeof cpu) =>
    `dev server ${c.temporal} s, PostgreSQL ${c.postgres} s, closeloop worker ${c.worker} s, this process ${c.bench} s`;
  console.log(`  CPU, no-op fan-out               ${parties(baseline.cpu)}`);
  console.log(`  CPU, period close                ${parties(cpu)}`);
  console.log(
    `  an entity's close, per entity (${sampled} sampled): task × count: waiting to be taken + running`,
  );
  for (const a of anatomy)
    console.log(`    ${`${a.task} × ${a.perEntity}`.padEnd(40)} ${a.waitingMs} ms + ${a.runningMs} ms`);
  // For `npm run bench`, which puts every benchmark in one table.
  writeFigures('close.json', {
    machine: { cpus: os.cpus().length },
    entities: n,
    ceiling: {
      tool: `no-op fan-out of ${n} child workflows`,
      seconds: baseline.ms / 1000,
      cpu: baseline.cpu,
    },
    closeloop: {
      seconds: closeMs / 1000,
      closed,
      locked: locks!.n,
      parentEvents,
      childMaxEvents: childMax,
      cpu,
      anatomy,
    },
    ratio: Number((closeMs / baseline.ms).toFixed(2)),
    target: '<= 2',
  });
});
