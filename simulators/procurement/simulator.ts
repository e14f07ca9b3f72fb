import express, { type Express } from 'express';
import { z } from 'zod';
import { type RunningServer } from '../../api/listen';
import { fromMinor, toMinor } from '../../domain/money';
import { fieldIssues } from '../../domain/zod-issues';
import { FaultInjector, serveSimulator } from '../faults';
import { sendWithRetries } from '../outbound';
import { loadState, saveState } from '../state-file';

/**
 * A Coupa-style procurement system: requisitions that are budget-checked synchronously when submitted,
 * approved by a manager, turned into purchase orders, changed, received, invoiced and closed. Each step
 * after the requisition reaches closeloop as a webhook of consumption events, delivered the way webhook
 * senders do: at least once, retried with backoff (honouring Retry-After), and, with the webhook faults
 * on, twice or out of order. Invoices are also exported to the ERP for posting (`erpInvoiceExport`), as a
 * procurement suite's ERP integration does; the ERP's ledger then carries the actuals. Modelled on Coupa's requisition, purchase-order and invoice resources
 * (hyphenated JSON keys, `line-num`, statuses such as `pending_approval`); it is a stand-in for a
 * procurement suite, not a copy of Coupa's contract.
 *
 *   POST /api/requisitions                {requested-by, requisition-lines:[{account, cost-center, period, total, currency}]}
 *   POST /api/requisitions/:id/approve    {approver}            → issues the purchase order
 *   POST /api/requisitions/:id/reject     {approver, reason}    → releases the reservation
 *   POST /api/requisitions/:id/resubmit                         → checks the budget again (e.g. after an override)
 *   POST /api/requisitions/:id/cancel                           → releases the reservation
 *   POST /api/purchase_orders/:id/change  {order-lines:[{line-num, total}]}
 *   POST /api/purchase_orders/:id/receipts {receipt-lines:[{line-num, total}]}
 *   POST /api/purchase_orders/:id/invoices {invoice-number, invoice-lines:[{line-num, total}]}
 *   POST /api/purchase_orders/:id/close
 *   GET  /api/requisitions/:id, /api/purchase_orders/:id, /__sim/webhooks
 *   POST /__sim/webhook-faults            {duplicate: n, reorder: bool, failFirst: n}
 */

export interface ProcurementSimulatorOptions {
  /** closeloop's API, which the budget check and the webhooks call. */
  closeloopUrl: string;
  /** closeloop API key of the procurement integration (role requester). */
  apiKey: string;
  legalEntity: string;
  /** The source system named in every consumption event. */
  sourceSystem?: string;
  /** Delivery attempts of one webhook before it is parked as failed (visible in /__sim/webhooks). */
  maxDeliveryAttempts?: number;
  /** First retry delay; doubles each attempt, unless Retry-After says otherwise. */
  retryBaseMs?: number;
  /**
   * Where invoices go to be posted, as a procurement suite's ERP integration sends them: the Dynamics 365
   * simulator's vendor-invoice posting, in the company's ledger dimension values.
   */
  erpInvoiceExport?: {
    url: string;
    company: string;
    ledgerDimension(account: string, costCenter: string, date: string): string;
  };
  stateFile?: string;
}

interface Line {
  'line-num': number;
  account: string;
  'cost-center': string;
  period: string;
  total: string;
  currency: string;
}

interface Requisition {
  id: number;
  status:
    | 'pending_approval'
    | 'budget_rejected'
    | 'budget_check_error'
    | 'approved'
    | 'rejected'
    | 'ordered'
    | 'cancelled';
  'requested-by': string;
  'requisition-lines': Line[];
  /** The budget check's answer as closeloop gave it. */
  'budget-check'?: unknown;
  'reservation-key': string;
  'order-id'?: string;
  'approved-by'?: string;
}

interface OrderLine extends Line {
  received: string;
  invoiced: string;
}

