import { z } from 'zod';
import { CurrencyCode, DecimalString, Money } from './money';

/** The canonical finance model: every layer (API, activities, workflows, DB mapping) uses these. */

export const LegalEntityCode = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9-]{1,19}$/, 'must be an upper-case legal entity code such as "ACME-US"');
export const FiscalYear = z.number().int().min(2000).max(2100);
/**
 * A version's scenario as the planning platform names it: BUDGET, FORECAST or a named one (BASE, DOWNSIDE,
 * …). One scenario per entity and fiscal year is in control (BUDGET unless a controller chose another): its
 * versions are published and reserved against; the others are stored, validated and reported, never posted.
 */
export const Scenario = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{1,19}$/, 'must be an upper-case scenario name such as "BUDGET" or "DOWNSIDE"');
export type Scenario = z.infer<typeof Scenario>;
/** The scenario in control of an entity's fiscal year until a controller puts another one in control. */
export const DEFAULT_CONTROL_SCENARIO = 'BUDGET';
export const VersionNumber = z.number().int().positive().max(9999);
/**
 * A fiscal period code: the fiscal year and the period's number, "YYYY-NN" (e.g. "2027-03"). This is the one
 * rule for its form, in every layer: a code not of this form is malformed (400, naming the field); whether
 * a well-formed code is a period at all is the entity's calendar's to say (12, 13 or more periods, special
 * and adjustment periods), so one that is not in it is an unknown reference (422), never a 400.
 */
export const PeriodCode = z
  .string()
  .regex(/^\d{4}-(0[1-9]|[1-9]\d)$/, 'must be a fiscal period code "YYYY-NN" such as "2027-03"');
export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as "2027-01-31"')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
  }, 'must be a day of the calendar');

export const ErpSystem = z.enum(['d365', 'oracle', 'sap', 'netsuite']);
export type ErpSystem = z.infer<typeof ErpSystem>;
export const PlanningSystem = z.enum(['anaplan']);
export type PlanningSystem = z.infer<typeof PlanningSystem>;

export const BudgetVersionRef = z.object({
  legalEntity: LegalEntityCode,
  fiscalYear: FiscalYear,
  scenario: Scenario,
  version: VersionNumber,
});
export type BudgetVersionRef = z.infer<typeof BudgetVersionRef>;

/**
 * A dimension's code in a chart of accounts (domain/chart): a canonical one ("account", "costCenter",
 * "project", …) or one the entity names ("plant").
 */
export const DimensionCode = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9]{1,39}$/, 'must be a camelCase dimension code such as "costCenter" or "plant"');
export type DimensionCode = z.infer<typeof DimensionCode>;

/** A value of a dimension as a line carries it: the canonical code, never empty. */
export const DimensionValueCode = z.string().min(1).max(40);

/** A budget line's dimensions, keyed by the codes of its entity's chart (account always among them). */
export const Dimensions = z.record(DimensionCode, DimensionValueCode);
export type Dimensions = z.infer<typeof Dimensions>;

/**
 * The dimensions budget control, actuals and commitments are kept on today (the next step generalises them
 * to control budgets on any dimension): account and cost center.
 */
export const DIMENSIONS = ['account', 'costCenter'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const DimensionCombination = z.object({
  account: z.string().min(1).max(40),
  costCenter: z.string().min(1).max(40),
});
export type DimensionCombination = z.infer<typeof DimensionCombination>;

export const BudgetLine = z.object({
  lineNo: z.number().int().positive(),
  dimensions: Dimensions,
  period: PeriodCode,
  amount: Money,
});
export type BudgetLine = z.infer<typeof BudgetLine>;

export const BudgetVersion = z.object({
  ref: BudgetVersionRef,
  currency: CurrencyCode,
  sourceSystem: PlanningSystem,
  lines: z.array(BudgetLine),
});
export type BudgetVersion = z.infer<typeof BudgetVersion>;

/**
 * One row as a planning platform hands it over, before validation: every field is text because that
 * is what the export carries. `dimensions` holds a value for each dimension column of the export, keyed by
 * dimension code (an empty cell is an empty string). Validation turns these into BudgetLines or line-level
 * issues against the entity's chart.
 */
export const PlanningBudgetRow = z.object({
  dimensions: z.record(z.string(), z.string()),
  period: z.string(),
  amount: z.string(),
  currency: z.string(),
});
export type PlanningBudgetRow = z.infer<typeof PlanningBudgetRow>;

/** A line of an ERP document, canonicalised; its identity is source + document + line + revision. */
const SourceLine = z.object({
  sourceSystem: ErpSystem,
  documentId: z.string().min(1),
  lineNo: z.number().int().nonnegative(),
  revision: z.number().int().nonnegative(),
  legalEntity: LegalEntityCode,
  dimensions: DimensionCombination,
  period: PeriodCode,
});

/** A posted ledger line. A duplicate delivery of the same identity never counts twice. */
export const ActualLine = SourceLine.extend({
  postingDate: IsoDate,
  amount: Money,
  description: z.string().optional(),
});
export type ActualLine = z.infer<typeof ActualLine>;

/** An open commitment (purchase order line) as of its revision; a newer revision replaces an older one. */
export const CommitmentLine = SourceLine.extend({ openAmount: Money });
export type CommitmentLine = z.infer<typeof CommitmentLine>;

export const ForecastLine = z.object({
  dimensions: DimensionCombination,
  period: PeriodCode,
  amount: Money,
  /** "actual" for elapsed periods, "projection" for the remaining ones. */
  basis: z.enum(['actual', 'projection']),
  actual: Money,
  committed: Money,
  remainingBudget: Money,
});
export type ForecastLine = z.infer<typeof ForecastLine>;

export const Principal = z.object({
  id: z.string().min(1).max(200),
  role: z.enum(['planner', 'approver', 'controller', 'scheduler', 'integration_admin', 'requester']),
});
export type Principal = z.infer<typeof Principal>;
export type Role = Principal['role'];

export { DecimalString };

/** A duration as configuration and requests write it ("3 days", "500ms"), in a form Temporal reads. */
export const DurationText = z
  .string()
  .regex(
    /^\d+(\.\d+)?\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/,
    'must be a duration such as "3 days" or "500ms"',
  );
