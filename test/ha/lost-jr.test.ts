/**
 * Fault test 1: a Job Runner that dies (kill -9) or is cut off. Its RUNNING
 * requests are failed by the sweeper within lease + sweep interval, with the
 * explanation in their job log; stop and status/running work meanwhile; a JR
 * that comes back after its lease expired drops those chains; one restarted on
 * the same address gets its old process's requests failed at its first
 * heartbeat, not a lease later. Real RM and JR processes on MariaDB.
 */
import { type JobLog, RmClient, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess } from '../support/system.js';
import {
  allFinal,
  logProblems,
  newLedger,
  readLedger,
  sleep,
  startHaJr,
  startHaRm,
  until,
  untilFinal,
} from './support.js';

const LEASE_MS = 3000;
const SWEEP_MS = 300;

describe('a Job Runner that dies', () => {
  let rm: ServiceProcess;
  let client: RmClient;
  const jrs: ServiceProcess[] = [];
  const ledger = newLedger();
  let port2 = 0;

  beforeAll(async () => {
    const port = await freePort();
    port2 = await freePort();
    // Two JR addresses; the second JR starts only in the second test.
    rm = await startHaRm({ jrUrl: `http://127.0.0.1:${port},http://127.0.0.1:${port2}` });
    client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
    jrs.push(await startHaJr({ rmUrl: rm.url, ledger, port }));
  });
  afterAll(async () => {
    for (const j of jrs) await j.stop('SIGKILL');
    await rm?.stop();
  });

  it('kill -9: its requests FAIL within lease + sweep interval with the reason in the log; stop and status/running answer meanwhile; nothing stays RUNNING', async () => {
    const jr = jrs[0] as ServiceProcess;
    const a = await client.createRequest('ha-nap', { ms: '60000' });
    const b = await client.createRequest('ha-nap', { ms: '60000' });
    await until(
      'both naps to run',
      async () => (await client.runningStatus()).jobs.filter((j) => j.name === 'nap').length === 2,
    );
    // The RM knows the JR and its chains from its heartbeats.
    await until('a heartbeat naming both chains', async () =>
      (await client.jobRunners()).some((j) => j.jrURL === jr.url && j.live && j.chains === 2),
    );

    await jr.stop('SIGKILL');
    const killedAt = Date.now();

    // Before the sweeper acts: status/running names the JR as unreachable (no 500) ...
    const status = await client.runningStatus();
    expect(status.jobs).toEqual([]);
    expect(status.unreachable?.map((u) => u.jrURL)).toEqual([jr.url]);
    // ... and a user stop finalizes the request (FAIL: its JR is gone), no 500.
    await client.stopRequest(b.id);
    const stopped = await client.getRequest(b.id);
    expect(stopped.state).toBe(State.FAIL);
    expect(stopped.finishedAt).not.toBeNull();
    const bLogs = await client.getJobLogs(b.id);
    expect(bLogs.find((l) => l.name === 'nap')?.error).toContain(`Job Runner ${jr.url} was lost`);

    // The other request: FAIL within the lease plus a sweep or two.
    const failed = await until(
      'the sweeper to fail the request',
      async () => {
        const r = await client.getRequest(a.id);
        return r.state === State.FAIL ? r : undefined;
      },
      LEASE_MS + 10_000,
      50,
    );
    const took = Date.now() - killedAt;
    expect(took).toBeLessThan(LEASE_MS + 2 * SWEEP_MS + 2000);
    expect(failed.finishedAt).not.toBeNull();
    expect(failed).not.toHaveProperty('jrURL');
    const logs = await client.getJobLogs(a.id);
    const lost = logs.filter((l) => l.name === 'nap') as JobLog[];
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ try: 1, state: State.FAIL });
    expect(lost[0]?.error).toMatch(
      new RegExp(`^Job Runner ${jr.url} was lost: no heartbeat since .* \\(lease 3s\\)`),
    );
    expect(logs.filter((l) => l.name === 'after')).toEqual([]); // it never ran
    expect(await logProblems(client, failed)).toEqual([]);

    expect(await client.findRequests({ states: ['RUNNING'] })).toEqual([]);
    expect((await client.runningStatus()).unreachable ?? []).toEqual([]);
    expect(await client.jobRunners()).toContainEqual(expect.objectContaining({ jrURL: jr.url, live: false }));
  }, 60_000);

  it('a JR cut off past its lease (SIGSTOP) drops those chains when it comes back: nothing more runs or is stored for them', async () => {
    const jr = await startHaJr({ rmUrl: rm.url, ledger, port: port2 });
    jrs.push(jr);
    // The RM sends new chains to the live JR, not to the dead one listed first.
    await until('the RM to see the new JR live', async () =>
      (await client.jobRunners()).some((j) => j.jrURL === jr.url && j.live),
    );
    await sleep(1100);
    {
      const c2 = client;
      const req = await c2.createRequest('ha-nap', { ms: '1500', afterMs: '4000' });
      await until('the nap to run', async () =>
        (await c2.runningStatus(req.id)).jobs.some((j) => j.name === 'nap'),
      );
      jr.proc.kill('SIGSTOP');
      const failed = await untilFinal(c2, req.id, LEASE_MS + 10_000, 'the request to FAIL');
      expect(failed.state).toBe(State.FAIL);
      const logsAtFail = await c2.getJobLogs(req.id);
      jr.proc.kill('SIGCONT');
      // Back: the nap's timer is overdue, so it completes at once and `after` starts; the
      // heartbeat's answer makes the JR drop the chain, stopping `after`.
      await until(
        'the JR to drop the chain',
        async () => {
          const res = await fetch(`${jr.url}/api/v1/status/running?requestId=${req.id}`);
          return res.status === 404;
        },
        10_000,
      );
      await sleep(1000);
      const events = readLedger(ledger).filter((e) => e.requestId === req.id);
      // `after` never completed, and nothing the nap or `after` did after the FAIL reached the RM.
      const chain = await c2.getJobChain(req.id);
      const afterId = Object.values(chain.jobs).find((j) => j.name === 'after')?.id as string;
      expect(events.some((e) => e.jobId === afterId && e.event === 'complete')).toBe(false);
      const now = await c2.getRequest(req.id);
      expect(now).toMatchObject({ state: State.FAIL, finishedAt: failed.finishedAt });
      expect(await c2.getJobLogs(req.id)).toEqual(logsAtFail);
      expect(
        logsAtFail.some((l) => l.state === State.FAIL && l.error.startsWith(`Job Runner ${jr.url} was lost`)),
      ).toBe(true);
      expect(req.jrURL).toBe(jr.url);
      expect(jr.log).toContain('dropping the chain');
    }
  }, 60_000);
});

