/**
 * Storing what does not fit one statement: with a small statement size (on
 * both drivers) a big archived chain goes in pieces and reads back intact,
 * small chains stay in one row, and multi-row INSERTs of args and job logs
 * are cut so each statement fits. On MariaDB with its default 16 MiB
 * `max_allowed_packet`: the RM reads the packet size, a 20,000-host bench-wide
 * create (a chain of tens of MB) is stored and read back intact over HTTP,
 * and a statement over the packet is a 503 naming the cause.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JobChain, type JobLog, parseJson, State } from '@spincycle/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RequestCatalog } from '../src/catalog.js';
import { statementBytes } from '../src/db/sql.js';
import { JobLogStore } from '../src/stores/job-log-store.js';
import { type NewRequest, RequestStore } from '../src/stores/request-store.js';
import { DB_KINDS, openTestDb, type TestDb } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

const BENCH_SPECS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'specs');

let seq = 0;
function rid(): string {
  seq++;
  return `p${Date.now().toString(36)}${seq.toString(36).padStart(4, '0')}`.padEnd(20, '0').slice(0, 20);
}

/** A chain JSON text of about `chars` characters, with multi-byte text and surrogate pairs throughout. */
function bigChainJson(id: string, chars: number): string {
  const jobs: Record<string, unknown> = {};
  for (let i = 0; JSON.stringify(jobs).length < chars; i++)
    jobs[`job${i}`] = { id: `job${i}`, name: `héllo ✓ 😀 "q" \\ ${i}`, type: 'noop', args: { n: i } };
  return JSON.stringify({ requestId: id, jobs, adjacencyList: {}, state: 1, finishedJobs: 0 });
}

function newRequest(id: string, chainJson: string, givenArgs: Record<string, unknown> = {}): NewRequest {
  return {
    row: {
      request_id: id,
      type: 'test',
      state: State.RUNNING,
      user: 'alice',
      created_at: new Date(),
      started_at: new Date(),
      finished_at: null,
      total_jobs: 1,
      finished_jobs: 0,
      jr_url: null,
    },
    createRequestJson: JSON.stringify({ Type: 'test', Args: givenArgs, User: 'alice' }),
    argsJson: JSON.stringify(Object.entries(givenArgs).map(([Name, Value]) => ({ Name, Value }))),
    jobChainJson: chainJson,
    givenArgs,
  };
}

async function partCount(t: TestDb, id: string): Promise<number> {
  const rows = await t.db.run((m) =>
    t.db.select<{ n: unknown }>(
      m,
      'SELECT COUNT(*) AS n FROM `request_archive_parts` WHERE `request_id` = ?',
      [id],
    ),
  );
  return Number(rows[0]?.n);
}

describe.each(DB_KINDS)('storage in pieces (%s)', (kind) => {
  let t: TestDb;
  let requests: RequestStore;
  let logs: JobLogStore;
  const PIECE = 8 * 1024;
  beforeAll(async () => {
    t = await openTestDb(kind);
    requests = new RequestStore(t.db);
    logs = new JobLogStore(t.db);
  });
  afterEach(() => t.db.setStatementBytes(PIECE));
  afterAll(async () => t?.drop());

  it('a chain bigger than a statement is stored in pieces and read back intact; a small one stays in its row', async () => {
    t.db.setStatementBytes(PIECE);
    const big = rid();
    const bigJson = bigChainJson(big, 100_000);
    const small = rid();
    const smallJson = bigChainJson(small, 200);
    await Promise.all([
      requests.create(newRequest(big, bigJson)),
      requests.create(newRequest(small, smallJson)),
    ]);
    expect(await partCount(t, big)).toBeGreaterThan(30);
    expect(await partCount(t, small)).toBe(0);
    expect(await requests.jobChainJson(big)).toBe(bigJson);
    expect((await requests.getFull(big, true))?.jobChainJson).toBe(bigJson);
    expect(await requests.jobChainJson(small)).toBe(smallJson);
    // Without the chain asked for, its pieces are not read.
    expect((await requests.getFull(big, false))?.jobChainJson).toBeUndefined();
  });

  it('long texts with every character a SQL literal escapes are stored in pieces and read back intact', async () => {
    t.db.setStatementBytes(PIECE);
    const id = rid();
    const text = `{"t":"${'a\'b\\c\0d\x1ae"f\ng\rh\ti ö 😀 '.repeat(400)}"}`;
    await requests.create(newRequest(id, text));
    expect(await partCount(t, id)).toBeGreaterThan(3);
    expect(await requests.jobChainJson(id)).toBe(text);
  });

  it('many args are inserted in several statements, each findable', async () => {
    t.db.setStatementBytes(PIECE);
    const args: Record<string, string> = {};
    for (let i = 0; i < 300; i++) args[`arg${i}`] = `value-${i}-${'v'.repeat(40)}`;
    const id = rid();
    await requests.create(newRequest(id, bigChainJson(id, 100), args));
    for (const i of [0, 150, 299])
      expect(
        (await requests.find({ args: { [`arg${i}`]: args[`arg${i}`] as string } })).map((r) => r.request_id),
      ).toEqual([id]);
    expect((await requests.getFull(id, false))?.argsJson).toBe(newRequest(id, '', args).argsJson);
  });

  it('job-log batches with big stdout are cut to the statement size and stored whole', async () => {
    t.db.setStatementBytes(64 * 1024);
    const id = rid();
    const entries: JobLog[] = Array.from({ length: 40 }, (_, i) => ({
      requestId: id,
      jobId: `j${String(i).padStart(3, '0')}`,
      try: 1,
      name: 'n',
      type: 'sleep',
      startedAt: 1n,
      finishedAt: 2n,
      state: State.COMPLETE,
      exit: 0,
      error: '',
      stdout: `${i}:${'ö'.repeat(5000)}`,
      stderr: '',
    }));
    const statements = logs.insertStatements(entries);
    expect(statements.length).toBeGreaterThan(3);
    for (const st of statements) expect(statementBytes(st)).toBeLessThanOrEqual(64 * 1024);
    expect(await logs.insertMany(entries)).toBe(40);
    const back = await logs.list(id);
    expect(back.map((e) => e.stdout)).toEqual(entries.map((e) => e.stdout));
  });
});

