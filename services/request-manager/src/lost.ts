/**
 * What to write into the job log of a request whose Job Runner was lost: one
 * FAIL entry per job that was running there, so the log says what happened.
 * The jobs come from the JR's last heartbeat when it named them; otherwise
 * from the chain and the job log (jobs not finished whose predecessors all
 * finished). Try numbers never collide with stored entries: a lost try keeps
 * its number unless that number is taken, then the next free one is used.
 */
import {
  type HeldChain,
  type JobChain,
  type JobLog,
  nowNanos,
  State,
  type StateValue,
} from '@spincycle/protocol';
import type { JobLogStore } from './stores/job-log-store.js';
import type { RequestStore } from './stores/request-store.js';
import { parseStoredJson } from './stores/stored-json.js';

/** Most entries written for one lost request when the running jobs are unknown (a very wide chain). */
const MAX_GUESSED = 1000;

export interface LostJobs {
  entries: JobLog[];
  /** Every job's latest entry is COMPLETE: only the finish was lost, the request really completed. */
  allComplete: boolean;
}

export async function lostJobEntries(
  d: { requests: RequestStore; logs: JobLogStore },
  requestId: string,
  held: HeldChain['jobs'] | undefined,
  why: (job: { jobId: string; try: number }, running: boolean) => string,
): Promise<LostJobs> {
  const latest = new Map<string, { try: number; state: StateValue }>();
  for (const t of await d.logs.tryStates(requestId)) {
    const cur = latest.get(t.jobId);
    if (!cur || t.try > cur.try) latest.set(t.jobId, { try: t.try, state: t.state });
  }
  const now = nowNanos();
  const entry = (jobId: string, name: string, type: string, tryNo: number, running: boolean): JobLog => ({
    requestId,
    jobId,
    try: tryNo,
    name,
    type,
    startedAt: now,
    finishedAt: now,
    state: State.FAIL,
    exit: 0,
    error: why({ jobId, try: tryNo }, running),
    stdout: '',
    stderr: '',
  });

  const entries: JobLog[] = [];
  for (const h of held ?? []) {
    const l = latest.get(h.jobId);
    // Finished (and logged) after that heartbeat: not running any more.
    if (l && l.try >= h.try && l.state === State.COMPLETE) continue;
    entries.push(entry(h.jobId, h.name, h.type, Math.max(h.try, (l?.try ?? 0) + 1), true));
  }
  if (entries.length > 0) return { entries, allComplete: false };

  const text = await d.requests.jobChainJson(requestId);
  if (text === undefined) return { entries, allComplete: false };
  const chain = parseStoredJson<JobChain>(text);
  const ids = Object.keys(chain.jobs ?? {});
  const done = (id: string) => latest.get(id)?.state === State.COMPLETE;
  if (ids.every(done)) return { entries, allComplete: true };
  const preds = new Map<string, string[]>();
  for (const [from, tos] of Object.entries(chain.adjacencyList ?? {}))
    for (const to of tos ?? []) preds.set(to, [...(preds.get(to) ?? []), from]);
  let pick = ids.filter((id) => !done(id) && (preds.get(id) ?? []).every(done));
  if (pick.length === 0) pick = ids.filter((id) => !done(id));
  for (const id of pick.slice(0, MAX_GUESSED)) {
    const job = chain.jobs[id];
    if (!job) continue;
    entries.push(entry(id, job.name, job.type, (latest.get(id)?.try ?? 0) + 1, false));
  }
  return { entries, allComplete: false };
}
