import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';

/** Non-retryable failures with a stable type; retrying cannot fix any of these. */
export function notFound(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.NotFound,
    message,
    nonRetryable: true,
    details: details ? [details] : undefined,
  });
}

export function conflict(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.Conflict,
    message,
    nonRetryable: true,
    details: details ? [details] : undefined,
  });
}

export function mappingMissing(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.MappingMissing,
    message,
    nonRetryable: true,
    details: details ? [details] : undefined,
  });
}
