/**
 * The chain builder's entry point: turns a request type and its args into the
 * request's immutable job chain.
 *
 * Speed matters (a fan-out over thousands of hosts must build in well under a
 * second), hence: a per-sequence plan computed once and cached (plan.ts), edges
 * appended in O(1) and verified once at the end (graph.ts), and a synchronous
 * build that only turns asynchronous when a job does (drive.ts).
 */
import type { JobChain, RequestArg } from '@spincycle/protocol';
import { Builder } from './builder.js';
import type { JobFactory, SpecSet } from './deps.js';
import { drive, isThenable } from './drive.js';
import { pair } from './plan.js';
import { type ResolvedArgs, requestSequence, resolveRequestArgs } from './request-args.js';
import { newRequestId } from './request-id.js';

/** The default of `maxJobs`: the most jobs one request's chain may have. */
export const DEFAULT_MAX_JOBS = 100_000;

export interface BuildJobChainInput {
  /** Parsed, checked specs. */
  specs: SpecSet;
  /** Request type: the name of a `request: true` sequence. */
  type: string;
  /** The caller's args. */
  args: Record<string, unknown>;
  /** Makes the jobs; must make `noop` (the structural begin/end jobs) and every type the specs name. */
  factory: JobFactory;
  /** Use this request id instead of generating one. */
  requestId?: string;
  /**
   * Most jobs the chain may have (default DEFAULT_MAX_JOBS). Building stops
   * with a TooManyJobsError (HTTP 400) as soon as it would be exceeded.
   */
  maxJobs?: number;
  /** `resolveRequestArgs` of these specs, type and args when the caller already has it (not resolved again). */
  resolved?: ResolvedArgs;
}

export interface BuiltJobChain {
  requestId: string;
  chain: JobChain;
  requestArgs: RequestArg[];
  /** Names of the request's args declared `secret: true` (see secretArgNames). */
  secretArgs: string[];
}

/**
 * Builds the job chain of a new request. Throws a ChainBuildError subclass
 * (HTTP 400) for bad input, JobFactoryError or a plain Error (HTTP 500) for
 * server faults.
 */
export async function buildJobChain(input: BuildJobChainInput): Promise<BuiltJobChain> {
  const seq = requestSequence(input.specs, input.type);
  const { requestArgs, jobArgs, secretArgs } = input.resolved ?? resolveRequestArgs(seq, input.args);
  const requestId = input.requestId ?? newRequestId();
  const maxJobs = input.maxJobs ?? DEFAULT_MAX_JOBS;
  if (!Number.isSafeInteger(maxJobs) || maxJobs < 1)
    throw new RangeError(`maxJobs must be a positive integer, got ${maxJobs}`);
  const builder = new Builder({
    specs: input.specs,
    factory: input.factory,
    requestId,
    requestType: seq.name,
    maxJobs,
  });
  const result = drive(
    builder.sequence({
      seqName: seq.name,
      wrapper: pair(`request_${seq.name}`),
      args: jobArgs,
      seqRetry: 0,
      seqRetryWait: '0s',
    }),
  );
  const top = isThenable(result) ? await result : result;
  builder.graph.verify(top.begin, top.end);
  // The request's `timeout` travels on the chain: the JR stops the whole request when it passes.
  return { requestId, chain: builder.graph.toChain(requestId, seq.timeout), requestArgs, secretArgs };
}