describe('a Job Runner restarted on the same address after kill -9', () => {
  let rm: ServiceProcess;
  let client: RmClient;
  const jrs: ServiceProcess[] = [];
  const ledger = newLedger();

  beforeAll(async () => {
    const port = await freePort();
    // A long lease: whatever fails these requests in this test, it is not the sweeper.
    rm = await startHaRm({ jrUrl: `http://127.0.0.1:${port}`, env: { SPINCYCLE_JR_LEASE: '60s' } });
    client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
    jrs.push(await startHaJr({ rmUrl: rm.url, ledger, port }));
  });
  afterAll(async () => {
    for (const j of jrs) await j.stop('SIGKILL');
    await rm?.stop();
  });

  it("its old process's requests FAIL at the new process's first heartbeat, the reason naming the restart; the new process takes new requests", async () => {
    const old = jrs[0] as ServiceProcess;
    const a = await client.createRequest('ha-nap', { ms: '60000' });
    const b = await client.createRequest('ha-nap', { ms: '60000' });
    await until('a heartbeat naming both chains', async () =>
      (await client.jobRunners()).some((j) => j.jrURL === old.url && j.live && j.chains === 2),
    );
    const before = (await client.jobRunners()).find((j) => j.jrURL === old.url)?.instance;
    await old.stop('SIGKILL');
    const port = Number(new URL(old.url).port);
    const fresh = await startHaJr({ rmUrl: rm.url, ledger, port });
    jrs.push(fresh);
    expect(fresh.url).toBe(old.url);
    const failed = await allFinal(client, [a, b], 20_000);
    for (const r of failed) {
      expect(r.state).toBe(State.FAIL);
      expect(r.finishedAt).not.toBeNull();
      const nap = (await client.getJobLogs(r.id)).find((l) => l.name === 'nap');
      expect(nap).toMatchObject({ try: 1, state: State.FAIL });
      expect(nap?.error).toContain(`Job Runner ${old.url} was lost: it restarted at`);
      expect(nap?.error).toContain(`instance ${before}`);
      expect(await logProblems(client, r)).toEqual([]);
    }
    const runners = await client.jobRunners();
    expect(runners.find((j) => j.jrURL === old.url)?.instance).not.toBe(before);
    const next = await client.createRequest('ha-nap', { ms: '10', afterMs: '10' });
    expect((await untilFinal(client, next.id, 20_000)).state).toBe(State.COMPLETE);
  }, 60_000);
});