describe('a 20,000-host create on MariaDB with its default max_allowed_packet', () => {
  let jr: FakeJr;
  let t: TestRm;
  beforeAll(async () => {
    jr = await new FakeJr().start();
    const specs = await RequestCatalog.load(BENCH_SPECS, undefined, process.cwd());
    t = await startTestRm({
      db: 'mysql',
      jrUrl: jr.url,
      catalog: specs,
      overrides: { 'limits.max_jobs': 200_000, 'server.body_limit': '8mb', 'jr_client.timeout': '60s' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('reads the packet size: statements are cut under it', async () => {
    const packet = await t.rm.db.readLimits();
    expect(packet).toBeGreaterThan(0);
    expect(t.rm.db.statementBytes).toBeLessThan(packet as number);
  });

  it('is stored (chain over 16 MiB, in pieces) and read back intact', async () => {
    const hosts = Array.from({ length: 20_000 }, (_, i) => `host-${i}.example.com`).join(',');
    const res = await call(t.url, 'POST', '/api/v1/requests', { type: 'bench-wide', args: { hosts } });
    expect(res.status).toBe(201);
    const id = (res.json as { id: string }).id;
    expect(res.json).toMatchObject({ totalJobs: 140_009, state: State.RUNNING });
    const stored = await t.rm.db.run((m) =>
      t.rm.db.select<{ n: unknown }>(
        m,
        'SELECT COUNT(*) AS n FROM `request_archive_parts` WHERE `request_id` = ?',
        [id],
      ),
    );
    expect(Number(stored[0]?.n)).toBeGreaterThan(1);
    const chain = await call(t.url, 'GET', `/api/v1/requests/${id}/job-chain`);
    expect(chain.status).toBe(200);
    expect(chain.text.length).toBeGreaterThan(16 * 1024 * 1024);
    const sent = jr.chains.get(id) as JobChain;
    expect(parseJson(chain.text)).toEqual(parseJson(JSON.stringify(sent)));
    expect(Object.keys((parseJson(chain.text) as JobChain).jobs)).toHaveLength(140_009);
  }, 180_000);

  it('a statement over the packet (pieces turned off) is a 503 naming the cause, not a bare 500', async () => {
    t.rm.db.setStatementBytes(Number.POSITIVE_INFINITY);
    try {
      const hosts = Array.from({ length: 20_000 }, (_, i) => `host-${i}.example.com`).join(',');
      const res = await call(t.url, 'POST', '/api/v1/requests', { type: 'bench-wide', args: { hosts } });
      expect(res.status).toBe(503);
      expect((res.json as { message: string }).message).toMatch(
        /^database error: (connection lost|statement larger than the server's max_allowed_packet) \((ECONNRESET|EPIPE|PROTOCOL_CONNECTION_LOST|ER_NET_PACKET_TOO_LARGE)\) while storing request \w{20}$/,
      );
    } finally {
      await t.rm.db.readLimits();
    }
  }, 180_000);
});
