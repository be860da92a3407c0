/**
 * The Job Runner end to end: real RM and JR processes over HTTP, asserting on
 * what the RM stored (request state, finishedJobs, job log). Test job types
 * come from services/job-runner/test/fixtures/test-jobs.mjs, loaded by both
 * services through `jobs.module`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINAL_STATES, type JobLog, type Request, RmClient, State, stateName } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  REPO_ROOT,
  type ServiceProcess,
  type System,
  startJr,
  startRm,
  startSystem,
  waitForState,
} from '../support/system.js';
import { until } from '../support/until.js';

const SPECS = join(REPO_ROOT, 'test/jr/specs');
const JOBS = join(REPO_ROOT, 'services/job-runner/test/fixtures/test-jobs.mjs');
const FINAL = [...FINAL_STATES];

/** `try:STATE` of every log entry of the jobs named `name`, by try. */
function tries(logs: JobLog[], name: string): string[] {
  return logs
    .filter((l) => l.name === name)
    .sort((a, b) => a.try - b.try)
    .map((l) => `${l.try}:${stateName(l.state)}`);
}

/** The job log once it holds one entry per finished job (logs are delivered before finish, so this is immediate). */
async function logsOf(client: RmClient, req: Request): Promise<JobLog[]> {
  return client.getJobLogs(req.id);
}

