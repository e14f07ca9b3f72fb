import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { CONSUMPTION_SOURCES, CONTROL_LEVELS, PERIOD_BASES } from '../domain/budget-control';
import { RATE_TYPES } from '../domain/fx';
import { NOTIFICATION_KINDS } from '../domain/approval-notification';
import { ACCOUNT_KINDS } from '../domain/master-data';
import { CLOSED_PERIOD_POLICIES } from '../domain/source-lines';
import { SYNC_TIERS } from '../domain/sync-tiers';
import { PROJECT_STATUSES } from '../domain/projects';
import { BUDGET_VERSION_STATUSES } from '../domain/version-lifecycle';
import { POSTING_MODELS } from '../domain/posting-model';
import { ACTUALS_DURING_PARALLEL, CUTOVER_STATUSES, type HoldingDifference } from '../domain/cutover';

/**
 * The canonical finance store. Temporal owns workflow state; Postgres owns finance data. Money columns are
 * numeric (read back as strings by the postgres driver) next to a currency column: never floats.
 */

const amount = (name: string) => numeric(name, { precision: 24, scale: 6 });
const currency = (name = 'currency') => text(name).notNull();
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
/** Settings read by one connector only (a target's, a planning platform's). */
const connectorSettings = () =>
  jsonb('settings')
    .$type<Record<string, string>>()
    .notNull()
    .default(sql`'{}'::jsonb`);
/** The days a dated row holds: from its first day until the day it ends (none: still in force). */
const validity = () => ({
  validFrom: date('valid_from').notNull().default('1900-01-01'),
  validTo: date('valid_to'),
});

/**
 * A budget line's dimensions as its entity's chart has them (domain/model Dimensions), and the account and
 * cost center read from them for what is still kept on those two (budget control, cost-center owners):
 * generated, so they can never disagree with the line.
 */
const lineDimensions = () => ({
  dimensions: jsonb('dimensions').$type<Record<string, string>>().notNull(),
  account: text('account')
    .notNull()
    .generatedAlwaysAs(sql`dimensions ->> 'account'`),
  costCenter: text('cost_center').generatedAlwaysAs(sql`dimensions ->> 'costCenter'`),
});

// ── Master data (synchronised from its system of record; effective-dated) ──────────────────────────────

/**
 * A fiscal calendar as data (domain/fiscal-calendar CalendarSpec): how its years are cut into periods. Its
 * periods are generated from it year by year; a period once defined is never rewritten by a later spec.
 */
export const fiscalCalendars = pgTable('fiscal_calendars', {
  code: text('code').primaryKey(),
  spec: jsonb('spec').notNull(),
  changedBy: text('changed_by').notNull(),
  reason: text('reason').notNull(),
  changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
});

export const fiscalPeriods = pgTable(
  'fiscal_periods',
  {
    calendar: text('calendar').notNull(),
    period: text('period').notNull(),
    fiscalYear: integer('fiscal_year').notNull(),
    periodNumber: smallint('period_number').notNull(),
    startDate: date('start_date').notNull(),
    endDate: date('end_date').notNull(),
    status: text('status', { enum: ['open', 'closed'] })
      .notNull()
      .default('open'),
    /** `adjustment`: after the regular periods, on the year's last day; no posting falls in it by date. */
    kind: text('kind', { enum: ['regular', 'adjustment'] })
      .notNull()
      .default('regular'),
    /** The quarter (1–4) the period counts in, for funds pooled by quarter. */
    quarter: smallint('quarter').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.calendar, t.period] }),
    index('fiscal_periods_year').on(t.calendar, t.fiscalYear),
  ],
);

/**
 * A fiscal period locked for one legal entity by its period close (the calendar's own status is shared by
 * every entity on it). Present: locked; a reopen removes the row, and the audit trail keeps both acts.
 */
export const entityPeriodLocks = pgTable(
  'entity_period_locks',
  {
    legalEntity: text('legal_entity').notNull(),
    period: text('period').notNull(),
    lockedAt: timestamp('locked_at', { withTimezone: true }).notNull().defaultNow(),
    lockedBy: text('locked_by').notNull(),
    correlationId: text('correlation_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.period] })],
);

export const legalEntities = pgTable('legal_entities', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  functionalCurrency: text('functional_currency').notNull(),
  fiscalCalendar: text('fiscal_calendar').notNull(),
  region: text('region').notNull(),
  /** The ERP that keeps this entity's books: the system of record for its actuals and commitments. */
  erpSystem: text('erp_system').notNull(),
  erpCompany: text('erp_company').notNull(),
  planningSystem: text('planning_system').notNull(),
  /** Budget control on this entity: absolute blocks overspend, advisory warns, track_only records. */
  controlLevel: text('control_level', { enum: CONTROL_LEVELS }).notNull(),
  tolerancePercent: numeric('tolerance_percent', { precision: 5, scale: 2 }).notNull().default('0'),
  /**
   * Bumped by every change of the entity's control model (its control budgets, its projects, its period basis):
   * a reservation decided on an older one is refused by the database and decided again on the model as it now
   * stands, whichever API process read it.
   */
  controlBudgetsVersion: integer('control_budgets_version').notNull().default(0),
  active: boolean('active').notNull().default(true),
  /** The rate type lines in other currencies are converted with, at their own date (posting or delivery). */
  fxRateType: text('fx_rate_type', { enum: RATE_TYPES }).notNull().default('average'),
  /** The currency a pair without a rate of its own is triangulated through. */
  fxTriangulationCurrency: text('fx_triangulation_currency').notNull().default('USD'),
  /**
   * What happens to a line posted into a closed period: kept as a dead letter for support (the default), or
   * counted in the next open period, flagged with the period it came from.
   */
  closedPeriodPolicy: text('closed_period_policy', { enum: CLOSED_PERIOD_POLICIES })
    .notNull()
    .default('dead_letter'),
  /** How soon its actuals and commitments are synced (domain/sync-tiers): the interval of its schedule. */
  syncTier: text('sync_tier', { enum: SYNC_TIERS }).notNull().default('hourly'),
});

/** Exchange rates, pulled from the ERP (its rate types mapped to closeloop's); exact decimals. */
export const fxRates = pgTable(
  'fx_rates',
  {
    rateType: text('rate_type', { enum: RATE_TYPES }).notNull(),
    fromCurrency: text('from_currency').notNull(),
    toCurrency: text('to_currency').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
    /** 1 unit of from_currency is `rate` units of to_currency. */
    rate: numeric('rate', { precision: 28, scale: 12 }).notNull(),
    source: text('source').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.rateType, t.fromCurrency, t.toCurrency, t.validFrom] })],
);

