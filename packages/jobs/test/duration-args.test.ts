import { describe, expect, it } from 'vitest';
import {
  optionalCount,
  optionalMillis,
  optionalString,
  optionalStringList,
  optionalStringMap,
  requiredMillis,
  requiredString,
} from '../src/args.js';
import { formatDuration, toMillis } from '../src/duration.js';
import { describeValue, type JobArgError } from '../src/errors.js';

describe('formatDuration', () => {
  it('renders like Go durations', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(0.5)).toBe('0.5ms');
    expect(formatDuration(200)).toBe('200ms');
    expect(formatDuration(100)).toBe('100ms');
    expect(formatDuration(1000)).toBe('1s');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(10_000)).toBe('10s');
    expect(formatDuration(60_000)).toBe('1m0s');
    expect(formatDuration(123_400)).toBe('2m3.4s');
    expect(formatDuration(3_600_000 + 5_000)).toBe('1h0m5s');
  });
});

describe('toMillis', () => {
  it('accepts ms numbers, numeric strings and Go durations', () => {
    expect(toMillis(5)).toBe(5);
    expect(toMillis('5')).toBe(5);
    expect(toMillis('2.5')).toBe(2.5);
    expect(toMillis('1m30s')).toBe(90_000);
    expect(toMillis('0')).toBe(0);
    expect(toMillis(10n)).toBe(10);
    expect(toMillis(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(toMillis('720h')).toBe(720 * 3_600_000);
  });
  it('rejects the rest', () => {
    for (const v of [
      -1,
      '-1s',
      'x',
      '',
      null,
      undefined,
      true,
      {},
      [],
      Number.POSITIVE_INFINITY,
      Number.NaN,
      // Past what a job's bytes carry exactly.
      Number.MAX_SAFE_INTEGER + 2,
      12345678901234567890n,
      '12345678901234567890',
      '9999999999999999h',
    ]) {
      expect(toMillis(v), String(v)).toBeUndefined();
    }
  });
});

describe('arg readers', () => {
  const catchErr = (fn: () => unknown): JobArgError => {
    try {
      fn();
    } catch (e) {
      return e as JobArgError;
    }
    throw new Error('did not throw');
  };

  it('requiredString / optionalString', () => {
    expect(requiredString({ a: 'x' }, 'a')).toBe('x');
    expect(catchErr(() => requiredString({}, 'a')).message).toBe(
      'arg a: must be a non-empty string (it is missing)',
    );
    expect(optionalString({ a: '' }, 'a')).toBeUndefined();
    expect(optionalString({ a: null }, 'a')).toBeUndefined();
    expect(catchErr(() => optionalString({ a: 1 }, 'a')).arg).toBe('a');
  });

  it('requiredMillis / optionalMillis', () => {
    expect(requiredMillis({ d: '3s' }, 'd')).toBe(3000);
    expect(optionalMillis({}, 'd', 7)).toBe(7);
    expect(catchErr(() => requiredMillis({ d: 'x' }, 'd')).message).toContain('arg d: must be a duration');
  });

  it('optionalCount', () => {
    expect(optionalCount({ n: '12' }, 'n', 0)).toBe(12);
    expect(optionalCount({}, 'n', 3)).toBe(3);
    expect(catchErr(() => optionalCount({ n: 1.5 }, 'n', 0)).message).toBe(
      'arg n: must be a non-negative integer, got 1.5',
    );
  });

  it('optionalStringList / optionalStringMap', () => {
    // A string is one entry, never split on whitespace.
    expect(optionalStringList({ l: ' a  b\tc\n' }, 'l')).toEqual([' a  b\tc\n']);
    expect(optionalStringList({ l: ['a b'] }, 'l')).toEqual(['a b']);
    expect(optionalStringList({}, 'l')).toEqual([]);
    expect(optionalStringMap({ m: { a: 'b' } }, 'm')).toEqual({ a: 'b' });
    expect(catchErr(() => optionalStringMap({ m: ['x'] }, 'm')).arg).toBe('m');
  });

  it('describeValue keeps messages short', () => {
    expect(describeValue('x'.repeat(500)).length).toBe(100);
    expect(describeValue(12n)).toBe('12');
  });
});
