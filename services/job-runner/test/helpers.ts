/**
 * Test support: an in-memory RM (the reporter's sink), a compact chain
 * builder, and an in-process Job Runner on port 0 loading the test jobs
 * through a real `jobs.module` file.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  ApiError,
  type FinishOutcome,
  type FinishRequest,
  type Job,
  type JobChain,
  type JobLog,
  JrClient,
  type ReportBatch,
  type ReportResult,
  type RequestProgress,
  State,
  type StateValue,
  type SuspendedJobChain,
} from '@spincycle/protocol';
import { createLogger, type Logger, silentLogger } from '@spincycle/service-kit';
import { until } from '../../../test/support/until.js';
import { type JobRunnerOptions, type RunningJobRunner, startJobRunner } from '../src/app.js';
import { loadJrConfig } from '../src/config.js';
import type { RmSink } from '../src/reporter.js';

export const TEST_JOBS = fileURLToPath(new URL('./fixtures/test-jobs.mjs', import.meta.url));

/** Quiet unless SPINCYCLE_TEST_LOG_LEVEL is set. */
export function testLogger(): Logger {
  const level = process.env.SPINCYCLE_TEST_LOG_LEVEL;
  return level ? createLogger({ service: 'job-runner-test', level, format: 'json' }) : silentLogger();
}

type Op = 'report' | 'suspend';

/** What the in-memory RM saw, in order. */
export type SinkEvent =
  | { op: 'logs'; entries: JobLog[] }
  | { op: 'finish'; body: FinishRequest }
  | { op: 'suspend'; body: SuspendedJobChain }
  | { op: 'progress'; body: RequestProgress };

/**
 * An in-memory RM. `fault` may return an error to throw for a call before it
 * is applied (network errors: ApiError with no status), `faultAfter` one to
 * throw after it was applied (the answer lost). Like the real RM it stores an
 * entry once, applies a report's entries, then progress, then finishes, and
 * answers a repeated identical finish `ok`; `outcome` can answer finishes
 * otherwise.
 */
export class RecordingSink implements RmSink {
  readonly events: SinkEvent[] = [];
  /** Every report call that reached the RM, as sent. */
  readonly reports: ReportBatch[] = [];
  readonly attempts: Record<Op, number> = { report: 0, suspend: 0 };
  fault: ((op: Op, body: unknown) => Error | undefined) | undefined;
  faultAfter: ((op: Op, body: unknown) => Error | undefined) | undefined;
  outcome: ((f: FinishRequest) => FinishOutcome | undefined) | undefined;
  delayMs = 0;
  private readonly finalStates = new Map<string, number>();
  private readonly waiters: Array<() => void> = [];

  private async enter(op: Op, body: unknown): Promise<void> {
    this.attempts[op]++;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const err = this.fault?.(op, body);
    if (err) throw err;
  }

  private record(e: SinkEvent): void {
    this.events.push(e);
    for (const w of this.waiters.splice(0)) w();
  }

  async report(batch: ReportBatch): Promise<ReportResult> {
    await this.enter('report', batch);
    this.reports.push(structuredClone(batch));
    let inserted = 0;
    if (batch.logs.length > 0) {
      // A real RM ignores exact duplicates.
      const have = new Set(this.logs().map((l) => `${l.requestId}/${l.jobId}/${l.try}`));
      const fresh = batch.logs.filter((e) => !have.has(`${e.requestId}/${e.jobId}/${e.try}`));
      inserted = fresh.length;
      this.record({ op: 'logs', entries: structuredClone(fresh) });
    }
    for (const p of batch.progress)
      if (!this.finalStates.has(p.requestId)) this.record({ op: 'progress', body: structuredClone(p) });
    const finishes: Record<string, FinishOutcome> = {};
    for (const f of batch.finishes) {
      const forced = this.outcome?.(f);
      if (forced !== undefined) {
        finishes[f.requestId] = forced;
        continue;
      }
      const had = this.finalStates.get(f.requestId);
      if (had === undefined) {
        this.finalStates.set(f.requestId, f.state);
        this.record({ op: 'finish', body: structuredClone(f) });
        finishes[f.requestId] = 'ok';
      } else finishes[f.requestId] = had === f.state ? 'ok' : 'not_running';
    }
    const err = this.faultAfter?.('report', batch);
    if (err) throw err;
    return { inserted, refused: [], finishes };
  }
  async suspend(body: SuspendedJobChain): Promise<void> {
    await this.enter('suspend', body);
    this.record({ op: 'suspend', body: structuredClone(body) });
    const err = this.faultAfter?.('suspend', body);
    if (err) throw err;
  }

