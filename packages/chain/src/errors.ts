/**
 * Errors of `buildJobChain`. Everything a caller can cause (bad type, bad args,
 * args a job rejects, a conditional or `each:` that cannot be resolved with the
 * given args) is a ChainBuildError, hence a BadRequestError (HTTP 400). Faults
 * of the server itself (a job factory that cannot make a type the specs name, a
 * job whose serialize fails, a broken graph invariant) are 500s.
 */
import { BadRequestError, SpinCycleError } from '@spincycle/protocol';

/** Where in the request a build error happened. */
export interface ErrorContext {
  /** The request type. */
  requestType: string;
  /** Innermost sequence being built, when the error is about a node. */
  sequence?: string;
  /** Innermost node, when the error is about a node. */
  node?: string;
  /** The arg the error is about, when there is one. */
  arg?: string;
  cause?: unknown;
}

/**
 * Base class of every bad-input error of the chain builder (HTTP 400). Thrown
 * as such for node-level problems: a conditional with no matching branch and no
 * `default`, an `if` arg that is missing or not a string, an `each:` list that
 * is missing, not a list, or of a different length than its siblings, a node
 * input missing from the job args, a job that did not set an arg its node
 * declares in `sets`.
 */
export class ChainBuildError extends BadRequestError {
  override readonly code: string = 'chain_build';
  readonly requestType: string;
  readonly sequence: string | undefined;
  readonly node: string | undefined;
  readonly arg: string | undefined;
  constructor(message: string, ctx: ErrorContext) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.requestType = ctx.requestType;
    this.sequence = ctx.sequence;
    this.node = ctx.node;
    this.arg = ctx.arg;
  }
}

/** The request type is empty or no sequence has that name. */
export class UnknownRequestTypeError extends ChainBuildError {
  override readonly code: string = 'unknown_request_type';
}

/** The sequence exists but is not `request: true`. */
export class NotARequestError extends ChainBuildError {
  override readonly code: string = 'not_a_request';
}

/** A required request arg was not given. */
export class MissingArgError extends ChainBuildError {
  override readonly code: string = 'missing_arg';
}

/** A given arg is neither a required nor an optional arg of the request. */
export class UndeclaredArgError extends ChainBuildError {
  override readonly code: string = 'undeclared_arg';
}

/** A given arg is a static arg of the request; static args cannot be set by callers. */
export class StaticArgError extends ChainBuildError {
  override readonly code: string = 'static_arg';
}

/** An arg value is not a string, number, boolean, or flat list of those (or args is not an object). */
export class ArgTypeError extends ChainBuildError {
  override readonly code: string = 'arg_type';
}

/**
 * A caller-given value does not match its arg's `pattern` (full match). The
 * message names the request type, the arg and the pattern, never the value
 * (the arg may be secret).
 */
export class ArgPatternError extends ChainBuildError {
  override readonly code: string = 'arg_pattern';
}

/**
 * The chain would have more jobs than the builder's `maxJobs`. Thrown as soon
 * as the limit is passed (or, for an `each:` expansion, as soon as its list is
 * known to pass it), so a huge request costs no more than the limit to refuse.
 */
export class TooManyJobsError extends ChainBuildError {
  override readonly code: string = 'too_many_jobs';
  readonly maxJobs: number;
  /** Elements of the `each:` list that expanded (`arg`), or jobs made so far when no expansion was under way. */
  readonly count: number;
  constructor(message: string, ctx: ErrorContext & { maxJobs: number; count: number }) {
    super(message, ctx);
    this.maxJobs = ctx.maxJobs;
    this.count = ctx.count;
  }
}

/** A job's `create` threw or rejected: the job refused its args. */
export class JobCreateError extends ChainBuildError {
  override readonly code: string = 'job_create';
  readonly jobType: string;
  readonly jobName: string;
  constructor(message: string, ctx: ErrorContext & { jobType: string; jobName: string }) {
    super(message, ctx);
    this.jobType = ctx.jobType;
    this.jobName = ctx.jobName;
  }
}

/**
 * The job factory could not make a job type the specs use, or a job's
 * `serialize` failed: a server configuration or job bug, HTTP 500.
 */
export class JobFactoryError extends SpinCycleError {
  override readonly code: string = 'job_factory';
  readonly jobType: string;
  readonly jobName: string;
  constructor(message: string, jobType: string, jobName: string, cause: unknown) {
    super(message, { cause });
    this.jobType = jobType;
    this.jobName = jobName;
  }
}

/** Text of a thrown value, for wrapping it into a message. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return String(err);
  } catch {
    return 'unknown error';
  }
}
