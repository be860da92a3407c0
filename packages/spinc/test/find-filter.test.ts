import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { parseFilterTime, parseFindFilters } from '../src/find-filter.js';

describe('parseFindFilters', () => {
  it('defaults: limit 10, UTC', () => {
    expect(parseFindFilters([])).toEqual({ filter: { limit: 10 }, timezone: 'utc' });
  });
  it('cursor: the next page; not with offset', () => {
    expect(parseFindFilters(['cursor=abc_-1', 'limit=3']).filter).toEqual({ limit: 3, cursor: 'abc_-1' });
    expect(() => parseFindFilters(['cursor=abc', 'offset=2'])).toThrow(
      new UsageError('Invalid cursor: cannot be combined with offset'),
    );
  });
  it('parses every filter', () => {
    const q = parseFindFilters([
      'type=deploy',
      'states=running,Pending',
      'user=bob',
      'args=env=prod,cluster=a=b',
      'since=2024-05-01T12:00:00Z',
      'until=2024-05-02 00:00:00 UTC',
      'limit=0',
      'offset=20',
      'timezone=local',
    ]);
    expect(q.timezone).toBe('local');
    expect(q.filter).toEqual({
      type: 'deploy',
      states: ['RUNNING', 'PENDING'],
      user: 'bob',
      args: { env: 'prod', cluster: 'a=b' },
      since: new Date('2024-05-01T12:00:00Z'),
      until: new Date('2024-05-02T00:00:00Z'),
      limit: 0,
      offset: 20,
    });
  });
  it('rejects mistakes with the original messages, as usage errors', () => {
    const cases: [string[], RegExp][] = [
      [['type'], /Invalid command arg type: expected arg of form filter=value/],
      [['=x'], /Invalid command arg =x/],
      [['colour=red'], /Invalid arg 'colour'/],
      [['type=a', 'type=b'], /Filter 'type' specified multiple times/],
      [['states=RUNNING,sleepy'], /Invalid state 'sleepy', expected one of: UNKNOWN, PENDING, RUNNING/],
      [['args=novalue'], /Invalid request arg 'novalue': expected format key1=value1,key2=value2/],
      [['since=yesterday'], /Invalid time yesterday/],
      [['until=2024-13-01T00:00:00Z'], /Invalid time/],
      [['limit=-1'], /Invalid limit '-1', expected value >= 0/],
      [['offset=abc'], /Invalid offset 'abc', expected value >= 0/],
      [['timezone=mars'], /Invalid timezone 'mars'/],
    ];
    for (const [tokens, re] of cases) {
      expect(() => parseFindFilters(tokens), tokens.join(' ')).toThrow(UsageError);
      expect(() => parseFindFilters(tokens), tokens.join(' ')).toThrow(re);
    }
  });
});

describe('parseFilterTime', () => {
  it('accepts ISO 8601 with zone, the original format, and zone-less times in the chosen zone', () => {
    expect(parseFilterTime('2024-05-01T12:00:00Z', 'utc')?.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseFilterTime('2024-05-01T14:00:00+02:00', 'utc')?.toISOString()).toBe(
      '2024-05-01T12:00:00.000Z',
    );
    expect(parseFilterTime('2024-05-01T14:00:00+0200', 'utc')?.toISOString()).toBe(
      '2024-05-01T12:00:00.000Z',
    );
    expect(parseFilterTime('2024-05-01T12:00:00.250Z', 'utc')?.toISOString()).toBe(
      '2024-05-01T12:00:00.250Z',
    );
    expect(parseFilterTime('2024-05-01 12:00:00 UTC', 'utc')?.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseFilterTime('2024-05-01', 'utc')?.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseFilterTime('2024-05-01T12:30', 'utc')?.toISOString()).toBe('2024-05-01T12:30:00.000Z');
  });
  it('rejects nonsense and impossible dates', () => {
    for (const bad of ['', 'now', '2024-02-31', '2024-05-01T25:00:00Z', '2024-05-01Z', '05/01/2024']) {
      expect(parseFilterTime(bad, 'utc'), bad).toBeUndefined();
    }
  });
});