  logs(requestId?: string): JobLog[] {
    const out: JobLog[] = [];
    for (const e of this.events)
      if (e.op === 'logs')
        for (const l of e.entries) if (!requestId || l.requestId === requestId) out.push(l);
    return out;
  }

  /** Log entries of one job, by try. */
  jobLogs(requestId: string, jobId: string): JobLog[] {
    return this.logs(requestId)
      .filter((l) => l.jobId === jobId)
      .sort((a, b) => a.try - b.try);
  }

  finishes(requestId?: string): FinishRequest[] {
    return this.events.flatMap((e) =>
      e.op === 'finish' && (!requestId || e.body.requestId === requestId) ? [e.body] : [],
    );
  }

  suspends(requestId?: string): SuspendedJobChain[] {
    return this.events.flatMap((e) =>
      e.op === 'suspend' && (!requestId || e.body.requestId === requestId) ? [e.body] : [],
    );
  }

  /** Wait for a condition on what was recorded. */
  async until<T>(get: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = get();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${what}; events: ${JSON.stringify(this.events.map((e) => e.op))}`,
        );
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The finish of a request (waits for it). */
  finished(requestId: string, timeoutMs = 10_000): Promise<FinishRequest> {
    return this.until(() => this.finishes(requestId)[0], timeoutMs, `finish of ${requestId}`);
  }

  suspended(requestId: string, timeoutMs = 10_000): Promise<SuspendedJobChain> {
    return this.until(() => this.suspends(requestId)[0], timeoutMs, `suspend of ${requestId}`);
  }
}

export function networkError(what = 'connect ECONNREFUSED'): ApiError {
  return new ApiError(what, undefined, undefined);
}

export function httpError(status: number, message = `HTTP ${status}`): ApiError {
  return new ApiError(message, status, { message });
}

let counter = 0;
/** A request id unique in this test run. */
export function reqId(prefix = 'req'): string {
  counter++;
  return `${prefix}${process.pid}x${counter}${Math.random().toString(36).slice(2, 6)}`;
}

export interface JobSpec {
  id: string;
  type?: string;
  name?: string;
  args?: Record<string, unknown>;
  retry?: number;
  retryWait?: string;
  /** Sequence start id; default: the first job's id. */
  seq?: string;
  seqRetry?: number;
  seqRetryWait?: string;
  /** Wire fields set as given (`timeout`, `retryBackoff`, `sequenceTimeout`, …). */
  wire?: Partial<Job>;
  state?: StateValue;
  data?: Record<string, unknown>;
}

function b64json(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64');
}

/** A job chain from compact job specs and edges. */
export function makeChain(
  requestId: string,
  specs: JobSpec[],
  edges: Record<string, string[]> = {},
  extra: Partial<JobChain> = {},
): JobChain {
  const jobs: Record<string, Job> = {};
  const first = specs[0]?.id ?? '';
  for (const s of specs) {
    const job: Job = {
      id: s.id,
      name: s.name ?? s.id,
      type: s.type ?? 'noop',
      state: s.state ?? State.PENDING,
      retry: s.retry ?? 0,
      sequenceId: s.seq ?? first,
      sequenceRetry: s.seqRetry ?? 0,
    };
    if (s.args) {
      job.args = s.args;
      job.bytes = b64json(s.args);
    }
    if (s.retryWait) job.retryWait = s.retryWait;
    if (s.seqRetryWait) job.sequenceRetryWait = s.seqRetryWait;
    if (s.data) job.data = s.data;
    if (s.wire) Object.assign(job, s.wire);
    jobs[s.id] = job;
  }
  return { requestId, jobs, adjacencyList: edges, state: State.PENDING, finishedJobs: 0, ...extra };
}

/** A line of jobs a → b → c … */
export function line(ids: string[]): Record<string, string[]> {
  const edges: Record<string, string[]> = {};
  for (let i = 0; i + 1 < ids.length; i++) edges[ids[i] as string] = [ids[i + 1] as string];
  return edges;
}

export interface TestJr extends RunningJobRunner {
  sink: RecordingSink;
  client: JrClient;
  close(): Promise<void>;
}

/** An in-process JR on 127.0.0.1:0 with the test jobs module and an in-memory RM. */
export async function startTestJr(
  opts: {
    sink?: RecordingSink;
    maxConcurrent?: number;
    graceMs?: number;
    config?: Record<string, unknown>;
  } & Partial<Omit<JobRunnerOptions, 'config' | 'logger' | 'sink'>> = {},
): Promise<TestJr> {
  const sink = opts.sink ?? new RecordingSink();
  const config = loadJrConfig(
    [],
    {},
    {
      'server.addr': '127.0.0.1:0',
      'jobs.module': TEST_JOBS,
      'jobs.max_concurrent': opts.maxConcurrent ?? 0,
      'shutdown.grace': `${opts.graceMs ?? 5000}ms`,
      ...opts.config,
    },
  );
  const jr = await startJobRunner({
    config,
    logger: testLogger(),
    sink,
    stopBudgetMs: opts.stopBudgetMs,
    random: opts.random,
    onRetryWait: opts.onRetryWait,
    progressIntervalMs: opts.progressIntervalMs,
    reporterOptions: opts.reporterOptions ?? { retryBaseMs: 20, retryMaxMs: 200 },
    heartbeat: opts.heartbeat,
  });
  const client = new JrClient({ baseURL: jr.url, retry: { attempts: 1 } });
  return {
    ...jr,
    sink,
    client,
    async close() {
      // Stop whatever still runs, then close.
      await Promise.all(jr.registry.list().map((t) => t.stop().catch(() => undefined)));
      jr.reporter.close();
      await jr.server.close();
    },
  };
}

/** Starts a chain of `jobs` (and `edges`, as in makeChain) on `jr` under a fresh request id; returns the id. */
export async function startChain(
  jr: TestJr,
  jobs: JobSpec[],
  edges: Record<string, string[]> = {},
): Promise<string> {
  const id = reqId();
  await jr.client.startChain(makeChain(id, jobs, edges));
  return id;
}

/** Starts a chain as startChain does and waits for its finish. */
export async function runChain(
  jr: TestJr,
  jobs: JobSpec[],
  edges: Record<string, string[]> = {},
): Promise<{ id: string; finish: FinishRequest }> {
  const id = await startChain(jr, jobs, edges);
  return { id, finish: await jr.sink.finished(id) };
}

/** Gate control of the t-gate jobs (same process). */
export async function openGate(requestId: string, jobId: string, result?: unknown): Promise<void> {
  const mod = (await import(TEST_JOBS)) as { openGate: (r: string, j: string, res?: unknown) => void };
  mod.openGate(requestId, jobId, result);
}

export async function runCount(requestId: string, jobId: string): Promise<number> {
  const mod = (await import(TEST_JOBS)) as { runCount: (r: string, j: string) => number };
  return mod.runCount(requestId, jobId);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `cond` holds (the shared `until`, with the JR tests' argument order and 10 ms step). */
export const waitFor = <T>(
  cond: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> => until(what, cond, { timeoutMs, everyMs: 10 });

/** Summaries of log entries: `jobId:try:STATE`. */
export function summary(logs: JobLog[]): string[] {
  const names = ['UNKNOWN', 'PENDING', 'RUNNING', 'COMPLETE', 'FAIL', 'RESERVED', 'STOPPED', 'SUSPENDED'];
  return logs.map((l) => `${l.jobId}:${l.try}:${names[l.state] ?? l.state}`);
}

/** An RM over HTTP that answers as told (for the JR's real RmGateway). */
export interface FakeRm {
  url: string;
  /** `METHOD /path` of every call, in order. */
  paths: string[];
  bodies: string[];
  /** The `X-Spincycle-Job-Runner` header of every call. */
  jobRunners: Array<string | undefined>;
  close(): Promise<void>;
}

export async function fakeRm(answer: (path: string, body: string) => [number, string]): Promise<FakeRm> {
  const paths: string[] = [];
  const bodies: string[] = [];
  const jobRunners: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const p = `${req.method} ${req.url}`;
      paths.push(p);
      bodies.push(body);
      const jr = req.headers['x-spincycle-job-runner'];
      jobRunners.push(typeof jr === 'string' ? jr : undefined);
      const [status, text] = answer(p, body);
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    bodies,
    jobRunners,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
