/** What a Traverser is given: the job factory, the reporter, the JR-wide slots, and its limits. */
import type { JobFactory } from '@spincycle/jobs';
import type { RetryWaitObserver } from './backoff.js';
import type { JobSlots } from './job-slots.js';
import type { ChainReporter, JobTryHook, TraversalLogger } from './reporting.js';

export interface TraverserDeps {
  factory: JobFactory;
  reporter: ChainReporter;
  slots: JobSlots;
  logger: TraversalLogger;
  /** Called once per job try (the Job Runner's metrics). */
  onJobTry?: JobTryHook;
  /** How long stop/suspend wait for running jobs to return before failing them (default 10 s). */
  stopBudgetMs?: number;
  /** How long a user stop waits for the finish to be delivered before answering (default 10 s). */
  stopReplyWaitMs?: number;
  /** Random numbers in [0, 1) for the retry backoff's jitter (default Math.random). */
  random?: () => number;
  /** Observes every computed retry wait (job and sequence). */
  onRetryWait?: RetryWaitObserver;
}
