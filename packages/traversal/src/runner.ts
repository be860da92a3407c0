/**
 * Runs one job's tries: job-level retries with `retryWait`,
 * one job-log entry per try, stop handling. Every call into the job is
 * guarded: a job that throws, returns nothing or returns a non-final state
 * fails that try with the reason in its job log; it never escapes.
 */
import type { Job, JobReturn } from '@spincycle/jobs';
import { type JobData, type JobLog, nowNanos, State, stateName } from '@spincycle/protocol';
import type { JobNode } from './chain-state.js';
import type { JobTryHook } from './reporting.js';

export interface RunnerResult {
  /** COMPLETE, FAIL or STOPPED. */
  state: number;
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
  state: number;
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

  constructor(private readonly opts: RunnerOptions) {
    this.globalTry = 1 + opts.totalTries;
  }

  get node(): JobNode {
    return this.opts.node;
  }

  /** Run tries until COMPLETE, STOPPED, or the retry budget is used up. */
  async run(data: JobData): Promise<RunnerResult> {
    const { node, job, requestId } = this.opts;
    const wire = node.job;
    const maxTries = 1 + wire.retry;
    // A budget already used up (cannot happen with consistent counters) still gets one try.
    let tryNo = Math.min(1 + this.opts.prevTries, maxTries);
    let tries = 1;
    let finalState: number = State.FAIL;
    for (;;) {
      if (this.stopRequested) {
        finalState = State.STOPPED;
        break;
      }
      const startedAt = nowNanos();
      let ret: JobReturn | undefined;
      let thrown: unknown;
      let didThrow = false;
      try {
        ret = await job.run(data);
      } catch (err) {
        thrown = err;
        didThrow = true;
      }
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
      tries++;
      tryNo++;
      this.globalTry++;
      if (node.retryWaitMs > 0) {
        const full = await this.sleep(node.retryWaitMs);
        if (!full && this.noMoreTries && !this.stopRequested) {
          // Abandoned for a sequence retry: the upcoming try never happens.
          tries--;
          this.globalTry--;
          break;
        }
      }
    }
    return { state: finalState, tries };
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
        await this.opts.job.stop();
        return undefined;
      } catch (err) {
        return errorText(err);
      }
    })();
    return this.stopPromise;
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
      const v = this.opts.job.status();
      s = typeof v === 'string' ? v : String(v ?? '');
    } catch (err) {
      s = `(status error: ${errorText(err)})`;
    }
    return this.sleeping ? `(retry sleep) ${s}` : s;
  }
}
