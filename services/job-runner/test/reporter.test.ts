/**
 * The outbound queue to the RM: one report call per flush carrying entries,
 * progress and finishes; batching (by count and serialized size), capped
 * entry texts, order, retries without loss, rejected calls split until only
 * the entries refused on their own are dropped, finish only with or after
 * the chain's logs, outcomes and rejections, progress coalescing, draining,
 * and the RM gateway over real HTTP (several RMs, an RM without the report
 * endpoint).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type JobLog,
  parseJson,
  parseReportBatch,
  type ReportBatch,
  type ReportResult,
  State,
} from '@spincycle/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { entryJsonBytes, Reporter } from '../src/reporter.js';
import { RmGateway } from '../src/rm-gateway.js';
import { fakeRm, httpError, networkError, RecordingSink, sleep, testLogger, waitFor } from './helpers.js';

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

const reportsWith = (sink: RecordingSink, requestId: string) =>
  sink.reports.filter((b) => b.finishes.some((f) => f.requestId === requestId));

/** Entries as JSON the way RmInternalClient sends them (times as decimal strings). */
const wire = (logs: JobLog[]) =>
  JSON.stringify(
    logs.map((e) => ({ ...e, startedAt: String(e.startedAt), finishedAt: String(e.finishedAt) })),
  );

/** A reporter whose logger's warn/error calls are recorded. */
function watchedReporter(sink: RecordingSink, opts = {}) {
  const logger = testLogger();
  const warn = vi.spyOn(logger, 'warn');
  const error = vi.spyOn(logger, 'error');
  const r = new Reporter(sink, logger, { retryBaseMs: 10, retryMaxMs: 50, ...opts });
  open.push(r);
  // (message, meta) calls: winston's overloads type the recorded arguments otherwise.
  const calls = (spy: typeof warn, message: string) =>
    (spy.mock.calls as unknown as unknown[][]).filter((c) => c[0] === message).map((c) => c[1]);
  return {
    r,
    warnings: (message: string) => calls(warn, message),
    errors: (message: string) => calls(error, message),
  };
}

const DROPPED = 'RM refused a job-log entry; it is dropped';

/** An in-memory RM that answers `status` (a rejection) to every report call `refuse` picks. */
function refusingSink(refuse: (b: ReportBatch) => boolean, status: number, message: string): RecordingSink {
  const sink = new RecordingSink();
  sink.fault = (op, body) =>
    op === 'report' && refuse(body as ReportBatch) ? httpError(status, message) : undefined;
  return sink;
}

/** The call index of a chain's finish is at or after every call carrying its entries. */
function expectFinishAfterEntries(sink: RecordingSink, requestId: string): void {
  const withFinish = sink.reports.findIndex((b) => b.finishes.some((f) => f.requestId === requestId));
  expect(withFinish).toBeGreaterThanOrEqual(0);
  expect(reportsWith(sink, requestId)).toHaveLength(1);
  const last = sink.reports.findLastIndex((b) => b.logs.some((l) => l.requestId === requestId));
  expect(last).toBeLessThanOrEqual(withFinish);
}

