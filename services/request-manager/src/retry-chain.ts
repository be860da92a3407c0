/**
 * The suspended job chain that retries a finished request (request-retry.ts):
 * the stored chain with each job's final state taken from the job log (the
 * state of its last try). A job stays COMPLETE only when its last try completed
 * and every predecessor stays COMPLETE; every other job is PENDING again, so
 * failed and stopped jobs run again together with everything after them.
 * `totalJobTries` continues from the log, so try numbers keep rising; retry
 * budgets start afresh (`latestRunJobTries` empty, a sequence whose start job
 * completed counts one start).
 */
import { type Job, type JobChain, State, type SuspendedJobChain } from '@spincycle/protocol';

export interface TryState {
  jobId: string;
  try: number;
  state: number;
}

export interface RetryPlan {
  sjc: SuspendedJobChain;
  /** Jobs that will run again (PENDING), in topological order. */
  rerun: string[];
}

export function retryChain(stored: JobChain, tries: readonly TryState[]): RetryPlan {
  const last = new Map<string, TryState>();
  for (const t of tries) {
    const prev = last.get(t.jobId);
    if (!prev || t.try > prev.try) last.set(t.jobId, t);
  }
  const ids = Object.keys(stored.jobs);
  const preds = new Map<string, string[]>(ids.map((id) => [id, []]));
  const indegree = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const [from, tos] of Object.entries(stored.adjacencyList ?? {}))
    for (const to of tos) {
      preds.get(to)?.push(from);
      indegree.set(to, (indegree.get(to) ?? 0) + 1);
    }
  // Kahn's order, so a job's predecessors are decided before it.
  const order = ids.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < order.length; i++)
    for (const to of stored.adjacencyList?.[order[i] as string] ?? []) {
      const d = (indegree.get(to) ?? 0) - 1;
      indegree.set(to, d);
      if (d === 0) order.push(to);
    }

  const jobs: Record<string, Job> = {};
  const rerun: string[] = [];
  let finished = 0;
  for (const id of order) {
    const job = stored.jobs[id] as Job;
    const complete =
      last.get(id)?.state === State.COMPLETE &&
      (preds.get(id) ?? []).every((p) => jobs[p]?.state === State.COMPLETE);
    jobs[id] = { ...job, state: complete ? State.COMPLETE : State.PENDING };
    if (complete) finished++;
    else rerun.push(id);
  }
  const totalJobTries: Record<string, number> = {};
  for (const [id, t] of last) if (id in jobs) totalJobTries[id] = t.try;
  const sequenceTries: Record<string, number> = {};
  for (const job of Object.values(jobs))
    if (job.sequenceId === job.id && job.state === State.COMPLETE) sequenceTries[job.id] = 1;
  return {
    sjc: {
      requestId: stored.requestId,
      jobChain: {
        requestId: stored.requestId,
        jobs,
        adjacencyList: stored.adjacencyList,
        state: State.RUNNING,
        finishedJobs: finished,
      },
      totalJobTries,
      latestRunJobTries: {},
      sequenceTries,
    },
    rerun,
  };
}