describe.each(['sqlite', 'mysql'] as const)('JR + RM end to end on %s', (db) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem({ db, specsDir: SPECS, jobsModule: JOBS });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('concurrent requests: 30 created at once all complete, each with its own complete job log', async () => {
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        sys.client.createRequest(i % 2 ? 'jr-sleep' : 'jr-retry', i % 2 ? { ms: '50' } : { times: '1' }),
      ),
    );
    expect(new Set(created.map((r) => r.id)).size).toBe(30);
    const done = await Promise.all(created.map((r) => waitForState(sys.client, r.id, FINAL)));
    expect(done.map((r) => r.state)).toEqual(Array(30).fill(State.COMPLETE));
    for (const req of done) {
      const logs = await logsOf(sys.client, req);
      expect(logs.every((l) => l.requestId === req.id)).toBe(true);
      expect(new Set(logs.filter((l) => l.state === State.COMPLETE).map((l) => l.jobId)).size).toBe(
        req.totalJobs,
      );
    }
    const found = await sys.client.findRequests({ type: 'jr-sleep', states: ['COMPLETE'], limit: 100 });
    expect(found.filter((r) => created.some((c) => c.id === r.id))).toHaveLength(15);
  });

  it('job retries: tries 1 and 2 fail, try 3 completes; the RM stores one entry per try', async () => {
    const created = await sys.client.createRequest('jr-retry', { times: '2' });
    const done = await waitForState(sys.client, created.id, FINAL);
    expect(done).toMatchObject({ state: State.COMPLETE });
    expect(done.finishedJobs).toBe(done.totalJobs);
    const logs = await logsOf(sys.client, done);
    expect(tries(logs, 'flaky')).toEqual(['1:FAIL', '2:FAIL', '3:COMPLETE']);
    expect(logs.find((l) => l.name === 'flaky' && l.try === 1)?.error).toBe('run 1 fails');
    expect(tries(logs, 'after')).toEqual(['1:COMPLETE']);
    // every job logged, finish after the logs: nothing missing once the request is final
    expect(new Set(logs.map((l) => l.jobId)).size).toBe(done.totalJobs);
  });

  it('job retries exhausted: FAIL after retry+1 tries, later jobs never run', async () => {
    const created = await sys.client.createRequest('jr-retry', { times: '9' });
    const done = await waitForState(sys.client, created.id, FINAL);
    expect(done.state).toBe(State.FAIL);
    const logs = await logsOf(sys.client, done);
    expect(tries(logs, 'flaky')).toEqual(['1:FAIL', '2:FAIL', '3:FAIL']);
    expect(tries(logs, 'after')).toEqual([]);
  });

  it('sequence retry: the failed sequence runs again and try numbers continue', async () => {
    const created = await sys.client.createRequest('jr-seq-retry', { times: '1' });
    const done = await waitForState(sys.client, created.id, FINAL);
    expect(done.state).toBe(State.COMPLETE);
    expect(done.finishedJobs).toBe(done.totalJobs);
    const logs = await logsOf(sys.client, done);
    expect(tries(logs, 'flaky')).toEqual(['1:FAIL', '2:COMPLETE']);
    expect(tries(logs, 'prep')).toEqual(['1:COMPLETE', '2:COMPLETE']);
    expect(tries(logs, 'sequence_attempt_begin')).toEqual(['1:COMPLETE', '2:COMPLETE']);
    expect(tries(logs, 'done')).toEqual(['1:COMPLETE']);
    expect(tries(logs, 'request_jr-seq-retry_begin')).toEqual(['1:COMPLETE']);
    // the retry waited the sequence's retryWait (100ms)
    const s = logs.filter((l) => l.name === 'sequence_attempt_begin').sort((a, b) => a.try - b.try);
    const firstFail = logs.find((l) => l.name === 'flaky' && l.try === 1) as JobLog;
    expect(Number((s[1]?.startedAt as bigint) - firstFail.finishedAt) / 1e6).toBeGreaterThanOrEqual(95);
  });

  it('sequence retries exhausted: FAIL', async () => {
    const created = await sys.client.createRequest('jr-seq-retry', { times: '5' });
    const done = await waitForState(sys.client, created.id, FINAL);
    expect(done.state).toBe(State.FAIL);
    const logs = await logsOf(sys.client, done);
    expect(tries(logs, 'flaky')).toEqual(['1:FAIL', '2:FAIL']);
    expect(tries(logs, 'done')).toEqual([]);
  });

  it('job data flows from a job to its successor', async () => {
    const created = await sys.client.createRequest('jr-data', { key: 'color', value: 'teal' });
    const done = await waitForState(sys.client, created.id, FINAL);
    expect(done.state).toBe(State.COMPLETE);
    const reader = (await logsOf(sys.client, done)).find((l) => l.name === 'reader') as JobLog;
    expect(JSON.parse(reader.stdout)).toEqual({ color: 'teal' });
  });

  it('stop: the running job ends STOPPED, the request STOPPED, later jobs never run', async () => {
    const created = await sys.client.createRequest('jr-sleep', { ms: '30000' });
    await until('the nap to run', async () =>
      (await sys.client.runningStatus(created.id)).jobs.some((j) => j.name === 'nap'),
    );
    const t0 = Date.now();
    await sys.client.stopRequest(created.id);
    // the JR reported STOPPED before the RM answered the stop
    const req = await sys.client.getRequest(created.id);
    expect(req.state).toBe(State.STOPPED);
    expect(Date.now() - t0).toBeLessThan(5000);
    const logs = await logsOf(sys.client, req);
    expect(tries(logs, 'nap')).toEqual(['1:STOPPED']);
    expect(tries(logs, 'last')).toEqual([]);
    expect(req.finishedJobs).toBe(3);
  });

  it('progress: finishedJobs advances while the request runs', async () => {
    const created = await sys.client.createRequest('jr-sleep', { ms: '2500' });
    const running = await until(
      'progress',
      async () => {
        const r = await sys.client.getRequest(created.id);
        return r.state === State.RUNNING && r.finishedJobs >= 3 ? r : undefined;
      },
      2400,
    );
    expect(running.finishedJobs).toBe(3);
    const done = await waitForState(sys.client, created.id, FINAL);
    expect(done.finishedJobs).toBe(done.totalJobs);
  });

  it('jobs that throw, leave errors behind or return a non-final state fail; the JR keeps running', async () => {
    const created = await sys.client.createRequest('jr-misbehave', {});
    const done = await waitForState(sys.client, created.id, FINAL);
    expect(done.state).toBe(State.FAIL);
    const logs = await logsOf(sys.client, done);
    const by = (n: string) => logs.find((l) => l.name === n) as JobLog;
    expect(by('escape').state).toBe(State.COMPLETE);
    expect(by('throws')).toMatchObject({ state: State.FAIL, error: 'boom', exit: 1 });
    expect(by('sync-throws')).toMatchObject({ state: State.FAIL, error: 'sync boom' });
    expect(by('running').state).toBe(State.FAIL);
    expect(by('running').error).toContain('job returned state RUNNING (2), which is not a final state');
    // the process survived the escaped exception and rejection, and logged them
    await until(
      'the JR to log the escaped errors',
      async () =>
        sys.jr.log.includes('thrown from a timer by a job') &&
        sys.jr.log.includes('unhandled rejection by a job'),
    );
    expect(sys.jr.proc.exitCode).toBeNull();
    const next = await sys.client.createRequest('jr-retry', { times: '0' });
    expect((await waitForState(sys.client, next.id, FINAL)).state).toBe(State.COMPLETE);
  });
});

