/**
 * GET /api/v1/requests is bounded and pages, on both drivers: 100 requests by
 * default, at most 1,000, the next page named by `X-Next-Cursor` and a `Link`
 * (rel="next"), keyset cursors that neither skip nor repeat requests created in
 * the same millisecond, and `offset` as before.
 */
import { newRequestId } from '@spincycle/chain';
import { RmClient, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestStore } from '../src/stores/request-store.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

const COUNT = 105;

describe.each(DB_KINDS)('find paging (%s)', (db) => {
  let jr: FakeJr;
  let t: TestRm;
  /** Every request id, newest first (created_at, then id, descending). */
  let expected: string[];
  const typeOf = new Map<string, string>();
  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({ db, jrUrl: jr.url });
    const store = new RequestStore(t.rm.db);
    const base = Date.UTC(2024, 4, 1, 12);
    const rows: Array<{ id: string; at: number }> = [];
    await Promise.all(
      Array.from({ length: COUNT }, (_, i) => {
        const id = newRequestId();
        // Four requests per millisecond: pages must cut through ties.
        const at = base + Math.floor(i / 4);
        rows.push({ id, at });
        typeOf.set(id, i % 2 === 0 ? 'even' : 'odd');
        return store.create({
          row: {
            request_id: id,
            type: i % 2 === 0 ? 'even' : 'odd',
            state: State.COMPLETE,
            user: 'u',
            created_at: new Date(at),
            started_at: new Date(at),
            finished_at: new Date(at),
            total_jobs: 1,
            finished_jobs: 1,
            jr_url: null,
          },
          createRequestJson: '{}',
          argsJson: '[]',
          jobChainJson: '{}',
          givenArgs: {},
        });
      }),
    );
    expected = rows.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((r) => r.id);
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  const ids = (json: unknown) => (json as Array<{ id: string }>).map((r) => r.id);

  it('answers 100 by default and names the next page in X-Next-Cursor and Link', async () => {
    const first = await call(t.url, 'GET', '/api/v1/requests');
    expect(first.status).toBe(200);
    expect(ids(first.json)).toEqual(expected.slice(0, 100));
    const cursor = first.headers.get('x-next-cursor');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const link = /^<([^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '');
    expect(link?.[1]).toBe(`/api/v1/requests?cursor=${cursor}`);
    const second = await call(t.url, 'GET', link?.[1] as string);
    expect(ids(second.json)).toEqual(expected.slice(100));
    expect(second.headers.get('x-next-cursor')).toBeNull();
    expect(second.headers.get('link')).toBeNull();
  });

  it('a cursor walk with a small limit sees every request once, in order', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/api/v1/requests?limit=7';
    while (path) {
      const page = await call(t.url, 'GET', path);
      expect(page.status).toBe(200);
      seen.push(...ids(page.json));
      path = /^<([^>]+)>/.exec(page.headers.get('link') ?? '')?.[1];
    }
    expect(seen).toEqual(expected);
  });

  it('filters carry over to the next page; offset still works', async () => {
    const odd = expected.filter((id) => typeOf.get(id) === 'odd');
    const first = await call(t.url, 'GET', '/api/v1/requests?type=odd&limit=30');
    const next = /^<([^>]+)>/.exec(first.headers.get('link') ?? '')?.[1] as string;
    expect(next).toContain('type=odd');
    const second = await call(t.url, 'GET', next);
    expect([...ids(first.json), ...ids(second.json)]).toEqual(odd);
    const byOffset = await call(t.url, 'GET', '/api/v1/requests?offset=100');
    expect(ids(byOffset.json)).toEqual(expected.slice(100));
  });

  it('a limit over 1,000 is a 400 naming the maximum; a bad cursor is a 400', async () => {
    const big = await call(t.url, 'GET', '/api/v1/requests?limit=5000');
    expect(big.status).toBe(400);
    expect((big.json as { message: string }).message).toBe(
      "invalid 'limit' parameter: 5000 is over the maximum of 1000; page with 'cursor'",
    );
    const bad = await call(t.url, 'GET', '/api/v1/requests?cursor=xyz');
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/^invalid 'cursor' parameter/);
  });

  it('the client pages with findRequestsPage', async () => {
    const client = new RmClient({ baseURL: t.url, retry: { attempts: 1 } });
    const first = await client.findRequestsPage({ limit: 60 });
    expect(first.requests.map((r) => r.id)).toEqual(expected.slice(0, 60));
    const second = await client.findRequestsPage({ limit: 60, cursor: first.nextCursor });
    expect(second.requests.map((r) => r.id)).toEqual(expected.slice(60));
    expect(second.nextCursor).toBeUndefined();
  });
});
