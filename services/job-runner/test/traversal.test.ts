/**
 * Traversal, job data, failures and the concurrency limit, run in-process
 * through the HTTP API with the test jobs loaded via `jobs.module`; what the
 * JR sends to the RM is recorded by an in-memory sink.
 */
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JobSpec,
  line,
  makeChain,
  reqId,
  runCount,
  startChain,
  startTestJr,
  summary,
  type TestJr,
  waitFor,
} from './helpers.js';

let jr: TestJr;
beforeAll(async () => {
  jr = await startTestJr();
});
afterAll(async () => {
  await jr.close();
});

describe('normal traversal', () => {
  it('runs a line of jobs in order and finishes COMPLETE after delivering every job log', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    const id = await startChain(
      jr,
      ids.map((j) => ({ id: j })),
      line(ids),
    );
    const fin = await jr.sink.finished(id);
    expect(fin).toMatchObject({ requestId: id, state: State.COMPLETE, finishedJobs: 4 });
    expect(fin.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const logs = jr.sink.logs(id);
    expect(summary(logs)).toEqual(['a:1:COMPLETE', 'b:1:COMPLETE', 'c:1:COMPLETE', 'd:1:COMPLETE']);
    for (const l of logs) {
      expect(l).toMatchObject({
        requestId: id,
        name: l.jobId,
        type: 'noop',
        exit: 0,
        error: '',
        stdout: '',
        stderr: '',
      });
      expect(typeof l.startedAt).toBe('bigint');
      expect(l.finishedAt >= l.startedAt).toBe(true);
    }
    // finish comes after the last log batch of the chain
    const idx = jr.sink.events.findIndex((e) => e.op === 'finish' && e.body.requestId === id);
    const lastLog = jr.sink.events.findLastIndex(
      (e) => e.op === 'logs' && e.entries.some((l) => l.requestId === id),
    );
    expect(idx).toBeGreaterThan(lastLog);
  });

  it('runs every runnable job in parallel', async () => {
    const mids = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const edges: Record<string, string[]> = { s: mids };
    for (const m of mids) edges[m] = ['e'];
    const t0 = Date.now();
    const id = await startChain(
      jr,
      [{ id: 's' }, ...mids.map((m) => ({ id: m, type: 't-sleep', args: { ms: 300 } })), { id: 'e' }],
      edges,
    );
    const fin = await jr.sink.finished(id);
    expect(fin.state).toBe(State.COMPLETE);
    expect(fin.finishedJobs).toBe(12);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('a chain with no jobs completes at once', async () => {
    const id = await startChain(jr, []);
    expect(await jr.sink.finished(id)).toMatchObject({ state: State.COMPLETE, finishedJobs: 0 });
  });

  it('answers 200 with an empty body and a Location under the advertised URL', async () => {
    const id = reqId();
    const res = await fetch(`${jr.url}/api/v1/job-chains`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(makeChain(id, [{ id: 'a' }])),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(res.headers.get('location')).toBe(`${jr.baseUrl}/api/v1/job-chains/${id}`);
    expect(res.headers.get('x-spincycle-version')).toBe('2.1.1');
    await jr.sink.finished(id);
  });
});

describe('job data', () => {
  it('flows to successors when a job completes, accumulating over fan-in', async () => {
    const id = await startChain(
      jr,
      [
        { id: 'a', type: 't-set-data', args: { set: { a: 1, shared: 'a' } } },
        { id: 'p', type: 't-set-data', args: { set: { p: true, shared: 'p' } } },
        { id: 'q', type: 't-set-data', args: { set: { q: [1, 2] } } },
        { id: 'r', type: 't-record' },
      ],
      { a: ['p', 'q'], p: ['r'], q: ['r'] },
    );
    expect((await jr.sink.finished(id)).state).toBe(State.COMPLETE);
    const seenByP = JSON.parse(jr.sink.jobLogs(id, 'p')[0]?.stdout ?? 'null');
    expect(seenByP).toEqual({ a: 1, shared: 'a' });
    const seenByR = JSON.parse(jr.sink.jobLogs(id, 'r')[0]?.stdout ?? 'null');
    expect(seenByR).toMatchObject({ a: 1, p: true, q: [1, 2] });
    // q inherited shared='a' from a, p set shared='p': the parent that completed last wins
    const order = jr.sink.logs(id).map((l) => l.jobId);
    expect(seenByR.shared).toBe(order.indexOf('p') > order.indexOf('q') ? 'p' : 'a');
  });

  it('keeps data the chain arrived with', async () => {
    const id = await startChain(
      jr,
      [
        { id: 'a', data: { given: 'yes' } },
        { id: 'b', type: 't-record' },
      ],
      { a: ['b'] },
    );
    await jr.sink.finished(id);
    expect(JSON.parse(jr.sink.jobLogs(id, 'b')[0]?.stdout ?? '{}')).toEqual({ given: 'yes' });
  });

  it('passes a "__proto__" key on as data, not as the prototype of the next job\'s data', async () => {
    const data = JSON.parse('{"__proto__":{"inherited":true},"given":"yes"}') as Record<string, unknown>;
    const id = await startChain(
      jr,
      [
        { id: 'a', data },
        { id: 'b', type: 't-record' },
      ],
      { a: ['b'] },
    );
    await jr.sink.finished(id);
    const seen = jr.sink.jobLogs(id, 'b')[0]?.stdout ?? '{}';
    expect(seen).toBe('{"__proto__":{"inherited":true},"given":"yes"}');
  });
});

describe('job failures never escape', () => {
  it('a job that throws is FAIL with the error text, and job retries apply', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-throw', args: { message: 'kaput' }, retry: 1 }]);
    expect((await jr.sink.finished(id)).state).toBe(State.FAIL);
    const logs = jr.sink.jobLogs(id, 'a');
    expect(summary(logs)).toEqual(['a:1:FAIL', 'a:2:FAIL']);
    expect(logs[0]).toMatchObject({ error: 'kaput', exit: 1 });
  });

  it('a job whose run throws synchronously is FAIL', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-throw-sync' }]);
    expect((await jr.sink.finished(id)).state).toBe(State.FAIL);
    expect(jr.sink.jobLogs(id, 'a')[0]).toMatchObject({ state: State.FAIL, error: 'sync boom' });
  });

  it.each([
    [State.PENDING, 'PENDING (1)'],
    [State.RUNNING, 'RUNNING (2)'],
    [State.RESERVED, 'RESERVED (5)'],
    [State.SUSPENDED, 'SUSPENDED (7)'],
    [State.UNKNOWN, 'UNKNOWN (0)'],
  ])('a job returning the non-final state %i is FAIL with an explanation', async (st, shown) => {
    const id = await startChain(
      jr,
      [{ id: 'a', type: 't-state', args: { state: st, error: 'own words' } }, { id: 'b' }],
      { a: ['b'] },
    );
    const fin = await jr.sink.finished(id);
    expect(fin).toMatchObject({ state: State.FAIL, finishedJobs: 0 });
    const log = jr.sink.jobLogs(id, 'a')[0];
    expect(log?.state).toBe(State.FAIL);
    expect(log?.error).toContain(`job returned state ${shown}, which is not a final state`);
    expect(log?.error).toContain('own words');
    expect(jr.sink.jobLogs(id, 'b')).toEqual([]);
  });

  it('a job returning nothing is FAIL', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-state', args: { garbage: true } }]);
    expect((await jr.sink.finished(id)).state).toBe(State.FAIL);
    expect(jr.sink.jobLogs(id, 'a')[0]?.error).toMatch(/job returned undefined/);
  });

  it('an unknown job type is FAIL with the reason, logged as try 1', async () => {
    const id = await startChain(jr, [{ id: 'a' }, { id: 'b', type: 'no-such-type' }], { a: ['b'] });
    expect((await jr.sink.finished(id)).state).toBe(State.FAIL);
    expect(jr.sink.jobLogs(id, 'b')).toEqual([
      expect.objectContaining({
        try: 1,
        state: State.FAIL,
        exit: 1,
        error: 'problem creating job runner: unknown job type: no-such-type',
      }),
    ]);
  });

  it('job bytes the job cannot restore make it FAIL', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-bad-bytes', args: { x: 1 } }]);
    expect((await jr.sink.finished(id)).state).toBe(State.FAIL);
    expect(jr.sink.jobLogs(id, 'a')[0]?.error).toBe('problem creating job runner: cannot decode job bytes');
  });

  it('a job restored asynchronously runs; one whose async restore rejects is FAIL', async () => {
    const ok = await startChain(jr, [{ id: 'a', type: 't-async-bytes', args: { delay: 30 } }]);
    expect((await jr.sink.finished(ok)).state).toBe(State.COMPLETE);
    const bad = await startChain(jr, [{ id: 'a', type: 't-async-bytes', args: { delay: 10, reject: true } }]);
    expect((await jr.sink.finished(bad)).state).toBe(State.FAIL);
    expect(jr.sink.jobLogs(bad, 'a')[0]?.error).toBe('problem creating job runner: async restore failed');
  });

  it('a job stopped while being restored never runs', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-async-bytes', args: { delay: 300 } }]);
    const res = await fetch(`${jr.url}/api/v1/job-chains/${id}/stop`, { method: 'PUT' });
    expect(res.status).toBe(200);
    expect(jr.sink.finishes(id)).toEqual([
      expect.objectContaining({ state: State.STOPPED, finishedJobs: 0 }),
    ]);
    await new Promise((r) => setTimeout(r, 350));
    expect(await runCount(id, 'a')).toBe(0);
    expect(jr.sink.logs(id)).toEqual([]);
  });

  it('a failed job stops its own branch but independent branches run to the end first', async () => {
    const id = await startChain(
      jr,
      [
        { id: 's' },
        { id: 'bad', type: 't-fail' },
        { id: 'after-bad' },
        { id: 'slow', type: 't-sleep', args: { ms: 200 } },
        { id: 'after-slow' },
        { id: 'end' },
      ],
      {
        s: ['bad', 'slow'],
        bad: ['after-bad'],
        slow: ['after-slow'],
        'after-bad': ['end'],
        'after-slow': ['end'],
      },
    );
    const fin = await jr.sink.finished(id);
    expect(fin).toMatchObject({ state: State.FAIL, finishedJobs: 3 });
    expect(summary(jr.sink.jobLogs(id, 'after-slow'))).toEqual(['after-slow:1:COMPLETE']);
    expect(jr.sink.jobLogs(id, 'after-bad')).toEqual([]);
    expect(jr.sink.jobLogs(id, 'bad')[0]).toMatchObject({ error: 'failed on purpose', exit: 2 });
  });

  it('a job returning STOPPED without a stop request fails the chain', async () => {
    const id = await startChain(
      jr,
      [{ id: 'a', type: 't-state', args: { state: State.STOPPED } }, { id: 'b' }],
      { a: ['b'] },
    );
    expect((await jr.sink.finished(id)).state).toBe(State.FAIL);
    expect(summary(jr.sink.logs(id))).toEqual(['a:1:STOPPED']);
  });
});

