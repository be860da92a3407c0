/**
 * Fault test 6: the RM is unreachable for 20 s (its process stopped with
 * SIGSTOP: connections hang, nothing answers) while a JR runs jobs. The JR
 * buffers job-log entries and the finish and delivers them once the RM is
 * back; the sweeper, having been stopped itself, does not blame the JR for
 * the silence although it outlasted the (short) lease.
 */
import { RmClient, State } from '@spincycle/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess } from '../support/system.js';
import { FINAL, logProblems, newLedger, readLedger, sleep, startHaJr, startHaRm, until } from './support.js';

const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) {
    p.proc.kill('SIGCONT');
    await p.stop('SIGKILL');
  }
});

describe('the RM is unreachable for 20 s', () => {
  it('the JR buffers job-log entries and the finish and delivers them afterwards; nothing is lost or failed', async () => {
    const ledger = newLedger();
    const jrPort = await freePort();
    const rm = await startHaRm({ jrUrl: `http://127.0.0.1:${jrPort}`, env: { SPINCYCLE_JR_LEASE: '5s' } });
    procs.push(rm);
    const jr = await startHaJr({
      rmUrl: rm.url,
      ledger,
      port: jrPort,
      env: { SPINCYCLE_RM_CLIENT_TIMEOUT: '2s' },
    });
    procs.push(jr);
    const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
    // a → (b, c) → d → e → f, 2 s each: about 10 s of work.
    const req = await client.createRequest('ha-steps', { ms: '2000' });
    const mine = () => readLedger(ledger).filter((e) => e.requestId === req.id);
    await until('the first job to complete', async () => mine().some((e) => e.event === 'complete'));
    await sleep(300); // its entry reached the RM

    rm.proc.kill('SIGSTOP');
    await sleep(20_000);
    // All the work happened while the RM was away.
    expect(mine().filter((e) => e.event === 'complete')).toHaveLength(6);
    rm.proc.kill('SIGCONT');

    const done = await until(
      'the request to finish',
      async () => {
        const x = await client.getRequest(req.id);
        return FINAL.includes(x.state) ? x : undefined;
      },
      30_000,
    );
    expect(done.state).toBe(State.COMPLETE);
    expect(done.finishedJobs).toBe(done.totalJobs);
    expect(await logProblems(client, done)).toEqual([]);
    const logs = await client.getJobLogs(req.id);
    expect(logs).toHaveLength(done.totalJobs);
    expect(logs.every((l) => l.state === State.COMPLETE && l.try === 1)).toBe(true);
    expect(jr.log).toMatch(/failed; retrying/);
    expect(jr.proc.exitCode).toBeNull();
  }, 90_000);
});