/**
 * Where an entity's approved budgets are published: one row per target system. A second ERP is an adapter
 * plus rows here. `settings` are the target's own parameters (for Dynamics 365: budget model and code),
 * read by its adapter only.
 */
/**
 * Routing as data: which ERP (and which company or ledger, posting model and settings) receives a legal
 * entity's approved budgets, from `valid_from` until `valid_to` (exclusive; open-ended when null). A budget line
 * goes to the routes in force on its period's first day. Routes of one entity and target never overlap (the
 * writes in db/queries/routes.ts decide that under a lock); a change is a new route, audited.
 */
export const publicationTargets = pgTable(
  'publication_targets',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    /** The ERP system receiving the budget: its connector and the mappings' system. */
    target: text('target').notNull(),
    company: text('company').notNull(),
    /** How the target holds a budget (domain/posting-model); null: its connector's own model. */
    postingModel: text('posting_model', { enum: POSTING_MODELS }),
    settings: connectorSettings(),
    ...validity(),
  },
  (t) => [
    primaryKey({ columns: [t.legalEntity, t.target, t.validFrom] }),
    check('publication_targets_window', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
  ],
);

/**
 * Which planning platform an entity's budgets are exported from and its forecasts go back to, dated: an entity
 * switched from Anaplan to Adaptive Planning at a date has a row ending that day and a row starting it. Rows of
 * one entity never overlap (db/queries/planning-platforms decides that under the entity's routing lock).
 * `settings` are the platform's own, read by its adapter only (Adaptive: the level, the versions and the sheet).
 */
export const planningPlatforms = pgTable(
  'planning_platforms',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    platform: text('platform').notNull(),
    settings: connectorSettings(),
    ...validity(),
  },
  (t) => [
    primaryKey({ columns: [t.legalEntity, t.validFrom] }),
    check('planning_platforms_window', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
  ],
);

/**
 * A watched inbox (domain/file-feeds): where a producer drops files, how they are laid out and when one is
 * complete. What each file became is in inbox_files.
 */
export const fileFeeds = pgTable('file_feeds', {
  code: text('code').primaryKey(),
  legalEntity: text('legal_entity')
    .notNull()
    .references(() => legalEntities.code),
  kind: text('kind').notNull(),
  /** domain/file-feeds FeedDefinition without its code and entity: transport, folder, layout, readiness. */
  definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The processed-file ledger: every file an inbox took, by content hash and name, and what became of it.
 * A file is taken once per content (a copy dropped again, under any name, is recognised); a corrected re-extract
 * of a loaded file is loaded by an audited reprocess, as the next generation.
 */
export const inboxFiles = pgTable(
  'inbox_files',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    feedCode: text('feed_code')
      .notNull()
      .references(() => fileFeeds.code),
    name: text('name').notNull(),
    sha256: text('sha256').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    /** 0 the first time; a reprocess of the same content takes the next. */
    generation: integer('generation').notNull().default(0),
    status: text('status', { enum: ['loading', 'loaded', 'rejected', 'duplicate'] }).notNull(),
    /** Counts (read, inserted, duplicates, dead letters), the checks made, and why it was refused. */
    outcome: jsonb('outcome').$type<Record<string, unknown>>().notNull().default({}),
    /** Where the file is now (archive/ or rejected/) and its error report beside it, if any. */
    movedTo: text('moved_to'),
    report: text('report'),
    correlationId: text('correlation_id').notNull(),
    reprocessReason: text('reprocess_reason'),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    unique('inbox_files_content').on(t.feedCode, t.sha256, t.generation),
    index('inbox_files_name').on(t.feedCode, t.name),
  ],
);

/**
 * An entity's move from one ERP to another (domain/cutover): the routes it set are in publication_targets; this
 * row says why they changed together, which ERP's actuals count during the parallel run, which of the new ERP's
 * journals are the migration's own, and whether it was rolled back.
 */
export const erpCutovers = pgTable(
  'erp_cutovers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    fromTarget: text('from_target').notNull(),
    toTarget: text('to_target').notNull(),
    cutoverDate: date('cutover_date').notNull(),
    parallelPeriods: smallint('parallel_periods').notNull(),
    /** The first day after the parallel run: the old ERP's route ends then. */
    parallelUntil: date('parallel_until').notNull(),
    actualsDuringParallel: text('actuals_during_parallel', { enum: ACTUALS_DURING_PARALLEL }).notNull(),
    /** Journal sources or categories of the new ERP that are the migration's (opening balances, conversion). */
    conversionSources: jsonb('conversion_sources')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    status: text('status', { enum: CUTOVER_STATUSES }).notNull().default('scheduled'),
    rollbackDate: date('rollback_date'),
    createdBy: text('created_by').notNull(),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('erp_cutovers_entity').on(t.legalEntity),
    check('erp_cutovers_window', sql`${t.parallelUntil} >= ${t.cutoverDate}`),
    check('erp_cutovers_targets', sql`${t.fromTarget} <> ${t.toTarget}`),
  ],
);

