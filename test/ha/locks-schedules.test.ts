/**
 * Locks and schedules with two RM processes on one MariaDB database and a
 * real JR: a request waiting for a lock held through the other RM starts
 * when the holder completes (never overlapping it), and a per-second
 * schedule configured on both RMs makes exactly one request per due time.
 */
import { type Request, RmClient, State } from '@spincycle/protocol';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, newMysqlDatabase, REPO_ROOT, type ServiceProcess } from '../support/system.js';
import { newLedger, startHaJr, startHaRm, until, untilFinal } from './support.js';

const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop('SIGKILL');
});

const SCHEDULES = JSON.stringify([
  { name: 'tick', cron: '* * * * * *', timezone: 'UTC', type: 'ha-tick', missed: 'skip' },
]);

describe('locks and schedules across two RM processes', () => {
  it('a lock waiter starts after its holder; one request per due time of a schedule on both RMs', async () => {
    const mysqlUrl = await newMysqlDatabase();
    const jrPort = await freePort();
    const jrUrl = `http://127.0.0.1:${jrPort}`;
    const env = {
      SPINCYCLE_SCHEDULES: SCHEDULES,
      SPINCYCLE_SCHEDULER_INTERVAL: '200ms',
      SPINCYCLE_LOCKS_SWEEP_INTERVAL: '500ms',
    };
    const specsDir = `${REPO_ROOT}/test/ha/specs-locks`;
    const rm1 = await startHaRm({ jrUrl, mysqlUrl, specsDir, env });
    const rm2 = await startHaRm({ jrUrl, mysqlUrl, specsDir, env });
    procs.push(rm1, rm2);
    procs.push(await startHaJr({ rmUrl: `${rm1.url},${rm2.url}`, ledger: newLedger(), port: jrPort }));
    const c1 = new RmClient({ baseURL: rm1.url, retry: { attempts: 1 } });
    const c2 = new RmClient({ baseURL: rm2.url, retry: { attempts: 1 } });

    const first = await c1.createRequest('ha-locked', { host: 'db1' });
    const second = (await c2.createRequest('ha-locked', { host: 'db1', ms: '100' })) as Request & {
      waitingFor?: Array<{ requestId: string }>;
    };
    expect(first.state).toBe(State.RUNNING);
    expect(second.state).toBe(State.PENDING);
    expect(second.waitingFor?.[0]?.requestId).toBe(first.id);
    const done1 = await untilFinal(c2, first.id, 30_000);
    const done2 = await untilFinal(c1, second.id, 30_000);
    expect([done1.state, done2.state]).toEqual([State.COMPLETE, State.COMPLETE]);
    expect(Date.parse(done2.startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(done1.finishedAt as string),
    );

    const fired = await until(
      'three scheduled requests',
      async () => {
        const found = await c1.findRequests({ user: 'schedule:tick' });
        return found.length >= 3 ? found : undefined;
      },
      30_000,
    );
    expect(fired.every((r) => r.type === 'ha-tick')).toBe(true);
    const listed = (await (await fetch(`${rm2.url}/api/v1/schedules`)).json()) as Array<
      Record<string, unknown>
    >;
    expect(listed[0]).toMatchObject({ name: 'tick', type: 'ha-tick', missed: 'skip' });
    expect(listed[0]?.lastRun).toMatchObject({ outcome: 'created' });

    // Stopped gracefully, the RMs finish the tick under way; then every run is settled.
    await Promise.all([rm1.stop('SIGTERM'), rm2.stop('SIGTERM')]);
    const conn = await mysql.createConnection(mysqlUrl);
    try {
      const [runRows] = await conn.query(
        "SELECT request_id FROM schedule_runs WHERE schedule = 'tick' AND request_id IS NOT NULL",
      );
      const [reqRows] = await conn.query("SELECT request_id FROM requests WHERE user = 'schedule:tick'");
      const runIds = (runRows as Array<{ request_id: string }>).map((r) => r.request_id).sort();
      const reqIds = (reqRows as Array<{ request_id: string }>).map((r) => r.request_id).sort();
      // One request per run (per due time), and no request without its run (runs fired before
      // the JR was up made requests that FAILed: they name them too).
      expect(runIds).toEqual(reqIds);
      expect(new Set(runIds).size).toBe(runIds.length);
    } finally {
      await conn.end();
    }
  });
});
