/**
 * The operator endpoints of the public document, for api-conformance.test.ts:
 * paging headers, retry of a FAIL request, a live event stream (each event's
 * data checked against its schema, resumed with Last-Event-ID to the final
 * event, then 204), schedules, and the limits: 503 beyond events.max_streams,
 * and on a second RM (a create rate of 1/h, a dead Job Runner, a schedule every
 * second) 502 for a create no Job Runner takes and 429 with Retry-After.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { expect } from 'vitest';
import { type AuthFiles, as, SPECS } from '../auth/support/auth.js';
import { type Call, send } from '../support/fuzz-http.js';
import { freePort, type ServiceProcess, startRm } from '../support/system.js';
import { until } from '../support/until.js';
import { conform, parseSse } from './api-conformance-support.js';

const ROOT = as('root');
const R = '/api/v1/requests/{id}';
const P = (base: string, template: string, c: Call, status: number) =>
  conform(base, 'public', template, c, status);

/**
 * The main RM's config file (written to `dir`): one event stream at a time
 * (so a second is a 503), streams short enough for the fuzz to read whole,
 * and a schedule that never comes due in the test.
 */
export function RM_CONFIG(dir: string): string {
  const file = join(dir, 'rm.yaml');
  writeFileSync(
    file,
    [
      'events:',
      '  max_streams: 1',
      '  max_duration: 3s',
      '  poll_interval: 100ms',
      'schedules:',
      '  - name: new-year',
      '    cron: "0 0 1 1 *"',
      '    timezone: UTC',
      '    type: open',
      '',
    ].join('\n'),
  );
  return file;
}

async function createAs(
  rm: ServiceProcess,
  type: string,
  args: Record<string, string> = {},
): Promise<string> {
  const a = await P(
    rm.url,
    '/api/v1/requests',
    { method: 'POST', path: '/api/v1/requests', body: JSON.stringify({ type, args }), headers: ROOT },
    201,
  );
  return (a.json as { id: string }).id;
}

const stateOf = async (rm: ServiceProcess, id: string) =>
  (
    JSON.parse(
      (await send(rm.url, { method: 'GET', path: `/api/v1/requests/${id}`, headers: ROOT })).text,
    ) as {
      state: number;
    }
  ).state;

async function paging(rm: ServiceProcess, id: string): Promise<void> {
  const first = await P(
    rm.url,
    '/api/v1/requests',
    { method: 'GET', path: '/api/v1/requests?limit=1', headers: ROOT },
    200,
  );
  const cursor = first.headers['x-next-cursor'] as string;
  expect(cursor).toBeTruthy();
  expect(first.headers.link).toMatch(/^<\/api\/v1\/requests\?.*cursor=.*>; rel="next"$/);
  await P(
    rm.url,
    '/api/v1/requests',
    { method: 'GET', path: `/api/v1/requests?limit=1&cursor=${encodeURIComponent(cursor)}`, headers: ROOT },
    200,
  );
  await P(
    rm.url,
    '/api/v1/requests',
    { method: 'GET', path: `/api/v1/requests?offset=1&cursor=${encodeURIComponent(cursor)}`, headers: ROOT },
    400,
  );
  const log = `/api/v1/requests/${id}/log`;
  await until('two job-log entries', async () => {
    const a = await send(rm.url, { method: 'GET', path: log, headers: ROOT });
    return (JSON.parse(a.text) as unknown[]).length >= 2 ? true : undefined;
  });
  const page = await P(rm.url, `${R}/log`, { method: 'GET', path: `${log}?limit=1`, headers: ROOT }, 200);
  expect(page.headers['x-next-cursor']).toBeTruthy();
  await P(
    rm.url,
    `${R}/log`,
    {
      method: 'GET',
      path: `${log}?cursor=${encodeURIComponent(page.headers['x-next-cursor'] as string)}`,
      headers: ROOT,
    },
    200,
  );
  await P(rm.url, `${R}/log`, { method: 'GET', path: `${log}?cursor=%25zz`, headers: ROOT }, 400);
}

async function retry(rm: ServiceProcess, created: string[]): Promise<void> {
  const broken = await createAs(rm, 'broken');
  created.push(broken);
  await until('the broken request to FAIL', async () =>
    (await stateOf(rm, broken)) === State.FAIL ? true : undefined,
  );
  const path = `/api/v1/requests/${broken}/retry`;
  const again = await P(rm.url, `${R}/retry`, { method: 'POST', path, headers: ROOT }, 200);
  expect(again.json).toMatchObject({ id: broken, state: State.RUNNING, finishedAt: null });
  const running = await createAs(rm, 'deploy', { app: 'r', ms: '60000' });
  created.push(running);
  await P(
    rm.url,
    `${R}/retry`,
    { method: 'POST', path: `/api/v1/requests/${running}/retry`, headers: ROOT },
    409,
  );
  await P(rm.url, `${R}/retry`, { method: 'POST', path: '/api/v1/requests/nope/retry', headers: ROOT }, 404);
  await P(rm.url, `${R}/retry`, { method: 'POST', path }, 401);
}

