/**
 * Per-request job ids (reference §6.1): 4 characters drawn uniformly from
 * `a-z A-Z 0-9`, unique within one request. 62^4 ≈ 14.8 M, so a chain of
 * thousands of jobs sees a few collisions; those are simply drawn again.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const MAX_ATTEMPTS = 100;
// 248 = 4 × 62: bytes at or above it are dropped so that `byte % 62` stays uniform.
const LIMIT = 248;

const pool = Buffer.allocUnsafe(4096);
let poolPos = pool.length;

function randomSymbol(): string {
  for (;;) {
    if (poolPos === pool.length) {
      randomFillSync(pool);
      poolPos = 0;
    }
    const byte = pool[poolPos++] as number;
    if (byte < LIMIT) return ALPHABET[byte % 62] as string;
  }
}

/** Allocates job ids for one request. */
export class JobIdGenerator {
  private readonly used = new Set<string>();

  /** A fresh id not yet used in this request. Throws (a server fault) after 100 collisions in a row. */
  next(): string {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const id = randomSymbol() + randomSymbol() + randomSymbol() + randomSymbol();
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
    throw new Error('unable to generate a UID: 100 attempts collided with ids already used in this request');
  }

  get size(): number {
    return this.used.size;
  }
}
