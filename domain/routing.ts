import { type ErpSystem } from './model';
import { type PostingModel } from './posting-model';
import { combinationKey } from './revision';

/**
 * Routing as data: a route says which ERP (its company or ledger, posting model and settings) receives a legal
 * entity's approved budgets from one day to another. A budget line goes to every target with a route in force
 * on its period's first day; a target without one on that day is neither sent the line nor asked to undo it.
 */
export interface Route {
  legalEntity: string;
  target: string;
  company: string;
  /** Null: the ERP's own (its first model in POSTING_MODELS_BY_ERP). */
  postingModel: PostingModel | null;
  settings: Readonly<Record<string, string>>;
  validFrom: string;
  /** Exclusive, as every dated row's; null: open-ended. */
  validTo: string | null;
}

/**
 * The ways closeloop can make each ERP hold a budget, its own first. Oracle Fusion keeps control budgets
 * (budgetary control's budget entries, what requisitions are funds-checked against) and GL budget balances
 * for variance reporting (the GL budget interface, whose load replaces each balance it names: a scope of one
 * balance); which of the two an entity gets is its route's choice.
 */
export const POSTING_MODELS_BY_ERP: Readonly<Record<ErpSystem, readonly PostingModel[]>> = {
  d365: ['additive'],
  oracle: ['control-budget', 'replace-scope'],
  sap: ['replace-scope'],
  netsuite: ['annual-lines'],
};

/**
 * The settings a route must give for its ERP's adapter to post under its model: a Dynamics 365 budget model
 * and budget code; the Oracle control budget its entries go to, or the GL budget (an accounting scenario) and
 * the ledger's name its balances are loaded to and read back from; SAP's planning category and fiscal year
 * variant; nothing for NetSuite (its budget category is needed only with Multiple Budgets on). Refused when a
 * route is added, rather than when its first publication fails.
 */
export function requiredSettings(target: ErpSystem, model: PostingModel): readonly string[] {
  if (target === 'd365') return ['budgetModel', 'budgetCode'];
  if (target === 'netsuite') return [];
  if (target === 'sap') return ['planningCategory', 'fiscalYearVariant'];
  return model === 'replace-scope' ? ['budgetName', 'ledgerName'] : ['controlBudget'];
}

/**
 * The scope a `replace-scope` target replaces as a whole when a line of it changes: for Oracle's GL budget
 * balances, one balance (its combination and period), since a load sets the balances it names and leaves the
 * others as they are; for SAP's plan data, a period (of the route's company code and planning category).
 */
export function replaceScopeOf(
  target: string,
): (line: { dimensions: Record<string, string>; period: string }) => string {
  if (target === 'oracle') return (l) => `${combinationKey(l.dimensions)}|${l.period}`;
  // SAP plan data replaces what a planning category of a company code holds in a fiscal year period.
  if (target === 'sap') return (l) => l.period;
  throw new Error(`${target} does not hold budgets by scope`);
}

/**
 * What a target that sets what it holds whole is sent whole when a line of it changes: a `replace-scope` target's
 * scope, or an `annual-lines` target's line (a combination's year: one publication is one fiscal year, so the
 * combination alone). Undefined for a model that takes differences.
 */
export function wholeUnitOf(
  target: string,
  model: PostingModel,
): ((line: { dimensions: Record<string, string>; period: string }) => string) | undefined {
  if (model === 'replace-scope') return replaceScopeOf(target);
  if (model === 'annual-lines') return (l) => combinationKey(l.dimensions);
  return undefined;
}

/**
 * What a whole unit is made of (wholeUnitOf): its period, its combination or both. What is held in some units is
 * then read by those alone: a superset of the units, never fewer.
 */
export function wholeUnitParts(
  target: string,
  model: PostingModel,
): { period: boolean; combination: boolean } | undefined {
  if (model === 'replace-scope')
    return target === 'sap' ? { period: true, combination: false } : { period: true, combination: true };
  if (model === 'annual-lines') return { period: false, combination: true };
  return undefined;
}

export function postingModelOf(route: Pick<Route, 'target' | 'postingModel'>): PostingModel {
  if (route.postingModel) return route.postingModel;
  const models = POSTING_MODELS_BY_ERP[route.target as ErpSystem] as readonly PostingModel[] | undefined;
  if (!models) throw new Error(`no ERP system ${route.target}`);
  return models[0]!;
}

export const inForceOn = (route: Pick<Route, 'validFrom' | 'validTo'>, date: string) =>
  route.validFrom <= date && (route.validTo === null || route.validTo > date);

/** One target's routes over a window (a fiscal year): where it receives lines, and on what terms. */
export interface TargetRoute {
  target: string;
  company: string;
  postingModel: PostingModel;
  /** The latest route's: a settings change is a change of form, not of destination. */
  settings: Readonly<Record<string, string>>;
  windows: { validFrom: string; validTo: string | null }[];
  /**
   * Set when the target's routes in the window disagree on company or posting model: one publication cannot
   * post one year to two places of one ERP, so the change has to fall on a year's boundary.
   */
  conflict?: string;
}

/** The targets of routes overlapping a window, in target order, each with the days it receives lines on. */
export function targetsOf(routes: readonly Route[]): TargetRoute[] {
  const byTarget = new Map<string, Route[]>();
  for (const r of routes) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  return [...byTarget]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([target, rs]) => {
      const ordered = [...rs].sort((a, b) => (a.validFrom < b.validFrom ? -1 : 1));
      const latest = ordered[ordered.length - 1]!;
      const terms = new Set(ordered.map((r) => `${r.company} as ${postingModelOf(r)}`));
      return {
        target,
        company: latest.company,
        postingModel: postingModelOf(latest),
        settings: latest.settings,
        windows: ordered.map((r) => ({ validFrom: r.validFrom, validTo: r.validTo })),
        ...(terms.size > 1
          ? {
              conflict: `${latest.legalEntity}'s routes to ${target} change within the year (${[...terms].join(', then ')}): a change of company or posting model takes effect on a fiscal year's first day`,
            }
          : {}),
      };
    });
}

/** Whether a target receives a line of the period starting on `periodStart`. */
export const receives = (target: Pick<TargetRoute, 'windows'>, periodStart: string) =>
  target.windows.some((w) => inForceOn(w, periodStart));
