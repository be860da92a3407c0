/**
 * Auth over real HTTP with an in-process RM configured by `auth.*` keys alone
 * (static tokens, admin roles, the specs' ACLs, the internal token), on SQLite
 * and MariaDB, with a fake JR: every ACL case as an API answer, nothing stored
 * on a denial, the user recorded and findable, internal routes closed to users
 * (whatever the path's spelling) and open to the internal token.
 */
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, jrCreds, authFiles as makeAuthFiles } from './support/auth.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, FIXTURES, startTestRm, type TestRm } from './support/rm.js';

const USERS: Record<string, string[]> = {
  root: ['sre'], // auth.admin_roles
  plat: ['platform'], // deploy's ACL admin
  dep: ['deployer'], // start, stop, retry
  starter: ['starter'], // start only
  dev: ['dev'], // nothing
};
const authFiles = () => makeAuthFiles(USERS);

async function countRequests(t: TestRm): Promise<number> {
  const [row] = (await t.rm.db.ds.query('SELECT COUNT(*) AS n FROM requests')) as Array<{
    n: number | string;
  }>;
  return Number(row?.n);
}

describe.each(DB_KINDS)('auth over HTTP on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;
  const create = (
    user: string | undefined,
    type = 'deploy',
    args: Record<string, unknown> = { app: 'web' },
  ) => call(t.url, 'POST', '/api/v1/requests', { type, args }, user ? as(user) : {});

  beforeAll(async () => {
    jr = await new FakeJr().start();
    jrCreds['X-Spincycle-Job-Runner'] = jr.url;
    // Like a real JR: a stopped chain is reported back as STOPPED, with the internal token.
    jr.onStop = async (id) => {
      const r = await call(
        t.url,
        'PUT',
        `/api/v1/requests/${id}/finish`,
        { requestId: id, state: State.STOPPED, finishedAt: new Date().toISOString(), finishedJobs: 0 },
        jrCreds,
      );
      if (r.status !== 200) throw new Error(`finish: ${r.status} ${r.text}`);
    };
    const files = authFiles();
    t = await startTestRm({
      db: kind,
      jrUrl: jr.url,
      overrides: {
        'specs.dir': join(FIXTURES, 'acl-specs'),
        'auth.tokens_file': files.tokens,
        'auth.internal_token_file': files.internal,
        'auth.admin_roles': ['sre'],
        // The type `open` (no ACLs) is created by anyone authenticated: non-strict behaviour.
        'auth.strict': false,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('missing or unknown credentials: 401 on every /api route; /version and /health stay open', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/requests'],
      ['GET', '/api/v1/request-list'],
      ['GET', '/api/v1/status/running'],
      ['GET', '/api/v1/requests/x'],
      ['GET', '/api/v1/nothing-here'],
    ] as const) {
      const none = await call(t.url, method, path);
      expect([path, none.status, (none.json as { message: string }).message]).toEqual([
        path,
        401,
        'missing credentials: send Authorization: Bearer <token>',
      ]);
      const bad = await call(t.url, method, path, undefined, { Authorization: 'Bearer nope' });
      expect([path, bad.status, (bad.json as { message: string }).message]).toEqual([
        path,
        401,
        'invalid token',
      ]);
    }
    expect((await call(t.url, 'GET', '/version')).text).toBe('2.1.1');
    expect((await call(t.url, 'GET', '/health')).status).toBe(200);
    expect((await call(t.url, 'GET', '/api/v1/request-list', undefined, as('dev'))).status).toBe(200);
  });

  it('an unauthenticated create is refused before its body is read (401, not 413/400)', async () => {
    const res = await call(t.url, 'POST', '/api/v1/requests', '{not json', {
      'Content-Type': 'application/json',
    });
    expect(res.status).toBe(401);
  });

  it('create: admin role, request admin, ops allow; others get 401 with the ACL denial message and nothing is stored', async () => {
    const before = await countRequests(t);
    for (const user of ['root', 'plat', 'dep', 'starter']) {
      const res = await create(user);
      expect([user, res.status]).toEqual([user, 201]);
      expect((res.json as { user: string; state: number }).user).toBe(user);
    }
    const dev = await create('dev');
    expect(dev.status).toBe(401);
    expect(dev.json).toEqual({
      message:
        'denied: no caller role matches deploy ACL: caller has [dev], deploy requires one of [platform deployer starter]',
      requestId: '',
      httpStatus: 401,
    });
    expect(await countRequests(t)).toBe(before + 4);
    // No ACLs, not strict: anyone authenticated.
    expect((await create('dev', 'open', {})).status).toBe(201);
  });

  it('the creator is recorded and findable with user=', async () => {
    const res = await create('starter');
    const id = (res.json as { id: string }).id;
    expect(
      (await t.client.http.call('GET', `/api/v1/requests/${id}`, undefined, { headers: as('dev') })).data,
    ).toMatchObject({ user: 'starter' });
    const found = await call(t.url, 'GET', '/api/v1/requests?user=starter&limit=0', undefined, as('dev'));
    const list = found.json as Array<{ id: string; user: string }>;
    expect(list.map((r) => r.id)).toContain(id);
    expect(new Set(list.map((r) => r.user))).toEqual(new Set(['starter']));
  });

  it('stop: admin role, request admin and deployer may; starter (start only) and dev may not; the JR is not asked', async () => {
    for (const [user, status, message] of [
      ['starter', 401, 'denied: no matching caller role granted stop op for request deploy'],
      [
        'dev',
        401,
        'denied: no caller role matches deploy ACL: caller has [dev], deploy requires one of [platform deployer starter]',
      ],
      ['dep', 200, undefined],
      ['plat', 200, undefined],
      ['root', 200, undefined],
    ] as const) {
      const id = ((await create('dep')).json as { id: string }).id;
      const stops = jr.stops.length;
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as(user));
      expect([user, res.status, (res.json as { message?: string } | undefined)?.message]).toEqual([
        user,
        status,
        message,
      ]);
      const state = (await call(t.url, 'GET', `/api/v1/requests/${id}`, undefined, as('dev'))).json as {
        state: number;
      };
      if (status === 200) {
        expect(jr.stops.slice(stops)).toEqual([id]);
        expect(state.state).toBe(State.STOPPED);
      } else {
        expect(jr.stops.length).toBe(stops);
        expect(state.state).toBe(State.RUNNING);
      }
    }
  });

  it('retry: the retry op as stop; denied callers change nothing, allowed ones send the chain to a JR', async () => {
    for (const [user, status, message] of [
      ['starter', 401, 'denied: no matching caller role granted retry op for request deploy'],
      [
        'dev',
        401,
        'denied: no caller role matches deploy ACL: caller has [dev], deploy requires one of [platform deployer starter]',
      ],
      ['dep', 200, undefined],
      ['root', 200, undefined],
    ] as const) {
      const id = ((await create('dep')).json as { id: string }).id;
      expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as('dep'))).status).toBe(
        200,
      );
      const resumed = jr.resumed.length;
      const res = await call(t.url, 'POST', `/api/v1/requests/${id}/retry`, undefined, as(user));
      expect([user, res.status, (res.json as { message?: string } | undefined)?.message]).toEqual([
        user,
        status,
        message,
      ]);
      const state = (await call(t.url, 'GET', `/api/v1/requests/${id}`, undefined, as('dev'))).json as {
        state: number;
      };
      expect(state.state).toBe(status === 200 ? State.RUNNING : State.STOPPED);
      expect(jr.resumed.slice(resumed).map((s) => s.requestId)).toEqual(status === 200 ? [id] : []);
    }
  });

  it('PUT start is authorized before the state check (401 for dev, 409 for a starter)', async () => {
    const id = ((await create('dep')).json as { id: string }).id;
    const dev = await call(t.url, 'PUT', `/api/v1/requests/${id}/start`, undefined, as('dev'));
    expect(dev.status).toBe(401);
    const starter = await call(t.url, 'PUT', `/api/v1/requests/${id}/start`, undefined, as('starter'));
    expect(starter.status).toBe(409);
  });

  it('users cannot call the internal routes, however the path is spelled; the internal token can', async () => {
    const id = ((await create('dep')).json as { id: string }).id;
    const finish = {
      requestId: id,
      state: State.COMPLETE,
      finishedAt: new Date().toISOString(),
      finishedJobs: 1,
    };
    const progress = { requestId: id, finishedJobs: 1 };
    const log = {
      requestId: id,
      jobId: 'j1',
      try: 1,
      name: 'do',
      type: 'noop',
      startedAt: 1,
      finishedAt: 2,
      state: State.COMPLETE,
      exit: 0,
      error: '',
      stdout: '',
      stderr: '',
    };
    const attempts: Array<[string, string, unknown]> = [
      ['PUT', `/api/v1/requests/${id}/finish`, finish],
      ['PUT', `/api/v1/requests/${id}/finish/`, finish],
      ['PUT', `/API/V1/Requests/${id}/FINISH`, finish],
      ['PUT', `/api/v1/requests/${id}/suspend`, { requestId: id }],
      ['PUT', `/api/v1/requests/${id}/progress`, progress],
      ['POST', `/api/v1/requests/${id}/log`, log],
      ['POST', '/api/v1/job-logs', [log]],
      ['POST', '/api/v1/Job-Logs/', [log]],
      ['PUT', '/api/v1/job-runners/heartbeat', {}],
      ['GET', '/api/v1/internal/anything', undefined],
      ['POST', '/api/v1/internal/reports', { logs: [log], progress: [progress], finishes: [finish] }],
      ['POST', '/API/V1/Internal/Reports/', { logs: [log], progress: [progress], finishes: [finish] }],
    ];
    for (const [method, path, body] of attempts) {
      for (const headers of [
        {},
        as('root'),
        { ...as('root'), 'X-Spincycle-Internal-Token': 'wrong-token-000000000' },
      ]) {
        const res = await call(t.url, method, path, body, headers);
        expect([method, path, res.status]).toEqual([method, path, 401]);
      }
    }
    expect(
      (await t.client.http.call('GET', `/api/v1/requests/${id}/log`, undefined, { headers: as('dev') })).data,
    ).toEqual([]);
    // The JR's credential works, and only on internal routes.
    expect((await call(t.url, 'POST', `/api/v1/requests/${id}/log`, log, jrCreds)).status).toBe(201);
    const report = { logs: [{ ...log, jobId: 'j2' }], progress: [progress], finishes: [] };
    expect((await call(t.url, 'POST', '/api/v1/internal/reports', report, jrCreds)).json).toEqual({
      inserted: 1,
      refused: [],
      finishes: {},
    });
    expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/progress`, progress, jrCreds)).status).toBe(200);
    expect((await call(t.url, 'PUT', `/API/v1/requests/${id}/finish/`, finish, jrCreds)).status).toBe(200);
    expect((await call(t.url, 'GET', `/api/v1/requests/${id}`, undefined, jrCreds)).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/v1/requests', { type: 'open' }, jrCreds)).status).toBe(401);
    const done = (await call(t.url, 'GET', `/api/v1/requests/${id}`, undefined, as('dev'))).json as {
      state: number;
    };
    expect(done.state).toBe(State.COMPLETE);
  });
});

describe('strict mode and an unknown type', () => {
  let jr: FakeJr;
  let t: TestRm;
  beforeAll(async () => {
    jr = await new FakeJr().start();
    const files = authFiles();
    t = await startTestRm({
      db: 'sqlite',
      jrUrl: jr.url,
      overrides: {
        'specs.dir': join(FIXTURES, 'acl-specs'),
        'auth.tokens_file': files.tokens,
        'auth.internal_token_file': files.internal,
        'auth.admin_roles': ['sre'],
        'auth.strict': true,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('strict: a type without ACLs is denied to all but admins; ACL types work as before', async () => {
    const dev = await call(t.url, 'POST', '/api/v1/requests', { type: 'open' }, as('dev'));
    expect(dev.status).toBe(401);
    expect((dev.json as { message: string }).message).toBe(
      'denied: request open has no ACLs and strict auth is enabled',
    );
    expect((await call(t.url, 'POST', '/api/v1/requests', { type: 'open' }, as('dep'))).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/v1/requests', { type: 'open' }, as('root'))).status).toBe(201);
    expect(
      (await call(t.url, 'POST', '/api/v1/requests', { type: 'deploy', args: { app: 'a' } }, as('dep')))
        .status,
    ).toBe(201);
  });

  it('a stored request whose type the specs no longer define: stop denied except for admins (and its owner)', async () => {
    const res = await call(
      t.url,
      'POST',
      '/api/v1/requests',
      { type: 'deploy', args: { app: 'a' } },
      as('plat'),
    );
    const id = (res.json as { id: string }).id;
    await t.rm.db.ds.query(`UPDATE requests SET type = 'retired' WHERE request_id = '${id}'`);
    const stop = await call(t.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as('dep'));
    expect(stop.status).toBe(401);
    expect((stop.json as { message: string }).message).toBe('denied: request retired is not defined');
    expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as('root'))).status).toBe(200);
  });

  it('unknown types are still a 400 on create (checked before authorization)', async () => {
    const res = await call(t.url, 'POST', '/api/v1/requests', { type: 'nope' }, as('dev'));
    expect(res.status).toBe(400);
  });
});