describe('job-log delivery', () => {
  it('sends entries in few, ordered batches', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink);
    for (let i = 0; i < 1000; i++) r.log(entry('r1', `j${i}`));
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    expect(sink.logs().map((l) => l.jobId)).toEqual(Array.from({ length: 1000 }, (_, i) => `j${i}`));
    expect(sink.attempts.report).toBeLessThanOrEqual(3);
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

  it('counts an entry as the bytes it takes in the report body', () => {
    const odd: JobLog = {
      ...entry('r-ü', 'j"1\n', 12),
      exit: -1,
      state: State.FAIL,
      error: 'tab\there',
      stdout: 'é€😀\u0001"\\ \ud800',
      stderr: 'x'.repeat(1000),
    };
    for (const e of [entry('r1', 'a'), odd]) expect(entryJsonBytes(e)).toBe(Buffer.byteLength(wire([e])) - 2);
  });

  it('bounds each call by the serialized size of its entries; an entry larger than that goes alone', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { maxBatchBytes: 10_000 });
    // 4000 bytes of UTF-8 in 2000 characters each: two such entries fit in 10,000 bytes, three do not.
    for (let i = 0; i < 12; i++) r.log({ ...entry('r1', `j${i}`), stdout: 'é'.repeat(2000) });
    r.log({ ...entry('r1', 'big'), stdout: 'x'.repeat(30_000) });
    r.log(entry('r1', 'last'));
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    const calls = sink.reports.map((b) => b.logs);
    expect(calls.flat().map((l) => l.jobId)).toEqual([
      ...Array.from({ length: 12 }, (_, i) => `j${i}`),
      'big',
      'last',
    ]);
    expect(calls.map((logs) => logs.length)).toEqual([2, 2, 2, 2, 2, 2, 1, 1]);
    for (const logs of calls)
      if (logs.length > 1) expect(Buffer.byteLength(wire(logs))).toBeLessThanOrEqual(10_000);
  });

  it('keeps only the tail of a huge stdout, stderr or error, and warns once per entry', async () => {
    const sink = new RecordingSink();
    const { r, warnings } = watchedReporter(sink, { maxLogTextBytes: 1000 });
    const stdout = `${'o'.repeat(5 * 1024 * 1024)}the end of stdout`;
    const error = '€'.repeat(400); // 1200 bytes
    r.log({ ...entry('r1', 'huge', 2), stdout, stderr: 'small', error });
    r.log({ ...entry('r1', 'fits'), stdout: 'x'.repeat(1000), stderr: '€'.repeat(333) });
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    const [huge, fits] = sink.logs('r1');
    expect(huge?.stdout).toBe(
      `[… ${Buffer.byteLength(stdout) - 1000} bytes truncated …]\n${stdout.slice(-1000)}`,
    );
    expect(huge?.stdout.endsWith('the end of stdout')).toBe(true);
    expect(huge?.stderr).toBe('small');
    // 1000 bytes from the end start inside a character: that byte is dropped too.
    expect(huge?.error).toBe(`[… 201 bytes truncated …]\n${'€'.repeat(333)}`);
    expect(fits).toMatchObject({ stdout: 'x'.repeat(1000), stderr: '€'.repeat(333) });
    expect(warnings('job-log entry too large: only the tail of its text goes to the RM')).toEqual([
      {
        requestId: 'r1',
        jobId: 'huge',
        try: 2,
        originalBytes: { stdout: Buffer.byteLength(stdout), error: 1200 },
        keptBytes: 1000,
      },
    ]);
  });

  it('sends a lone entry after the flush interval', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { flushIntervalMs: 30 });
    r.log(entry('r1', 'a'));
    await sleep(5);
    expect(sink.attempts.report).toBe(0);
    await sink.until(() => sink.logs().length === 1, 1000);
  });

  it('retries failed deliveries with backoff and loses nothing, keeping order', async () => {
    const sink = new RecordingSink();
    let failures = 5;
    sink.fault = (op) =>
      op === 'report' && failures-- > 0 ? (failures % 2 ? networkError() : httpError(503)) : undefined;
    const r = reporter(sink, { batchSize: 3, maxBatch: 3 });
    for (let i = 0; i < 10; i++) r.log(entry(i % 2 ? 'r1' : 'r2', `j${i}`));
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    expect(sink.logs().map((l) => l.jobId)).toEqual(Array.from({ length: 10 }, (_, i) => `j${i}`));
    expect(sink.attempts.report).toBe(5 + 4);
  });

  it('a batch the RM rejects (4xx) is logged and dropped; later entries and the finish still go', async () => {
    const sink = refusingSink((b) => b.logs.some((l) => l.jobId === 'bad'), 400, 'invalid JobLog');
    const r = reporter(sink, { batchSize: 1, maxBatch: 1 });
    r.log(entry('r1', 'bad'));
    r.log(entry('r1', 'good'));
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(sink.logs().map((l) => l.jobId)).toEqual(['good']);
  });

  it('a call the RM rejects (4xx) is split until only the entries it refuses on their own are dropped', async () => {
    const sink = refusingSink(
      (b) => b.logs.some((l) => l.stdout === 'BAD'),
      400,
      'invalid ReportBatch: logs[3]: bad entry',
    );
    const { r, errors } = watchedReporter(sink, { flushIntervalMs: 10_000 });
    const ids = Array.from({ length: 40 }, (_, i) => `j${i}`);
    for (const [i, id] of ids.entries())
      r.log({ ...entry(i % 2 ? 'r1' : 'r2', id), stdout: i === 7 || i === 30 ? 'BAD' : `out ${i}` });
    // The finishes ride in the first call with every entry, which the RM rejects.
    const delivered = await Promise.all([r.finish(finish('r1')), r.finish(finish('r2'))]);
    expect(delivered).toEqual([{ delivered: true }, { delivered: true }]);
    expect(sink.logs().map((l) => l.jobId)).toEqual(ids.filter((id) => id !== 'j7' && id !== 'j30'));
    expect(sink.logs().every((l) => l.stdout !== 'BAD')).toBe(true);
    expect(errors(DROPPED)).toEqual([
      { requestId: 'r1', jobId: 'j7', try: 1, error: 'HTTP 400: invalid ReportBatch: logs[3]: bad entry' },
      { requestId: 'r2', jobId: 'j30', try: 1, error: 'HTTP 400: invalid ReportBatch: logs[3]: bad entry' },
    ]);
    for (const id of ['r1', 'r2']) expectFinishAfterEntries(sink, id);
    // Halves, not one call per entry.
    expect(sink.attempts.report).toBeLessThan(30);
  });

  it('a 401/403 (credentials refused) keeps every entry and finish queued until the RM takes them', async () => {
    let refusing = true;
    const sink = refusingSink(() => refusing, 401, 'invalid internal token');
    const { r, errors } = watchedReporter(sink);
    const ids = Array.from({ length: 5 }, (_, i) => `j${i}`);
    for (const id of ids) r.log(entry('r1', id));
    const finished = r.finish(finish('r1'));
    await vi.waitFor(() => expect(sink.attempts.report).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    expect(sink.logs()).toEqual([]);
    expect(errors(DROPPED)).toEqual([]);
    expect(errors('reporting to the RM failed; retrying')[0]).toMatchObject({
      error: 'HTTP 401: invalid internal token',
    });
    refusing = false; // the operator fixed the token
    expect(await finished).toEqual({ delivered: true });
    expect(sink.logs('r1').map((l) => l.jobId)).toEqual(ids);
    expectFinishAfterEntries(sink, 'r1');
  });

  it('a call too large for the RM (413) is split; only an entry too large on its own is dropped', async () => {
    const limit = 20_000;
    const sink = refusingSink(
      (b) => Buffer.byteLength(wire(b.logs)) > limit,
      413,
      'request body too large: request entity too large',
    );
    const { r, errors } = watchedReporter(sink);
    const ids = Array.from({ length: 30 }, (_, i) => `j${i}`);
    for (const id of ids)
      r.log({ ...entry('r1', id), stdout: id === 'j12' ? 'h'.repeat(limit) : 's'.repeat(3000) });
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(sink.logs('r1').map((l) => l.jobId)).toEqual(ids.filter((id) => id !== 'j12'));
    expect(errors(DROPPED)).toEqual([
      expect.objectContaining({
        requestId: 'r1',
        jobId: 'j12',
        try: 1,
        error: expect.stringContaining('HTTP 413'),
      }),
    ]);
    expectFinishAfterEntries(sink, 'r1');
  });

  it('an entry rejected together with progress is tried alone before it is dropped', async () => {
    const sink = refusingSink(
      (b) => b.progress.some((p) => p.requestId === 'bad'),
      400,
      'invalid ReportBatch: progress[0]: bad',
    );
    const { r, errors } = watchedReporter(sink);
    r.progress({ requestId: 'bad', finishedJobs: 1 });
    r.log(entry('r1', 'a'));
    expect(await r.drain(Date.now() + 5000)).toBe(true);
    expect(sink.attempts.report).toBe(2);
    expect(sink.logs('r1').map((l) => l.jobId)).toEqual(['a']);
    expect(errors(DROPPED)).toEqual([]);
  });

  it('encodes nanosecond times exactly over HTTP', async () => {
    const rm = await fakeRm(() => [200, '{"inserted":1,"refused":[],"finishes":{}}']);
    try {
      const gw = new RmGateway([rm.url], { timeoutMs: 2000 });
      await gw.report({ logs: [entry('r1', 'a')], progress: [], finishes: [] });
      const text = rm.bodies[0] as string;
      expect(rm.paths[0]).toBe('POST /api/v1/internal/reports');
      // As decimal strings: plain JSON for both sides.
      expect(text).toContain('"startedAt":"1700000000123456789"');
      expect(parseReportBatch(JSON.parse(text)).logs[0]?.startedAt).toBe(1_700_000_000_123_456_789n);
    } finally {
      await rm.close();
    }
  });
});

