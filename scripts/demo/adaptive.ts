import { adaptiveMonth, monthOrder } from '../../simulators/adaptive/simulator';
import { fromMinor, toMinor } from '../../domain/money';
import { periodsOf, subsidiaryBudgetRows } from '../../simulators/scenario/subsidiaries';
import { approveAsAwaited, call, config, cyclesOf, must, step } from './client';

const ENTITY = 'ACME-DE';
const FISCAL_YEAR = 2027;
const PLATFORMS = `/v1/legal-entities/${ENTITY}/planning-platforms`;
const SETTINGS = { level: ENTITY, forecastVersion: 'Forecast', sheet: 'closeloop Figures' };
const KEY = { planner: 'dev-planner', admin: 'dev-admin' };
const adaptiveSim = `http://127.0.0.1:${config.simulators.adaptivePort}`;

interface PlatformsView {
  inForce: string | null;
  platforms: { platform: string; validFrom: string; validTo: string | null }[];
}

/**
 * Planning as data (docs/routing.md, "The planning platform an entity is on"): FP&A in Germany moves from Anaplan
 * to Workday Adaptive Planning. ian switches ACME-DE from today; FP&A enters the next FY2027 version in Adaptive
 * (its level ACME-DE, the cost centers under it); the cycle exports it leaf by leaf, approves, publishes it to
 * Dynamics 365 and reconciles it, and the figures go back the way Adaptive keeps them: elapsed months' actuals
 * into its Actuals version (the actuals pointer moves), the months to come into its Forecast version. Then the
 * entity is put back on Anaplan the same day (a switch on the day another started replaces it), so every other
 * demo reads its versions from Anaplan as before, and this one runs again the same way.
 */
export async function adaptiveScenario() {
  step(`${ENTITY}'s planning platform today (GET ${PLATFORMS})`);
  showPlatforms(must(await call('GET', PLATFORMS, KEY.planner), 200).body as unknown as PlatformsView);

  const today = new Date().toISOString().slice(0, 10);
  step(`ian (integration admin) switches ${ENTITY} to Workday Adaptive Planning from ${today}`);
  const switched = must(
    await call('POST', PLATFORMS, KEY.admin, {
      platform: 'adaptive',
      settings: SETTINGS,
      validFrom: today,
      reason: 'FP&A Germany moves to Adaptive Planning',
    }),
    201,
    200,
  );
  console.log(
    `  ${switched.status === 201 ? 'switched, audited as planning_platform.switched' : 'already on it'}`,
  );
  try {
    await cycleOnAdaptive();
  } finally {
    step(
      `ian puts ${ENTITY} back on Anaplan today (the switch is replaced), so the other demos read from Anaplan`,
    );
    must(
      await call('POST', PLATFORMS, KEY.admin, {
        platform: 'anaplan',
        settings: {},
        validFrom: today,
        reason: 'the demo is over: back to Anaplan',
      }),
      201,
      200,
    );
    showPlatforms(must(await call('GET', PLATFORMS, KEY.planner), 200).body as unknown as PlatformsView);
  }
}

async function cycleOnAdaptive() {
  let version = Math.max(0, ...(await cyclesOf(ENTITY, FISCAL_YEAR)).map((c) => c.ref?.version ?? 0)) + 1;
  const months = new Map(periodsOf(ENTITY, FISCAL_YEAR).map((p) => [p.period, adaptiveMonth(p.startDate)]));
  for (; ; version++) {
    // Each version raises Berlin engineering's fourth quarter by 1% more, so every run's version differs from the
    // last; the months before stay as planned, since the close demo may have closed some of them.
    const cells = subsidiaryBudgetRows(ENTITY, FISCAL_YEAR).map((r) => ({
      account: r.dimensions.account!,
      level: r.dimensions.costCenter!,
      month: months.get(r.period)!,
      amount:
        r.dimensions.costCenter === 'CC-610' && r.period >= `${FISCAL_YEAR}-10`
          ? fromMinor((toMinor(r.amount, 'EUR') * (100n + BigInt(version))) / 100n, 'EUR')
          : r.amount,
    }));
    const name = `BUDGET FY${FISCAL_YEAR} v${version}`;
    step(`FP&A enters "${name}" in Adaptive Planning: ${cells.length} cells in the levels under ${ENTITY}`);
    const put = await fetch(`${adaptiveSim}/__sim/plan-versions`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, rows: cells }),
    });
    if (!put.ok) throw new Error(`the Adaptive simulator refused ${name}: ${put.status} ${await put.text()}`);

    const started = must(
      await call('POST', '/v1/budget-cycles', KEY.planner, {
        legalEntity: ENTITY,
        fiscalYear: FISCAL_YEAR,
        version,
        asOfPeriod: `${FISCAL_YEAR}-03`,
      }),
      202,
      409,
    );
    if (started.status === 409) continue;
    const cycleId = String(started.body.cycleId);
    step(
      `the cycle exports it from Adaptive (leaf values only), validates it and waits for approval: ${cycleId}`,
    );
    const done = await approveAsAwaited(
      `/v1/budget-cycles/${encodeURIComponent(cycleId)}`,
      'completed',
      `${ENTITY} FY${FISCAL_YEAR} v${version}`,
    );
    const total = done.total as { amount: string; currency: string };
    console.log(
      `  ${String(done.lineCount)} lines, ${total.amount} ${total.currency}, approved and published`,
    );
    for (const r of (done.reconciliation ?? []) as {
      target: string;
      targetTotal: string;
      currency: string;
    }[])
      console.log(`  ${r.target.padEnd(7)} holds ${r.targetTotal} ${r.currency}, reconciled`);
    const forecast = done.forecast as { versionName: string; lineCount: number } | undefined;

    step('the figures went back to Adaptive the way it keeps them');
    for (const version of ['Actuals', 'Forecast']) {
      const res = await fetch(
        `${adaptiveSim}/__sim/sheets?version=${version}&sheet=${encodeURIComponent(SETTINGS.sheet)}`,
      );
      const sheet = (await res.json()) as {
        cells: { month: string; amount: string }[];
        actualsThrough: string | null;
      };
      const months = [...new Set(sheet.cells.map((c) => c.month))].sort((a, b) =>
        monthOrder(a) < monthOrder(b) ? -1 : 1,
      );
      console.log(
        `  ${version.padEnd(8)} "${SETTINGS.sheet}": ${sheet.cells.length} cells, ${months[0] ?? '–'}…${months.at(-1) ?? '–'}${version === 'Actuals' ? `, actuals through ${sheet.actualsThrough ?? '–'}` : ''}`,
      );
    }
    if (forecast)
      console.log(`  (closeloop's forecast "${forecast.versionName}", ${forecast.lineCount} lines)`);
    return;
  }
}

function showPlatforms(view: PlatformsView) {
  console.log(`  in force: ${view.inForce ?? 'none'}`);
  for (const p of view.platforms)
    console.log(`  ${p.platform.padEnd(9)} ${p.validFrom} → ${p.validTo ?? '…'}`);
}
