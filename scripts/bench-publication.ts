import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type WorkflowHandle } from '@temporalio/client';
import { insertCostCenters, insertHierarchy, upsertDimensionMappings } from '../db/queries/reference';
import { publicationWorkflowId } from '../domain/identity';
import { type PlanningBudgetRow } from '../domain/model';
import { fromMinor } from '../domain/money';
import { monthlyFiscalPeriods } from '../domain/reference';
import { ACQUIRED, NETSUITE_FIRST_MONTH, acquiredBudgetRows } from '../simulators/scenario/acquired';
import { corporateBudgetRows } from '../simulators/scenario/corporate';
import { europeBudgetRows } from '../simulators/scenario/europe';
import { budgetRows as servicesBudgetRows } from '../simulators/scenario/services-company';
import { seedAcquiredBooks, seedEuropeBooks, seedOracleLedger } from '../simulators/scenario/seed';
import { apiClient, cyclePath } from '../test/harness/http';
import { withWorkerProcess } from '../test/harness/worker-process';
import { type PublicationProgress, publicationProgressQuery } from '../workflows/publication';
import { writeFigures } from './bench/figures';
import { benchOnHarness } from './bench/harness';
import { cpuNow, cpuSince, summariseCpuProfile } from './bench/cpu';
import { taskTimes } from './bench/history';
import { resetTreePeakRss, treePeakRssMb, treeRssMb } from './bench/memory';
import { projectPublication, type ErpWork } from './bench/vendor-limits';

/**
 * npm run bench:publication [-- --lines 200000] [-- --chunk-size 1000]
 *
 * The annual peak: one group budget of `--lines` lines for the manufacturer's four ERPs (a quarter each: the US
 * services company to Dynamics 365, corporate finance to Oracle Fusion GL budget balances, European operations to
 * SAP S/4HANA plan data, the acquired subsidiary to NetSuite budgets), each entity's cost centers multiplied until
 * its plan has its share of lines. The ERPs are the simulators, answering at once (zero latency): what is timed is
 * closeloop's own work, from the last approval until every ERP holds and has reconciled its budget. closeloop's
 * worker runs as its own process, as in production, so its peak resident set is its own. Prints that time (target
 * under 60 s), the import before it, the largest workflow history (target under 10,000 events), the worker's peak
 * RSS, per-ERP progress as the status queries show it while it runs, and a projection of the same publication
 * against each vendor's documented limits (scripts/bench/vendor-limits.ts).
 */

/** When an entity's cycle entered its last stages, in seconds after the approval. */
interface EntityTimeline {
  legalEntity: string;
  reconciling?: number;
  reforecasting?: number;
  done?: number;
}

const ENTITIES = [
  { code: 'ACME-US', system: 'd365', currency: 'USD', firstMonth: 1, rows: servicesBudgetRows },
  { code: 'ACME-CORP', system: 'oracle', currency: 'USD', firstMonth: 1, rows: corporateBudgetRows },
  { code: 'ACME-NL', system: 'sap', currency: 'EUR', firstMonth: 1, rows: europeBudgetRows },
  {
    code: ACQUIRED,
    system: 'netsuite',
    currency: 'USD',
    firstMonth: NETSUITE_FIRST_MONTH,
    rows: acquiredBudgetRows,
  },
] as const;

/** The benchmark's cost centers of an entity: new codes, each mapped to a value of its ERP no other code has. */
function benchCostCenters(entity: (typeof ENTITIES)[number], count: number, index: number) {
  return Array.from({ length: count }, (_, i) => {
    const n = index * 10_000 + i;
    const erpValue = {
      d365: `9${String(n).padStart(5, '0')}`,
      oracle: String(50_000 + n),
      sap: `9${String(n).padStart(7, '0')}`,
      netsuite: String(90_000 + n),
    }[entity.system];
    return { code: `BENCH-${entity.code}-${String(i).padStart(5, '0')}`, erpValue };
  });
}

/** An entity's plan of about `lines` lines: every account of its seeded plan on each bench cost center, monthly. */
function benchPlan(
  entity: (typeof ENTITIES)[number],
  fiscalYear: number,
  costCenters: { code: string }[],
): PlanningBudgetRow[] {
  const accounts = [...new Set(entity.rows(fiscalYear).map((r) => r.dimensions.account!))].sort();
  const periods = monthlyFiscalPeriods(fiscalYear, entity.firstMonth);
  return costCenters.flatMap((cc, c) =>
    accounts.flatMap((account, a) =>
      periods.map((p, m) => ({
        dimensions: { account, costCenter: cc.code },
        period: p.period,
        // Whole amounts in minor units that differ by line: 1,000.00 to 10,999.99.
        amount: fromMinor(
          BigInt(100_000 + ((c * 7919 + a * 104_729 + m * 1_299_709) % 1_000_000)),
          entity.currency,
        ),
        currency: entity.currency,
      })),
    ),
  );
}

