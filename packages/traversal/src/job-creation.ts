/** Making a chain's job from its wire form, and the job-log entry of a job that could not be made. */
import type { Job, JobFactory } from '@spincycle/jobs';
import { type JobLog, nowNanos, State } from '@spincycle/protocol';
import type { ChainState, JobNode } from './chain-state.js';
import { decodeBytes, isPromise } from './job-data.js';
import { errorText } from './runner.js';

/**
 * The node's job, made by the factory with its bytes restored: a promise when
 * the job restores them asynchronously. Throws when the job cannot be made.
 */
export function makeJob(factory: JobFactory, node: JobNode, requestId: string): Job | Promise<Job> {
  const wire = node.job;
  const job = factory.make({ type: wire.type, name: wire.name, id: node.id, requestId });
  if (typeof job !== 'object' || job === null || typeof job.run !== 'function') {
    throw new Error(
      `job factory returned ${job === null ? 'null' : typeof job} for type ${wire.type}, not a job`,
    );
  }
  const r = job.deserialize(decodeBytes(wire.bytes));
  return isPromise(r) ? r.then(() => job) : job;
}

/** The FAIL entry of a job that could not be made, on its own fresh try number (counted here). */
export function creationFailureEntry(chain: ChainState, node: JobNode, err: unknown): JobLog {
  return unstartedFailEntry(chain, node, `problem creating job runner: ${errorText(err)}`);
}

/** A FAIL entry with `error` for a job that did not run, on its own fresh try number (counted here). */
export function unstartedFailEntry(chain: ChainState, node: JobNode, error: string): JobLog {
  const tryNo = chain.bump(chain.totalJobTries, node.id, 1);
  chain.bump(chain.latestRunJobTries, node.id, 1);
  const now = nowNanos();
  return {
    requestId: chain.requestId,
    jobId: node.id,
    try: tryNo,
    name: node.job.name,
    type: node.job.type,
    startedAt: now,
    finishedAt: now,
    state: State.FAIL,
    exit: 1,
    error,
    stdout: '',
    stderr: '',
  };
}
