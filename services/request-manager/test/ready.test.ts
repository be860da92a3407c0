/**
 * `GET /ready` of an in-process RM (SQLite): 200 while serving, 503 with the
 * standard error body once it drains; the database check is shared and bounded.
 * The MariaDB-unreachable case runs against real processes in test/ha/readiness.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DbCheck } from '../src/ready.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

let t: TestRm | undefined;
afterAll(async () => {
  await t?.close();
});

describe('GET /ready (in-process RM on SQLite)', () => {
  it('200 OK while serving; 503 naming the drain once shutdown began; /health stays 200', async () => {
    t = await startTestRm({ db: 'sqlite', jrUrl: 'http://127.0.0.1:9' });
    const ready = await fetch(`${t.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('OK');

    t.rm.beginDrain();
    const draining = await call(t.url, 'GET', '/ready');
    expect(draining.status).toBe(503);
    expect(draining.json).toEqual({
      message: 'not ready: Request Manager is shutting down - no new requests are being started',
      requestId: '',
      httpStatus: 503,
    });
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });
});

describe('DbCheck', () => {
  it('callers within the cache time share one ping', async () => {
    let pings = 0;
    const check = new DbCheck(async () => {
      pings++;
    }, 60_000);
    expect(await Promise.all([check.check(), check.check()])).toEqual([undefined, undefined]);
    expect(await check.check()).toBeUndefined();
    expect(pings).toBe(1);
  });

  it('a database that does not answer counts as unreachable; a refusal is named by its code', async () => {
    const hanging = new DbCheck(() => new Promise(() => undefined), 0, 20);
    expect(await hanging.check()).toBe('no answer within 20 ms');
    const refused = new DbCheck(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:3306 (user secret)'), {
        code: 'ECONNREFUSED',
      });
    }, 0);
    expect(await refused.check()).toBe('ECONNREFUSED');
  });
});
