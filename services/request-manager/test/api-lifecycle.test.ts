/**
 * The life cycle endpoints (start, stop, finish, progress, suspend), the job
 * log endpoints and status/running, with a fake Job Runner, on SQLite and
 * on MariaDB.
 */
import {
  type JobLog,
  type JobStatus,
  RmInternalClient,
  State,
  type StateValue,
  stringifyJson,
} from '@spincycle/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RequestStore } from '../src/stores/request-store.js';
import { SjcStore } from '../src/stores/sjc-store.js';
import { DB_KINDS } from './support/db.js';
import { deadUrl, FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

/** A PENDING request stored directly (the API only creates started requests). */
async function insertPending(
  t: TestRm,
  type = 'no-args',
  args: Record<string, unknown> = {},
): Promise<string> {
  const built = await t.rm.catalog.build(type, args);
  const now = new Date();
  await new RequestStore(t.rm.db).create({
    row: {
      request_id: built.requestId,
      type,
      state: State.PENDING,
      user: 'ops',
      created_at: now,
      started_at: null,
      finished_at: null,
      total_jobs: Object.keys(built.chain.jobs).length,
      finished_jobs: 0,
      jr_url: null,
    },
    createRequestJson: JSON.stringify({ Type: type, Args: args, User: 'ops' }),
    argsJson: JSON.stringify(built.requestArgs),
    jobChainJson: JSON.stringify(built.chain),
    givenArgs: args,
  });
  return built.requestId;
}

function entry(requestId: string, jobId: string, tryNo: number, over: Partial<JobLog> = {}): JobLog {
  return {
    requestId,
    jobId,
    try: tryNo,
    name: `n-${jobId}`,
    type: 'sleep',
    startedAt: 1554230366094196501n,
    finishedAt: 1554230367094791703n,
    state: State.COMPLETE,
    exit: 0,
    error: '',
    stdout: '',
    stderr: '',
    ...over,
  };
}

const finishBody = (id: string, state: StateValue = State.COMPLETE, finishedJobs = 1) => ({
  requestId: id,
  state,
  finishedAt: '2030-01-02T03:04:05.678Z',
  finishedJobs,
});

describe.each(DB_KINDS)('life cycle on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;
  const create = async (type = 'no-args', args: Record<string, unknown> = {}) =>
    (await t.client.createRequest(type, args)).id;

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
    jr.stopStatus = 200;
    jr.onStop = undefined;
    jr.running = [];
  });

  describe('PUT finish', () => {
    it('when RUNNING and the state is final, then 200 empty, finishedAt/finishedJobs set and jrURL cleared', async () => {
      const id = await create();
      const res = await call(
        t.url,
        'PUT',
        `/api/v1/requests/${id}/finish`,
        finishBody(id, State.COMPLETE, 1),
      );
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      const req = await t.client.getRequest(id);
      expect(req).toMatchObject({
        state: State.COMPLETE,
        finishedAt: '2030-01-02T03:04:05.678Z',
        finishedJobs: 1,
      });
      expect(req).not.toHaveProperty('jrURL');
      expect(req.startedAt).not.toBeNull();
    });

    it('when the same finish is repeated (a JR retry), then 200; a different final state is 409', async () => {
      const id = await create();
      await t.internal.finish(finishBody(id, State.FAIL));
      await t.internal.finish(finishBody(id, State.FAIL));
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id, State.COMPLETE));
      expect(res.status).toBe(409);
      expect((res.json as { message: string }).message).toBe(
        `request ${id} in state FAIL, expected state RUNNING`,
      );
    });

    it('when the state is not final, or the body is bad, then 400', async () => {
      const id = await create();
      for (const state of [State.PENDING, State.RUNNING, State.SUSPENDED, State.UNKNOWN, 99 as StateValue]) {
        const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id, state));
        expect(res.status, String(state)).toBe(400);
        expect((res.json as { message: string }).message).toContain('state');
      }
      expect(
        (
          await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, {
            ...finishBody(id),
            finishedAt: 'later',
          })
        ).status,
      ).toBe(400);
      expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`)).status).toBe(400);
      expect(
        (await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody('other0000000000000000')))
          .status,
      ).toBe(400);
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
    });

    it('when the body has a "constructor" or "__proto__" key, then it is no field: 400 for what is missing (was a 500, or a 200 that cleared jrURL)', async () => {
      const id = await create();
      for (const body of ['{"constructor":null}', '{"constructor":{}}', '{"__proto__":{}}']) {
        const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, body);
        expect(res.status, body).toBe(400);
        expect((res.json as { message: string }).message).toMatch(/^invalid FinishRequest: field 'state'/);
      }
      const req = await t.client.getRequest(id);
      expect(req.state).toBe(State.RUNNING);
      expect(req.jrURL).toBe(jr.url);
    });

    it('when the request is PENDING (never started) or unknown, then 409 / 404', async () => {
      const id = await insertPending(t);
      expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id))).status).toBe(409);
      expect((await call(t.url, 'PUT', '/api/v1/requests/nope/finish', finishBody('nope'))).status).toBe(404);
    });
  });

  describe('PUT progress', () => {
    it('when RUNNING, then finishedJobs is set (200, body null); otherwise 409/404; a mismatched id is 400', async () => {
      const id = await create('with-args', { host: 'h', count: 1 });
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/progress`, {
        requestId: id,
        finishedJobs: 2,
      });
      expect(res.status).toBe(200);
      expect(res.text).toBe('null');
      expect((await t.client.getRequest(id)).finishedJobs).toBe(2);
      await t.internal.progress({ requestId: id, finishedJobs: 1 });
      expect((await t.client.getRequest(id)).finishedJobs).toBe(1);
      const mismatch = await call(t.url, 'PUT', `/api/v1/requests/${id}/progress`, {
        requestId: 'x',
        finishedJobs: 2,
      });
      expect(mismatch.status).toBe(400);
      expect((mismatch.json as { message: string }).message).toContain('does not match request ID in URL');
      expect(
        (await call(t.url, 'PUT', `/api/v1/requests/${id}/progress`, { requestId: '', finishedJobs: 2 }))
          .status,
      ).toBe(400);
      await t.internal.finish(finishBody(id, State.COMPLETE, 4));
      expect(
        (await call(t.url, 'PUT', `/api/v1/requests/${id}/progress`, { requestId: id, finishedJobs: 0 }))
          .status,
      ).toBe(409);
      expect((await t.client.getRequest(id)).finishedJobs).toBe(4);
      expect(
        (await call(t.url, 'PUT', '/api/v1/requests/nope/progress', { requestId: 'nope', finishedJobs: 0 }))
          .status,
      ).toBe(404);
    });
  });

  describe('PUT suspend and stop of a SUSPENDED request', () => {
    it('when RUNNING, then the SJC is stored and the request SUSPENDED without jrURL; stop makes it STOPPED and drops the SJC', async () => {
      const id = await create();
      const chain = jr.chains.get(id);
      const sjc = {
        requestId: id,
        jobChain: chain,
        totalJobTries: { a: 1 },
        latestRunJobTries: { a: 1 },
        sequenceTries: {},
      };
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/suspend`, sjc);
      expect(res.status).toBe(200);
      const req = await t.client.getRequest(id);
      expect(req.state).toBe(State.SUSPENDED);
      expect(req).not.toHaveProperty('jrURL');
      const sjcs = new SjcStore(t.rm.db);
      expect(JSON.parse((await sjcs.get(id))?.suspended_job_chain as string)).toMatchObject({
        requestId: id,
        totalJobTries: { a: 1 },
      });
      // Not RUNNING any more: a second suspend is refused.
      expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/suspend`, sjc)).status).toBe(409);
      await t.client.stopRequest(id);
      const stopped = await t.client.getRequest(id);
      expect(stopped.state).toBe(State.STOPPED);
      expect(stopped.finishedAt).not.toBeNull();
      expect(await sjcs.get(id)).toBeUndefined();
    });

    it('when the body is bad or names another request, then 400 and nothing changes', async () => {
      const id = await create();
      expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/suspend`, { requestId: id })).status).toBe(
        400,
      );
      const other = {
        requestId: 'other',
        jobChain: jr.chains.get(id),
        totalJobTries: {},
        latestRunJobTries: {},
        sequenceTries: {},
      };
      expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/suspend`, other)).status).toBe(400);
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
    });

    it('when job data is nested 5,000 levels deep, then 400 naming that and nothing changes (storing it was a 500)', async () => {
      const id = await create();
      const chain = jr.chains.get(id) as { jobs: Record<string, unknown> };
      const [jobId] = Object.keys(chain.jobs);
      const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      const text = stringifyJson({
        requestId: id,
        jobChain: {
          ...chain,
          jobs: {
            ...chain.jobs,
            [jobId as string]: { ...(chain.jobs[jobId as string] as object), data: '@DEEP@' },
          },
        },
        totalJobTries: {},
        latestRunJobTries: {},
        sequenceTries: {},
      }).replace('"@DEEP@"', deep);
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/suspend`, text);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({
        message: 'JSON body nested too deeply: more than 512 levels of objects and arrays',
        requestId: '',
        httpStatus: 400,
      });
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
    });
  });

  describe('PUT stop', () => {
    it('when finished, then 200 and nothing happens', async () => {
      const id = await create();
      await t.internal.finish(finishBody(id, State.COMPLETE));
      await t.client.stopRequest(id);
      expect((await t.client.getRequest(id)).state).toBe(State.COMPLETE);
      expect(jr.stops).not.toContain(id);
    });

    it('when RUNNING, then the JR is asked to stop it and reports STOPPED through finish', async () => {
      const id = await create();
      const rm = new RmInternalClient({ baseURL: t.url, retry: { attempts: 1 } });
      jr.onStop = async (rid) =>
        rm.finish({
          requestId: rid,
          state: State.STOPPED,
          finishedAt: new Date().toISOString(),
          finishedJobs: 0,
        });
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/stop`);
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect(jr.stops).toContain(id);
      expect((await t.client.getRequest(id)).state).toBe(State.STOPPED);
    });

    it('when the JR does not hold the chain (404), then the RM finalizes it STOPPED', async () => {
      const id = await create();
      jr.chains.delete(id);
      await t.client.stopRequest(id);
      const req = await t.client.getRequest(id);
      expect(req.state).toBe(State.STOPPED);
      expect(req.finishedAt).not.toBeNull();
      expect(req).not.toHaveProperty('jrURL');
    });

    it('when the JR is unreachable, then the RM finalizes it FAIL (never stuck RUNNING)', async () => {
      const other = await new FakeJr().start();
      const t2 = await startTestRm({ db: kind, jrUrl: other.url, overrides: { 'jr_client.timeout': '1s' } });
      try {
        const id = (await t2.client.createRequest('no-args')).id;
        await other.close();
        await t2.client.stopRequest(id);
        const req = await t2.client.getRequest(id);
        expect(req.state).toBe(State.FAIL);
        expect(req.finishedAt).not.toBeNull();
      } finally {
        await t2.close();
      }
    });

    it('when the JR fails the stop (5xx), then 502 with its message and the request stays RUNNING', async () => {
      const id = await create();
      jr.stopStatus = 500;
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/stop`);
      expect(res.status).toBe(502);
      expect((res.json as { message: string }).message).toContain('fake stop failure');
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
    });

    it('when PENDING, then STOPPED with finishedAt', async () => {
      const id = await insertPending(t);
      await t.client.stopRequest(id);
      const req = await t.client.getRequest(id);
      expect(req.state).toBe(State.STOPPED);
      expect(req.finishedAt).not.toBeNull();
    });
  });

  describe('PUT start', () => {
    it('when PENDING, then RUNNING on the JR (200 empty); again is 409', async () => {
      const id = await insertPending(t, 'with-args', { host: 'x', count: 2 });
      const res = await call(t.url, 'PUT', `/api/v1/requests/${id}/start`);
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      const req = await t.client.getRequest(id);
      expect(req).toMatchObject({ state: State.RUNNING, jrURL: jr.url });
      expect(req.startedAt).not.toBeNull();
      expect(jr.chains.get(id)?.requestId).toBe(id);
      const again = await call(t.url, 'PUT', `/api/v1/requests/${id}/start`);
      expect(again.status).toBe(409);
      expect((again.json as { message: string }).message).toBe(
        `request ${id} in state RUNNING, expected state PENDING`,
      );
      expect((await call(t.url, 'PUT', '/api/v1/requests/nope/start')).status).toBe(404);
    });

    it('when no JR takes it, then 502 and the request is PENDING again', async () => {
      const t2 = await startTestRm({ db: kind, jrUrl: await deadUrl() });
      try {
        const id = await insertPending(t2);
        const res = await call(t2.url, 'PUT', `/api/v1/requests/${id}/start`);
        expect(res.status).toBe(502);
        const req = await t2.client.getRequest(id);
        expect(req).toMatchObject({ state: State.PENDING, startedAt: null });
        expect(req).not.toHaveProperty('jrURL');
      } finally {
        await t2.close();
      }
    });
  });

  describe('job log', () => {
    it('POST log stores one entry under the URL id (201 + entry); GET log lists by job then try; GET log/{job} is the latest try', async () => {
      const id = await create();
      const e = entry('ignored', 'b', 1, { stdout: 'hello', exit: 3, error: 'bad' });
      const res = await call(t.url, 'POST', `/api/v1/requests/${id}/log`, stringifyJson(e));
      expect(res.status).toBe(201);
      expect(res.text).toBe(stringifyJson({ ...e, requestId: id }));
      await t.internal.postJobLog({ ...entry(id, 'a', 2), state: State.FAIL });
      await t.internal.postJobLog(entry(id, 'a', 1));
      const list = await t.client.getJobLogs(id);
      expect(list.map((x) => `${x.jobId}/${x.try}`)).toEqual(['a/1', 'a/2', 'b/1']);
      // Nanoseconds beyond 2^53 survive the round trip exactly.
      expect(list[0]?.startedAt).toBe(1554230366094196501n);
      const text = (await call(t.url, 'GET', `/api/v1/requests/${id}/log`)).text;
      expect(text).toContain('"startedAt":1554230366094196501');
      expect(await t.client.getJobLog(id, 'a')).toMatchObject({ try: 2, state: State.FAIL });
      const missing = await call(t.url, 'GET', `/api/v1/requests/${id}/log/zzzz`);
      expect(missing.status).toBe(404);
      expect((missing.json as { message: string }).message).toBe(`job zzzz not found in request ${id}`);
      expect(await t.client.getJobLogs(await create())).toEqual([]);
    });

    it('when an entry is re-sent identically, then 201 again; with other content, 409; a bad entry is 400', async () => {
      const id = await create();
      await t.internal.postJobLog(entry(id, 'a', 1));
      await t.internal.postJobLog(entry(id, 'a', 1));
      const res = await call(
        t.url,
        'POST',
        `/api/v1/requests/${id}/log`,
        stringifyJson(entry(id, 'a', 1, { stdout: 'other' })),
      );
      expect(res.status).toBe(409);
      expect((await call(t.url, 'POST', `/api/v1/requests/${id}/log`, { jobId: 'a' })).status).toBe(400);
      expect((await t.client.getJobLogs(id)).length).toBe(1);
    });

    it('when an entry carries fields in a "__proto__" key, then they are not taken (an object as stdout was a 500)', async () => {
      const id = await create();
      // An entry without stdout and exit, which the "__proto__" key offers.
      const text = (jobId: string) =>
        stringifyJson(
          Object.fromEntries(
            Object.entries(entry(id, jobId, 1)).filter(([k]) => k !== 'stdout' && k !== 'exit'),
          ),
        ).replace(/}$/, ',"__proto__":{"stdout":{"a":1},"exit":"zz"}}');
      expect((await call(t.url, 'POST', `/api/v1/requests/${id}/log`, text('a'))).status).toBe(201);
      expect((await call(t.url, 'POST', '/api/v1/job-logs', `[${text('b')}]`)).status).toBe(201);
      const report = await call(t.url, 'POST', '/api/v1/internal/reports', `{"logs":[${text('c')}]}`);
      expect(report.status).toBe(200);
      const logs = await t.client.getJobLogs(id);
      expect(logs.map((l) => [l.jobId, l.stdout, l.exit])).toEqual([
        ['a', '', 0],
        ['b', '', 0],
        ['c', '', 0],
      ]);
    });

    it('POST /job-logs stores entries of several requests once (201 {"inserted": n}), however often the batch is sent', async () => {
      const a = await create();
      const b = await create();
      const batch = [entry(a, 'x', 1), entry(b, 'x', 1), entry(b, 'y', 1), entry(a, 'x', 2)];
      const first = await call(t.url, 'POST', '/api/v1/job-logs', stringifyJson(batch));
      expect(first.status).toBe(201);
      expect(first.json).toEqual({ inserted: 4 });
      const again = await call(
        t.url,
        'POST',
        '/api/v1/job-logs',
        stringifyJson([...batch, entry(a, 'z', 1)]),
      );
      expect(again.json).toEqual({ inserted: 1 });
      await t.internal.postJobLogs(batch);
      expect((await t.client.getJobLogs(a)).length).toBe(3);
      expect((await t.client.getJobLogs(b)).length).toBe(2);
      const bad = await call(t.url, 'POST', '/api/v1/job-logs', [{ ...entry(a, 'q', 1), startedAt: 'soon' }]);
      expect(bad.status).toBe(400);
      expect((bad.json as { message: string }).message).toContain('entry 0');
      expect((await call(t.url, 'POST', '/api/v1/job-logs', { not: 'a list' })).status).toBe(400);
      expect((await call(t.url, 'POST', '/api/v1/job-logs', [{ ...entry('', 'q', 1) }])).status).toBe(400);
    });
  });

  describe("POST /internal/reports (a JR's entries, progress and finishes in one call)", () => {
    const report = (body: unknown) => call(t.url, 'POST', '/api/v1/internal/reports', stringifyJson(body));

    it('stores the entries, then the progress, then each finish, and answers every finish', async () => {
      const [a, b, c, done, other] = [
        await create(),
        await create(),
        await create(),
        await create(),
        await create(),
      ];
      const pending = await insertPending(t);
      await t.internal.finish(finishBody(done, State.FAIL));
      await t.internal.finish(finishBody(other, State.FAIL));
      const batch = {
        // a's last entries travel with its finish: they are stored first.
        logs: [entry(a, 'x', 1), entry(b, 'x', 1), entry(a, 'y', 1), entry(done, 'late', 1)],
        progress: [
          { requestId: b, finishedJobs: 5 },
          { requestId: a, finishedJobs: 7 },
          { requestId: done, finishedJobs: 9 },
        ],
        finishes: [
          finishBody(a, State.COMPLETE, 2),
          finishBody(done, State.FAIL), // a JR retrying: the same final state is stored already
          finishBody(other, State.COMPLETE), // another final state is stored
          finishBody(pending),
          finishBody('nosuchrequest0000000'),
          { ...finishBody(c), state: State.RUNNING },
        ],
      };
      const res = await report(batch);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ inserted: 3, refused: [done] });
      expect((res.json as { finishes: unknown }).finishes).toEqual({
        [a]: 'ok',
        [done]: 'ok',
        [other]: 'not_running',
        [pending]: 'not_running',
        nosuchrequest0000000: 'not_found',
        [c]: 'invalid',
      });
      const ra = await t.client.getRequest(a);
      expect(ra).toMatchObject({
        state: State.COMPLETE,
        finishedJobs: 2,
        finishedAt: '2030-01-02T03:04:05.678Z',
      });
      expect(ra.jrURL).toBeUndefined();
      expect((await t.client.getJobLogs(a)).map((l) => l.jobId)).toEqual(['x', 'y']);
      expect(await t.client.getRequest(b)).toMatchObject({ state: State.RUNNING, finishedJobs: 5 });
      expect(await t.client.getRequest(c)).toMatchObject({ state: State.RUNNING, finishedAt: null });
      expect(await t.client.getRequest(other)).toMatchObject({ state: State.FAIL });
      expect(await t.client.getRequest(pending)).toMatchObject({ state: State.PENDING });
      expect(await t.client.getJobLogs(done)).toEqual([]);

      // The same batch again (its answer was lost): nothing is stored twice, every finish is still settled.
      const again = await report(batch);
      expect(again.json).toMatchObject({ inserted: 0, finishes: { [a]: 'ok', [done]: 'ok' } });
      expect((await t.client.getJobLogs(a)).length).toBe(2);
      expect(await t.internal.report({ logs: [], progress: [], finishes: [] })).toEqual({
        inserted: 0,
        refused: [],
        finishes: {},
      });
    });

    it('a finish whose request changed state between the read and the update is answered by its new state', async () => {
      const [a, b, c] = [await create(), await create(), await create()];
      const db = t.rm.db;
      const real = db.execStatements.bind(db);
      const requests = new RequestStore(db);
      db.execStatements = async (statements) => {
        // Meanwhile b was failed (say, as lost) and c stopped with the state its JR reports.
        await requests.transition(b, State.RUNNING, {
          state: State.FAIL,
          finished_at: new Date(),
          jr_url: null,
        });
        await requests.transition(c, State.RUNNING, {
          state: State.STOPPED,
          finished_at: new Date(),
          jr_url: null,
        });
        return real(statements);
      };
      try {
        const res = await t.internal.report({
          logs: [],
          progress: [],
          finishes: [finishBody(a), finishBody(b), finishBody(c, State.STOPPED)],
        });
        expect(res.finishes).toEqual({ [a]: 'ok', [b]: 'not_running', [c]: 'ok' });
      } finally {
        db.execStatements = real;
      }
      expect((await t.client.getRequest(a)).state).toBe(State.COMPLETE);
      expect((await t.client.getRequest(b)).state).toBe(State.FAIL);
    });

    it('finishes many requests at once (several statements), each exactly once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(await create());
      const res = await t.internal.report({
        logs: ids.map((id) => entry(id, 'a', 1)),
        progress: [],
        finishes: [
          ...ids.map((id, i) => finishBody(id, i % 2 ? State.FAIL : State.COMPLETE, i)),
          ...Array.from({ length: 600 }, (_, i) => finishBody(`missing${i}`)),
        ],
      });
      expect(res.inserted).toBe(12);
      expect(Object.values(res.finishes).filter((v) => v === 'ok')).toHaveLength(12);
      expect(Object.values(res.finishes).filter((v) => v === 'not_found')).toHaveLength(600);
      for (const [i, id] of ids.entries())
        expect(await t.client.getRequest(id)).toMatchObject({
          state: i % 2 ? State.FAIL : State.COMPLETE,
          finishedJobs: i,
        });
    });

    it('a bad entry or progress value is a 400 naming it, and nothing of the batch is applied', async () => {
      const a = await create();
      const bad = await report({
        logs: [entry(a, 'x', 1), { ...entry(a, 'y', 1), startedAt: 'soon' }],
        finishes: [finishBody(a)],
      });
      expect(bad.status).toBe(400);
      expect((bad.json as { message: string }).message).toMatch(
        /^invalid ReportBatch: logs\[1\]: invalid JobLog: field 'startedAt'/,
      );
      const badProgress = await report({
        progress: [{ requestId: a, finishedJobs: -1 }],
        finishes: [finishBody(a)],
      });
      expect(badProgress.status).toBe(400);
      expect((await report([])).status).toBe(400);
      expect((await report({ finishes: [{ state: 3 }] })).status).toBe(400);
      expect(await t.client.getRequest(a)).toMatchObject({ state: State.RUNNING });
      expect(await t.client.getJobLogs(a)).toEqual([]);
    });
  });

  describe('GET status/running', () => {
    it('when nothing runs, then {"jobs":[],"requests":{}}', async () => {
      const t2 = await startTestRm({ db: kind, jrUrl: jr.url });
      try {
        const res = await call(t2.url, 'GET', '/api/v1/status/running');
        expect(res.status).toBe(200);
        expect(res.text).toBe('{"jobs":[],"requests":{}}');
      } finally {
        await t2.close();
      }
    });

    it('when JRs run jobs, then they are merged by start time with their requests; a JR that does not answer is listed as unreachable', async () => {
      const other = await new FakeJr().start();
      const t2 = await startTestRm({ db: kind, jrUrl: `${jr.url},${other.url}` });
      try {
        const a = (await t2.client.createRequest('no-args')).id;
        const b = (await t2.client.createRequest('no-args')).id;
        const js = (requestId: string, jobId: string, startedAt: bigint): JobStatus => ({
          requestId,
          jobId,
          type: 'sleep',
          name: 'wait',
          startedAt,
          state: State.RUNNING,
          status: 'sleeping',
          try: 1,
        });
        jr.running = [js(a, 'j2', 1554231414572741000n), js(a, 'j1', 1554231410126312200n)];
        other.running = [js(b, 'k1', 1554231412000000001n)];
        const status = await t2.client.runningStatus();
        expect(status.jobs.map((j) => j.jobId)).toEqual(['j1', 'k1', 'j2']);
        expect(status.jobs[1]?.startedAt).toBe(1554231412000000001n);
        expect(Object.keys(status.requests).sort()).toEqual([a, b].sort());
        expect(status.requests[a]).toMatchObject({ id: a, type: 'no-args', state: State.RUNNING });
        expect(status.requests[a]).not.toHaveProperty('jrURL');
        expect(status).not.toHaveProperty('unreachable');

        const filtered = await t2.client.runningStatus(b);
        expect(filtered.jobs.map((j) => j.jobId)).toEqual(['k1']);
        expect(Object.keys(filtered.requests)).toEqual([b]);

        await other.close();
        const partial = await call(t2.url, 'GET', '/api/v1/status/running');
        expect(partial.status).toBe(200);
        const body = partial.json as {
          jobs: JobStatus[];
          unreachable: Array<{ jrURL: string; error: string }>;
        };
        expect(body.jobs.map((j) => j.jobId)).toEqual(['j1', 'j2']);
        expect(body.unreachable).toEqual([
          { jrURL: other.url, error: expect.stringMatching(/ECONNREFUSED/) },
        ]);
      } finally {
        await t2.close();
        await other.close();
      }
    });
  });
});
