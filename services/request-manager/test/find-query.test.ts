import { State, ValidationError } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { encodeFindCursor, FIND_DEFAULT_LIMIT, nextPagePath, parseFindQuery } from '../src/find-query.js';

describe('parseFindQuery', () => {
  it('reads every filter', () => {
    const f = parseFindQuery(
      'type=test&user=bob&state=RUNNING&state=COMPLETE,FAIL&arg=host%3Da%3Db&arg=env=prod&since=2024-01-01T00:00:00.5Z&until=2024-02-01T00:00:00%2B02:00&limit=10&offset=20',
    );
    expect(f).toEqual({
      type: 'test',
      user: 'bob',
      states: [State.RUNNING, State.COMPLETE, State.FAIL],
      args: { host: 'a=b', env: 'prod' },
      since: new Date('2024-01-01T00:00:00.500Z'),
      until: new Date('2024-01-31T22:00:00Z'),
      limit: 10,
      offset: 20,
    });
  });

  it('is empty for no query; offset works alone; empty values are ignored; for duplicate args the last wins', () => {
    const limit = FIND_DEFAULT_LIMIT;
    expect(parseFindQuery('')).toEqual({ limit });
    expect(parseFindQuery('offset=5')).toEqual({ offset: 5, limit });
    expect(parseFindQuery('since=&limit=')).toEqual({ limit });
    expect(parseFindQuery('arg=a=1&arg=a=2')).toEqual({ args: { a: '2' }, limit });
    expect(parseFindQuery('arg=a=')).toEqual({ args: { a: '' }, limit });
    expect(parseFindQuery('user=')).toEqual({ user: '', limit });
  });

  it('pages: limit defaults to 100 (also for 0), at most 1000; a cursor from encodeFindCursor reads back', () => {
    expect(FIND_DEFAULT_LIMIT).toBe(100);
    expect(parseFindQuery('limit=0')).toEqual({ limit: 100 });
    expect(parseFindQuery('limit=1000')).toEqual({ limit: 1000 });
    const after = { createdAt: new Date('2024-05-01T12:00:00.123Z'), id: 'd0abc9q8m5lu2r8b0pug' };
    expect(parseFindQuery(`cursor=${encodeFindCursor(after)}&limit=5`)).toEqual({ after, limit: 5 });
    expect(nextPagePath('/api/v1/requests', 'type=t&offset=10&limit=5', 'CUR')).toBe(
      '/api/v1/requests?type=t&limit=5&cursor=CUR',
    );
  });

  it.each([
    ['state=running', /invalid 'state' parameter: "running" is not a valid state name/],
    ['state=RUNNING,', /invalid 'state' parameter/],
    ['arg=x', /invalid 'arg' parameter: 'x' does not match expected format key=value/],
    ['arg==v', /invalid 'arg' parameter/],
    ['since=2024-01-01', /invalid 'since' parameter/],
    ['until=now', /invalid 'until' parameter/],
    ['limit=-1', /invalid 'limit' parameter/],
    ['limit=1e3', /invalid 'limit' parameter/],
    ['offset=99999999999999999999', /invalid 'offset' parameter/],
    ['limit=1001', /^invalid 'limit' parameter: 1001 is over the maximum of 1000; page with 'cursor'$/],
    ['cursor=nope', /invalid 'cursor' parameter: "nope" is not a cursor this API gave/],
    ['cursor=a%20b', /invalid 'cursor' parameter/],
    [
      `cursor=${Buffer.from('2024-01-01T00:00:00Z x').toString('base64url')}&offset=3`,
      /invalid 'cursor' parameter: cannot be combined with 'offset'/,
    ],
  ])('%s is a 400 naming the parameter', (q, msg) => {
    expect(() => parseFindQuery(q)).toThrow(ValidationError);
    expect(() => parseFindQuery(q)).toThrow(msg);
  });
});
