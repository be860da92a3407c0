/**
 * Request Manager + Job Runner processes end to end, on SQLite and on
 * MariaDB: the `test` request runs to COMPLETE with a job log entry per job,
 * status/running shows it while it runs, stop ends it STOPPED, and a chain
 * suspended by a JR shutting down is resumed on the next JR.
 */
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type System, startJr, startSystem, waitForState } from '../support/system.js';
import { until } from '../support/until.js';

const SPECS = join(REPO_ROOT, 'services/request-manager/test/fixtures/specs');

describe.each(['sqlite', 'mysql'] as const)('RM + JR on %s', (db) => {
  let sys: System;

  beforeAll(async () => {
    sys = await startSystem({ db, specsDir: SPECS });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('the test request runs to COMPLETE, one job log entry per job, and is found by state', async () => {
    const created = await sys.client.createRequest('test', { sleepTime: '50' });
    expect(created.state).toBe(State.RUNNING);
    const done = await waitForState(sys.client, created.id);
    expect(done.state).toBe(State.COMPLETE);
    expect(done.finishedJobs).toBe(done.totalJobs);
    expect(done.finishedAt).not.toBeNull();
    expect(done).not.toHaveProperty('jrURL');
    const logs = await until('all job log entries', async () => {
      const l = await sys.client.getJobLogs(created.id);
      return l.length >= done.totalJobs ? l : undefined;
    });
    expect(logs.length).toBe(done.totalJobs);
    expect(new Set(logs.map((l) => l.jobId)).size).toBe(done.totalJobs);
    expect(logs.every((l) => l.state === State.COMPLETE && l.try === 1)).toBe(true);
    const sleeps = logs.filter((l) => l.type === 'sleep');
    expect(sleeps.length).toBe(2);
    expect(sleeps[0]?.finishedAt).toBeGreaterThan(sleeps[0]?.startedAt as bigint);
    const found = await sys.client.findRequests({ type: 'test', states: ['COMPLETE'] });
    expect(found.map((r) => r.id)).toContain(created.id);
  });

  it('status/running shows the running jobs and their request, then nothing once it is done', async () => {
    const created = await sys.client.createRequest('test', { sleepTime: '1500' });
    const status = await until('jobs in status/running', async () => {
      const s = await sys.client.runningStatus();
      return s.jobs.filter((j) => j.requestId === created.id).length === 2 ? s : undefined;
    });
    const jobs = status.jobs.filter((j) => j.requestId === created.id);
    expect(jobs.map((j) => j.type)).toEqual(['sleep', 'sleep']);
    expect(jobs[0]?.status).toMatch(/sleep/);
    expect(status.requests[created.id]).toMatchObject({ id: created.id, state: State.RUNNING, type: 'test' });
    expect(status).not.toHaveProperty('unreachable');
    expect((await sys.client.runningStatus(created.id)).jobs.length).toBe(2);
    await waitForState(sys.client, created.id);
    const after = await sys.client.runningStatus();
    expect(after.jobs.filter((j) => j.requestId === created.id)).toEqual([]);
  });

  it('stop ends a running request STOPPED with finishedAt', async () => {
    const created = await sys.client.createRequest('test', { sleepTime: '30000' });
    await until('the sleep jobs to run', async () => {
      const s = await sys.client.runningStatus(created.id);
      return s.jobs.length === 2 ? true : undefined;
    });
    const t0 = Date.now();
    await sys.client.stopRequest(created.id);
    const stopped = await waitForState(
      sys.client,
      created.id,
      [State.STOPPED, State.FAIL, State.COMPLETE],
      10_000,
    );
    expect(stopped.state).toBe(State.STOPPED);
    expect(stopped.finishedAt).not.toBeNull();
    expect(Date.now() - t0).toBeLessThan(10_000);
    // A second stop is a no-op.
    await sys.client.stopRequest(created.id);
    expect((await sys.client.getRequest(created.id)).state).toBe(State.STOPPED);
  });
});

describe.each(['sqlite', 'mysql'] as const)('suspend and resume on %s', (db) => {
  it('when the JR shuts down mid-request, the chain is suspended, and the resumer sends it to the next JR, where it completes', async () => {
    const sys = await startSystem({ db, specsDir: SPECS, rmEnv: { SPINCYCLE_RESUMER_INTERVAL: '200ms' } });
    let jr2: Awaited<ReturnType<typeof startJr>> | undefined;
    try {
      const created = await sys.client.createRequest('test', { sleepTime: '2000' });
      await until('the sleep jobs to run', async () =>
        (await sys.client.runningStatus(created.id)).jobs.length === 2 ? true : undefined,
      );
      await sys.jr.stop('SIGTERM');
      const suspended = await waitForState(
        sys.client,
        created.id,
        [State.SUSPENDED, State.FAIL, State.COMPLETE, State.STOPPED],
        15_000,
      );
      expect(suspended.state).toBe(State.SUSPENDED);
      // A new JR at the same address (what the RM is configured with).
      jr2 = await startJr({ rmUrl: sys.rm.url, port: Number(new URL(sys.jr.url).port) });
      const done = await waitForState(
        sys.client,
        created.id,
        [State.COMPLETE, State.FAIL, State.STOPPED],
        30_000,
      );
      expect(done.state).toBe(State.COMPLETE);
      expect(done.finishedJobs).toBe(done.totalJobs);
    } finally {
      await jr2?.stop();
      await sys.stop();
    }
  });
});
