import { fromMinor, toMinor } from '../../domain/money';
import { budgetScenario } from './budget';
import { call, ENTITY, must, procurement, sleep, step } from './client';

/**
 * The seed's central scenario: procurement asks closeloop before it spends. Requisitions raised in the
 * Coupa-style simulator are budget-checked synchronously (approved, warned, rejected), a controller
 * overrides one and freezes a cost center, the approved requisition becomes a purchase order whose
 * commitment, invoices and close reach closeloop as webhooks (duplicated and retried on purpose), a transfer
 * moves budget between cost centers and is published to Dynamics 365, and the balances show budget vs
 * reserved vs committed vs actual vs available.
 */

const KEY = {
  procurement: 'dev-procurement',
  controller: 'dev-controller',
  approver: 'dev-approver',
};
const ACCOUNT = '610200';
const COST_CENTERS = ['CC-100', 'CC-300'];
const PERIODS = ['2027-03', '2027-06', '2027-09', '2027-12'];
const USD = 'USD';

const money = (minor: bigint) => fromMinor(minor, USD);
const minor = (amount: string) => toMinor(amount, USD);

interface Balance {
  budget: { amount: string };
  reserved: { amount: string };
  committed: { amount: string };
  actual: { amount: string };
  available: { amount: string };
  controlLevel: string;
  tolerancePercent: string;
  pooledPeriods: string[];
}