/** The latest comparison of what the old and new ERP hold over a cut-over's parallel run, per fiscal year. */
export const erpCutoverComparisons = pgTable(
  'erp_cutover_comparisons',
  {
    cutoverId: uuid('cutover_id')
      .notNull()
      .references(() => erpCutovers.id),
    fiscalYear: integer('fiscal_year').notNull(),
    comparedAt: timestamp('compared_at', { withTimezone: true }).notNull().defaultNow(),
    differences: jsonb('differences').$type<HoldingDifference[]>().notNull(),
    totals: jsonb('totals')
      .$type<{ currency: string; old: string; new: string; difference: string }[]>()
      .notNull(),
    /** The two ERPs' posted lines over the parallel run, compared the same way (old: its books, new: the other's). */
    actualDifferences: jsonb('actual_differences')
      .$type<HoldingDifference[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    actualTotals: jsonb('actual_totals')
      .$type<{ currency: string; old: string; new: string; difference: string }[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
  },
  (t) => [primaryKey({ columns: [t.cutoverId, t.fiscalYear] })],
);

/**
 * Posted lines of the ERP whose books do not count during a cut-over's parallel run: kept for the comparison
 * only, never in a balance. A line that cannot be mapped is kept with its error, not dropped.
 */
export const cutoverParallelActuals = pgTable(
  'cutover_parallel_actuals',
  {
    cutoverId: uuid('cutover_id')
      .notNull()
      .references(() => erpCutovers.id),
    /** Business identity of the source line (sourceRecordKey). */
    recordKey: text('record_key').notNull(),
    sourceSystem: text('source_system').notNull(),
    legalEntity: text('legal_entity').notNull(),
    postingDate: date('posting_date').notNull(),
    /** Canonical combination and period; null with `error` set when the line could not be mapped. */
    dimensions: jsonb('dimensions').$type<Record<string, string>>(),
    period: text('period'),
    amount: amount('amount'),
    currency: text('currency'),
    error: text('error'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    correlationId: text('correlation_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.cutoverId, t.recordKey] })],
);

/**
 * Ends of an ERP's jobs as its callback reported them (Oracle's ESS import callback, relayed to the API): a
 * load waiting on a job takes its end from here as soon as it arrives, instead of at its next poll.
 */
export const erpJobCallbacks = pgTable(
  'erp_job_callbacks',
  {
    system: text('system').notNull(),
    requestId: text('request_id').notNull(),
    /** running, succeeded, warning or failed (domain/oracle-ess: callbackOutcome). */
    outcome: text('outcome').notNull(),
    /** The request's job and its child jobs with their states, as the callback listed them. */
    jobs: jsonb('jobs').$type<{ name: string; requestId: string; state: string }[]>().notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.system, t.requestId] })],
);

export const accounts = pgTable('accounts', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind', { enum: ACCOUNT_KINDS }).notNull(),
  active: boolean('active').notNull().default(true),
  validFrom: date('valid_from').notNull(),
  validTo: date('valid_to'),
});

export const costCenters = pgTable('cost_centers', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  legalEntity: text('legal_entity')
    .notNull()
    .references(() => legalEntities.code),
  active: boolean('active').notNull().default(true),
  validFrom: date('valid_from').notNull(),
  validTo: date('valid_to'),
});

/**
 * Where each value (or group) of a dimension sits in its entity's hierarchy for that dimension, effective-dated
 * (valid_to exclusive): account groups ("travel" under "operating expenses"), cost centers under divisions.
 * A move of a node that already stands is not written here until it is approved (master_data_changes); the
 * approved change closes the standing row and opens the new one, so any date has exactly one parent.
 */
export const dimensionHierarchy = pgTable(
  'dimension_hierarchy',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    dimension: text('dimension').notNull(),
    code: text('code').notNull(),
    /** Null: a root of the hierarchy on these dates. */
    parent: text('parent'),
    /** A group's name (a node no line books on, such as OPEX); a value's name is in its value list. */
    name: text('name'),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
    /** The approved change that put it there; null for a load. */
    changeId: uuid('change_id'),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.dimension, t.code, t.validFrom] })],
);

/**
 * Each version of a legal entity's chart of accounts (domain/chart ChartSpec), from a date: the dimensions
 * it books on. A budget version records the chart version its lines were validated under.
 */
export const charts = pgTable(
  'charts',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    version: integer('version').notNull(),
    validFrom: date('valid_from').notNull(),
    spec: jsonb('spec').notNull(),
    changedBy: text('changed_by').notNull(),
    reason: text('reason').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.legalEntity, t.version] }),
    unique('charts_valid_from').on(t.legalEntity, t.validFrom),
  ],
);

/**
 * The value lists of an entity's dimensions other than account and cost center (which keep their own
 * tables, synchronised from the ERP): loaded from their system of record, effective-dated (valid_to exclusive).
 */
export const dimensionValues = pgTable(
  'dimension_values',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    dimension: text('dimension').notNull(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    active: boolean('active').notNull().default(true),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
    source: text('source').notNull(),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.dimension, t.code] })],
);

/** Cross-validation rules per entity (domain/cross-validation), each effective-dated and audited. */
export const crossValidationRules = pgTable(
  'cross_validation_rules',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    code: text('code').notNull(),
    description: text('description').notNull(),
    condition: jsonb('condition').notNull(),
    validation: jsonb('validation').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
    origin: text('origin').notNull(),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.code] })],
);

/**
 * An entity's control budgets (domain/control-budgets): what spend is checked against, on any dimensions
 * and hierarchy levels. The spec is kept whole, as the controller put it; changes are audited with the spec
 * they replace, and a control budget is ended by its validTo, never deleted.
 */
export const controlBudgets = pgTable(
  'control_budgets',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    code: text('code').notNull(),
    spec: jsonb('spec').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.code] })],
);

export const masterDataChangeStatus = ['awaiting_approval', 'applied', 'rejected', 'expired'] as const;

/**
 * A change from the system of record that waits for a person before it takes effect (a cost center moving
 * under another parent). Its identity is what changes and from when: the next sync reporting the same move
 * finds it again instead of asking twice, and a rejected move is not asked for again.
 */