benchOnHarness(
  {
    api: true,
    worker: false,
    // NetSuite's default account concurrency (scripts/bench/vendor-limits.ts); its jobs, which the simulator ends
    // at once, read again at once. Every other sink answers at once.
    env: { NETSUITE_CONCURRENCY_LIMIT: '5', NETSUITE_JOB_POLL: '1ms' },
  },
  async (stack) => {
    const { values } = parseArgs({
      options: {
        lines: { type: 'string', default: '200000' },
        'chunk-size': { type: 'string', default: '1000' },
        /** A directory for the worker's V8 CPU profile (summarised at the end). */
        profile: { type: 'string' },
      },
    });
    const lines = Number(values.lines);
    const chunkSize = Number(values['chunk-size']);
    const fy = await stack.newFiscalYear();
    seedOracleLedger(stack.oracle, [fy]);
    seedEuropeBooks(stack.sap, { fiscalYear: fy });
    seedAcquiredBooks(stack.netsuite, { fiscalYear: fy, years: [fy] });

    // Each entity's share of the lines, on cost centers of its own (master data and mappings to its ERP).
    const plans = new Map<string, PlanningBudgetRow[]>();
    for (const [index, entity] of ENTITIES.entries()) {
      const accounts = new Set(entity.rows(fy).map((r) => r.dimensions.account)).size;
      const count = Math.max(1, Math.round(lines / ENTITIES.length / (accounts * 12)));
      const ccs = benchCostCenters(entity, count, index);
      await stack.db.transaction(async (tx) => {
        await insertCostCenters(
          tx,
          ccs.map((c) => ({ code: c.code, name: c.code, legalEntity: entity.code, validFrom: '2020-01-01' })),
        );
        await insertHierarchy(
          tx,
          ccs.map((c) => ({
            legalEntity: entity.code,
            dimension: 'costCenter',
            code: c.code,
            parent: null,
            validFrom: '2020-01-01',
          })),
        );
        await upsertDimensionMappings(
          tx,
          ccs.map((c) => ({
            erpSystem: entity.system,
            dimension: 'costCenter' as const,
            canonicalCode: c.code,
            erpValue: c.erpValue,
            validFrom: '2020-01-01',
            validTo: null,
          })),
        );
      });
      const rows = benchPlan(entity, fy, ccs);
      plans.set(entity.code, rows);
      stack.anaplan.putBudgetVersion({
        legalEntity: entity.code,
        fiscalYear: fy,
        scenario: 'BUDGET',
        version: 1,
        rows,
      });
    }
    const total = [...plans.values()].reduce((n, r) => n + r.length, 0);
    console.log(
      `bench:publication — ${total.toLocaleString('en')} lines (${ENTITIES.map((e) => `${e.code} → ${e.system} ${plans.get(e.code)!.length.toLocaleString('en')}`).join(', ')}), chunks of ${chunkSize}, ${os.cpus().length} cores`,
    );

    const request = apiClient(stack.api!.url);
    const handles = (codes: readonly string[]) =>
      codes.map((code) => ({
        code,
        handle: stack.client.workflow.getHandle(
          publicationWorkflowId(
            { legalEntity: code, fiscalYear: fy, scenario: 'BUDGET', version: 1 },
            ENTITIES.find((e) => e.code === code)!.system,
          ),
        ) as WorkflowHandle,
      }));
    const publications = handles(ENTITIES.map((e) => e.code));

    const profile = values.profile ? path.resolve(values.profile) : undefined;
    if (profile) rmSync(profile, { recursive: true, force: true });
    const run = await withWorkerProcess(
      stack,
      async (worker) => {
        const cpu0 = cpuNow(worker.pid);
        const t0 = performance.now();
        const started = await request('POST', '/v1/group-budget-cycles', {
          key: 'dev-planner',
          body: {
            group: 'ACME-GROUP',
            legalEntities: ENTITIES.map((e) => e.code),
            fiscalYear: fy,
            version: 1,
            policy: 'all-or-nothing',
            chunkSize,
          },
        });
        if (started.status !== 202) throw new Error(`group cycle refused: ${JSON.stringify(started.body)}`);
        const groupId = String(started.body.groupCycleId);
        const cycleIds = started.body.cycleIds as string[];
        const statusOf = async (id: string) =>
          (await request('GET', cyclePath(id), { key: 'dev-planner' })).body as { status: string };
        // Imported and validated: every cycle waits for its approver.
        for (const id of cycleIds) {
          for (;;) {
            const s = await statusOf(id);
            if (s.status === 'awaiting_approval') break;
            if (['failed', 'rejected', 'cancelled', 'validation_failed'].includes(s.status))
              throw new Error(`${id} ended ${s.status} before approval: ${JSON.stringify(s)}`);
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        const imported = performance.now();
        // The import's peak apart from the publication's: each phase's memory is its own figure.
        const importPeakRssMb = treePeakRssMb(worker.pid!);
        const peakReset = resetTreePeakRss(worker.pid!);
        for (const id of cycleIds) {
          const res = await request('POST', `${cyclePath(id)}/decision`, {
            key: 'dev-approver',
            body: { decision: 'approve' },
          });
          if (res.status !== 200) throw new Error(`approval of ${id} refused: ${JSON.stringify(res.body)}`);
        }
        const approved = performance.now();
        const approvedAt = Date.now();

        // Per-ERP progress as support sees it (each publication's status query), every second until the end.
        const samples: { at: number; progress: Record<string, string>; workerRssMb: number }[] = [];
        let done = false;
        const sampler = (async () => {
          while (!done) {
            const progress: Record<string, string> = {};
            for (const p of publications) {
              const s = (await p.handle.query(publicationProgressQuery).catch(() => undefined)) as
                PublicationProgress | undefined;
              progress[p.code] = s ? `${s.state} ${s.posted}/${s.chunkCount ?? '?'}` : 'not started';
            }
            samples.push({
              at: Math.round((performance.now() - approved) / 1000),
              progress,
              workerRssMb: Math.round(treeRssMb(worker.pid!)),
            });
            if (samples.length % 5 === 1)
              console.log(
                `  +${samples.at(-1)!.at}s  ${ENTITIES.map((e) => `${e.system} ${progress[e.code]}`).join(' | ')} | worker ${samples.at(-1)!.workerRssMb} MiB`,
              );
            await new Promise((r) => setTimeout(r, 1000));
          }
        })();
        let group: { status: string; entities: { legalEntity: string; state: string }[] };
        try {
          for (;;) {
            // A keep-alive socket the API closed while this process was busy answering as the ERPs: ask again.
            const res = await request('GET', `/v1/group-budget-cycles/${encodeURIComponent(groupId)}`, {
              key: 'dev-planner',
            }).catch((err: unknown) => {
              if (err instanceof TypeError && err.message === 'fetch failed') return undefined;
              throw err;
            });
            if (!res) continue;
            group = res.body as typeof group;
            if (['completed', 'failed', 'stood_down', 'cancelled'].includes(group.status)) break;
            await new Promise((r) => setTimeout(r, 200));
          }
        } finally {
          done = true;
          await sampler;
        }
        const published = performance.now();
        const cpu = cpuSince(cpu0, worker.pid);
        if (group.status !== 'completed')
          throw new Error(`the group ended ${group.status}: ${JSON.stringify(group)}`);
        // The largest history (the group's, each entity's cycle, each publication), where each cycle's time went,
        // and what each ERP received, by the publication's own record; read while the worker still answers queries.
        const histories: { workflowId: string; events: number }[] = [];
        const anatomy = new Map<string, { count: number; running: number }>();
        for (const workflowId of [groupId, ...cycleIds, ...publications.map((p) => p.handle.workflowId)]) {
          const events = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
          histories.push({ workflowId, events: events.length });
          for (const [task, t] of taskTimes(events)) {
            const a = anatomy.get(task) ?? { count: 0, running: 0 };
            anatomy.set(task, { count: a.count + 1, running: a.running + t.running });
          }
        }
        // Each entity's way through the loop, from its cycle's own stage history (workflow time).
        const timeline: EntityTimeline[] = [];
        for (const id of cycleIds) {
          const c = (await request('GET', cyclePath(id), { key: 'dev-planner' })).body as {
            ref: { legalEntity: string };
            history: { stage: string; status: string; at: string }[];
          };
          // The last time it entered the stage (a group's entity reconciles, waits, then syncs its actuals).
          const at = (stage: string) => {
            const h = [...c.history].reverse().find((x) => x.stage === stage);
            return h ? Number(((Date.parse(h.at) - approvedAt) / 1000).toFixed(1)) : undefined;
          };
          timeline.push({
            legalEntity: c.ref.legalEntity,
            reconciling: at('reconcile'),
            reforecasting: at('reforecast'),
            done: at('done'),
          });
        }
        const work: ErpWork[] = [];
        for (const p of publications) {
          const status = (await p.handle.query(publicationProgressQuery)) as PublicationProgress;
          work.push({
            system: ENTITIES.find((e) => e.code === p.code)!.system,
            lines: status.lineCount ?? 0,
            chunks: status.chunkCount ?? 0,
            periods: 12,
          });
        }
        const result = {
          importSeconds: (imported - t0) / 1000,
          publishSeconds: (published - approved) / 1000,
          // Every ERP published and reconciled: the last entity to start its reforecast.
          reconciledSeconds: Math.max(...timeline.map((t) => t.reforecasting ?? Infinity)),
          timeline,
          peakRssMb: treePeakRssMb(worker.pid!),
          importPeakRssMb,
          peakReset,
          cpu,
          samples,
          histories,
          anatomy: [...anatomy]
            .map(([task, a]) => ({
              task,
              count: a.count,
              runningSeconds: Number((a.running / 1000).toFixed(1)),
            }))
            .sort((a, b) => b.runningSeconds - a.runningSeconds),
          work,
        };
        if (profile) {
          // Stopped by SIGKILL after this, a profiled worker would write nothing: SIGINT lets it end and write.
          const exited = new Promise((r) => worker.once('exit', r));
          process.kill(-worker.pid!, 'SIGINT');
          await exited;
        }
        return result;
      },
      profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}`] } : {},
    );
    const { histories, work } = run;
    const largest = histories.reduce((a, b) => (b.events > a.events ? b : a));
    const projection = work.map((w) => projectPublication(w));

    console.log(
      `  import and validation            ${run.importSeconds.toFixed(1)} s (planning export to approval)`,
    );
    console.log(
      `  publication, closeloop's own     ${run.reconciledSeconds.toFixed(1)} s   (target < 60 s; approval to every ERP published and reconciled)`,
    );
    console.log(
      `  the whole loop                   ${run.publishSeconds.toFixed(1)} s   (and every entity's reforecast imported into the planning platform)`,
    );
    for (const t of run.timeline)
      console.log(
        `    ${t.legalEntity.padEnd(10)} reconciled, activated, syncing actuals +${t.reconciling}s, reforecasting +${t.reforecasting}s, done +${t.done}s`,
      );
    console.log(
      `  largest history                  ${largest.events} events (${largest.workflowId}; target < 10,000)`,
    );
    console.log(
      run.peakReset
        ? `  worker peak RSS                  ${Math.round(run.peakRssMb)} MiB publishing (${Math.round(run.importPeakRssMb)} MiB importing and validating)`
        : `  worker peak RSS                  ${Math.round(Math.max(run.peakRssMb, run.importPeakRssMb))} MiB (import and publication)`,
    );
    const largestSampled = run.samples.reduce(
      (a, b) => (b.workerRssMb > a.workerRssMb ? b : a),
      run.samples[0]!,
    );
    if (largestSampled)
      console.log(
        `                                   sampled each second: largest ${largestSampled.workerRssMb} MiB at +${largestSampled.at}s`,
      );
    console.log(
      `  CPU, approval to published       dev server ${run.cpu.temporal} s, PostgreSQL ${run.cpu.postgres} s, closeloop worker ${run.cpu.worker} s, this process (simulators, API) ${run.cpu.bench} s`,
    );
    console.log('  where the workflows spent their time (all entities, running time summed):');
    for (const a of run.anatomy.slice(0, 8))
      console.log(`    ${`${a.task} × ${a.count}`.padEnd(44)} ${a.runningSeconds} s`);
    console.log('  against the vendors’ documented limits (projection):');
    for (const p of projection)
      console.log(
        `    ${p.system.padEnd(9)} ${p.lines.toLocaleString('en').padStart(8)} lines, ${String(p.requests).padStart(6)} requests (${p.sequential} in sequence)   ≈ ${p.seconds.toFixed(0).padStart(5)} s   ${p.bound}`,
      );
    console.log(
      `    the publication, ERPs in parallel: ≈ ${Math.max(...projection.map((p) => p.seconds)).toFixed(0)} s (the slowest ERP)`,
    );
    const summary = profile ? summariseCpuProfile(profile) : undefined;
    if (summary) {
      console.log(`  worker CPU profile (${summary.seconds} s sampled), heaviest functions by self time:`);
      for (const f of summary.functions) console.log(`    ${String(f.percent).padStart(5)}%  ${f.name}`);
    }
    writeFigures('publication.json', {
      machine: { cpus: os.cpus().length },
      lines: total,
      chunkSize,
      closeloop: {
        importSeconds: Number(run.importSeconds.toFixed(2)),
        publishSeconds: Number(run.reconciledSeconds.toFixed(2)),
        loopSeconds: Number(run.publishSeconds.toFixed(2)),
        timeline: run.timeline,
        peakRssMb: Math.round(run.peakRssMb),
        importPeakRssMb: Math.round(run.importPeakRssMb),
        largestHistory: largest,
        histories,
        anatomy: run.anatomy,
        cpu: run.cpu,
      },
      target: { publishSeconds: 60, historyEvents: 10_000 },
      progress: run.samples,
      projection,
    });
  },
);
