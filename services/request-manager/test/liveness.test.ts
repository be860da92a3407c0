/**
 * Job Runner liveness against a real database (SQLite and MariaDB) and a fake
 * JR: leases, heartbeats and their drop lists, the lost-JR sweeper, job logs
 * of requests that are no longer RUNNING, stop of a request whose JR is dead,
 * and how the JR pool ranks JRs.
 */
import { type JobLog, type JobRunnerHeartbeat, State } from '@spincycle/protocol';
import { createLogger, silentLogger } from '@spincycle/service-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JrPool, type LiveSnapshot } from '../src/jr-pool.js';
import { JrStore } from '../src/stores/jr-store.js';
import { LeaseStore } from '../src/stores/lease-store.js';
import { RequestStore } from '../src/stores/request-store.js';
import { Sweeper } from '../src/sweeper.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

const LEASE = 1000;

function entry(requestId: string, jobId: string, tryNo: number, over: Partial<JobLog> = {}): JobLog {
  return {
    requestId,
    jobId,
    try: tryNo,
    name: `n-${jobId}`,
    type: 'noop',
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

describe.each(DB_KINDS)('Job Runner liveness on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;
  let jrStore: JrStore;
  let requests: RequestStore;
  const sweepers: Sweeper[] = [];

  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({ db: kind, jrUrl: jr.url, overrides: { 'jr.lease': `${LEASE}ms` } });
    jrStore = new JrStore(t.rm.db);
    requests = new RequestStore(t.rm.db);
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });
  afterEach(async () => {
    for (const s of sweepers.splice(0)) await s.stop();
    // Every test starts with nothing RUNNING and no JR known.
    await t.rm.db.run(async (m) => {
      await t.rm.db.exec(m, 'UPDATE `requests` SET `state` = 6, `jr_url` = NULL WHERE `state` = 2', []);
      await t.rm.db.exec(m, 'DELETE FROM `job_runners`', []);
    });
  });

  const sweeper = (instanceId = 'rm-a', leaseMs = LEASE) => {
    const s = new Sweeper(
      {
        requests,
        jrStore,
        leases: new LeaseStore(t.rm.db),
        finalizeLost: t.rm.lifecycle.finalizeLost.bind(t.rm.lifecycle),
        logger: process.env.DEBUG_SWEEP
          ? createLogger({ service: 't', level: 'debug', format: 'json' })
          : silentLogger(),
      },
      { intervalMs: 200, leaseMs, instanceId },
    );
    sweepers.push(s);
    return s;
  };

  const heartbeat = (over: Partial<JobRunnerHeartbeat> = {}) =>
    t.internal.heartbeat({
      jrURL: jr.url,
      instance: 'jr-1',
      startedAt: new Date().toISOString(),
      draining: false,
      requests: [],
      ...over,
    });

  /** Make the JR look silent since `agoMs`. */
  const silence = (url: string, agoMs: number) =>
    t.rm.db.run((m) =>
      t.rm.db.exec(m, 'UPDATE `job_runners` SET `last_seen` = ? WHERE `jr_url` = ?', [
        new Date(Date.now() - agoMs),
        url,
      ]),
    );

  /** The JR's last heartbeat at (synthetic) time `at`. */
  const seenAt = (url: string, at: number) =>
    t.rm.db.run((m) =>
      t.rm.db.exec(m, 'UPDATE `job_runners` SET `last_seen` = ? WHERE `jr_url` = ?', [new Date(at), url]),
    );

  /** Sweep at synthetic times from `from` to `to` in steps shorter than the sweeper's lease row lives; returns the total finalized. */
  const sweepUntil = async (
    s: Sweeper,
    from: number,
    to: number,
    beforeEach?: (at: number) => Promise<unknown>,
  ) => {
    let n = 0;
    for (let at = from; ; at = Math.min(to, at + 400)) {
      await beforeEach?.(at);
      n += (await s.runOnce(at)).finalized;
      if (at >= to) return n;
    }
  };

  /** COMPLETE entries for the jobs of `id` named in `names` (the chain is begin, begin, first, second, end, end). */
  const completed = async (id: string, names: string[]) => {
    const chain = await t.client.getJobChain(id);
    const jobs = Object.values(chain.jobs).filter((j) => names.includes(j.name));
    await t.internal.postJobLogs(jobs.map((j) => entry(id, j.id, 1, { name: j.name })));
  };
  const BEFORE_SECOND = ['request_with-args_begin', 'with-args_begin', 'first'];

  const running = async () => (await t.client.createRequest('with-args', { host: 'h', count: '1' })).id;

  describe('leases', () => {
    it('one holder at a time; renewed by its holder; taken over once expired; released at once', async () => {
      const leases = new LeaseStore(t.rm.db);
      const name = `test-${kind}-${Date.now()}`;
      const t0 = new Date();
      expect(await leases.acquire(name, 'a', 1000, t0)).toBe('acquired');
      expect(await leases.acquire(name, 'b', 1000, t0)).toBeUndefined();
      expect(await leases.acquire(name, 'a', 1000, new Date(t0.getTime() + 500))).toBe('renewed');
      expect(await leases.acquire(name, 'b', 1000, new Date(t0.getTime() + 1200))).toBeUndefined();
      expect(await leases.acquire(name, 'b', 1000, new Date(t0.getTime() + 1600))).toBe('acquired');
      expect((await leases.holder(name))?.holder).toBe('b');
      await leases.release(name, 'a'); // not a's: no effect
      expect(await leases.acquire(name, 'a', 1000, new Date(t0.getTime() + 1700))).toBeUndefined();
      await leases.release(name, 'b');
      expect(await leases.acquire(name, 'a', 1000, new Date(t0.getTime() + 1700))).toBe('acquired');
    });

    it('when two RMs race for a fresh lease, exactly one gets it', async () => {
      const leases = new LeaseStore(t.rm.db);
      const name = `race-${kind}-${Date.now()}`;
      const got = await Promise.all(['a', 'b', 'c', 'd'].map((h) => leases.acquire(name, h, 5000)));
      expect(got.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('heartbeat', () => {
    it('is stored and listed; the answer names held chains that are not RUNNING (drop) and the lease', async () => {
      const live = await running();
      const done = await running();
      await t.internal.finish({
        requestId: done,
        state: State.COMPLETE,
        finishedAt: new Date().toISOString(),
        finishedJobs: 2,
      });
      const reply = await heartbeat({
        requests: [
          { requestId: live, jobs: [{ jobId: 'j1', name: 'first', type: 'noop', try: 1 }] },
          { requestId: done, jobs: [] },
          { requestId: 'no-such-request', jobs: [] },
        ],
      });
      expect(reply).toEqual({ drop: [done, 'no-such-request'], leaseMs: LEASE });
      const list = await t.client.jobRunners();
      expect(list).toContainEqual(
        expect.objectContaining({ jrURL: jr.url, instance: 'jr-1', chains: 1, live: true, draining: false }),
      );
      const row = await jrStore.get(jr.url);
      expect(row?.held.map((h) => h.requestId)).toEqual([live]);
    });

    it('when the request is recorded under a URL that is no JR (a load balancer), the JR that holds it is recorded', async () => {
      const id = await running();
      await requests.patchIf(id, State.RUNNING, { jr_url: 'http://load-balancer:32307' });
      await heartbeat({ requests: [{ requestId: id, jobs: [] }] });
      expect((await requests.get(id))?.jr_url).toBe(jr.url);
    });

    it('when the request runs on another JR that holds it, this copy is dropped; when that JR does not hold it (a send that failed over), nothing happens', async () => {
      const id = await running();
      const other = 'http://127.0.0.1:9/other-jr';
      await heartbeat({ jrURL: other, requests: [] });
      await requests.patchIf(id, State.RUNNING, { jr_url: other });
      expect((await heartbeat({ requests: [{ requestId: id, jobs: [] }] })).drop).toEqual([]);
      expect((await requests.get(id))?.jr_url).toBe(other);
      await heartbeat({ jrURL: other, requests: [{ requestId: id, jobs: [] }] });
      expect((await heartbeat({ requests: [{ requestId: id, jobs: [] }] })).drop).toEqual([id]);
      expect((await requests.get(id))?.jr_url).toBe(other);
    });

    it('a JR restarted on the same address: the chains its old process held FAIL at its first heartbeat, with the reason on their running jobs; the others stay RUNNING', async () => {
      const [a, b, c, d] = [await running(), await running(), await running(), await running()];
      const chain = await t.client.getJobChain(a);
      const first = Object.values(chain.jobs).find((j) => j.name === 'first');
      const at = Date.now();
      await heartbeat({
        instance: 'old-1',
        startedAt: new Date(at - 60_000).toISOString(),
        requests: [
          { requestId: a, jobs: [{ jobId: first?.id ?? '', name: 'first', type: 'noop', try: 1 }] },
          { requestId: b, jobs: [] },
          { requestId: c, jobs: [] },
        ],
      });
      await seenAt(jr.url, at - 2000);
      // c finished just before the crash (its finish got through); d was sent to the new process.
      await t.internal.finish({
        requestId: c,
        state: State.COMPLETE,
        finishedAt: new Date().toISOString(),
        finishedJobs: 6,
      });
      const reply = await heartbeat({
        instance: 'new-1',
        startedAt: new Date(at - 1000).toISOString(),
        requests: [{ requestId: d, jobs: [] }],
      });
      expect(reply.drop).toEqual([]);
      // Failed in the background, right after the answer.
      await t.rm.liveness.settled();
      expect((await t.client.getRequest(a)).state).toBe(State.FAIL);
      expect((await t.client.getRequest(b)).state).toBe(State.FAIL);
      expect((await t.client.getRequest(c)).state).toBe(State.COMPLETE);
      expect((await t.client.getRequest(d)).state).toBe(State.RUNNING);
      const lost = (await t.client.getJobLogs(a)).filter((l) => l.state === State.FAIL);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ jobId: first?.id, name: 'first', try: 1 });
      expect(lost[0]?.error).toContain(`Job Runner ${jr.url} was lost: it restarted at`);
      expect(lost[0]?.error).toContain('instance old-1');
      expect((await jrStore.get(jr.url))?.instance).toBe('new-1');
      await t.rm.lifecycle.finalizeLost(d, jr.url, State.STOPPED, 'test cleanup');
    });

    it('no FAIL at a new instance when the old process was shutting down, was heard after the new one started (two processes on one URL), or when the instance is the same', async () => {
      const at = Date.now();
      const old = (id: string, over: Partial<JobRunnerHeartbeat> = {}) =>
        heartbeat({
          instance: 'old-2',
          startedAt: new Date(at - 60_000).toISOString(),
          requests: [{ requestId: id, jobs: [] }],
          ...over,
        });
      const fresh = (instance: string) =>
        heartbeat({ instance, startedAt: new Date(at - 1000).toISOString(), requests: [] });
      // Shutting down: it said so in a heartbeat.
      const a = await running();
      await old(a, { draining: true });
      await seenAt(jr.url, at - 2000);
      await fresh('new-2');
      // Still up when the other process started.
      const b = await running();
      await old(b);
      await fresh('new-3');
      // Same process.
      const c = await running();
      await old(c);
      await seenAt(jr.url, at - 2000);
      await old(c, { requests: [] });
      await t.rm.liveness.settled(); // what a restart would fail runs right after the answer
      for (const id of [a, b, c]) {
        expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
        await t.rm.lifecycle.finalizeLost(id, jr.url, State.STOPPED, 'test cleanup');
      }
    });

    it('a chain handed back (suspend) marks its JR as shutting down, so a new process there fails nothing', async () => {
      const id = await running();
      const other = await running();
      const at = Date.now();
      await heartbeat({
        instance: 'old-3',
        startedAt: new Date(at - 60_000).toISOString(),
        requests: [
          { requestId: id, jobs: [] },
          { requestId: other, jobs: [] },
        ],
      });
      await seenAt(jr.url, at - 2000);
      const chain = await t.client.getJobChain(id);
      await t.internal.suspend({
        requestId: id,
        jobChain: chain,
        totalJobTries: {},
        latestRunJobTries: {},
        sequenceTries: {},
      });
      expect((await jrStore.get(jr.url))?.draining).toBe(true);
      // Resumed on the new process on the same address before its first heartbeat names it.
      await requests.patchIf(id, State.SUSPENDED, { state: State.RUNNING, jr_url: jr.url });
      await heartbeat({ instance: 'new-4', startedAt: new Date(at - 1000).toISOString(), requests: [] });
      await t.rm.liveness.settled();
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
      expect((await t.client.getRequest(other)).state).toBe(State.RUNNING);
      for (const r of [id, other])
        await t.rm.lifecycle.finalizeLost(r, jr.url, State.STOPPED, 'test cleanup');
    });

    it('a bad heartbeat is a 400', async () => {
      const res = await call(t.url, 'PUT', '/api/v1/job-runners/heartbeat', { jrURL: 'not a url' });
      expect(res.status).toBe(400);
      expect((res.json as { message: string }).message).toContain('jrURL');
    });
  });

  describe('sweeper', () => {
    it('when the JR is silent past the lease, its requests FAIL with finishedAt and a log entry on each running job', async () => {
      const id = await running();
      await heartbeat({
        requests: [{ requestId: id, jobs: [{ jobId: 'j1', name: 'first', type: 'noop', try: 2 }] }],
      });
      await t.internal.postJobLogs([entry(id, 'j1', 1, { state: State.FAIL })]);
      await silence(jr.url, 5000);
      const s = sweeper();
      const t0 = Date.now();
      expect(await s.runOnce(t0)).toEqual({ holder: true, finalized: 0 }); // not watched for a lease yet
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
      expect(await sweepUntil(s, t0, t0 + LEASE - 100)).toBe(0);
      expect(await sweepUntil(s, t0 + LEASE + 100, t0 + LEASE + 100)).toBe(1);
      const req = await t.client.getRequest(id);
      expect(req.state).toBe(State.FAIL);
      expect(req.finishedAt).not.toBeNull();
      expect(req).not.toHaveProperty('jrURL');
      const logs = await t.client.getJobLogs(id);
      const lost = logs.filter((l) => l.jobId === 'j1' && l.try === 2);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ state: State.FAIL, name: 'first' });
      expect(lost[0]?.error).toContain(`Job Runner ${jr.url} was lost`);
      expect(lost[0]?.error).toContain('no heartbeat since');
      // The JR comes back: it is told to drop the chain, and its late entries are refused.
      expect((await heartbeat({ requests: [{ requestId: id, jobs: [] }] })).drop).toEqual([id]);
      const late = await call(t.url, 'POST', '/api/v1/job-logs', [entry(id, 'j1', 3)]);
      expect(late.json).toEqual({ inserted: 0, refused: [id] });
      await expect(
        t.internal.finish({
          requestId: id,
          state: State.COMPLETE,
          finishedAt: new Date().toISOString(),
          finishedJobs: 2,
        }),
      ).rejects.toMatchObject({ status: 409 });
      await expect(t.internal.progress({ requestId: id, finishedJobs: 1 })).rejects.toMatchObject({
        status: 409,
      });
    });

    it('when a heartbeat arrives in time, nothing is finalized', async () => {
      const id = await running();
      await heartbeat({ requests: [{ requestId: id, jobs: [] }] });
      const s = sweeper();
      const t0 = Date.now();
      const beat = async (at: number) => {
        await heartbeat({ requests: [{ requestId: id, jobs: [] }] });
        await seenAt(jr.url, at);
      };
      expect(await sweepUntil(s, t0, t0 + 3 * LEASE, beat)).toBe(0);
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
      await t.rm.lifecycle.finalizeLost(id, jr.url, State.STOPPED, 'test cleanup');
    });

    it('when the JR is up but has not held the chain for a lease (it restarted), the request FAILs; entries go on the jobs that were due', async () => {
      const id = await running();
      await completed(id, BEFORE_SECOND);
      const s = sweeper();
      const t0 = Date.now();
      const beat = async (at: number) => {
        await heartbeat({ instance: 'jr-2', requests: [] });
        await seenAt(jr.url, at);
      };
      expect(await sweepUntil(s, t0, t0 + LEASE - 100, beat)).toBe(0);
      expect(await sweepUntil(s, t0 + LEASE + 100, t0 + LEASE + 100, beat)).toBe(1);
      const req = await t.client.getRequest(id);
      expect(req.state).toBe(State.FAIL);
      const lost = (await t.client.getJobLogs(id)).filter((l) => l.state === State.FAIL);
      // The job after the completed ones was due.
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ name: 'second', try: 1 });
      expect(lost[0]?.error).toContain('has not held the request');
    });

    it('when the JR never sent a heartbeat, the request FAILs after a lease', async () => {
      const id = await running();
      const other = 'http://127.0.0.1:9/never-heard-of';
      await requests.patchIf(id, State.RUNNING, { jr_url: other });
      await completed(id, BEFORE_SECOND);
      const s = sweeper();
      const t0 = Date.now();
      expect(await sweepUntil(s, t0, t0 + LEASE - 100)).toBe(0);
      expect(await sweepUntil(s, t0 + LEASE + 100, t0 + LEASE + 100)).toBe(1);
      const logs = await t.client.getJobLogs(id);
      const lost = logs.filter((l) => l.state === State.FAIL);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ name: 'second', try: 1 });
      expect(lost[0]?.error).toContain(`Job Runner ${other} was lost: it sent no heartbeat`);
    });

    it('when every job completed and only the finish was lost, the request is COMPLETE', async () => {
      const id = await running();
      const chain = await t.client.getJobChain(id);
      await t.internal.postJobLogs(Object.keys(chain.jobs).map((j) => entry(id, j, 1)));
      await heartbeat({ requests: [{ requestId: id, jobs: [] }] });
      await silence(jr.url, 5000);
      const s = sweeper();
      const t0 = Date.now();
      expect(await sweepUntil(s, t0, t0 + LEASE + 100)).toBe(1);
      const req = await t.client.getRequest(id);
      expect(req).toMatchObject({ state: State.COMPLETE, finishedJobs: req.totalJobs });
      expect(await t.client.getJobLogs(id)).toHaveLength(req.totalJobs);
    });

    it('after a pause of its own (stalled RM, database outage) it watches a whole lease again before blaming a JR', async () => {
      const id = await running();
      await heartbeat({ requests: [{ requestId: id, jobs: [] }] });
      await silence(jr.url, 30_000);
      const s = sweeper();
      const t0 = Date.now();
      expect(await sweepUntil(s, t0, t0 + 400)).toBe(0);
      // No sweep for a while (the lease row still ours): the silence it sees now may be its own.
      await t.rm.db.run((m) =>
        t.rm.db.exec(m, 'UPDATE `leases` SET `expires_at` = ?', [new Date(t0 + 60_000)]),
      );
      expect((await s.runOnce(t0 + 20_000)).finalized).toBe(0);
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
      // The JR reports again during the new watch: nothing happens.
      const beat = async (at: number) => {
        await heartbeat({ requests: [{ requestId: id, jobs: [] }] });
        await seenAt(jr.url, at);
      };
      expect(await sweepUntil(s, t0 + 20_400, t0 + 20_400 + 2 * LEASE, beat)).toBe(0);
      expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
      // Then it goes silent for a lease: now it is lost.
      expect(await sweepUntil(s, t0 + 20_800 + 2 * LEASE, t0 + 20_400 + 3 * LEASE + 400)).toBe(1);
    });

    it('runs on one RM at a time; another takes over when the holder stops', async () => {
      const a = sweeper('rm-a');
      const b = sweeper('rm-b');
      const first = await a.runOnce();
      const second = await b.runOnce();
      expect([first.holder, second.holder].filter(Boolean)).toHaveLength(1);
      const holder = first.holder ? a : b;
      const other = first.holder ? b : a;
      holder.start();
      await holder.stop(); // releases the lease
      expect((await other.runOnce()).holder).toBe(true);
    });
  });

  describe('stop', () => {
    it('when the JR is known dead (silent past the lease), stop finalizes at once: FAIL with the reason in the log', async () => {
      const id = await running();
      await heartbeat({
        requests: [{ requestId: id, jobs: [{ jobId: 'j9', name: 'first', type: 'noop', try: 1 }] }],
      });
      await silence(jr.url, 5000);
      const stopsBefore = jr.stops.length;
      await t.client.stopRequest(id);
      expect(jr.stops.length).toBe(stopsBefore); // not even asked
      const req = await t.client.getRequest(id);
      expect(req.state).toBe(State.FAIL);
      expect(req.finishedAt).not.toBeNull();
      const logs = await t.client.getJobLogs(id);
      expect(logs).toEqual([expect.objectContaining({ jobId: 'j9', try: 1, state: State.FAIL })]);
      expect(logs[0]?.error).toContain(`Job Runner ${jr.url} was lost`);
      await heartbeat();
    });
  });

  describe('job logs', () => {
    it('entries of a request that is not RUNNING are refused (batch: skipped and named; single: 409 unless already stored)', async () => {
      const id = await running();
      await t.internal.postJobLog(entry(id, 'a', 1));
      await t.rm.lifecycle.finalizeLost(id, jr.url, State.STOPPED, 'test');
      const res = await call(t.url, 'POST', '/api/v1/job-logs', [entry(id, 'a', 2)]);
      expect(res.status).toBe(201);
      expect(res.json).toEqual({ inserted: 0, refused: [id] });
      await t.internal.postJobLog(entry(id, 'a', 1)); // a re-send of a stored entry is fine
      await expect(t.internal.postJobLog(entry(id, 'a', 2))).rejects.toMatchObject({ status: 409 });
      expect((await t.client.getJobLogs(id)).map((l) => l.try)).toEqual([1]);
    });
  });
});