export const masterDataChanges = pgTable(
  'master_data_changes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    kind: text('kind', { enum: ['parent'] }).notNull(),
    /** The dimension whose hierarchy moves (costCenter for the ERP's cost centers). */
    dimension: text('dimension').notNull(),
    code: text('code').notNull(),
    fromValue: text('from_value'),
    toValue: text('to_value'),
    effectiveFrom: date('effective_from').notNull(),
    status: text('status', { enum: masterDataChangeStatus }).notNull().default('awaiting_approval'),
    sourceSystem: text('source_system').notNull(),
    /** The source record that asked for it, as delivered. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    requestedBy: text('requested_by').notNull(),
    correlationId: text('correlation_id').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decisionComment: text('decision_comment'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('master_data_changes_identity').on(
      t.legalEntity,
      t.kind,
      t.dimension,
      t.code,
      sql`coalesce(${t.toValue}, '')`,
      t.effectiveFrom,
    ),
  ],
);

/**
 * Canonical dimension value ↔ ERP segment value, per ERP, effective-dated (valid_to exclusive). Several ERP
 * values may stand for one canonical value at once (many-to-one); an ERP value stands for one at a time.
 */
export const dimensionMappings = pgTable(
  'dimension_mappings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    erpSystem: text('erp_system').notNull(),
    /** A dimension code of the charts of the entities on this ERP (domain/chart). */
    dimension: text('dimension').notNull(),
    canonicalCode: text('canonical_code').notNull(),
    erpValue: text('erp_value').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
  },
  (t) => [
    unique('dimension_mappings_identity').on(
      t.erpSystem,
      t.dimension,
      t.canonicalCode,
      t.erpValue,
      t.validFrom,
    ),
  ],
);

// ── Budget versions ───────────────────────────────────────────────────────────────────────────────────

export type { BudgetVersionStatus } from '../domain/version-lifecycle';

export const budgetVersions = pgTable(
  'budget_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    fiscalYear: integer('fiscal_year').notNull(),
    scenario: text('scenario').notNull(),
    versionNumber: integer('version_number').notNull(),
    currency: currency(),
    sourceSystem: text('source_system').notNull(),
    status: text('status', { enum: BUDGET_VERSION_STATUSES }).notNull(),
    /** sha256 of the canonical lines: re-importing the same content is a no-op, different content a conflict. */
    contentHash: text('content_hash').notNull(),
    lineCount: integer('line_count').notNull(),
    totalAmount: amount('total_amount').notNull(),
    validationIssues: jsonb('validation_issues')
      .notNull()
      .default(sql`'[]'::jsonb`),
    /**
     * Changes the planning platform made to closed periods that the entity's policy moved to the next open
     * period (domain/budget-validation PeriodMove); the stored lines already carry them.
     */
    periodMoves: jsonb('period_moves')
      .notNull()
      .default(sql`'[]'::jsonb`),
    submittedBy: text('submitted_by').notNull(),
    correlationId: text('correlation_id').notNull(),
    decidedBy: text('decided_by'),
    /** Set when a delegate decided: the approver they decided for. */
    decidedOnBehalfOf: text('decided_on_behalf_of'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decisionComment: text('decision_comment'),
    importedAt: createdAt(),
    activatedAt: timestamp('activated_at', { withTimezone: true }),
    /** The newer version whose activation superseded this one. */
    supersededBy: uuid('superseded_by'),
  },
  (t) => [unique('budget_versions_identity').on(t.legalEntity, t.fiscalYear, t.scenario, t.versionNumber)],
);

/**
 * Which scenario is in control of an entity's fiscal year (its versions are published and reserved against;
 * the others are stored and reported only). No row: BUDGET (domain/model DEFAULT_CONTROL_SCENARIO). The row
 * is also what a cycle and a change of control lock, so the two never cross.
 */
export const controlScenarios = pgTable(
  'control_scenarios',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    fiscalYear: integer('fiscal_year').notNull(),
    scenario: text('scenario').notNull(),
    changedBy: text('changed_by'),
    changedAt: timestamp('changed_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.fiscalYear] })],
);

/**
 * Each trip of a version around the loop (a Temporal workflow). At most one cycle of a version is open at a
 * time, and a revision starts once: the database refuses a twin.
 */
export const budgetCycles = pgTable(
  'budget_cycles',
  {
    cycleId: text('cycle_id').primaryKey(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    fiscalYear: integer('fiscal_year').notNull(),
    scenario: text('scenario').notNull(),
    versionNumber: integer('version_number').notNull(),
    revision: integer('revision').notNull(),
    correlationId: text('correlation_id').notNull().unique(),
    startedBy: text('started_by').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    outcome: text('outcome'),
  },
  (t) => [
    unique('budget_cycles_revision').on(t.legalEntity, t.fiscalYear, t.scenario, t.versionNumber, t.revision),
    uniqueIndex('budget_cycles_one_open')
      .on(t.legalEntity, t.fiscalYear, t.scenario, t.versionNumber)
      .where(sql`closed_at is null`),
  ],
);

export const budgetLines = pgTable(
  'budget_lines',
  {
    versionId: uuid('version_id')
      .notNull()
      .references(() => budgetVersions.id),
    lineNo: integer('line_no').notNull(),
    ...lineDimensions(),
    period: text('period').notNull(),
    amount: amount('amount').notNull(),
    currency: currency(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.lineNo] })],
);

// ── Publication to ERPs ───────────────────────────────────────────────────────────────────────────────

