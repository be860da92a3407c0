/**
 * POST/GET /api/v1/requests, job-chain, request-list and the HTTP edge, with
 * a fake Job Runner, on SQLite and on MariaDB.
 */
import { ApiError, parseJson, State } from '@spincycle/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS } from './support/db.js';
import { deadUrl, FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

async function countRows(t: TestRm): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['requests', 'request_archives', 'request_args', 'job_log', 'suspended_job_chains']) {
    const [row] = (await t.rm.db.ds.query(`SELECT COUNT(*) AS n FROM ${table}`)) as Array<{
      n: number | string;
    }>;
    out[table] = Number(row?.n);
  }
  return out;
}

describe.each(DB_KINDS)('request API on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;

  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({ db: kind, jrUrl: jr.url });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });
  beforeEach(() => {
    jr.mode = 'accept';
  });

  describe('POST /api/v1/requests', () => {
    it('when the JR takes the chain, then 201 with Location and the request as it is after the start', async () => {
      const res = await call(t.url, 'POST', '/api/v1/requests', {
        type: 'with-args',
        args: { host: 'h1', count: 3 },
      });
      expect(res.status).toBe(201);
      const body = res.json as Record<string, unknown>;
      expect(res.headers.get('location')).toBe(`/api/v1/requests/${body.id}`);
      expect(res.headers.get('x-spincycle-version')).toBe('2.1.1');
      expect(body.id).toMatch(/^[0-9a-v]{20}$/);
      expect(body).toMatchObject({
        type: 'with-args',
        state: State.RUNNING,
        user: '',
        finishedAt: null,
        finishedJobs: 0,
        jrURL: jr.url,
      });
      expect(Object.keys(body)).toEqual([
        'id',
        'type',
        'state',
        'user',
        'args',
        'createdAt',
        'startedAt',
        'finishedAt',
        'totalJobs',
        'finishedJobs',
        'jrURL',
      ]);
      expect(body.startedAt).toBe(body.createdAt);
      expect(body.args).toEqual([
        {
          Pos: 0,
          Name: 'host',
          Desc: 'a host name',
          Type: 'required',
          Given: true,
          Default: null,
          Value: 'h1',
        },
        { Pos: 1, Name: 'count', Desc: 'how many', Type: 'required', Given: true, Default: null, Value: 3 },
        {
          Pos: 0,
          Name: 'env',
          Desc: 'environment',
          Type: 'optional',
          Given: false,
          Default: 'dev',
          Value: 'dev',
        },
        { Pos: 0, Name: 'region', Desc: '', Type: 'static', Given: false, Default: null, Value: 'eu-1' },
      ]);
      const sent = jr.chains.get(body.id as string);
      expect(sent?.requestId).toBe(body.id);
      expect(Object.keys(sent?.jobs ?? {}).length).toBe(body.totalJobs);

      const got = await call(t.url, 'GET', `/api/v1/requests/${body.id}`);
      expect(got.status).toBe(200);
      const full = got.json as Record<string, unknown>;
      expect(Object.keys(full)).toEqual([
        'id',
        'type',
        'state',
        'user',
        'args',
        'createdAt',
        'startedAt',
        'finishedAt',
        'JobChain',
        'totalJobs',
        'finishedJobs',
        'jrURL',
      ]);
      expect(full.args).toEqual(body.args);
      expect(full.JobChain).toEqual(JSON.parse(JSON.stringify(sent)));
      const chain = await call(t.url, 'GET', `/api/v1/requests/${body.id}/job-chain`);
      expect(chain.json).toEqual(full.JobChain);

      const found = await t.client.findRequests({ type: 'with-args', args: { host: 'h1' } });
      expect(found.map((r) => r.id)).toContain(body.id);
      expect(found[0]).not.toHaveProperty('args');
      expect(found[0]).not.toHaveProperty('JobChain');
    });

    it('when keys are capitalised as the original payload struct, then they are accepted', async () => {
      const res = await call(t.url, 'POST', '/api/v1/requests', { Type: 'no-args', Args: {} });
      expect(res.status).toBe(201);
    });

    it('when an arg value looks like the bigint marker of the JSON writer next to a big integer, then it stays a string (it came back as the number 1)', async () => {
      const res = await call(
        t.url,
        'POST',
        '/api/v1/requests',
        '{"type":"with-args","args":{"host":"\\u0000big:1","count":12345678901234567890}}',
      );
      expect(res.status).toBe(201);
      const id = (res.json as { id: string }).id;
      for (const text of [res.text, (await call(t.url, 'GET', `/api/v1/requests/${id}`)).text]) {
        const args = (parseJson(text) as { args: Array<{ Name: string; Value: unknown }> }).args;
        expect(args.find((a) => a.Name === 'host')?.Value).toBe('\u0000big:1');
        expect(args.find((a) => a.Name === 'count')?.Value).toBe(12345678901234567890n);
      }
    });

    it('when no JR can be reached, then 502 naming the JR and the request is FAIL with finishedAt, never stuck', async () => {
      const dead = await deadUrl();
      const t2 = await startTestRm({ db: kind, jrUrl: dead });
      try {
        const res = await call(t2.url, 'POST', '/api/v1/requests', { type: 'no-args', args: {} });
        expect(res.status).toBe(502);
        const msg = (res.json as { message: string }).message;
        expect(msg).toContain(dead);
        expect(msg).toMatch(/ECONNREFUSED/);
        expect(res.json).toMatchObject({ httpStatus: 502, requestId: '' });
        const [req] = await t2.client.findRequests({ type: 'no-args' });
        expect(req).toMatchObject({ state: State.FAIL });
        expect(req?.finishedAt).not.toBeNull();
        expect(req).not.toHaveProperty('jrURL');
        expect(await t2.client.getJobLogs(req?.id as string)).toEqual([]);
      } finally {
        await t2.close();
      }
    });

    it('when the first JR is busy (503) or down, then the next JR in the list takes the chain', async () => {
      const busy = await new FakeJr().start();
      busy.mode = 'busy-503';
      const dead = await deadUrl();
      const t2 = await startTestRm({
        db: kind,
        jrUrl: `${busy.url},${dead},${jr.url}`,
        overrides: { 'jr_client.timeout': '1s' },
      });
      try {
        const created = await t2.client.createRequest('no-args');
        expect(created.state).toBe(State.RUNNING);
        expect(created.jrURL).toBe(jr.url);
        expect((await t2.client.getRequest(created.id)).jrURL).toBe(jr.url);
      } finally {
        await t2.close();
        await busy.close();
      }
    });

    it('when the JR accepts the connection but never answers, then create gives up in bounded time: 502 and FAIL', async () => {
      const hung = await new FakeJr().start();
      hung.mode = 'hang';
      const t2 = await startTestRm({
        db: kind,
        jrUrl: hung.url,
        overrides: { 'jr_client.timeout': '300ms' },
      });
      try {
        const t0 = Date.now();
        const res = await call(t2.url, 'POST', '/api/v1/requests', { type: 'no-args' });
        expect(res.status).toBe(502);
        expect((res.json as { message: string }).message).toMatch(/timeout/i);
        expect(Date.now() - t0).toBeLessThan(5000);
        const [req] = await t2.client.findRequests();
        expect(req?.state).toBe(State.FAIL);
      } finally {
        await t2.close();
        await hung.close();
      }
    });

    it('when the JR refuses the chain (4xx), then 502 with its message and the request is FAIL', async () => {
      jr.mode = 'refuse-400';
      const res = await call(t.url, 'POST', '/api/v1/requests', { type: 'no-args' });
      expect(res.status).toBe(502);
      expect((res.json as { message: string }).message).toContain('fake refusal');
      const id = /request (\w{20})/.exec((res.json as { message: string }).message)?.[1] as string;
      expect((await t.client.getRequest(id)).state).toBe(State.FAIL);
    });

    it('when the JR says it already holds the chain (409, a retried POST), then the create succeeds', async () => {
      jr.mode = 'conflict-409';
      const created = await t.client.createRequest('no-args');
      expect(created.state).toBe(State.RUNNING);
    });

    describe('bad input: 400 (415/413), a message naming the problem, and nothing stored', () => {
      const cases: Array<[string, unknown, RegExp, number?, Record<string, string>?]> = [
        ['malformed JSON', '{"type": "test", ', /malformed JSON/],
        ['a JSON array', [1, 2], /body must be a JSON object/],
        ['no body', undefined, /body must be a JSON object/],
        ['missing type', { args: {} }, /Type is empty/],
        ['empty type', { type: '', args: {} }, /Type is empty/],
        ['type not a string', { type: 5 }, /type must be a string/],
        ['args not an object', { type: 'no-args', args: 'x' }, /args must be a JSON object/],
        ['unknown type', { type: 'nope', args: {} }, /cannot find specs for request: nope/],
        [
          'a sequence that is not a request',
          { type: 'sleep', args: { sleepTime: '1' } },
          /sleep is not a request/,
        ],
        ['missing required arg', { type: 'with-args', args: { host: 'h' } }, /required arg 'count' not set/],
        [
          'undeclared arg',
          { type: 'with-args', args: { host: 'h', count: 1, bogus: 1 } },
          /'bogus' not declared/,
        ],
        [
          'static arg',
          { type: 'with-args', args: { host: 'h', count: 1, region: 'x' } },
          /'region' is static/,
        ],
        ['wrong value type', { type: 'with-args', args: { host: { a: 1 }, count: 1 } }, /host/],
        ['an arg the job rejects', { type: 'test', args: { sleepTime: 'soon' } }, /sleepTime|duration/],
        [
          'a duration too long to travel exactly (a 20-digit integer)',
          '{"type":"test","args":{"sleepTime":12345678901234567890}}',
          /sleepTime|duration/,
        ],
        [
          'wrong content type',
          'type=test',
          /Content-Type/,
          415,
          { 'Content-Type': 'application/x-www-form-urlencoded' },
        ],
      ];
      it.each(cases)('%s', async (_name, body, msg, status = 400, headers = {}) => {
        const before = await countRows(t);
        const foundBefore = (await t.client.findRequests()).length;
        const res = await call(t.url, 'POST', '/api/v1/requests', body, headers);
        expect(res.status).toBe(status);
        expect(res.json).toMatchObject({ httpStatus: status, requestId: '' });
        expect((res.json as { message: string }).message).toMatch(msg);
        expect(res.headers.get('x-spincycle-version')).toBe('2.1.1');
        expect(await countRows(t)).toEqual(before);
        expect((await t.client.findRequests()).length).toBe(foundBefore);
      });
    });

    it('when the body is larger than server.body_limit, then 413', async () => {
      const t2 = await startTestRm({ db: kind, jrUrl: jr.url, overrides: { 'server.body_limit': '1kb' } });
      try {
        const res = await call(t2.url, 'POST', '/api/v1/requests', {
          type: 'no-args',
          args: {},
          pad: 'x'.repeat(5000),
        });
        expect(res.status).toBe(413);
        expect(await t2.client.findRequests()).toEqual([]);
      } finally {
        await t2.close();
      }
    });
  });

  describe('authorization happens before anything is stored', () => {
    it('when the authorizer denies start, then 401 and no row; stop and start are authorized too', async () => {
      const denied: string[] = [];
      const t2 = await startTestRm({
        db: kind,
        jrUrl: jr.url,
        authenticator: { authenticate: (req) => ({ name: String(req.headers['x-user'] ?? ''), roles: [] }) },
        authorizer: {
          authorize: (caller, op, request) => {
            if (caller.name === 'mallory') {
              denied.push(
                `${op}:${request.type}:${request.JobChain ? 'chain' : 'nochain'}:${request.args ? 'args' : 'noargs'}`,
              );
              return { allowed: false, reason: `denied: ${caller.name} may not ${op} ${request.type}` };
            }
            return { allowed: true };
          },
        },
      });
      try {
        const res = await call(
          t2.url,
          'POST',
          '/api/v1/requests',
          { type: 'no-args' },
          { 'x-user': 'mallory' },
        );
        expect(res.status).toBe(401);
        expect((res.json as { message: string }).message).toBe('denied: mallory may not start no-args');
        expect(await t2.client.findRequests()).toEqual([]);
        expect((await countRows(t2)).requests).toBe(0);

        const ok = await call(t2.url, 'POST', '/api/v1/requests', { type: 'no-args' }, { 'x-user': 'alice' });
        expect(ok.status).toBe(201);
        const id = (ok.json as { id: string; user: string }).id;
        expect((ok.json as { user: string }).user).toBe('alice');
        const stop = await call(t2.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, {
          'x-user': 'mallory',
        });
        expect(stop.status).toBe(401);
        expect((await t2.client.getRequest(id)).state).toBe(State.RUNNING);
        expect(jr.stops).not.toContain(id);
        const start = await call(t2.url, 'PUT', `/api/v1/requests/${id}/start`, undefined, {
          'x-user': 'mallory',
        });
        expect(start.status).toBe(401);
        // A create is authorized before its chain is built (a denied caller costs no build); PUT start sees the stored chain.
        expect(denied).toEqual([
          'start:no-args:nochain:args',
          'stop:no-args:nochain:args',
          'start:no-args:chain:args',
        ]);
      } finally {
        await t2.close();
      }
    });
  });

  describe('GET /api/v1/requests (find)', () => {
    it('when filters are bad, then 400 naming the parameter', async () => {
      for (const [q, param] of [
        ['state=running', 'state'],
        ['state=RUNNING,NOPE', 'state'],
        ['arg=novalue', 'arg'],
        ['arg==x', 'arg'],
        ['since=yesterday', 'since'],
        ['until=2020-01-01', 'until'],
        ['limit=-1', 'limit'],
        ['limit=abc', 'limit'],
        ['offset=1.5', 'offset'],
      ] as const) {
        const res = await call(t.url, 'GET', `/api/v1/requests?${q}`);
        expect(res.status, q).toBe(400);
        expect((res.json as { message: string }).message, q).toContain(`invalid '${param}' parameter`);
      }
    });

    it('when nothing matches, then [] (not null)', async () => {
      const res = await call(t.url, 'GET', '/api/v1/requests?type=nothing-like-this');
      expect(res.status).toBe(200);
      expect(res.text).toBe('[]');
    });

    it('when filtering by state (repeated or comma-separated), arg, since/until, limit and offset, then they all apply', async () => {
      const user = `u${Date.now()}`;
      const mk = async (host: string) => {
        const r = await call(t.url, 'POST', '/api/v1/requests', {
          type: 'with-args',
          args: { host, count: 1 },
        });
        return (r.json as { id: string }).id;
      };
      const a = await mk(`${user}-a`);
      const b = await mk(`${user}-b`);
      const c = await mk(`${user}-c`);
      await t.internal.finish({
        requestId: b,
        state: State.COMPLETE,
        finishedAt: new Date().toISOString(),
        finishedJobs: 4,
      });
      const ids = async (q: string) =>
        ((await call(t.url, 'GET', `/api/v1/requests?type=with-args&${q}`)).json as Array<{ id: string }>)
          .map((r) => r.id)
          .filter((id) => [a, b, c].includes(id));
      expect(await ids('')).toEqual([c, b, a]);
      expect(await ids('state=COMPLETE')).toEqual([b]);
      expect(await ids('state=COMPLETE&state=RUNNING')).toEqual([c, b, a]);
      expect(await ids('state=COMPLETE,RUNNING')).toEqual([c, b, a]);
      expect(await ids(`arg=host=${user}-b`)).toEqual([b]);
      expect(await ids(`arg=host=${user}-b&arg=count=1`)).toEqual([b]);
      expect(await ids(`arg=host=${user}-b&arg=count=2`)).toEqual([]);
      expect(await ids(`arg=host=${user}-%`)).toEqual([]);
      expect(await ids('limit=2')).toEqual([c, b]);
      expect(await ids(`arg=host=${user}-a&offset=0`)).toEqual([a]);
      const all = ((await call(t.url, 'GET', '/api/v1/requests?type=with-args')).json as unknown[]).length;
      expect(
        ((await call(t.url, 'GET', `/api/v1/requests?type=with-args&offset=${all - 1}`)).json as unknown[])
          .length,
      ).toBe(1);
      const future = new Date(Date.now() + 60_000).toISOString();
      expect(await ids(`since=${future}`)).toEqual([c, a]);
      expect(await ids('until=2000-01-01T00:00:00Z')).toEqual([]);
    });
  });

  describe('reads and the HTTP edge', () => {
    it('when a request does not exist, then 404 naming it', async () => {
      for (const path of [
        '/api/v1/requests/nope',
        '/api/v1/requests/nope/job-chain',
        '/api/v1/requests/nope/log',
        '/api/v1/requests/nope/log/abcd',
      ]) {
        const res = await call(t.url, 'GET', path);
        expect(res.status, path).toBe(404);
        expect(res.json).toEqual({ message: 'request nope not found', requestId: '', httpStatus: 404 });
      }
      await expect(t.client.stopRequest('nope')).rejects.toMatchObject({ status: 404 });
    });

    it('when the method or path is wrong, then 405 / 404, with the version header', async () => {
      const wrong = await call(t.url, 'DELETE', '/api/v1/requests/abc');
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toContain('GET');
      expect(wrong.headers.get('x-spincycle-version')).toBe('2.1.1');
      expect((await call(t.url, 'POST', '/api/v1/request-list')).status).toBe(405);
      const missing = await call(t.url, 'GET', '/api/v1/nothing');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('x-spincycle-version')).toBe('2.1.1');
    });

    it('GET /version answers the version as text', async () => {
      const res = await call(t.url, 'GET', '/version');
      expect(res.status).toBe(200);
      expect(res.text).toBe('2.1.1');
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await t.client.version()).toBe('2.1.1');
    });

    it('GET /api/v1/request-list: sorted by name, required then optional args, statics left out', async () => {
      const list = await t.client.requestList();
      expect(list.map((r) => r.Name)).toEqual(['no-args', 'test', 'with-args']);
      expect(list[0]?.Args).toEqual([]);
      expect(list[2]?.Args).toEqual([
        {
          Pos: 0,
          Name: 'host',
          Desc: 'a host name',
          Type: 'required',
          Given: false,
          Default: null,
          Value: null,
        },
        {
          Pos: 0,
          Name: 'count',
          Desc: 'how many',
          Type: 'required',
          Given: false,
          Default: null,
          Value: null,
        },
        {
          Pos: 0,
          Name: 'env',
          Desc: 'environment',
          Type: 'optional',
          Given: false,
          Default: 'dev',
          Value: null,
        },
      ]);
    });

    it('when the RM is draining, then create and start answer 503 and reads still work', async () => {
      const t2 = await startTestRm({ db: kind, jrUrl: jr.url });
      try {
        const created = await t2.client.createRequest('no-args');
        t2.rm.beginDrain();
        const res = await call(t2.url, 'POST', '/api/v1/requests', { type: 'no-args' });
        expect(res.status).toBe(503);
        expect((res.json as { message: string }).message).toBe(
          'Request Manager is shutting down - no new requests are being started',
        );
        expect((await call(t2.url, 'PUT', `/api/v1/requests/${created.id}/start`)).status).toBe(503);
        expect((await t2.client.getRequest(created.id)).id).toBe(created.id);
        expect((await t2.client.findRequests()).length).toBe(1);
      } finally {
        await t2.close();
      }
    });

    it('errors from the typed client carry the status', async () => {
      const err = await t.client.getRequest('missing').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(404);
    });
  });
});
