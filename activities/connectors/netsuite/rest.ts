import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../../domain/failures';
import { errorReason, httpRequest, parseResponse, protocolFailure } from '../http';
import { type CallControl } from '../types';
import { createNetSuiteSigner, type NetSuiteAuth } from './auth';

/**
 * NetSuite's REST web services as its help describes them (`/services/rest/record/v1/<type>`, asynchronous
 * requests under `/services/rest/async/v1/job/<id>`): a create sent with `Prefer: respond-async` and an
 * `X-NetSuite-Idempotency-Key` is answered 202 with the job's `Location`; the job is followed until it
 * completes, then its task's result says what was created (204 with the record's `Location`) or why not. A key
 * already used is answered with an `IDEMPOTENCY_ERROR` naming the first request's job: closeloop follows that
 * job instead of creating again. Every request runs in one of the account's concurrency slots, which all of
 * closeloop's workers share (`CallControl.slot`); a 401 takes a new token once.
 */

export interface NetSuiteConfig {
  /** The account ID (`1234567`, a sandbox `1234567_SB1`). */
  accountId: string;
  /** `https://<account>.suitetalk.api.netsuite.com`. */
  baseUrl: string;
  auth: NetSuiteAuth;
  timeoutMs: number;
  /** Between two reads of a job's state. */
  pollIntervalMs: number;
  /** How long one attempt waits for a job before the next takes it over. */
  waitMs: number;
  /** Rows NetSuite serves of one SuiteQL query (100,000); a test sets a smaller one with its simulator. */
  suiteqlCap?: number;
  /**
   * Runs a request in one of the account's concurrency slots, shared by every worker (the worker builds it over
   * the database); a call's own `CallControl.slot` wins. Absent: no limit kept.
   */
  slot?: <T>(fn: () => Promise<T>) => Promise<T>;
  /**
   * Takes as many as `want` of those slots at once (at least one) for a batch of requests that then needs no
   * slot of its own: `fn` is told how many it holds and runs that many requests at once. Absent: each request
   * takes its own slot.
   */
  slots?: <T>(want: number, fn: (taken: number) => Promise<T>) => Promise<T>;
  /** The account's concurrency limit: how many records one chunk creates at once (the slots bound the account). */
  concurrencyLimit?: number;
}

export const SYSTEM = 'netsuite';
/** Rows NetSuite serves of one SuiteQL query, and the largest page it answers. */
const SUITEQL_CAP = 100_000;
const SUITEQL_PAGE = 1000;
export const SuiteQLPage = z.object({
  items: z.array(z.object({ links: z.unknown().optional() }).passthrough()),
  hasMore: z.boolean(),
  offset: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  totalResults: z.number().int().nonnegative(),
});

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const isoOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const midpoint = (from: string, to: string) =>
  isoOf(day(from) + Math.floor((day(to) - day(from)) / 86_400_000 / 2) * 86_400_000);
export const nextDay = (iso: string) => isoOf(day(iso) + 86_400_000);
const JOB_PATH = /\/services\/rest\/async\/v1\/job\/\d+/;

const Job = z.object({ id: z.union([z.string(), z.number()]).transform(String), completed: z.boolean() });
const TaskList = z.object({
  items: z.array(z.object({ links: z.array(z.object({ rel: z.string(), href: z.string() })) })),
});

