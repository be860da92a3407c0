/**
 * The report queue is bounded (`jobs.max_report_queue`): when the RM stops
 * answering and the queue is full, jobs wait (no further try, no new job)
 * and nothing is dropped; when the RM answers again everything arrives, in
 * order. A real JR on an RM over HTTP that answers as told; every call names
 * the JR in the X-Spincycle-Job-Runner header.
 */
import { type JobLog, JrClient, parseJson, State } from '@spincycle/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningJobRunner, startJobRunner } from '../src/app.js';
import { loadJrConfig } from '../src/config.js';
import {
  type FakeRm,
  fakeRm,
  makeChain,
  reqId,
  runCount,
  TEST_JOBS,
  testLogger,
  waitFor,
} from './helpers.js';

describe('a full report queue', () => {
  let rm: FakeRm | undefined;
  let jr: RunningJobRunner | undefined;
  afterEach(async () => {
    await Promise.all(jr?.registry.list().map((t) => t.stop().catch(() => undefined)) ?? []);
    jr?.reporter.close();
    await jr?.server.close();
    await rm?.close();
  });

  it('makes jobs wait while the RM does not answer, and loses nothing when it answers again', async () => {
    let up = false;
    const entries: JobLog[] = [];
    const finished: string[] = [];
    rm = await fakeRm((path, body) => {
      if (path.startsWith('PUT /api/v1/job-runners/heartbeat')) return [200, '{"drop":[],"leaseMs":0}'];
      if (!up) return [503, '{"message":"down"}'];
      const batch = parseJson(body) as { logs: JobLog[]; finishes: Array<{ requestId: string }> };
      entries.push(...batch.logs);
      const finishes: Record<string, string> = {};
      for (const f of batch.finishes) {
        finishes[f.requestId] = 'ok';
        finished.push(f.requestId);
      }
      return [200, JSON.stringify({ inserted: batch.logs.length, refused: [], finishes })];
    });
    const config = loadJrConfig(
      [],
      {},
      {
        'server.addr': '127.0.0.1:0',
        'jobs.module': TEST_JOBS,
        'jobs.max_report_queue': 2,
        'rm_client.url': rm.url,
        'heartbeat.interval': '1h',
      },
    );
    jr = await startJobRunner({
      config,
      logger: testLogger(),
      reporterOptions: { retryBaseMs: 10, retryMaxMs: 20, flushIntervalMs: 1 },
    });

    const api = new JrClient({ baseURL: jr.url, retry: { attempts: 1 } });

    // Six tries of a failing job: two fill the queue, the third waits.
    const retried = reqId();
    await api.startChain(makeChain(retried, [{ id: 'a', type: 't-fail', retry: 5 }]));
    await waitFor(() => jr?.reporter.queued === 2, 10_000, 'a full queue');
    // A chain sent meanwhile does not start its job either.
    const later = reqId();
    await api.startChain(makeChain(later, [{ id: 'b', type: 't-fail' }]));
    // The RM is asked again and again (the JR retries); the jobs stay where they are.
    const asked = rm.paths.length;
    await waitFor(() => (rm?.paths.length ?? 0) >= asked + 5, 10_000, 'more calls to the RM');
    expect(await runCount(retried, 'a')).toBe(2);
    expect(await runCount(later, 'b')).toBe(0);
    expect(jr.reporter.queued).toBe(2);
    expect(entries).toEqual([]);

    up = true;
    await waitFor(() => finished.includes(retried) && finished.includes(later), 10_000, 'both finishes');
    const tries = entries.filter((e) => e.requestId === retried).map((e) => [e.try, e.state]);
    expect(tries).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, State.FAIL]));
    expect(entries.filter((e) => e.requestId === later).map((e) => e.jobId)).toEqual(['b']);
    expect(await runCount(retried, 'a')).toBe(6);
    // Every call named this JR.
    expect(new Set(rm.jobRunners)).toEqual(new Set([jr.baseUrl]));
  });
});
