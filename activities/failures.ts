import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';

/** Non-retryable failures with a stable type; retrying cannot fix any of these. */
function nonRetryable(type: FailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details ? [details] : undefined,
  });
}

export const notFound = (message: string, details?: unknown) =>
  nonRetryable(FailureType.NotFound, message, details);
export const conflict = (message: string, details?: unknown) =>
  nonRetryable(FailureType.Conflict, message, details);
export const mappingMissing = (message: string, details?: unknown) =>
  nonRetryable(FailureType.MappingMissing, message, details);
export const superseded = (message: string, details?: unknown) =>
  nonRetryable(FailureType.Superseded, message, details);
export const periodClosed = (message: string, details?: unknown) =>
  nonRetryable(FailureType.PeriodClosed, message, details);
