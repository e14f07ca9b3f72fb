/**
 * A budget version's lifecycle. The database applies these rules in conditional statements (the version's
 * status must be one of `from` for the step to happen), so a retried activity, a Temporal UI reset or two
 * cycles racing can never move a version backwards: a superseded version is never active again.
 */

export const BUDGET_VERSION_STATUSES = [
  'invalid',
  'awaiting_approval',
  'approved',
  'rejected',
  /** An approver sent it back for changes: the planner fixes it and submits it again. */
  'sent_back',
  'expired',
  'publishing',
  'published',
  'publication_failed',
  'active',
  'superseded',
] as const;
export type BudgetVersionStatus = (typeof BUDGET_VERSION_STATUSES)[number];

/** Statuses in which the version's approval stands: a later cycle of it needs no new decision. */
export const APPROVED_STATUSES = [
  'approved',
  'publishing',
  'published',
  'publication_failed',
  'active',
] as const satisfies readonly BudgetVersionStatus[];

export const VersionStep = {
  /** A new cycle revision takes a version that did not pass back to validation and approval. */
  resubmit: { from: ['invalid', 'rejected', 'sent_back', 'expired'], to: ['invalid', 'awaiting_approval'] },
  decide: { from: ['awaiting_approval'], to: ['approved', 'rejected', 'sent_back'] },
  expire: { from: ['awaiting_approval'], to: ['expired'] },
  /** Only while no newer version of the same budget has been activated. */
  claimPublication: { from: ['approved', 'publication_failed', 'publishing'], to: ['publishing'] },
  failPublication: { from: ['publishing'], to: ['publication_failed'] },
  /**
   * Once every target has published; only while no newer version of the same budget has been activated.
   * (`published` is where versions published before activation was one step stood.)
   */
  activate: { from: ['publishing', 'published', 'active'], to: ['active'] },
  /**
   * A version of a scenario not in control of its year becomes its scenario's active version without
   * publication: nothing is posted or reserved against (db/queries/budget-versions keepOutOfControl).
   */
  keep: { from: ['approved'], to: ['active'] },
  /** A newer version was activated: this one never reaches (or stays in) the ERP or the control budget. */
  supersede: { from: APPROVED_STATUSES, to: ['superseded'] },
} as const satisfies Record<
  string,
  { from: readonly BudgetVersionStatus[]; to: readonly BudgetVersionStatus[] }
>;
