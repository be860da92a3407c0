/**
 * A base class that keeps user jobs short: id handling, JSON (de)serialization
 * of the validated args, a status line, and stop handling with an AbortSignal.
 *
 * A subclass usually writes only `parseArgs` (validate in `create`, RM side)
 * and `run` (JR side), reading its args from `this.args` in both places.
 */
import { type JobArgs, type JobData, parseJsonText, State, stringifyJson } from '@spincycle/protocol';
import type { Job, JobId, JobReturn } from './job.js';
import { startTimer } from './timer.js';

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export abstract class BaseJob<A extends object = Record<string, unknown>> implements Job {
  /** Validated args: set by `create` on the RM and by `deserialize` on the JR. */
  protected args: A = {} as A;
  private statusLine = '';
  private stopFlag = false;
  private abortCtl: AbortController | undefined;

  constructor(protected readonly jobId: JobId) {}

  id(): JobId {
    return this.jobId;
  }

  /** Validates `jobArgs` through `parseArgs` and keeps the result as `this.args`. */
  create(jobArgs: JobArgs): void | Promise<void> {
    this.args = this.parseArgs(jobArgs);
  }

  /**
   * Turn the request's job args into this job's args; throw JobArgError (see
   * the readers in args.ts) to reject them. May add keys to `jobArgs` to set
   * args for later nodes. The default keeps nothing.
   */
  protected parseArgs(_jobArgs: JobArgs): A {
    return {} as A;
  }

  /** `this.args` as JSON bytes; empty bytes when there are no args. */
  serialize(): Uint8Array {
    for (const _ in this.args) return encoder.encode(stringifyJson(this.args));
    return EMPTY;
  }

  /** Restores `this.args` from what `serialize` produced. */
  deserialize(bytes: Uint8Array): void {
    this.args = bytes.length === 0 ? ({} as A) : this.restoreArgs(parseJsonText(decoder.decode(bytes)));
  }

  /** Hook to check or convert the decoded JSON of `deserialize`; default: use as is. */
  protected restoreArgs(value: unknown): A {
    return value as A;
  }

  abstract run(jobData: JobData): Promise<JobReturn>;

  /** Flags the stop, aborts `this.signal`, then calls `onStop` once. Idempotent. */
  stop(): void {
    if (this.stopFlag) return;
    this.stopFlag = true;
    this.abortCtl?.abort();
    this.onStop();
  }

  /** Hook called once by the first `stop()`: make `run` return soon. */
  protected onStop(): void {}

  /** Whether `stop()` was called. */
  protected get stopRequested(): boolean {
    return this.stopFlag;
  }

  /** Aborted when `stop()` is called; pass it to APIs that accept one. */
  protected get signal(): AbortSignal {
    if (!this.abortCtl) {
      this.abortCtl = new AbortController();
      if (this.stopFlag) this.abortCtl.abort();
    }
    return this.abortCtl.signal;
  }

  /** Waits `ms` milliseconds or until stopped. Resolves `true` if the full time passed. */
  protected wait(ms: number): Promise<boolean> {
    if (this.stopFlag) return Promise.resolve(false);
    const signal = this.signal;
    return new Promise((resolve) => {
      const onAbort = (): void => {
        cancel();
        resolve(false);
      };
      const cancel = startTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The status line last set with `setStatus`. Override for a computed status. */
  status(): string {
    return this.statusLine;
  }

  protected setStatus(line: string): void {
    this.statusLine = line;
  }

  /** A COMPLETE return (exit 0). */
  protected complete(extra?: Partial<JobReturn>): JobReturn {
    return { exit: 0, ...extra, state: State.COMPLETE };
  }

  /** A FAIL return with `error` (exit 1 unless given). */
  protected fail(error: string, extra?: Partial<JobReturn>): JobReturn {
    return { exit: 1, ...extra, error, state: State.FAIL };
  }

  /** A STOPPED return (exit 1 unless given). */
  protected stopped(extra?: Partial<JobReturn>): JobReturn {
    return { exit: 1, error: 'stopped', ...extra, state: State.STOPPED };
  }
}
