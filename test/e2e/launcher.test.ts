import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../config/paths';
import { TEMPORAL_DEV_YAML } from '../../config/temporal-dev';
import { freePort } from '../../scripts/lib/dev-server';

const run = promisify(execFile);

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `npm start` as a user runs it on a laptop with no PostgreSQL: even on a machine where one answers, it is
 * made to bring its own (CLOSELOOP_POSTGRES=embedded), with the dev server moved to other ports in its own
 * temporal-dev.yaml. The demo then takes a budget version round the loop to the ERP, and Ctrl-C stops
 * everything the launcher started.
 */
describe('npm start on a machine with no PostgreSQL, with the dev server moved to other ports', () => {
  let launcher: ChildProcess | undefined;
  afterAll(() => {
    if (launcher?.pid && launcher.exitCode === null && launcher.signalCode === null) {
      try {
        process.kill(-launcher.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  test('starts its own PostgreSQL and Temporal from the file, runs the demo to the ERP, and stops cleanly', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-launch-'));
    chmodSync(dir, 0o755);
    const [temporalPort, uiPort, pgPort, apiPort, d365Port, anaplanPort, smtpPort, mailPort] =
      await Promise.all(Array.from({ length: 8 }, () => freePort()));
    const yaml = path.join(dir, 'temporal-dev.yaml');
    writeFileSync(
      yaml,
      readFileSync(TEMPORAL_DEV_YAML, 'utf8')
        .replace(/^(\s+port:) \d+$/m, `$1 ${temporalPort}`)
        .replace(/^(\s+uiPort:) \d+$/m, `$1 ${uiPort}`)
        .replace(/^\s+dbFilename:.*$/m, ''),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_DEV_CONFIG: yaml,
      CLOSELOOP_POSTGRES: 'embedded',
      CLOSELOOP_DATA_DIR: path.join(dir, 'data'),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      API_PORT: String(apiPort),
      D365_SIMULATOR_PORT: String(d365Port),
      ANAPLAN_SIMULATOR_PORT: String(anaplanPort),
      MAIL_SINK_SMTP_PORT: String(smtpPort),
      MAIL_SINK_HTTP_PORT: String(mailPort),
      WORKFLOW_BUNDLE_PATH: process.env.CLOSELOOP_TEST_WORKFLOW_BUNDLE,
    };
    delete env.DATABASE_URL;
    delete env.TEMPORAL_ADDRESS;

    // `npm start` is `tsx scripts/start.ts`; run it through node directly so its own exit code is what we see.
    launcher = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => launcher!.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start was not ready:\n${output}`)), 120_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes('Try it: npm run demo')) {
          clearTimeout(timer);
          resolve();
        }
      };
      launcher!.stdout!.on('data', onData);
      launcher!.stderr!.on('data', onData);
      void exited.then((code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
    expect(output).toContain(`Temporal dev server ready at 127.0.0.1:${temporalPort}`);
    expect(output).toMatch(
      new RegExp(
        `Database\\s+closeloop on 127\\.0\\.0\\.1:${pgPort} \\(embedded PostgreSQL 18 started by closeloop`,
      ),
    );
    expect(output).toContain(`Temporal UI  http://127.0.0.1:${uiPort}/namespaces/closeloop/workflows`);

    const demo = await run('npx', ['tsx', 'scripts/demo.ts'], {
      cwd: PROJECT_ROOT,
      env,
      timeout: 180_000,
    }).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`demo failed:\n${e.stdout}\n${e.stderr}\n--- launcher ---\n${output}`);
    });
    expect(demo.stdout).toMatch(/published to d365: published/);
    expect(demo.stdout).toMatch(/0 exceptions/);
    expect(demo.stdout).toMatch(/✔ budget-cycle:ACME-US:FY2027:BUDGET:v1 is completed/);
    // Each stage of the chain asked its approvers by mail, and the launcher's mail sink holds the mails.
    expect(output).toContain(`Mail         http://127.0.0.1:${mailPort}`);
    const { messages } = (await (await fetch(`http://127.0.0.1:${mailPort}/api/v1/messages`)).json()) as {
      messages: { Subject: string }[];
    };
    expect(messages.map((m) => m.Subject)).toContain(
      'Approval requested: ACME-US:FY2027:BUDGET:v1 (USD 4940100.00)',
    );

    // Ctrl-C in a terminal: SIGINT to the whole foreground process group.
    process.kill(-launcher.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    for (const port of [temporalPort!, pgPort!, apiPort!, d365Port!, anaplanPort!, smtpPort!, mailPort!])
      expect({ port, listening: await listening(port) }).toEqual({ port, listening: false });
  }, 300_000);
});
