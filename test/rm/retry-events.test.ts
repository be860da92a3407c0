/**
 * Retry from failure and live events, end to end with real RM and JR processes on
 * SQLite and MariaDB: a request fails on a missing file, its event stream ends with
 * `final` FAIL; after the file appears, `POST …/retry` runs it again from the failed
 * job (the completed one is not re-run, try numbers continue) and a stream resumed
 * with Last-Event-ID gets only what came after.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, type JobLog, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type SseEvent } from '../support/sse.js';
import { type DbKind, REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';
import { until } from '../support/until.js';

const SPECS = join(REPO_ROOT, 'specs');

const logsOf = (events: SseEvent[]) =>
  events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data) as JobLog);
// The spec's own jobs (the chain also has the sequence's begin and end jobs).
const NAMED = new Set(['prepare', 'check', 'report']);
const tries = (logs: JobLog[]) =>
  logs.filter((l) => NAMED.has(l.name)).map((l) => `${l.name}#${l.try}:${l.state}`);
const sorted = (xs: string[]) => [...xs].sort();

describe.each<DbKind>(['sqlite', 'mysql'])('retry and events (%s)', (db) => {
  let sys: System;
  let dir: string;
  const events = (id: string) => `${sys.rm.url}/api/v1/requests/${encodeURIComponent(id)}/events`;
  const retry = (id: string, method = 'POST') =>
    fetch(`${sys.rm.url}/api/v1/requests/${encodeURIComponent(id)}/retry`, { method });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spincycle-retry-'));
    sys = await startSystem({
      db,
      specsDir: SPECS,
      rmEnv: {
        SPINCYCLE_EVENTS_POLL_INTERVAL: '100ms',
        SPINCYCLE_EVENTS_KEEP_ALIVE: '300ms',
        SPINCYCLE_EVENTS_MAX_STREAMS: '2',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await sys?.stop();
  });

  it('streams a failing request to its final state, retries it from the failed job, and resumes the stream', async () => {
    const marker = join(dir, 'ready');
    const req = await sys.client.createRequest('retry-demo', { marker, sleepTime: '400' });
    const first = await readSse(events(req.id));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(first.headers.get('cache-control')).toContain('no-cache');
    const last = first.events.at(-1) as SseEvent;
    expect(last.event).toBe('final');
    expect(JSON.parse(last.data)).toMatchObject({ id: req.id, state: State.FAIL });
    expect(tries(logsOf(first.events))).toEqual([`prepare#1:${State.COMPLETE}`, `check#1:${State.FAIL}`]);
    expect(logsOf(first.events).find((l) => l.name === 'check')?.error).toMatch(/exit status/);
    expect(first.events.some((e) => e.event === 'state' && JSON.parse(e.data).state === State.RUNNING)).toBe(
      true,
    );
    // Every event carries an id, and resuming after the final one has nothing to send.
    expect(first.events.every((e) => e.id !== '')).toBe(true);
    expect((await readSse(events(req.id), { lastEventId: last.id })).status).toBe(204);

    // The route exists for POST only (the dashboard's probe).
    const probe = await retry(req.id, 'GET');
    expect(probe.status).toBe(405);
    expect(probe.headers.get('allow')).toContain('POST');

    writeFileSync(marker, 'ok\n');
    const res = await retry(req.id);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: number; finishedAt: string | null; finishedJobs: number };
    // The sequence's begin job and `prepare` stay COMPLETE (the JR may already be past `check`).
    expect(body).toMatchObject({ state: State.RUNNING, finishedAt: null });
    expect(body.finishedJobs).toBeGreaterThanOrEqual(2);
    // Running again: a second retry is refused, naming the state.
    const again = await retry(req.id);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { message: string }).message).toContain('RUNNING');

    const resumed = await readSse(events(req.id), { lastEventId: last.id });
    expect(resumed.events.at(-1)?.event).toBe('final');
    expect(JSON.parse(resumed.events.at(-1)?.data as string).state).toBe(State.COMPLETE);
    // Only what came after: no entry of the first run, and the retried job's try number continues.
    expect(tries(logsOf(resumed.events))).toEqual([
      `check#2:${State.COMPLETE}`,
      `report#1:${State.COMPLETE}`,
    ]);

    const all = await sys.client.getJobLogs(req.id);
    expect(sorted(tries(all))).toEqual([
      `check#1:${State.FAIL}`,
      `check#2:${State.COMPLETE}`,
      `prepare#1:${State.COMPLETE}`,
      `report#1:${State.COMPLETE}`,
    ]);
    const after = await sys.client.getRequest(req.id);
    expect(after).toMatchObject({ state: State.COMPLETE, finishedJobs: after.totalJobs });

    // COMPLETE is not retried; an unknown request is a 404.
    const done = await retry(req.id);
    expect(done.status).toBe(409);
    expect(((await done.json()) as { message: string }).message).toContain('COMPLETE');
    expect((await retry('nosuchrequest0000000')).status).toBe(404);
    expect((await readSse(events('nosuchrequest0000000'))).status).toBe(404);
  }, 60_000);

  it('retries a STOPPED request: the stopped job runs again with the next try number', async () => {
    const marker = join(dir, 'present');
    writeFileSync(marker, 'ok\n');
    const req = await sys.client.createRequest('retry-demo', { marker, sleepTime: '30000' });
    // Stop it while `prepare` sleeps.
    await readSse(events(req.id), { stopAfter: (e) => e.event === 'state' });
    await sys.client.stopRequest(req.id);
    await waitForState(sys.client, req.id, [State.STOPPED]);
    expect(tries(await sys.client.getJobLogs(req.id))).toEqual([`prepare#1:${State.STOPPED}`]);

    const res = await retry(req.id);
    expect(res.status).toBe(200);
    // Follow it live until it runs its second try, then stop it again: a retry is stoppable.
    const live = await readSse(events(req.id), { stopAfter: (e) => e.event === 'state' });
    expect(JSON.parse(live.events.at(-1)?.data as string).state).toBe(State.RUNNING);
    await sys.client.stopRequest(req.id);
    await waitForState(sys.client, req.id, [State.STOPPED]);
    expect(tries(await sys.client.getJobLogs(req.id))).toEqual([
      `prepare#1:${State.STOPPED}`,
      `prepare#2:${State.STOPPED}`,
    ]);
  }, 60_000);

  it('bounds open streams (503 beyond events.max_streams) and keeps quiet ones alive with comments', async () => {
    const marker = join(dir, 'quiet');
    writeFileSync(marker, 'ok\n');
    const req = await sys.client.createRequest('retry-demo', { marker, sleepTime: '30000' });
    const aborts = [new AbortController(), new AbortController()];
    const held = await Promise.all(aborts.map((a) => fetch(events(req.id), { signal: a.signal })));
    expect(held.map((r) => r.status)).toEqual([200, 200]);
    const third = await fetch(events(req.id));
    expect(third.status).toBe(503);
    expect(((await third.json()) as { message: string }).message).toContain('events.max_streams');
    // Nothing happens while `prepare` sleeps: the stream still gets a comment now and then.
    const reader = (held[0] as Response).body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes(': ping')) text += decoder.decode((await reader.read()).value);
    for (const a of aborts) a.abort();
    await sys.client.stopRequest(req.id);
    // Closed streams free their places.
    const again = await until('a stream place to be free', async () => {
      const r = await readSse(events(req.id));
      return r.status === 200 ? r : undefined;
    });
    expect(again.events.at(-1)?.event).toBe('final');
  }, 60_000);

  it('answers 400 for a malformed Last-Event-ID and 409 for a request that is running', async () => {
    const req = await sys.client.createRequest('retry-demo', { marker: join(dir, 'x'), sleepTime: '30000' });
    const bad = await fetch(events(req.id), { headers: { 'Last-Event-ID': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('Last-Event-ID');
    const res = await retry(req.id);
    expect(res.status).toBe(409);
    await sys.client.stopRequest(req.id);
    await expect(sys.client.getRequest('nosuchrequest0000000')).rejects.toBeInstanceOf(ApiError);
  }, 30_000);
});