interface PurchaseOrder {
  id: string;
  status: 'issued' | 'closed';
  version: number;
  'requisition-id': number;
  'order-lines': OrderLine[];
  invoices: {
    'invoice-number': string;
    lines: { 'line-num': number; total: string }[];
    /** The invoice's posting in the ERP, when invoices are exported there. */
    'erp-export'?: { status: 'pending' | 'posted' | 'failed'; voucher?: string; error?: string };
  }[];
}

type ConsumptionEvent = Record<string, unknown> & { type: 'committed' | 'invoiced' | 'closed' };

interface Delivery {
  id: number;
  events: ConsumptionEvent[];
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  lastError?: string;
  /** What closeloop answered to the delivery that got through. */
  response?: unknown;
}

const Total = z.string().regex(/^-?\d+(\.\d{1,2})?$/, 'must be a decimal string such as "12500.00"');
const RequisitionBody = z
  .object({
    'requested-by': z.string().min(1),
    'requisition-lines': z
      .array(
        z
          .object({
            account: z.string().min(1),
            'cost-center': z.string().min(1),
            period: z.string().regex(/^\d{4}-\d{2}$/),
            total: Total,
            currency: z.string().length(3),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
const LineTotals = z
  .array(z.object({ 'line-num': z.number().int().positive(), total: Total }).strict())
  .min(1);
const ChangeBody = z.object({ 'order-lines': LineTotals }).strict();
const ReceiptBody = z.object({ 'receipt-lines': LineTotals }).strict();
const InvoiceBody = z
  .object({ 'invoice-number': z.string().min(1).max(100), 'invoice-lines': LineTotals })
  .strict();
const WebhookFaults = z
  .object({
    duplicate: z.number().int().nonnegative().optional(),
    reorder: z.boolean().optional(),
    failFirst: z.number().int().nonnegative().optional(),
  })
  .strict();

const add = (a: string, b: string, currency: string) =>
  fromMinor(toMinor(a, currency) + toMinor(b, currency), currency);

export function createProcurementSimulator(options: ProcurementSimulatorOptions) {
  const sourceSystem = options.sourceSystem ?? 'coupa';
  const maxAttempts = options.maxDeliveryAttempts ?? 8;
  const retryBaseMs = options.retryBaseMs ?? 200;
  const faults = new FaultInjector();
  const outbound = { duplicate: 0, reorder: false, failFirst: 0 };

  const saved = loadState<{ requisitions: Requisition[]; orders: PurchaseOrder[]; nextReq: number }>(
    options.stateFile,
  );
  const requisitions = new Map((saved?.requisitions ?? []).map((r) => [r.id, r]));
  const orders = new Map((saved?.orders ?? []).map((o) => [o.id, o]));
  let nextReq = saved?.nextReq ?? 5001;
  const deliveries: Delivery[] = [];
  let nextDelivery = 1;
  let inFlight = 0;
  const idle: (() => void)[] = [];
  const persist = () =>
    saveState(options.stateFile, () => ({
      requisitions: [...requisitions.values()],
      orders: [...orders.values()],
      nextReq,
    }));

  /** Calls closeloop's API as the procurement integration, retried as `retryable` says. */
  const callCloseloop = (
    path: string,
    body: unknown,
    opts: {
      maxAttempts: number;
      retryable: (status: number) => boolean;
      headers?: Record<string, string>;
    } & Pick<Parameters<typeof sendWithRetries>[2], 'beforeAttempt'>,
  ) =>
    sendWithRetries(
      `${options.closeloopUrl}${path}`,
      { headers: { 'x-api-key': options.apiKey, ...opts.headers }, body },
      { ...opts, baseMs: retryBaseMs },
    );

  /** The synchronous budget check of a requisition: reserve under the requisition's own key, retried on 5xx. */
  async function budgetCheck(r: Requisition) {
    const body = {
      legalEntity: options.legalEntity,
      lines: r['requisition-lines'].map((l) => ({
        account: l.account,
        costCenter: l['cost-center'],
        period: l.period,
        amount: { amount: l.total, currency: l.currency },
      })),
    };
    const retryable = (status: number) => status >= 500 || status === 429;
    const res = await callCloseloop('/v1/budget-control/reservations', body, {
      maxAttempts: 3,
      retryable,
      headers: { 'idempotency-key': r['reservation-key'] },
    });
    if (res.status === undefined || retryable(res.status)) {
      r.status = 'budget_check_error';
      r['budget-check'] = { error: res.error };
      return;
    }
    r['budget-check'] = res.body;
    if (res.status === 201) r.status = 'pending_approval';
    else if (res.status === 200) r.status = 'budget_rejected';
    else r.status = 'budget_check_error';
  }

  async function release(r: Requisition) {
    await callCloseloop(
      `/v1/budget-control/reservations/${encodeURIComponent(r['reservation-key'])}/release`,
      { legalEntity: options.legalEntity },
      { maxAttempts: 1, retryable: () => false },
    );
  }

  /** Runs outbound work in the background; `settled()` waits for all of it. */
  function inBackground(work: Promise<void>) {
    inFlight++;
    void work.finally(() => {
      inFlight--;
      if (inFlight === 0) idle.splice(0).forEach((go) => go());
    });
  }

  /** Queues a webhook and delivers it in the background, at least once. */
  function emit(events: ConsumptionEvent[]) {
    const copies = 1 + (outbound.duplicate > 0 ? (outbound.duplicate--, 1) : 0);
    const batch = outbound.reorder ? [...events].reverse() : events;
    for (let i = 0; i < copies; i++) {
      const d: Delivery = { id: nextDelivery++, events: batch, attempts: 0, status: 'pending' };
      deliveries.push(d);
      inBackground(deliver(d));
    }
  }

  async function deliver(d: Delivery) {
    const res = await callCloseloop(
      '/v1/budget-control/consumption-events',
      { legalEntity: options.legalEntity, sourceSystem, events: d.events },
      {
        maxAttempts,
        // A refusal is final: the receiver said the content is wrong, sending it again changes nothing.
        retryable: (status) => status >= 500 || status === 429 || status === 409,
        beforeAttempt: (attempt) => {
          d.attempts = attempt;
          if (outbound.failFirst > 0) {
            outbound.failFirst--;
            throw new Error('connection reset (injected)');
          }
        },
      },
    );
    d.status = res.ok ? 'delivered' : 'failed';
    if (res.ok) d.response = res.body;
    else d.lastError = res.error;
  }

  /** Sends an invoice to the ERP for posting, retried like a webhook; its state is kept on the invoice. */
  function exportInvoice(
    po: PurchaseOrder,
    invoice: PurchaseOrder['invoices'][number],
    erp: NonNullable<ProcurementSimulatorOptions['erpInvoiceExport']>,
  ) {
    invoice['erp-export'] = { status: 'pending' };
    const posting = {
      dataAreaId: erp.company,
      InvoiceNumber: invoice['invoice-number'],
      // Posted mid-month of the order line's period, so the actual lands where the commitment was.
      InvoiceDate: `${po['order-lines'][0]!.period}-15`,
      CurrencyCode: po['order-lines'][0]!.currency,
      PurchaseOrderNumber: po.id,
      lines: invoice.lines.flatMap((c) => {
        const l = po['order-lines'].find((x) => x['line-num'] === c['line-num']);
        return l
          ? [
              {
                LedgerDimensionDisplayValue: erp.ledgerDimension(
                  l.account,
                  l['cost-center'],
                  `${l.period}-15`,
                ),
                Amount: c.total,
                PurchaseOrderLineNumber: l['line-num'],
              },
            ]
          : [];
      }),
    };
    inBackground(
      (async () => {
        const res = await sendWithRetries(
          `${erp.url}/__sim/vendor-invoices`,
          { body: posting },
          { maxAttempts, baseMs: retryBaseMs, retryable: (status) => status >= 500 },
        );
        const answer = res.body as { voucher?: string } | undefined;
        invoice['erp-export'] = res.ok
          ? { status: 'posted', voucher: answer?.voucher }
          : { status: 'failed', error: res.error };
        persist();
      })(),
    );
  }

  const app: Express = express();
  app.disable('x-powered-by');
  app.use(faults.router());
  app.use(express.json());
  app.use(faults.middleware((status) => ({ errors: [{ message: `simulated HTTP ${status}` }] })));

  const bad = (res: express.Response, err: z.ZodError) =>
    res.status(400).json({ errors: fieldIssues(err).map((i) => ({ field: i.field, message: i.message })) });
  const findReq = (id: string) => requisitions.get(Number(id));
  const findOrder = (id: string) => orders.get(id);

  app.post('/api/requisitions', async (req, res) => {
    const parsed = RequisitionBody.safeParse(req.body);
    if (!parsed.success) return bad(res, parsed.error);
    const id = nextReq++;
    const r: Requisition = {
      id,
      status: 'pending_approval',
      'requested-by': parsed.data['requested-by'],
      'requisition-lines': parsed.data['requisition-lines'].map((l, i) => ({ ...l, 'line-num': i + 1 })),
      'reservation-key': `coupa-req-${id}`,
    };
    requisitions.set(id, r);
    await budgetCheck(r);
    persist();
    res.status(201).json(r);
  });

  app.get('/api/requisitions/:id', (req, res) => {
    const r = findReq(req.params.id);
    if (!r) return res.status(404).json({ errors: [{ message: 'no such requisition' }] });
    res.json(r);
  });

  app.post('/api/requisitions/:id/resubmit', async (req, res) => {
    const r = findReq(req.params.id);
    if (!r) return res.status(404).json({ errors: [{ message: 'no such requisition' }] });
    if (r.status !== 'budget_rejected' && r.status !== 'budget_check_error')
      return res.status(422).json({ errors: [{ message: `requisition is ${r.status}` }] });
    await budgetCheck(r);
    persist();
    res.json(r);
  });

  app.post('/api/requisitions/:id/approve', (req, res) => {
    const r = findReq(req.params.id);
    const approver = z.object({ approver: z.string().min(1) }).safeParse(req.body);
    if (!approver.success) return bad(res, approver.error);
    if (!r) return res.status(404).json({ errors: [{ message: 'no such requisition' }] });
    if (r.status !== 'pending_approval')
      return res
        .status(422)
        .json({ errors: [{ message: `requisition is ${r.status}, not pending_approval` }] });
    r.status = 'ordered';
    r['approved-by'] = approver.data.approver;
    // Approval issues the purchase order at once, as a buying suite set to auto-create orders does.
    const po: PurchaseOrder = {
      id: `PO-${r.id}`,
      status: 'issued',
      version: 1,
      'requisition-id': r.id,
      'order-lines': r['requisition-lines'].map((l) => ({ ...l, received: '0.00', invoiced: '0.00' })),
      invoices: [],
    };
    r['order-id'] = po.id;
    orders.set(po.id, po);
    emit(committedEvents(po, r['reservation-key']));
    persist();
    res.json({ requisition: r, 'purchase-order': po });
  });

  for (const act of ['reject', 'cancel'] as const) {
    app.post(`/api/requisitions/:id/${act}`, async (req, res) => {
      const r = findReq(req.params.id);
      if (!r) return res.status(404).json({ errors: [{ message: 'no such requisition' }] });
      if (r.status !== 'pending_approval' && r.status !== 'approved')
        return res.status(422).json({ errors: [{ message: `requisition is ${r.status}` }] });
      r.status = act === 'reject' ? 'rejected' : 'cancelled';
      await release(r);
      persist();
      res.json(r);
    });
  }

  const committedEvents = (po: PurchaseOrder, reservationKey?: string): ConsumptionEvent[] =>
    po['order-lines'].map((l) => ({
      type: 'committed',
      documentId: po.id,
      lineNo: l['line-num'],
      sequence: po.version,
      account: l.account,
      costCenter: l['cost-center'],
      period: l.period,
      amount: { amount: l.total, currency: l.currency },
      ...(reservationKey ? { reservationKey } : {}),
    }));

  app.get('/api/purchase_orders/:id', (req, res) => {
    const po = findOrder(req.params.id);
    if (!po) return res.status(404).json({ errors: [{ message: 'no such purchase order' }] });
    res.json(po);
  });

  app.post('/api/purchase_orders/:id/change', (req, res) => {
    const po = findOrder(req.params.id);
    const parsed = ChangeBody.safeParse(req.body);
    if (!parsed.success) return bad(res, parsed.error);
    if (!po || po.status !== 'issued')
      return res.status(422).json({ errors: [{ message: 'no issued purchase order' }] });
    for (const c of parsed.data['order-lines']) {
      const l = po['order-lines'].find((x) => x['line-num'] === c['line-num']);
      if (l) l.total = c.total;
    }
    po.version++;
    emit(committedEvents(po));
    persist();
    res.json(po);
  });

  app.post('/api/purchase_orders/:id/receipts', (req, res) => {
    const po = findOrder(req.params.id);
    const parsed = ReceiptBody.safeParse(req.body);
    if (!parsed.success) return bad(res, parsed.error);
    if (!po || po.status !== 'issued')
      return res.status(422).json({ errors: [{ message: 'no issued purchase order' }] });
    // A receipt changes no budget figure (the commitment stands until invoiced); it is kept for three-way match.
    for (const c of parsed.data['receipt-lines']) {
      const l = po['order-lines'].find((x) => x['line-num'] === c['line-num']);
      if (l) l.received = add(l.received, c.total, l.currency);
    }
    persist();
    res.json(po);
  });

  app.post('/api/purchase_orders/:id/invoices', (req, res) => {
    const po = findOrder(req.params.id);
    const parsed = InvoiceBody.safeParse(req.body);
    if (!parsed.success) return bad(res, parsed.error);
    if (!po || po.status !== 'issued')
      return res.status(422).json({ errors: [{ message: 'no issued purchase order' }] });
    const number = parsed.data['invoice-number'];
    const lines = parsed.data['invoice-lines'];
    const invoice: PurchaseOrder['invoices'][number] = { 'invoice-number': number, lines };
    po.invoices.push(invoice);
    if (options.erpInvoiceExport) exportInvoice(po, invoice, options.erpInvoiceExport);
    const events: ConsumptionEvent[] = [];
    for (const c of lines) {
      const l = po['order-lines'].find((x) => x['line-num'] === c['line-num']);
      if (!l) continue;
      l.invoiced = add(l.invoiced, c.total, l.currency);
      events.push({
        type: 'invoiced',
        documentId: po.id,
        lineNo: l['line-num'],
        invoiceId: number,
        account: l.account,
        costCenter: l['cost-center'],
        period: l.period,
        amount: { amount: c.total, currency: l.currency },
      });
    }
    emit(events);
    persist();
    res.status(201).json(po);
  });

  app.post('/api/purchase_orders/:id/close', (req, res) => {
    const po = findOrder(req.params.id);
    if (!po || po.status !== 'issued')
      return res.status(422).json({ errors: [{ message: 'no issued purchase order' }] });
    po.status = 'closed';
    emit(po['order-lines'].map((l) => ({ type: 'closed', documentId: po.id, lineNo: l['line-num'] })));
    persist();
    res.json(po);
  });

  app.get('/__sim/webhooks', (_req, res) => res.json({ deliveries }));
  app.post('/__sim/webhook-faults', (req, res) => {
    const parsed = WebhookFaults.safeParse(req.body);
    if (!parsed.success) return bad(res, parsed.error);
    Object.assign(outbound, parsed.data);
    res.json(outbound);
  });

  return {
    app,
    faults,
    /** Webhook sender faults: the next `duplicate` webhooks go twice, `reorder` sends events backwards. */
    webhookFaults(f: z.input<typeof WebhookFaults>) {
      Object.assign(outbound, WebhookFaults.parse(f));
    },
    deliveries: (): readonly Delivery[] => deliveries,
    /** Resolves once every queued webhook was delivered or gave up. */
    settled: (): Promise<void> => (inFlight === 0 ? Promise.resolve() : new Promise((r) => idle.push(r))),
    listen: (port = 0, host = '127.0.0.1'): Promise<RunningServer> => serveSimulator(app, faults, port, host),
  };
}

export type ProcurementSimulator = ReturnType<typeof createProcurementSimulator>;
