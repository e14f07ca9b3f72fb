import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { listen, type RunningServer } from '../../api/listen';
import { fieldIssues } from '../../domain/zod-issues';
import { FaultInjector } from '../faults';

/**
 * Oracle Fusion Cloud's REST framework as its published reference describes it, for the resources closeloop
 * reads so far: `accountingPeriodStatusLOV` (a ledger's periods and their General Ledger status) and
 * `erpintegrations`' ESS job status finder (`ESSJobStatusRF`). It answers
 * collections with `{ items, count, hasMore, limit, offset, links }`, pages by `limit`/`offset`, filters by `q`
 * (query-by-example `Attr=value;Attr2=value` under framework version 1, the server's default; row-match
 * `Attr = value and Attr2 = value` from version 2, chosen by the `REST-Framework-Version` header), selects
 * `fields`, and takes HTTP Basic authentication. What Oracle does not document is a choice made here and
 * named in docs/compatibility.md: the largest page (500, as third parties report) and the error body (plain
 * text, as third parties report for 400s).
 */

export const REST_PATH = '/fscmRestApi/resources/11.13.18.05';
const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 25;

export interface OracleSimulatorOptions {
  username?: string;
  password?: string;
}

const PeriodRow = z.object({
  PeriodNameId: z.string().min(1),
  ApplicationId: z.number().int(),
  LedgerId: z.number().int(),
  ClosingStatus: z.enum(['O', 'F', 'C', 'P', 'N']),
});
type Row = Record<string, unknown>;

/** The filter a `q` names: each attribute compared with one value (the forms closeloop and its users send). */
function parseQ(q: string, version: number): [string, string][] | string {
  const parts = version >= 2 ? q.split(/\s+and\s+/i) : q.split(';');
  const pairs: [string, string][] = [];
  for (const part of parts) {
    const m = (version >= 2 ? /^\s*(\w+)\s*=\s*'?([^']*?)'?\s*$/ : /^\s*(\w+)\s*=\s*(.*?)\s*$/).exec(part);
    if (!m) return `cannot parse q expression "${part}" under REST framework version ${version}`;
    pairs.push([m[1]!, m[2]!]);
  }
  return pairs;
}

export function createOracleSimulator(options: OracleSimulatorOptions = {}) {
  const username = options.username ?? 'closeloop';
  const password = options.password ?? 'dev-secret';
  const faults = new FaultInjector();
  let periods: Row[] = [];
  /** ESS requests by id: their state as the status finder answers it. */
  const essJobs = new Map<string, string>();

  const app = express();
  app.disable('x-powered-by');
  app.use(faults.router());
  app.put('/__sim/accounting-periods', express.json(), (req, res) => {
    const parsed = z.array(PeriodRow).safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid periods', issues: fieldIssues(parsed.error) });
      return;
    }
    periods = parsed.data;
    res.status(204).end();
  });
  app.put('/__sim/ess-jobs/:requestId', express.json(), (req, res) => {
    const parsed = z.object({ state: z.string().min(1) }).safeParse(req.body);
    if (!parsed.success || !/^\d+$/.test(req.params.requestId)) {
      res.status(400).json({ error: 'a numeric request id and a state are required' });
      return;
    }
    essJobs.set(req.params.requestId, parsed.data.state);
    res.status(204).end();
  });
  app.post('/__sim/reset', (_req, res) => {
    periods = [];
    essJobs.clear();
    faults.clear();
    res.status(204).end();
  });

  app.use(
    REST_PATH,
    faults.middleware(() => 'The server could not process the request.'),
    (req, res, next) => {
      const [scheme, credentials] = (req.header('authorization') ?? '').split(' ');
      const [user, pass] = Buffer.from(credentials ?? '', 'base64')
        .toString()
        .split(':');
      if (scheme !== 'Basic' || user !== username || pass !== password) {
        res.status(401).setHeader('WWW-Authenticate', 'Basic realm="fusion"').send('Unauthorized');
        return;
      }
      next();
    },
  );

  /** GET on a collection, as the framework answers it. */
  function collection(req: Request, res: Response, resource: string, rows: Row[]) {
    const version = Number(req.header('rest-framework-version') ?? '1');
    const limit = Math.min(Number(req.query.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
    const offset = Number(req.query.offset ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
      res.status(400).send('The limit and offset query parameters must be non-negative integers.');
      return;
    }
    let matching = rows;
    if (typeof req.query.q === 'string') {
      const filter = parseQ(req.query.q, version);
      if (typeof filter === 'string') {
        res.status(400).send(filter);
        return;
      }
      matching = rows.filter((r) => filter.every(([attr, value]) => String(r[attr]) === value));
    }
    const fields = typeof req.query.fields === 'string' ? req.query.fields.split(',') : undefined;
    const items = matching
      .slice(offset, offset + limit)
      .map((r) => (fields ? Object.fromEntries(fields.map((f) => [f, r[f]])) : r));
    const self = `${req.protocol}://${req.get('host')}${REST_PATH}/${resource}`;
    res.json({
      items,
      count: items.length,
      hasMore: offset + items.length < matching.length,
      limit,
      offset,
      links: [{ rel: 'self', href: self, name: resource, kind: 'collection' }],
    });
  }

  app.get(`${REST_PATH}/accountingPeriodStatusLOV`, (req, res) =>
    collection(req, res, 'accountingPeriodStatusLOV', periods),
  );

  // `finder=ESSJobStatusRF;requestId=<id>`: the request's state, one item (none for a request it does not know).
  app.get(`${REST_PATH}/erpintegrations`, (req, res) => {
    const finder = typeof req.query.finder === 'string' ? req.query.finder : '';
    const m = /^ESSJobStatusRF;requestId=(\d+)$/.exec(finder);
    if (!m) {
      res.status(400).send(`The finder ${finder || '(none)'} is not supported by this resource.`);
      return;
    }
    const state = essJobs.get(m[1]!);
    collection(req, res, 'erpintegrations', state ? [{ ReqstId: m[1], RequestStatus: state }] : []);
  });

  return {
    app,
    faults,
    setEssJobState(requestId: string, state: string) {
      essJobs.set(requestId, state);
    },
    setAccountingPeriods(rows: z.input<typeof PeriodRow>[]) {
      periods = z.array(PeriodRow).parse(rows);
    },
    listen: (port = 0): Promise<RunningServer> => listen(app, port),
  };
}

export type OracleSimulator = ReturnType<typeof createOracleSimulator>;
