import {
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { fieldIssues } from '../domain/zod-issues';
import { FailureType } from '../domain/failures';

/** An error the API answers with a status and a body of its own choosing. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

function isTemporalUnreachable(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && (e.code === GRPC_UNAVAILABLE || e.code === GRPC_DEADLINE_EXCEEDED))
      return true;
    if (e instanceof ServiceError && /UNAVAILABLE|DEADLINE|connect|transport/i.test(e.message)) return true;
    if (e === (e as { cause?: unknown }).cause) break;
  }
  return false;
}

function isDatabaseUnreachable(err: unknown): boolean {
  // drizzle wraps the driver's error; the connection failure is on the cause chain.
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      ([
        'ECONNREFUSED',
        'ECONNRESET',
        'ETIMEDOUT',
        'ENOTFOUND',
        'CONNECT_TIMEOUT',
        'CONNECTION_CLOSED',
        'CONNECTION_ENDED',
        'CONNECTION_DESTROYED',
      ].includes(code) ||
        code.startsWith('57P') ||
        code.startsWith('08'))
    ) {
      return true;
    }
  }
  return false;
}

interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
  expose?: boolean;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  const e = err as Partial<BodyParserError> | undefined;
  return typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}

/** Whatever the body parser refused is the client's doing: its own 4xx, never a 500. */
function fromBodyParser(err: BodyParserError): HttpError {
  switch (err.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', 'the body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(
        413,
        'body_too_large',
        `the body is larger than the ${err.limit} bytes this API accepts`,
        {
          limitBytes: err.limit,
        },
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', 'the body must be UTF-8 JSON');
    default:
      return new HttpError(err.status, 'bad_request', `the body could not be read (${err.type})`);
  }
}

/** A decision the workflow's validator refused: 403 for who decides, 409 for when. */
export function decisionRefusal(err: WorkflowUpdateFailedError): HttpError {
  const cause = err.cause as ApplicationFailure;
  const code = (cause.details?.[0] as { code?: string } | undefined)?.code ?? 'DecisionRefused';
  const status = code === 'AlreadyDecided' || code === 'WrongStage' ? 409 : 403;
  return new HttpError(status, code, cause.message);
}

/** The answer to a decision a workflow's update validator refused (or an HttpError already), else undefined. */
export function refusalOf(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (
    err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FailureType.DecisionRefused
  )
    return decisionRefusal(err);
  return undefined;
}

/** Maps a decision's ApplicationFailure types to HTTP, in one place. */
function fromUpdateFailure(err: WorkflowUpdateFailedError): HttpError {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) {
    if (cause.type === FailureType.ValidationFailed) {
      return new HttpError(400, 'validation_failed', cause.message, { issues: cause.details?.[0] ?? [] });
    }
    if (cause.type === FailureType.DecisionRefused) return decisionRefusal(err);
  }
  return new HttpError(422, 'decision_failed', cause?.message ?? err.message);
}

export const errorHandler: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  let e: HttpError;
  if (err instanceof HttpError) e = err;
  else if (err instanceof z.ZodError)
    e = new HttpError(400, 'validation_failed', 'the request is invalid', { issues: fieldIssues(err) });
  else if (isBodyParserError(err)) e = fromBodyParser(err);
  else if (err instanceof WorkflowExecutionAlreadyStartedError) {
    e = new HttpError(409, 'already_started', `a cycle for this version already exists (${err.workflowId})`, {
      cycleId: err.workflowId,
    });
  } else if (err instanceof WorkflowNotFoundError)
    e = new HttpError(404, 'not_found', 'no such budget cycle');
  else if (err instanceof WorkflowUpdateFailedError) e = fromUpdateFailure(err);
  else if (isTemporalUnreachable(err))
    e = new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable; nothing was changed');
  else if (isDatabaseUnreachable(err))
    e = new HttpError(503, 'database_unavailable', 'the database is unreachable; nothing was changed');
  else {
    console.error('unhandled API error', err);
    e = new HttpError(500, 'internal_error', 'internal error');
  }
  if (e.status === 503) res.setHeader('Retry-After', '5');
  res.status(e.status).json({ error: e.code, message: e.message, ...e.extra });
};
