import { type RequestHandler } from 'express';

/**
 * Sheds load instead of queueing it without end: while `limit` requests are in progress, the next is answered
 * 503 with Retry-After at once, before anything is read or decided, so a caller retrying with the same
 * Idempotency-Key later is decided once. Under a steady overload the requests taken on keep their latency;
 * when the load drops, every request is taken on again.
 */
export function shedBeyond(limit: number, retryAfterSeconds = 1): RequestHandler {
  let inProgress = 0;
  return (_req, res, next) => {
    if (inProgress >= limit) {
      res
        .status(503)
        .setHeader('Retry-After', String(retryAfterSeconds))
        .json({
          error: 'overloaded',
          message: `budget control is at its limit of ${limit} requests in progress; retry after ${retryAfterSeconds} s with the same Idempotency-Key`,
        });
      return;
    }
    inProgress++;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inProgress--;
      }
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}
