/**
 * Job Runner calls are bound to the JR the RM records for each request
 * (header X-Spincycle-Job-Runner): finish, progress, suspend, job logs and
 * report batches from another JR are refused, per entry in a batch; a
 * heartbeat cannot name another JR's URL; a hand-off moves the binding; and a
 * suspended chain must be the chain the RM sent. Over HTTP, on SQLite and
 * MariaDB, with fake Job Runners.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOB_RUNNER_HEADER, type JobChain, State } from '@spincycle/protocol';
import { silentLogger } from '@spincycle/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JrPool } from '../src/jr-pool.js';
import { Resumer } from '../src/resumer.js';
import { JobLogStore } from '../src/stores/job-log-store.js';
import { RequestStore } from '../src/stores/request-store.js';
import { SjcStore } from '../src/stores/sjc-store.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

const from = (url: string) => ({ [JOB_RUNNER_HEADER]: url });

const finishBody = (id: string) => ({
  requestId: id,
  state: State.COMPLETE,
  finishedAt: '2030-01-02T03:04:05.678Z',
  finishedJobs: 1,
});

const entry = (requestId: string, jobId: string) => ({
  requestId,
  jobId,
  try: 1,
  name: `n-${jobId}`,
  type: 'noop',
  startedAt: '1554230366094196501',
  finishedAt: '1554230367094791703',
  state: State.COMPLETE,
  exit: 0,
  error: '',
  stdout: '',
  stderr: '',
});

const sjcOf = (id: string, chain: JobChain) => ({
  requestId: id,
  jobChain: chain,
  totalJobTries: {},
  latestRunJobTries: {},
  sequenceTries: {},
});

describe.each(DB_KINDS)('internal calls bound to the request’s Job Runner on %s', (kind) => {
  let jr1: FakeJr;
  let jr2: FakeJr;
  let t: TestRm;
  /** A request RUNNING on one of the fake JRs, and that JR. */
  const create = async (type = 'no-args', args: Record<string, unknown> = {}) => {
    const r = await t.client.createRequest(type, args);
    const jr = [jr1, jr2].find((j) => j.url === r.jrURL) as FakeJr;
    return { id: r.id, jr, other: jr === jr1 ? jr2 : jr1 };
  };

  beforeAll(async () => {
    jr1 = await new FakeJr().start();
    jr2 = await new FakeJr().start();
    t = await startTestRm({ db: kind, jrUrl: `${jr1.url},${jr2.url}` });
  });
  afterAll(async () => {
    await t?.close();
    await jr1?.close();
    await jr2?.close();
  });

  it('a finish, progress, job-log entry or suspend from another JR is 403 naming the request and both JRs', async () => {
    const { id, jr, other } = await create();
    const chain = jr.chains.get(id) as JobChain;
    for (const [method, path, body] of [
      ['PUT', `/api/v1/requests/${id}/finish`, finishBody(id)],
      ['PUT', `/api/v1/requests/${id}/progress`, { requestId: id, finishedJobs: 1 }],
      ['POST', `/api/v1/requests/${id}/log`, entry(id, 'a')],
      ['PUT', `/api/v1/requests/${id}/suspend`, sjcOf(id, chain)],
    ] as const) {
      const res = await call(t.url, method, path, body, from(other.url));
      expect([path, res.status, res.json]).toEqual([
        path,
        403,
        {
          message: `request ${id} runs on Job Runner ${jr.url}, not on ${other.url}`,
          requestId: '',
          httpStatus: 403,
        },
      ]);
    }
    const req = await t.client.getRequest(id);
    expect(req).toMatchObject({ state: State.RUNNING, finishedJobs: 0, jrURL: jr.url });
    expect(await t.client.getJobLogs(id)).toEqual([]);
    // Its own JR (a trailing slash is the same URL).
    expect(
      (await call(t.url, 'POST', `/api/v1/requests/${id}/log`, entry(id, 'a'), from(jr.url))).status,
    ).toBe(201);
    expect(
      (await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id), from(`${jr.url}/`))).status,
    ).toBe(200);
    expect((await t.client.getRequest(id)).state).toBe(State.COMPLETE);
  });

  it('a report batch takes the entries, progress and finishes of the caller’s requests and refuses the others one by one', async () => {
    const mine = await create();
    let theirs = await create();
    while (theirs.jr === mine.jr) theirs = await create();
    const batch = {
      logs: [entry(mine.id, 'a'), entry(theirs.id, 'a')],
      progress: [{ requestId: theirs.id, finishedJobs: 1 }],
      finishes: [finishBody(mine.id), finishBody(theirs.id)],
    };
    const res = await call(t.url, 'POST', '/api/v1/internal/reports', batch, from(mine.jr.url));
    expect(res.json).toEqual({
      inserted: 1,
      refused: [theirs.id],
      finishes: { [mine.id]: 'ok', [theirs.id]: 'other_jr' },
    });
    expect((await t.client.getRequest(mine.id)).state).toBe(State.COMPLETE);
    expect(await t.client.getRequest(theirs.id)).toMatchObject({ state: State.RUNNING, finishedJobs: 0 });
    expect(await t.client.getJobLogs(theirs.id)).toEqual([]);
    // The batched job-log endpoint too.
    const logs = await call(t.url, 'POST', '/api/v1/job-logs', [entry(theirs.id, 'b')], from(mine.jr.url));
    expect(logs.json).toEqual({ inserted: 0, refused: [theirs.id] });
    expect(await t.client.getJobLogs(theirs.id)).toEqual([]);
  });

  it('a heartbeat naming another JR’s URL is 403, so its requests are not failed as lost by a “restart”', async () => {
    const { id, jr, other } = await create();
    const beat = (instance: string, requests: unknown[]) => ({
      jrURL: jr.url,
      instance,
      startedAt: new Date().toISOString(),
      requests,
    });
    const own = await call(
      t.url,
      'PUT',
      '/api/v1/job-runners/heartbeat',
      beat('first', [{ requestId: id }]),
      from(jr.url),
    );
    expect(own.status).toBe(200);
    const forged = await call(
      t.url,
      'PUT',
      '/api/v1/job-runners/heartbeat',
      beat('forged', []),
      from(other.url),
    );
    expect([forged.status, forged.json]).toEqual([
      403,
      {
        message: `heartbeat for Job Runner ${jr.url} refused: the call comes from Job Runner ${other.url}`,
        requestId: '',
        httpStatus: 403,
      },
    ]);
    expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
    expect((await t.client.jobRunners()).find((r) => r.jrURL === jr.url)?.instance).toBe('first');
  });

  it('a hand-off moves the binding: after a resume on the other JR only that JR may finish', async () => {
    const { id, jr, other } = await create();
    const chain = jr.chains.get(id) as JobChain;
    const suspended = { ...sjcOf(id, chain), jobChain: { ...chain, state: State.SUSPENDED } };
    expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/suspend`, suspended, from(jr.url))).status).toBe(
      200,
    );
    // The resumer (the loop is driven by hand here) sends it to the other JR.
    const resumer = new Resumer(
      {
        db: t.rm.db,
        requests: new RequestStore(t.rm.db),
        sjcs: new SjcStore(t.rm.db),
        logs: new JobLogStore(t.rm.db),
        jrs: new JrPool([other.url], { timeoutMs: 1000, attempts: 1 }),
        logger: silentLogger(),
      },
      { intervalMs: 60_000, ttlMs: 3600_000, claimTimeoutMs: 300_000 },
    );
    expect(await resumer.resume(id)).toBe('resumed');
    expect(other.resumed.map((s) => s.requestId)).toContain(id);
    expect((await t.client.getRequest(id)).jrURL).toBe(other.url);
    expect(
      (await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id), from(jr.url))).status,
    ).toBe(403);
    expect(
      (await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id), from(other.url))).status,
    ).toBe(200);
  });

  it('a bad header is 400; without JR credentials configured, a call without it is still taken', async () => {
    const { id } = await create();
    const bad = await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id), from('ftp://x'));
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toContain(JOB_RUNNER_HEADER);
    expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id))).status).toBe(200);
  });

  describe('a suspended chain must be the chain the RM sent', () => {
    let retyped = '';
    const suspendWith = async (change: (chain: JobChain) => JobChain) => {
      const { id, jr } = await create('test', { sleepTime: '5' });
      const chain = structuredClone(jr.chains.get(id) as JobChain);
      const res = await call(
        t.url,
        'PUT',
        `/api/v1/requests/${id}/suspend`,
        sjcOf(id, change(chain)),
        from(jr.url),
      );
      return { id, res };
    };
    const firstJob = (chain: JobChain) =>
      Object.values(chain.jobs).find((j) => j.type === 'noop') as JobChain['jobs'][string];

    it('only job data, states and tries may change', async () => {
      const { id, res } = await suspendWith((chain) => {
        const job = firstJob(chain);
        job.state = State.COMPLETE;
        job.data = { seen: true };
        return { ...chain, state: State.SUSPENDED, finishedJobs: 1 };
      });
      expect(res.status).toBe(200);
      expect((await t.client.getRequest(id)).state).toBe(State.SUSPENDED);
    });

    for (const [what, change, message] of [
      [
        'an added shell-command job',
        (chain: JobChain) => {
          const first = firstJob(chain);
          chain.jobs.evil = {
            ...first,
            id: 'evil',
            name: 'evil',
            type: 'shell-command',
            bytes: 'cm0gLXJmIC8=',
          };
          chain.adjacencyList[first.id] = [...(chain.adjacencyList[first.id] ?? []), 'evil'];
          return chain;
        },
        () => 'job evil is not in the request',
      ],
      [
        'a changed type',
        (chain: JobChain) => {
          const first = firstJob(chain);
          first.type = 'shell-command';
          retyped = `job ${first.id} (${first.name}): type differs`;
          return chain;
        },
        () => retyped,
      ],
      [
        'a changed edge',
        (chain: JobChain) => {
          const first = firstJob(chain);
          const [, ...rest] = chain.adjacencyList[first.id] ?? [];
          chain.adjacencyList[first.id] = rest;
          return chain;
        },
        (chain: JobChain) => `the successors of job ${firstJob(chain).id} differ`,
      ],
    ] as const) {
      it(`${what} is a 400 naming the difference, and nothing changes`, async () => {
        let changed: JobChain | undefined;
        const { id, res } = await suspendWith((chain) => {
          changed = change(chain);
          return changed;
        });
        expect(res.status).toBe(400);
        const msg = (res.json as { message: string }).message;
        expect(msg).toContain(
          `invalid SuspendedJobChain: the job chain of request ${id} is not the chain the RM sent`,
        );
        expect(msg).toContain(message(changed as JobChain));
        expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
      });
    }
  });
});

describe('with a JR credential configured', () => {
  let jr: FakeJr;
  let t: TestRm;
  const token = 'jr-internal-token-0123456789abcdef';
  beforeAll(async () => {
    jr = await new FakeJr().start();
    const dir = mkdtempSync(join(tmpdir(), 'binding-'));
    writeFileSync(join(dir, 'internal'), `${token}\n`);
    t = await startTestRm({
      db: 'sqlite',
      jrUrl: jr.url,
      overrides: { 'auth.internal_token_file': join(dir, 'internal') },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('an internal call without the header is 403, with it 200', async () => {
    const id = (await t.client.createRequest('no-args', {})).id;
    const creds = { 'X-Spincycle-Internal-Token': token };
    for (const [method, path, body] of [
      ['PUT', `/api/v1/requests/${id}/finish`, finishBody(id)],
      ['PUT', '/api/v1/job-runners/heartbeat', { jrURL: jr.url, requests: [] }],
      ['POST', '/api/v1/internal/reports', { logs: [], progress: [], finishes: [] }],
    ] as const) {
      const res = await call(t.url, method, path, body, creds);
      expect([path, res.status, (res.json as { message: string }).message]).toEqual([
        path,
        403,
        `Job Runner calls must carry the Job Runner's URL in the ${JOB_RUNNER_HEADER} header`,
      ]);
    }
    expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
    const ok = await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id), {
      ...creds,
      ...from(jr.url),
    });
    expect(ok.status).toBe(200);
  });
});

