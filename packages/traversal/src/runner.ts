/**
 * Runs one job's tries: job-level retries with `retryWait` (and its backoff),
 * one job-log entry per try, stop handling, and the try timeout (`timeout`):
 * a try that runs longer is stopped through the job's `stop` and ends FAIL
 * "timed out after …" (try-cut.ts). Every call into the job is
 * guarded: a job that throws, returns nothing or returns a non-final state
 * fails that try with the reason in its job log; it never escapes.
 */
import type { Job, JobReturn } from '@spincycle/jobs';
import { type JobData, type JobLog, nowNanos, State, type StateValue, stateName } from '@spincycle/protocol';
import { type RetryWaitObserver, retryWaitMs } from './backoff.js';
import type { JobNode } from './chain-state.js';
import type { JobTryHook } from './reporting.js';
import { TryCut } from './try-cut.js';

export interface RunnerResult {
  /** COMPLETE, FAIL or STOPPED. */
  state: StateValue;
  /** Tries this run used (added to both try counters). */
  tries: number;
}

export interface RunnerOptions {
  requestId: string;
  node: JobNode;
  job: Job;
  /** `latestRunJobTries` of the job: tries already used from its retry budget. */
  prevTries: number;
  /** `totalJobTries` of the job: tries ever; job-log try numbers continue from it. */
  totalTries: number;
  /** Receives each try's job-log entry. */
  log: (entry: JobLog) => void;
  /** Before each further try: undefined to go on, else a wait for room in the report queue (JobSlots.room). */
  room?: () => Promise<void> | undefined;
  /**
   * A new instance of the job, for the try after a timed-out one (a stopped job
   * instance stays stopped). Without it, a timed-out try is not retried.
   */
  remake?: () => Job | Promise<Job>;
  /** How long a job may take to return after its stop, when cut by a timeout (default 10 s). */
  stopGraceMs?: number;
  /** Random numbers in [0, 1) for the backoff jitter (default Math.random). */
  random?: () => number;
  onRetryWait?: RetryWaitObserver;
  /** Called after each try (metrics). */
  onTry?: JobTryHook | undefined;
}

/** Text of anything thrown. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

interface TryOutcome {
  state: StateValue;
  exit: number;
  error: string;
  stdout: string;
  stderr: string;
}

/** Turn whatever `run` produced into a try outcome; non-final states become FAIL. */
export function normalizeReturn(ret: JobReturn | undefined, thrown: unknown, didThrow: boolean): TryOutcome {
  if (didThrow) return { state: State.FAIL, exit: 1, error: errorText(thrown), stdout: '', stderr: '' };
  if (typeof ret !== 'object' || ret === null) {
    return {
      state: State.FAIL,
      exit: 1,
      error: `job returned ${ret === null ? 'null' : typeof ret} instead of a result with a state`,
      stdout: '',
      stderr: '',
    };
  }
  const stdout = typeof ret.stdout === 'string' ? ret.stdout : '';
  const stderr = typeof ret.stderr === 'string' ? ret.stderr : '';
  const exit = typeof ret.exit === 'number' && Number.isFinite(ret.exit) ? Math.trunc(ret.exit) : 0;
  const own =
    ret.error === undefined || ret.error === null
      ? ''
      : typeof ret.error === 'string'
        ? ret.error
        : errorText(ret.error);
  const state = ret.state;
  if (state === State.COMPLETE || state === State.FAIL || state === State.STOPPED)
    return { state, exit, error: own, stdout, stderr };
  const shown =
    typeof state === 'number' ? `${stateName(state)} (${state})` : (JSON.stringify(state) ?? String(state));
  const error = `job returned state ${shown}, which is not a final state (COMPLETE, FAIL or STOPPED): treated as FAIL${own ? `; job error: ${own}` : ''}`;
  return { state: State.FAIL, exit: exit === 0 ? 1 : exit, error, stdout, stderr };
}

