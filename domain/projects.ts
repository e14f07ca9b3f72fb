import { z } from 'zod';
import { TolerancePercent, toleranceHundredths } from './budget-control';
import { type BudgetControl, controlBudgetPeriods } from './control-budgets';
import { IsoDate } from './model';
import { Money } from './money';
import { type FiscalPeriodRef } from './reference';

/**
 * Projects and the grants that fund them (issue 22), as their system of record keeps them: a project's
 * lifecycle (planned, active, closed) and, when a grant funds it, the award: the amount awarded, the period
 * of performance, and the indirect cost rate the award allows, which counts against the funding where the
 * grant says so. Spend on a project is refused outside its lifecycle and award period, and its funding is a
 * budget controlled life to date across fiscal years (`FUNDING[project=P-101]`), beside any control budget.
 */

export const PROJECT_STATUSES = ['planned', 'active', 'closed'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const GrantSpec = z
  .object({
    grantId: z.string().min(1).max(50),
    name: z.string().min(1).max(200),
    /** The amount awarded: the most the project may consume over its life, indirect cost included where it counts. */
    awarded: Money,
    /** The period of performance, both days included. */
    awardFrom: IsoDate,
    awardTo: IsoDate,
    indirectRatePercent: TolerancePercent.default('0'),
    /** Whether indirect cost at that rate is charged to the award (counts against the funding). */
    indirectCountsAgainstFunding: z.boolean().default(false),
  })
  .strict()
  .refine((g) => g.awardTo >= g.awardFrom, {
    message: 'awardTo must not be before awardFrom',
    path: ['awardTo'],
  });
export type GrantSpec = z.infer<typeof GrantSpec>;

export const ProjectSpec = z
  .object({
    name: z.string().min(1).max(200),
    status: z.enum(PROJECT_STATUSES),
    grant: GrantSpec.nullable().default(null),
  })
  .strict();
export type ProjectSpec = z.infer<typeof ProjectSpec>;

export interface Project extends ProjectSpec {
  code: string;
}

export const FUNDING = 'FUNDING';

/** Why a line on the project may not be spent in a period (its lifecycle, its award period); none: it may. */
export function projectRefusal(
  p: Project,
  period: Pick<FiscalPeriodRef, 'period' | 'startDate' | 'endDate'>,
): string | undefined {
  if (p.status === 'closed') return `project ${p.code} is closed`;
  if (p.status === 'planned') return `project ${p.code} is planned, not active yet`;
  const g = p.grant;
  if (g && (period.endDate < g.awardFrom || period.startDate > g.awardTo))
    return `period ${period.period} is outside the award period of grant ${g.grantId} funding project ${p.code} (${g.awardFrom} to ${g.awardTo})`;
  return undefined;
}

/**
 * The funding of a grant-funded project as a budget a line falls in: absolute, pooled from the award's start
 * through the line's period across fiscal years, counting indirect cost where the grant charges it.
 */
export function fundingControl(
  p: Project,
  period: string,
  calendar: readonly (FiscalPeriodRef & { fiscalYear: number })[],
): BudgetControl | undefined {
  if (!p.grant) return undefined;
  return {
    key: `${FUNDING}[project=${p.code}]`,
    code: FUNDING,
    values: { project: p.code },
    level: 'absolute',
    tolerancePercent: '0',
    pooledPeriods: controlBudgetPeriods(period, 'life_to_date', calendar, p.grant.awardFrom) ?? [period],
    ...(p.grant.indirectCountsAgainstFunding && toleranceHundredths(p.grant.indirectRatePercent) > 0
      ? { indirectPercent: p.grant.indirectRatePercent }
      : {}),
  };
}

/**
 * What a fact of `amount` minor units counts for in a budget: the amount, plus indirect cost at the budget's
 * rate where it counts (rounded half away from zero to a minor unit, so a release gives back what was held).
 */
export function countedMinor(c: Pick<BudgetControl, 'indirectPercent'>, amount: bigint): bigint {
  if (!c.indirectPercent) return amount;
  const scaled = amount * BigInt(toleranceHundredths(c.indirectPercent));
  const sign = scaled < 0n ? -1n : 1n;
  const abs = scaled * sign;
  return amount + sign * ((abs + 5_000n) / 10_000n);
}

/**
 * A project as its system of record (the ERP) keeps it, in closeloop's terms: its lifecycle, and the grant
 * funding it with the award (the amount in the company's currency, the period of performance).
 */
export interface SourceProject {
  /** The ERP's project ID (mapped to a value of the entity's project dimension). */
  sourceValue: string;
  name: string;
  status: ProjectStatus;
  grant?: { grantId: string; name: string; awarded: string; awardFrom: string; awardTo: string };
}