describe('running status', () => {
  it('lists running jobs with their live status, and 404 for a chain not here', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-sleep', args: { ms: 400 } }]);
    const list = await waitFor(async () => {
      const l = await jr.client.running(id);
      return l.length > 0 && l;
    });
    expect(list).toEqual([
      expect.objectContaining({
        requestId: id,
        jobId: 'a',
        type: 't-sleep',
        name: 'a',
        state: State.RUNNING,
        status: 'sleeping 400 ms',
        try: 1,
      }),
    ]);
    expect(typeof list[0]?.startedAt).toBe('bigint');
    const all = await jr.client.running();
    expect(all.some((s) => s.requestId === id)).toBe(true);
    await expect(jr.client.running('not-here')).rejects.toMatchObject({
      status: 404,
      message: 'request not-here not found',
    });
    await jr.sink.finished(id);
  });

  it('shows "(retry sleep) " while a job waits between tries, and the coming try number', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-fail', retry: 1, retryWait: '400ms' }]);
    const st = await waitFor(async () => (await jr.client.running(id))[0]);
    expect(st.status ?? '').toBe('(retry sleep) ');
    expect(st.try).toBe(2);
    await jr.sink.finished(id);
  });

  it('a job whose status() throws does not break the status call', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-status-throws', args: { ms: 300 } }]);
    const st = await waitFor(async () => (await jr.client.running(id))[0]);
    expect(st.status).toBe('(status error: no status)');
    await jr.sink.finished(id);
  });
});

