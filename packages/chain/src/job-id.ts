/**
 * Per-request job ids, as the original makes them: 4 characters drawn uniformly from
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
const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** Index (0..61) of a uniformly drawn symbol. */
function randomIndex(): number {
  for (;;) {
    if (poolPos === pool.length) {
      randomFillSync(pool);
      poolPos = 0;
    }
    const byte = pool[poolPos++] as number;
    if (byte < LIMIT) return byte % 62;
  }
}

/** Allocates job ids for one request. */
export class JobIdGenerator {
  // The used ids as numbers (base-62 value + 1) in an open-addressing hash set:
  // compact and cache-friendly for the tens of thousands of jobs of a large chain.
  private table = new Int32Array(1024);
  private count = 0;

  /** A fresh id not yet used in this request. Throws (a server fault) after 100 collisions in a row. */
  next(): string {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const a = randomIndex();
      const b = randomIndex();
      const c = randomIndex();
      const d = randomIndex();
      if (this.insert(((a * 62 + b) * 62 + c) * 62 + d + 1)) {
        return String.fromCharCode(
          CODES[a] as number,
          CODES[b] as number,
          CODES[c] as number,
          CODES[d] as number,
        );
      }
    }
    throw new Error('unable to generate a UID: 100 attempts collided with ids already used in this request');
  }

  get size(): number {
    return this.count;
  }

  /** Adds `key` (> 0); false when it is already there. */
  private insert(key: number): boolean {
    if ((this.count + 1) * 2 > this.table.length) this.grow();
    const t = this.table;
    const mask = t.length - 1;
    // Keys are uniformly random already; a multiplicative mix spreads them over the table.
    for (let i = Math.imul(key, 0x9e3779b1) & mask; ; i = (i + 1) & mask) {
      const k = t[i] as number;
      if (k === 0) {
        t[i] = key;
        this.count++;
        return true;
      }
      if (k === key) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    const t = new Int32Array(old.length * 2);
    const mask = t.length - 1;
    for (const key of old) {
      if (key === 0) continue;
      let i = Math.imul(key, 0x9e3779b1) & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = key;
    }
    this.table = t;
  }
}
