/** The job factory a test hands the kit, made into what the services use: the user's jobs over the built-in ones. */
import {
  type BuiltinJobOptions,
  composeFactories,
  createBuiltinJobFactory,
  type JobFactory,
  type JobMakers,
  jobFactoryFromMap,
} from '@spincycle/jobs';

/** A job module's factory: a JobFactory, or a map of job type → maker (a job class or `(id) => Job`). */
export type JobsInput = JobFactory | JobMakers;

function isFactory(input: JobsInput): input is JobFactory {
  return typeof (input as JobFactory).make === 'function';
}

/**
 * As `loadJobFactory` composes a loaded `jobs.module`: the user's types first,
 * the built-in jobs (`noop`, `sleep`, `shell-command`, `split`) for the rest,
 * every made job checked to have the Job methods.
 */
export function toJobFactory(input: JobsInput, builtins: BuiltinJobOptions = {}): JobFactory {
  const user = isFactory(input) ? input : jobFactoryFromMap(input, { check: true });
  return composeFactories(user, createBuiltinJobFactory(builtins));
}
