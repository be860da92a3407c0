/** Small helpers of the traverser for job bytes, job data and waiting with a bound. */
import type { JobData } from '@spincycle/protocol';
import { errorText } from './runner.js';

const EMPTY_BYTES = new Uint8Array(0);

/** A job's serialized bytes from their base64 wire form. */
export function decodeBytes(b64: string | undefined): Uint8Array {
  return b64 ? Buffer.from(b64, 'base64') : EMPTY_BYTES;
}

/**
 * Object.assign, except that a `"__proto__"` key (JSON.parse makes it an
 * ordinary key of a chain's or a job's data) is copied as data: assigning it
 * would replace the prototype of the successor's data instead.
 */
export function copyData(to: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const key of Object.keys(from)) {
    if (key === '__proto__')
      Object.defineProperty(to, key, {
        value: from[key],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    else to[key] = from[key];
  }
}

export function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Promise<unknown>).then === 'function';
}

/** `p`'s value, or undefined when it fails or takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), Math.max(0, ms));
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}

/** Copy a completed job's data into a successor's (a job may have left something unreadable in it). */
export function passData(
  from: { id: string; data: JobData },
  to: { id: string; data: JobData },
  onError: (message: string, fields: Record<string, unknown>) => void,
): void {
  try {
    copyData(to.data, from.data);
  } catch (err) {
    onError('could not pass job data on', { from: from.id, to: to.id, error: errorText(err) });
  }
}