export function createNetSuiteRest(config: NetSuiteConfig) {
  const base = config.baseUrl.replace(/\/$/, '');
  const signer = createNetSuiteSigner({
    accountId: config.accountId,
    baseUrl: base,
    auth: config.auth,
    timeoutMs: config.timeoutMs,
  });

  /** One request under the account's signature; a 401 (an expired token) takes a new one, once. */
  async function send(
    method: 'GET' | 'POST',
    url: string,
    init: { headers?: Record<string, string>; body?: unknown; handles?: (r: Response) => boolean } = {},
    control: CallControl = {},
  ): Promise<Response> {
    const slot = control.slot ?? config.slot ?? ((fn) => fn());
    return slot(async () => {
      for (let attempt = 0; ; attempt++) {
        const res = await httpRequest({
          system: SYSTEM,
          method,
          url,
          headers: { Authorization: await signer.authorization(method, url), ...init.headers },
          body: init.body,
          timeoutMs: config.timeoutMs,
          handles: (r) => (r.status === 401 && attempt === 0) || (init.handles?.(r) ?? false),
        });
        if (res.status !== 401 || attempt > 0) return res;
        signer.forget();
      }
    });
  }

  /** The job a create started, or (a key already used) the job its first request started. */
  async function startJob(
    recordType: string,
    body: unknown,
    idempotencyKey: string,
    control: CallControl,
  ): Promise<{ job: string; reused: boolean }> {
    const res = await send(
      'POST',
      `${base}/services/rest/record/v1/${recordType}`,
      {
        headers: { Prefer: 'respond-async', 'X-NetSuite-Idempotency-Key': idempotencyKey },
        body,
        handles: (r) => r.status === 400,
      },
      control,
    );
    if (res.status === 202) {
      const location = res.headers.get('location');
      if (!location || !JOB_PATH.test(location))
        throw protocolFailure(SYSTEM, `an asynchronous create answered 202 without a job Location`);
      return { job: new URL(location, base).toString(), reused: false };
    }
    const text = await res.text();
    const reason = errorReason(text);
    const first = JOB_PATH.exec(text)?.[0];
    if (reason.includes('IDEMPOTENCY_ERROR') && first) return { job: `${base}${first}`, reused: true };
    throw ApplicationFailure.nonRetryable(
      `${SYSTEM} refused the ${recordType}: ${reason}`,
      reason.includes('IDEMPOTENCY_ERROR') ? FailureType.ConnectorProtocol : FailureType.ConnectorRejected,
    );
  }

  /**
   * Creates a record asynchronously under a business key, once: what it created (its record's URL) and
   * whether an earlier request with the same key had. The job's URL goes into the heartbeat, so a retry waits
   * on that job instead of sending again. Requests sent one right after another (the create and the job's first
   * read; a read that finds the job done and the reads of its result) share one concurrency slot: they are never
   * in flight together, so the account's limit holds, and the slot is let go while the job is waited on.
   */
  async function createAsync(
    recordType: string,
    body: unknown,
    idempotencyKey: string,
    control: CallControl = {},
  ): Promise<{ record: string; reused: boolean }> {
    const slot = control.slot ?? config.slot ?? (<T>(fn: () => Promise<T>) => fn());
    const inSlot = <T>(fn: (c: CallControl) => Promise<T>) =>
      slot(() => fn({ ...control, slot: (f) => f() }));
    const resumed = control.resumeFrom?.idempotencyKey === idempotencyKey ? control.resumeFrom : undefined;
    const since = Date.now();
    // The job read once: its result when it is done (read in the same slot), else undefined.
    const readJob = async (started: { job: string; reused: boolean }, c: CallControl) => {
      const job = parseResponse(SYSTEM, 'GET job', Job, await (await send('GET', started.job, {}, c)).json());
      if (job.completed) return { done: await resultOf(recordType, idempotencyKey, started, c) };
      if (Date.now() - since >= config.waitMs)
        throw ApplicationFailure.retryable(
          `${SYSTEM} job ${job.id} for ${idempotencyKey} has not completed; the next attempt waits on it`,
          FailureType.ConnectorUnavailable,
        );
      return undefined;
    };
    let started: { job: string; reused: boolean } | undefined;
    let outcome = await inSlot(async (c) => {
      started =
        typeof resumed?.job === 'string'
          ? { job: resumed.job, reused: true }
          : await startJob(recordType, body, idempotencyKey, c);
      control.progress?.({ idempotencyKey, job: started.job });
      return readJob(started, c);
    });
    for (let polls = 0; !outcome; polls++) {
      await new Promise((r) => setTimeout(r, Math.min(config.pollIntervalMs, 250 * 2 ** polls)));
      outcome = await inSlot((c) => readJob(started!, c));
    }
    return outcome.done;
  }

  /** What a completed job created: its task's result names the record, or says why there is none. */
  async function resultOf(
    recordType: string,
    idempotencyKey: string,
    started: { job: string; reused: boolean },
    control: CallControl,
  ): Promise<{ record: string; reused: boolean }> {
    const tasks = parseResponse(
      SYSTEM,
      'GET job tasks',
      TaskList,
      await (await send('GET', `${started.job}/task`, {}, control)).json(),
    );
    const task = tasks.items[0]?.links.find((l) => l.rel === 'self')?.href;
    if (!task) throw protocolFailure(SYSTEM, `job ${started.job} lists no task`);
    const result = await send(
      'GET',
      `${new URL(task, base).toString()}/result`,
      { handles: (r) => r.status >= 400 && r.status < 500 },
      control,
    );
    if (result.status === 204) {
      const record = result.headers.get('location');
      if (!record) throw protocolFailure(SYSTEM, `the result of ${task} names no record`);
      return { record, reused: started.reused };
    }
    throw ApplicationFailure.nonRetryable(
      `${SYSTEM} did not create the ${recordType} (${idempotencyKey}): ${errorReason(await result.text())}`,
      FailureType.ConnectorRejected,
    );
  }

  /** One page of a SuiteQL query (`POST /services/rest/query/v1/suiteql?limit&offset` with `Prefer: transient`). */
  async function suiteqlPage(q: string, offset: number, control: CallControl = {}) {
    const res = await send(
      'POST',
      `${base}/services/rest/query/v1/suiteql?limit=${SUITEQL_PAGE}&offset=${offset}`,
      { headers: { Prefer: 'transient' }, body: { q } },
      control,
    );
    const page = parseResponse(SYSTEM, 'SuiteQL', SuiteQLPage, await res.json());
    if (page.hasMore && !page.items.length)
      throw protocolFailure(SYSTEM, `SuiteQL answered hasMore with an empty page at ${offset}`);
    return {
      rows: page.items.map(({ links: _links, ...row }) => row as Record<string, unknown>),
      hasMore: page.hasMore,
      /** NetSuite serves fewer rows of this query than it has: the caller narrows it. */
      overCap: page.totalResults > (config.suiteqlCap ?? SUITEQL_CAP),
    };
  }

  /**
   * Every row of one SuiteQL query, page by page, or, when NetSuite says the query has more rows than it
   * serves of one query (`totalResults` over 100,000), undefined: the caller narrows its query.
   */
  async function suiteqlRows(
    q: string,
    control: CallControl = {},
  ): Promise<Record<string, unknown>[] | undefined> {
    const rows: Record<string, unknown>[] = [];
    for (let offset = 0; ;) {
      const page = await suiteqlPage(q, offset, control);
      if (offset === 0 && page.overCap) return undefined;
      rows.push(...page.rows);
      control.progress?.({ rows: rows.length });
      if (!page.hasMore) return rows;
      offset += page.rows.length;
    }
  }

  /**
   * Every row a query built for a date window returns: the window halved, and each half read, as long as
   * NetSuite serves fewer rows of one query than the window holds (down to one day, which must fit).
   */
  async function suiteql(
    build: (window: { from: string; to: string }) => string,
    window: { from: string; to: string },
    control: CallControl = {},
  ): Promise<Record<string, unknown>[]> {
    const rows = await suiteqlRows(build(window), control);
    if (rows) return rows;
    if (window.from === window.to)
      throw ApplicationFailure.nonRetryable(
        `${SYSTEM}: one day (${window.from}) has more than ${config.suiteqlCap ?? SUITEQL_CAP} rows for one SuiteQL query`,
        FailureType.ConnectorRejected,
      );
    const middle = midpoint(window.from, window.to);
    return [
      ...(await suiteql(build, { from: window.from, to: middle }, control)),
      ...(await suiteql(build, { from: nextDay(middle), to: window.to }, control)),
    ];
  }

  return { send, createAsync, suiteql, suiteqlPage, signer };
}

export type NetSuiteRest = ReturnType<typeof createNetSuiteRest>;
