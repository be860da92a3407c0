/**
 * Bounded work per call at the RM's edge, on a real RM over HTTP: body limits
 * per route (user calls small, Job Runner calls large), finishes with
 * impossible times, a Job Runner's bad status/running answer, the per-user
 * create rate limit, and a store patch with an undefined value.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBuckets } from '../src/rate-limit.js';
import { RequestStore } from '../src/stores/request-store.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

describe('RM limits', () => {
  let jr: FakeJr;
  let t: TestRm;
  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({ db: 'sqlite', jrUrl: jr.url });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('a user call over server.body_limit (1 MiB) is a 413; a Job Runner call of that size is taken', async () => {
    const pad = 'x'.repeat(2 * 1024 * 1024);
    const create = await call(t.url, 'POST', '/api/v1/requests', { type: 'no-args', args: {}, pad });
    expect(create.status).toBe(413);
    expect(create.json).toEqual({
      message: 'request body too large: over the limit of 1048576 bytes',
      requestId: '',
      httpStatus: 413,
    });
    expect(await t.client.findRequests()).toEqual([]);
    // The same size on an internal route (server.internal_body_limit, 64 MiB) reaches the route.
    const id = (await t.client.createRequest('no-args')).id;
    const progress = await call(t.url, 'PUT', `/api/v1/requests/${id}/progress`, {
      requestId: id,
      finishedJobs: 1,
      pad,
    });
    expect(progress.status).toBe(200);
  });

  it('a finish with an impossible finishedAt is a 400 naming the field, and the request stays RUNNING', async () => {
    const id = (await t.client.createRequest('no-args')).id;
    for (const finishedAt of [
      '2024-13-01T00:00:00Z',
      '2024-01-32T00:00:00Z',
      '2024-01-01T25:00:00Z',
      '2023-02-29T10:00:00Z',
    ]) {
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, {
        requestId: id,
        state: State.COMPLETE,
        finishedAt,
        finishedJobs: 1,
      });
      expect(res.status, finishedAt).toBe(400);
      expect((res.json as { message: string }).message).toBe(
        `invalid FinishRequest: field 'finishedAt': finishedAt must be an RFC 3339 time, got '${finishedAt}'`,
      );
    }
    expect(await t.client.getRequest(id)).toMatchObject({ state: State.RUNNING, finishedAt: null });
  });

  it('a store patch with an undefined value throws instead of skipping the column', async () => {
    const id = (await t.client.createRequest('no-args')).id;
    const store = new RequestStore(t.rm.db);
    await expect(
      (async () =>
        store.transition(id, State.RUNNING, {
          state: State.COMPLETE,
          finished_at: undefined,
          jr_url: null,
        }))(),
    ).rejects.toThrow('patch of column finished_at is undefined');
    expect(await t.client.getRequest(id)).toMatchObject({ state: State.RUNNING });
  });
});

describe('GET /api/v1/status/running with a Job Runner that answers garbage', () => {
  let answer: { status: number; body: string };
  let garbage: http.Server;
  let garbageUrl = '';
  let t: TestRm;
  beforeAll(async () => {
    // A Job Runner that takes chains and answers status/running with whatever `answer` says.
    garbage = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST')
          res.writeHead(200, { Location: `${garbageUrl}/api/v1/job-chains/x` }).end();
        else res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
    garbageUrl = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
    t = await startTestRm({ db: 'sqlite', jrUrl: garbageUrl, overrides: { 'jr_client.timeout': '2s' } });
    await t.client.createRequest('no-args');
  });
  afterAll(async () => {
    await t?.close();
    garbage.closeAllConnections();
    garbage.close();
  });

  it.each([
    ['text that is not JSON', 200, 'hello, I am not JSON', /not a JSON list of running jobs/],
    ['an object instead of a list', 200, '{"jobs":[]}', /not a JSON list of running jobs/],
    ['a list of nulls', 200, '[null]', /jobs\[0\]: not an object/],
    ['jobs without a request id', 200, '[{"jobId":"a","startedAt":1}]', /jobs\[0\]: field 'requestId'/],
    [
      'a start time that is no number',
      200,
      '[{"requestId":"r","jobId":"a","startedAt":"soon"}]',
      /field 'startedAt'/,
    ],
    ['an HTTP 500', 500, '{"message":"boom"}', /HTTP 500: boom/],
  ])('%s: 502 naming the Job Runner', async (_what, status, body, why) => {
    answer = { status, body };
    const res = await call(t.url, 'GET', '/api/v1/status/running');
    expect(res.status).toBe(502);
    const err = res.json as { message: string; requestId: string; httpStatus: number };
    expect(err).toMatchObject({ requestId: '', httpStatus: 502 });
    expect(err.message).toContain(`Job Runner ${garbageUrl} answered status/running wrongly: `);
    expect(err.message).toMatch(why);
  });
});

describe('limits.create_rate', () => {
  let jr: FakeJr;
  let t: TestRm;
  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({
      db: 'sqlite',
      jrUrl: jr.url,
      overrides: { 'limits.create_rate': '1/h', 'limits.create_burst': 2 },
      authenticator: { authenticate: (req) => ({ name: String(req.headers['x-user'] ?? ''), roles: [] }) },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('answers 429 with Retry-After once a user used its burst; other users and other calls go on', async () => {
    const create = (user: string) =>
      call(t.url, 'POST', '/api/v1/requests', { type: 'no-args', args: {} }, { 'x-user': user });
    expect((await create('ann')).status).toBe(201);
    expect((await create('ann')).status).toBe(201);
    const refused = await create('ann');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(refused.json).toEqual({
      message: expect.stringMatching(
        /^too many requests created \(limits\.create_rate\): try again in \d+ s$/,
      ),
      requestId: '',
      httpStatus: 429,
    });
    expect((await create('bob')).status).toBe(201);
    expect((await call(t.url, 'GET', '/api/v1/requests', undefined, { 'x-user': 'ann' })).status).toBe(200);
    expect((await t.client.findRequests({ user: 'ann' })).length).toBe(2);
  });
});

describe('TokenBuckets', () => {
  it('refills at the rate up to the burst and keeps at most maxUsers buckets', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 2, burst: 2 }, 3, () => now);
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 0]);
    expect(buckets.take('a')).toBe(0.5);
    now += 500;
    expect(buckets.take('a')).toBe(0);
    now += 10_000;
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0.5]);
    for (const u of ['b', 'c', 'd', 'e']) buckets.take(u);
    expect(buckets.size).toBe(3);
  });
});