describe('final messages', () => {
  it('finish goes out only after every job log of its chain was delivered', async () => {
    const sink = new RecordingSink();
    let failures = 3;
    sink.fault = (op) => (op === 'report' && failures-- > 0 ? networkError() : undefined);
    const r = reporter(sink);
    r.log(entry('r1', 'a'));
    r.log(entry('r1', 'b'));
    const d = await r.finish(finish('r1'));
    expect(d).toEqual({ delivered: true });
    expect(sink.events.map((e) => e.op)).toEqual(['logs', 'finish']);
  });

  it("a finish rides with its chain's last entries, never in an earlier batch", async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { batchSize: 3, maxBatch: 3, flushIntervalMs: 10_000 });
    for (let i = 0; i < 8; i++) {
      r.log(entry('r1', `j${i}`));
      r.log(entry('r2', `j${i}`));
    }
    const [d1, d2] = await Promise.all([r.finish(finish('r1')), r.finish(finish('r2'))]);
    expect([d1, d2]).toEqual([{ delivered: true }, { delivered: true }]);
    for (const id of ['r1', 'r2']) {
      const withFinish = sink.reports.findIndex((b) => b.finishes.some((f) => f.requestId === id));
      expect(reportsWith(sink, id)).toHaveLength(1);
      // Every entry of the chain went in that batch or before it.
      const last = sink.reports.findLastIndex((b) => b.logs.some((l) => l.requestId === id));
      expect(last).toBeLessThanOrEqual(withFinish);
    }
    expect(sink.logs()).toHaveLength(16);
  });

  it("finish does not wait for other chains' logs or for the flush interval", async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { flushIntervalMs: 10_000 });
    r.log(entry('other', 'x'));
    const t0 = Date.now();
    // nothing queued for r1: finish goes at once (and takes the queued entry along)
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(sink.attempts.report).toBe(1);
    expect(sink.logs('other')).toHaveLength(1);
  });

  it('finishes that come in a burst share calls', async () => {
    const sink = new RecordingSink();
    sink.delayMs = 5;
    const r = reporter(sink, { minIntervalMs: 20 });
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      r.log(entry(`b${i}`, 'a'));
      all.push(r.finish(finish(`b${i}`)));
      if (i % 10 === 9) await sleep(5);
    }
    expect(new Set(await Promise.all(all.map((p) => p.then((d) => JSON.stringify(d)))))).toEqual(
      new Set([JSON.stringify({ delivered: true })]),
    );
    expect(sink.finishes()).toHaveLength(50);
    expect(sink.attempts.report).toBeLessThanOrEqual(6);
  });

  it('is retried until delivered', async () => {
    const sink = new RecordingSink();
    let failures = 4;
    sink.fault = (op) => (op === 'report' && failures-- > 0 ? httpError(500) : undefined);
    const r = reporter(sink);
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(sink.attempts.report).toBe(5);
  });

  it('a lost answer is sent again and still applied exactly once', async () => {
    const sink = new RecordingSink();
    let lost = 2;
    sink.faultAfter = (op) => (op === 'report' && lost-- > 0 ? networkError('socket hang up') : undefined);
    const r = reporter(sink);
    r.log(entry('r1', 'a'));
    r.log(entry('r1', 'b'));
    r.progress({ requestId: 'r2', finishedJobs: 3 });
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(sink.attempts.report).toBe(3);
    expect(sink.logs('r1').map((l) => l.jobId)).toEqual(['a', 'b']);
    expect(sink.finishes('r1')).toHaveLength(1);
  });

  it('an outcome other than ok settles the finish: no more retries', async () => {
    for (const outcome of ['not_running', 'not_found', 'invalid'] as const) {
      const sink = new RecordingSink();
      sink.outcome = () => outcome;
      const r = reporter(sink);
      const d = await r.finish(finish('r1'));
      expect(d).toMatchObject({ delivered: false, rejected: true });
      await sleep(30);
      expect(sink.attempts.report).toBe(1);
    }
  });

  it('a finish the RM did not answer for is sent again', async () => {
    let calls = 0;
    const rm = {
      report: async (): Promise<ReportResult> => {
        calls++;
        return { inserted: 0, refused: [], finishes: calls < 3 ? {} : { r1: 'ok' } };
      },
      suspend: async () => undefined,
    };
    const r = new Reporter(rm, testLogger(), { retryBaseMs: 10, retryMaxMs: 50 });
    open.push(r);
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(calls).toBe(3);
  });

  it('a finish gives up at its deadline, without being sent ahead of its entries', async () => {
    const sink = new RecordingSink();
    sink.fault = (op) => (op === 'report' ? networkError() : undefined);
    const r = reporter(sink);
    r.log(entry('r1', 'a'));
    const t0 = Date.now();
    const d = await r.finish(finish('r1'), { deadline: Date.now() + 300 });
    expect(d).toMatchObject({ delivered: false, rejected: false });
    expect(Date.now() - t0).toBeLessThan(600);
    expect(sink.reports).toEqual([]);
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

  it('a dropped chain (forget) sends nothing more and its waiting finish gives up', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { flushIntervalMs: 10_000, minIntervalMs: 10_000 });
    // A finish just went: the next one waits minIntervalMs.
    expect(await r.finish(finish('x'))).toEqual({ delivered: true });
    r.log(entry('r1', 'a'));
    r.progress({ requestId: 'r1', finishedJobs: 1 });
    const pending = r.finish(finish('r1'));
    r.forget('r1');
    expect(await pending).toMatchObject({ delivered: false, rejected: true });
    r.log(entry('r1', 'b'));
    expect(await r.drain(Date.now() + 1000)).toBe(true);
    expect(sink.logs('r1')).toEqual([]);
    expect(sink.finishes('r1')).toEqual([]);
    expect(sink.events.filter((e) => e.op === 'progress')).toEqual([]);
  });
});

