/**
 * Liveness reports to the RM and what the JR does with the answer: chains the
 * RM no longer counts as running here are dropped at once (jobs stopped,
 * nothing more sent), so a JR that comes back after its lease expired never
 * keeps running them.
 */
import type { JobRunnerHeartbeat, JobRunnerHeartbeatReply } from '@spincycle/protocol';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeartbeatSink } from '../src/heartbeat.js';
import { line, makeChain, reqId, sleep, startTestJr, type TestJr, waitFor } from './helpers.js';

class FakeRmHeartbeats implements HeartbeatSink {
  readonly beats: JobRunnerHeartbeat[] = [];
  drop = new Set<string>();
  leaseMs = 900;
  fail = false;
  async heartbeat(body: JobRunnerHeartbeat): Promise<JobRunnerHeartbeatReply> {
    if (this.fail) throw new Error('connect ECONNREFUSED');
    this.beats.push(structuredClone(body));
    return {
      drop: body.requests.map((r) => r.requestId).filter((id) => this.drop.has(id)),
      leaseMs: this.leaseMs,
    };
  }
  last(): JobRunnerHeartbeat | undefined {
    return this.beats[this.beats.length - 1];
  }
}

let jr: TestJr;
const rm = new FakeRmHeartbeats();
beforeAll(async () => {
  jr = await startTestJr({ heartbeat: rm, config: { 'heartbeat.interval': '10s' } });
});
afterAll(async () => {
  await jr.close();
});

describe('heartbeat', () => {
  it('beats at once, then at a third of the lease the RM announces; reports the advertised URL and every held chain with its running jobs and their try', async () => {
    await waitFor(() => rm.beats.length >= 1);
    expect(rm.last()).toMatchObject({ jrURL: jr.baseUrl, draining: false, requests: [] });
    expect(jr.heartbeat?.intervalMs).toBe(300);
    const id = reqId();
    await jr.client.startChain(
      makeChain(
        id,
        [{ id: 'a' }, { id: 'b', type: 't-fail-then-sleep', args: { times: 1, ms: 5000 }, retry: 2 }],
        line(['a', 'b']),
      ),
    );
    const seen = await waitFor(() =>
      rm.beats.find((b) =>
        b.requests.some((r) => r.requestId === id && r.jobs.some((j) => j.jobId === 'b' && j.try === 2)),
      ),
    );
    expect(seen.requests.find((r) => r.requestId === id)?.jobs).toEqual([
      { jobId: 'b', name: 'b', type: 't-fail-then-sleep', try: 2 },
    ]);
    await jr.client.stopChain(id);
  });

  it('a chain the RM says to drop is stopped at once and nothing more is sent for it; other chains go on', async () => {
    const gone = reqId();
    const kept = reqId();
    for (const id of [gone, kept])
      await jr.client.startChain(
        makeChain(
          id,
          [{ id: 'a' }, { id: 'n', type: 't-sleep', args: { ms: 1500 } }, { id: 'z' }],
          line(['a', 'n', 'z']),
        ),
      );
    await waitFor(() => jr.registry.get(gone)?.busyJobs === 1 && jr.sink.jobLogs(gone, 'a').length === 1);
    const logsBefore = jr.sink.logs(gone).length;
    rm.drop.add(gone);
    await waitFor(() => jr.registry.get(gone) === undefined, 5000);
    // It is no longer here: stop answers 404, status does not list it.
    await expect(jr.client.stopChain(gone)).rejects.toMatchObject({ status: 404 });
    expect((await jr.client.running()).some((j) => j.requestId === gone)).toBe(false);
    await jr.sink.finished(kept, 10_000);
    await sleep(300);
    expect(jr.sink.finishes(gone)).toEqual([]);
    expect(jr.sink.logs(gone).length).toBe(logsBefore); // the stopped nap's STOPPED entry was not sent
    expect(jr.sink.finishes(kept)[0]?.state).toBe(State.COMPLETE);
    // Its slot was given back: a new chain runs.
    const next = reqId();
    await jr.client.startChain(makeChain(next, [{ id: 'a' }]));
    expect((await jr.sink.finished(next)).state).toBe(State.COMPLETE);
  });

  it('a finished chain the RM says to drop while its finish is on the way keeps its outcome (no FAIL)', async () => {
    const id = reqId();
    jr.sink.delayMs = 700;
    try {
      await jr.client.startChain(makeChain(id, [{ id: 'a' }]));
      const t = await waitFor(() => jr.registry.get(id));
      await waitFor(() => t.isFinalized);
      rm.drop.add(id);
      await waitFor(() => jr.registry.get(id) === undefined, 5000);
      expect(await t.done).toEqual({ state: State.COMPLETE, delivered: true });
      expect(jr.sink.finishes(id)).toEqual([expect.objectContaining({ state: State.COMPLETE })]);
    } finally {
      jr.sink.delayMs = 0;
    }
  });

  it('when the RM cannot be reached, the JR keeps running its chains and beats again later', async () => {
    rm.fail = true;
    const id = reqId();
    await jr.client.startChain(
      makeChain(id, [{ id: 'a' }, { id: 'n', type: 't-sleep', args: { ms: 700 } }], line(['a', 'n'])),
    );
    await sleep(800);
    const before = rm.beats.length;
    rm.fail = false;
    expect((await jr.sink.finished(id)).state).toBe(State.COMPLETE);
    await waitFor(() => rm.beats.length > before);
  });
});