describe('shutdown → suspend → resume on another JR', () => {
  it('SIGTERM hands the chain back; a second JR resumes it; completed jobs are not re-run and try numbers continue', async () => {
    const [rmPort, p1, p2] = [await freePort(), await freePort(), await freePort()];
    const jrUrls = [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`];
    const rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jobsModule: JOBS,
      jrUrl: jrUrls.join(','),
      port: rmPort,
      env: { SPINCYCLE_RESUMER_INTERVAL: '200ms' },
    });
    const jrs: ServiceProcess[] = [];
    try {
      jrs.push(await startJr({ rmUrl: rm.url, jobsModule: JOBS, port: p1 }));
      jrs.push(await startJr({ rmUrl: rm.url, jobsModule: JOBS, port: p2 }));
      const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
      const created = await client.createRequest('jr-sleep', { ms: '1500' });
      await until('the nap to run', async () =>
        (await client.runningStatus(created.id)).jobs.some((j) => j.name === 'nap'),
      );
      const first = (await client.getRequest(created.id)).jrURL as string;
      const victim = jrs.find((j) => j.url === first) as ServiceProcess;
      const t0 = Date.now();
      expect(await victim.stop('SIGTERM')).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      const done = await waitForState(client, created.id, FINAL, 30_000);
      expect(done.state).toBe(State.COMPLETE);
      expect(done.finishedJobs).toBe(done.totalJobs);
      const logs = await client.getJobLogs(created.id);
      // stopped on the first JR as try 1, re-run on the second as try 2
      expect(tries(logs, 'nap')).toEqual(['1:STOPPED', '2:COMPLETE']);
      expect(tries(logs, 'first')).toEqual(['1:COMPLETE']);
      expect(tries(logs, 'last')).toEqual(['1:COMPLETE']);
      expect(victim.log).not.toMatch(/"level":"error"/);
    } finally {
      for (const j of jrs) await j.stop();
      await rm.stop();
    }
  });
});

describe('a JR that does not know a job type', () => {
  it('fails that job with the reason in its log, and the request FAIL', async () => {
    const port = await freePort();
    const rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jobsModule: JOBS,
      jrUrl: `http://127.0.0.1:${port}`,
    });
    const jr = await startJr({ rmUrl: rm.url, port });
    try {
      const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
      const created = await client.createRequest('jr-retry', {});
      const done = await waitForState(client, created.id, FINAL);
      expect(done.state).toBe(State.FAIL);
      const flaky = (await client.getJobLogs(created.id)).filter((l) => l.name === 'flaky');
      expect(flaky).toEqual([
        expect.objectContaining({
          try: 1,
          state: State.FAIL,
          exit: 1,
          error: 'problem creating job runner: unknown job type: t-fail-times',
        }),
      ]);
    } finally {
      await jr.stop();
      await rm.stop();
    }
  });
});

describe('jobs.max_concurrent', () => {
  it('runs one job at a time with a limit of 1', async () => {
    const sys = await startSystem({ db: 'sqlite', specsDir: SPECS, jobsModule: JOBS, maxConcurrentJobs: 1 });
    try {
      const created = await sys.client.createRequest('jr-two-naps', { ms: '300' });
      let most = 0;
      for (;;) {
        const s = await sys.client.runningStatus(created.id);
        most = Math.max(most, s.jobs.length);
        const r = await sys.client.getRequest(created.id);
        if (FINAL.includes(r.state)) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(most).toBe(1);
      const naps = (await sys.client.getJobLogs(created.id))
        .filter((l) => l.type === 't-sleep')
        .sort((a, b) => (a.startedAt < b.startedAt ? -1 : 1));
      expect(naps).toHaveLength(2);
      expect((naps[1] as JobLog).startedAt >= (naps[0] as JobLog).finishedAt).toBe(true);
    } finally {
      await sys.stop();
    }
  });
});

describe('the RM goes away for a while', () => {
  it('job logs and the finish are retried until the RM is back; nothing is lost', async () => {
    const [rmPort, jrPort] = [await freePort(), await freePort()];
    const dataDir = mkdtempSync(join(tmpdir(), 'jr-e2e-rm-'));
    const rmOpts = {
      db: 'sqlite' as const,
      dataDir,
      specsDir: SPECS,
      jobsModule: JOBS,
      jrUrl: `http://127.0.0.1:${jrPort}`,
      port: rmPort,
    };
    let rm = await startRm(rmOpts);
    const jr = await startJr({ rmUrl: rm.url, jobsModule: JOBS, port: jrPort });
    try {
      const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
      // The nap outlasts the RM's shutdown by far (on a busy machine the running status may see it
      // late and the shutdown may be slow), so its entry and the finish meet an RM that is gone.
      const created = await client.createRequest('jr-sleep', { ms: '3000' });
      await until('the nap to run', async () =>
        (await client.runningStatus(created.id)).jobs.some((j) => j.name === 'nap'),
      );
      await rm.stop('SIGTERM');
      // the chain finishes while the RM is down
      await new Promise((r) => setTimeout(r, 3500));
      rm = await startRm(rmOpts);
      const done = await waitForState(client, created.id, FINAL, 30_000);
      expect(done.state).toBe(State.COMPLETE);
      expect(done.finishedJobs).toBe(done.totalJobs);
      const logs = await client.getJobLogs(created.id);
      // Every entry exactly once: the finish, queued behind them, was applied after all of them.
      expect(logs).toHaveLength(done.totalJobs);
      expect(new Set(logs.map((l) => l.jobId)).size).toBe(done.totalJobs);
      expect(tries(logs, 'nap')).toEqual(['1:COMPLETE']);
      expect(jr.log).toMatch(/reporting to the RM failed; retrying/);
      expect(jr.log).not.toMatch(/refused|"level":"error"/);
      expect(rm.log).not.toMatch(/refused/);
      expect(jr.proc.exitCode).toBeNull();
    } finally {
      await jr.stop();
      await rm.stop();
    }
  });
});
