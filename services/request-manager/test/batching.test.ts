/**
 * The RM's batching under load, against real things:
 * - ChainBatcher (and JrPool.startChain, which RequestLifecycle uses) against a
 *   real in-process Job Runner, counting the HTTP calls it receives;
 * - the one-by-one fallback against a plain node:http JR without the batch
 *   endpoint (404/405);
 * - RequestStore's group commit on SQLite and on MariaDB.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, JrClient, State } from '@spincycle/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
// The Job Runner's own test support: a real JR in-process with an in-memory RM as its sink.
import { makeChain, openGate, startTestJr, type TestJr, waitFor } from '../../job-runner/test/helpers.js';
import { ChainBatcher } from '../src/chain-batcher.js';
import type { RequestRow } from '../src/db/entities.js';
import { JrPool } from '../src/jr-pool.js';
import { type NewRequest, RequestStore } from '../src/stores/request-store.js';
import { DB_KINDS, openTestDb, type TestDb } from './support/db.js';

let seq = 0;
/** A unique 20-char request id (tests only). */
function rid(): string {
  seq++;
  return `b${Date.now().toString(36)}${seq.toString(36).padStart(4, '0')}${Math.random().toString(36).slice(2)}`
    .slice(0, 20)
    .padEnd(20, '0');
}

/** JSON text of a new chain of one or two noop jobs (what the RM sends). */
function chainJson(id: string, jobs = 1): string {
  return JSON.stringify(
    jobs === 1 ? makeChain(id, [{ id: 'a' }]) : makeChain(id, [{ id: 'a' }, { id: 'b' }], { a: ['b'] }),
  );
}

/** How a promise ended, without an unhandled rejection in the meantime. */
function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function expectApiError(
  o: { ok: boolean; error?: unknown },
  status: number,
  message?: string | RegExp,
): void {
  expect(o.ok).toBe(false);
  const err = (o as { error: unknown }).error;
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).status).toBe(status);
  if (message !== undefined) expect((err as ApiError).message).toMatch(message);
}