export class JobRunner {
  /** When the runner was created (reported as the job status `startedAt`). */
  readonly startedAt = nowNanos();
  /** The current try's job-log number. */
  globalTry: number;
  private stopRequested = false;
  private noMoreTries = false;
  private sleeping = false;
  private wake: ((full: boolean) => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private stopPromise: Promise<string | undefined> | undefined;
  private job: Job;
  /** The running try's timeout handling; undefined between tries. */
  private cut: TryCut | undefined;
  /** Set by `expire`: why the job's sequence or request ran out of time. */
  private expired: string | undefined;

  constructor(private readonly opts: RunnerOptions) {
    this.globalTry = 1 + opts.totalTries;
    this.job = opts.job;
  }

  get node(): JobNode {
    return this.opts.node;
  }

  /** Run tries until COMPLETE, STOPPED, or the retry budget is used up. */
  async run(data: JobData): Promise<RunnerResult> {
    const { node, requestId } = this.opts;
    const wire = node.job;
    const maxTries = 1 + wire.retry;
    // A budget already used up (cannot happen with consistent counters) still gets one try.
    let tryNo = Math.min(1 + this.opts.prevTries, maxTries);
    let tries = 1;
    let finalState: StateValue = State.FAIL;
    for (;;) {
      if (this.stopRequested) {
        finalState = State.STOPPED;
        break;
      }
      const startedAt = nowNanos();
      let ret: JobReturn | undefined;
      let thrown: unknown;
      let didThrow = false;
      const job = this.job;
      const cut = new TryCut(job, this.opts.stopGraceMs ?? 10_000);
      this.cut = cut;
      if (this.expired !== undefined) cut.cut(this.expired);
      else if (node.timeoutMs > 0) cut.after(node.timeoutMs, `timed out after ${wire.timeout}`);
      try {
        ret = await cut.race(job.run(data));
      } catch (err) {
        thrown = err;
        didThrow = true;
      }
      cut.done();
      this.cut = undefined;
      const finishedAt = nowNanos();
      let out: TryOutcome;
      try {
        out = normalizeReturn(ret, thrown, didThrow);
      } catch (err) {
        // e.g. a getter on the result that throws
        out = {
          state: State.FAIL,
          exit: 1,
          error: `job returned a result that cannot be read: ${errorText(err)}`,
          stdout: '',
          stderr: '',
        };
      }
      if (cut.reason !== undefined && !this.stopRequested) {
        // Cut by a timeout: the try fails whatever the stopped job returned.
        out.state = State.FAIL;
        out.exit = out.exit === 0 ? 1 : out.exit;
        out.error = cut.gaveUp
          ? `${cut.reason}; the job did not return within ${cut.graceMs} ms of its stop`
          : cut.reason;
        if (cut.gaveUp || !this.opts.remake) this.noMoreTries = true;
      }
      if (this.stopRequested && out.state !== State.STOPPED && out.state !== State.COMPLETE)
        out.state = State.STOPPED;
      this.opts.log({
        requestId,
        jobId: node.id,
        try: this.globalTry,
        name: wire.name,
        type: wire.type,
        startedAt,
        finishedAt,
        state: out.state,
        exit: out.exit,
        error: out.error,
        stdout: out.stdout,
        stderr: out.stderr,
      });
      this.opts.onTry?.(wire.type, out.state, startedAt, finishedAt);
      finalState = out.state;
      if (out.state === State.COMPLETE || out.state === State.STOPPED) break;
      if (tryNo >= maxTries || this.noMoreTries) break;
      const waitMs = retryWaitMs(node.retryBackoff, tryNo, this.opts.random);
      this.opts.onRetryWait?.({ jobId: node.id, kind: 'job', retry: tryNo, ms: waitMs });
      tries++;
      tryNo++;
      this.globalTry++;
      if (cut.reason !== undefined && !(await this.renew())) {
        // No new instance of the job: the upcoming try never happens.
        tries--;
        this.globalTry--;
        break;
      }
      const full = (waitMs <= 0 || (await this.sleep(waitMs))) && (await this.awaitRoom());
      if (!full && this.noMoreTries && !this.stopRequested) {
        // Abandoned for a sequence retry: the upcoming try never happens.
        tries--;
        this.globalTry--;
        break;
      }
    }
    return { state: finalState, tries };
  }

  /** Wait until the report queue has room for the next try's entry; false when stop or abandonRetries ended the wait. */
  private awaitRoom(): Promise<boolean> {
    const room = this.opts.room?.();
    if (!room) return Promise.resolve(true);
    if (this.stopRequested || this.noMoreTries) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = (full) => {
        this.wake = undefined;
        resolve(full);
      };
      void room.then(() => this.wake?.(true));
    });
  }

  /** A fresh instance of the job after a timed-out try; false when none can be made. */
  private async renew(): Promise<boolean> {
    try {
      const job = await this.opts.remake?.();
      if (!job) return false;
      this.job = job;
      return true;
    } catch {
      return false;
    }
  }

  private sleep(ms: number): Promise<boolean> {
    if (this.stopRequested || this.noMoreTries) return Promise.resolve(false);
    this.sleeping = true;
    return new Promise((resolve) => {
      this.wake = (full) => {
        this.sleeping = false;
        this.wake = undefined;
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
        resolve(full);
      };
      this.sleepTimer = setTimeout(() => this.wake?.(true), ms);
    });
  }

  /**
   * Stop: no further tries, end a retry sleep, and ask the job to stop.
   * Idempotent. Resolves with the job's stop error text, if any.
   */
  stop(): Promise<string | undefined> {
    if (this.stopPromise) return this.stopPromise;
    this.stopRequested = true;
    this.wake?.(false);
    this.stopPromise = (async () => {
      try {
        await this.job.stop();
        return undefined;
      } catch (err) {
        return errorText(err);
      }
    })();
    return this.stopPromise;
  }

  /**
   * The job's sequence or request ran out of time: cut the running try (it ends FAIL
   * with `reason`), or end a retry wait; no further tries.
   */
  expire(reason: string): void {
    if (this.expired !== undefined) return;
    this.expired = reason;
    this.noMoreTries = true;
    this.wake?.(false);
    this.cut?.cut(reason);
  }

  /** Finish after the current try without retrying (its sequence is about to be retried). */
  abandonRetries(): void {
    this.noMoreTries = true;
    this.wake?.(false);
  }

  /** The job's real-time status, prefixed while waiting between tries. */
  status(): string {
    let s: string;
    try {
      const v = this.job.status();
      s = typeof v === 'string' ? v : String(v ?? '');
    } catch (err) {
      s = `(status error: ${errorText(err)})`;
    }
    return this.sleeping ? `(retry sleep) ${s}` : s;
  }
}
