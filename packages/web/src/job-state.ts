/**
 * A job's live state for the DAG, derived from what the RM offers: the chain (static),
 * the job log (one entry per finished try) and the running jobs of the request.
 */
import { type Job, type Log, State } from './wire.js';

export type LiveState = 'pending' | 'running' | 'retry' | 'complete' | 'fail' | 'stopped';

export const LIVE_STATES: readonly LiveState[] = [
  'pending',
  'running',
  'retry',
  'complete',
  'fail',
  'stopped',
];

export const LIVE_LABEL: Record<LiveState, string> = {
  pending: 'pending',
  running: 'running',
  retry: 'retry wait',
  complete: 'complete',
  fail: 'failed',
  stopped: 'stopped',
};

/** Per job: its tries in order, newest last. */
export function triesByJob(logs: readonly Log[]): Map<string, Log[]> {
  const out = new Map<string, Log[]>();
  for (const l of logs) {
    let list = out.get(l.jobId);
    if (!list) {
      list = [];
      out.set(l.jobId, list);
    }
    list.push(l);
  }
  for (const list of out.values()) list.sort((a, b) => a.try - b.try || a.startedAt - b.startedAt);
  return out;
}

export interface LiveInput {
  job: Job;
  tries: readonly Log[] | undefined;
  running: boolean;
  /** The request is still RUNNING (a failed try may be retried). */
  requestRunning: boolean;
  /** Tries of the job that begins the job's sequence (its id is the sequenceId). */
  sequenceTries: number;
  /** sequenceRetry of the sequence's first job. */
  sequenceRetry: number;
}

/**
 * running > last try's outcome; a failed try with a retry left (of the job, or of its
 * sequence) while the request runs is "retry wait".
 */
export function liveState(i: LiveInput): LiveState {
  if (i.running) return 'running';
  const last = i.tries?.[i.tries.length - 1];
  if (!last) return 'pending';
  switch (last.state) {
    case State.COMPLETE:
      return 'complete';
    case State.STOPPED:
      return 'stopped';
    case State.FAIL: {
      if (!i.requestRunning) return 'fail';
      const failedTries = i.tries?.filter((t) => t.state === State.FAIL).length ?? 0;
      if (failedTries <= i.job.retry) return 'retry';
      if (i.sequenceTries <= i.sequenceRetry) return 'retry';
      return 'fail';
    }
    default:
      return 'running';
  }
}

/** Live state of every job of a chain. */
export function liveStates(
  jobs: Record<string, Job>,
  logs: readonly Log[],
  runningJobIds: ReadonlySet<string>,
  requestRunning: boolean,
): Map<string, LiveState> {
  const tries = triesByJob(logs);
  const out = new Map<string, LiveState>();
  for (const id in jobs) {
    const job = jobs[id] as Job;
    const seqBegin = jobs[job.sequenceId];
    out.set(
      id,
      liveState({
        job,
        tries: tries.get(id),
        running: runningJobIds.has(id),
        requestRunning,
        sequenceTries: tries.get(job.sequenceId)?.length ?? 0,
        sequenceRetry: seqBegin?.sequenceRetry ?? 0,
      }),
    );
  }
  return out;
}

/** Request state → the colour class used for badges (same palette as jobs). */
export function requestTone(state: number): LiveState {
  switch (state) {
    case State.RUNNING:
      return 'running';
    case State.COMPLETE:
      return 'complete';
    case State.FAIL:
      return 'fail';
    case State.STOPPED:
      return 'stopped';
    case State.SUSPENDED:
      return 'retry';
    default:
      return 'pending';
  }
}
