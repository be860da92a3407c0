/**
 * Retention on both drivers: old final requests go with their args, archive
 * pieces, archives and job logs; recent final and old non-final requests
 * stay; every batch is bounded; one RM at a time (the lease).
 */
import { type JobLog, State, type StateValue } from '@spincycle/protocol';
import { silentLogger } from '@spincycle/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeep, Retention } from '../src/retention.js';
import { JobLogStore } from '../src/stores/job-log-store.js';
import { LeaseStore } from '../src/stores/lease-store.js';
import { type NewRequest, RequestStore } from '../src/stores/request-store.js';
import { RetentionStore } from '../src/stores/retention-store.js';
import { DB_KINDS, openTestDb, type TestDb } from './support/db.js';

const DAY = 86_400_000;
let seq = 0;
const rid = () =>
  `r${(++seq).toString(36).padStart(6, '0')}${Date.now().toString(36)}`.padEnd(20, 'x').slice(0, 20);

function request(state: StateValue, finishedDaysAgo: number | null, chainChars = 100): NewRequest {
  const id = rid();
  const finished = finishedDaysAgo === null ? null : new Date(Date.now() - finishedDaysAgo * DAY);
  return {
    row: {
      request_id: id,
      type: 'test',
      state,
      user: 'alice',
      created_at: new Date(Date.now() - 200 * DAY),
      started_at: null,
      finished_at: finished,
      total_jobs: 3,
      finished_jobs: 3,
      jr_url: null,
    },
    createRequestJson: '{"Type":"test"}',
    argsJson: '[]',
    jobChainJson: JSON.stringify({ requestId: id, pad: 'c'.repeat(chainChars) }),
    givenArgs: { host: `h-${id}` },
  };
}

function logs(requestId: string, n: number): JobLog[] {
  return Array.from({ length: n }, (_, i) => ({
    requestId,
    jobId: `j${i}`,
    try: 1,
    name: 'n',
    type: 'noop',
    startedAt: 1n,
    finishedAt: 2n,
    state: State.COMPLETE,
    exit: 0,
    error: '',
    stdout: 'out',
    stderr: '',
  }));
}

async function count(t: TestDb, table: string, id: string): Promise<number> {
  const rows = await t.db.run((m) =>
    t.db.select<{ n: unknown }>(m, `SELECT COUNT(*) AS n FROM \`${table}\` WHERE \`request_id\` = ?`, [id]),
  );
  return Number(rows[0]?.n);
}

const TABLES = ['requests', 'request_args', 'request_archives', 'request_archive_parts', 'job_log'];

describe.each(DB_KINDS)('retention (%s)', (kind) => {
  let t: TestDb;
  let requests: RequestStore;
  let jobLogs: JobLogStore;
  beforeAll(async () => {
    t = await openTestDb(kind);
    requests = new RequestStore(t.db);
    jobLogs = new JobLogStore(t.db);
  });
  afterAll(async () => t?.drop());

  const retention = (instanceId: string, batch: number) =>
    new Retention(
      { store: new RetentionStore(t.db), leases: new LeaseStore(t.db), logger: silentLogger() },
      { keepMs: parseKeep('90d'), intervalMs: 3_600_000, batch, logRows: 7, pauseMs: 1, instanceId },
    );

  it('deletes old final requests with everything stored for them, in bounded batches; recent and non-final stay', async () => {
    // Small statements: the big chains are stored in pieces, which must go too.
    t.db.setStatementBytes(8 * 1024);
    const old = [
      ...Array.from({ length: 5 }, () => request(State.COMPLETE, 100, 10_000)),
      request(State.FAIL, 91),
      request(State.STOPPED, 365),
    ];
    const keep = [
      request(State.COMPLETE, 10),
      request(State.FAIL, 89),
      request(State.RUNNING, null),
      request(State.SUSPENDED, null),
      request(State.PENDING, null),
    ];
    for (const r of [...old, ...keep]) {
      await requests.create(r);
      await jobLogs.insertMany(logs(r.row.request_id, 20));
    }
    expect(await count(t, 'request_archive_parts', old[0]?.row.request_id as string)).toBeGreaterThan(1);

    const first = retention('rm-a', 3);
    // Another RM holds no lease while the first one purges.
    const result = await first.runOnce();
    expect(result.holder).toBe(true);
    expect(result.batches.map((b) => b.requests)).toEqual([3, 3, 1]);
    for (const r of old) for (const table of TABLES) expect(await count(t, table, r.row.request_id)).toBe(0);
    for (const r of keep) {
      expect(await count(t, 'requests', r.row.request_id)).toBe(1);
      expect(await count(t, 'request_args', r.row.request_id)).toBe(1);
      expect(await count(t, 'request_archives', r.row.request_id)).toBe(1);
      expect(await count(t, 'job_log', r.row.request_id)).toBe(20);
    }
    // Nothing left to do; another RM does not run while this one holds the lease.
    expect((await first.runOnce()).batches).toEqual([]);
    expect(await retention('rm-b', 3).runOnce()).toEqual({ holder: false, batches: [] });
    await first.stop();
    // Handed on at stop: the other RM takes over.
    expect((await retention('rm-b', 3).runOnce()).holder).toBe(true);
  });

  it('parses retention.keep: empty is off, day and week units, bad text named', () => {
    expect(parseKeep('')).toBe(0);
    expect(parseKeep('90d')).toBe(90 * DAY);
    expect(parseKeep('1w12h')).toBe(7 * DAY + DAY / 2);
    expect(() => parseKeep('ninety days')).toThrow(/'retention.keep' must be empty \(off\) or a duration/);
  });
});