describe('ChainBatcher against a real Job Runner', () => {
  const ADVERTISED = 'http://jr-advertised.test:9999';
  let jr: TestJr;
  /** `METHOD path` of every HTTP request the JR received. */
  const calls: string[] = [];

  beforeAll(async () => {
    // A distinct advertised URL shows the result comes from the JR's answer, not from the client's base URL.
    jr = await startTestJr({ config: { 'server.advertise_url': ADVERTISED } });
    jr.server.server.on('request', (req: IncomingMessage) => calls.push(`${req.method} ${req.url}`));
  });
  afterAll(async () => {
    await jr?.close();
  });
  afterEach(() => {
    calls.length = 0;
  });

  const client = () => new JrClient({ baseURL: jr.url, retry: { attempts: 1 } });

  it('20 concurrent sends all resolve with the JR URL, in 2 HTTP calls, and all 20 chains run', async () => {
    const batcher = new ChainBatcher(client());
    const ids = Array.from({ length: 20 }, () => rid());
    const urls = await Promise.all(ids.map((id) => batcher.send(chainJson(id, 2))));
    expect(urls).toEqual(ids.map(() => ADVERTISED));
    // The first went alone at once; the 19 that came meanwhile went together.
    expect(calls).toEqual(['POST /api/v1/job-chains', 'POST /api/v1/job-chains/batch']);
    expect(calls.length).toBeLessThan(ids.length);
    for (const id of ids)
      expect(await jr.sink.finished(id)).toMatchObject({
        requestId: id,
        state: State.COMPLETE,
        finishedJobs: 2,
      });
  });

  it('JrPool.startChain (what RequestLifecycle.sendChain calls) shares calls the same way', async () => {
    const pool = new JrPool([jr.url], { timeoutMs: 5000, attempts: 1 });
    const jrClient = pool.client(jr.url);
    const ids = Array.from({ length: 20 }, () => rid());
    const urls = await Promise.all(ids.map((id) => pool.startChain(jrClient, chainJson(id))));
    expect(urls).toEqual(ids.map(() => ADVERTISED));
    expect(calls.length).toBeLessThan(ids.length);
    expect(calls).toContain('POST /api/v1/job-chains/batch');
    for (const id of ids) expect((await jr.sink.finished(id)).state).toBe(State.COMPLETE);
    // A lone chain later goes alone, to the single endpoint.
    calls.length = 0;
    const lone = rid();
    expect(await pool.startChain(jrClient, chainJson(lone))).toBe(ADVERTISED);
    expect(calls).toEqual(['POST /api/v1/job-chains']);
    expect((await jr.sink.finished(lone)).state).toBe(State.COMPLETE);
  });

  it('a refused chain in a batch rejects only its own promise, with the status the JR gave it', async () => {
    const batcher = new ChainBatcher(client());
    const running = rid();
    // Held at a gate so it is still on the JR when its duplicate comes.
    await client().startChain(makeChain(running, [{ id: 'g', type: 't-gate' }]));
    await waitFor(() => jr.registry.get(running) !== undefined, 5000, 'gated chain');
    calls.length = 0;

    const head = rid();
    const good1 = rid();
    const cyclic = rid();
    const good2 = rid();
    const sends = [
      batcher.send(chainJson(head)),
      batcher.send(chainJson(good1)),
      batcher.send(JSON.stringify(makeChain(cyclic, [{ id: 'a' }, { id: 'b' }], { a: ['b'], b: ['a'] }))),
      batcher.send(chainJson(running)),
      batcher.send(chainJson(good2)),
    ].map(outcome);
    const [h, g1, bad, dup, g2] = await Promise.all(sends);
    expect(calls).toEqual(['POST /api/v1/job-chains', 'POST /api/v1/job-chains/batch']);
    expect(h).toEqual({ ok: true, value: ADVERTISED });
    expect(g1).toEqual({ ok: true, value: ADVERTISED });
    expect(g2).toEqual({ ok: true, value: ADVERTISED });
    expectApiError(bad as { ok: boolean }, 400, /^chain is cyclic$/);
    expectApiError(dup as { ok: boolean }, 409, `job chain ${running} is already running on this job runner`);
    expect(jr.registry.get(cyclic)).toBeUndefined();
    for (const id of [head, good1, good2]) expect((await jr.sink.finished(id)).state).toBe(State.COMPLETE);
    // The running chain was left as it was.
    expect(jr.sink.finishes(running)).toEqual([]);
    await openGate(running, 'g');
    expect((await jr.sink.finished(running)).state).toBe(State.COMPLETE);
  });

  it('a lone refused chain (single endpoint) rejects the same way', async () => {
    const batcher = new ChainBatcher(client());
    const id = rid();
    const o = await outcome(
      batcher.send(JSON.stringify(makeChain(id, [{ id: 'a' }, { id: 'b' }], { a: ['b'], b: ['a'] }))),
    );
    expectApiError(o, 400, /^chain is cyclic$/);
    expect(calls).toEqual(['POST /api/v1/job-chains']);
  });

  it('a draining JR refuses the whole batch: every chain rejects with 503', async () => {
    const local = await startTestJr({ graceMs: 2000 });
    try {
      const busy = rid();
      await local.client.startChain(makeChain(busy, [{ id: 'a', type: 't-ignore-stop', args: { ms: 300 } }]));
      const shutdown = local.shutdown();
      await waitFor(() => local.registry.draining, 2000, 'draining');
      const batcher = new ChainBatcher(new JrClient({ baseURL: local.url, retry: { attempts: 1 } }));
      const results = await Promise.all(
        [rid(), rid(), rid()].map((id) => outcome(batcher.send(chainJson(id)))),
      );
      for (const o of results) expectApiError(o, 503, /shutting down/);
      await shutdown;
    } finally {
      await local.close().catch(() => undefined);
    }
  });
});

/**
 * A Job Runner from before the batch endpoint: plain node:http, `batchStatus`
 * for the batch path, 200 + Location for the single one (400 for ids in `refuse`).
 */
class OldJr {
  url = '';
  readonly calls: string[] = [];
  readonly taken: string[] = [];
  readonly refuse = new Set<string>();
  private server: Server | undefined;

