import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type Database } from '../../db/client';
import { defineCalendar, getCalendar, listCalendars } from '../../db/queries/fiscal-calendars';
import { calendarPeriods } from '../../db/queries/reference';
import { CalendarSpec } from '../../domain/fiscal-calendar';
import { FiscalYear } from '../../domain/model';
import { principalOf, requireRole } from '../auth';
import { Reason } from '../control-decisions';
import { HttpError } from '../errors';

const CalendarCode = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9-]{1,29}$/, 'must be an upper-case calendar code such as "CAL-445"');
const DefineBody = z
  .object({
    spec: CalendarSpec,
    /** The fiscal years to cut into periods now; years already cut keep their periods. */
    fiscalYears: z.array(FiscalYear).min(1).max(20),
    reason: Reason,
  })
  .strict();
const PeriodsQuery = z.object({ fiscalYear: z.coerce.number().pipe(FiscalYear).optional() }).strict();

/**
 * Fiscal calendars as data: an integration administrator declares how a calendar's years are cut (calendar
 * months, 4-4-5 weeks, thirteen periods, adjustment periods) and which years to cut now; anyone reads them.
 */
export function fiscalCalendarRoutes({ db }: { db: Database }): Router {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ calendars: await listCalendars(db) });
  });

  router.get('/:code', async (req, res) => {
    const code = CalendarCode.parse(req.params.code);
    const q = PeriodsQuery.parse(req.query);
    const calendar = await getCalendar(db, code);
    if (!calendar) throw new HttpError(404, 'not_found', `no fiscal calendar ${code}`);
    const periods = (await calendarPeriods(db, code)).filter(
      (p) => q.fiscalYear === undefined || p.fiscalYear === q.fiscalYear,
    );
    res.json({ ...calendar, periods });
  });

  router.put('/:code', requireRole('integration_admin'), async (req, res) => {
    const code = CalendarCode.parse(req.params.code);
    const body = DefineBody.parse(req.body);
    const defined = await db.transaction((tx) =>
      defineCalendar(tx, {
        code,
        ...body,
        by: principalOf(req).id,
        correlationId: req.header('x-correlation-id') ?? randomUUID(),
      }),
    );
    const periods = (await calendarPeriods(db, code)).filter((p) => body.fiscalYears.includes(p.fiscalYear));
    res.json({ code, spec: body.spec, ...defined, periods });
  });

  return router;
}
