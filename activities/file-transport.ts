import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { type Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import SftpClient from 'ssh2-sftp-client';
import { FailureType } from '../domain/failures';
import { type FeedDefinition, hostKeyBlob } from '../domain/file-feeds';

/**
 * A feed's inbox as the file steps see it, wherever it is: a local folder, or a directory on an SFTP server
 * (through ssh2-sftp-client, with key authentication and the server's host key checked against the one the feed
 * declares). Paths are relative to the inbox (`name`, `archive/name`).
 */
export interface InboxFolder {
  /** The inbox's own files (not its folders), with their size and last change. */
  list(): Promise<{ name: string; size: number; modifiedMs: number }[]>;
  /** A folder's names (none when it does not exist). */
  names(folder: string): Promise<string[]>;
  size(path: string): Promise<number | undefined>;
  read(path: string): Readable;
  /** The last `bytes` of a file. */
  tail(path: string, size: number, bytes: number): Promise<Buffer>;
  readText(path: string): Promise<string | undefined>;
  /** Renames within the inbox; false when `from` is not there. */
  move(from: string, to: string): Promise<boolean>;
  ensureFolder(folder: string): Promise<void>;
  write(path: string, content: string): Promise<void>;
  close(): Promise<void>;
}

type Transport = FeedDefinition['transport'];

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

function localInbox(root: string): InboxFolder {
  const at = (path: string) => join(root, path);
  return {
    async list() {
      const entries = await readdir(root, { withFileTypes: true }).catch((err: unknown) => {
        if (missing(err))
          throw ApplicationFailure.nonRetryable(`inbox ${root} does not exist`, FailureType.ValidationFailed);
        throw err;
      });
      const files = [];
      for (const e of entries.filter((x) => x.isFile())) {
        const s = await stat(at(e.name)).catch(() => undefined);
        if (s) files.push({ name: e.name, size: s.size, modifiedMs: s.mtimeMs });
      }
      return files;
    },
    names: (folder) => readdir(at(folder)).catch(() => []),
    size: async (path) => (await stat(at(path)).catch(() => undefined))?.size,
    read: (path) => createReadStream(at(path)),
    async tail(path, size, bytes) {
      const handle = await open(at(path), 'r');
      try {
        const length = Math.min(size, bytes);
        const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
        return buffer;
      } finally {
        await handle.close();
      }
    },
    readText: (path) => readFile(at(path), 'utf8').catch(() => undefined),
    async move(from, to) {
      try {
        await rename(at(from), at(to));
        return true;
      } catch (err) {
        if (missing(err)) return false;
        throw err;
      }
    },
    ensureFolder: async (folder) => void (await mkdir(at(folder), { recursive: true })),
    write: (path, content) => writeFile(at(path), content),
    close: async () => undefined,
  };
}

/** An SFTP failure to connect or authenticate: the server or the feed's definition must change first. */
function sftpFailure(err: unknown, transport: Extract<Transport, { type: 'sftp' }>): never {
  const message = err instanceof Error ? err.message : String(err);
  const where = `${transport.username}@${transport.host}:${transport.port}`;
  if (/host key|authentication|All configured authentication methods failed/i.test(message))
    throw ApplicationFailure.nonRetryable(`SFTP ${where}: ${message}`, FailureType.ConnectorUnauthorized);
  // Refused, reset, timed out: the server may be back shortly.
  throw ApplicationFailure.retryable(`SFTP ${where}: ${message}`, FailureType.ConnectorUnavailable);
}

async function sftpInbox(transport: Extract<Transport, { type: 'sftp' }>): Promise<InboxFolder> {
  const client = new SftpClient('closeloop');
  const expected = hostKeyBlob(transport.hostKey);
  let offered: string | undefined;
  const privateKey = await readFile(transport.privateKeyFile).catch((err: unknown) => {
    throw ApplicationFailure.nonRetryable(
      `the SFTP private key ${transport.privateKeyFile} cannot be read on this worker: ${(err as Error).message}`,
      FailureType.ValidationFailed,
    );
  });
  try {
    await client.connect({
      host: transport.host,
      port: transport.port,
      username: transport.username,
      privateKey,
      readyTimeout: 10_000,
      // The server must present the host key the feed declares (as known_hosts holds it): never trusted on first use.
      hostVerifier: (key: Buffer) => {
        offered = key.toString('base64');
        return key.equals(expected);
      },
    });
  } catch (err) {
    if (offered !== undefined && offered !== expected.toString('base64'))
      sftpFailure(
        new Error(`the server's host key (${offered.slice(0, 24)}…) is not the one the feed declares`),
        transport,
      );
    sftpFailure(err, transport);
  }
  const at = (path: string) => posix.join(transport.path, path);
  const absent = async (path: string) => !(await client.exists(at(path)));
  return {
    async list() {
      if (await absent(''))
        throw ApplicationFailure.nonRetryable(
          `inbox ${transport.path} does not exist on ${transport.host}`,
          FailureType.ValidationFailed,
        );
      return (await client.list(transport.path))
        .filter((f) => f.type === '-')
        .map((f) => ({ name: f.name, size: f.size, modifiedMs: f.modifyTime }));
    },
    names: async (folder) =>
      (await absent(folder)) ? [] : (await client.list(at(folder))).map((f) => f.name),
    size: async (path) => ((await absent(path)) ? undefined : (await client.stat(at(path))).size),
    read: (path) => client.createReadStream(at(path)),
    async tail(path, size, bytes) {
      const chunks: Buffer[] = [];
      const start = Math.max(0, size - bytes);
      for await (const c of client.createReadStream(at(path), { start, end: size - 1 }))
        chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    readText: async (path) =>
      (await absent(path)) ? undefined : ((await client.get(at(path))) as Buffer).toString('utf8'),
    async move(from, to) {
      if (await absent(from)) return false;
      await client.rename(at(from), at(to));
      return true;
    },
    ensureFolder: async (folder) => {
      if (await absent(folder)) await client.mkdir(at(folder), true);
    },
    write: async (path, content) => void (await client.put(Buffer.from(content), at(path))),
    close: async () => void (await client.end()),
  };
}

/** Opens a feed's inbox; close it when done. */
export function openInbox(transport: Transport): Promise<InboxFolder> {
  return transport.type === 'local' ? Promise.resolve(localInbox(transport.path)) : sftpInbox(transport);
}
