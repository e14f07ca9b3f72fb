import { sql } from 'drizzle-orm';
import { type BudgetControl, wholeCombination } from '../../domain/control-budgets';
import { fromMinor, toMinor } from '../../domain/money';
import { countedMinor, FUNDING } from '../../domain/projects';
import { type Dimensions } from '../../domain/model';
import { type DbOrTx, type Tx } from '../client';
import { controlBudgetBalances } from '../schema';
import { type CalendarPeriod, controlBudgetContext } from './control-budgets';
import { projectsOf } from './projects';
import { fundingControl } from '../../domain/projects';
import { calendarPeriods, getLegalEntity } from './reference';

/**
 * The figures of an entity's control budgets (issue 22) follow its control model as it stands: every spend
 * fact (held reservation, open commitment, actual) and the active budget count in each budget the fact's
 * combination falls in, as of its period's first day. Spend writers add to them as they add to the buckets,
 * under a shared lock; a change of the model takes the lock exclusive and rebuilds them from the facts in the
 * same transaction (re-evaluation: nothing held or committed is refused by a later change, and the change
 * says which budgets it leaves over their limit). Reservations record the budgets they hold in, so a release
 * gives back exactly there; a rebuild rewrites those records with the figures.
 */

/** The name of an entity's control-budget lock (its key is hashtextextended(name, 0)). */
export const controlBudgetsLockName = (legalEntity: string) => `control-budgets:${legalEntity}`;
const lockKey = (legalEntity: string) => sql`hashtextextended(${controlBudgetsLockName(legalEntity)}, 0)`;

/** Spend writers and reservations hold it shared; a model change holds it exclusive. */
export async function lockControlBudgets(tx: DbOrTx, legalEntity: string, mode: 'shared' | 'exclusive') {
  await tx.execute(
    mode === 'shared'
      ? sql`select pg_advisory_xact_lock_shared(${lockKey(legalEntity)})`
      : sql`select pg_advisory_xact_lock(${lockKey(legalEntity)})`,
  );
}

/** A line's budgets under the entity's control budgets as they stand; undefined when it has none. */
export async function controlBudgetKeying(db: DbOrTx, legalEntity: string) {
  const ctx = await controlBudgetContext(db, legalEntity);
  if (!ctx.controls) return undefined;
  const entity = await getLegalEntity(db, legalEntity);
  const calendar: CalendarPeriod[] = entity
    ? await calendarPeriods(db, entity.fiscalCalendar, legalEntity)
    : [];
  const byPeriod = new Map(calendar.map((p) => [p.period, p]));
  return Object.assign(
    (dims: Dimensions, period: string): BudgetControl[] => {
      const at = byPeriod.get(period);
      return at ? ctx.of(dims, at, calendar) : [];
    },
    { calendar },
  );
}

export type SpendColumn = 'actual' | 'committed' | 'reserved';

/**
 * Adds spend to each control budget a fact falls in (one statement per budget, the database adding), after
 * taking the model's lock shared. Call it before touching the fact's bucket: budgets are locked before
 * buckets everywhere, as reservations lock them.
 */
export async function addToControlBudgets(
  tx: DbOrTx,
  f: { legalEntity: string; dimensions: Dimensions; period: string; currency: string },
  column: SpendColumn,
  delta: string,
) {
  await lockControlBudgets(tx, f.legalEntity, 'shared');
  const keying = await controlBudgetKeying(tx, f.legalEntity);
  if (!keying) return;
  const col = sql.identifier(column);
  for (const b of keying(f.dimensions, f.period)) {
    const counted = countedAmount(b, delta, f.currency);
    await tx.execute(sql`
      insert into ${controlBudgetBalances} (legal_entity, budget_key, code, key_values, period, currency, ${col}, updated_at)
      values (${f.legalEntity}, ${b.key}, ${b.code}, ${JSON.stringify(b.values)}::jsonb, ${f.period}, ${f.currency},
              ${counted}::numeric, now())
      on conflict (legal_entity, budget_key, period, currency)
      do update set ${col} = ${controlBudgetBalances}.${col} + ${counted}::numeric, updated_at = now()`);
  }
}