describe.each(DB_KINDS)('a Job Runner behind a load balancer on %s', (kind) => {
  // The RM reaches the fake JR as `localhost:<port>` (the balancer's URL it records first); the JR
  // advertises and reports as `127.0.0.1:<port>`, and reports before its answer reaches the RM.
  let jr: FakeJr;
  let rival: FakeJr;
  let t: TestRm;
  let lb = '';
  beforeAll(async () => {
    jr = await new FakeJr().start();
    rival = await new FakeJr().start();
    lb = jr.url.replace('127.0.0.1', 'localhost');
    t = await startTestRm({ db: kind, jrUrl: lb });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
    await rival?.close();
  });

  it('its first reports are taken (not lost) and the request is recorded on it; another JR then gets other_jr', async () => {
    const answers: unknown[] = [];
    jr.beforeAnswer = async (chain) => {
      const id = chain.requestId;
      // Recorded on the balancer's URL until this answer arrives.
      expect((await t.client.getRequest(id)).jrURL).toBe(lb);
      const batch = { logs: [entry(id, 'a')], progress: [{ requestId: id, finishedJobs: 1 }] };
      answers.push((await call(t.url, 'POST', '/api/v1/internal/reports', batch, from(jr.url))).json);
      // Once taken, a JR behind the same balancer (the rival) is refused.
      answers.push(
        (
          await call(
            t.url,
            'POST',
            '/api/v1/job-logs',
            [entry(id, 'b')],
            from(rival.url.replace('127.0.0.1', 'localhost')),
          )
        ).json,
      );
    };
    const { id } = await t.client.createRequest('no-args', {});
    jr.beforeAnswer = undefined;
    expect(answers).toEqual([
      { inserted: 1, refused: [], finishes: {} },
      { inserted: 0, refused: [id] },
    ]);
    expect(await t.client.getRequest(id)).toMatchObject({
      state: State.RUNNING,
      jrURL: jr.url,
      finishedJobs: 1,
    });
    expect((await t.client.getJobLogs(id)).map((e) => e.jobId)).toEqual(['a']);
    const theirs = await call(
      t.url,
      'POST',
      '/api/v1/internal/reports',
      { finishes: [finishBody(id)] },
      from(rival.url),
    );
    expect(theirs.json).toEqual({ inserted: 0, refused: [], finishes: { [id]: 'other_jr' } });
    expect(
      (await call(t.url, 'PUT', `/api/v1/requests/${id}/finish`, finishBody(id), from(jr.url))).status,
    ).toBe(200);
  });

  it('a JR whose own URL is configured never takes a request recorded on another configured URL', async () => {
    const direct = await startTestRm({ db: kind, jrUrl: `${lb},${rival.url}` });
    try {
      const statuses: number[] = [];
      jr.beforeAnswer = async (chain) => {
        const id = chain.requestId;
        statuses.push(
          (await call(direct.url, 'POST', `/api/v1/requests/${id}/log`, entry(id, 'a'), from(rival.url)))
            .status,
        );
      };
      let id = '';
      while (!id) {
        const r = await direct.client.createRequest('no-args', {});
        if (r.jrURL === jr.url) id = r.id;
      }
      jr.beforeAnswer = undefined;
      expect(statuses).toEqual([403]);
      expect(await direct.client.getJobLogs(id)).toEqual([]);
    } finally {
      await direct.close();
    }
  });

  it('a chain that fails over to the next JR is recorded on it before it is offered, so that JR’s first reports are taken', async () => {
    const busy = await new FakeJr().start();
    busy.mode = 'busy-503';
    const next = await new FakeJr().start();
    const r = await startTestRm({ db: kind, jrUrl: `${busy.url},${next.url}` });
    try {
      const seen: Array<[string, number]> = [];
      next.beforeAnswer = async (chain) => {
        const id = chain.requestId;
        const log = await call(r.url, 'POST', `/api/v1/requests/${id}/log`, entry(id, 'a'), from(next.url));
        seen.push([(await r.client.getRequest(id)).jrURL ?? '', log.status]);
      };
      // Round-robin: one of the two is offered to the busy JR first.
      for (let i = 0; i < 2; i++) await r.client.createRequest('no-args', {});
      expect(seen).toEqual([
        [next.url, 201],
        [next.url, 201],
      ]);
    } finally {
      await r.close();
      await busy.close();
      await next.close();
    }
  });

  it('once the JR behind it heartbeats, chains go to its advertised URL, recorded on it from the start, so its first reports are taken', async () => {
    const beat = await call(
      t.url,
      'PUT',
      '/api/v1/job-runners/heartbeat',
      { jrURL: jr.url, instance: 'direct', startedAt: new Date().toISOString(), requests: [] },
      from(jr.url),
    );
    expect(beat.status).toBe(200);
    const recorded: string[] = [];
    jr.beforeAnswer = async (chain) => {
      const id = chain.requestId;
      recorded.push((await t.client.getRequest(id)).jrURL ?? '');
      await call(t.url, 'POST', '/api/v1/job-logs', [entry(id, 'a')], from(jr.url));
    };
    // The pool reads heartbeats in the background: the next chains after that go to the JR directly.
    let id = '';
    for (const deadline = Date.now() + 10_000; !id && Date.now() < deadline; ) {
      const r = await t.client.createRequest('no-args', {});
      if (recorded.at(-1) === jr.url) id = r.id;
    }
    jr.beforeAnswer = undefined;
    expect(id).not.toBe('');
    expect(await t.client.getRequest(id)).toMatchObject({ state: State.RUNNING, jrURL: jr.url });
    expect((await t.client.getJobLogs(id)).map((e) => e.jobId)).toEqual(['a']);
    // Another JR behind the same balancer is refused.
    const rivals = await call(
      t.url,
      'POST',
      '/api/v1/job-logs',
      [entry(id, 'b')],
      from(rival.url.replace('127.0.0.1', 'localhost')),
    );
    expect(rivals.json).toEqual({ inserted: 0, refused: [id] });
  });
});
