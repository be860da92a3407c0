import { State } from '@spincycle/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatSeconds,
  formatTime,
  labelled,
  nanosTime,
  progressPercent,
  shorten,
  table,
  toJson,
  wireTime,
} from '../src/output.js';

const savedTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = savedTz;
});

describe('times', () => {
  const d = new Date('2019-04-02T18:39:26.123Z');
  it('ISO 8601 in UTC, to the second or millisecond', () => {
    expect(formatTime(d)).toBe('2019-04-02T18:39:26Z');
    expect(formatTime(d, 'utc', true)).toBe('2019-04-02T18:39:26.123Z');
  });
  it('local time with its offset', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(formatTime(d, 'local')).toBe('2019-04-03T00:09:26+05:30');
    process.env.TZ = 'America/New_York';
    expect(formatTime(d, 'local')).toBe('2019-04-02T14:39:26-04:00');
    process.env.TZ = 'UTC';
    expect(formatTime(d, 'local')).toBe('2019-04-02T18:39:26Z');
  });
  it('wire times: null, empty and the Go zero time are unset', () => {
    expect(wireTime(null)).toBeUndefined();
    expect(wireTime('')).toBeUndefined();
    expect(wireTime('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(wireTime('2019-04-02T18:39:26.123456Z')?.toISOString()).toBe('2019-04-02T18:39:26.123Z');
    expect(nanosTime(0)).toBeUndefined();
    expect(nanosTime(1554230366094196500n)?.toISOString()).toBe('2019-04-02T18:39:26.094Z');
  });
});

describe('durations', () => {
  it('Go style, rounded to seconds', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(499)).toBe('0s');
    expect(formatDuration(500)).toBe('1s');
    expect(formatDuration(59_000)).toBe('59s');
    expect(formatDuration(60_000)).toBe('1m0s');
    expect(formatDuration(3_723_000)).toBe('1h2m3s');
    expect(formatDuration(7_199_400)).toBe('1h59m59s');
    expect(formatDuration(-5000)).toBe('0s');
    expect(formatDuration(Number.NaN)).toBe('0s');
  });
  it('seconds with 6 decimals for job runtimes', () => {
    expect(formatSeconds(1_000_595_300n)).toBe('1.000595s');
    expect(formatSeconds(0n)).toBe('0.000000s');
    expect(formatSeconds(-3n)).toBe('0.000000s');
  });
});

describe('progressPercent never NaN', () => {
  it('0 jobs: 100% once finished, else 0%', () => {
    expect(progressPercent(0, 0, State.COMPLETE)).toBe(100);
    expect(progressPercent(0, 0, State.FAIL)).toBe(100);
    expect(progressPercent(0, 0, State.RUNNING)).toBe(0);
    expect(progressPercent(0, 0, State.PENDING)).toBe(0);
  });
  it('rounds and clamps', () => {
    expect(progressPercent(1, 9, State.RUNNING)).toBe(11);
    expect(progressPercent(2, 3, State.RUNNING)).toBe(67);
    expect(progressPercent(5, 4, State.RUNNING)).toBe(100);
    expect(progressPercent(-1, 4, State.RUNNING)).toBe(0);
    expect(progressPercent(Number.NaN, 4, State.RUNNING)).toBe(0);
    expect(progressPercent(1, Number.NaN, State.RUNNING)).toBe(0);
  });
});

describe('shorten', () => {
  it('cuts the middle with ..', () => {
    expect(shorten('short', 10)).toBe('short');
    expect(shorten('abcdefghijkl', 9)).toBe('abcd..jkl');
    expect(shorten('abcdefghijkl', 10)).toBe('abcd..ijkl');
    expect(shorten('abcdefghijkl', 3)).toBe('a..');
    expect(shorten('abcdefghijkl', 2)).toBe('ab');
    expect(shorten('abcdefghijkl', 12)).toBe('abcdefghijkl');
    expect(shorten('abcdefghijkl', 9)).toHaveLength(9);
  });
});

describe('table', () => {
  it('aligns columns, right-aligns where asked, shortens long values, leaves the last column unpadded', () => {
    const lines = table(
      [{ header: 'NAME', max: 6 }, { header: 'N', align: 'right' }, { header: 'NOTE' }],
      [
        ['a', '1', 'x'],
        ['verylongname', '100', 'long note'],
      ],
    );
    expect(lines).toEqual(['NAME     N NOTE', 'a        1 x', 've..me 100 long note']);
  });
  it('labelled right-aligns labels to 8', () => {
    expect(
      labelled([
        ['state', 'RUNNING'],
        ['progress', '5%'],
        ['args', ''],
      ]),
    ).toEqual(['   state: RUNNING', 'progress: 5%', '    args:']);
  });
});

describe('toJson', () => {
  it('writes bigints as exact integers', () => {
    expect(toJson({ t: 1554230366094196500n, n: [1] })).toBe(
      '{\n  "t": 1554230366094196500,\n  "n": [\n    1\n  ]\n}',
    );
    expect(toJson(undefined)).toBe('null');
  });
});
