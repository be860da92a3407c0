/**
 * Fault test 6: the RM is unreachable for 20 s (its process stopped with
 * SIGSTOP: connections hang, nothing answers) while a JR runs jobs. The JR
 * buffers job-log entries and the finish and delivers them once the RM is
 * back; the sweeper, having been stopped itself, does not blame the JR for
 * the silence although it outlasted the (short) lease.
 */
import { State } from '@spincycle/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceProcess } from '../support/system.js';
import { logProblems, readLedger, sleep, startHaSystem, until, untilFinal } from './support.js';

const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) {
    p.proc.kill('SIGCONT');
    await p.stop('SIGKILL');
  }
});

describe('the RM is unreachable for 20 s', () => {
  it('the JR buffers job-log entries and the finish and delivers them afterwards; nothing is lost or failed', async () => {
    const { rm, jr, client, ledger } = await startHaSystem(procs, {
      rmEnv: { SPINCYCLE_JR_LEASE: '5s' },
      jrEnv: { SPINCYCLE_RM_CLIENT_TIMEOUT: '2s' },
    });
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

    const done = await untilFinal(client, req.id, 30_000, 'the request to finish');
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
