/**
 * One job through both halves of its life, as the services drive it: on the
 * Request Manager side `make`, `create(args)` and `serialize()`; on the Job
 * Runner side a fresh instance, `deserialize(bytes)` and `run(jobData)`, with
 * the JR's own runner (tries, retryWait, stop) from @spincycle/traversal.
 */
import { newRequestId } from '@spincycle/chain';
import type { BuiltinJobOptions, Job, JobFactory } from '@spincycle/jobs';
import { type JobArgs, type JobChain, type JobData, State } from '@spincycle/protocol';
import { type ChainRun, type ChainRunOptions, startChain } from './chain-run.js';
import { type JobsInput, toJobFactory } from './jobs-input.js';
import type { JobResult } from './results.js';
import { type StopCondition, statusOf, stopWhen } from './stop.js';

export interface RunJobOptions extends ChainRunOptions {
  /** The job type to make. */
  type: string;
  /** The node name (default: the type). */
  name?: string;
  /** Job args given to `create` (a copy: see `JobResult.args` for what `create` left in it). */
  args?: JobArgs;
  /** Job data `run` starts with, as earlier jobs of a chain would have left it (default `{}`). */
  data?: JobData;
  /** Tries `run` gets, as a spec's `retry: tries - 1` (default 1). */
  tries?: number;
  /** Wait between tries, a duration such as `500ms` (a spec's `retryWait`; see `waitScale`). */
  retryWait?: string;
  /** Job id (default `job1`) and request id (default a new one) the job is made with. */
  id?: string;
  requestId?: string;
  /** Options of the built-in jobs (e.g. `shell-command` limits). */
  builtins?: BuiltinJobOptions;
  /** Stop the job this long after it started. */
  stopAfterMs?: number;
  /** Stop the job once this holds (checked every few ms while it runs). */
  stopWhen?: StopCondition;
}

/** A job started with `startJob`. */
export interface RunningJob {
  /** Settles when the run ended. */
  readonly result: Promise<JobResult>;
  /** The Job Runner side's instance once made (a new one is made for each run, not for each try). */
  job(): Job | undefined;
  /** The job's `status()` now (`''` before it was made). */
  status(): string;
  /** Stop the job as `spinc stop` would (the runner stops retrying and calls `stop()`); resolves with the result. */
  stop(): Promise<JobResult>;
}

/** The Request Manager's half: make, create, serialize. A throw from `create` rejects (the RM answers 400 with it). */
async function createOnRm(factory: JobFactory, o: RunJobOptions, ids: { id: string; requestId: string }) {
  const name = o.name ?? o.type;
  const job = factory.make({ type: o.type, name, id: ids.id, requestId: ids.requestId });
  const args: JobArgs = { ...o.args };
  const recorded = Object.keys(args).length > 0 ? { ...args } : undefined;
  await job.create(args);
  const bytes = await job.serialize();
  if (bytes !== undefined && bytes !== null && !ArrayBuffer.isView(bytes))
    throw new TypeError(`serialize returned ${typeof bytes}, expected bytes (a Uint8Array)`);
  const raw = bytes ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(0);
  return { name, args, recorded, bytes: raw };
}

/** A chain of one job, as the chain builder would store it. */
function oneJobChain(
  o: RunJobOptions,
  id: string,
  requestId: string,
  rm: Awaited<ReturnType<typeof createOnRm>>,
) {
  const tries = o.tries ?? 1;
  if (!Number.isSafeInteger(tries) || tries < 1)
    throw new RangeError(`tries must be an integer >= 1, got ${tries}`);
  const chain: JobChain = {
    requestId,
    jobs: {
      [id]: {
        id,
        name: rm.name,
        type: o.type,
        bytes: rm.bytes.byteLength > 0 ? Buffer.from(rm.bytes).toString('base64') : undefined,
        state: State.PENDING,
        args: rm.recorded,
        data: o.data,
        retry: tries - 1,
        retryWait: o.retryWait,
        sequenceId: id,
        sequenceRetry: 0,
      },
    },
    adjacencyList: {},
    state: State.PENDING,
    finishedJobs: 0,
  };
  return chain;
}

function jobResult(run: ChainRun, id: string, rm: Awaited<ReturnType<typeof createOnRm>>): JobResult {
  const [job] = run.jobs();
  const tries = job?.tries ?? [];
  const last = tries.at(-1);
  const instance = run.made.get(id)?.at(-1);
  return {
    state: last?.state ?? State.PENDING,
    stateName: last?.stateName ?? 'PENDING',
    exit: last?.exit ?? 0,
    error: last?.error ?? '',
    stdout: last?.stdout ?? '',
    stderr: last?.stderr ?? '',
    tries,
    data: job?.data ?? {},
    args: rm.args,
    bytes: rm.bytes,
    status: instance ? statusOf(instance) : '',
  };
}

/** Start a job (see `runJob`); the handle can stop it. */
export async function startJob(jobs: JobsInput, opts: RunJobOptions): Promise<RunningJob> {
  const factory = toJobFactory(jobs, opts.builtins);
  const ids = { id: opts.id ?? 'job1', requestId: opts.requestId ?? newRequestId() };
  const rm = await createOnRm(factory, opts, ids);
  const run = startChain(oneJobChain(opts, ids.id, ids.requestId, rm), factory, opts);
  const result = run.done.then(() => jobResult(run, ids.id, rm));
  const job = () => run.made.get(ids.id)?.at(-1);
  const handle: RunningJob = {
    result,
    job,
    status: () => {
      const j = job();
      return j ? statusOf(j) : '';
    },
    stop: async () => {
      await run.traverser.stop();
      return result;
    },
  };
  const when = opts.stopWhen;
  const check = when
    ? () => {
        const j = job();
        return j !== undefined && when(statusOf(j), j);
      }
    : undefined;
  if (opts.stopAfterMs !== undefined || check) stopWhen(handle, opts.stopAfterMs, check);
  return handle;
}

/**
 * Run a job as the services would: `create(args)` and `serialize()` on one
 * instance, `deserialize(bytes)` and `run(data)` on a fresh one, retried like
 * the Job Runner retries it. Resolves with the last try's result, every try,
 * the job data and args it left, and its final status line.
 */
export async function runJob(jobs: JobsInput, opts: RunJobOptions): Promise<JobResult> {
  return (await startJob(jobs, opts)).result;
}
