/**
 * Live events come from the database, not from one RM's memory: two RMs on one
 * MariaDB database; a request created through RM B is followed through RM A,
 * and a stream cut half-way is resumed through RM B with Last-Event-ID.
 */
import { join } from 'node:path';
import { type JobLog, RmClient, State } from '@spincycle/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { readSse } from '../support/sse.js';
import {
  freePort,
  newMysqlDatabase,
  REPO_ROOT,
  type ServiceProcess,
  startJr,
  startRm,
} from '../support/system.js';

const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
});

describe('live events with two RMs', () => {
  it('streams from RM A a request created through RM B, and resumes through RM B', async () => {
    const mysqlUrl = await newMysqlDatabase();
    const jrPort = await freePort();
    const jrUrl = `http://127.0.0.1:${jrPort}`;
    const env = { SPINCYCLE_EVENTS_POLL_INTERVAL: '250ms' };
    const specsDir = join(REPO_ROOT, 'specs');
    const a = await startRm({ db: 'mysql', mysqlUrl, specsDir, jrUrl, env });
    const b = await startRm({ db: 'mysql', mysqlUrl, specsDir, jrUrl, env });
    procs.push(a, b);
    procs.push(await startJr({ rmUrl: `${a.url},${b.url}`, port: jrPort }));

    // `test`: a noop, then two sleep sequences in parallel (about a second each).
    const req = await new RmClient({ baseURL: b.url, retry: { attempts: 1 } }).createRequest('test', {
      sleepTime: '1000',
    });
    const url = (rm: ServiceProcess) => `${rm.url}/api/v1/requests/${req.id}/events`;
    // Cut the stream from A after the noop's job-log entry ...
    const head = await readSse(url(a), {
      stopAfter: (e) => e.event === 'log' && (JSON.parse(e.data) as JobLog).name === 'first-job',
    });
    const cut = head.events.at(-1);
    expect(cut?.event).toBe('log');
    expect((JSON.parse(cut?.data as string) as JobLog).name).toBe('first-job');
    // ... and read the rest from B: only later events, ending with the final state.
    const rest = await readSse(url(b), { lastEventId: cut?.id });
    const names = rest.events
      .filter((e) => e.event === 'log')
      .map((e) => (JSON.parse(e.data) as JobLog).name);
    expect(names).not.toContain('first-job');
    expect(names.filter((n) => n === 'wait')).toHaveLength(2);
    expect(rest.events.at(-1)?.event).toBe('final');
    expect(JSON.parse(rest.events.at(-1)?.data as string).state).toBe(State.COMPLETE);
    // Ids rise within the stream (the log part is the storage sequence).
    const seqs = [cut, ...rest.events].map((e) => BigInt((e?.id ?? '0').split('.')[0] as string));
    for (let i = 1; i < seqs.length; i++) expect((seqs[i] as bigint) >= (seqs[i - 1] as bigint)).toBe(true);
  }, 60_000);
});
