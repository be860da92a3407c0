/**
 * Storage layer: the same test bodies on SQLite and on MariaDB.
 */
import { type JobLog, State, stringifyJson } from '@spincycle/protocol';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataSource } from '../src/db/data-source.js';
import { Db } from '../src/db/db.js';
import type { RequestRow } from '../src/db/entities.js';
import { migrate } from '../src/db/migrate.js';
import { JobLogStore } from '../src/stores/job-log-store.js';
import { JrStore } from '../src/stores/jr-store.js';
import { argIndexValue } from '../src/stores/request-rows.js';
import { type NewRequest, RequestStore } from '../src/stores/request-store.js';
import { SjcStore } from '../src/stores/sjc-store.js';
import { DB_KINDS, newTarget, openTestDb, type TestDb } from './support/db.js';

let seq = 0;
/** A unique, time-ordered 20-char id (tests only). */
function rid(): string {
  seq++;
  return `t${Date.now().toString(36)}${seq.toString(36).padStart(4, '0')}${Math.random().toString(36).slice(2)}`
    .slice(0, 20)
    .padEnd(20, '0');
}

function newRequest(over: Partial<RequestRow> = {}, givenArgs: Record<string, unknown> = {}): NewRequest {
  const id = over.request_id ?? rid();
  return {
    row: {
      request_id: id,
      type: 'test',
      state: State.PENDING,
      user: 'alice',
      created_at: new Date(),
      started_at: null,
      finished_at: null,
      total_jobs: 3,
      finished_jobs: 0,
      jr_url: null,
      ...over,
    },
    createRequestJson: JSON.stringify({ Type: over.type ?? 'test', Args: givenArgs, User: 'alice' }),
    argsJson: JSON.stringify([
      { Pos: 0, Name: 'x', Desc: '', Type: 'required', Given: true, Default: null, Value: 'y' },
    ]),
    jobChainJson: JSON.stringify({ requestId: id, jobs: {}, adjacencyList: {}, state: 1, finishedJobs: 0 }),
    givenArgs,
  };
}

function logEntry(requestId: string, jobId: string, tryNo: number, over: Partial<JobLog> = {}): JobLog {
  return {
    requestId,
    jobId,
    try: tryNo,
    name: `job-${jobId}`,
    type: 'sleep',
    startedAt: 1554230366094196501n,
    finishedAt: 1554230367094791703n,
    state: State.COMPLETE,
    exit: 0,
    error: '',
    stdout: 'out',
    stderr: '',
    ...over,
  };
}