  constructor(
    private readonly batchStatus: number,
    readonly advertised: string,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.calls.push(`${req.method} ${req.url}`);
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.method === 'POST' && req.url === '/api/v1/job-chains/batch')
          return json(this.batchStatus, { message: `HTTP ${this.batchStatus}` });
        if (req.method === 'POST' && req.url === '/api/v1/job-chains') {
          const chain = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { requestId: string };
          if (this.refuse.has(chain.requestId))
            return json(400, { message: `refused ${chain.requestId}`, requestId: '', httpStatus: 400 });
          this.taken.push(chain.requestId);
          res.writeHead(200, { Location: `${this.advertised}/api/v1/job-chains/${chain.requestId}` });
          return res.end();
        }
        json(404, { message: 'not found' });
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

describe('ChainBatcher against a JR without the batch endpoint', () => {
  it.each([404, 405])(
    'a %i from the batch endpoint: the batch is sent one by one, and later chains never try the batch endpoint again',
    async (status) => {
      const old = await new OldJr(status, 'http://old-jr.test:8081').start();
      try {
        const batcher = new ChainBatcher(new JrClient({ baseURL: old.url, retry: { attempts: 1 } }));
        const ids = Array.from({ length: 20 }, () => rid());
        old.refuse.add(ids[7] as string);
        const results = await Promise.all(ids.map((id) => outcome(batcher.send(chainJson(id)))));
        results.forEach((o, i) => {
          if (i === 7) expectApiError(o, 400, `refused ${ids[7]}`);
          else expect(o).toEqual({ ok: true, value: 'http://old-jr.test:8081' });
        });
        expect(old.taken.sort()).toEqual(ids.filter((_, i) => i !== 7).sort());
        // One single call, the refused batch call, then the other 19 one by one.
        expect(old.calls.filter((c) => c === 'POST /api/v1/job-chains/batch')).toHaveLength(1);
        expect(old.calls.filter((c) => c === 'POST /api/v1/job-chains')).toHaveLength(20);

        // A second wave: straight to one-by-one.
        old.calls.length = 0;
        const more = Array.from({ length: 10 }, () => rid());
        const urls = await Promise.all(more.map((id) => batcher.send(chainJson(id))));
        expect(urls).toEqual(more.map(() => 'http://old-jr.test:8081'));
        expect(old.calls).toEqual(more.map(() => 'POST /api/v1/job-chains'));
      } finally {
        await old.close();
      }
    },
  );

  it('any other failure of the batch call rejects every chain of that batch, and batching goes on', async () => {
    const old = await new OldJr(500, 'http://old-jr.test:8082').start();
    try {
      const batcher = new ChainBatcher(new JrClient({ baseURL: old.url, retry: { attempts: 1 } }));
      const ids = Array.from({ length: 5 }, () => rid());
      const results = await Promise.all(ids.map((id) => outcome(batcher.send(chainJson(id)))));
      expect(results[0]).toEqual({ ok: true, value: 'http://old-jr.test:8082' });
      for (const o of results.slice(1)) expectApiError(o, 500);
      // Not switched to one-by-one: the next batch tries the batch endpoint again.
      old.calls.length = 0;
      await Promise.all([rid(), rid(), rid()].map((id) => outcome(batcher.send(chainJson(id)))));
      expect(old.calls).toEqual(['POST /api/v1/job-chains', 'POST /api/v1/job-chains/batch']);
    } finally {
      await old.close();
    }
  });
});

describe.each(DB_KINDS)('RequestStore group commit on %s', (kind) => {
  let t: TestDb;
  let store: RequestStore;

  beforeAll(async () => {
    t = await openTestDb(kind);
    store = new RequestStore(t.db);
  });
  afterAll(async () => {
    await t?.drop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const type = `batch-${kind}-${Date.now().toString(36)}`;

  function newRequest(id: string, n: number, over: Partial<RequestRow> = {}): NewRequest {
    const givenArgs = { host: `h${n}`, n, group: type };
    return {
      row: {
        request_id: id,
        type,
        state: State.PENDING,
        user: `user${n}`,
        created_at: new Date(Date.UTC(2031, 0, 1, 0, 0, n)),
        started_at: null,
        finished_at: null,
        total_jobs: n + 1,
        finished_jobs: 0,
        jr_url: null,
        ...over,
      },
      createRequestJson: JSON.stringify({ type, args: givenArgs, user: `user${n}` }),
      argsJson: JSON.stringify([{ Pos: 0, Name: 'host', Type: 'required', Given: true, Value: `h${n}` }]),
      jobChainJson: JSON.stringify({
        requestId: id,
        jobs: { [`j${n}`]: { id: `j${n}` } },
        adjacencyList: {},
      }),
      givenArgs,
    };
  }

  /** The transactions the store ran: how many of `ids` each inserted, and whether it committed. */
  function watchTransactions(ids: Set<string>) {
    const spy = vi.spyOn(t.db, 'txStatements');
    return () =>
      spy.mock.calls.map((args, i) => ({
        requests: (args[0][0]?.params ?? []).filter((p) => typeof p === 'string' && ids.has(p)).length,
        ok: spy.mock.settledResults[i]?.type === 'fulfilled',
      }));
  }

  async function expectStored(req: NewRequest, n: number): Promise<void> {
    const id = req.row.request_id;
    const full = await store.getFull(id, true);
    expect(full?.row).toMatchObject({ request_id: id, type, user: `user${n}`, total_jobs: n + 1, state: 1 });
    expect(full?.row.created_at.toISOString()).toBe(req.row.created_at.toISOString());
    expect(full?.argsJson).toBe(req.argsJson);
    expect(full?.jobChainJson).toBe(req.jobChainJson);
    // Its searchable args are there (each arg value finds exactly this request).
    expect(
      (await store.find({ type, args: { host: `h${n}`, n: String(n) } })).map((r) => r.request_id),
    ).toEqual([id]);
  }

  it('20 concurrent creates are all stored with their args and archives, in fewer transactions', async () => {
    const reqs = Array.from({ length: 20 }, (_, n) => newRequest(rid(), n));
    const ids = new Set(reqs.map((r) => r.row.request_id));
    const transactions = watchTransactions(ids);
    await Promise.all(reqs.map((r) => store.create(r)));
    const txs = transactions();
    expect(txs.length).toBeLessThan(reqs.length);
    expect(txs.every((x) => x.ok)).toBe(true);
    expect(txs.reduce((s, x) => s + x.requests, 0)).toBe(20);
    expect(Math.max(...txs.map((x) => x.requests))).toBeGreaterThan(1);
    for (const [n, r] of reqs.entries()) await expectStored(r, n);
    // Every request's own args, and only those: 3 rows each.
    const rows = (await t.db.ds.query(
      `SELECT request_id, name, value FROM request_args WHERE request_id IN (${reqs.map(() => '?').join(',')})`,
      [...ids],
    )) as Array<{ request_id: string; name: string; value: string }>;
    expect(rows).toHaveLength(60);
    for (const [n, r] of reqs.entries())
      expect(
        rows
          .filter((x) => x.request_id === r.row.request_id)
          .map((x) => `${x.name}=${x.value}`)
          .sort(),
      ).toEqual([`group=${type}`, `host=h${n}`, `n=${n}`]);
    expect((await store.find({ type, args: { group: type } })).length).toBeGreaterThanOrEqual(20);
  });

  it('a create whose request id is already stored fails alone; the others of its group are stored', async () => {
    const existing = newRequest(rid(), 100);
    await store.create(existing);

    // Two go at once (maxInFlight 2); the rest, with the duplicate in the middle, wait and form a group.
    const fresh = Array.from({ length: 9 }, (_, n) => newRequest(rid(), 200 + n));
    const dup = newRequest(existing.row.request_id, 300, { user: 'intruder' });
    const all = [...fresh.slice(0, 5), dup, ...fresh.slice(5)];
    const ids = new Set(all.map((r) => r.row.request_id));
    const transactions = watchTransactions(ids);
    const results = await Promise.all(all.map((r) => outcome(store.create(r))));

    expect(results[5]?.ok).toBe(false);
    results.forEach((o, i) => {
      if (i !== 5) expect(o).toEqual({ ok: true, value: undefined });
    });
    // The group holding the duplicate failed as a whole and was retried one by one.
    const txs = transactions();
    expect(txs.some((x) => x.requests > 1 && !x.ok)).toBe(true);
    expect(txs.filter((x) => !x.ok && x.requests === 1)).toHaveLength(1);

    for (const [n, r] of fresh.entries()) await expectStored(r, 200 + n);
    // The stored request is untouched: its row, archive and args are the first create's.
    await expectStored(existing, 100);
    expect(await store.find({ type, args: { host: 'h300' } })).toEqual([]);
    expect(await store.find({ type, user: 'intruder' })).toEqual([]);
  });

  it('two new creates with the same id in one group: exactly one is stored', async () => {
    const id = rid();
    const fillers = [newRequest(rid(), 400), newRequest(rid(), 401)];
    const a = newRequest(id, 402);
    const b = newRequest(id, 403);
    const after = newRequest(rid(), 404);
    const results = await Promise.all([...fillers, a, b, after].map((r) => outcome(store.create(r))));
    expect([results[0]?.ok, results[1]?.ok, results[4]?.ok]).toEqual([true, true, true]);
    // Retried alone at the same time, either may win (on MariaDB they race on two connections).
    expect([results[2]?.ok, results[3]?.ok].filter(Boolean)).toHaveLength(1);
    const [won, wonN, lostN] = results[2]?.ok ? [a, 402, 403] : [b, 403, 402];
    await expectStored(won, wonN);
    expect(await store.find({ type, args: { host: `h${lostN}` } })).toEqual([]);
    await expectStored(after, 404);
    for (const [n, r] of fillers.entries()) await expectStored(r, 400 + n);
  });
});
