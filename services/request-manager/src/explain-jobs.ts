/** The per-job part of an explanation: what each unfinished job of a non-final request waits on. */

import {
  type ExplainReason,
  type JobChain,
  type JobExplanation,
  type JobLog,
  nanosToDate,
  parseDurationMs,
  type Request,
  State,
  stateName,
} from '@spincycle/protocol';

/** What a contributor is given: the request (with its chain) and what the RM knows of its jobs. */
export interface ExplainContext {
  request: Request & { JobChain: JobChain };
  logs: JobLog[];
  /** Job id → state (COMPLETE, FAIL, … or PENDING when it never ran). */
  jobStates: Map<string, number>;
  now: Date;
}

/** A job with an active runner on its JR: the try it is on, and the JR's status text. */
interface RunningJob {
  try: number;
  status?: string;
  startedAt?: bigint | string | number;
}
export type RunningJobs = Map<string, RunningJob>;

/** From the JR's running status (or a heartbeat's held jobs). */
export function runningJobsOf(
  jobs: ReadonlyArray<{ jobId: string; try: number; status?: string; startedAt?: unknown }>,
): RunningJobs {
  const out: RunningJobs = new Map();
  for (const j of jobs) {
    const r: RunningJob = { try: j.try };
    if (j.status !== undefined) r.status = j.status;
    if (typeof j.startedAt === 'bigint' || typeof j.startedAt === 'string' || typeof j.startedAt === 'number')
      r.startedAt = j.startedAt;
    out.set(j.jobId, r);
  }
  return out;
}

/** The JR's status of a job sleeping before its next try starts with this. */
const RETRY_SLEEP = '(retry sleep)';

/** Each job's last try in the job log. */
export function lastTries(logs: JobLog[]): Map<string, JobLog> {
  const last = new Map<string, JobLog>();
  for (const l of logs) {
    const prev = last.get(l.jobId);
    if (!prev || l.try >= prev.try) last.set(l.jobId, l);
  }
  return last;
}

export function jobReasons(
  ctx: ExplainContext,
  running: RunningJobs,
  requestState: number,
  extra: Map<string, ExplainReason[]>,
): JobExplanation[] {
  const chain = ctx.request.JobChain;
  const preds = new Map<string, string[]>();
  for (const [from, tos] of Object.entries(chain.adjacencyList))
    for (const to of tos) preds.set(to, [...(preds.get(to) ?? []), from]);
  const last = lastTries(ctx.logs);
  const out: JobExplanation[] = [];
  for (const [jobId, job] of Object.entries(chain.jobs)) {
    const state = ctx.jobStates.get(jobId) ?? State.PENDING;
    if (state === State.COMPLETE) continue;
    const reasons: ExplainReason[] = [];
    const run = running.get(jobId);
    const prev = last.get(jobId);
    const waitingOn = (preds.get(jobId) ?? []).filter((p) => ctx.jobStates.get(p) !== State.COMPLETE);
    if (run && prev && prev.state === State.FAIL && (run.status ?? '').startsWith(RETRY_SLEEP)) {
      const until = retryWaitEnds(BigInt(prev.finishedAt), job.retryWait);
      reasons.push({
        kind: 'retryWait',
        message: `try ${prev.try} failed${prev.error ? `: ${prev.error}` : ''}; waiting ${job.retryWait ?? '0s'} (retryWait) before the next try${until ? `, until ${until.toISOString()}` : ''}`,
        lastTry: prev.try,
        lastError: prev.error,
        retryWait: job.retryWait ?? '',
        retry: job.retry,
        until: until?.toISOString() ?? null,
      });
    } else if (run) {
      const started =
        run.startedAt !== undefined && BigInt(run.startedAt) > 0n
          ? nanosToDate(BigInt(run.startedAt)).toISOString()
          : null;
      reasons.push({
        kind: 'running',
        message: `running (try ${run.try}${started ? `, since ${started}` : ''})${run.status ? `: ${run.status}` : ''}`,
        try: run.try,
        startedAt: started,
        status: run.status ?? '',
      });
    } else if (prev && (prev.state === State.FAIL || prev.state === State.STOPPED)) {
      reasons.push({
        kind: prev.state === State.FAIL ? 'failed' : 'stopped',
        message: `try ${prev.try} ended ${stateName(prev.state)}${prev.error ? `: ${prev.error}` : ''}, and no further try is running`,
        try: prev.try,
        error: prev.error,
      });
    } else if (waitingOn.length > 0) {
      reasons.push({
        kind: 'dependencies',
        message: `waiting for ${waitingOn.map((p) => `${chain.jobs[p]?.name ?? p} (${p}, ${stateName(ctx.jobStates.get(p) ?? State.PENDING)})`).join(', ')} to complete`,
        jobs: waitingOn.map((p) => ({
          jobId: p,
          name: chain.jobs[p]?.name ?? p,
          state: stateName(ctx.jobStates.get(p) ?? State.PENDING),
        })),
      });
    } else if (requestState === State.RUNNING) {
      reasons.push({
        kind: 'ready',
        message:
          "ready to run but not running on its Job Runner yet: waiting for a free job slot (the Job Runner's jobs.max_concurrent) or being started",
      });
    } else {
      reasons.push({ kind: 'notStarted', message: `not started: the request is ${stateName(requestState)}` });
    }
    reasons.push(...(extra.get(jobId) ?? []));
    out.push({
      jobId,
      name: job.name,
      type: job.type,
      state: stateName(run ? State.RUNNING : state),
      reasons,
    });
  }
  return out.sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
}

/** The time a retry sleep after a try that ended at `finishedAt` (Unix ns) ends. */
function retryWaitEnds(finishedAt: bigint, retryWait: string | undefined): Date | undefined {
  if (!retryWait) return undefined;
  return new Date(Number(finishedAt / 1_000_000n) + parseDurationMs(retryWait));
}