describe('progress and drain', () => {
  it('sends the latest value per chain with the next flush, not for a chain being finished', async () => {
    const sink = new RecordingSink();
    const r = reporter(sink, { flushIntervalMs: 20 });
    for (let n = 1; n <= 5; n++) r.progress({ requestId: 'r1', finishedJobs: n });
    r.progress({ requestId: 'r2', finishedJobs: 1 });
    await sink.until(() => sink.events.filter((e) => e.op === 'progress').length === 2, 2000);
    expect(sink.attempts.report).toBe(1);
    expect(
      sink.events.flatMap((e) => (e.op === 'progress' ? [[e.body.requestId, e.body.finishedJobs]] : [])),
    ).toEqual([
      ['r1', 5],
      ['r2', 1],
    ]);
    r.progress({ requestId: 'r1', finishedJobs: 6 });
    expect(await r.finish(finish('r1'))).toEqual({ delivered: true });
    expect(sink.reports.at(-1)?.progress).toEqual([]);
  });

  it('progress that failed goes again with the next call, unless a newer value replaced it', async () => {
    const sink = new RecordingSink();
    let down = true;
    sink.fault = (op) => (op === 'report' && down ? networkError() : undefined);
    const r = reporter(sink, { flushIntervalMs: 5 });
    r.progress({ requestId: 'r1', finishedJobs: 1 });
    r.progress({ requestId: 'r2', finishedJobs: 1 });
    await waitFor(() => sink.attempts.report >= 2, 1000);
    r.progress({ requestId: 'r2', finishedJobs: 2 });
    down = false;
    await sink.until(() => sink.events.filter((e) => e.op === 'progress').length === 2, 2000);
    expect(
      sink.events.flatMap((e) => (e.op === 'progress' ? [[e.body.requestId, e.body.finishedJobs]] : [])),
    ).toEqual([
      ['r1', 1],
      ['r2', 2],
    ]);
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

async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const batchFor = (id: string): ReportBatch => ({
  logs: [entry(id, 'a')],
  progress: [{ requestId: 'p', finishedJobs: 3 }],
  finishes: [finish(id)],
});

describe('RmGateway (rm_client.url with several RMs)', () => {
  it('goes to the next RM when one is unreachable, and sticks with the one that answered', async () => {
    const rm = await fakeRm(() => [200, '{"inserted":1,"refused":[],"finishes":{"r1":"ok"}}']);
    try {
      const gw = new RmGateway([await deadUrl(), rm.url], { timeoutMs: 2000 });
      expect(await gw.report(batchFor('r1'))).toEqual({ inserted: 1, refused: [], finishes: { r1: 'ok' } });
      expect(gw.currentUrl).toBe(rm.url);
      await gw.report(batchFor('r2'));
      expect(rm.paths).toEqual(['POST /api/v1/internal/reports', 'POST /api/v1/internal/reports']);
      expect((parseJson(rm.bodies[0] as string) as ReportBatch).finishes).toEqual([finish('r1')]);
    } finally {
      await rm.close();
    }
  });

  it('does not fail over on an HTTP error answer', async () => {
    const a = await fakeRm(() => [400, '{"message":"invalid ReportBatch: logs[0]: bad"}']);
    const b = await fakeRm(() => [200, '{}']);
    try {
      const gw = new RmGateway([a.url, b.url], { timeoutMs: 2000 });
      await expect(gw.report(batchFor('r1'))).rejects.toMatchObject({
        status: 400,
        message: 'invalid ReportBatch: logs[0]: bad',
      });
      expect(b.paths).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails with a network error when no RM is reachable', async () => {
    const gw = new RmGateway([await deadUrl(), await deadUrl()], { timeoutMs: 2000 });
    await expect(gw.report(batchFor('r1'))).rejects.toMatchObject({ status: undefined });
  });

  it('serves an RM without the report endpoint (404) the single calls, in the same order and with the same outcomes', async () => {
    const rm = await fakeRm((p) => {
      if (p === 'POST /api/v1/internal/reports') return [404, '{"message":"Not Found"}'];
      if (p === 'PUT /api/v1/requests/gone/finish') return [404, '{"message":"request gone not found"}'];
      if (p === 'PUT /api/v1/requests/done/finish') return [409, '{"message":"request done in state FAIL"}'];
      if (p === 'PUT /api/v1/requests/p/progress') return [409, '{"message":"not running"}'];
      return [p.startsWith('POST') ? 201 : 200, '{}'];
    });
    try {
      const gw = new RmGateway([rm.url], { timeoutMs: 2000 });
      const batch = { ...batchFor('r1'), finishes: [finish('r1'), finish('gone'), finish('done')] };
      expect((await gw.report(batch)).finishes).toEqual({ r1: 'ok', gone: 'not_found', done: 'not_running' });
      expect(rm.paths).toEqual([
        'POST /api/v1/internal/reports',
        'POST /api/v1/job-logs',
        'PUT /api/v1/requests/p/progress',
        'PUT /api/v1/requests/r1/finish',
        'PUT /api/v1/requests/gone/finish',
        'PUT /api/v1/requests/done/finish',
      ]);
      // Remembered for a while: the next batch goes straight to the single calls.
      await gw.report({ logs: [], progress: [], finishes: [finish('r2')] });
      expect(rm.paths.slice(6)).toEqual(['PUT /api/v1/requests/r2/finish']);
    } finally {
      await rm.close();
    }
  });
});
