import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { PROJECT_ROOT } from '../../config/paths';
import { runTemporalCommand } from '../harness/cli';
import { launch, type Launched, ownPorts, waitFor } from '../harness/launcher';

/** The scenarios in the README's order (npm run demo, then each --scenario). */
const SCENARIOS: string[][] = [
  [],
  ['--approve-by-signal'],
  ['--scenario', 'approvals'],
  ['--scenario', 'procurement'],
  ['--scenario', 'master-data'],
  ['--scenario', 'close'],
  ['--scenario', 'chart'],
  ['--scenario', 'control'],
  ['--scenario', 'manufacturer'],
  ['--scenario', 'migration'],
  ['--scenario', 'adaptive'],
];

interface Ran {
  args: string[];
  code: number | null;
  output: string;
  seconds: number;
}

/**
 * The README's walkthrough as a newcomer runs it on one `npm start`: every scenario in the README's order,
 * then all of them again. Each must exit 0, the second time too (a budget revised after the close of
 * 2027-03, a close found already done), and a demo that waits for a cycle stops at once, saying why, when the
 * cycle ended otherwise. Approving by signal is done the way the demo tells a person to: by running the
 * `temporal workflow signal` command it prints.
 */
describe('the demos, in the README order and then again, on one npm start', () => {
  const adminUrl = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `closeloop_demos_${process.pid}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-demos-'));
  let launcher: Launched | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const devConfig = path.join(dataDir, 'temporal-dev.yaml');
    const own = await ownPorts(devConfig);
    env = {
      ...own.env,
      DATABASE_URL: Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString(),
      TEMPORAL_DEV_CONFIG: devConfig,
      CLOSELOOP_DATA_DIR: dataDir,
    };
    launcher = launch(PROJECT_ROOT, env, 'scripts/start.ts');
    await waitFor(launcher, 'Try it: npm run demo', 'npm start', 120_000);
  }, 150_000);

  afterAll(async () => {
    const pid = launcher?.child.pid;
    if (pid && launcher!.child.exitCode === null) {
      process.kill(pid, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([launcher!.exited, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
      clearTimeout(timer);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // everything already stopped
      }
    }
    const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`drop database if exists "${database}" with (force)`);
    await admin.end({ timeout: 5 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One demo run; for --approve-by-signal, each printed `temporal workflow signal` command is run. */
  function demo(args: string[]): Promise<Ran> {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let partial = '';
    const signals: Promise<unknown>[] = [];
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      output += text;
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines)
        if (line.trim().startsWith('temporal workflow signal '))
          signals.push(runTemporalCommand(line.trim()));
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    return new Promise((resolve) =>
      child.once(
        'exit',
        (code) =>
          void Promise.allSettled(signals).then(() =>
            resolve({ args, code, output, seconds: Math.round((Date.now() - started) / 1000) }),
          ),
      ),
    );
  }

  test('every scenario exits 0, twice over, within about 7 minutes', async () => {
    const started = Date.now();
    const runs: Ran[] = [];
    for (const round of [1, 2])
      for (const args of SCENARIOS) {
        const ran = await demo(args);
        runs.push(ran);
        expect({ round, args, code: ran.code, tail: ran.code === 0 ? '' : ran.output.slice(-3000) }).toEqual({
          round,
          args,
          code: 0,
          tail: '',
        });
      }
    const [first, second] = [runs.slice(0, SCENARIOS.length), runs.slice(SCENARIOS.length)];
    // The second round revises the budget after the close of 2027-03: the closed month keeps what is in
    // control, and only the differences reach the ERP.
    expect(second[0]!.output).toContain('closed 2027-03: kept as in control');
    expect(second[0]!.output).toMatch(/✔ budget-cycle:ACME-US:FY2027:BUDGET:v\d+ is completed/);
    // Approved by the signals the demo printed.
    expect(first[1]!.output).toContain('temporal workflow signal');
    expect(first[1]!.output).toMatch(/is completed/);
    // The close of 2027-03 is found done the second time, and says so.
    expect(second[5]!.output).toContain('already done: the close of 2027-03');
    // The manufacturer's control on any dimension: a travel line refused by its department's travel budget
    // refuses the whole requisition; the grant runs out across the year end; project managers approve.
    for (const run of [first[7]!, second[7]!]) {
      expect(run.output).toContain('REQ-MFG-4471: rejected, nothing held');
      expect(run.output).toMatch(/TRAVEL-DEPT\[department=ENG\]\s+rejected/);
      expect(run.output).toMatch(/REQ-MFG-GRANT-2: rejected[\s\S]*FUNDING\[project=P-101\]\s+rejected/);
      expect(run.output).toContain('priya@acme.example approves');
    }
    // The migration: refused until the cost centers are mapped, compared, rolled back once; then shown as it stands.
    expect(first[9]!.output).toContain('422 mappings_incomplete');
    expect(first[9]!.output).toContain('0 lines differ');
    expect(first[9]!.output).toContain('asked again: already_rolled_back');
    expect(second[9]!.output).toContain('has moved already');
    // Adaptive Planning: each run switches Germany to it, runs a version through it and puts it back on Anaplan.
    for (const run of [first[10]!, second[10]!]) {
      expect(run.output).toContain('switched, audited as planning_platform.switched');
      expect(run.output).toMatch(/d365\s+holds \d+\.\d{2} EUR, reconciled/);
      expect(run.output).toMatch(/Forecast "closeloop Figures": [1-9]\d* cells/);
      expect(run.output).toMatch(/the other demos read from Anaplan\n {2}in force: anaplan/);
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(
      `demos: ${runs.map((r) => `${r.args.join(' ') || 'budget'} ${r.seconds}s`).join(', ')}; total ${seconds}s`,
    );
    expect(seconds).toBeLessThan(480);
  }, 660_000);
});
