import { State, ValidationError } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { parseFindQuery } from '../src/find-query.js';

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
    expect(parseFindQuery('')).toEqual({});
    expect(parseFindQuery('offset=5')).toEqual({ offset: 5 });
    expect(parseFindQuery('since=&limit=')).toEqual({});
    expect(parseFindQuery('arg=a=1&arg=a=2')).toEqual({ args: { a: '2' } });
    expect(parseFindQuery('arg=a=')).toEqual({ args: { a: '' } });
    expect(parseFindQuery('user=')).toEqual({ user: '' });
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
  ])('%s is a 400 naming the parameter', (q, msg) => {
    expect(() => parseFindQuery(q)).toThrow(ValidationError);
    expect(() => parseFindQuery(q)).toThrow(msg);
  });
});
