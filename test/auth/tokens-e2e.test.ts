/**
 * Auth end to end on MariaDB: real RM and JR processes configured by files and
 * environment alone (static tokens + HS256 JWTs for users, admin roles, the
 * specs' ACLs, the shared internal token for the JR), then spinc with a token.
 */
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceProcess } from '../support/system.js';
import {
  type AuthFiles,
  as,
  bearer,
  http,
  INTERNAL_TOKEN,
  jwt,
  messageOf,
  nowSec,
  spinc,
  startWithAuth,
  tokenOf,
  until,
  writeAuthFiles,
} from './support/auth.js';

const ID = /([0-9a-v]{20})/;
let rm: ServiceProcess;
let jr: ServiceProcess;
let files: AuthFiles;

const get = (path: string, user = 'dev') => http(rm.url, 'GET', path, undefined, as(user));
const create = (user: string, type: string, args: Record<string, unknown> = {}) =>
  http(rm.url, 'POST', '/api/v1/requests', { type, args }, as(user));
const stateOf = async (id: string) => ((await get(`/api/v1/requests/${id}`)).json as { state: number }).state;
const finalState = (id: string) =>
  until(`request ${id} to end`, async () => {
    const s = await stateOf(id);
    return ([State.COMPLETE, State.FAIL, State.STOPPED] as number[]).includes(s) ? s : undefined;
  });

beforeAll(async () => {
  files = writeAuthFiles();
  ({ rm, jr } = await startWithAuth({ db: 'mysql', files }));
});

afterAll(async () => {
  await jr?.stop();
  await rm?.stop();
});

describe('RM and JR with tokens', () => {
  it('a request runs end to end: the JR authenticates its job logs, progress and finish with the internal token', async () => {
    const res = await create('dep', 'deploy', { app: 'web' });
    expect(res.status).toBe(201);
    const id = (res.json as { id: string }).id;
    expect(await finalState(id)).toBe(State.COMPLETE);
    const req = (await get(`/api/v1/requests/${id}`)).json as {
      user: string;
      finishedJobs: number;
      totalJobs: number;
    };
    expect(req.user).toBe('dep');
    expect(req.finishedJobs).toBe(req.totalJobs);
    const logs = (await get(`/api/v1/requests/${id}/log`)).json as Array<{ name: string; state: number }>;
    expect(logs.length).toBe(req.totalJobs);
    const mine = logs.filter((l) => l.name === 'first' || l.name === 'nap');
    expect(mine.map((l) => [l.name, l.state]).sort()).toEqual([
      ['first', State.COMPLETE],
      ['nap', State.COMPLETE],
    ]);
    expect(rm.log).not.toMatch(/"level":"error"/);
  });

  it('users, even admins, get 401 on the internal endpoints the JR uses', async () => {
    const id = ((await create('dep', 'deploy', { app: 'api', ms: '2000' })).json as { id: string }).id;
    const finish = {
      requestId: id,
      state: State.COMPLETE,
      finishedAt: new Date().toISOString(),
      finishedJobs: 2,
    };
    for (const user of ['dev', 'root']) {
      for (const [method, path, body] of [
        ['PUT', `/api/v1/requests/${id}/finish`, finish],
        ['PUT', `/api/v1/requests/${id}/progress`, { requestId: id, finishedJobs: 1 }],
        ['PUT', `/api/v1/requests/${id}/suspend`, { requestId: id }],
        ['POST', `/api/v1/requests/${id}/log`, {}],
        ['POST', '/api/v1/job-logs', []],
        ['POST', '/api/v1/internal/reports', { logs: [], progress: [], finishes: [finish] }],
      ] as const) {
        const a = await http(rm.url, method, path, body, as(user));
        expect([user, path, a.status, messageOf(a)]).toEqual([
          user,
          path,
          401,
          'this endpoint is for Job Runners: internal token or client certificate required',
        ]);
      }
    }
    expect(await stateOf(id)).toBe(State.RUNNING);
    // The JR's token opens them (and only them).
    const jrHeaders = { 'X-Spincycle-Internal-Token': INTERNAL_TOKEN };
    expect((await http(rm.url, 'GET', `/api/v1/requests/${id}`, undefined, jrHeaders)).status).toBe(401);
    expect((await http(rm.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as('root'))).status).toBe(
      200,
    );
    expect(await finalState(id)).toBe(State.STOPPED);
  });

  it('the JR takes calls only from the RM: a chain posted without the internal token is refused', async () => {
    const chain = {
      requestId: 'x'.repeat(20),
      jobs: {},
      adjacencyList: {},
      state: State.PENDING,
      finishedJobs: 0,
    };
    for (const headers of [{}, as('root')]) {
      const post = await http(jr.url, 'POST', '/api/v1/job-chains', chain, headers);
      expect([post.status, messageOf(post)]).toEqual([
        401,
        'this Job Runner takes calls from Request Managers only: internal token required',
      ]);
    }
    const status = await http(jr.url, 'GET', '/api/v1/status/running', undefined, {
      'X-Spincycle-Internal-Token': INTERNAL_TOKEN,
    });
    expect(status.status).toBe(200);
    // The RM sends it: status/running through the RM reaches the JR.
    const viaRm = (await get('/api/v1/status/running')).json as { unreachable?: unknown[] };
    expect(viaRm.unreachable ?? []).toEqual([]);
  });

  it('JWT users: good token, bad signature, expired, no credentials', async () => {
    const good = jwt({ sub: 'jwt-user', roles: ['deployer'], exp: nowSec() + 60 });
    const res = await http(
      rm.url,
      'POST',
      '/api/v1/requests',
      { type: 'deploy', args: { app: 'j' } },
      bearer(good),
    );
    expect(res.status).toBe(201);
    expect((res.json as { user: string }).user).toBe('jwt-user');
    const forged = jwt(
      { sub: 'jwt-user', roles: ['platform'], exp: nowSec() + 60 },
      'another-secret-of-at-least-32-bytes!!',
    );
    const bad = await http(rm.url, 'GET', '/api/v1/requests', undefined, bearer(forged));
    expect([bad.status, messageOf(bad)]).toEqual([401, 'invalid token: bad signature']);
    const expired = await http(
      rm.url,
      'GET',
      '/api/v1/requests',
      undefined,
      bearer(jwt({ sub: 'x', exp: nowSec() - 5 })),
    );
    expect([expired.status, messageOf(expired)]).toEqual([401, 'token expired']);
    const none = await http(rm.url, 'GET', '/api/v1/requests');
    expect([none.status, messageOf(none)]).toEqual([
      401,
      'missing credentials: send Authorization: Bearer <token>',
    ]);
    // A JWT user without a matching role is denied by the ACL, nothing stored.
    const before = ((await get('/api/v1/requests?limit=0')).json as unknown[]).length;
    const denied = await http(
      rm.url,
      'POST',
      '/api/v1/requests',
      { type: 'deploy', args: { app: 'j' } },
      bearer(jwt({ sub: 'eve', roles: ['intern'], exp: nowSec() + 60 })),
    );
    expect([denied.status, messageOf(denied)]).toEqual([
      401,
      'denied: no caller role matches deploy ACL: caller has [intern], deploy requires one of [platform deployer starter dev]',
    ]);
    expect(((await get('/api/v1/requests?limit=0')).json as unknown[]).length).toBe(before);
  });

  it('find user= lists what a user created', async () => {
    const id = ((await create('starter', 'deploy', { app: 'mine' })).json as { id: string }).id;
    const list = (await get('/api/v1/requests?user=starter&limit=0')).json as Array<{
      id: string;
      user: string;
    }>;
    expect(list.map((r) => r.id)).toContain(id);
    expect(list.every((r) => r.user === 'starter')).toBe(true);
  });
});

