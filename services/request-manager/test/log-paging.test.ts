/**
 * GET /api/v1/requests/{id}/log with a big job log, on both drivers: the whole
 * log by default, streamed (chunked, read in bounded chunks, exactly the JSON
 * of the entries); pages with `limit` and the cursor of `X-Next-Cursor` / `Link`.
 */
import { type JobLog, State, stringifyJson } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, JobLogStore } from '../src/stores/job-log-store.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

/** 30 jobs × 2 tries of 256 KiB of stdout each: 15 MiB of log. */
const JOBS = 30;
const STDOUT = 256 * 1024;

function entry(requestId: string, job: number, tryNo: number): JobLog {
  const jobId = `job-${String(job).padStart(2, '0')}`;
  return {
    requestId,
    jobId,
    try: tryNo,
    name: jobId,
    type: 'shell-command',
    startedAt: 1554230366094196501n + BigInt(job),
    finishedAt: 1554230367094791703n,
    state: tryNo === 2 ? State.COMPLETE : State.FAIL,
    exit: tryNo === 2 ? 0 : 1,
    error: tryNo === 2 ? '' : 'exit status 1',
    stdout: `${jobId}/${tryNo} "é" `.padEnd(STDOUT, 'x'),
    stderr: '',
  };
}

describe.each(DB_KINDS)('job log paging and streaming (%s)', (db) => {
  let jr: FakeJr;
  let t: TestRm;
  let logs: JobLogStore;
  let id: string;
  /** The expected answer: every entry, in (job, try) order. */
  let all: JobLog[];
  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({ db, jrUrl: jr.url });
    logs = new JobLogStore(t.rm.db);
    id = (await t.client.createRequest('no-args')).id;
    const entries: JobLog[] = [];
    for (let j = 0; j < JOBS; j++) entries.push(entry(id, j, 2), entry(id, j, 1));
    expect(await logs.insertMany(entries)).toBe(JOBS * 2);
    all = await logs.list(id);
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('without paging parameters the whole log is streamed: chunked, exactly the JSON of the entries', async () => {
    const res = await fetch(`${t.url}/api/v1/requests/${id}/log`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('x-next-cursor')).toBeNull();
    const text = await res.text();
    expect(text).toBe(stringifyJson(all));
    expect((JSON.parse(text) as unknown[]).length).toBe(JOBS * 2);
  });

  it('the store reads the log in bounded chunks, never the whole log at once', async () => {
    const sizes: number[] = [];
    const got: string[] = [];
    for await (const chunk of logs.jsonChunks(id)) {
      sizes.push(chunk.reduce((n, e) => n + e.length, 0));
      got.push(...chunk);
    }
    expect(`[${got.join(',')}]`).toBe(stringifyJson(all));
    expect(sizes.length).toBeGreaterThan(5);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(CHUNK_BYTES + 2 * STDOUT);
  });

  it('pages with limit and the cursor in X-Next-Cursor / Link, in log order, each entry once', async () => {
    const seen: string[] = [];
    let path: string | undefined = `/api/v1/requests/${id}/log?limit=7`;
    let pages = 0;
    while (path) {
      const page = await call(t.url, 'GET', path);
      expect(page.status).toBe(200);
      const entries = page.json as JobLog[];
      expect(entries.length).toBeLessThanOrEqual(7);
      seen.push(page.text.slice(1, -1));
      pages++;
      const link = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')?.[1];
      if (link) expect(link).toContain(`cursor=${page.headers.get('x-next-cursor')}`);
      path = link;
    }
    expect(pages).toBe(Math.ceil((JOBS * 2) / 7));
    expect(`[${seen.join(',')}]`).toBe(stringifyJson(all));
  });

  it('an exact last page has no next cursor; an empty log is []', async () => {
    const page = await call(t.url, 'GET', `/api/v1/requests/${id}/log?limit=1000`);
    expect((page.json as JobLog[]).length).toBe(JOBS * 2);
    expect(page.headers.get('x-next-cursor')).toBeNull();
    const empty = (await t.client.createRequest('no-args')).id;
    expect((await call(t.url, 'GET', `/api/v1/requests/${empty}/log`)).text).toBe('[]');
    expect((await call(t.url, 'GET', `/api/v1/requests/${empty}/log?limit=5`)).text).toBe('[]');
  });

  it('bad paging parameters are 400s naming them; an unknown request is a 404', async () => {
    for (const [q, msg] of [
      ['limit=0', "invalid 'limit' parameter: 0 is not between 1 and 1000"],
      ['limit=1001', "invalid 'limit' parameter: 1001 is not between 1 and 1000"],
      ['cursor=nope', `invalid 'cursor' parameter: "nope" is not a cursor this API gave (X-Next-Cursor)`],
    ]) {
      const res = await call(t.url, 'GET', `/api/v1/requests/${id}/log?${q}`);
      expect(res.status, q).toBe(400);
      expect((res.json as { message: string }).message).toBe(msg);
    }
    for (const q of ['', '?limit=3']) {
      const res = await call(t.url, 'GET', `/api/v1/requests/nosuchrequest/log${q}`);
      expect(res.status).toBe(404);
    }
  });
});
