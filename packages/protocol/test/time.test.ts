import { describe, expect, it } from 'vitest';
import { parseRfc3339, toRfc3339 } from '../src/time.js';

describe('parseRfc3339', () => {
  it('reads RFC 3339 times: UTC, offsets, fractions, a space for T', () => {
    expect(parseRfc3339('2019-04-02T18:39:26Z')?.toISOString()).toBe('2019-04-02T18:39:26.000Z');
    expect(parseRfc3339('2019-04-02T18:39:26.5z')?.toISOString()).toBe('2019-04-02T18:39:26.500Z');
    expect(parseRfc3339('2019-04-02T18:39:26.123456789Z')?.toISOString()).toBe('2019-04-02T18:39:26.123Z');
    expect(parseRfc3339('2019-04-02t20:09:26+01:30')?.toISOString()).toBe('2019-04-02T18:39:26.000Z');
    expect(parseRfc3339('2019-04-02 13:39:26-05:00')?.toISOString()).toBe('2019-04-02T18:39:26.000Z');
    expect(parseRfc3339('2020-02-29T00:00:00Z')?.toISOString()).toBe('2020-02-29T00:00:00.000Z');
    expect(parseRfc3339('2000-02-29T00:00:00Z')?.toISOString()).toBe('2000-02-29T00:00:00.000Z');
    expect(parseRfc3339('0099-01-01T00:00:00Z')?.getUTCFullYear()).toBe(99);
    // A leap second: the last millisecond of its minute.
    expect(parseRfc3339('2016-12-31T23:59:60Z')?.toISOString()).toBe('2016-12-31T23:59:59.999Z');
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect(parseRfc3339(toRfc3339(now))?.getTime()).toBe(now.getTime());
  });

  it('refuses impossible dates and times instead of rolling them over', () => {
    for (const bad of [
      '2020-13-01T00:00:00Z',
      '2020-00-10T00:00:00Z',
      '2020-01-32T00:00:00Z',
      '2020-01-00T00:00:00Z',
      '2020-02-30T00:00:00Z',
      '2021-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2020-04-31T00:00:00Z',
      '2020-01-01T24:00:00Z',
      '2020-01-01T25:00:00Z',
      '2020-01-01T12:60:00Z',
      '2020-01-01T12:00:61Z',
      '2020-01-01T12:00:00+24:00',
      '2020-01-01T12:00:00+01:60',
      '2020-01-01T12:00:00',
      '2020-01-01',
      'yesterday',
    ])
      expect(parseRfc3339(bad), bad).toBeUndefined();
  });
});