describe.each(DB_KINDS)('storage on %s', (kind) => {
  let t: TestDb;
  let requests: RequestStore;
  let logs: JobLogStore;
  let sjcs: SjcStore;

  beforeAll(async () => {
    t = await openTestDb(kind);
    requests = new RequestStore(t.db);
    logs = new JobLogStore(t.db);
    sjcs = new SjcStore(t.db);
  });
  afterAll(async () => {
    await t?.drop();
  });

  describe('migrations', () => {
    it('when run again, then nothing is applied twice', async () => {
      expect(await migrate(t.db.ds)).toEqual([]);
    });

    it('when several RMs migrate a fresh database at once, then all succeed and the schema is there once', async () => {
      const { target, cleanup } = await newTarget(kind);
      const sources = await Promise.all([1, 2, 3].map(() => openDataSource(target)));
      try {
        const results =
          kind === 'mysql'
            ? await Promise.all(sources.map((ds) => migrate(ds)))
            : [await migrate(sources[0] as DataSource), await migrate(sources[1] as DataSource)];
        expect(results.flat()).toEqual([
          'InitialSchema1764400000000',
          'JobRunners1764500000000',
          'SecretArgs1764600000000',
          'IdempotencyKeys1764700000000',
          'JobLogSeq1764800000000',
          'OperatorFeatures1764900000000',
          'ArchiveParts1765000000000',
          'FindTypeStateIndex1765100000000',
        ]);
        const db = new Db(sources[0] as DataSource);
        const store = new RequestStore(db);
        const req = newRequest();
        await store.create(req);
        expect((await store.get(req.row.request_id))?.type).toBe('test');
      } finally {
        for (const ds of sources) await ds.destroy();
        await cleanup();
      }
    });
  });

  describe('requests', () => {
    it('when created, then the row, archive and args read back exactly (times in UTC, ms precision)', async () => {
      const created = new Date('2024-05-06T07:08:09.123Z');
      const req = newRequest({ created_at: created, user: 'bob' }, { host: 'h1' });
      await requests.create(req);
      const row = await requests.get(req.row.request_id);
      expect(row).toMatchObject({
        request_id: req.row.request_id,
        type: 'test',
        state: 1,
        user: 'bob',
        total_jobs: 3,
        finished_jobs: 0,
        jr_url: null,
        started_at: null,
      });
      expect(row?.created_at.toISOString()).toBe('2024-05-06T07:08:09.123Z');
      const full = await requests.getFull(req.row.request_id, true);
      expect(full?.argsJson).toBe(req.argsJson);
      expect(full?.jobChainJson).toBe(req.jobChainJson);
      const noChain = await requests.getFull(req.row.request_id, false);
      expect(noChain?.jobChainJson).toBeUndefined();
      expect(await requests.jobChainJson(req.row.request_id)).toBe(req.jobChainJson);
      expect(await requests.get('nope0000000000000000')).toBeUndefined();
      expect(await requests.getFull('nope0000000000000000', true)).toBeUndefined();
    });

    it('when a statement of the create transaction fails, then nothing of it is stored and the connections stay clean', async () => {
      const req = newRequest({}, { host: 'h' });
      const id = req.row.request_id;
      // A stray archive row makes the second INSERT of the transaction fail.
      await t.db.run((m) =>
        m.query(
          'INSERT INTO request_archives (request_id, create_request, args, job_chain) VALUES (?, ?, ?, ?)',
          [id, '{}', '[]', '{}'],
        ),
      );
      await expect(requests.create(req)).rejects.toThrow();
      expect(await requests.get(id)).toBeUndefined();
      expect(
        await requests.find({ args: { host: 'h' }, type: 'test' }).then((rs) => rs.map((r) => r.request_id)),
      ).not.toContain(id);
      // Later work on the pool commits normally (no transaction left open on a pooled connection).
      const later = await Promise.all(
        [1, 2, 3, 4, 5]
          .map(() => newRequest())
          .map(async (r) => {
            await requests.create(r);
            return r.row.request_id;
          }),
      );
      const fresh = await openDataSource(t.target);
      try {
        const rows = (await fresh.query(
          `SELECT request_id FROM requests WHERE request_id IN (${later.map(() => '?').join(',')})`,
          later,
        )) as unknown[];
        expect(rows.length).toBe(5);
      } finally {
        await fresh.destroy();
      }
    });

    it('when a big chain is archived, then it is stored in one piece', async () => {
      const big = JSON.stringify({
        jobs: Object.fromEntries(
          Array.from({ length: 20_000 }, (_, i) => [`j${i}`, { id: `j${i}`, name: 'x'.repeat(50) }]),
        ),
      });
      expect(big.length).toBeGreaterThan(1_000_000);
      const req = { ...newRequest(), jobChainJson: big };
      await requests.create(req);
      expect(await requests.jobChainJson(req.row.request_id)).toBe(big);
    });

    it('when a transition races, then exactly one caller wins', async () => {
      const req = newRequest();
      await requests.create(req);
      const id = req.row.request_id;
      const results = await Promise.all(
        [1, 2, 3, 4].map(() =>
          requests.transition(id, State.PENDING, {
            state: State.RUNNING,
            started_at: new Date(),
            jr_url: 'http://jr:1',
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await requests.get(id))?.state).toBe(State.RUNNING);
      expect(await requests.transition(id, [State.PENDING, State.SUSPENDED], { state: State.FAIL })).toBe(
        false,
      );
      expect(
        await requests.patchIf(id, State.RUNNING, { jr_url: 'http://jr:2' }, { jrUrl: 'http://jr:9' }),
      ).toBe(false);
      expect(
        await requests.patchIf(id, State.RUNNING, { jr_url: 'http://jr:2' }, { jrUrl: 'http://jr:1' }),
      ).toBe(true);
      expect(await requests.runningJrUrls(id)).toEqual(['http://jr:2']);
      expect(
        await requests.transition(id, State.RUNNING, {
          state: State.COMPLETE,
          finished_at: new Date(),
          jr_url: null,
          finished_jobs: 3,
        }),
      ).toBe(true);
      expect(await requests.get(id)).toMatchObject({ state: State.COMPLETE, jr_url: null, finished_jobs: 3 });
    });
  });

  describe('find', () => {
    // An isolated type per test run, so other tests' rows never match.
    const type = `find-${kind}-${Date.now().toString(36)}`;
    const ids: string[] = [];
    const base = Date.parse('2030-01-01T00:00:00.000Z');

    beforeAll(async () => {
      const long = 'L'.repeat(400);
      const specs: Array<[Partial<RequestRow>, Record<string, unknown>]> = [
        [
          { state: State.COMPLETE, user: 'alice', finished_at: new Date(base + 5_000) },
          { host: 'a%', env: 'prod' },
        ],
        [
          { state: State.RUNNING, user: 'bob' },
          { host: 'ab', env: 'prod', n: 5 },
        ],
        [
          { state: State.FAIL, user: 'alice', finished_at: new Date(base + 30_000) },
          { host: 'AB', long },
        ],
        [{ state: State.PENDING, user: '' }, {}],
      ];
      for (const [i, [over, args]] of specs.entries()) {
        const id = `f${kind[0]}${base.toString(36)}${i}`.padEnd(20, '0');
        ids.push(id);
        await requests.create(
          newRequest({ request_id: id, type, created_at: new Date(base + i * 10_000), ...over }, args),
        );
      }
    });

    const find = async (f: Parameters<RequestStore['find']>[0]) =>
      (await requests.find({ type, ...f })).map((r) => ids.indexOf(r.request_id));

    it('when filtering by type only, then all come back newest first', async () => {
      expect(await find({})).toEqual([3, 2, 1, 0]);
    });

    it('when two requests share created_at, then request_id breaks the tie (descending, like the time-ordered ids)', async () => {
      const tieType = `${type}-tie`;
      const at = new Date(base);
      for (const id of ['tie00000000000000001', 'tie00000000000000002'])
        await requests.create(
          newRequest({ request_id: id.replace('tie', `t${kind[0]}`), type: tieType, created_at: at }),
        );
      expect((await requests.find({ type: tieType })).map((r) => r.request_id.slice(-1))).toEqual(['2', '1']);
    });

    it('when filtering by user, states, args, since and until, then the conditions AND together', async () => {
      expect(await find({ user: 'alice' })).toEqual([2, 0]);
      expect(await find({ user: '' })).toEqual([3]);
      expect(await find({ states: [State.RUNNING, State.PENDING] })).toEqual([3, 1]);
      expect(await find({ args: { env: 'prod' } })).toEqual([1, 0]);
      expect(await find({ args: { env: 'prod', host: 'ab' } })).toEqual([1]);
      expect(await find({ args: { n: '5' } })).toEqual([1]);
      // Exact: no LIKE wildcards, case-sensitive, no matching of other fields.
      expect(await find({ args: { host: 'a%' } })).toEqual([0]);
      expect(await find({ args: { host: 'a_' } })).toEqual([]);
      expect(await find({ args: { host: 'Ab' } })).toEqual([]);
      expect(await find({ args: { User: 'alice' } })).toEqual([]);
      expect(await find({ args: { long: 'L'.repeat(400) } })).toEqual([2]);
      expect(await find({ args: { long: 'L'.repeat(399) } })).toEqual([]);
      // since: still running (unfinished) or finished after it.
      expect(await find({ since: new Date(base + 10_000) })).toEqual([3, 2, 1]);
      // until: created before it.
      expect(await find({ until: new Date(base + 20_000) })).toEqual([1, 0]);
      expect(await find({ since: new Date(base + 10_000), until: new Date(base + 25_000) })).toEqual([2, 1]);
    });

    it('when paging, then limit and offset work (offset also without limit)', async () => {
      expect(await find({ limit: 2 })).toEqual([3, 2]);
      expect(await find({ limit: 2, offset: 2 })).toEqual([1, 0]);
      expect(await find({ offset: 3 })).toEqual([0]);
      expect(await find({ offset: 10 })).toEqual([]);
    });

    it('when nothing matches, then the result is empty', async () => {
      expect(await requests.find({ type: `${type}-none` })).toEqual([]);
      expect(await requests.getMany([])).toEqual([]);
      expect((await requests.getMany(ids.slice(0, 2))).map((r) => r.request_id).sort()).toEqual(
        [ids[0], ids[1]].sort(),
      );
    });

    it('argIndexValue keeps short values and digests long ones', () => {
      expect(argIndexValue('abc')).toBe('abc');
      expect(argIndexValue('x'.repeat(256))).toMatch(/^sha256:[0-9a-f]{64}$/);
    });
  });

  describe('job log', () => {
    it('when a batch is re-sent, then duplicates are skipped and nanoseconds stay exact', async () => {
      const id = rid();
      const batch = [
        logEntry(id, 'b', 1),
        logEntry(id, 'a', 2, { exit: -1, error: 'boom' }),
        logEntry(id, 'a', 1),
      ];
      expect(await logs.insertMany(batch)).toBe(3);
      expect(await logs.insertMany([...batch, logEntry(id, 'c', 1)])).toBe(1);
      const all = await logs.list(id);
      expect(all.map((e) => `${e.jobId}/${e.try}`)).toEqual(['a/1', 'a/2', 'b/1', 'c/1']);
      expect(all[0]).toEqual(logEntry(id, 'a', 1));
      expect(all[1]).toMatchObject({
        exit: -1,
        error: 'boom',
        startedAt: 1554230366094196501n,
        finishedAt: 1554230367094791703n,
      });
      expect(await logs.latest(id, 'a')).toMatchObject({ try: 2 });
      expect(await logs.latest(id, 'zz')).toBeUndefined();
      expect(await logs.list('none')).toEqual([]);
    });

    it('jsonChunks write exactly the JSON of list (big and small times, signs, unicode, quotes)', async () => {
      const allJson = async (requestId: string) => {
        const out: string[] = [];
        for await (const chunk of logs.jsonChunks(requestId)) out.push(...chunk);
        return { json: `[${out.join(',')}]`, count: out.length };
      };
      const id = rid();
      await logs.insertMany([
        logEntry(id, 'b', 2, {
          startedAt: 0n,
          finishedAt: 18446744073709551615n,
          exit: -3,
          error: 'a "quoted"\nline',
        }),
        logEntry(id, 'a', 1, { stdout: 'é😀\\ \u0001', stderr: '</script>' }),
        logEntry(id, 'b', 1, { startedAt: 1n, finishedAt: 9007199254740993n }),
      ]);
      const { json, count } = await allJson(id);
      expect(count).toBe(3);
      expect(json).toBe(stringifyJson(await logs.list(id)));
      expect(await allJson('none')).toEqual({ json: '[]', count: 0 });
    });

    it('when one entry is re-sent identically it is accepted, when it differs it is a conflict', async () => {
      const id = rid();
      expect(await logs.insertOne(logEntry(id, 'a', 1))).toEqual({ inserted: true, conflict: false });
      expect(await logs.insertOne(logEntry(id, 'a', 1))).toEqual({ inserted: false, conflict: false });
      expect(await logs.insertOne(logEntry(id, 'a', 1, { stdout: 'other' }))).toEqual({
        inserted: false,
        conflict: true,
      });
    });

    it('statements run in order with their own counts; big ones (over ~4 MiB together) in several packets', async () => {
      const id = rid();
      const big = 'x'.repeat(700_000);
      // 3,000 small entries (3 INSERTs of 1,000) and 8 of 700 kB each (several INSERTs, by the byte budget), then one entry again.
      const small = Array.from({ length: 3000 }, (_, i) => logEntry(id, `s${i}`, 1));
      const large = Array.from({ length: 8 }, (_, i) => logEntry(id, `b${i}`, 1, { stdout: big }));
      const statements = [...logs.insertStatements(small), ...logs.insertStatements(large)];
      expect(statements.length).toBeGreaterThan(4);
      const counts = await t.db.execStatements([
        ...statements,
        ...logs.insertStatements([logEntry(id, 's0', 1)]),
      ]);
      expect(counts.length).toBe(statements.length + 1);
      expect(counts.slice(0, 3)).toEqual([1000, 1000, 1000]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(3008);
      expect(counts.at(-1)).toBe(0);
      const all = await logs.list(id);
      expect(all.length).toBe(3008);
      expect(all.find((e) => e.jobId === 'b7')?.stdout).toBe(big);
      expect(await t.db.execStatements([])).toEqual([]);
    });

    it('when 7,000 entries arrive in batches, then all are stored', async () => {
      const id = rid();
      const entries = Array.from({ length: 7000 }, (_, i) =>
        logEntry(id, i.toString(36), 1, { stdout: `line ${i}` }),
      );
      for (let i = 0; i < entries.length; i += 500) await logs.insertMany(entries.slice(i, i + 500));
      expect((await logs.list(id)).length).toBe(7000);
    });
  });

  describe('job runners', () => {
    const heartbeat = (jrUrl: string, lastSeen: Date) => ({
      jr_url: jrUrl,
      instance: 'i1',
      started_at: null,
      last_seen: lastSeen,
      chains: 0,
      draining: false,
      heldJson: '[]',
      rm_host: 'rm1',
    });

    it('when pruned, then only JRs silent since before the cut-off that hold no RUNNING request go', async () => {
      const jrs = new JrStore(t.db);
      const old = new Date(Date.now() - 2 * 3600_000);
      const [gone, busy, fresh] = ['gone', 'busy', 'fresh'].map((n) => `http://${n}-${rid()}:1`) as [
        string,
        string,
        string,
      ];
      await jrs.put(heartbeat(gone, old));
      await jrs.put(heartbeat(busy, old));
      await jrs.put(heartbeat(fresh, new Date()));
      await requests.create(newRequest({ state: State.RUNNING, jr_url: busy }));
      expect(await jrs.prune(new Date(Date.now() - 3600_000))).toBeGreaterThanOrEqual(1);
      expect(await jrs.known([gone, busy, fresh])).toEqual(new Set([busy, fresh]));
    });

    it('when a JR hands a chain back, then it is marked draining in the same transaction', async () => {
      const jrs = new JrStore(t.db);
      const url = `http://drain-${rid()}:1`;
      await jrs.put(heartbeat(url, new Date()));
      await t.db.tx((m) => jrs.markDrainingIn(m, url));
      expect((await jrs.get(url, false))?.draining).toBe(true);
    });
  });

  describe('suspended job chains', () => {
    it('when several RMs claim, then one wins; only the holder unclaims, reads or deletes', async () => {
      const id = rid();
      const now = new Date();
      await t.db.tx((m) => sjcs.putIn(m, id, '{"requestId":"x"}', now));
      expect(await sjcs.listUnclaimed()).toContain(id);
      const claims = await Promise.all(['rm1', 'rm2', 'rm3'].map((me) => sjcs.claim(id, me)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const winner = ['rm1', 'rm2', 'rm3'][claims.indexOf(true)] as string;
      const loser = winner === 'rm1' ? 'rm2' : 'rm1';
      expect(await sjcs.listUnclaimed()).not.toContain(id);
      expect(await sjcs.getClaimed(id, loser)).toBeUndefined();
      expect(await sjcs.getClaimed(id, winner)).toBe('{"requestId":"x"}');
      expect(await sjcs.unclaim(id, loser)).toBe(false);
      expect(await sjcs.delete(id, loser)).toBe(false);
      expect(await sjcs.unclaim(id, winner)).toBe(true);
      expect(await sjcs.claim(id, loser)).toBe(true);
      expect(await sjcs.delete(id, loser)).toBe(true);
      expect(await sjcs.get(id)).toBeUndefined();
    });

    it('when a claim is old, then it is released; expiry lists only old unclaimed chains', async () => {
      const fresh = rid();
      const old = rid();
      await t.db.tx(async (m) => {
        await sjcs.putIn(m, fresh, '{}', new Date());
        await sjcs.putIn(m, old, '{}', new Date(Date.now() - 2 * 3600_000));
      });
      expect(await sjcs.claim(old, 'dead-rm', new Date(Date.now() - 10 * 60_000))).toBe(true);
      expect(await sjcs.unclaimAbandoned(new Date(Date.now() - 5 * 60_000))).toBeGreaterThanOrEqual(1);
      const expired = await sjcs.listUnclaimed(new Date(Date.now() - 3600_000));
      expect(expired).toContain(old);
      expect(expired).not.toContain(fresh);
      // Re-suspending replaces a stale row instead of failing on the key.
      await t.db.tx((m) => sjcs.putIn(m, fresh, '{"v":2}', new Date()));
      expect((await sjcs.get(fresh))?.suspended_job_chain).toBe('{"v":2}');
    });
  });
});