/** What an amount counts for in a budget (with a grant's indirect cost where it counts), as a decimal. */
export const countedAmount = (b: BudgetControl, amount: string, currency: string) =>
  fromMinor(countedMinor(b, toMinor(amount, currency)), currency);

/** A reservation line's record of a budget it holds in, and how much (what a release gives back there). */
export const holdOf = (b: BudgetControl, amount: string, currency: string) => ({
  key: b.key,
  amount: countedAmount(b, amount, currency),
});

/** The budget keys (with their rule) of many facts at once; [] for each when the entity has none. */
export async function controlBudgetsOfFacts(
  db: DbOrTx,
  legalEntity: string,
  facts: readonly { dimensions: Dimensions; period: string }[],
): Promise<BudgetControl[][]> {
  const keying = facts.length ? await controlBudgetKeying(db, legalEntity) : undefined;
  return facts.map((f) => (keying ? keying(f.dimensions, f.period) : []));
}

type Figures = { budget: bigint; reserved: bigint; committed: bigint; actual: bigint };
type FigureRow = { code: string; values: Record<string, string | null>; period: string; currency: string };

/** Sums facts into per-budget, per-period rows. */
class FigureSums {
  readonly rows = new Map<string, FigureRow & { key: string } & Figures>();
  add(b: BudgetControl, period: string, currency: string, column: keyof Figures, amount: string) {
    const k = `${b.key}\u0000${period}\u0000${currency}`;
    let row = this.rows.get(k);
    if (!row)
      this.rows.set(
        k,
        (row = {
          key: b.key,
          code: b.code,
          values: b.values,
          period,
          currency,
          budget: 0n,
          reserved: 0n,
          committed: 0n,
          actual: 0n,
        }),
      );
    // Budgets are set, spend is counted (with a grant's indirect cost where it counts).
    row[column] +=
      column === 'budget' ? toMinor(amount, currency) : countedMinor(b, toMinor(amount, currency));
  }
  recordset() {
    return [...this.rows.values()]
      .sort((a, b) => (`${a.key}|${a.period}` < `${b.key}|${b.period}` ? -1 : 1))
      .map((r) => ({
        k: r.key,
        c: r.code,
        v: r.values,
        p: r.period,
        y: r.currency,
        b: fromMinor(r.budget, r.currency),
        r: fromMinor(r.reserved, r.currency),
        m: fromMinor(r.committed, r.currency),
        a: fromMinor(r.actual, r.currency),
      }));
  }
}

/**
 * Adds what applied transfers moved to the budgets each side falls in (a project's funding excepted), in the
 * periods named (all when none): a version's activation replaces the budget from its lines and keeps these, as
 * the buckets keep their `transferred`.
 */
async function addTransfers(
  tx: DbOrTx,
  legalEntity: string,
  keying: NonNullable<Awaited<ReturnType<typeof controlBudgetKeying>>>,
  sums: FigureSums,
  periods?: ReadonlySet<string>,
) {
  const rows = (await tx.execute(sql`
    select kind, from_account as "fromAccount", from_cost_center as "fromCostCenter", from_period as "fromPeriod",
           from_dimensions as "fromDimensions", to_account as "toAccount", to_cost_center as "toCostCenter",
           to_period as "toPeriod", to_dimensions as "toDimensions", amount::text as amount, currency
      from budget_transfers where legal_entity = ${legalEntity} and status in ('applied', 'published')`)) as unknown as {
    kind: string;
    fromAccount: string | null;
    fromCostCenter: string | null;
    fromPeriod: string | null;
    fromDimensions: Record<string, string> | null;
    toAccount: string;
    toCostCenter: string;
    toPeriod: string;
    toDimensions: Record<string, string> | null;
    amount: string;
    currency: string;
  }[];
  for (const t of rows) {
    const sides = [
      {
        dims: wholeCombination(t.toAccount, t.toCostCenter, t.toDimensions),
        period: t.toPeriod,
        amount: t.amount,
      },
      ...(t.kind === 'transfer'
        ? [
            {
              dims: wholeCombination(t.fromAccount!, t.fromCostCenter!, t.fromDimensions),
              period: t.fromPeriod!,
              amount: fromMinor(-toMinor(t.amount, t.currency), t.currency),
            },
          ]
        : []),
    ];
    for (const x of sides) {
      if (periods && !periods.has(x.period)) continue;
      for (const b of keying(x.dims, x.period))
        if (b.code !== FUNDING) sums.add(b, x.period, t.currency, 'budget', x.amount);
    }
  }
}

