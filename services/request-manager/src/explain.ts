/**
 * "Why is it not done?" (`GET /api/v1/requests/{id}/explain`): for a request
 * that is not final, what each unfinished job waits on; for a final one, the
 * jobs that made it fail or stop and their last errors. Built from what the
 * RM stores (the chain, the job log, the suspended chain, JR heartbeats) and
 * the JR's running status. Other modules add reasons (locks, schedules) by
 * registering an ExplainContributor.
 */
import {
  type ExplainReason,
  type RequestExplanation as Explanation,
  type JobChain,
  type JobExplanation,
  type JobLog,
  type JobStatus,
  type Request,
  State,
  type SuspendedJobChain,
  stateName,
} from '@spincycle/protocol';
import {
  type ExplainContext,
  jobReasons,
  lastTries,
  type RunningJobs,
  runningJobsOf,
} from './explain-jobs.js';
import { requestNotFound } from './request-errors.js';
import { wireRequestOf } from './request-queries.js';
import type { JobLogStore } from './stores/job-log-store.js';
import type { JrStore } from './stores/jr-store.js';
import type { RequestStore } from './stores/request-store.js';
import type { SjcStore } from './stores/sjc-store.js';
import { parseStoredJson } from './stores/stored-json.js';

export type { ExplainReason, JobExplanation, RequestExplanation as Explanation } from '@spincycle/protocol';
export type { ExplainContext } from './explain-jobs.js';

/** Reasons another module knows (a lock held elsewhere, a schedule window): by request, by job id. */
export interface ExplainContribution {
  request?: ExplainReason[];
  jobs?: Record<string, ExplainReason[]>;
}

export interface ExplainContributor {
  readonly name: string;
  /** Called for non-final requests only. A contributor that throws is reported as a reason, not a 500. */
  contribute(ctx: ExplainContext): Promise<ExplainContribution> | ExplainContribution;
}

export interface ExplainerDeps {
  requests: RequestStore;
  logs: JobLogStore;
  sjcs: SjcStore;
  jrStore: JrStore;
  /** The JR's running jobs of a request (its status/running); throws when the JR does not answer. */
  running: (jrUrl: string, requestId: string) => Promise<JobStatus[]>;
  /** `jr.lease` (ms): a JR silent longer is lost. */
  jrLeaseMs: number;
}

const toIso = (d: Date) => d.toISOString();

export class Explainer {
  private readonly contributors: ExplainContributor[] = [];

  constructor(private readonly d: ExplainerDeps) {}

  /** Add reasons from another module (locks, schedules, …). */
  register(contributor: ExplainContributor): void {
    this.contributors.push(contributor);
  }

  async explain(id: string): Promise<Explanation> {
    const full = await this.d.requests.getFull(id, true);
    if (!full || full.jobChainJson === undefined) throw requestNotFound(id);
    const request = wireRequestOf(full) as ExplainContext['request'];
    const logs = await this.d.logs.list(id);
    const now = new Date();
    const state = request.state as number;
    const final = state === State.COMPLETE || state === State.FAIL || state === State.STOPPED;
    const jobStates = lastStates(request.JobChain, logs);
    const out: Explanation = { requestId: id, state: stateName(state), final, reasons: [], jobs: [] };
    let running: RunningJobs = new Map();
    if (state === State.PENDING)
      out.reasons.push({
        kind: 'notStarted',
        message: `the request is PENDING: it was created but not started (PUT /api/v1/requests/${id}/start)`,
      });
    else if (state === State.SUSPENDED) await this.suspended(id, out, jobStates);
    else if (state === State.RUNNING) running = await this.runningOn(request, out, now);
    if (final) {
      out.jobs = finalJobs(request.JobChain, logs);
      if (state !== State.COMPLETE && out.jobs.length === 0)
        out.reasons.push({
          kind: 'noJobFailed',
          message: `the request is ${stateName(state)} but no job of it failed or was stopped: it ended outside its jobs (see its job log)`,
        });
      return out;
    }
    const ctx: ExplainContext = { request, logs, jobStates, now };
    const extra = await this.contributions(ctx, out);
    out.jobs = jobReasons(ctx, running, state, extra);
    return out;
  }

