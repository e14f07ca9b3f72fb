import { Client, Connection } from '@temporalio/client';
import express from 'express';
import { BODY_LIMIT, createApp } from '../../api/app';
import { authenticate } from '../../api/auth';
import { listen } from '../../api/listen';
import { serveInProcesses } from '../../api/processes';
import { loadConfig } from '../../config';
import { openDatabase } from '../../db/client';

/**
 * The API in its own process (API_PROCESSES of them behind one port) for the benchmark, as a deployment runs
 * it, so the load generator does not share its event loop. Budget control needs no Temporal: the client
 * connects only if a route uses it. Prints its URL on the first line of stdout once every process listens.
 *
 * With BENCH_HTTP_FLOOR=1 it serves the HTTP floor instead: Express with the API's own body parser and
 * authentication in front of the same route, answering every request with one fixed reservation answer, no
 * validation and no database. What the load generator reaches against it on this machine is the most any
 * Express route can answer here, whatever it decides.
 */
async function main() {
  const config = loadConfig();
  await serveInProcesses(
    config.api.processes,
    async () => {
      if (process.env.BENCH_HTTP_FLOOR === '1') {
        const app = express();
        app.disable('x-powered-by');
        app.use(express.json({ limit: BODY_LIMIT }));
        app.use('/v1', authenticate(config.api.keys));
        app.post('/v1/budget-control/reservations', (_req, res) => {
          res.status(201).json(FIXED_ANSWER);
        });
        const server = await listen(app, config.api.port, '127.0.0.1');
        return { server, description: 'HTTP floor', stop: () => server.close() };
      }
      const database = openDatabase(config.database.configuredUrl!, { poolSize: config.database.poolSize });
      const client = new Client({ connection: Connection.lazy({ address: config.temporal.address }) });
      const server = await listen(
        createApp({ config, client, db: database.db }),
        config.api.port,
        '127.0.0.1',
      );
      return { server, description: 'DATABASE_URL', stop: () => server.close().then(() => database.close()) };
    },
    (url) => console.log(url),
  );
}

/** A reservation's answer as the API gives it for a one-line request in a bucket (the same size and shape). */
const FIXED_ANSWER = {
  idempotencyKey: 'spread-1-1',
  legalEntity: 'ACME-US',
  outcome: 'pass',
  reserved: true,
  lines: [
    {
      lineNo: 1,
      account: '600100',
      costCenter: 'B1',
      period: '2027-02',
      amount: { amount: '1.00', currency: 'USD' },
      outcome: 'pass',
      reason: 'within budget',
      controlLevel: 'absolute',
      tolerancePercent: '0',
      pooledPeriods: ['2027-02'],
      budget: '1000000000.00',
      availableBefore: '999999999.00',
      availableAfter: '999999998.00',
      controlBudgets: [],
    },
  ],
  decidedAt: '2027-02-01T00:00:00.000Z',
};

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
