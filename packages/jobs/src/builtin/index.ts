/** The built-in job types, available in every RM and JR unless a user job of the same type overrides them. */
import { jobFactoryFromMap } from '../factory.js';
import type { JobFactory } from '../job.js';
import { NoopJob } from './noop.js';
import { ShellCommandJob, type ShellCommandOptions } from './shell-command.js';
import { SleepJob } from './sleep.js';
import { SplitJob } from './split.js';

export { NoopJob } from './noop.js';
export {
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_OUTPUT,
  DEFAULT_SHELL_TIMEOUT_MS,
  type ShellCommandArgs,
  ShellCommandJob,
  type ShellCommandOptions,
} from './shell-command.js';
export { type SleepArgs, SleepJob } from './sleep.js';
export { SplitJob } from './split.js';
export { TailBuffer, truncateTail } from './tail-buffer.js';

export const BUILTIN_JOB_TYPES = ['noop', 'shell-command', 'sleep', 'split'] as const;

/** Options of the built-in job types (the Job Runner sets them from its config). */
export interface BuiltinJobOptions {
  shellCommand?: ShellCommandOptions;
}

/** Makes `noop`, `sleep`, `shell-command` and `split` jobs, with `options` for those that take some. */
export function createBuiltinJobFactory(options: BuiltinJobOptions = {}): JobFactory {
  const shell = { ...options.shellCommand };
  return jobFactoryFromMap({
    noop: (id) => new NoopJob(id),
    sleep: (id) => new SleepJob(id),
    'shell-command': (id) => new ShellCommandJob(id, shell),
    split: (id) => new SplitJob(id),
  });
}

/** The built-in job types with default options. */
export const builtinJobFactory: JobFactory = createBuiltinJobFactory();
