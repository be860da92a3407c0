/**
 * The optional per-user limit on request creation (`limits.create_rate`): a
 * token bucket per authenticated user name, refilled at the configured rate
 * up to the burst. Own code rather than a library: a bucket is a few lines,
 * and the RM needs nothing else of one (no shared store: each RM counts its
 * own calls). The map is bounded; past `maxUsers` the bucket used longest ago
 * is dropped (that user starts again with a full burst).
 */
import { TooManyRequestsError } from '@spincycle/protocol';
import type { RequestHandler } from 'express';
import { callerOf } from './api/context.js';

export interface CreateRate {
  /** Tokens added per second. */
  perSecond: number;
  /** Tokens a bucket holds at most (calls at once). */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: CreateRate,
    private readonly maxUsers = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  /** Take a token of `key`: 0 when there was one, else the seconds until there is. */
  take(key: string): number {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      // Deleted and set again: the map stays in order of last use, oldest first.
      this.buckets.delete(key);
      b.tokens = Math.min(this.rate.burst, b.tokens + ((now - b.at) / 1000) * this.rate.perSecond);
      b.at = now;
    } else {
      b = { tokens: this.rate.burst, at: now };
      if (this.buckets.size >= this.maxUsers) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.rate.perSecond;
  }
}

/** Middleware (after authentication): 429 with Retry-After when the caller is over its rate. */
export function createRateLimit(buckets: TokenBuckets): RequestHandler {
  return (_req, res, next) => {
    const wait = buckets.take(callerOf(res).name);
    if (wait === 0) return next();
    const seconds = Math.max(1, Math.ceil(wait));
    next(
      new TooManyRequestsError(
        `too many requests created (limits.create_rate): try again in ${seconds} s`,
        seconds,
      ),
    );
  };
}
