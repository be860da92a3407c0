/**
 * Fault tests 2 and 3: hand-off on shutdown and stopping requests that have
 * no running job. SIGTERM on a JR suspends every chain — with a job running,
 * a job waiting between its tries and a sequence waiting for its retry — and
 * the RM resumes it on the other JR, where it completes without re-running a
 * completed job and with try numbers that continue. A SUSPENDED request, and
 * one whose only pending work is a retry wait, can be stopped. Real RM and JR
 * processes on MariaDB.
 */
import { type JobLog, RmClient, State } from '@spincycle/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess } from '../support/system.js';
import {
  logProblems,
  newLedger,
  pidOf,
  readLedger,
  sleep,
  startHaJr,
  startHaRm,
  startHaSystem,
  tries,
  until,
  untilFinal,
} from './support.js';

const procs: ServiceProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) await p.stop('SIGKILL');
});

describe('hand-off on SIGTERM', () => {
  it('the chain is suspended with a job running, one waiting between tries and a sequence waiting for its retry; the other JR resumes and completes it; nothing completed runs twice; try numbers continue', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const ledger = newLedger();
    const rm = await startHaRm({
      jrUrl: `http://127.0.0.1:${p1},http://127.0.0.1:${p2}`,
      env: { LOG_LEVEL: 'info' },
    });
    procs.push(rm);
    const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
    const jr1 = await startHaJr({ rmUrl: rm.url, ledger, port: p1 });
    procs.push(jr1);
    // Only JR 1 is up when the request starts, so it runs there.
    // `long`'s first run and flaky's retry wait outlast the test (see ha.yaml): on JR 1 they are
    // still running/waiting at the SIGTERM however loaded the machine is.
    const req = await client.createRequest('ha-handoff', { shortMs: '100', fails: '1' });
    expect(req.jrURL).toBe(jr1.url);
    const jr2 = await startHaJr({ rmUrl: rm.url, ledger, port: p2 });
    procs.push(jr2);

    const chain = await client.getJobChain(req.id);
    const idOf = (name: string) => Object.values(chain.jobs).find((j) => j.name === name)?.id as string;
    // Wait for: done1 complete, long running, flaky failed once (now in its retry wait), s2 failed
    // (sequence retry wait), and JR 1 reporting long running and flaky sleeping before its retry.
    await until('the chain to reach the hand-off point', async () => {
      const ev = readLedger(ledger).filter((e) => e.requestId === req.id);
      const has = (event: string, job: string) => ev.some((e) => e.event === event && e.jobId === idOf(job));
      return has('complete', 'done1') && has('start', 'long') && has('fail', 'flaky') && has('fail', 's2');
    });
    await until('JR 1 to run long and wait to retry flaky', async () => {
      const jobs = (await client.runningStatus(req.id)).jobs;
      const status = (name: string) => jobs.find((j) => j.name === name)?.status ?? '';
      return jobs.some((j) => j.name === 'long') && status('flaky').startsWith('(retry sleep)');
    });
    const before = readLedger(ledger).filter((e) => e.requestId === req.id);

    const t0 = Date.now();
    expect(await jr1.stop('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(jr1.log).not.toMatch(/"level":"error"/);

    const done = await untilFinal(client, req.id, 30_000, 'the request to finish');
    expect(done.state).toBe(State.COMPLETE);
    expect(done.finishedJobs).toBe(done.totalJobs);
    expect(await logProblems(client, done)).toEqual([]);
    expect(rm.log).toContain('request suspended');
    expect(rm.log).toContain('request resumed');

    const logs = await client.getJobLogs(req.id);
    const pid1 = jr1.proc.pid;
    const pid2 = jr2.proc.pid;
    const ran = (name: string) => logs.filter((l) => l.name === name).sort((a, b) => a.try - b.try);
    const where = (l: JobLog) => (pidOf(l) === pid1 ? 'jr1' : pidOf(l) === pid2 ? 'jr2' : '?');
    // Completed before the hand-off: never run again.
    expect(tries(logs, 'done1')).toEqual(['1:COMPLETE']);
    expect(ran('done1').map(where)).toEqual(['jr1']);
    expect(readLedger(ledger).filter((e) => e.jobId === idOf('done1') && e.event === 'start')).toHaveLength(
      1,
    );
    // Running at the hand-off: stopped on JR 1 as try 1, re-run on JR 2 as try 2.
    expect(tries(logs, 'long')).toEqual(['1:STOPPED', '2:COMPLETE']);
    expect(ran('long').map(where)).toEqual(['jr1', 'jr2']);
    // Waiting between tries: failed on JR 1, its retry ran on JR 2 with a later try number.
    expect(ran('flaky').map(where)).toEqual(['jr1', 'jr2']);
    expect(tries(logs, 'flaky')[0]).toBe('1:FAIL');
    expect(tries(logs, 'flaky')[1]).toMatch(/^[23]:COMPLETE$/);
    // Waiting for a sequence retry: the prepared retry ran on JR 2 (s1 again, as the retry prescribes).
    expect(tries(logs, 's2')).toEqual(['1:FAIL', '2:COMPLETE']);
    expect(ran('s2').map(where)).toEqual(['jr1', 'jr2']);
    expect(tries(logs, 's1')).toEqual(['1:COMPLETE', '2:COMPLETE']);
    expect(ran('s1').map(where)).toEqual(['jr1', 'jr2']);
    // Nothing that had completed on JR 1 before the SIGTERM started again on JR 2, except the sequence
    // the retry had already reset.
    const completedBefore = new Set(before.filter((e) => e.event === 'complete').map((e) => e.jobId));
    const rerun = readLedger(ledger).filter(
      (e) => e.requestId === req.id && e.event === 'start' && e.pid === pid2 && completedBefore.has(e.jobId),
    );
    expect(rerun.map((e) => e.jobId)).toEqual([idOf('s1')]);
    // Try numbers only grow with time.
    for (const name of ['long', 'flaky', 's1', 's2']) {
      const r = ran(name);
      for (let i = 1; i < r.length; i++)
        expect((r[i] as JobLog).startedAt > (r[i - 1] as JobLog).startedAt).toBe(true);
    }
  }, 60_000);
});

describe('stop without a running job', () => {
  it('a SUSPENDED request can be stopped: STOPPED with finishedAt, never resumed', async () => {
    // The resumer waits long, so the request stays SUSPENDED.
    const { rm, jr, client, ledger, port } = await startHaSystem(procs, {
      rmEnv: { SPINCYCLE_RESUMER_INTERVAL: '1h' },
    });
    const req = await client.createRequest('ha-nap', { ms: '30000' });
    await until('the nap to run', async () => (await client.runningStatus(req.id)).jobs.length === 1);
    expect(await jr.stop('SIGTERM')).toBe(0);
    const suspended = await client.getRequest(req.id);
    expect(suspended.state).toBe(State.SUSPENDED);
    expect(suspended).not.toHaveProperty('jrURL');
    await client.stopRequest(req.id);
    const stopped = await client.getRequest(req.id);
    expect(stopped.state).toBe(State.STOPPED);
    expect(stopped.finishedAt).not.toBeNull();
    expect(tries(await client.getJobLogs(req.id), 'nap')).toEqual(['1:STOPPED']);
    // A JR that comes up now gets nothing to resume.
    const jr2 = await startHaJr({ rmUrl: rm.url, ledger, port });
    procs.push(jr2);
    await sleep(1000);
    expect((await client.getRequest(req.id)).state).toBe(State.STOPPED);
    // Stopping again is a no-op.
    await client.stopRequest(req.id);
  }, 60_000);

  it('a request whose only pending work is a retry wait (job retry or sequence retry) stops at once: STOPPED', async () => {
    const { client } = await startHaSystem(procs);
    for (const type of ['ha-retry-wait', 'ha-seq-wait']) {
      const req = await client.createRequest(type, {});
      // The failing job failed; now only a 60 s wait is pending.
      await until(`${type}: the first failure`, async () =>
        (await client.getJobLogs(req.id)).some((l) => l.state === State.FAIL),
      );
      await sleep(300);
      // Nothing runs: a job sleeping before its retry at most.
      const running = (await client.runningStatus(req.id)).jobs;
      expect(running.every((j) => j.status?.startsWith('(retry sleep)'))).toBe(true);
      expect(running.length).toBe(type === 'ha-retry-wait' ? 1 : 0);
      const t0 = Date.now();
      await client.stopRequest(req.id);
      const r = await untilFinal(client, req.id, 5000, `${type}: the request to be final`);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(r.state, type).toBe(State.STOPPED);
      expect(r.finishedAt).not.toBeNull();
    }
  }, 60_000);
});
