/**
 * Stable failure types. Activities raise ApplicationFailure with one of these `type`s; workflows and the
 * API branch on them, so they are part of the public contract: rename nothing.
 */
export const FailureType = {
  /** Input failed validation; retrying cannot fix it. */
  ValidationFailed: 'ValidationFailed',
  /** A canonical dimension has no effective mapping in the target ERP. */
  MappingMissing: 'MappingMissing',
  /** The referenced object does not exist. */
  NotFound: 'NotFound',
  /** The object exists with different content under the same business identity. */
  Conflict: 'Conflict',
  /** A connector got a 4xx it cannot retry (bad request, forbidden, unprocessable). */
  ConnectorRejected: 'ConnectorRejected',
  /** A connector got a 401 after refreshing credentials. */
  ConnectorUnauthorized: 'ConnectorUnauthorized',
  /** A connector response did not match the shape we parse. */
  ConnectorProtocol: 'ConnectorProtocol',
  /** Retryable: 5xx, 429, timeouts, network errors. */
  ConnectorUnavailable: 'ConnectorUnavailable',
  /** An approval decision was refused (segregation of duties, wrong role, already decided). */
  DecisionRefused: 'DecisionRefused',
  /** The action does not fit the workflow's current stage. */
  WrongStage: 'WrongStage',
  /** A newer version of the budget was activated: this one may not publish or become the control budget. */
  Superseded: 'Superseded',
  /** The publication (or chunk) was reversed: it never posts again; a new revision must be published. */
  PublicationWithdrawn: 'PublicationWithdrawn',
  /** It would post into (or change) a period that is closed; reopen the period or change the version. */
  PeriodClosed: 'PeriodClosed',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