export const publications = pgTable(
  'publications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => budgetVersions.id),
    target: text('target').notNull(),
    /** Attempt number of publishing this version to this target; part of every chunk's idempotency key. */
    revision: integer('revision').notNull(),
    erpCompany: text('erp_company').notNull(),
    /** The target's settings as they were when this publication was planned; its reversal uses the same. */
    settings: jsonb('settings')
      .$type<Record<string, string>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    /** How the target holds what this publication sends (its route's posting model when it was planned). */
    postingModel: text('posting_model', { enum: POSTING_MODELS }).notNull().default('additive'),
    status: text('status', { enum: ['publishing', 'published', 'failed', 'reversed'] }).notNull(),
    /**
     * What its lines are: `delta`, the differences between the version and what the budget's publications
     * already hold on the target (every publication since revisions publish only their differences); `full`,
     * the whole version (publications before that, whose supersession reversed the older version's).
     */
    basis: text('basis', { enum: ['full', 'delta'] })
      .notNull()
      .default('full'),
    /** `original`: the budget's first publication to the target; `revision`: a change to what it holds. */
    purpose: text('purpose', { enum: ['original', 'revision'] })
      .notNull()
      .default('original'),
    chunkSize: integer('chunk_size').notNull(),
    chunkCount: integer('chunk_count').notNull(),
    /** How many lines it posts (publication_lines). */
    lineCount: integer('line_count').notNull().default(0),
    correlationId: text('correlation_id').notNull(),
    error: text('error'),
    createdAt: createdAt(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [unique('publications_identity').on(t.versionId, t.target, t.revision)],
);

/**
 * The lines a publication posts, canonical, numbered within the publication; a chunk is a range of them.
 * What the budget holds on a target is the sum of the lines of its posted (and not reversed) chunks.
 */
export const publicationLines = pgTable(
  'publication_lines',
  {
    publicationId: uuid('publication_id')
      .notNull()
      .references(() => publications.id),
    lineNo: integer('line_no').notNull(),
    ...lineDimensions(),
    period: text('period').notNull(),
    amount: amount('amount').notNull(),
    currency: currency(),
  },
  (t) => [primaryKey({ columns: [t.publicationId, t.lineNo] })],
);

export const publicationChunks = pgTable(
  'publication_chunks',
  {
    publicationId: uuid('publication_id')
      .notNull()
      .references(() => publications.id),
    chunkIndex: integer('chunk_index').notNull(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    /** The range of the publication's lines (publication_lines.line_no) the chunk posts. */
    firstLineNo: integer('first_line_no').notNull(),
    lastLineNo: integer('last_line_no').notNull(),
    lineCount: integer('line_count').notNull(),
    status: text('status', { enum: ['pending', 'posted', 'reversed'] })
      .notNull()
      .default('pending'),
    documentNumber: text('document_number'),
    reversalDocumentNumber: text('reversal_document_number'),
    postedAt: timestamp('posted_at', { withTimezone: true }),
    reversedAt: timestamp('reversed_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.publicationId, t.chunkIndex] })],
);

// ── Approvals ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * An entity's approval policy (domain/approval-policy), one row per revision: a change is a new revision,
 * never an edit, so the route a version took can always be read back against the policy it ran under.
 */
export const approvalPolicies = pgTable(
  'approval_policies',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    revision: integer('revision').notNull(),
    spec: jsonb('spec').notNull(),
    changedBy: text('changed_by').notNull(),
    reason: text('reason').notNull(),
    changedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.revision] })],
);

/** Who owns a cost center (approves its budget lines), effective-dated (valid_to exclusive). */
export const costCenterOwners = pgTable(
  'cost_center_owners',
  {
    costCenter: text('cost_center')
      .notNull()
      .references(() => costCenters.code),
    principal: text('principal').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
  },
  (t) => [primaryKey({ columns: [t.costCenter, t.principal, t.validFrom] })],
);

/**
 * Who owns a value of any other dimension of an entity's chart (a department's head, a project's manager, a
 * grant's principal investigator): they approve its budget lines where a policy level says so.
 * Effective-dated (valid_to exclusive), as cost center owners are.
 */
export const dimensionValueOwners = pgTable(
  'dimension_value_owners',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    dimension: text('dimension').notNull(),
    code: text('code').notNull(),
    principal: text('principal').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.dimension, t.code, t.principal, t.validFrom] })],
);

/**
 * An approver away from the office hands their approvals to a delegate for a date range (valid_to
 * exclusive). Decisions taken under it record both people.
 */
export const approvalDelegations = pgTable(
  'approval_delegations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    principal: text('principal').notNull(),
    delegate: text('delegate').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to').notNull(),
    reason: text('reason').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('approval_delegations_principal').on(t.principal, t.validFrom)],
);

/**
 * Each approval notification once (an outbox keyed by business identity: cycle, kind, stage, sequence): a
 * retried or reset activity finds it sent and does not mail the approvers twice.
 */
export const approvalNotifications = pgTable(
  'approval_notifications',
  {
    key: text('key').primaryKey(),
    legalEntity: text('legal_entity').notNull(),
    cycleId: text('cycle_id').notNull(),
    kind: text('kind', { enum: NOTIFICATION_KINDS }).notNull(),
    recipients: jsonb('recipients').$type<string[]>().notNull(),
    subject: text('subject').notNull(),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** Where it went: mail, webhook. */
    channels: jsonb('channels').$type<string[]>(),
  },
  (t) => [index('approval_notifications_cycle').on(t.cycleId)],
);

/**
 * An entity's projects as their system of record keeps them (domain/projects): lifecycle, and the grant that
 * funds one with its award. The project code is a value of the entity's `project` dimension.
 */
export const projects = pgTable(
  'projects',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    code: text('code').notNull(),
    spec: jsonb('spec').notNull(),
    status: text('status', { enum: PROJECT_STATUSES }).notNull(),
    source: text('source').notNull(),
    changedBy: text('changed_by').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.code] })],
);

/**
 * The figures of each budget of an entity's control budgets (issue 22), per period and currency: the budget
 * of the active version's lines that fall in it, and what is reserved, committed and actual there. A budget
 * is named by its key text ("TRAVEL-CC[costCenter=CC100]", domain/control-budgets controlBudgetKeyText), the
 * order reservations lock them in. Each spend fact records the keys it counts in (`holds`), so it leaves
 * exactly the budgets it entered, whatever the control model became since.
 */
export const controlBudgetBalances = pgTable(
  'control_budget_balances',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    budgetKey: text('budget_key').notNull(),
    code: text('code').notNull(),
    keyValues: jsonb('key_values').$type<Record<string, string | null>>().notNull(),
    period: text('period').notNull(),
    currency: currency(),
    budget: amount('budget').notNull().default('0'),
    reserved: amount('reserved').notNull().default('0'),
    committed: amount('committed').notNull().default('0'),
    actual: amount('actual').notNull().default('0'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.legalEntity, t.budgetKey, t.period, t.currency] }),
    index('control_budget_balances_code').on(t.legalEntity, t.code, t.period),
  ],
);

// ── Budget control ────────────────────────────────────────────────────────────────────────────────────

