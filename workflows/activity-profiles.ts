import { type Duration } from '@temporalio/common';
import { type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import { FailureType } from '../domain/failures';

/**
 * Timeouts and retry policies, named once. Retryable connector failures (5xx, 429, timeouts) back off
 * exponentially; a Retry-After from the system overrides the next interval (nextRetryDelay). Failures that
 * retrying cannot fix are non-retryable at the source and listed here as a second guard.
 */

const NON_RETRYABLE = [
  FailureType.ValidationFailed,
  FailureType.MappingMissing,
  FailureType.NotFound,
  FailureType.Conflict,
  FailureType.ConnectorRejected,
  FailureType.ConnectorUnauthorized,
  FailureType.ConnectorProtocol,
  FailureType.Superseded,
  FailureType.PublicationWithdrawn,
];

/**
 * Activities that call an ERP or a planning platform heartbeat every few seconds while they work. If their
 * worker dies, the heartbeat stops and Temporal gives the activity to another worker after this long (plus
 * the first retry interval), well within the ~20 seconds a stalled publication may take to resume.
 */
export const HEARTBEAT_TIMEOUT = '10 seconds';

export const dbWrite = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 20,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
} as const satisfies ActivityOptions;

/**
 * The same short database writes as local activities, for a workflow that runs many in a row (an entity's
 * close): run by the worker that runs the workflow and recorded as markers, they spare the server an activity
 * task per write. A retry longer than the threshold waits on a durable timer instead of in the worker.
 */
export const dbWriteLocal = {
  ...dbWrite,
  localRetryThreshold: '10 seconds',
} as const satisfies LocalActivityOptions;

/**
 * Mail and chat: a few retries over about a minute (a mail server restarting), then the cycle goes on
 * without the notice; waiting on a notification must never hold up a decision.
 */
export const notification = {
  // Above the notifier's own timeouts added up (SMTP connect, greeting, socket; the webhook), so an attempt
  // is never retried while it may still be sending.
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '20 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
} as const satisfies ActivityOptions;

export interface ErpRetryOverride {
  initialInterval?: Duration;
  maximumAttempts?: number;
}

export function erpCall(override: ErpRetryOverride = {}): ActivityOptions {
  return {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: {
      initialInterval: override.initialInterval ?? '1 second',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: override.maximumAttempts ?? 12,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}

/** Planning exports and imports run as polled tasks on the platform and may take minutes. */
export function planningCall(override: ErpRetryOverride = {}): ActivityOptions {
  return { ...erpCall(override), startToCloseTimeout: '15 minutes' };
}

/** Multi-page syncs and whole-publication reversals: long, but heartbeating like every ERP call. */
export function longSync(override: ErpRetryOverride = {}): ActivityOptions {
  return { ...erpCall(override), startToCloseTimeout: '30 minutes' };
}
