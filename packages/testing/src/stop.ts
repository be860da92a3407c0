/** Stopping a running job or request from a test: after a time, or once a condition holds. */
import type { Job } from '@spincycle/jobs';

/** Stop once this returns true; gets the job's status line and instance (undefined before it is made). */
export type StopCondition = (status: string, job: Job | undefined) => boolean;

interface Stoppable {
  readonly result: Promise<unknown>;
  job(): Job | undefined;
  status(): string;
  stop(): Promise<unknown>;
}

/** How often a stop condition is checked. */
const POLL_MS = 5;

/** Call `target.stop()` after `afterMs`, or once `when` holds, unless it ended first. */
export function stopWhen(
  target: Stoppable,
  afterMs: number | undefined,
  when: StopCondition | undefined,
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
  if (when) {
    const check = () => {
      if (ended) return;
      if (when(target.status(), target.job())) stop();
      else poll = setTimeout(check, POLL_MS);
    };
    check();
  }
  void target.result.finally(() => {
    ended = true;
    clear();
  });
}
