/**
 * A whole request in-process: the specs checked as the Request Manager checks
 * them at boot, the chain built by the real chain builder (@spincycle/chain),
 * then run by the Job Runner's traversal (@spincycle/traversal) — deps,
 * retries, sequence retries, conditionals and `each` all behave as deployed.
 */
import { buildJobChain } from '@spincycle/chain';
import type { BuiltinJobOptions, JobFactory } from '@spincycle/jobs';
import { type RequestArg, stateName } from '@spincycle/protocol';
import { formatDiagnostic, jobTypeChecks, lintDir, type SpecSet } from '@spincycle/spec';
import { type ChainRun, type ChainRunOptions, startChain } from './chain-run.js';
import { type JobsInput, toJobFactory } from './jobs-input.js';
import type { JobRun } from './results.js';
import { type StopCondition, statusOf, stopWhen } from './stop.js';

export interface RunRequestOptions extends ChainRunOptions {
  /** Use this request id (default: a new one). */
  requestId?: string;
  /** Most jobs the chain may have (the RM's `limits.max_jobs`; default that of the chain builder). */
  maxJobs?: number;
  /** Options of the built-in jobs (e.g. `shell-command` limits). */
  builtins?: BuiltinJobOptions;
  /** Stop the request this long after it started. */
  stopAfterMs?: number;
  /** Stop the request once this holds for some running job (checked every few ms). */
  stopWhen?: StopCondition;
}

/** The outcome of `runRequest`. */
export interface RequestResult {
  requestId: string;
  /** The request's final state: COMPLETE, FAIL or STOPPED (`State.*`). */
  state: number;
  stateName: string;
  /** The request's args as the RM records them. */
  requestArgs: RequestArg[];
  /** Every job of the chain (sequence begin/end `noop` jobs included), in topological order. */
  jobs: JobRun[];
  /** The one job named `name` (a spec node name); throws when there is none or more than one (`each`). */
  job(name: string): JobRun;
  /** Every job named `name`, e.g. the jobs an `each` expanded to. */
  jobsNamed(name: string): JobRun[];
}

/** A request started with `startRequest`. */
export interface RunningRequest {
  readonly requestId: string;
  readonly result: Promise<RequestResult>;
  /** Stop the request as `spinc stop` would; resolves with the result. */
  stop(): Promise<RequestResult>;
}

/** The specs had errors (`spinc-lint` would report the same). */
export class SpecsError extends Error {
  constructor(
    readonly specsDir: string,
    readonly problems: string[],
  ) {
    super(`specs in ${specsDir} have errors:\n${problems.join('\n')}`);
    this.name = 'SpecsError';
  }
}

/** Load and check the specs as the RM does, plus the job types against the factory (`spinc-lint --jobs-module`). */
export async function loadCheckedSpecs(specsDir: string, factory: JobFactory): Promise<SpecSet> {
  const result = await lintDir(specsDir);
  const errors = [...result.diagnostics, ...jobTypeChecks(result.specs, factory)].filter(
    (d) => d.severity === 'error',
  );
  if (errors.length > 0) throw new SpecsError(specsDir, errors.map(formatDiagnostic));
  return result.specs;
}

function requestResult(run: ChainRun, state: number, requestArgs: RequestArg[]): RequestResult {
  const jobs = run.jobs();
  const jobsNamed = (name: string) => jobs.filter((j) => j.name === name);
  return {
    requestId: run.traverser.requestId,
    state,
    stateName: stateName(state),
    requestArgs,
    jobs,
    jobsNamed,
    job(name) {
      const found = jobsNamed(name);
      if (found.length !== 1) {
        const names = [...new Set(jobs.map((j) => j.name))].join(', ');
        throw new Error(`${found.length} jobs named "${name}" (jobs: ${names})`);
      }
      return found[0] as JobRun;
    },
  };
}

/** Build request `type` with `args` and start running it (see `runRequest`). */
export async function startRequest(
  specsDir: string,
  type: string,
  args: Record<string, unknown>,
  jobs: JobsInput,
  opts: RunRequestOptions = {},
): Promise<RunningRequest> {
  const factory = toJobFactory(jobs, opts.builtins);
  const specs = await loadCheckedSpecs(specsDir, factory);
  // Bad args and a throw from a job's create reject here, as the RM answers them with 400.
  const built = await buildJobChain({
    specs,
    type,
    args,
    factory,
    requestId: opts.requestId,
    maxJobs: opts.maxJobs,
  });
  const run = startChain(built.chain, factory, opts);
  const result = run.done.then((state) => requestResult(run, state, built.requestArgs));
  const handle: RunningRequest = {
    requestId: built.requestId,
    result,
    stop: async () => {
      await run.traverser.stop();
      return result;
    },
  };
  const when = opts.stopWhen;
  // Against every job that is running now (made, and not yet reaped).
  const check = when
    ? () =>
        run.traverser.chain.order.some((n) => {
          const job = n.busy ? run.made.get(n.id)?.at(-1) : undefined;
          return job !== undefined && when(statusOf(job), job);
        })
    : undefined;
  if (opts.stopAfterMs !== undefined || check) stopWhen(handle, opts.stopAfterMs, check);
  return handle;
}

/**
 * Build request `type` from the specs in `specsDir` with `args`, as the
 * Request Manager would, and run its chain as a Job Runner would, in-process
 * with `jobs` (the user's job factory, over the built-in jobs). Resolves with
 * the request's final state and every job's tries.
 */
export async function runRequest(
  specsDir: string,
  type: string,
  args: Record<string, unknown>,
  jobs: JobsInput,
  opts: RunRequestOptions = {},
): Promise<RequestResult> {
  return (await startRequest(specsDir, type, args, jobs, opts)).result;
}
