/** Stopping a running job or request from a test: after a time, or once a condition holds. */
import type { Job } from '@spincycle/jobs';

/** Stop once this returns true; gets a running job's status line and instance. */
export type StopCondition = (status: string, job: Job) => boolean;

interface Stoppable {
  readonly result: Promise<unknown>;
  stop(): Promise<unknown>;
}

/** How often a stop condition is checked. */
const POLL_MS = 5;

/** A job's status line; a status() that throws shows as its error, as in the JR's status answer. */
export function statusOf(job: Job): string {
  try {
    return String(job.status() ?? '');
  } catch (err) {
    return `(status error: ${(err as Error)?.message ?? String(err)})`;
  }
}

/** Call `target.stop()` after `afterMs`, or once `check()` holds, unless it ended first. */
export function stopWhen(
  target: Stoppable,
  afterMs: number | undefined,
  check: (() => boolean) | undefined,
): void {
  let ended = false;
  let after: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  const clear = () => {
    clearTimeout(after);
    clearTimeout(poll);
  };
  const stop = () => {
    clear();
    if (!ended) void target.stop();
  };
  if (afterMs !== undefined) after = setTimeout(stop, afterMs);
  if (check) {
    const tick = () => {
      if (ended) return;
      if (check()) stop();
      else poll = setTimeout(tick, POLL_MS);
    };
    tick();
  }
  void target.result.finally(() => {
    ended = true;
    clear();
  });
}
