/**
 * Fault test 5: MariaDB restarts (kill -9, then started again on the same
 * data) while requests run. The RM answers 5xx meanwhile, the JR retries its
 * job logs, finishes and heartbeats, and the sweeper does not mistake the
 * outage for lost Job Runners: every request completes and no job-log entry
 * is lost. Runs its own private mariadbd (the machine's shared server is
 * never touched).
 */
import { type Request, State } from '@spincycle/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceProcess } from '../support/system.js';
import {
  allFinal,
  expectEntriesOnce,
  PrivateMariaDb,
  readLedger,
  sleep,
  startHaSystem,
  until,
} from './support.js';

const procs: ServiceProcess[] = [];
let db: PrivateMariaDb | undefined;
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop('SIGKILL');
  await db?.destroy();
});

describe('MariaDB restarts in the middle of requests', () => {
  it('requests complete; no job-log entry is lost; nothing is failed as lost', async () => {
    db = await new PrivateMariaDb().init();
    const mysqlUrl = await db.createDatabase('spincycle_ha');
    const { jr, client, ledger } = await startHaSystem(procs, {
      mysqlUrl,
      rmEnv: { SPINCYCLE_JR_LEASE: '4s' },
    });

    const created: Request[] = [];
    for (let i = 0; i < 6; i++) created.push(await client.createRequest('ha-steps', { ms: '700' }));
    await until(
      'some jobs to complete',
      async () => readLedger(ledger).filter((e) => e.event === 'complete').length >= 6,
    );

    const completes = () => readLedger(ledger).filter((e) => e.event === 'complete').length;
    await db.kill();
    const downAt = Date.now();
    const atKill = completes();
    // Down for longer than the JR lease (4 s): heartbeats cannot be stored meanwhile.
    await sleep(5000);
    // The RM cannot reach its database: reads are 5xx, not hangs.
    await expect(client.getRequest(created[0]?.id as string)).rejects.toMatchObject({ status: 500 });
    // Jobs went on completing; their entries wait in the JR.
    expect(completes()).toBeGreaterThan(atKill);
    await db.start();
    const downMs = Date.now() - downAt;

    const done = await allFinal(client, created, 40_000);
    expect(done.map((r) => r.state)).toEqual(created.map(() => State.COMPLETE));
    const events = readLedger(ledger);
    for (const r of done) await expectEntriesOnce(client, r, events);
    // The JR saw the outage (its deliveries failed and were retried).
    expect(jr.log).toMatch(/failed; retrying/);
    expect(downMs).toBeGreaterThan(5000);
  }, 120_000);
});
