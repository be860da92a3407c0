// Types and states job authors need, so a job module can depend on this package alone.
export type { JobArgs, JobData, StateValue } from '@spincycle/protocol';
export { State } from '@spincycle/protocol';
export {
  optionalCount,
  optionalMillis,
  optionalString,
  optionalStringList,
  optionalStringMap,
  requiredMillis,
  requiredString,
} from './args.js';
export { BaseJob } from './base-job.js';
export {
  BUILTIN_JOB_TYPES,
  type BuiltinJobOptions,
  builtinJobFactory,
  createBuiltinJobFactory,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_OUTPUT,
  DEFAULT_SHELL_TIMEOUT_MS,
  NoopJob,
  type ShellCommandArgs,
  ShellCommandJob,
  type ShellCommandOptions,
  type SleepArgs,
  SleepJob,
  SplitJob,
  TailBuffer,
  truncateTail,
} from './builtin/index.js';
export { formatDuration, MAX_MILLIS, toMillis } from './duration.js';
export { describeValue, JobArgError, JobModuleError } from './errors.js';
export {
  assertJob,
  composeFactories,
  isUnknownJobTypeError,
  type JobMaker,
  type JobMakers,
  jobFactoryFromMap,
} from './factory.js';
export { type Job, type JobFactory, type JobId, type JobReturn, UnknownJobTypeError } from './job.js';
export { factoryFromModule } from './load.js';