async function balance(costCenter: string, period: string): Promise<Balance> {
  const r = await call(
    'GET',
    `/v1/budget-control/balances?legalEntity=${ENTITY}&account=${ACCOUNT}&costCenter=${costCenter}&period=${period}`,
    KEY.controller,
  );
  if (r.status !== 200) throw new Error(`balance refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as unknown as Balance;
}

async function requisition(costCenter: string, period: string, total: bigint) {
  return must(
    await procurement('POST', '/api/requisitions', {
      'requested-by': 'maria@acme.example',
      'requisition-lines': [
        { account: ACCOUNT, 'cost-center': costCenter, period, total: money(total), currency: USD },
      ],
    }),
    201,
  ).body;
}

function printCheck(label: string, r: Record<string, unknown>) {
  const check = r['budget-check'] as {
    outcome: string;
    reserved: boolean;
    override?: { approvedBy: string };
    lines: {
      amount: { amount: string };
      reason: string;
      controlLevel: string;
      tolerancePercent: string;
      availableBefore: string;
      availableAfter: string;
    }[];
  };
  const l = check.lines[0]!;
  console.log(
    `  ${label}: ${l.amount.amount} ${USD} → ${check.override ? `held by override of ${check.override.approvedBy}` : check.outcome.toUpperCase()} ` +
      `(requisition ${String(r.id)} is ${String(r.status)})`,
  );
  console.log(
    `    rule: ${l.controlLevel}, tolerance ${l.tolerancePercent}% · available ${l.availableBefore} → ${l.availableAfter} · ${l.reason}`,
  );
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await read();
    if (done(v)) return v;
    await sleep(200);
  }
  throw new Error(`${what} did not happen within 2 minutes`);
}

export async function procurementScenario() {
  step(`budget: an approved FY2027 budget must be in control for ${ENTITY}`);
  if (minor((await balance(COST_CENTERS[0]!, PERIODS[0]!)).budget.amount) === 0n) {
    console.log('  none yet: running the budget scenario first');
    await budgetScenario({ approveBySignal: false });
  }
  // The bucket the requisitions go to: the first with room left (a re-run takes the next quarter).
  let bucket: { costCenter: string; period: string; b: Balance } | undefined;
  for (const period of PERIODS) {
    for (const costCenter of COST_CENTERS) {
      const b = await balance(costCenter, period);
      if (minor(b.available.amount) * 10n >= minor(b.budget.amount) * 3n && minor(b.budget.amount) > 0n) {
        bucket = { costCenter, period, b };
        break;
      }
    }
    if (bucket) break;
  }
  if (!bucket)
    throw new Error(
      `no ${ACCOUNT} bucket of ${ENTITY} has 30% of its budget left; the figures stand as they are (see the balances API)`,
    );
  const { costCenter, period } = bucket;
  const other = COST_CENTERS.find((c) => c !== costCenter)!;
  const budget = minor(bucket.b.budget.amount);
  console.log(
    `  travel (${ACCOUNT}) of ${costCenter}, pooled over ${bucket.b.pooledPeriods.join(', ')}: budget ${bucket.b.budget.amount}, available ${bucket.b.available.amount} ${USD}; ${bucket.b.controlLevel} control with ${bucket.b.tolerancePercent}% tolerance`,
  );

  step('consumption: commitments come from Coupa as events, actuals from the Dynamics 365 ledger');
  const model = must(await call('GET', `/v1/budget-control/models/${ENTITY}`, KEY.controller), 200).body;
  const previous = String(model.consumptionSource);
  if (previous !== 'mixed') {
    must(
      await call('PUT', `/v1/budget-control/models/${ENTITY}`, KEY.controller, {
        consumptionSource: 'mixed',
        reason: 'procurement demo: Coupa owns the orders, Dynamics 365 the books',
      }),
      200,
    );
    console.log(`  dave (controller) switched ${ENTITY} from ${previous} to mixed (audited)`);
  }
  try {
    await scenario(costCenter, other, period, budget, minor(bucket.b.available.amount));
  } finally {
    if (previous !== 'mixed') {
      await call('PUT', `/v1/budget-control/models/${ENTITY}`, KEY.controller, {
        consumptionSource: previous,
        reason: 'procurement demo finished',
      });
      console.log(`\n  (${ENTITY} takes its consumption from ${previous} again)`);
    }
  }
}

async function scenario(
  costCenter: string,
  other: string,
  period: string,
  budget: bigint,
  available: bigint,
) {
  step('requisitions in Coupa: each is checked by closeloop before anyone approves it');
  const first = available * 4n <= 12_500_00n * 10n ? (available * 4n) / 10n : 12_500_00n;
  const a = await requisition(costCenter, period, first);
  printCheck('laptop bags and travel for the Q kickoff', a);
  // Past the budget, within the 5% tolerance: allowed with a warning.
  const b = await requisition(costCenter, period, available - first + (budget * 2n) / 100n);
  printCheck('client workshop travel', b);
  // Past the tolerance: rejected, nothing held.
  const c = await requisition(costCenter, period, (budget * 5n) / 100n);
  printCheck('partner summit', c);

  step('override: the buyer asks, dave (controller) approves the partner summit over budget');
  const line = (c['requisition-lines'] as { total: string }[])[0]!;
  const asked = must(
    await call(
      'POST',
      '/v1/budget-control/overrides',
      KEY.procurement,
      {
        legalEntity: ENTITY,
        lines: [{ account: ACCOUNT, costCenter, period, amount: { amount: line.total, currency: USD } }],
        reason: 'summit booked with the client; cost recharged in Q4',
      },
      { 'idempotency-key': String(c['reservation-key']) },
    ),
    202,
    200,
  ).body;
  console.log(`  override ${String(asked.id)} awaits a controller (workflow ${String(asked.workflowId)})`);
  const own = await call(
    'POST',
    `/v1/budget-control/overrides/${String(asked.id)}/decision`,
    KEY.procurement,
    {
      decision: 'approve',
    },
  );
  console.log(`  coupa (requester) tries to decide it: ${own.status} ${String(own.body.error)}`);
  must(
    await call('POST', `/v1/budget-control/overrides/${String(asked.id)}/decision`, KEY.controller, {
      decision: 'approve',
      comment: 'recharged to the client',
    }),
    200,
  );
  printCheck(
    'partner summit, resubmitted',
    must(await procurement('POST', `/api/requisitions/${String(c.id)}/resubmit`), 200).body,
  );

  step(`freeze: dave freezes ${other} after an audit finding`);
  const freeze = must(
    await call('POST', '/v1/budget-control/freezes', KEY.controller, {
      legalEntity: ENTITY,
      costCenter: other,
      reason: 'audit finding: travel approvals under review',
    }),
    201,
  ).body;
  const frozen = await requisition(other, period, 100_00n);
  console.log(`  a 100.00 ${USD} requisition on ${other}: ${String(frozen.status)}`);
  console.log(`    ${(frozen['budget-check'] as { lines: { reason: string }[] }).lines[0]!.reason}`);
  must(
    await call('POST', `/v1/budget-control/freezes/${String(freeze.id)}/unfreeze`, KEY.controller, {
      legalEntity: ENTITY,
      reason: 'review closed',
    }),
    200,
  );
  console.log(`  unfrozen: a separate act with its own reason, audited like the freeze`);

  step(
    'purchase order: approved in Coupa, changed, invoiced twice, closed (webhooks duplicated and retried)',
  );
  await procurement('POST', '/__sim/webhook-faults', { duplicate: 3, failFirst: 2 });
  const ordered = must(
    await procurement('POST', `/api/requisitions/${String(a.id)}/approve`, { approver: 'tom@acme.example' }),
    200,
  ).body;
  const po = (ordered['purchase-order'] as { id: string }).id;
  const changed = (first * 95n) / 100n;
  const partial = (changed * 40n) / 100n;
  await procurement('POST', `/api/purchase_orders/${po}/invoices`, {
    'invoice-number': `${po}-INV-1`,
    'invoice-lines': [{ 'line-num': 1, total: money(partial) }],
  });
  await procurement('POST', `/api/purchase_orders/${po}/change`, {
    'order-lines': [{ 'line-num': 1, total: money(changed) }],
  });
  await procurement('POST', `/api/purchase_orders/${po}/invoices`, {
    'invoice-number': `${po}-INV-2`,
    'invoice-lines': [{ 'line-num': 1, total: money(changed - partial) }],
  });
  await procurement('POST', `/api/purchase_orders/${po}/close`);
  console.log(
    `  ${po}: ${money(first)} committed, changed to ${money(changed)}, invoiced ${money(partial)} + ${money(changed - partial)}, closed`,
  );
  await procurement('POST', `/api/requisitions/${String(b.id)}/cancel`);
  console.log(`  the client workshop is cancelled: its reservation is released`);
  const deliveries = await until(
    'webhook delivery',
    async () =>
      (await procurement('GET', '/__sim/webhooks')).body.deliveries as { status: string; attempts: number }[],
    (d) => d.every((x) => x.status !== 'pending'),
  );
  console.log(
    `  webhooks: ${deliveries.length} deliveries (duplicates included), ${deliveries.filter((d) => d.attempts > 1).length} retried, ${deliveries.filter((d) => d.status === 'failed').length} failed`,
  );
  type Order = {
    invoices: { 'invoice-number': string; 'erp-export'?: { status: string; voucher?: string } }[];
  };
  const order = await until(
    'the invoices export',
    async () => must(await procurement('GET', `/api/purchase_orders/${po}`), 200).body as unknown as Order,
    (o) => o.invoices.every((i) => i['erp-export']?.status !== 'pending'),
  );
  for (const inv of order.invoices)
    console.log(
      `  ${inv['invoice-number']} exported to Dynamics 365: ${inv['erp-export']?.status ?? 'not exported'} ${inv['erp-export']?.voucher ?? ''}`,
    );

  step(
    'actuals: the Dynamics 365 ledger is synced and the figures delivered to Anaplan (POST /v1/erp-syncs)',
  );
  const synced = must(
    await call('POST', '/v1/erp-syncs', 'dev-scheduler', {
      legalEntity: ENTITY,
      fiscalYear: 2027,
      deliverAsOf: '2027-03',
      wait: true,
    }),
    200,
  ).body as {
    workflowId: string;
    years: {
      actuals: { inserted: number; duplicates: number };
      delivered: { versionName?: string; lineCount?: number; skipped?: string };
    }[];
  };
  const fy = synced.years[0]!;
  console.log(
    `  ${synced.workflowId}: ${fy.actuals.inserted} new ledger lines, ${fy.actuals.duplicates} already counted`,
  );
  console.log(
    fy.delivered.skipped
      ? `  planning: ${fy.delivered.skipped}`
      : `  planning: forecast "${fy.delivered.versionName}" updated in Anaplan (${fy.delivered.lineCount} lines)`,
  );

  step(`transfer: dave moves travel budget from ${other} to ${costCenter}; carol approves`);
  const amount = budget / 10n;
  const transfer = must(
    await call(
      'POST',
      '/v1/budget-control/transfers',
      KEY.controller,
      {
        legalEntity: ENTITY,
        kind: 'transfer',
        from: { account: ACCOUNT, costCenter: other, period },
        to: { account: ACCOUNT, costCenter, period },
        amount: { amount: money(amount), currency: USD },
        reason: 'client travel follows the engagement',
      },
      { 'idempotency-key': `demo-transfer-${costCenter}-${period}-${Date.now()}` },
    ),
    202,
  ).body;
  const self = await call(
    'POST',
    `/v1/budget-control/transfers/${String(transfer.id)}/decision`,
    KEY.controller,
    {
      decision: 'approve',
    },
  );
  console.log(`  dave tries to approve his own transfer: ${self.status} ${String(self.body.error)}`);
  must(
    await call('POST', `/v1/budget-control/transfers/${String(transfer.id)}/decision`, KEY.approver, {
      decision: 'approve',
      comment: 'agreed with both cost center owners',
    }),
    200,
  );
  const published = await until(
    'the transfer publication',
    async () =>
      (await call('GET', `/v1/budget-control/transfers/${String(transfer.id)}`, KEY.controller)).body,
    (t) => ['published', 'refused'].includes(String(t.status)),
  );
  console.log(
    `  ${money(amount)} ${USD}: ${String(published.status)}${published.erpDocument ? ` as budget register entry ${String(published.erpDocument)}` : ''}${published.outcomeReason ? ` (${String(published.outcomeReason)})` : ''}`,
  );

  step(`balances of travel (${ACCOUNT}), ${period} and the periods pooled with it`);
  console.log('  cost center        budget      reserved     committed        actual     available');
  for (const cc of [costCenter, other]) {
    const x = await balance(cc, period);
    console.log(
      `  ${cc.padEnd(12)} ${[x.budget, x.reserved, x.committed, x.actual, x.available].map((m) => m.amount.padStart(13)).join(' ')}`,
    );
  }
  console.log(
    `\n✔ procurement scenario done; every figure above is explained by GET /v1/budget-control/balances (behind)`,
  );
}
