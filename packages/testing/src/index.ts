export { type ChainRun, type ChainRunOptions, MemoryReporter, startChain } from './chain-run.js';
export { type JobsInput, toJobFactory } from './jobs-input.js';
export type { JobResult, JobRun, TryResult } from './results.js';
export { type RunJobOptions, type RunningJob, runJob, startJob } from './run-job.js';
export {
  loadCheckedSpecs,
  type RequestResult,
  type RunningRequest,
  type RunRequestOptions,
  runRequest,
  SpecsError,
  startRequest,
} from './run-request.js';
export type { StopCondition } from './stop.js';
