/**
 * What Job Runners report about the requests they run: finishes, progress,
 * suspended chains, job-log entries, and all of these batched in one call.
 * Bodies arrive validated (parsed at the route); what is checked here is
 * what needs the stored state or the URL.
 */
import {
  ConflictError,
  type FinishOutcome,
  type FinishRequest,
  ForbiddenError,
  InvalidStateError,
  type JobChain,
  type JobLog,
  type ParsedReportBatch,
  parseJson,
  parseRfc3339,
  type ReportResult,
  type RequestProgress,
  State,
  type SuspendedJobChain,
  stateName,
  stringifyJson,
  ValidationError,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { assertSameChain } from './chain-match.js';
import type { Db } from './db/db.js';
import type { FinalStates } from './final-states.js';
import { rmMetrics } from './metrics.js';
import { notInState, requestNotFound } from './request-errors.js';
import type { SecretMasker } from './secret-masker.js';
import type { JobLogStore } from './stores/job-log-store.js';
import type { JrStore } from './stores/jr-store.js';
import type { ReportStore } from './stores/report-writes.js';
import type { RequestStore } from './stores/request-store.js';
import type { SjcStore } from './stores/sjc-store.js';

export interface ReportIntakeDeps {
  db: Db;
  requests: RequestStore;
  logs: JobLogStore;
  sjcs: SjcStore;
  reports: ReportStore;
  logger: Logger;
  /** Job Runner heartbeats: a JR handing a chain back is marked as shutting down. */
  jrStore?: JrStore;
  /** Hides secret arg values in job-log entries before they are stored. */
  secrets?: SecretMasker;
  /** Told of every final state recorded here (lock release, webhooks). */
  finals?: FinalStates;
  /**
   * The configured `jr_client.url` entries (no trailing slash). A request recorded on one of
   * them that no JR heartbeats as its own is behind a load balancer: the first JR to report
   * for it is the one that took it (see `adopt`).
   */
  balancers?: ReadonlySet<string>;
}

type RequestStates = Map<string, { state: number; jrUrl: string | null }>;

/**
 * Whether a call from the Job Runner at `caller` may report for a request
 * recorded on `recorded`: yes when the caller is not named (no JR
 * credentials configured, see auth/internal.ts), when no JR is recorded (the
 * request is not RUNNING: its state decides), or when they are the same.
 */
function onCaller(recorded: string | null | undefined, caller: string | undefined): boolean {
  return caller === undefined || !recorded || recorded.replace(/\/+$/, '') === caller;
}

/** A single call for a request recorded on another Job Runner (403, naming both). */
function otherJobRunner(id: string, recorded: string, caller: string): ForbiddenError {
  return new ForbiddenError(`request ${id} runs on Job Runner ${recorded}, not on ${caller}`);
}

export class ReportIntake {
  private readonly log: Logger;

  constructor(private readonly d: ReportIntakeDeps) {
    this.log = d.logger.child({ component: 'requests' });
  }

  /** PUT /requests/{id}/finish: terminal states only, only while RUNNING (a repeated identical finish is fine). */
  async finish(id: string, fin: FinishRequest, caller?: string): Promise<void> {
    if (fin.requestId && fin.requestId !== id) {
      throw new ValidationError(
        `invalid FinishRequest: requestId=${fin.requestId} does not match request ID in URL: ${id}`,
        'requestId',
      );
    }
    await this.assertOnCaller(id, caller);
    const finishedAt = parseRfc3339(fin.finishedAt) as Date;
    const ok = await this.d.requests.transition(id, State.RUNNING, {
      state: fin.state,
      finished_at: finishedAt,
      finished_jobs: fin.finishedJobs,
      jr_url: null,
    });
    if (ok) {
      this.d.finals?.emit(id, fin.state, rmMetrics.requestFinished(id, fin.state));
      this.log.info('request finished', {
        requestId: id,
        state: stateName(fin.state),
        finishedJobs: fin.finishedJobs,
      });
      return;
    }
    const row = await this.d.requests.get(id);
    if (!row) throw requestNotFound(id);
    if (row.state === fin.state) return; // the JR retried a finish whose answer it lost
    throw new InvalidStateError(`request ${id} in state ${stateName(row.state)}, expected state RUNNING`);
  }

  /** PUT /requests/{id}/progress: only while RUNNING. */
  async progress(id: string, p: RequestProgress, caller?: string): Promise<void> {
    if (p.requestId === '')
      throw new ValidationError('invalid RequestProgress: RequestId is empty, must be set', 'requestId');
    if (p.requestId !== id) {
      throw new ValidationError(
        `invalid RequestProgress: RequestId=${p.requestId} does not match request ID in URL: ${id}`,
        'requestId',
      );
    }
    await this.assertOnCaller(id, caller);
    if (await this.d.requests.patchIf(id, State.RUNNING, { finished_jobs: p.finishedJobs })) return;
    throw await notInState(this.d.requests, id, 'RUNNING');
  }

  /**
   * PUT /requests/{id}/suspend: store the SJC and RUNNING → SUSPENDED (jr_url NULL) in one transaction.
   * The chain must be the stored one but for job data, states and tries (chain-match.ts).
   */
  async suspend(id: string, sjc: SuspendedJobChain, caller?: string): Promise<void> {
    if (sjc.requestId !== id) {
      throw new ValidationError(
        `invalid SuspendedJobChain: requestId=${sjc.requestId} does not match request ID in URL: ${id}`,
        'requestId',
      );
    }
    const st = (await this.statesFor([id], caller)).get(id);
    if (!st) throw requestNotFound(id);
    if (st.jrUrl && !onCaller(st.jrUrl, caller)) throw otherJobRunner(id, st.jrUrl, caller as string);
    const storedJson = await this.d.requests.jobChainJson(id);
    if (storedJson)
      assertSameChain(parseJson(storedJson) as JobChain, sjc.jobChain, `the job chain of request ${id}`);
    const text = stringifyJson(sjc);
    const now = new Date();
    // The JR that hands the chain back is stopping: say so on its row, so that a new process on
    // its address is never taken for a crashed one that lost this chain (jr-liveness.ts).
    const jrUrl = this.d.jrStore ? st.jrUrl : undefined;
    const ok = await this.d.db.tx(async (m) => {
      if (!(await this.d.requests.transition(id, State.RUNNING, { state: State.SUSPENDED, jr_url: null }, m)))
        return false;
      await this.d.sjcs.putIn(m, id, text, now);
      if (jrUrl) await this.d.jrStore?.markDrainingIn(m, jrUrl);
      return true;
    });
    if (!ok) throw await notInState(this.d.requests, id, 'RUNNING');
    this.log.info('request suspended', { requestId: id });
  }

  /** A single call about `id` from a JR it is not recorded on: 403. */
  private async assertOnCaller(id: string, caller: string | undefined): Promise<void> {
    if (caller === undefined) return;
    const recorded = (await this.statesFor([id], caller)).get(id)?.jrUrl;
    if (recorded && !onCaller(recorded, caller)) throw otherJobRunner(id, recorded, caller);
  }

  /** The states of `ids`, with the requests a load balancer handed to `caller` adopted first. */
  private async statesFor(ids: string[], caller: string | undefined): Promise<RequestStates> {
    const states = await this.d.requests.statesOf(ids);
    await this.adopt(states, caller);
    return states;
  }

  /**
   * A request is recorded on the URL the RM sent its chain to, then on the URL the JR that took it
   * advertises. When that first URL is a load balancer's (a `jr_client.url` entry no JR heartbeats
   * as its own) and the caller's URL is not configured (it is reached through one), the JR behind it may report before the RM has recorded its URL: its calls would be
   * refused and its first job-log entries lost. So such a request is moved to the calling JR, by a
   * conditional UPDATE (still RUNNING, still on the balancer's URL): only one JR can win it, and a
   * request recorded on a real JR's URL is never moved.
   */
  private async adopt(states: RequestStates, caller: string | undefined): Promise<void> {
    const balancers = this.d.balancers;
    // A caller that is itself a configured URL is reached directly, not through a balancer.
    if (caller === undefined || !balancers || balancers.size === 0 || balancers.has(caller)) return;
    const candidates = [...states].filter(
      ([, st]) =>
        st.state === State.RUNNING &&
        st.jrUrl !== null &&
        !onCaller(st.jrUrl, caller) &&
        balancers.has(st.jrUrl.replace(/\/+$/, '')),
    );
    if (candidates.length === 0) return;
    const real =
      (await this.d.jrStore?.known([...new Set(candidates.map(([, st]) => st.jrUrl as string))])) ??
      new Set();
    for (const [id, st] of candidates) {
      const from = st.jrUrl as string;
      if (real.has(from)) continue;
      if (await this.d.requests.patchIf(id, State.RUNNING, { jr_url: caller }, { jrUrl: from })) {
        states.set(id, { state: State.RUNNING, jrUrl: caller });
        this.log.info('request taken by the Job Runner behind a load balancer', {
          requestId: id,
          loadBalancer: from,
          jobRunner: caller,
        });
      } else {
        const now = (await this.d.requests.statesOf([id])).get(id);
        if (now) states.set(id, now);
        else states.delete(id);
      }
    }
  }

  // ---------------------------------------------------------------- job log

  /** POST /requests/{id}/log: one entry (201 + entry). An identical re-send is fine; different content under the same key is 409. */
  async postLog(id: string, entry: JobLog, caller?: string): Promise<JobLog> {
    entry.requestId = id;
    const st = (await this.statesFor([id], caller)).get(id);
    if (!st) throw requestNotFound(id);
    if (st.jrUrl && !onCaller(st.jrUrl, caller)) throw otherJobRunner(id, st.jrUrl, caller as string);
    if (st.state !== State.RUNNING) {
      // Finished or lost (its JR was given up on): no new entries, but a re-sent stored one is fine.
      const latest = await this.d.logs.tryStates(id);
      if (!latest.some((t) => t.jobId === entry.jobId && t.try === entry.try))
        throw new InvalidStateError(
          `request ${id} in state ${stateName(st.state)}, expected state RUNNING: job log entries are taken only while it runs`,
        );
    }
    await this.d.secrets?.mask([entry]);
    const { conflict } = await this.d.logs.insertOne(entry);
    if (conflict)
      throw new ConflictError(
        `job log entry for request ${id}, job ${entry.jobId}, try ${entry.try} already exists with different content`,
      );
    return entry;
  }

  /**
   * POST /job-logs: entries of any requests; existing (request, job, try) keys
   * are skipped, and so are entries of requests that are not RUNNING (finished,
   * or finalized because their JR was lost): those ids come back in `refused`,
   * so one dead chain cannot block a JR's whole queue. So are entries of
   * requests recorded on another JR than the caller.
   */
  async postLogs(entries: JobLog[], caller?: string): Promise<{ inserted: number; refused?: string[] }> {
    for (const [i, e] of entries.entries()) {
      if (!e.requestId)
        throw new ValidationError(
          `entry ${i}: invalid JobLog: field 'requestId': requestId must be set`,
          'requestId',
        );
    }
    if (entries.length === 0) return { inserted: 0 };
    await this.d.secrets?.mask(entries);
    const ids = [...new Set(entries.map((e) => e.requestId))];
    const states = await this.statesFor(ids, caller);
    const refused = ids.filter((id) => {
      const st = states.get(id);
      return st?.state !== State.RUNNING || !onCaller(st.jrUrl, caller);
    });
    if (refused.length === 0) return { inserted: await this.d.logs.insertMany(entries) };
    const no = new Set(refused);
    const inserted = await this.d.logs.insertMany(entries.filter((e) => !no.has(e.requestId)));
    this.log.warn('job log entries of requests that are not RUNNING (on the caller) were refused', {
      requestIds: refused.slice(0, 20),
      entries: entries.length - entries.filter((e) => !no.has(e.requestId)).length,
      jobRunner: caller,
    });
    return { inserted, refused };
  }

  // ---------------------------------------------------------------- batched JR reports

  /**
   * POST /internal/reports: a JR's job-log entries, progress and finishes in
   * one call, applied in that order, so a finish riding in the same batch as
   * its chain's last entries lands after them. Entries: as POST /job-logs
   * (duplicates skipped, requests that are not RUNNING refused and named).
   * Progress: RUNNING requests only. Finishes: as PUT finish (final states
   * only, RUNNING requests only, an identical repeat is fine), each answered
   * with its outcome. Round trips: one state read for every request named,
   * then the INSERT of the entries, the UPDATE of the progress and the
   * UPDATE of the finishes together (one multi-statement round trip on
   * MySQL), plus a re-read only if a request changed state meanwhile.
   * Requests recorded on another JR than `caller`: their entries are
   * refused, their progress ignored and their finishes answered `other_jr`.
   */
  async report(batch: ParsedReportBatch, caller?: string): Promise<ReportResult> {
    // Keyed by request ids: a hash table from the start (no hidden class per batch, see chain/graph.ts).
    const finishes: Record<string, FinishOutcome> = Object.create(null);
    for (const bad of batch.invalidFinishes) {
      finishes[bad.requestId] = 'invalid';
      this.log.warn('invalid finish refused', { requestId: bad.requestId, error: bad.message });
    }
    const ids = new Set<string>();
    for (const e of batch.logs) ids.add(e.requestId);
    for (const p of batch.progress) ids.add(p.requestId);
    for (const f of batch.finishes) ids.add(f.requestId);
    if (ids.size === 0) return { inserted: 0, refused: [], finishes };
    // Round trip 1: the state of every request named (plus one UPDATE per request a load balancer handed over).
    const states = await this.statesFor([...ids], caller);
    const running = (id: string) => {
      const st = states.get(id);
      return st?.state === State.RUNNING && onCaller(st.jrUrl, caller);
    };

    // 1. Job-log entries of RUNNING requests.
    let refused: string[] = [];
    let accepted: JobLog[] = batch.logs;
    if (batch.logs.length > 0) {
      const logIds = new Set<string>();
      for (const e of batch.logs) logIds.add(e.requestId);
      refused = [...logIds].filter((id) => !running(id));
      if (refused.length > 0) {
        const no = new Set(refused);
        accepted = batch.logs.filter((e) => !no.has(e.requestId));
        this.log.warn('job log entries of requests that are not RUNNING (on the caller) were refused', {
          requestIds: refused.slice(0, 20),
          entries: batch.logs.length - accepted.length,
          jobRunner: caller,
        });
      }
    }

    await this.d.secrets?.mask(accepted);

    // 2. Progress of requests that are not also finished here (the finish carries the count); the last value wins.
    const finishing = new Set(batch.finishes.map((f) => f.requestId));
    const progress = new Map<string, number>();
    for (const p of batch.progress)
      if (running(p.requestId) && !finishing.has(p.requestId)) progress.set(p.requestId, p.finishedJobs);

    // 3. Finishes: those of requests RUNNING now are conditional UPDATEs; the rest are answered from their state.
    // (Several finishes of one request in a batch, which no JR sends, are applied one at a time afterwards.)
    const single = finishing.size === batch.finishes.length;
    const toUpdate: FinishRequest[] = [];
    if (single) {
      for (const f of batch.finishes) {
        const st = states.get(f.requestId);
        if (!st) finishes[f.requestId] = 'not_found';
        else if (!onCaller(st.jrUrl, caller)) finishes[f.requestId] = 'other_jr';
        else if (st.state === State.RUNNING) toUpdate.push(f);
        // A JR retrying a finish whose answer it lost.
        else finishes[f.requestId] = st.state === f.state ? 'ok' : 'not_running';
      }
    }
    // Round trip 2 (on MySQL): entries, then progress, then finishes, in this order.
    const { inserted, finished } = await this.d.reports.apply({
      entries: accepted,
      progress: [...progress].map(([id, finishedJobs]) => ({ id, finishedJobs })),
      finishes: toUpdate.map((f) => ({
        id: f.requestId,
        state: f.state,
        finishedAt: parseRfc3339(f.finishedAt) as Date,
        finishedJobs: f.finishedJobs,
      })),
    });
    if (toUpdate.length > 0) await this.settleFinishes(toUpdate, finished, finishes, caller);
    if (!single) for (const f of batch.finishes) finishes[f.requestId] = await this.finishOne(f, caller);
    return { inserted, refused, finishes };
  }

  /** Outcomes of finishes sent as conditional UPDATEs, `changed` rows having changed. */
  private async settleFinishes(
    toUpdate: FinishRequest[],
    changed: number,
    out: Record<string, FinishOutcome>,
    caller: string | undefined,
  ): Promise<void> {
    if (changed === toUpdate.length) {
      // Only rows of these requests that were RUNNING can have changed, so each of them was finished here.
      for (const f of toUpdate) {
        out[f.requestId] = 'ok';
        this.d.finals?.emit(f.requestId, f.state, rmMetrics.requestFinished(f.requestId, f.state));
      }
    } else {
      // Some changed state between the read and the update: look again.
      const now = await this.d.requests.statesOf(toUpdate.map((f) => f.requestId));
      for (const f of toUpdate) {
        const st = now.get(f.requestId);
        if (!st) out[f.requestId] = 'not_found';
        else if (st.state === f.state) out[f.requestId] = 'ok';
        else if (st.state === State.RUNNING) out[f.requestId] = await this.finishOne(f, caller);
        else out[f.requestId] = 'not_running';
      }
    }
    if (this.log.isInfoEnabled())
      for (const f of toUpdate)
        if (out[f.requestId] === 'ok')
          this.log.info('request finished', {
            requestId: f.requestId,
            state: stateName(f.state),
            finishedJobs: f.finishedJobs,
          });
  }

  /** One finish, as PUT finish decides it, as an outcome. */
  private async finishOne(f: FinishRequest, caller: string | undefined): Promise<FinishOutcome> {
    const recorded = (await this.statesFor([f.requestId], caller)).get(f.requestId)?.jrUrl;
    if (!onCaller(recorded, caller)) return 'other_jr';
    const ok = await this.d.requests.transition(f.requestId, State.RUNNING, {
      state: f.state,
      finished_at: parseRfc3339(f.finishedAt) as Date,
      finished_jobs: f.finishedJobs,
      jr_url: null,
    });
    if (ok) {
      this.d.finals?.emit(f.requestId, f.state, rmMetrics.requestFinished(f.requestId, f.state));
    }
    if (ok) return 'ok';
    const row = await this.d.requests.get(f.requestId);
    if (!row) return 'not_found';
    return row.state === f.state ? 'ok' : 'not_running';
  }
}
