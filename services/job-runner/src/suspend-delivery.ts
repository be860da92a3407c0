/**
 * Handing a suspended chain back to the RM (`PUT …/suspend`): big and rare,
 * so it goes on a call of its own, after every job-log entry of its chain,
 * retried with backoff until the RM takes it, refuses it (4xx), the deadline
 * leaves no time for another try, the RM drops the chain, or the reporter closes.
 */
import { retryWithBackoff, type SuspendedJobChain } from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { CLOSED, type Delivery, DROPPED } from './finish-gate.js';
import { describeRmError, isRejection } from './rm-errors.js';

export interface SuspendDeps {
  send: (body: SuspendedJobChain) => Promise<void>;
  logger: Logger;
  /** Resolves once the chain's job-log entries are delivered (false: the deadline came first). */
  logsDelivered: (requestId: string, deadline: number | undefined) => Promise<boolean>;
  isForgotten: (requestId: string) => boolean;
  /** Aborted when the reporter closes. */
  signal: AbortSignal;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** What ends the attempts without an error from the RM. */
class Ended extends Error {
  constructor(readonly delivery: Delivery) {
    super(delivery.delivered ? 'delivered' : delivery.reason);
  }
}

export async function deliverSuspend(
  deps: SuspendDeps,
  body: SuspendedJobChain,
  deadline: number | undefined,
): Promise<Delivery> {
  const { logger } = deps;
  const requestId = body.requestId;
  const logsOk = await deps.logsDelivered(requestId, deadline);
  if (!logsOk)
    logger.warn('sending suspend although job-log entries are still undelivered (deadline)', { requestId });
  let attempts = 0;
  try {
    await retryWithBackoff(
      async (attempt) => {
        attempts = attempt;
        if (deps.signal.aborted) throw new Ended(CLOSED);
        if (deps.isForgotten(requestId)) throw new Ended(DROPPED);
        await deps.send(body);
      },
      {
        baseDelayMs: deps.retryBaseMs,
        maxDelayMs: deps.retryMaxMs,
        deadline,
        signal: deps.signal,
        shouldRetry: (err) => !(err instanceof Ended) && !isRejection(err),
        onRetry: (err, attempt) => {
          if (attempt === 1 || attempt % 10 === 0)
            logger.warn('suspend to the RM failed; retrying', {
              requestId,
              error: describeRmError(err),
              attempts: attempt,
            });
        },
      },
    );
  } catch (err) {
    if (err instanceof Ended) return err.delivery;
    const reason = describeRmError(err);
    if (isRejection(err)) {
      logger[err.status === 409 ? 'warn' : 'error']('RM refused suspend; not retrying', {
        requestId,
        error: reason,
      });
      return { delivered: false, reason, rejected: true };
    }
    if (deps.signal.aborted) return CLOSED;
    logger.error('could not deliver suspend to the RM before the deadline', {
      requestId,
      error: reason,
      attempts,
    });
    return { delivered: false, reason, rejected: false };
  }
  if (attempts > 1) logger.info('suspend delivered to the RM', { requestId, attempts });
  return { delivered: true };
}