/** A bucket's combination when the fact kept no other dimensions ('' cost center: none). */
const bucketDims = sql`jsonb_strip_nulls(jsonb_build_object('account', account, 'costCenter', nullif(cost_center, '')))`;

type FactRow = { dims: Dimensions; period: string; currency: string; amount: string };

/**
 * Sets the budget of each control budget from a version being activated: the version's lines summed per
 * budget they fall in; budgets of the version's periods it has no line in go to zero. One statement.
 */
export async function activateControlBudgets(
  tx: DbOrTx,
  v: { id: string; legalEntity: string; periods: string[] },
) {
  await lockControlBudgets(tx, v.legalEntity, 'shared');
  const keying = await controlBudgetKeying(tx, v.legalEntity);
  if (!keying || !v.periods.length) return;
  const lines = (await tx.execute(sql`
    select dimensions as dims, period, currency, amount::text as amount
      from budget_lines where version_id = ${v.id}::uuid`)) as unknown as FactRow[];
  const sums = new FigureSums();
  // A project's funding is its grant's award, never the budget lines'.
  for (const l of lines)
    for (const b of keying(l.dims, l.period))
      if (b.code !== FUNDING) sums.add(b, l.period, l.currency, 'budget', l.amount);
  await addTransfers(tx, v.legalEntity, keying, sums, new Set(v.periods));
  const input = sums.recordset();
  await tx.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        as x(k text, c text, v jsonb, p text, y text, b numeric)
    ), zeroed as (
      update control_budget_balances cb set budget = 0, updated_at = now()
       where cb.legal_entity = ${v.legalEntity} and cb.code <> ${FUNDING}
         and cb.period in (${sql.join(
           v.periods.map((p) => sql`${p}`),
           sql`, `,
         )})
         and not exists (select 1 from input i where i.k = cb.budget_key and i.p = cb.period and i.y = cb.currency)
      returning 1
    )
    insert into control_budget_balances (legal_entity, budget_key, code, key_values, period, currency, budget, updated_at)
    select ${v.legalEntity}, k, c, v, p, y, b, now() from input order by k, p, y
    on conflict (legal_entity, budget_key, period, currency)
    do update set budget = excluded.budget, updated_at = now()`);
}

/** A budget the rebuilt figures leave over its budget on some pooled period. */
export interface OverBudget {
  controlBudget: string;
  period: string;
  currency: string;
  budget: string;
  consumed: string;
}

/**
 * Rebuilds every control budget figure of an entity from the facts standing, under the model as it now
 * stands (call it in the transaction that changed the model, after the change): the model's lock exclusive,
 * its version bumped (reservations decided on the older one are decided again), held reservations' budgets
 * rewritten, and the figures replaced. Returns the budgets left over their limit, by pooled period.
 */
export async function rebuildControlBudgets(tx: Tx, legalEntity: string): Promise<OverBudget[]> {
  await lockControlBudgets(tx, legalEntity, 'exclusive');
  await tx.execute(sql`
    update legal_entities set control_budgets_version = control_budgets_version + 1 where code = ${legalEntity}`);
  const keying = await controlBudgetKeying(tx, legalEntity);
  const facts = async (q: ReturnType<typeof sql>) => (await tx.execute(q)) as unknown as FactRow[];
  const sums = new FigureSums();
  const controls = new Map<string, BudgetControl>();
  const count = (rows: FactRow[], column: keyof Figures) => {
    if (!keying) return;
    for (const f of rows)
      for (const b of keying(f.dims, f.period)) {
        if (column === 'budget' && b.code === FUNDING) continue;
        sums.add(b, f.period, f.currency, column, f.amount);
        controls.set(`${b.key}\u0000${f.period}`, b);
      }
  };
  count(
    await facts(sql`
      select dimensions as dims, period, currency, amount::text as amount from budget_lines
       where version_id in (select distinct version_id from control_balances
                             where legal_entity = ${legalEntity} and version_id is not null)`),
    'budget',
  );
  if (keying) await addTransfers(tx, legalEntity, keying, sums);
  // Each grant-funded project's funding: the award, from the period its performance starts in.
  if (keying)
    for (const p of (await projectsOf(tx, legalEntity)).filter((x) => x.grant)) {
      const g = p.grant!;
      const start = keying.calendar.find((c) => c.endDate >= g.awardFrom && c.kind !== 'adjustment');
      const control = start && fundingControl(p, start.period, keying.calendar);
      if (!start || !control) continue;
      sums.add(control, start.period, g.awarded.currency, 'budget', g.awarded.amount);
      controls.set(`${control.key}\u0000${start.period}`, control);
    }
  const held = (await tx.execute(sql`
    select requester, idempotency_key as key, line_no as "lineNo", coalesce(dimensions, ${bucketDims}) as dims,
           period, currency, amount::text as amount
      from funds_reservations where legal_entity = ${legalEntity} and status = 'held'`)) as unknown as (FactRow & {
    requester: string;
    key: string;
    lineNo: number;
  })[];
  count(held, 'reserved');
  count(
    await facts(sql`
      select coalesce(dimensions, ${bucketDims}) as dims, period, currency, open_counted::text as amount
        from consumption_lines where legal_entity = ${legalEntity} and open_counted <> 0
      union all
      select dimensions, period, currency, open_amount::text from commitment_lines
       where legal_entity = ${legalEntity} and open_amount <> 0`),
    'committed',
  );
  count(
    await facts(sql`
      select dimensions as dims, period, currency, amount::text as amount from actual_lines
       where legal_entity = ${legalEntity}
      union all
      select coalesce(payload->'dimensions',
                      jsonb_strip_nulls(jsonb_build_object('account', payload->>'account',
                                                           'costCenter', nullif(payload->>'costCenter', '')))),
             payload->>'period', payload->'amount'->>'currency', payload->'amount'->>'amount'
        from consumption_events
       where legal_entity = ${legalEntity} and type = 'invoiced' and outcome = 'applied'
         and (payload->>'invoicedIsActual')::boolean`),
    'actual',
  );
  const holds = held.map((h) => ({
    q: h.requester,
    k: h.key,
    n: h.lineNo,
    h: keying ? keying(h.dims, h.period).map((b) => holdOf(b, h.amount, h.currency)) : [],
  }));
  if (holds.length)
    await tx.execute(sql`
      update funds_reservations fr set holds = x.h
        from jsonb_to_recordset(${JSON.stringify(holds)}::jsonb) as x(q text, k text, n int, h jsonb)
       where fr.requester = x.q and fr.idempotency_key = x.k and fr.line_no = x.n and fr.holds <> x.h`);
  await tx.execute(sql`delete from control_budget_balances where legal_entity = ${legalEntity}`);
  const input = sums.recordset();
  if (input.length)
    await tx.execute(sql`
      insert into control_budget_balances (legal_entity, budget_key, code, key_values, period, currency, budget,
                                           reserved, committed, actual, updated_at)
      select ${legalEntity}, k, c, v, p, y, b, r, m, a, now()
        from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
          as x(k text, c text, v jsonb, p text, y text, b numeric, r numeric, m numeric, a numeric)`);
  return overBudget(sums, controls);
}

/** Each budget and period where what is consumed over its pool passes the pooled budget (controlled ones). */
function overBudget(sums: FigureSums, controls: Map<string, BudgetControl>): OverBudget[] {
  const over: OverBudget[] = [];
  const byKey = new Map<string, (FigureRow & Figures)[]>();
  for (const r of sums.rows.values()) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  for (const r of sums.rows.values()) {
    const c = controls.get(`${r.key}\u0000${r.period}`);
    if (!c || c.level === 'none' || c.level === 'track_only') continue;
    const pool = (byKey.get(r.key) ?? []).filter(
      (x) => x.currency === r.currency && c.pooledPeriods.includes(x.period),
    );
    const budget = pool.reduce((s, x) => s + x.budget, 0n);
    const consumed = pool.reduce((s, x) => s + x.reserved + x.committed + x.actual, 0n);
    if (consumed > budget)
      over.push({
        controlBudget: r.key,
        period: r.period,
        currency: r.currency,
        budget: fromMinor(budget, r.currency),
        consumed: fromMinor(consumed, r.currency),
      });
  }
  return over.sort((a, b) => (`${a.controlBudget}|${a.period}` < `${b.controlBudget}|${b.period}` ? -1 : 1));
}

/** A control budget's figures summed over periods, per budget (or for the budgets named). */
export async function controlBudgetFiguresOver(
  db: DbOrTx,
  legalEntity: string,
  a: { code?: string; keys?: readonly string[]; periods: readonly string[] },
) {
  if (!a.periods.length || (a.keys && !a.keys.length)) return [];
  const list = (xs: readonly string[]) =>
    sql.join(
      xs.map((x) => sql`${x}`),
      sql`, `,
    );
  return (await db.execute(sql`
    select budget_key as "controlBudget", code, key_values as values, currency,
           sum(budget)::text as budget, sum(reserved)::text as reserved, sum(committed)::text as committed,
           sum(actual)::text as actual
      from ${controlBudgetBalances}
     where legal_entity = ${legalEntity} and period in (${list(a.periods)})
       ${a.code ? sql`and code = ${a.code}` : sql``}
       ${a.keys ? sql`and budget_key in (${list(a.keys)})` : sql``}
     group by budget_key, code, key_values, currency
     order by budget_key, currency`)) as unknown as {
    controlBudget: string;
    code: string;
    values: Record<string, string | null>;
    currency: string;
    budget: string;
    reserved: string;
    committed: string;
    actual: string;
  }[];
}

/**
 * Holds lines already held in their buckets (a controller's approved override) in every control budget their
 * combination falls in too, and records which on each reservation line, so a release gives back there.
 */
export async function holdInControlBudgets(
  tx: Tx,
  r: {
    requester: string;
    idempotencyKey: string;
    legalEntity: string;
    lines: readonly {
      account: string;
      costCenter: string;
      period: string;
      amount: string;
      currency: string;
      dimensions?: Record<string, string>;
    }[];
  },
) {
  await lockControlBudgets(tx, r.legalEntity, 'shared');
  const keying = await controlBudgetKeying(tx, r.legalEntity);
  if (!keying) return;
  for (const [i, l] of r.lines.entries()) {
    const dims = wholeCombination(l.account, l.costCenter, l.dimensions);
    const budgets = keying(dims, l.period);
    for (const b of budgets) {
      const counted = countedAmount(b, l.amount, l.currency);
      await tx.execute(sql`
        insert into ${controlBudgetBalances} (legal_entity, budget_key, code, key_values, period, currency, reserved, updated_at)
        values (${r.legalEntity}, ${b.key}, ${b.code}, ${JSON.stringify(b.values)}::jsonb, ${l.period}, ${l.currency},
                ${counted}::numeric, now())
        on conflict (legal_entity, budget_key, period, currency)
        do update set reserved = ${controlBudgetBalances}.reserved + ${counted}::numeric, updated_at = now()`);
    }
    await tx.execute(sql`
      update funds_reservations set dimensions = ${JSON.stringify(dims)}::jsonb,
             holds = ${JSON.stringify(budgets.map((b) => holdOf(b, l.amount, l.currency)))}::jsonb
       where requester = ${r.requester} and idempotency_key = ${r.idempotencyKey} and line_no = ${i + 1}`);
  }
}
