/** The traversal rules of a job chain, shared by the Job Runner and the testing kit. */
export {
  type BackoffPolicy,
  backoffPolicy,
  type RetryWaitObserver,
  retryWaitMs,
  sequenceRetryWaitMs,
} from './backoff.js';
export { ChainState, type Counters, type JobNode } from './chain-state.js';
export {
  type ChainKind,
  indexJobChain,
  type ValidChain,
  type ValidSuspendedChain,
  validateJobChain,
  validateSuspendedJobChain,
} from './chain-validation.js';
export {
  type ChainOutcome,
  deliverFinal,
  deliverFinalOrLog,
  type FinalDeadlines,
  finalState,
  logDrop,
} from './final-delivery.js';
export { creationFailureEntry, makeJob, unstartedFailEntry } from './job-creation.js';
export { copyData, decodeBytes, isPromise, passData, withTimeout } from './job-data.js';
export { JobSlots, type Room, type SlotTicket } from './job-slots.js';
export { PendingStarts } from './pending-starts.js';
export {
  type ChainReporter,
  type Delivery,
  type DeliveryOptions,
  type JobTryHook,
  silentTraversalLogger,
  type TraversalLogger,
} from './reporting.js';
export { errorText, JobRunner, normalizeReturn, type RunnerOptions, type RunnerResult } from './runner.js';
export { heldJobs, runningStatus } from './runner-status.js';
export { type PendingRetry, SequenceRetries, sequenceRegion } from './sequence-retry.js';
export { ChainTimeouts, sequenceLabel, type TimeoutHost } from './timeouts.js';
export { Traverser } from './traverser.js';
export type { TraverserDeps } from './traverser-deps.js';
export { TryCut } from './try-cut.js';