describe('JR pool ranking', () => {
  const urls = ['http://jr-a', 'http://jr-b', 'http://jr-c'];
  const pool = (snap: LiveSnapshot) => {
    const p = new JrPool(urls, { timeoutMs: 1000 });
    p.useLiveness(async () => snap);
    return p;
  };
  // The snapshot resolves at once: one turn of the event loop lets the pool take it.
  const tick = () => new Promise((r) => setImmediate(r));

  it('live JRs first, fewest chains first; unknown ones next; silent or draining ones last', async () => {
    const p = pool(
      new Map([
        ['http://jr-a', { live: false, draining: false, chains: 0 }],
        ['http://jr-b', { live: true, draining: false, chains: 5 }],
      ]),
    );
    await tick();
    expect(p.candidates().map((c) => c.baseURL)).toEqual(['http://jr-b', 'http://jr-c', 'http://jr-a']);
  });

  it('spreads a burst by counting what it sent since the last look', async () => {
    const p = pool(
      new Map([
        ['http://jr-a', { live: true, draining: false, chains: 2 }],
        ['http://jr-b', { live: true, draining: false, chains: 0 }],
        ['http://jr-c', { live: true, draining: true, chains: 0 }],
      ]),
    );
    await tick();
    const firsts = Array.from({ length: 6 }, () => p.candidates()[0]?.baseURL);
    expect(firsts.filter((u) => u === 'http://jr-b')).toHaveLength(4);
    expect(firsts.filter((u) => u === 'http://jr-a')).toHaveLength(2);
    expect(firsts).not.toContain('http://jr-c');
  });

  it('with one configured URL (a load balancer): the live JRs that heartbeat, fewest chains first, then the configured URL', async () => {
    const p = new JrPool(['http://lb'], { timeoutMs: 1000 });
    p.useLiveness(
      async () =>
        new Map([
          ['http://jr-a', { live: true, draining: false, chains: 3 }],
          ['http://jr-b', { live: true, draining: false, chains: 0 }],
          ['http://jr-c', { live: true, draining: true, chains: 0 }],
          ['http://jr-d', { live: false, draining: false, chains: 0 }],
        ]),
    );
    expect(p.candidates().map((c) => c.baseURL)).toEqual(['http://lb']);
    await tick();
    expect(p.candidates().map((c) => c.baseURL)).toEqual(['http://jr-b', 'http://jr-a', 'http://lb']);
    p.close();
  });

  it('a JR a chain could not be sent to goes last until it is heard from again', async () => {
    // Nothing listens on port 1: the send fails at once.
    const dead = 'http://127.0.0.1:1';
    let lastSeen = Date.now() - 100;
    const p = new JrPool(['http://lb'], { timeoutMs: 1000, attempts: 1 });
    p.useLiveness(async () => new Map([[dead, { live: true, draining: false, chains: 0, lastSeen }]]), 10);
    await tick();
    expect(p.candidates()[0]?.baseURL).toBe(dead);
    await expect(p.startChain(p.client(dead), '{"requestId":"r1"}')).rejects.toThrow();
    expect(p.candidates().map((c) => c.baseURL)).toEqual(['http://lb', dead]);
    // A heartbeat after the failure: first again once the pool has read it.
    lastSeen = Date.now() + 1;
    let first = p.candidates()[0]?.baseURL;
    for (let i = 0; i < 200 && first !== dead; i++) {
      await new Promise((r) => setTimeout(r, 10));
      first = p.candidates()[0]?.baseURL;
    }
    expect(first).toBe(dead);
    p.close();
  });

  it('without heartbeats: round-robin', () => {
    const p = new JrPool(urls, { timeoutMs: 1000 });
    expect([0, 1, 2].map(() => p.candidates()[0]?.baseURL)).toEqual(urls);
  });
});
