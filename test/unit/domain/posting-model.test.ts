import { type PlanOptions, type PostingModel, planPosting, scopesAfter } from '../../../domain/posting-model';
import { fromMinor, toMinor } from '../../../domain/money';
import { type KeyedAmount } from '../../../domain/revision';

const at = (account: string, period: string, amount: string, costCenter = 'CC-100'): KeyedAmount => ({
  dimensions: { account, costCenter },
  period,
  amount,
  currency: 'USD',
});
const options: PlanOptions = {
  isOpen: (period) => period >= '2027-04',
  scopeOf: (l) => l.period,
  yearOf: (period) => period.slice(0, 4),
};
const MODELS: PostingModel[] = ['additive', 'control-budget', 'replace-scope', 'annual-lines'];

/** What a target holding `held` holds after a plan is applied as its model says. */
function apply(model: PostingModel, held: KeyedAmount[], should: KeyedAmount[]): Map<string, string> {
  const { plan } = planPosting(model, should, held, options);
  const key = (l: { dimensions: object; period: string }) => `${JSON.stringify(l.dimensions)}|${l.period}`;
  const holds = new Map<string, bigint>();
  const cents = (s: string) => toMinor(s, 'USD');
  for (const h of held) holds.set(key(h), (holds.get(key(h)) ?? 0n) + cents(h.amount));
  if (plan.model === 'additive' || plan.model === 'control-budget')
    for (const e of plan.entries) holds.set(key(e), (holds.get(key(e)) ?? 0n) + cents(e.amount.amount));
  if (plan.model === 'replace-scope')
    for (const s of plan.scopes) {
      for (const k of [...holds.keys()]) if (k.endsWith(`|${s.scope}`)) holds.delete(k);
      for (const l of s.lines) holds.set(key(l), cents(l.amount.amount));
    }
  if (plan.model === 'annual-lines')
    for (const l of plan.lines)
      for (const p of l.periods) holds.set(key({ ...l, period: p.period }), cents(p.amount.amount));
  return new Map([...holds].filter(([, v]) => v !== 0n).map(([k, v]) => [k, fromMinor(v, 'USD')]));
}

