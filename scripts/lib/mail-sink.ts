import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ensureGoTool } from './go-tool';

/**
 * The local mail sink: Mailpit (github.com/axllent/mailpit), built with Go like the Temporal CLI. It takes
 * every mail closeloop sends over SMTP and shows it in a web UI; its REST API (/api/v1/messages) is what the
 * tests read. MAILPIT_PATH overrides the build.
 */
export const MAILPIT = {
  label: 'Mailpit mail sink',
  binary: 'mailpit',
  module: 'github.com/axllent/mailpit',
  version: 'v1.33.1',
  pathVariable: 'MAILPIT_PATH',
};

export function ensureMailpit(log?: (line: string) => void): Promise<string> {
  return ensureGoTool(MAILPIT, log);
}

export interface SinkMail {
  id: string;
  to: string[];
  subject: string;
}

/** The mails a Mailpit at `url` holds, oldest first (its GET /api/v1/messages). */
export async function sinkMessages(url: string): Promise<SinkMail[]> {
  const res = await fetch(`${url}/api/v1/messages?limit=1000`);
  if (!res.ok) throw new Error(`mail sink GET /api/v1/messages answered ${res.status}`);
  const { messages } = (await res.json()) as {
    messages: { ID: string; To: { Address: string }[]; Subject: string }[];
  };
  return messages.map((m) => ({ id: m.ID, to: m.To.map((t) => t.Address), subject: m.Subject })).reverse();
}

export interface RunningMailSink {
  smtpPort: number;
  httpPort: number;
  url: string;
  /** The mails it holds, oldest first (Mailpit's GET /api/v1/messages). */
  messages(): Promise<SinkMail[]>;
  /** One mail's plain-text body (GET /api/v1/message/{id}). */
  text(id: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startMailSink(opts: {
  smtpPort: number;
  httpPort: number;
  /** Where it keeps the mails (a file in the data dir); unset: in memory. */
  dataDir?: string;
  log?: (line: string) => void;
}): Promise<RunningMailSink> {
  const bin = await ensureMailpit(opts.log);
  const args = [
    '--smtp',
    `127.0.0.1:${opts.smtpPort}`,
    '--listen',
    `127.0.0.1:${opts.httpPort}`,
    // No TLS or auth locally, and no look-ups on the internet (there may be none).
    '--smtp-auth-accept-any',
    '--smtp-auth-allow-insecure',
    '--disable-version-check',
  ];
  if (opts.dataDir) {
    await mkdir(opts.dataDir, { recursive: true });
    args.push('--database', path.join(opts.dataDir, 'mailpit.db'));
  }
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${opts.httpPort}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the mail sink exited at start:\n${output.slice(-2000)}`);
    try {
      if ((await fetch(`${url}/api/v1/info`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 100) {
      child.kill('SIGKILL');
      throw new Error(`the mail sink did not answer on ${url} within 20 s:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    smtpPort: opts.smtpPort,
    httpPort: opts.httpPort,
    url,
    messages: () => sinkMessages(url),
    async text(id) {
      const res = await fetch(`${url}/api/v1/message/${encodeURIComponent(id)}`);
      if (!res.ok) throw new Error(`mail sink GET /api/v1/message/${id} answered ${res.status}`);
      return ((await res.json()) as { Text: string }).Text;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