  /** SUSPENDED: the stored chain says which jobs are done; the resumer brings it back. */
  private async suspended(id: string, out: Explanation, jobStates: Map<string, number>): Promise<void> {
    const sjc = await this.d.sjcs.get(id);
    if (!sjc) {
      out.reasons.push({
        kind: 'suspended',
        message: 'the request is SUSPENDED (its suspended chain is being resumed)',
      });
      return;
    }
    const body = parseStoredJson<SuspendedJobChain>(sjc.suspended_job_chain);
    for (const [jobId, job] of Object.entries(body.jobChain?.jobs ?? {}))
      if (job.state === State.COMPLETE) jobStates.set(jobId, State.COMPLETE);
    out.reasons.push({
      kind: 'suspended',
      message: `suspended at ${toIso(sjc.suspended_at)} (its Job Runner shut down); it waits for a Request Manager to resume it on a Job Runner${sjc.rm_host ? `, being resumed by ${sjc.rm_host}` : ''}`,
      suspendedAt: toIso(sjc.suspended_at),
      claimedBy: sjc.rm_host,
    });
  }

  /** RUNNING: is its JR alive, and what runs there now. */
  private async runningOn(request: Request, out: Explanation, now: Date): Promise<RunningJobs> {
    const url = request.jrURL;
    if (!url) return new Map();
    const hb = await this.d.jrStore.get(url, true);
    if (hb && now.getTime() - hb.last_seen.getTime() > this.d.jrLeaseMs) {
      out.reasons.push({
        kind: 'jrLost',
        message: `its Job Runner ${url} sent no heartbeat since ${toIso(hb.last_seen)} (lease ${this.d.jrLeaseMs / 1000}s): it is lost, and the request is failed by the lost-Job-Runner sweep`,
        jrURL: url,
        lastSeen: toIso(hb.last_seen),
      });
      return runningJobsOf(hb.held.find((h) => h.requestId === request.id)?.jobs ?? []);
    }
    try {
      return runningJobsOf(await this.d.running(url, request.id));
    } catch (err) {
      out.reasons.push({
        kind: 'jrUnreachable',
        message: `its Job Runner ${url} did not answer: ${err instanceof Error ? err.message : String(err)}; shown: the running jobs of its last heartbeat`,
        jrURL: url,
      });
      return runningJobsOf(hb?.held.find((h) => h.requestId === request.id)?.jobs ?? []);
    }
  }

  private async contributions(ctx: ExplainContext, out: Explanation): Promise<Map<string, ExplainReason[]>> {
    const byJob = new Map<string, ExplainReason[]>();
    for (const c of this.contributors) {
      let got: ExplainContribution;
      try {
        got = await c.contribute(ctx);
      } catch (err) {
        out.reasons.push({
          kind: 'contributorError',
          message: `${c.name} could not explain: ${err instanceof Error ? err.message : String(err)}`,
        });
        continue;
      }
      out.reasons.push(...(got.request ?? []));
      for (const [jobId, reasons] of Object.entries(got.jobs ?? {}))
        byJob.set(jobId, [...(byJob.get(jobId) ?? []), ...reasons]);
    }
    return byJob;
  }
}

/** Job id → the state of its last try in the job log (PENDING when it never ran). */
function lastStates(chain: JobChain, logs: JobLog[]): Map<string, number> {
  const last = lastTries(logs);
  const out = new Map<string, number>();
  for (const jobId of Object.keys(chain.jobs)) out.set(jobId, last.get(jobId)?.state ?? State.PENDING);
  return out;
}

/** The last try of each job that ended FAIL or STOPPED, with its error. */
function finalJobs(chain: JobChain, logs: JobLog[]): JobExplanation[] {
  const last = lastTries(logs);
  const out: JobExplanation[] = [];
  for (const l of last.values()) {
    if (l.state !== State.FAIL && l.state !== State.STOPPED) continue;
    const job = chain.jobs[l.jobId];
    const failed = l.state === State.FAIL;
    out.push({
      jobId: l.jobId,
      name: job?.name ?? l.name,
      type: job?.type ?? l.type,
      state: stateName(l.state),
      reasons: [
        {
          kind: failed ? 'failed' : 'stopped',
          message: `try ${l.try} ${failed ? 'failed' : 'was stopped'}${l.error ? `: ${l.error}` : ''}`,
          try: l.try,
          exit: l.exit,
          error: l.error,
          retry: job?.retry ?? 0,
        },
      ],
    });
  }
  return out.sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
}