describe('each posting model makes the target hold what should be held', () => {
  const held = [
    at('600100', '2027-04', '100.00'),
    at('600100', '2027-05', '100.00'),
    at('610200', '2027-05', '40.00'),
  ];
  const should = [
    at('600100', '2027-04', '100.00'),
    at('600100', '2027-05', '125.50'),
    at('620300', '2027-06', '10.00'),
  ];

  test.each(MODELS)('%s: a revision, then its undo, then a retry that finds it done', (model) => {
    const after = apply(model, held, should);
    expect(after).toEqual(apply('additive', [], should));
    // Undo: plan back to what was held, from what is held now.
    expect(apply(model, should, held)).toEqual(apply('additive', [], held));
    // A retry after a lost answer plans again from what the target holds: nothing left to send.
    expect(planPosting(model, should, should, options).empty).toBe(true);
  });

  test('additive and control budgets send only the differences, a dropped combination negated', () => {
    for (const model of ['additive', 'control-budget'] as const) {
      const { plan } = planPosting(model, should, held, options);
      expect(plan).toEqual({
        model,
        entries: [
          {
            dimensions: { account: '600100', costCenter: 'CC-100' },
            period: '2027-05',
            amount: { amount: '25.50', currency: 'USD' },
          },
          {
            dimensions: { account: '620300', costCenter: 'CC-100' },
            period: '2027-06',
            amount: { amount: '10.00', currency: 'USD' },
          },
          {
            dimensions: { account: '610200', costCenter: 'CC-100' },
            period: '2027-05',
            amount: { amount: '-40.00', currency: 'USD' },
          },
        ],
      });
    }
  });

  test('replace within a scope sends each changed scope whole, a dropped combination at zero; untouched scopes not at all', () => {
    const { plan } = planPosting('replace-scope', should, held, options);
    expect(plan).toEqual({
      model: 'replace-scope',
      scopes: [
        {
          scope: '2027-05',
          lines: [
            {
              dimensions: { account: '600100', costCenter: 'CC-100' },
              period: '2027-05',
              amount: { amount: '125.50', currency: 'USD' },
            },
            {
              dimensions: { account: '610200', costCenter: 'CC-100' },
              period: '2027-05',
              amount: { amount: '0.00', currency: 'USD' },
            },
          ],
        },
        {
          scope: '2027-06',
          lines: [
            {
              dimensions: { account: '620300', costCenter: 'CC-100' },
              period: '2027-06',
              amount: { amount: '10.00', currency: 'USD' },
            },
          ],
        },
      ],
    });
  });

  test('annual lines send a changed line whole, with every period it holds, and leave other lines alone', () => {
    const { plan } = planPosting('annual-lines', should, held, options);
    expect(plan).toEqual({
      model: 'annual-lines',
      lines: [
        {
          dimensions: { account: '600100', costCenter: 'CC-100' },
          year: '2027',
          currency: 'USD',
          periods: [
            { period: '2027-04', amount: { amount: '100.00', currency: 'USD' } },
            { period: '2027-05', amount: { amount: '125.50', currency: 'USD' } },
          ],
        },
        {
          dimensions: { account: '610200', costCenter: 'CC-100' },
          year: '2027',
          currency: 'USD',
          periods: [{ period: '2027-05', amount: { amount: '0.00', currency: 'USD' } }],
        },
        {
          dimensions: { account: '620300', costCenter: 'CC-100' },
          year: '2027',
          currency: 'USD',
          periods: [{ period: '2027-06', amount: { amount: '10.00', currency: 'USD' } }],
        },
      ],
    });
  });

  test.each(MODELS)('%s: a change in a closed period is named and refuses the plan', (model) => {
    const result = planPosting(model, [...should, at('600100', '2027-03', '5.00')], held, options);
    expect(result.closed).toEqual([
      {
        dimensions: { account: '600100', costCenter: 'CC-100' },
        period: '2027-03',
        amount: { amount: '5.00', currency: 'USD' },
      },
    ]);
  });

  test('an annual line keeps its closed periods at what the target holds', () => {
    const heldWithClosed = [...held, at('600100', '2027-02', '70.00')];
    const shouldWithClosed = [...should, at('600100', '2027-02', '70.00')];
    const { plan, closed } = planPosting('annual-lines', shouldWithClosed, heldWithClosed, options);
    expect(closed).toEqual([]);
    expect(
      plan.model === 'annual-lines' && plan.lines[0]!.periods.map((p) => [p.period, p.amount.amount]),
    ).toEqual([
      ['2027-02', '70.00'],
      ['2027-04', '100.00'],
      ['2027-05', '125.50'],
    ]);
  });

  test('a model that needs a scope or a year says so', () => {
    expect(() => planPosting('replace-scope', should, held, { isOpen: () => true })).toThrow(/scopeOf/);
    expect(() => planPosting('annual-lines', should, held, { isOpen: () => true })).toThrow(/yearOf/);
  });
});

describe('a replace-scope target is sent what stored differences make its scopes hold', () => {
  const held = [
    at('600100', '2027-04', '100.00'),
    at('610200', '2027-04', '40.00'),
    at('600100', '2027-05', '70.00'),
  ];
  const changes = [at('600100', '2027-04', '25.00'), at('610200', '2027-04', '-40.00')];
  const scopeOf = (l: { period: string }) => l.period;

  test('applied: every scope a change falls in, whole, at what it is to hold (a cleared balance at zero)', () => {
    const lines = scopesAfter(held, changes, 'apply', scopeOf);
    expect(lines.map((l) => [l.dimensions.account, l.period, l.amount.amount])).toEqual([
      ['600100', '2027-04', '125.00'],
      ['610200', '2027-04', '0.00'],
    ]);
  });

  test('undone: the same scopes back at what they held before the changes', () => {
    const after = [at('600100', '2027-04', '125.00'), at('600100', '2027-05', '70.00')];
    const lines = scopesAfter(after, changes, 'undo', scopeOf);
    expect(lines.map((l) => [l.dimensions.account, l.period, l.amount.amount])).toEqual([
      ['600100', '2027-04', '100.00'],
      ['610200', '2027-04', '40.00'],
    ]);
  });

  test('with each balance its own scope (Oracle GL budgets), only the changed balances are sent', () => {
    const byBalance = (l: { dimensions: Record<string, string>; period: string }) =>
      `${JSON.stringify(l.dimensions)}|${l.period}`;
    const lines = scopesAfter(held, [at('600100', '2027-04', '25.00')], 'apply', byBalance);
    expect(lines.map((l) => [l.dimensions.account, l.period, l.amount.amount])).toEqual([
      ['600100', '2027-04', '125.00'],
    ]);
  });
});