/** Read the stream of `id` to its `final` event, reconnecting with Last-Event-ID; every event is checked. */
async function events(rm: ServiceProcess, id: string, created: string[]): Promise<void> {
  const path = `/api/v1/requests/${id}/events`;
  const names: string[] = [];
  let last = '';
  await until('the final event', async () => {
    const headers = last ? { ...ROOT, 'Last-Event-ID': last } : ROOT;
    const a = await P(rm.url, `${R}/events`, { method: 'GET', path, headers, contentType: null }, 200);
    for (const e of parseSse(a.text)) {
      names.push(e.event);
      last = e.id;
    }
    return names.includes('final') ? true : undefined;
  });
  expect(names).toEqual(expect.arrayContaining(['log', 'progress', 'final']));
  const done = { ...ROOT, 'Last-Event-ID': last };
  await P(rm.url, `${R}/events`, { method: 'GET', path, headers: done, contentType: null }, 204);
  await P(
    rm.url,
    `${R}/events`,
    { method: 'GET', path: `${path}?after=x.y`, headers: ROOT, contentType: null },
    400,
  );
  await P(
    rm.url,
    `${R}/events`,
    { method: 'GET', path: '/api/v1/requests/nope/events', headers: ROOT, contentType: null },
    404,
  );
  await P(rm.url, `${R}/events`, { method: 'GET', path, contentType: null }, 401);
  // events.max_streams is 1: while one stream is open, another is a 503.
  const long = await createAs(rm, 'deploy', { app: 'e', ms: '60000' });
  created.push(long);
  const abort = new AbortController();
  const held = await fetch(`${rm.url}/api/v1/requests/${long}/events`, {
    headers: ROOT,
    signal: abort.signal,
  });
  expect(held.status).toBe(200);
  try {
    await P(
      rm.url,
      `${R}/events`,
      { method: 'GET', path: `/api/v1/requests/${long}/events`, headers: ROOT, contentType: null },
      503,
    );
  } finally {
    abort.abort();
  }
}

/** A second RM: create rate 1/h, a Job Runner that is not there, a schedule every second. */
async function limitedRm(files: AuthFiles): Promise<void> {
  const rm = await startRm({
    db: 'sqlite',
    specsDir: SPECS,
    jrUrl: `http://127.0.0.1:${await freePort()}`,
    port: await freePort(),
    env: {
      SPINCYCLE_AUTH_TOKENS_FILE: files.tokens,
      SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: files.internal,
      SPINCYCLE_AUTH_ADMIN_ROLES: 'sre',
      SPINCYCLE_LIMITS_CREATE_RATE: '1/h',
      SPINCYCLE_SCHEDULES: JSON.stringify([
        { name: 'every-second', cron: '* * * * * *', timezone: 'UTC', type: 'open', missed: 'skip' },
      ]),
    },
  });
  try {
    const c: Call = { method: 'POST', path: '/api/v1/requests', body: '{"type":"open"}', headers: ROOT };
    await P(rm.url, '/api/v1/requests', c, 502);
    const limited = await P(rm.url, '/api/v1/requests', c, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await until('a schedule run', async () => {
      const a = await P(
        rm.url,
        '/api/v1/schedules',
        { method: 'GET', path: '/api/v1/schedules', headers: ROOT },
        200,
      );
      return (a.json as Array<{ lastRun: unknown }>)[0]?.lastRun ?? undefined;
    });
  } finally {
    await rm.stop();
  }
}

export async function checkOperatorEndpoints(ctx: {
  rm: ServiceProcess;
  files: AuthFiles;
  created: string[];
}): Promise<void> {
  const { rm, created } = ctx;
  const short = await createAs(rm, 'deploy', { app: 's', ms: '50' });
  created.push(short);
  await paging(rm, short);
  await events(rm, short, created);
  await retry(rm, created);
  const list = await P(
    rm.url,
    '/api/v1/schedules',
    { method: 'GET', path: '/api/v1/schedules', headers: ROOT },
    200,
  );
  expect(list.json).toEqual([expect.objectContaining({ name: 'new-year', lastRun: null })]);
  await P(rm.url, '/api/v1/schedules', { method: 'GET', path: '/api/v1/schedules' }, 401);
  await limitedRm(ctx.files);
}
