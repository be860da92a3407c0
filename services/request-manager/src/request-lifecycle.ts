/**
 * The request life cycle: create, start, stop, and finalizing requests whose
 * Job Runner no longer runs them. Every change of state is a conditional
 * UPDATE on the expected current state; when it does not apply, the request
 * is re-read to answer precisely (404, 409 or an idempotent 200).
 *
 * Create = validate the args → authorize (a denied caller costs no chain
 * build) → build, at most `maxJobs` jobs (nothing stored on bad input) → ONE insert transaction of the request already RUNNING on the chosen JR →
 * send the chain. Because the row is RUNNING before the JR ever sees the
 * chain, a JR's `finish` can never race ahead of the start. If no JR takes
 * the chain the request is finalized FAIL at once (never stuck).
 */

import { newRequestId } from '@spincycle/chain';
import {
  ApiError,
  ConflictError,
  type CreateRequest,
  type HeldChain,
  InvalidStateError,
  type JobLog,
  type JrClient,
  type Request,
  ShuttingDownError,
  State,
  type StateValue,
  stateName,
  stringifyJson,
  toRfc3339,
  UpstreamError,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { type Authorizer, type Caller, requireAuthorized } from './auth.js';
import type { RequestCatalog } from './catalog.js';
import type { Db } from './db/db.js';
import type { RequestRow } from './db/entities.js';
import type { FinalStates } from './final-states.js';
import { type JrPool, offerChain } from './jr-pool.js';
import type { LockHolder, Locks } from './locks.js';
import { lostJobEntries } from './lost.js';
import { rmMetrics } from './metrics.js';
import { errorMessage as message, notInState, requestNotFound } from './request-errors.js';
import { wireRequestOf } from './request-queries.js';
import type { SecretMasker } from './secret-masker.js';
import { redactArgs, secretValues } from './secrets.js';
import type { JobLogStore } from './stores/job-log-store.js';
import type { JrStore } from './stores/jr-store.js';
import { toWireRequest, withArgs } from './stores/request-rows.js';
import type { NewRequest, RequestStore } from './stores/request-store.js';
import type { SjcStore } from './stores/sjc-store.js';

export const SHUTTING_DOWN_MESSAGE = 'Request Manager is shutting down - no new requests are being started';

export interface RequestLifecycleDeps {
  db: Db;
  requests: RequestStore;
  logs: JobLogStore;
  sjcs: SjcStore;
  catalog: RequestCatalog;
  jrs: JrPool;
  authorizer: Authorizer;
  logger: Logger;
  /** True while the RM drains: create and start answer 503. */
  isDraining: () => boolean;
  /** Job Runner heartbeats: a stop for a request whose JR is known dead finalizes at once. */
  jrStore?: JrStore;
  /** A JR silent longer than this (ms) is lost (`jr.lease`). */
  jrLeaseMs?: number;
  /** Told each new request's secret values, to mask them in its job log. */
  secrets?: SecretMasker;
  /** Most jobs one request's chain may have (`limits.max_jobs`; default the chain builder's). */
  maxJobs?: number;
  /** Told of every final state recorded here (lock release, webhooks). */
  finals?: FinalStates;
  /** Request types with `lock:`: created holding their locks, or PENDING waiting for them. */
  locks?: Locks;
}

/** Options of `finalizeLost`. */
export interface FinalizeLostOptions {
  /** Write a FAIL job-log entry on each job that was running, saying why (only when finalizing FAIL). */
  explain?: boolean;
  /** The jobs running there at the JR's last heartbeat (else derived from the chain and the job log). */
  held?: HeldChain['jobs'];
  /** Only if the JR has not sent a heartbeat since this time (a late heartbeat wins). */
  silentSince?: Date;
}

/** Finalizes a RUNNING request whose chain no Job Runner runs any more (see RequestLifecycle.finalizeLost). */
export type FinalizeLost = (
  id: string,
  jrUrl: string | null,
  state: StateValue,
  reason: string,
  opts?: FinalizeLostOptions,
) => Promise<boolean>;

export class RequestLifecycle {
  private readonly log: Logger;

  constructor(private readonly d: RequestLifecycleDeps) {
    this.log = d.logger.child({ component: 'requests' });
  }

  private assertAccepting(): void {
    if (this.d.isDraining()) throw new ShuttingDownError(SHUTTING_DOWN_MESSAGE);
  }

  /** A final state was recorded: metrics, then the final-state listeners. */
  private finished(id: string, state: number, type?: string): void {
    this.d.finals?.emit(id, state, rmMetrics.requestFinished(id, state, type));
  }

  /** POST /requests: 201 with the request after the start (RUNNING), or PENDING with `waitingFor` (a lock). */
  async create(
    caller: Caller,
    { type, args }: CreateRequest,
  ): Promise<Request & { waitingFor?: LockHolder[] }> {
    this.assertAccepting();
    const t0 = performance.now();
    const id = newRequestId();
    const now = new Date();
    // Authorize before building: the args are checked (400) but no job is made for a caller who is denied.
    const resolved = this.d.catalog.resolveArgs(type, args);
    await requireAuthorized(this.d.authorizer, caller, 'start', {
      id,
      type,
      state: State.PENDING,
      user: caller.name,
      args: resolved.requestArgs,
      createdAt: toRfc3339(now),
      startedAt: null,
      finishedAt: null,
      totalJobs: 0,
      finishedJobs: 0,
    });
    // Every other kind of bad input throws here (400), before anything is stored.
    // Only the chain's JSON comes back: its job objects can be collected while it is stored and sent.
    const { jobChainJson, totalJobs, requestArgs, secretArgs } = await this.d.catalog.buildJson(type, args, {
      requestId: id,
      maxJobs: this.d.maxJobs,
      resolved,
    });
    const tBuilt = performance.now();

    const candidates = this.d.jrs.candidates();
    const target = (candidates[0] as JrClient).baseURL;
    const row: RequestRow = {
      request_id: id,
      type,
      state: State.RUNNING,
      user: caller.name,
      created_at: now,
      started_at: now,
      finished_at: null,
      total_jobs: totalJobs,
      finished_jobs: 0,
      jr_url: target,
    };
    const tSerialized = performance.now();
    const newRequest: NewRequest = {
      row,
      createRequestJson: stringifyJson({ Type: type, Args: args, User: caller.name }),
      argsJson: stringifyJson(requestArgs),
      jobChainJson,
      givenArgs: args,
      secretArgs,
    };
    const lockPlan = this.d.locks?.plan(type, requestArgs);
    const locked = lockPlan && (await this.d.locks?.create(newRequest, lockPlan));
    if (!locked) await this.d.requests.create(newRequest);
    this.d.secrets?.remember(id, secretValues(requestArgs, secretArgs));
    if (locked?.waitingFor) {
      rmMetrics.requestCreated(id, type, t0);
      const pending = withArgs(toWireRequest(locked.stored.row), redactArgs(requestArgs, secretArgs));
      return { ...pending, waitingFor: locked.waitingFor };
    }
    const tStored = performance.now();

    let jrURL: string;
    try {
      jrURL = await this.sendChain(id, jobChainJson, candidates);
    } catch (err) {
      const failedAt = new Date();
      const failed = await this.d.requests.transition(id, State.RUNNING, {
        state: State.FAIL,
        finished_at: failedAt,
        jr_url: null,
      });
      if (failed) this.finished(id, State.FAIL, type);
      this.log.warn('request failed: no Job Runner took its chain', {
        requestId: id,
        error: message(err),
        finalized: failed,
      });
      // With the id: a caller that keeps records (the scheduler) names the FAILed request.
      throw Object.assign(
        new UpstreamError(
          `request ${id} was created but could not be started, so it is FAIL: ${message(err)}`,
          {
            cause: err,
          },
        ),
        { requestId: id },
      );
    }
    const tSent = performance.now();
    rmMetrics.requestCreated(id, type, t0);
    if (this.log.isInfoEnabled())
      this.log.info('request created', { requestId: id, type, user: caller.name, totalJobs, jrURL });
    if (this.log.isDebugEnabled())
      this.log.debug('create timings (ms)', {
        requestId: id,
        build: +(tBuilt - t0).toFixed(2),
        serialize: +(tSerialized - tBuilt).toFixed(2),
        store: +(tStored - tSerialized).toFixed(2),
        send: +(tSent - tStored).toFixed(2),
      });
    return withArgs(toWireRequest({ ...row, jr_url: jrURL }), redactArgs(requestArgs, secretArgs));
  }

  /** Send a chain to the first JR that takes it, recording the request on each JR before it is offered (see offerChain). */
  private sendChain(id: string, chainJson: string, candidates: JrClient[]): Promise<string> {
    return offerChain(
      candidates,
      (jr) => this.d.jrs.startChain(jr, chainJson),
      (from, to) => this.d.requests.patchIf(id, State.RUNNING, { jr_url: to }, { jrUrl: from }),
    );
  }

  /** PUT /requests/{id}/start: a PENDING request only. If no JR takes it, it goes back to PENDING. */
  async start(caller: Caller, id: string): Promise<void> {
    this.assertAccepting();
    const full = await this.d.requests.getFull(id, true);
    if (!full || full.jobChainJson === undefined) throw requestNotFound(id);
    const req = wireRequestOf(full);
    await requireAuthorized(this.d.authorizer, caller, 'start', req);
    if (req.state !== State.PENDING) throw await notInState(this.d.requests, id, 'PENDING');
    await this.d.locks?.assertNotWaiting(id);
    if (!(await this.launch(id, full.jobChainJson, false)))
      throw await notInState(this.d.requests, id, 'PENDING');
  }

  /**
   * Start a PENDING request whose locks were just granted (no caller: the RM
   * releases it). If no JR takes its chain it FAILs, which frees its locks
   * for the next waiter. False when it did not start.
   */
  async startGranted(id: string): Promise<boolean> {
    const chainJson = await this.d.requests.jobChainJson(id);
    if (chainJson === undefined || this.d.isDraining()) return false;
    return this.launch(id, chainJson, true).catch(() => false);
  }

  /**
   * PENDING → RUNNING, then send the chain. False when the request was not
   * PENDING. If no JR takes it: back to PENDING (and the error is thrown), or
   * with `failOnError` FAIL (a final state: the listeners free its locks).
   */
  private async launch(id: string, chainJson: string, failOnError: boolean): Promise<boolean> {
    const candidates = this.d.jrs.candidates();
    const target = (candidates[0] as JrClient).baseURL;
    const started = await this.d.requests.transition(id, State.PENDING, {
      state: State.RUNNING,
      started_at: new Date(),
      finished_at: null,
      jr_url: target,
    });
    if (!started) return false;
    let jrURL: string;
    try {
      jrURL = await this.sendChain(id, chainJson, candidates);
    } catch (err) {
      const back = failOnError
        ? { state: State.FAIL, finished_at: new Date(), jr_url: null }
        : { state: State.PENDING, started_at: null, jr_url: null };
      const moved = await this.d.requests.transition(id, State.RUNNING, back);
      if (moved && failOnError) this.finished(id, State.FAIL);
      this.log.warn(`start failed; request ${failOnError ? 'FAIL' : 'back to PENDING'}`, {
        requestId: id,
        error: message(err),
      });
      throw err;
    }
    this.log.info('request started', { requestId: id, jrURL });
    return true;
  }

  /**
   * PUT /requests/{id}/stop. Finished → no-op; PENDING or SUSPENDED → STOPPED
   * here; RUNNING → the JR stops it and reports STOPPED via finish. When the
   * JR no longer holds the chain (404) or cannot be reached, the RM finalizes
   * the request itself so nothing stays RUNNING.
   */
  async stop(caller: Caller, id: string): Promise<void> {
    const full = await this.d.requests.getFull(id, false);
    if (!full) throw requestNotFound(id);
    const req = wireRequestOf(full);
    await requireAuthorized(this.d.authorizer, caller, 'stop', req);
    let row: RequestRow | undefined;
    // Bounded in time: a JR that is suspending the chain answers 503 until the chain is SUSPENDED here.
    const deadline = Date.now() + 30_000;
    for (let round = 0; round === 0 || Date.now() < deadline; round++) {
      row = round === 0 ? undefined : await this.d.requests.get(id);
      const state = round === 0 ? req.state : row?.state;
      if (state === undefined) throw requestNotFound(id);
      switch (state) {
        case State.COMPLETE:
        case State.FAIL:
        case State.STOPPED:
          return;
        case State.PENDING:
          if (
            await this.d.requests.transition(id, State.PENDING, {
              state: State.STOPPED,
              finished_at: new Date(),
              jr_url: null,
            })
          )
            return this.finished(id, State.STOPPED, req.type);
          break;
        case State.SUSPENDED: {
          const stopped = await this.d.db.tx(async (m) => {
            const ok = await this.d.requests.transition(
              id,
              State.SUSPENDED,
              { state: State.STOPPED, finished_at: new Date(), jr_url: null },
              m,
            );
            if (ok) await this.d.sjcs.delete(id, undefined, m);
            return ok;
          });
          if (stopped) {
            this.finished(id, State.STOPPED, req.type);
            this.log.info('suspended request stopped', { requestId: id });
            return;
          }
          break;
        }
        case State.RUNNING: {
          const jrUrl = round === 0 ? (req.jrURL ?? null) : (row?.jr_url ?? null);
          if (await this.stopRunning(id, jrUrl)) return;
          break;
        }
        default:
          throw new InvalidStateError(`request ${id} in state ${stateName(state)} cannot be stopped`);
      }
    }
    throw new ConflictError(`request ${id} kept changing state while being stopped; try again`);
  }

  /** Stop a RUNNING request on its JR; false when its state changed under us (caller re-reads). */
  private async stopRunning(id: string, jrUrl: string | null): Promise<boolean> {
    if (!jrUrl) return this.finalizeLost(id, null, State.STOPPED, 'no Job Runner recorded for it');
    const lease = this.d.jrLeaseMs;
    const hb = this.d.jrStore && lease ? await this.d.jrStore.get(jrUrl) : undefined;
    if (hb && lease && Date.now() - hb.last_seen.getTime() > lease) {
      // Known dead: no point waiting for timeouts.
      const reason = `Job Runner ${jrUrl} was lost: no heartbeat since ${hb.last_seen.toISOString()} (lease ${lease / 1000}s); request stopped by the user`;
      return this.finalizeLost(id, jrUrl, State.FAIL, reason, {
        explain: true,
        held: hb.held.find((h) => h.requestId === id)?.jobs,
        silentSince: new Date(Date.now() - lease),
      });
    }
    try {
      await this.d.jrs.client(jrUrl).stopChain(id);
      // The JR reports the final state (STOPPED) through finish.
      this.log.info('request stopped on its Job Runner', { requestId: id, jrURL: jrUrl });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        // Not there: it just finished (its finish may be landing) or the JR lost it.
        return this.finalizeLost(id, jrUrl, State.STOPPED, `Job Runner ${jrUrl} does not hold its chain`);
      }
      if (err instanceof ApiError && err.status === undefined) {
        return this.finalizeLost(
          id,
          jrUrl,
          State.FAIL,
          `Job Runner ${jrUrl} was lost: unreachable when the request was stopped: ${message(err)}`,
          { explain: true, held: hb?.held.find((h) => h.requestId === id)?.jobs },
        );
      }
      if (err instanceof ApiError && err.status === 503) {
        // The JR is shutting down and suspending the chain: wait, then stop the SUSPENDED request.
        await new Promise((r) => setTimeout(r, 250));
        return false;
      }
      throw new UpstreamError(`error stopping request ${id} in Job Runner ${jrUrl}: ${message(err)}`, {
        cause: err,
      });
    }
  }

  /**
   * Finalize a RUNNING request whose chain no JR runs (any more). Conditional
   * on it still being RUNNING on the same JR, so a finish or resume that
   * landed meanwhile wins. This is the seam where the HA work (leases, dead
   * JR detection) finalizes requests of lost Job Runners.
   */
  async finalizeLost(
    id: string,
    jrUrl: string | null,
    state: StateValue,
    reason: string,
    opts: FinalizeLostOptions = {},
  ): Promise<boolean> {
    let entries: JobLog[] = [];
    if (opts.explain && state === State.FAIL) {
      const lost = await lostJobEntries(this.d, id, opts.held, (_job, running) =>
        running ? `${reason} (the job was running there)` : `${reason} (the job had not finished)`,
      );
      // Every job had completed and been logged: only the finish was lost, so the request did complete.
      if (lost.allComplete) state = State.COMPLETE;
      entries = lost.entries;
    }
    const finishedAt = new Date();
    const done = await this.d.db.tx(async (m) => {
      const ok = await this.d.requests.failLost(m, id, jrUrl, state, finishedAt, opts.silentSince);
      if (ok && entries.length > 0) await this.d.logs.insertManyIn(m, entries);
      return ok;
    });
    if (done) this.finished(id, state);
    if (done)
      this.log.warn('request finalized by the RM', {
        requestId: id,
        jrURL: jrUrl,
        state: stateName(state),
        reason,
        jobsExplained: entries.length,
      });
    return done;
  }
}
