/**
 * Waits between retries (a job's tries, a sequence's tries). `constant` (the default) waits
 * exactly `retryWait` every time, as the original did. `exponential` doubles `retryWait` per
 * retry, caps it at `retryWaitMax` (when set), then applies *equal jitter*: the wait is
 * uniformly random in [d/2, d]. Equal rather than full jitter keeps a floor of half the
 * delay, so a retry never comes right after a failure, while retries of many jobs that
 * failed together still spread out.
 */
import { parseDurationMs } from '@spincycle/protocol';

export interface BackoffPolicy {
  /** `retryWait` in ms (0: retry at once). */
  waitMs: number;
  exponential: boolean;
  /** `retryWaitMax` in ms; 0 = no cap. */
  maxMs: number;
}

const NO_BACKOFF: BackoffPolicy = Object.freeze({ waitMs: 0, exponential: false, maxMs: 0 });

/** A policy from the wire fields (`retryWait`, `retryBackoff`, `retryWaitMax` or their sequence twins). */
export function backoffPolicy(wait?: string, backoff?: string, max?: string): BackoffPolicy {
  // Most jobs set none: one shared policy instead of an object per job (two per job of a chain).
  if (!wait && !backoff && !max) return NO_BACKOFF;
  return {
    waitMs: wait ? parseDurationMs(wait) : 0,
    exponential: backoff === 'exponential',
    maxMs: max ? parseDurationMs(max) : 0,
  };
}

/** Largest doubling used: 2^40 × 1 ns is already over a week. */
const MAX_DOUBLINGS = 40;

/**
 * The wait before retry `retry` (1 = the wait after the first failed try), in ms.
 * `random` returns a number in [0, 1) (injectable for deterministic tests).
 */
export function retryWaitMs(p: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  if (p.waitMs <= 0) return 0;
  if (!p.exponential) return p.waitMs;
  let d = p.waitMs * 2 ** Math.min(Math.max(retry - 1, 0), MAX_DOUBLINGS);
  if (p.maxMs > 0) d = Math.min(d, p.maxMs);
  return d / 2 + random() * (d / 2);
}

/** Observes each computed retry wait (for logs and tests). */
export type RetryWaitObserver = (e: {
  jobId: string;
  kind: 'job' | 'sequence';
  retry: number;
  ms: number;
}) => void;

/** The wait before a sequence's next try, `tries` tries in (0 before its first: no wait). */
export function sequenceRetryWaitMs(
  start: { id: string; sequenceRetryBackoff: BackoffPolicy },
  tries: number,
  o: { random?: (() => number) | undefined; onRetryWait?: RetryWaitObserver | undefined },
): number {
  if (tries <= 0) return 0;
  const ms = retryWaitMs(start.sequenceRetryBackoff, tries, o.random);
  o.onRetryWait?.({ jobId: start.id, kind: 'sequence', retry: tries, ms });
  return ms;
}