export const controlBalances = pgTable(
  'control_balances',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    account: text('account').notNull(),
    costCenter: text('cost_center').notNull(),
    period: text('period').notNull(),
    currency: currency(),
    budget: amount('budget').notNull().default('0'),
    reserved: amount('reserved').notNull().default('0'),
    committed: amount('committed').notNull().default('0'),
    actual: amount('actual').notNull().default('0'),
    /**
     * The part of `budget` moved here (or away, negative) by approved transfers and supplements. `budget` is
     * the active version's amount plus this: activating a new version replaces the first part, not this one,
     * as a new original budget in an ERP leaves its transfer entries standing.
     */
    transferred: amount('transferred').notNull().default('0'),
    /** The active budget version that set `budget`; null for balances that only carry spend so far. */
    versionId: uuid('version_id').references(() => budgetVersions.id),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // The currency is part of the key: an amount is only ever added to a balance in its own currency.
  (t) => [primaryKey({ columns: [t.legalEntity, t.account, t.costCenter, t.period, t.currency] })],
);

// ── Budget control ────────────────────────────────────────────────────────────────────────────────────

/** How an entity controls its spend: over which periods a bucket's funds are pooled. */
export const controlModels = pgTable('control_models', {
  legalEntity: text('legal_entity')
    .primaryKey()
    .references(() => legalEntities.code),
  periodBasis: text('period_basis', { enum: PERIOD_BASES }).notNull().default('period'),
  /** Where commitments and actuals come from (domain/budget-control CONSUMPTION_SOURCES): one source each. */
  consumptionSource: text('consumption_source', { enum: CONSUMPTION_SOURCES }).notNull().default('erp'),
});

/** Control rules by dimension, effective-dated (valid_to exclusive); a null dimension matches every value. */
export const controlRules = pgTable(
  'control_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    account: text('account'),
    costCenter: text('cost_center'),
    level: text('level', { enum: CONTROL_LEVELS }).notNull(),
    tolerancePercent: numeric('tolerance_percent', { precision: 5, scale: 2 }).notNull().default('0'),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
  },
  (t) => [
    unique('control_rules_scope').on(t.legalEntity, t.account, t.costCenter, t.validFrom).nullsNotDistinct(),
  ],
);

/**
 * One source document line (a purchase-order line) as its consumption events left it: the latest commitment
 * (by the source's sequence), what was invoiced against it, whether it is closed, and the open commitment
 * currently counted in the balances, so each event moves the balances by exactly its difference.
 */
export const consumptionLines = pgTable(
  'consumption_lines',
  {
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    sourceSystem: text('source_system').notNull(),
    documentId: text('document_id').notNull(),
    lineNo: integer('line_no').notNull(),
    /** The reservation this line consumes (the requisition's), released when the commitment arrives. */
    reservationRequester: text('reservation_requester'),
    reservationKey: text('reservation_key'),
    account: text('account'),
    costCenter: text('cost_center'),
    period: text('period'),
    currency: text('currency'),
    committed: amount('committed').notNull().default('0'),
    commitSequence: integer('commit_sequence').notNull().default(-1),
    invoiced: amount('invoiced').notNull().default('0'),
    closed: boolean('closed').notNull().default(false),
    openCounted: amount('open_counted').notNull().default('0'),
    /** The line's whole combination (account and cost center included), when the event named more. */
    dimensions: jsonb('dimensions').$type<Record<string, string>>(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.legalEntity, t.sourceSystem, t.documentId, t.lineNo] })],
);

/** Every consumption event once, by its business identity: a repeat is recognised and changes nothing. */
export const consumptionEvents = pgTable(
  'consumption_events',
  {
    legalEntity: text('legal_entity').notNull(),
    sourceSystem: text('source_system').notNull(),
    documentId: text('document_id').notNull(),
    lineNo: integer('line_no').notNull(),
    type: text('type', { enum: ['committed', 'invoiced', 'closed'] }).notNull(),
    /** The event's own reference: the commitment's sequence, the invoice number, or "close". */
    eventRef: text('event_ref').notNull(),
    payload: jsonb('payload').notNull(),
    outcome: text('outcome').notNull(),
    receivedAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.legalEntity, t.sourceSystem, t.documentId, t.lineNo, t.type, t.eventRef] }),
  ],
);

/**
 * An emergency stop on new spending: the whole entity (no dimension), a cost center, an account, or both. In force
 * from `frozen_at` until it is unfrozen, a separate act with its own principal and reason.
 */
export const controlFreezes = pgTable(
  'control_freezes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    account: text('account'),
    costCenter: text('cost_center'),
    /** Other dimensions' values the freeze stops ({"project": "P-101"}); a line whose combination holds them all. */
    dimensions: jsonb('dimensions').$type<Record<string, string>>(),
    reason: text('reason').notNull(),
    frozenBy: text('frozen_by').notNull(),
    frozenAt: timestamp('frozen_at', { withTimezone: true }).notNull().defaultNow(),
    unfrozenBy: text('unfrozen_by'),
    unfrozenAt: timestamp('unfrozen_at', { withTimezone: true }),
    unfreezeReason: text('unfreeze_reason'),
  },
  (t) => [
    index('control_freezes_in_force')
      .on(t.legalEntity)
      .where(sql`${t.unfrozenAt} is null`),
  ],
);

/**
 * One funds request (check-and-reserve) per requester and Idempotency-Key: its answer is stored with it, so a
 * repeat returns the first answer and reserves nothing more. The row is the request's own record of who
 * asked what and what was decided.
 */