describe('spinc with a token', () => {
  const env = (user?: string) => ({ SPINC_ADDR: rm.url, ...(user ? { SPINC_TOKEN: tokenOf(user) } : {}) });

  it('start --wait exits 0 on COMPLETE; the request is recorded as the token user', async () => {
    const r = await spinc(['start', 'deploy', 'app=cli', '--wait'], env('dep'));
    expect([r.code, r.stderr]).toEqual([0, '']);
    const id = ID.exec(r.stdout)?.[1] as string;
    expect(r.stdout).toContain(`${id} COMPLETE`);
    const found = await spinc(['find', 'user=dep', 'limit=0', '--json'], env('dev'));
    expect((JSON.parse(found.stdout) as Array<{ id: string }>).map((x) => x.id)).toContain(id);
  });

  it('--wait exits 4 on FAIL and 5 on STOPPED (stopped by another spinc with a token)', async () => {
    expect((await spinc(['start', 'broken', '--wait'], env('dep'))).code).toBe(4);
    const started = await spinc(['start', 'deploy', 'app=slow', 'ms=20000', '--json'], env('starter'));
    expect(started.code).toBe(0);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    const waiting = spinc(['wait', id], env('dev'));
    // dev may read but not stop deploy (starter, who started it, could: owners may stop their requests).
    const denied = await spinc(['stop', id], env('dev'));
    expect([denied.code, denied.stderr.trim()]).toEqual([
      1,
      'spinc: API error: denied: no matching caller role granted stop op for request deploy (HTTP status 401)',
    ]);
    const stop = await spinc(['stop', id], env('dep'));
    expect([stop.code, stop.stdout.trim()]).toEqual([0, `OK, stopped ${id}`]);
    expect((await waiting).code).toBe(5);
  });

  it('a denied start exits 1 with the reason and creates nothing; no token is a 401 too', async () => {
    const before = ((await get('/api/v1/requests?type=deploy&limit=0')).json as unknown[]).length;
    const denied = await spinc(['start', 'deploy', 'app=x', '--wait'], env('intern'));
    expect([denied.code, denied.stdout, denied.stderr.trim()]).toEqual([
      1,
      '',
      'spinc: API error: denied: no caller role matches deploy ACL: caller has [intern], deploy requires one of [platform deployer starter dev] (HTTP status 401)',
    ]);
    const anonymous = await spinc(['find'], env());
    expect([anonymous.code, anonymous.stderr.trim()]).toEqual([
      1,
      'spinc: API error: missing credentials: send Authorization: Bearer <token> (HTTP status 401)',
    ]);
    const wrong = await spinc(['status', 'x'], { ...env(), SPINC_TOKEN: 'nope' });
    expect([wrong.code, wrong.stderr.trim()]).toEqual([
      1,
      'spinc: API error: invalid token (HTTP status 401)',
    ]);
    expect(((await get('/api/v1/requests?type=deploy&limit=0')).json as unknown[]).length).toBe(before);
  });
});
