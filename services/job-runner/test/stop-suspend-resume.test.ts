/**
 * Stop, shutdown → suspend and resume (docs/compatibility.md#stop-and-suspend, #resume), with the fixes:
 * stop and suspend always finalize, even when nothing runs at that instant;
 * a chain the RM will not take back is finished FAIL rather than lost.
 */
import { type JobChain, State, type SuspendedJobChain } from '@spincycle/protocol';
import { loadJobFactory } from '@spincycle/service-kit';
import { ChainState, indexJobChain, JobSlots, Traverser } from '@spincycle/traversal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reporter } from '../src/reporter.js';
import {
  type JobSpec,
  line,
  makeChain,
  networkError,
  openGate,
  RecordingSink,
  reqId,
  runCount,
  sleep,
  startChain,
  startTestJr,
  summary,
  TEST_JOBS,
  type TestJr,
  testLogger,
  waitFor,
} from './helpers.js';

let jr: TestJr;
beforeAll(async () => {
  jr = await startTestJr({ stopBudgetMs: 400 });
});
afterAll(async () => {
  await jr.close();
});

async function stopHttp(base: string, id: string): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${base}/api/v1/job-chains/${id}/stop`, { method: 'PUT' });
  return { status: res.status, body: await res.text(), ms: Date.now() - t0 };
}

/** Jobs and edges of s → (a, b) → e, where a and b sleep for 5 s (until stopped). */
function twoSleepers(): [JobSpec[], Record<string, string[]>] {
  return [
    [
      { id: 's' },
      { id: 'a', type: 't-sleep', args: { ms: 5000 } },
      { id: 'b', type: 't-sleep', args: { ms: 5000 } },
      { id: 'e' },
    ],
    { s: ['a', 'b'], a: ['e'], b: ['e'] },
  ];
}

describe('stop', () => {
  it('stops running jobs, abandons the rest, and answers after the finish (STOPPED) was sent', async () => {
    const id = await startChain(jr, ...twoSleepers());
    await waitFor(async () => (await jr.client.running(id)).length === 2);
    const r = await stopHttp(jr.url, id);
    expect(r).toMatchObject({ status: 200, body: '' });
    expect(r.ms).toBeLessThan(2000);
    // the finish is already there when stop answers
    expect(jr.sink.finishes(id)).toEqual([
      expect.objectContaining({ state: State.STOPPED, finishedJobs: 1 }),
    ]);
    expect(summary(jr.sink.logs(id)).sort()).toEqual(['a:1:STOPPED', 'b:1:STOPPED', 's:1:COMPLETE']);
    expect(jr.sink.jobLogs(id, 'a')[0]?.error).toBe('stopped while sleeping');
    // gone afterwards
    expect((await stopHttp(jr.url, id)).status).toBe(404);
  });

  it('finalizes even when nothing is running (only a sequence retry wait pending)', async () => {
    const id = await startChain(
      jr,
      [{ id: 'S', seqRetry: 1, seqRetryWait: '5s' }, { id: 'J', type: 't-fail' }, { id: 'E' }],
      line(['S', 'J', 'E']),
    );
    await jr.sink.until(() => jr.sink.jobLogs(id, 'J').length === 1, 5000, 'J to fail');
    await sleep(20);
    expect(await jr.client.running(id)).toEqual([]);
    const r = await stopHttp(jr.url, id);
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(1000);
    // the sequence retry had been prepared, so nothing failed for good: STOPPED
    expect(jr.sink.finishes(id)).toEqual([
      expect.objectContaining({ state: State.STOPPED, finishedJobs: 0 }),
    ]);
  });

  it('abandons a job waiting between retries', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-fail', retry: 3, retryWait: '5s' }]);
    await waitFor(async () => (await jr.client.running(id))[0]?.status === '(retry sleep) ');
    const r = await stopHttp(jr.url, id);
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(1000);
    expect(summary(jr.sink.logs(id))).toEqual(['a:1:FAIL']);
    expect(jr.sink.finishes(id)[0]?.state).toBe(State.STOPPED);
  });

  it('a job that does not stop within the budget is FAIL, and so is the chain', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-hang' }]);
    await waitFor(async () => (await jr.client.running(id)).length === 1);
    const r = await stopHttp(jr.url, id);
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(380);
    expect(jr.sink.finishes(id)).toEqual([expect.objectContaining({ state: State.FAIL, finishedJobs: 0 })]);
    expect(await jr.client.running(id).catch((e) => e.status)).toBe(404);
  });

  it('a chain that completes while being stopped ends COMPLETE', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-ignore-stop', args: { ms: 150 } }]);
    await waitFor(async () => (await jr.client.running(id)).length === 1);
    expect((await stopHttp(jr.url, id)).status).toBe(200);
    expect(jr.sink.finishes(id)).toEqual([
      expect.objectContaining({ state: State.COMPLETE, finishedJobs: 1 }),
    ]);
  });

  it('a job whose stop() throws is still stopped; two stops at once both succeed with one finish', async () => {
    const id = await startChain(jr, [{ id: 'a', type: 't-stop-throws', args: { ms: 5000 } }]);
    await waitFor(async () => (await jr.client.running(id)).length === 1);
    // a slow RM keeps the chain registered until its finish is delivered
    jr.sink.delayMs = 100;
    try {
      const [r1, r2] = await Promise.all([stopHttp(jr.url, id), stopHttp(jr.url, id)]);
      expect([r1.status, r2.status]).toEqual([200, 200]);
    } finally {
      jr.sink.delayMs = 0;
    }
    expect(jr.sink.finishes(id)).toEqual([expect.objectContaining({ state: State.STOPPED })]);
  });

  it('an unknown chain is 404', async () => {
    const r = await stopHttp(jr.url, 'no-such-chain');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).message).toMatch(/^traverser not found/);
  });

  it('jobs queued for a concurrency slot are abandoned and stay PENDING', async () => {
    const one = await startTestJr({ maxConcurrent: 1 });
    try {
      const id = await startChain(one, ...twoSleepers());
      await waitFor(async () => (await one.client.running(id)).length === 1);
      expect(one.slots.waiting).toBe(1);
      expect((await stopHttp(one.url, id)).status).toBe(200);
      expect(one.slots.waiting).toBe(0);
      expect(one.slots.inUse).toBe(0);
      expect(one.sink.logs(id).filter((l) => l.state === State.STOPPED)).toHaveLength(1);
      expect(one.sink.finishes(id)[0]?.state).toBe(State.STOPPED);
    } finally {
      await one.close();
    }
  });
});

/** Runs `body` with a started Traverser of `chain` reporting to `sink`; closes its reporter afterwards. */
async function withTraverser(
  chain: JobChain,
  sink: RecordingSink,
  body: (t: Traverser) => Promise<void>,
): Promise<void> {
  const factory = await loadJobFactory(TEST_JOBS, process.cwd());
  const reporter = new Reporter(sink, testLogger(), { retryBaseMs: 20 });
  const t = new Traverser(new ChainState(indexJobChain(chain, false)), {
    factory,
    reporter,
    slots: new JobSlots(0),
    logger: testLogger(),
  });
  try {
    t.start();
    await body(t);
  } finally {
    reporter.close();
  }
}

describe('suspend', () => {
  it('the upstream example: 2 ignores Stop and completes, 3 is STOPPED after 2 tries', async () => {
    const sink = new RecordingSink();
    const id = reqId();
    const chain = makeChain(
      id,
      [
        { id: '1', type: 't-set-data', args: { set: { data1: 'one' } }, seqRetry: 1 },
        { id: '2', type: 't-ignore-stop', args: { ms: 250, set: { data2: 'two' } } },
        { id: '3', type: 't-gate', args: { failFirst: 1 }, retry: 1 },
        { id: '4' },
        { id: '5' },
      ],
      { '1': ['2', '3'], '2': ['4'], '3': ['5'] },
    );
    await withTraverser(chain, sink, async (t) => {
      await waitFor(() =>
        t
          .runningStatus()
          .find((s) => s.jobId === '3' && s.try === 2 && s.status?.startsWith('waiting at gate')),
      );
      expect(
        t
          .runningStatus()
          .map((s) => s.jobId)
          .sort(),
      ).toEqual(['2', '3']);
      await t.suspend(Date.now() + 5000);
      const sjc = await sink.suspended(id);
      expect(sink.finishes(id)).toEqual([]);
      expect(sjc.requestId).toBe(id);
      expect(sjc.jobChain.state).toBe(State.SUSPENDED);
      expect(sjc.jobChain.finishedJobs).toBe(2);
      const states = Object.fromEntries(Object.entries(sjc.jobChain.jobs).map(([k, j]) => [k, j.state]));
      expect(states).toEqual({
        '1': State.COMPLETE,
        '2': State.COMPLETE,
        '3': State.STOPPED,
        '4': State.PENDING,
        '5': State.PENDING,
      });
      expect(sjc.totalJobTries).toEqual({ '1': 1, '2': 1, '3': 2 });
      expect(sjc.latestRunJobTries).toEqual({ '1': 1, '2': 1, '3': 2 });
      expect(sjc.sequenceTries).toEqual({ '1': 1 });
      expect(sjc.jobChain.jobs['4']?.data).toEqual({ data1: 'one', data2: 'two' });
      expect(sjc.jobChain.jobs['3']?.data).toEqual({ data1: 'one' });
      expect(sjc.jobChain.jobs['5']?.data).toBeUndefined();
      expect(sjc.jobChain.adjacencyList).toEqual({ '1': ['2', '3'], '2': ['4'], '3': ['5'] });
      // the SJC was sent after the job logs of the chain
      const iSuspend = sink.events.findIndex((e) => e.op === 'suspend');
      expect(sink.events.slice(iSuspend).some((e) => e.op === 'logs')).toBe(false);
      expect(summary(sink.logs(id)).sort()).toEqual([
        '1:1:COMPLETE',
        '2:1:COMPLETE',
        '3:1:FAIL',
        '3:2:STOPPED',
      ]);
    });
  });

  it('prepares a due sequence retry in the SJC without starting it', async () => {
    const sink = new RecordingSink();
    const id = reqId();
    const chain = makeChain(
      id,
      [{ id: 'S', seqRetry: 1, seqRetryWait: '10s' }, { id: 'J', type: 't-fail' }, { id: 'E' }],
      line(['S', 'J', 'E']),
    );
    await withTraverser(chain, sink, async (t) => {
      await sink.until(() => sink.jobLogs(id, 'J').length === 1);
      await t.suspend(Date.now() + 5000);
      const sjc = await sink.suspended(id);
      expect(Object.values(sjc.jobChain.jobs).map((j) => j.state)).toEqual([
        State.PENDING,
        State.PENDING,
        State.PENDING,
      ]);
      expect(sjc.jobChain.finishedJobs).toBe(0);
      expect(sjc.sequenceTries).toEqual({ S: 1 });
      expect(sjc.totalJobTries).toEqual({ S: 1, J: 1 });
      expect(sjc.latestRunJobTries).toEqual({ S: 0, J: 0 });
    });
  });

  it('when the RM will not take the chain before the deadline, it is finished FAIL instead', async () => {
    const sink = new RecordingSink();
    sink.fault = (op) => (op === 'suspend' ? networkError() : undefined);
    const id = reqId();
    const chain = makeChain(id, [{ id: 'a', type: 't-sleep', args: { ms: 5000 } }]);
    await withTraverser(chain, sink, async (t) => {
      await waitFor(() => t.runningStatus().length === 1);
      const t0 = Date.now();
      const outcome = await t.suspend(Date.now() + 1500);
      expect(Date.now() - t0).toBeLessThan(2500);
      expect(sink.attempts.suspend).toBeGreaterThan(1);
      expect(outcome).toEqual({ state: State.FAIL, delivered: true });
      expect(sink.finishes(id)).toEqual([expect.objectContaining({ state: State.FAIL, finishedJobs: 0 })]);
    });
  });

  it('on shutdown: new chains are refused (503), running chains are handed back, stop is refused meanwhile', async () => {
    const sink = new RecordingSink();
    const local = await startTestJr({ sink, graceMs: 5000 });
    const id = await startChain(
      local,
      [{ id: 'a' }, { id: 'b', type: 't-ignore-stop', args: { ms: 300 } }, { id: 'c' }],
      line(['a', 'b', 'c']),
    );
    await waitFor(async () => (await local.client.running(id)).length === 1);
    const shutdown = local.shutdown();
    await sleep(30);
    const stop = await stopHttp(local.url, id);
    expect(stop.status).toBe(503);
    expect(JSON.parse(stop.body).message).toBe('chain not stopped because traverser is shutting down');
    const refused = await fetch(`${local.url}/api/v1/job-chains`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(makeChain(reqId(), [{ id: 'x' }])),
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { message: string }).message).toBe(
      'Job Runner is shutting down - no new job chains are being started',
    );
    await shutdown;
    const sjc = await sink.suspended(id);
    expect(Object.fromEntries(Object.entries(sjc.jobChain.jobs).map(([k, j]) => [k, j.state]))).toEqual({
      a: State.COMPLETE,
      b: State.COMPLETE,
      c: State.PENDING,
    });
    expect(sjc.jobChain.finishedJobs).toBe(2);
  });
});

describe('resume', () => {
  it('resume example: a STOPPED job with retry 2, latest 1, total 3 re-runs as try 4; completed jobs never re-run', async () => {
    const sink = new RecordingSink();
    const a = await startTestJr({ sink });
    const id = reqId();
    const chain = makeChain(
      id,
      [
        { id: 'A', state: State.COMPLETE },
        { id: 'J', type: 't-record', retry: 2, state: State.STOPPED },
        { id: 'G', type: 't-gate' },
      ],
      line(['A', 'J', 'G']),
      { finishedJobs: 1, state: State.SUSPENDED },
    );
    const sjc: SuspendedJobChain = {
      requestId: id,
      jobChain: chain,
      totalJobTries: { A: 1, J: 3 },
      latestRunJobTries: { A: 1, J: 1 },
      sequenceTries: { A: 1 },
    };
    const res = await fetch(`${a.url}/api/v1/job-chains/resume`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(sjc),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBe(`${a.baseUrl}/api/v1/job-chains/${id}`);
    await waitFor(async () => (await a.client.running(id)).find((s) => s.jobId === 'G'));
    await sink.until(() => sink.logs(id).length > 0);
    expect(summary(sink.logs(id))).toEqual(['J:4:COMPLETE']);
    // suspend again to see the counters
    await a.shutdown();
    const again = await sink.suspended(id);
    expect(again.totalJobTries).toEqual({ A: 1, J: 4, G: 1 });
    expect(again.latestRunJobTries).toEqual({ A: 1, J: 1, G: 1 });
    expect(again.jobChain.jobs.G?.state).toBe(State.STOPPED);
  });

  it('a chain suspended on one JR resumes on another: nothing completed runs again, try numbers continue', async () => {
    const sinkA = new RecordingSink();
    const sinkB = new RecordingSink();
    const jrA = await startTestJr({ sink: sinkA });
    const jrB = await startTestJr({ sink: sinkB });
    try {
      const id = reqId();
      const chain = makeChain(
        id,
        [
          { id: '1', type: 't-set-data', args: { set: { data1: 'one' } }, seqRetry: 1 },
          { id: '2', type: 't-ignore-stop', args: { ms: 200, set: { data2: 'two' } } },
          { id: '3', type: 't-gate', args: { failFirst: 1 }, retry: 1 },
          { id: '4', type: 't-record' },
          { id: '5' },
          { id: '6' },
        ],
        { '1': ['2', '3'], '2': ['4'], '3': ['5'], '4': ['6'], '5': ['6'] },
      );
      await jrA.client.startChain(chain);
      await waitFor(async () =>
        (await jrA.client.running(id)).find(
          (s) => s.jobId === '3' && s.try === 2 && s.status?.startsWith('waiting'),
        ),
      );
      await jrA.shutdown();
      const sjc = await sinkA.suspended(id);
      expect(sinkA.finishes(id)).toEqual([]);
      await jrB.client.resumeChain(sjc);
      await waitFor(async () => (await jrB.client.running(id)).find((s) => s.jobId === '3'));
      expect((await jrB.client.running(id))[0]?.try).toBe(3);
      await openGate(id, '3');
      expect(await sinkB.finished(id)).toMatchObject({ state: State.COMPLETE, finishedJobs: 6 });
      expect(summary(sinkB.logs(id)).sort()).toEqual([
        '3:3:COMPLETE',
        '4:1:COMPLETE',
        '5:1:COMPLETE',
        '6:1:COMPLETE',
      ]);
      expect(JSON.parse(sinkB.jobLogs(id, '4')[0]?.stdout ?? '{}')).toEqual({ data1: 'one', data2: 'two' });
      expect(await runCount(id, '2')).toBe(1);
    } finally {
      await jrA.close();
      await jrB.close();
    }
  });

  it('a resumed chain with nothing left to do finishes at once', async () => {
    const id = reqId();
    const chain = makeChain(
      id,
      [
        { id: 'a', state: State.COMPLETE },
        { id: 'b', state: State.COMPLETE },
      ],
      line(['a', 'b']),
      { finishedJobs: 2 },
    );
    await jr.client.resumeChain({
      requestId: id,
      jobChain: chain,
      totalJobTries: { a: 1, b: 1 },
      latestRunJobTries: { a: 1, b: 1 },
      sequenceTries: { a: 1 },
    });
    expect(await jr.sink.finished(id)).toMatchObject({ state: State.COMPLETE, finishedJobs: 2 });
    expect(jr.sink.logs(id)).toEqual([]);
  });

  it('a STOPPED sequence start gets its sequence try back', async () => {
    const id = reqId();
    const chain = makeChain(
      id,
      [
        { id: 'S', state: State.STOPPED, seqRetry: 0 },
        { id: 'J', type: 't-fail' },
      ],
      line(['S', 'J']),
      { finishedJobs: 0 },
    );
    // sequenceTries 1 with sequenceRetry 0 would forbid a retry; the resume gives the stopped try back
    await jr.client.resumeChain({
      requestId: id,
      jobChain: chain,
      totalJobTries: { S: 1 },
      latestRunJobTries: { S: 1 },
      sequenceTries: { S: 1 },
    });
    expect((await jr.sink.finished(id)).state).toBe(State.FAIL);
    expect(summary(jr.sink.logs(id))).toEqual(['S:2:COMPLETE', 'J:1:FAIL']);
  });
});
