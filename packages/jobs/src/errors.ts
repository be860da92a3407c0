/** Typed errors of the jobs package. */
import { BadRequestError, SpinCycleError } from '@spincycle/protocol';

/** Short, single-line rendering of an arg value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'function') return 'a function';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/**
 * Thrown by a job's `create` when an arg is missing or unusable. A
 * BadRequestError, so the RM answers 400 and the message names the arg.
 */
export class JobArgError extends BadRequestError {
  override readonly code: string = 'job_arg';
  constructor(
    /** Name of the offending arg (`env.HOME` for a member of an object arg). */
    readonly arg: string,
    /** The value that was rejected (`undefined` when missing). */
    readonly value: unknown,
    /** What is wrong, e.g. `must be a non-empty string`. */
    readonly problem: string,
  ) {
    super(
      value === undefined
        ? `arg ${arg}: ${problem} (it is missing)`
        : `arg ${arg}: ${problem}, got ${describeValue(value)}`,
    );
  }
}

/**
 * Thrown by service-kit's `loadJobFactory` when the configured `jobs.module` cannot be found,
 * fails to load, or exports no usable job factory. A server fault (500): it
 * happens at boot, from config.
 */
export class JobModuleError extends SpinCycleError {
  override readonly code: string = 'job_module';
  constructor(
    /** The module as written in config. */
    readonly moduleSpec: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`jobs.module "${moduleSpec}": ${message}`, options);
  }
}
