/**
 * Readers for job args, for use in `create`. Each throws JobArgError naming
 * the arg and the value, so a bad arg becomes a 400 at request creation.
 * Optional readers treat `undefined`, `null` and `""` as "not given": spec
 * args that a caller did not set arrive in one of those forms.
 */
import type { JobArgs } from '@spincycle/protocol';
import { toMillis } from './duration.js';
import { JobArgError } from './errors.js';

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A required, non-empty string. */
export function requiredString(jobArgs: JobArgs, name: string): string {
  const value = jobArgs[name];
  if (typeof value !== 'string' || value === '')
    throw new JobArgError(name, value, 'must be a non-empty string');
  return value;
}

/** An optional string; `undefined` when not given. */
export function optionalString(jobArgs: JobArgs, name: string): string | undefined {
  const value = jobArgs[name];
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string') throw new JobArgError(name, value, 'must be a string');
  return value;
}

const MILLIS_PROBLEM =
  'must be a duration: milliseconds as a number or numeric string, or a duration like "30s"';

/** A required duration in milliseconds (see `toMillis` for the accepted forms). */
export function requiredMillis(jobArgs: JobArgs, name: string): number {
  const value = jobArgs[name];
  const ms = toMillis(value);
  if (ms === undefined) throw new JobArgError(name, value, MILLIS_PROBLEM);
  return ms;
}

/** An optional duration in milliseconds; `fallback` when not given. */
export function optionalMillis(jobArgs: JobArgs, name: string, fallback: number): number {
  const value = jobArgs[name];
  if (isAbsent(value)) return fallback;
  const ms = toMillis(value);
  if (ms === undefined) throw new JobArgError(name, value, MILLIS_PROBLEM);
  return ms;
}

/** An optional non-negative integer (number or decimal string); `fallback` when not given. */
export function optionalCount(jobArgs: JobArgs, name: string, fallback: number): number {
  const value = jobArgs[name];
  if (isAbsent(value)) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new JobArgError(name, value, 'must be a non-negative integer');
  }
  return n;
}

/**
 * An optional list of strings: a list, or a single string as a list of one.
 * `[]` when not given. A string is never split: a value with spaces (a
 * caller-given host name, a path) stays one entry, so it cannot turn into
 * several arguments or options of a command.
 */
export function optionalStringList(jobArgs: JobArgs, name: string): string[] {
  const value = jobArgs[name];
  if (isAbsent(value)) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      if (typeof item !== 'string') throw new JobArgError(`${name}[${i}]`, item, 'must be a string');
    }
    return value.slice() as string[];
  }
  throw new JobArgError(name, value, 'must be a string (one entry) or a list of strings');
}

/** An optional object whose values are all strings; `undefined` when not given. */
export function optionalStringMap(jobArgs: JobArgs, name: string): Record<string, string> | undefined {
  const value = jobArgs[name];
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JobArgError(name, value, 'must be an object of strings');
  }
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new JobArgError(`${name}.${key}`, item, 'must be a string');
    out[key] = item;
  }
  return out;
}
