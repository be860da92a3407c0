/**
 * Webhook notifications with a real local HTTP receiver: the body sent on a
 * final state (with the failed jobs' last errors), the HMAC signature, a
 * retry after a 500, and failures (a receiver that keeps failing, a private
 * address) visible on GET /requests/{id}; none of it holds the request up.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressAllowed } from '../src/notify.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

const SECRET = 'a-webhook-secret-of-some-length';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers 500 to the first call of /flaky and every call of /broken, 200 otherwise. */
async function startReceiver(): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] as string;
      got.push({ path, headers: req.headers, body });
      const firstFlaky = path === '/flaky' && got.filter((g) => g.path === '/flaky').length === 1;
      res.statusCode = path === '/broken' || firstFlaky ? 500 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

function specs(url: string): string {
  const seq = (name: string, notify: string[]) =>
    [
      `  ${name}:`,
      '    request: true',
      '    args:',
      '      required:',
      '        - name: host',
      `    notify: [${notify.map((u) => JSON.stringify(u)).join(', ')}]`,
      '    nodes:',
      '      work: {category: job, type: noop, args: [{expected: host}], sets: [], deps: []}',
    ].join('\n');
  return [
    'sequences:',
    seq('notified', [`${url}/flaky`]),
    seq('notified-broken', [`${url}/broken?token=hidden`, 'http://10.11.12.13/hook']),
  ].join('\n');
}

describe.each(DB_KINDS)('webhook notifications on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dir: string;

  beforeAll(async () => {
    jr = await new FakeJr().start();
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'rm-notify-'));
    writeFileSync(join(dir, 'specs.yaml'), specs(receiver.url));
    writeFileSync(join(dir, 'hmac'), `${SECRET}\n`);
    t = await startTestRm({
      db: kind,
      jrUrl: jr.url,
      overrides: {
        'specs.dir': dir,
        'notify.hmac_secret_file': join(dir, 'hmac'),
        'notify.attempts': 3,
        'notify.retry_wait': '20ms',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
    receiver?.server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const delivered = async () => {
    await t.rm.operator.finals.settle();
    await t.rm.operator.notifier.settle();
  };

  it('POSTs the final state with the failed jobs, signed, and retries after a 500', async () => {
    const { id } = await t.client.createRequest('notified', { host: 'h1' });
    const entry = {
      requestId: id,
      jobId: 'job1',
      try: 1,
      name: 'work',
      type: 'noop',
      startedAt: 1,
      finishedAt: 2,
      state: State.FAIL,
      exit: 1,
      error: 'disk full',
      stdout: '',
      stderr: '',
    };
    expect((await call(t.url, 'POST', `/api/v1/requests/${id}/log`, entry)).status).toBe(201);
    const finishedAt = '2030-01-02T03:04:05.678Z';
    await t.internal.finish({ requestId: id, state: State.FAIL, finishedAt, finishedJobs: 0 });
    await delivered();

    const calls = receiver.got.filter((g) => g.path === '/flaky');
    expect(calls).toHaveLength(2); // a 500, then the retry
    const last = calls[1] as Received;
    expect(last.body).toBe(calls[0]?.body);
    expect(JSON.parse(last.body)).toMatchObject({
      event: 'request.finished',
      id,
      type: 'notified',
      state: 'FAIL',
      finishedAt,
      failedJobs: [{ jobId: 'job1', name: 'work', type: 'noop', try: 1, error: 'disk full' }],
    });
    const expected = createHmac('sha256', SECRET).update(last.body).digest('hex');
    expect(last.headers['x-spincycle-signature']).toBe(`sha256=${expected}`);

    const got = (await call(t.url, 'GET', `/api/v1/requests/${id}`)).json as { notifications: unknown[] };
    expect(got.notifications).toEqual([
      expect.objectContaining({
        url: `${receiver.url}/flaky`,
        status: 'delivered',
        attempts: 2,
        httpStatus: 200,
      }),
    ]);
  });

  it('failures are kept in the request status and never hold the request up', async () => {
    const { id } = await t.client.createRequest('notified-broken', { host: 'h2' });
    await t.internal.finish({
      requestId: id,
      state: State.COMPLETE,
      finishedAt: '2030-01-02T03:04:05.678Z',
      finishedJobs: 1,
    });
    expect((await t.client.getRequest(id)).state).toBe(State.COMPLETE);
    await delivered();
    expect(receiver.got.filter((g) => g.path.startsWith('/broken'))).toHaveLength(3);
    const got = (await call(t.url, 'GET', `/api/v1/requests/${id}`)).json as {
      notifications: Array<Record<string, unknown>>;
    };
    expect(got.notifications).toEqual([
      // The private address is refused at once; the query string (a token) is not shown.
      expect.objectContaining({ url: 'http://10.11.12.13/hook', status: 'failed', attempts: 1 }),
      expect.objectContaining({
        url: `${receiver.url}/broken`,
        status: 'failed',
        attempts: 3,
        httpStatus: 500,
      }),
    ]);
    expect(got.notifications[0]?.lastError).toContain('private range');
    expect(got.notifications[1]?.lastError).toBe('HTTP 500');
  });
});

describe('webhook address check', () => {
  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['93.184.216.34', true],
    ['10.0.0.1', false],
    ['172.20.1.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['::ffff:10.0.0.1', false],
  ])('%s allowed: %s', (address, allowed) => {
    expect(addressAllowed(address, false)).toBe(allowed);
    expect(addressAllowed(address, true)).toBe(true);
  });
});