describe('concurrency limit', () => {
  it('runs at most jobs.max_concurrent jobs at once across chains, the rest in FIFO order', async () => {
    const limited = await startTestJr({ maxConcurrent: 2 });
    try {
      const a = reqId();
      const b = reqId();
      const wide = (id: string) => {
        const mids = ['m1', 'm2', 'm3'];
        const edges: Record<string, string[]> = { s: mids };
        for (const m of mids) edges[m] = ['e'];
        return makeChain(
          id,
          [{ id: 's' }, ...mids.map((m) => ({ id: m, type: 't-sleep', args: { ms: 150 } })), { id: 'e' }],
          edges,
        );
      };
      const t0 = Date.now();
      await limited.client.startChain(wide(a));
      await limited.client.startChain(wide(b));
      let maxSeen = 0;
      const poll = setInterval(() => {
        maxSeen = Math.max(maxSeen, limited.slots.inUse);
      }, 5);
      const [fa, fb] = await Promise.all([limited.sink.finished(a), limited.sink.finished(b)]);
      clearInterval(poll);
      expect(fa.state).toBe(State.COMPLETE);
      expect(fb.state).toBe(State.COMPLETE);
      expect(maxSeen).toBeLessThanOrEqual(2);
      expect(maxSeen).toBe(2);
      // 6 sleeps of 150 ms, two at a time
      expect(Date.now() - t0).toBeGreaterThanOrEqual(440);
      const starts = [...limited.sink.logs(a), ...limited.sink.logs(b)]
        .filter((l) => l.type === 't-sleep')
        .sort((x, y) => (x.startedAt < y.startedAt ? -1 : 1));
      // chain a's sleeps were queued first, so they start first
      expect(starts.slice(0, 3).filter((l) => l.requestId === a).length).toBeGreaterThanOrEqual(2);
    } finally {
      await limited.close();
    }
  });
});

