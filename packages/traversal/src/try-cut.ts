/**
 * Cutting one try short: on a timeout (the job's own, or its sequence's or request's
 * deadline) the job's `stop` is called, as a user stop does (shell-command then sends
 * SIGTERM to its process group and SIGKILL after its kill grace). A job that has not
 * returned `graceMs` after that is given up on: the try ends without it, so a stuck job
 * cannot hold its chain for ever (its instance is never run again).
 */
import type { Job, JobReturn } from '@spincycle/jobs';

export class TryCut {
  /** Why the try was cut; undefined while it was not. */
  reason: string | undefined;
  /** Whether the job did not return within the grace after its stop. */
  gaveUp = false;
  private timer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private giveUp: (() => void) | undefined;

  constructor(
    private readonly job: Job,
    readonly graceMs: number,
  ) {}

  /** Cut the try after `ms` with `reason`. */
  after(ms: number, reason: string): void {
    this.timer = setTimeout(() => this.cut(reason), ms);
  }

  /** Cut the try now: stop the job, and stop waiting for it after the grace. Once only. */
  cut(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    if (this.timer) clearTimeout(this.timer);
    this.graceTimer = setTimeout(() => {
      this.gaveUp = true;
      this.giveUp?.();
    }, this.graceMs);
    try {
      // A stop that throws or rejects changes nothing: the grace still bounds the wait.
      const r = this.job.stop() as unknown;
      if (r instanceof Promise) r.catch(() => undefined);
    } catch {
      // see above
    }
  }

  /** The try's result, or `undefined` when the job was given up on. */
  race(run: Promise<JobReturn> | JobReturn): Promise<JobReturn | undefined> {
    // One promise settled by whichever comes first (a try per job: no Promise.race set-up).
    return new Promise<JobReturn | undefined>((resolve, reject) => {
      this.giveUp = () => resolve(undefined);
      Promise.resolve(run).then(resolve, reject);
    });
  }

  /** The try is over: no more timers. */
  done(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.giveUp = undefined;
  }
}
