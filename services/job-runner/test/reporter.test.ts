/**
 * The outbound queue to the RM: batching, order, retries without loss,
 * finish only after the chain's logs, rejection handling, progress coalescing,
 * draining, and the multi-URL RM gateway over real HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JobLog, parseJson, State } from '@spincycle/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { Reporter } from '../src/reporter.js';
import { RmGateway } from '../src/rm-gateway.js';
import { httpError, networkError, RecordingSink, sleep, testLogger } from './helpers.js';

function entry(requestId: string, jobId: string, tryNo = 1): JobLog {
  return {
    requestId,
    jobId,
    try: tryNo,
    name: jobId,
    type: 'noop',
    startedAt: 1_700_000_000_123_456_789n,
    finishedAt: 1_700_000_000_223_456_789n,
    state: State.COMPLETE,
    exit: 0,
    error: '',
    stdout: '',
    stderr: '',
  };
}

const finish = (requestId: string, state = State.COMPLETE) => ({
  requestId,
  state,
  finishedAt: '2026-01-01T00:00:00Z',
  finishedJobs: 1,
});

const open: Reporter[] = [];
function reporter(sink: RecordingSink, opts = {}) {
  const r = new Reporter(sink, testLogger(), { retryBaseMs: 10, retryMaxMs: 50, ...opts });
  open.push(r);
  return r;
}
afterEach(() => {
  for (const r of open.splice(0)) r.close();
});

describe('job-log delivery', () => {
  it('sends entries in few, ordered batches', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink);
    for (let i = 0; i < 1000; i++) r.log(entry('r1', `j${i}`));
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    expect(sink.logs().map((l) => l.jobId)).toEqual(Array.from({ length: 1000 }, (_, i) => `j${i}`));
    expect(sink.attempts.logs).toBeLessThanOrEqual(3);
    expect(r.delivered).toBe(1000);
  });

  it('keeps batches of large entries under the byte bound', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { maxBatchBytes: 10_000 });
    for (let i = 0; i < 10; i++) r.log({ ...entry('r1', `j${i}`), stdout: 'x'.repeat(4000) });
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    const sizes = sink.events.flatMap((e) => (e.op === 'logs' ? [e.entries.length] : []));
    expect(sizes.every((n) => n <= 2)).toBe(true);
    expect(sink.logs()).toHaveLength(10);
  });

  it('sends a lone entry after the flush interval', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { flushIntervalMs: 30 });
    r.log(entry('r1', 'a'));
    await sleep(5);
    expect(sink.attempts.logs).toBe(0);
    await sink.until(() => sink.logs().length === 1, 1000);
  });

  it('retries failed deliveries with backoff and loses nothing, keeping order', async () => {
    const sink = new RecordingSink();
    let failures = 5;
    sink.fault = (op) =>
      op === 'logs' && failures-- > 0 ? (failures % 2 ? networkError() : httpError(503)) : undefined;
    const r = reporter(sink, { batchSize: 3, maxBatch: 3 });
    for (let i = 0; i < 10; i++) r.log(entry(i % 2 ? 'r1' : 'r2', `j${i}`));
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    expect(sink.logs().map((l) => l.jobId)).toEqual(Array.from({ length: 10 }, (_, i) => `j${i}`));
    expect(sink.attempts.logs).toBe(5 + 4);
  });

  it('a batch the RM rejects (4xx) is logged and dropped; later entries still go', async () => {
    const sink = new RecordingSink();
    sink.fault = (op, body) =>
      op === 'logs' && (body as JobLog[]).some((l) => l.jobId === 'bad')
        ? httpError(400, 'invalid JobLog')
        : undefined;
    const r = reporter(sink, { batchSize: 1, maxBatch: 1 });
    r.log(entry('r1', 'bad'));
    r.log(entry('r1', 'good'));
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(sink.logs().map((l) => l.jobId)).toEqual(['good']);
  });

  it('encodes nanosecond times exactly over HTTP', async () => {
    const rm = await fakeRm(() => [200, '']);
    try {
      const gw = new RmGateway([rm.url], { timeoutMs: 2000 });
      await gw.postJobLogs([entry('r1', 'a')]);
      const got = parseJson(rm.bodies[0] as string) as JobLog[];
      expect(rm.paths[0]).toBe('POST /api/v1/job-logs');
      expect(got[0]?.startedAt).toBe(1_700_000_000_123_456_789n);
    } finally {
      await rm.close();
    }
  });
});

describe('final messages', () => {
  it('finish goes out only after every job log of its chain was delivered', async () => {
    const sink = new RecordingSink();
    let failures = 3;
    sink.fault = (op) => (op === 'logs' && failures-- > 0 ? networkError() : undefined);
    const r = reporter(sink);
    r.log(entry('r1', 'a'));
    r.log(entry('r1', 'b'));
    const d = await r.finish(finish('r1'));
    expect(d).toEqual({ delivered: true });
    expect(sink.events.map((e) => e.op)).toEqual(['logs', 'finish']);
  });

  it("finish does not wait for other chains' logs", async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { flushIntervalMs: 10_000 });
    r.log(entry('other', 'x'));
    // nothing queued for r1: finish goes at once
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
  });

  it('is retried until delivered', async () => {
    const sink = new RecordingSink();
    let failures = 4;
    sink.fault = (op) => (op === 'finish' && failures-- > 0 ? httpError(500) : undefined);
    const r = reporter(sink);
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(sink.attempts.finish).toBe(5);
  });

  it('a 409 (the RM already has a final state) stops the retries', async () => {
    const sink = new RecordingSink();
    sink.fault = (op) =>
      op === 'finish' ? httpError(409, 'request in state COMPLETE, expected state RUNNING') : undefined;
    const r = reporter(sink);
    const d = await r.finish(finish('r1'));
    expect(d).toMatchObject({ delivered: false, rejected: true });
    expect(sink.attempts.finish).toBe(1);
  });

  it('gives up at the deadline', async () => {
    const sink = new RecordingSink();
    sink.fault = (op) => (op === 'suspend' ? networkError() : undefined);
    const r = reporter(sink);
    const t0 = Date.now();
    const d = await r.suspend(
      {
        requestId: 'r1',
        jobChain: { requestId: 'r1', jobs: {}, adjacencyList: {}, state: 7, finishedJobs: 0 },
        totalJobTries: {},
        latestRunJobTries: {},
        sequenceTries: {},
      },
      { deadline: Date.now() + 300 },
    );
    expect(d).toMatchObject({ delivered: false, rejected: false });
    expect(Date.now() - t0).toBeLessThan(600);
    expect(sink.attempts.suspend).toBeGreaterThan(2);
  });
});

describe('progress and drain', () => {
  it('keeps one progress call in flight per chain and sends only the latest value after it', async () => {
    const sink = new RecordingSink();
    sink.delayMs = 50;
    const r = reporter(sink);
    for (let n = 1; n <= 5; n++) r.progress({ requestId: 'r1', finishedJobs: n });
    await sink.until(() => sink.events.filter((e) => e.op === 'progress').length === 2, 2000);
    await sleep(120);
    expect(sink.events.flatMap((e) => (e.op === 'progress' ? [e.body.finishedJobs] : []))).toEqual([1, 5]);
  });

  it('progress failures are only logged', async () => {
    const sink = new RecordingSink();
    sink.fault = () => networkError();
    const r = reporter(sink);
    r.progress({ requestId: 'r1', finishedJobs: 1 });
    await sleep(20);
    expect(sink.attempts.progress).toBe(1);
  });

  it('drain reports false when the RM stays down past the deadline', async () => {
    const sink = new RecordingSink();
    sink.fault = () => networkError();
    const r = reporter(sink);
    r.log(entry('r1', 'a'));
    expect(await r.drain(Date.now() + 200)).toBe(false);
    expect(r.queued).toBe(1);
  });
});

interface FakeRm {
  url: string;
  paths: string[];
  bodies: string[];
  close(): Promise<void>;
}

async function fakeRm(answer: (path: string) => [number, string]): Promise<FakeRm> {
  const paths: string[] = [];
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const p = `${req.method} ${req.url}`;
      paths.push(p);
      bodies.push(body);
      const [status, text] = answer(p);
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('RmGateway (rm_client.url with several RMs)', () => {
  it('goes to the next RM when one is unreachable, and sticks with the one that answered', async () => {
    const rm = await fakeRm(() => [200, '']);
    try {
      const gw = new RmGateway([await deadUrl(), rm.url], { timeoutMs: 2000 });
      await gw.finish(finish('r1'));
      expect(gw.currentUrl).toBe(rm.url);
      await gw.progress({ requestId: 'r1', finishedJobs: 3 });
      expect(rm.paths).toEqual(['PUT /api/v1/requests/r1/finish', 'PUT /api/v1/requests/r1/progress']);
      expect(JSON.parse(rm.bodies[0] as string)).toEqual(finish('r1'));
    } finally {
      await rm.close();
    }
  });

  it('does not fail over on an HTTP error answer', async () => {
    const a = await fakeRm(() => [409, '{"message":"request in state COMPLETE, expected state RUNNING"}']);
    const b = await fakeRm(() => [200, '']);
    try {
      const gw = new RmGateway([a.url, b.url], { timeoutMs: 2000 });
      await expect(gw.finish(finish('r1'))).rejects.toMatchObject({
        status: 409,
        message: 'request in state COMPLETE, expected state RUNNING',
      });
      expect(b.paths).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails with a network error when no RM is reachable', async () => {
    const gw = new RmGateway([await deadUrl(), await deadUrl()], { timeoutMs: 2000 });
    await expect(gw.postJobLogs([entry('r1', 'a')])).rejects.toMatchObject({ status: undefined });
  });
});
