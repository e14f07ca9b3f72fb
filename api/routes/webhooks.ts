import { type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { type Config } from '../../config';
import { type Database } from '../../db/client';
import { entitiesOfErpCompanies } from '../../db/queries/reference';
import { randomUUID } from 'node:crypto';
import { callbackOutcome, EssCallback } from '../../domain/oracle-ess';
import { recordJobCallback } from '../../db/queries/erp-job-callbacks';
import { principalOf, requireRole } from '../auth';
import { notifyChange } from '../erp-events';
import { HttpError } from '../errors';

/**
 * A Dynamics 365 business event as its HTTPS endpoint delivers it: the common envelope of every business
 * event (BusinessEventsContract), plus the event's own fields, which closeloop does not need: any posting
 * event means "the ledger or the orders of this company moved", and the sync reads what moved.
 */
const BusinessEvent = z
  .object({
    BusinessEventId: z.string().min(1),
    BusinessEventLegalEntity: z.string().min(1),
    EventId: z.string().min(1),
    EventTime: z.string().optional(),
    ControlNumber: z.number().optional(),
    MajorVersion: z.number().optional(),
    MinorVersion: z.number().optional(),
  })
  .passthrough();
const BusinessEvents = z.union([BusinessEvent, z.array(BusinessEvent).min(1).max(1000)]);

/** Webhooks from the systems around closeloop: they start near-real-time syncs, never post anything themselves. */
export function webhookRoutes({ db, client, config }: { db: Database; client: Client; config: Config }) {
  const router = Router();

  router.post('/d365/business-events', requireRole('integration_admin'), async (req, res) => {
    const parsed = BusinessEvents.parse(req.body);
    const events = Array.isArray(parsed) ? parsed : [parsed];
    const companies = [...new Set(events.map((e) => e.BusinessEventLegalEntity.toLowerCase()))];
    const entities = await entitiesOfErpCompanies(db, 'd365', companies);
    const unknown = companies.filter((c) => !entities.has(c));
    if (unknown.length) {
      // Refused whole, so the sender keeps and retries them: nothing is dropped silently.
      throw new HttpError(
        422,
        'unknown_company',
        `no legal entity is kept in Dynamics 365 company ${unknown.join(', ')}`,
        { companies: unknown },
      );
    }
    const started = new Set<string>();
    for (const e of events) {
      const legalEntity = entities.get(e.BusinessEventLegalEntity.toLowerCase())!;
      started.add(
        await notifyChange({ client, config }, legalEntity, {
          source: 'erp',
          eventId: `d365:${e.EventId}`,
          kind: e.BusinessEventId,
        }),
      );
    }
    res.status(202).json({ accepted: events.length, workflows: [...started] });
  });

  /**
   * Oracle's import callback, as the integration layer that receives it (Oracle calls a SOAP service under a
   * SAML bearer token policy: docs/compatibility.md) relays its JSON: the end of each request it names, and of
   * its child jobs, recorded for the load waiting on it. Delivered again, it changes nothing.
   */
  router.post('/oracle/ess-callbacks', requireRole('integration_admin'), async (req, res) => {
    const callback = EssCallback.parse(req.body);
    const by = principalOf(req).id;
    const correlationId = req.header('x-correlation-id') ?? randomUUID();
    const requests = await db.transaction(async (tx) => {
      const out: { requestId: string; outcome: string; result: 'recorded' | 'unchanged' }[] = [];
      for (const job of callback.JOBS) {
        const ended = callbackOutcome(callback, job.REQUESTID)!;
        const result = await recordJobCallback(tx, {
          system: 'oracle',
          requestId: job.REQUESTID,
          outcome: ended.outcome,
          jobs: ended.jobs,
          by,
          correlationId,
        });
        out.push({ requestId: job.REQUESTID, outcome: ended.outcome, result });
      }
      return out;
    });
    res.status(202).json({ requests });
  });

  return router;
}
