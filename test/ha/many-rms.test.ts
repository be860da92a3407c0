/**
 * Fault test 4: two RMs on one MariaDB database behind one URL list. One is
 * killed (kill -9) while requests run: the JR's callbacks go to the other,
 * which also takes over the sweeper lease, and every job-log entry arrives
 * exactly once.
 */
import { type Request, RmClient, State } from '@spincycle/protocol';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, newMysqlDatabase, type ServiceProcess } from '../support/system.js';
import {
  allFinal,
  expectEntriesOnce,
  newLedger,
  readLedger,
  sleep,
  startHaJr,
  startHaRm,
  until,
} from './support.js';

const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop('SIGKILL');
});

describe('two RMs, one killed in the middle of requests', () => {
  it("the JR's callbacks go to the other RM; every request completes; every job-log entry arrives exactly once", async () => {
    const mysqlUrl = await newMysqlDatabase();
    const ledger = newLedger();
    const jrPort = await freePort();
    const jrUrl = `http://127.0.0.1:${jrPort}`;
    const rm1 = await startHaRm({ jrUrl, mysqlUrl, env: { LOG_LEVEL: 'info' } });
    const rm2 = await startHaRm({ jrUrl, mysqlUrl, env: { LOG_LEVEL: 'info' } });
    procs.push(rm1, rm2);
    const jr = await startHaJr({
      rmUrl: `${rm1.url},${rm2.url}`,
      ledger,
      port: jrPort,
      env: { LOG_LEVEL: 'info' },
    });
    procs.push(jr);
    const c1 = new RmClient({ baseURL: rm1.url, retry: { attempts: 1 } });
    const c2 = new RmClient({ baseURL: rm2.url, retry: { attempts: 1 } });

    const created: Request[] = [];
    for (let i = 0; i < 12; i++)
      created.push(await (i % 2 ? c2 : c1).createRequest('ha-steps', { ms: '600' }));
    // Any RM serves any request.
    expect((await c2.getRequest(created[0]?.id as string)).state).toBe(State.RUNNING);
    await until(
      'jobs to have run',
      async () => readLedger(ledger).filter((e) => e.event === 'complete').length >= 12,
    );
    await sleep(200);

    await rm1.stop('SIGKILL');
    // New requests through the surviving RM while the old ones finish.
    for (let i = 0; i < 4; i++) created.push(await c2.createRequest('ha-steps', { ms: '300' }));

    const done = await allFinal(c2, created, 30_000);
    expect(done.map((r) => r.state)).toEqual(created.map(() => State.COMPLETE));

    const events = readLedger(ledger);
    // Exactly once: one entry per run the JR made, no more, no fewer.
    for (const r of done) await expectEntriesOnce(c2, r, events);
    // The JR is still known live (its heartbeats go to the other RM), and that RM now sweeps.
    expect(await c2.jobRunners()).toContainEqual(expect.objectContaining({ jrURL: jr.url, live: true }));
    const line = rm2.log.split('\n').find((l) => l.includes('Request Manager listening')) as string;
    const rm2Id = (JSON.parse(line) as { resumer: string }).resumer;
    const db = await mysql.createConnection(mysqlUrl);
    try {
      await until(
        'the surviving RM to hold the sweeper lease',
        async () => {
          const [rows] = await db.query("SELECT holder FROM leases WHERE name = 'jr-sweeper'");
          return (rows as Array<{ holder: string }>)[0]?.holder === rm2Id;
        },
        15_000,
      );
    } finally {
      await db.end();
    }
    expect(await c2.findRequests({ states: ['RUNNING'] })).toEqual([]);
  }, 90_000);
});
