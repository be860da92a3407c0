/**
 * The one retry loop of the project: attempts with exponential backoff, over
 * p-retry. Every caller (the HTTP clients, the JR's report and suspend
 * delivery, spinc's follow) states its own policy here instead of writing a loop.
 *
 * Semantics, the same for every caller:
 * - the wait before retry n (n = 1, 2, …) is `baseDelayMs * 2^(n-1)`, capped at
 *   `maxDelayMs`, with no jitter;
 * - `attempts` bounds the attempts in all (default: no bound);
 * - with a `deadline`, a failure whose wait would end after it is not retried;
 * - `shouldRetry` says whether a failure is worth another attempt (a 4xx is
 *   not, for instance); a failure it refuses is thrown as is;
 * - an aborted `signal` ends the wait at once: the promise rejects with the
 *   signal's reason.
 *
 * Whatever the operation throws reaches the caller unchanged (p-retry's own
 * rules, which never retry a TypeError and insist on Error objects, do not apply).
 */
import pRetry from 'p-retry';

export interface RetryOptions {
  /** Attempts in all, the first one included (default: unlimited). */
  attempts?: number;
  /** Wait before the first retry (ms); doubled after each further failure. */
  baseDelayMs: number;
  /** Longest wait between two attempts (ms). */
  maxDelayMs: number;
  /** Epoch ms: a failure whose wait would end after this is not retried. */
  deadline?: number;
  /** Abort: no further attempt; rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Whether a failure of attempt `attempt` (1-based) may be retried (default: every failure). */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Called for each failure that will be retried, with the wait before the next attempt. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** The wait after the `attempt`-th failure (1-based). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
}

/** Carries whatever an attempt threw through p-retry, which wants Error objects and never retries a TypeError. */
class AttemptFailure extends Error {
  constructor(readonly thrown: unknown) {
    super('attempt failed');
  }
}

const unwrap = (err: unknown): unknown => (err instanceof AttemptFailure ? err.thrown : err);

/** Run `fn` (given the 1-based attempt number) until it resolves or a failure is not retried. */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const { baseDelayMs, maxDelayMs, deadline, shouldRetry, onRetry } = opts;
  const attempts = Math.max(1, opts.attempts ?? Number.POSITIVE_INFINITY);
  // The first attempt runs on its own: most calls succeed at once, and p-retry's
  // set-up per call was a measurable share of a busy service's time. A failure
  // is replayed as p-retry's first attempt, so the rules above apply unchanged.
  if (opts.signal?.aborted) throw opts.signal.reason;
  let firstFailure: { thrown: unknown } | undefined;
  try {
    return await fn(1);
  } catch (err) {
    firstFailure = { thrown: err };
  }
  try {
    return await pRetry(
      async (attempt) => {
        if (firstFailure) {
          const thrown = firstFailure.thrown;
          firstFailure = undefined;
          throw new AttemptFailure(thrown);
        }
        try {
          return await fn(attempt);
        } catch (err) {
          throw new AttemptFailure(err);
        }
      },
      {
        retries: attempts - 1,
        factor: 2,
        minTimeout: baseDelayMs,
        maxTimeout: maxDelayMs,
        randomize: false,
        signal: opts.signal,
        shouldRetry: ({ error, attemptNumber }) => {
          const err = unwrap(error);
          if (shouldRetry && !shouldRetry(err, attemptNumber)) return false;
          const delay = backoffDelay(attemptNumber, baseDelayMs, maxDelayMs);
          if (deadline !== undefined && Date.now() + delay > deadline) return false;
          onRetry?.(err, attemptNumber, delay);
          return true;
        },
      },
    );
  } catch (err) {
    throw unwrap(err);
  }
}