export const fundsRequests = pgTable(
  'funds_requests',
  {
    requester: text('requester').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** The request's content, hashed: the same key with other content is refused, never answered wrongly. */
    requestHash: text('request_hash').notNull(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    /** `overridden`: rejected by the funds check, then approved by a controller (funds_overrides). */
    outcome: text('outcome', { enum: ['approved', 'warning', 'rejected', 'overridden'] }).notNull(),
    status: text('status', { enum: ['reserved', 'rejected', 'released'] }).notNull(),
    answer: jsonb('answer').notNull(),
    correlationId: text('correlation_id').notNull(),
    createdAt: createdAt(),
    /** When what it holds is given back unless consumed or released first (the reservation-expiry workflow). */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.requester, t.idempotencyKey] }),
    index('funds_requests_expiring')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'reserved'`),
  ],
);

/** The funds a request holds, line by line, on the balance each one reserved. */
export const fundsReservations = pgTable(
  'funds_reservations',
  {
    requester: text('requester').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    lineNo: integer('line_no').notNull(),
    legalEntity: text('legal_entity').notNull(),
    account: text('account').notNull(),
    costCenter: text('cost_center').notNull(),
    period: text('period').notNull(),
    currency: currency(),
    amount: amount('amount').notNull(),
    status: text('status', { enum: ['held', 'released'] })
      .notNull()
      .default('held'),
    /** The line's whole combination (account and cost center included). */
    dimensions: jsonb('dimensions').$type<Record<string, string>>(),
    /** The control budgets the line holds funds in besides its bucket (control_budget_balances keys). */
    holds: jsonb('holds').$type<string[]>().notNull().default([]),
  },
  (t) => [primaryKey({ columns: [t.requester, t.idempotencyKey, t.lineNo] })],
);

/**
 * A controller's approval of a request the funds check rejected: asked for with a reason, decided by a
 * controller who is not the one who asked (the budget-override workflow waits for them), and, once approved,
 * the request's funds held regardless of the limit, visibly so in the balance.
 */
export const fundsOverrides = pgTable(
  'funds_overrides',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    requester: text('requester').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    /** The request's lines as its requester sent them (checked against the request's hash). */
    lines: jsonb('lines').notNull(),
    requestedBy: text('requested_by').notNull(),
    reason: text('reason').notNull(),
    status: text('status', { enum: ['pending', 'approved', 'rejected', 'expired', 'refused'] })
      .notNull()
      .default('pending'),
    decidedBy: text('decided_by'),
    decisionComment: text('decision_comment'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    /** Why an approved override could not hold the funds (e.g. a freeze came into force meanwhile). */
    outcomeReason: text('outcome_reason'),
    correlationId: text('correlation_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('funds_overrides_request').on(t.requester, t.idempotencyKey)],
);

/**
 * A budget transfer between buckets, or a supplement to one: approved like a budget version (never by who
 * asked), then applied to the control balances and published to the ERP as a budget register entry.
 */
export const budgetTransfers = pgTable(
  'budget_transfers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    legalEntity: text('legal_entity')
      .notNull()
      .references(() => legalEntities.code),
    kind: text('kind', { enum: ['transfer', 'supplement'] }).notNull(),
    fromAccount: text('from_account'),
    fromCostCenter: text('from_cost_center'),
    fromPeriod: text('from_period'),
    toAccount: text('to_account').notNull(),
    toCostCenter: text('to_cost_center').notNull(),
    toPeriod: text('to_period').notNull(),
    /** Each side's other dimensions (department, project…), for the control budgets it moves budget between. */
    fromDimensions: jsonb('from_dimensions').$type<Record<string, string>>(),
    toDimensions: jsonb('to_dimensions').$type<Record<string, string>>(),
    amount: amount('amount').notNull(),
    currency: currency(),
    reason: text('reason').notNull(),
    requestedBy: text('requested_by').notNull(),
    /** The caller's Idempotency-Key: asking twice starts one transfer. */
    requestKey: text('request_key').notNull(),
    status: text('status', {
      enum: ['awaiting_approval', 'rejected', 'expired', 'refused', 'applied', 'published'],
    })
      .notNull()
      .default('awaiting_approval'),
    decidedBy: text('decided_by'),
    decisionComment: text('decision_comment'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    outcomeReason: text('outcome_reason'),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
    erpDocument: text('erp_document'),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    correlationId: text('correlation_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('budget_transfers_request').on(t.requestedBy, t.requestKey)],
);

/** A line of a source document (ledger entry, PO line) and the balance it lands on. */
const sourceLineColumns = () => ({
  sourceSystem: text('source_system').notNull(),
  documentId: text('document_id').notNull(),
  lineNo: integer('line_no').notNull(),
  revision: integer('revision').notNull(),
  legalEntity: text('legal_entity').notNull(),
  /** Every canonical dimension the source gave, for reports on any dimension of the entity's chart. */
  dimensions: jsonb('dimensions')
    .$type<Record<string, string>>()
    .notNull()
    .default(sql`'{}'::jsonb`),
  /** The bucket budget control keeps it in (account × cost center; '' where the chart's cost center is optional). */
  account: text('account').notNull(),
  costCenter: text('cost_center').notNull(),
  period: text('period').notNull(),
});

/** Posted ledger lines. The primary key is the dedupe key: a duplicate delivery inserts nothing. */
export const actualLines = pgTable(
  'actual_lines',
  {
    dedupeKey: text('dedupe_key').primaryKey(),
    ...sourceLineColumns(),
    postingDate: date('posting_date').notNull(),
    amount: amount('amount').notNull(),
    currency: currency(),
    description: text('description'),
    /** Set when the line was posted into a closed period and counted in `period` instead (the entity's policy). */
    routedFromPeriod: text('routed_from_period'),
    correlationId: text('correlation_id').notNull(),
    ingestedAt: createdAt(),
  },
  (t) => [index('actual_lines_balance').on(t.legalEntity, t.account, t.costCenter, t.period)],
);

/** What a commitment line held before its latest change, so the balance moves by exactly that difference. */
export interface ReplacedCommitment {
  revision: number;
  account: string;
  costCenter: string;
  period: string;
  openAmount: string;
  currency: string;
  /** The line's whole combination then (absent on lines replaced before it was kept). */
  dimensions?: Record<string, string>;
}

/** Open commitments as last seen; a higher revision replaces a lower one, never adds to it. */
export const commitmentLines = pgTable(
  'commitment_lines',
  {
    ...sourceLineColumns(),
    openAmount: amount('open_amount').notNull(),
    currency: currency(),
    correlationId: text('correlation_id').notNull(),
    /** Set by the statement that changed the line: the values it replaced (null when it inserted the line). */
    replaced: jsonb('replaced').$type<ReplacedCommitment>(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sourceSystem, t.documentId, t.lineNo] })],
);

/**
 * How far a sync has read, per source, entity, stream and scope (the window it reads, e.g. a fiscal year):
 * reading one window never moves the mark of another.
 */
export const syncWatermarks = pgTable(
  'sync_watermarks',
  {
    sourceSystem: text('source_system').notNull(),
    legalEntity: text('legal_entity').notNull(),
    stream: text('stream').notNull(),
    scope: text('scope').notNull().default(''),
    watermark: text('watermark').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sourceSystem, t.legalEntity, t.stream, t.scope] })],
);

export const sourceExceptionStatus = ['open', 'reprocessed', 'resolved', 'discarded'] as const;

/**
 * Records from a source that could not be processed, kept with their error where support can see them and
 * replay them once the cause is fixed: nothing from a source is dropped silently. One store for every
 * stream (ledger lines, purchase-order lines, and later webhooks and bulk files as dead letters); the
 * record's business identity makes a repeated delivery one row.
 */
export const sourceExceptions = pgTable(
  'source_exceptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sourceSystem: text('source_system').notNull(),
    legalEntity: text('legal_entity').notNull(),
    stream: text('stream').notNull(),
    recordKey: text('record_key').notNull(),
    /** The record as the source delivered it (the connector's canonical shape), replayable as it is. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    errorCode: text('error_code').notNull(),
    errorMessage: text('error_message').notNull(),
    status: text('status', { enum: sourceExceptionStatus }).notNull().default('open'),
    occurrences: integer('occurrences').notNull().default(1),
    correlationId: text('correlation_id').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolvedBy: text('resolved_by'),
  },
  (t) => [
    unique('source_exceptions_record').on(t.sourceSystem, t.stream, t.recordKey),
    index('source_exceptions_open').on(t.legalEntity, t.stream, t.status),
  ],
);

// ── Reconciliation ────────────────────────────────────────────────────────────────────────────────────

export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => budgetVersions.id),
    target: text('target').notNull(),
    legalEntity: text('legal_entity').notNull(),
    currency: currency(),
    sourceTotal: amount('source_total').notNull(),
    targetTotal: amount('target_total').notNull(),
    matchedCount: integer('matched_count').notNull(),
    mismatchedCount: integer('mismatched_count').notNull(),
    exceptionCount: integer('exception_count').notNull(),
    correlationId: text('correlation_id').notNull(),
    reconciledAt: createdAt(),
  },
  (t) => [unique('reconciliation_runs_identity').on(t.versionId, t.target)],
);

export const reconciliationResults = pgTable(
  'reconciliation_results',
  {
    runId: uuid('run_id')
      .notNull()
      .references(() => reconciliationRuns.id, { onDelete: 'cascade' }),
    period: text('period').notNull(),
    account: text('account').notNull(),
    sourceAmount: amount('source_amount').notNull(),
    targetAmount: amount('target_amount').notNull(),
    difference: amount('difference').notNull(),
    currency: currency(),
    status: text('status', { enum: ['matched', 'mismatched'] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.period, t.account] })],
);

export const reconciliationExceptions = pgTable('reconciliation_exceptions', {
  id: uuid('id').primaryKey().defaultRandom(),
  runId: uuid('run_id')
    .notNull()
    .references(() => reconciliationRuns.id, { onDelete: 'cascade' }),
  kind: text('kind', {
    enum: ['amount_mismatch', 'missing_in_target', 'unexpected_in_target', 'unmapped_target_value'],
  }).notNull(),
  period: text('period'),
  account: text('account'),
  details: jsonb('details').notNull(),
  correlationId: text('correlation_id').notNull(),
  status: text('status', { enum: ['open', 'reprocessed', 'resolved'] })
    .notNull()
    .default('open'),
  createdAt: createdAt(),
});

// ── Reforecast ────────────────────────────────────────────────────────────────────────────────────────

export const forecasts = pgTable('forecasts', {
  forecastKey: text('forecast_key').primaryKey(),
  versionId: uuid('version_id')
    .notNull()
    .references(() => budgetVersions.id),
  asOfPeriod: text('as_of_period').notNull(),
  versionName: text('version_name').notNull(),
  currency: currency(),
  total: amount('total').notNull(),
  status: text('status', { enum: ['computed', 'published', 'incomplete'] }).notNull(),
  correlationId: text('correlation_id').notNull(),
  createdAt: createdAt(),
  publishedAt: timestamp('published_at', { withTimezone: true }),
});

export const forecastLines = pgTable(
  'forecast_lines',
  {
    forecastKey: text('forecast_key')
      .notNull()
      .references(() => forecasts.forecastKey, { onDelete: 'cascade' }),
    account: text('account').notNull(),
    costCenter: text('cost_center').notNull(),
    period: text('period').notNull(),
    basis: text('basis', { enum: ['actual', 'projection'] }).notNull(),
    amount: amount('amount').notNull(),
    actual: amount('actual').notNull(),
    committed: amount('committed').notNull(),
    remainingBudget: amount('remaining_budget').notNull(),
    currency: currency(),
  },
  (t) => [primaryKey({ columns: [t.forecastKey, t.account, t.costCenter, t.period] })],
);

// ── Audit ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Append-only (a trigger refuses UPDATE and DELETE) and tamper-evident: each row's hash covers its content
 * and the previous row's hash in the same stream, so editing or removing a row breaks its stream's chain
 * from there on. Streams (per legal entity and kind) chain independently, so unrelated work never waits on
 * one global lock.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    /** Rows written before streams existed belong to `legacy`, one chain in seq order. */
    stream: text('stream').notNull().default('legacy'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    correlationId: text('correlation_id').notNull(),
    /** Idempotency for the audit itself: an activity retried after its write still writes one entry. */
    eventKey: text('event_key').notNull().unique(),
    details: jsonb('details').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_log_stream').on(t.stream, t.seq),
    index('audit_log_entity').on(t.entityType, t.entityId),
    index('audit_log_correlation').on(t.correlationId),
  ],
);