describe('performance (generous bounds: they catch quadratic regressions, not tune)', () => {
  it('runs a 7,000-job wide chain and delivers every job log well within a second', async () => {
    const id = reqId();
    const jobs: JobSpec[] = [{ id: 'b' }, { id: 'e' }];
    const edges: Record<string, string[]> = { b: [] };
    for (let h = 0; h < 1000; h++) {
      const ids = Array.from({ length: 7 }, (_, k) => `h${h}j${k}`);
      for (const j of ids) jobs.push({ id: j, seq: ids[0] });
      edges.b?.push(ids[0] as string);
      Object.assign(edges, line(ids));
      edges[ids[6] as string] = ['e'];
    }
    const chain = makeChain(id, jobs, edges);
    await jr.client.startChain(chain);
    const fin = await jr.sink.finished(id, 20_000);
    expect(fin).toMatchObject({ state: State.COMPLETE, finishedJobs: 7002 });
    expect(jr.sink.logs(id)).toHaveLength(7002);
  });

  // Speed is the benchmark's business (pnpm bench): here, that every hop happens, in order.
  it('runs a 200-job line, one job after the other', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `j${i}`);
    const id = await startChain(
      jr,
      ids.map((j) => ({ id: j })),
      line(ids),
    );
    const fin = await jr.sink.finished(id);
    expect(fin).toMatchObject({ state: State.COMPLETE, finishedJobs: 200 });
    const logs = jr.sink.logs(id);
    expect(logs.map((e) => e.jobId)).toEqual(ids);
  });
});
