/**
 * The request life cycle (reference §4, with the fixes listed at the top of
 * the behaviour reference). Every change of state is a conditional UPDATE on
 * the expected current state; when it does not apply, the request is re-read
 * to answer precisely (404, 409 or an idempotent 200).
 *
 * Create = validate + build (nothing stored on bad input) → authorize →
 * ONE insert transaction of the request already RUNNING on the chosen JR →
 * send the chain. Because the row is RUNNING before the JR ever sees the
 * chain, a JR's `finish` can never race ahead of the start. If no JR takes
 * the chain the request is finalized FAIL at once (never stuck).
 */
import { randomBytes } from 'node:crypto';
import {
  ApiError,
  ConflictError,
  type FinishOutcome,
  type FinishRequest,
  type HeldChain,
  InvalidStateError,
  type JobChain,
  type JobLog,
  type JrClient,
  NotFoundError,
  parseCreateRequest,
  parseFinishRequest,
  parseJobLog,
  parseJobLogs,
  parseJsonText,
  parseReportBatch,
  parseRequestProgress,
  parseRfc3339,
  parseSuspendedJobChain,
  type ReportResult,
  type Request,
  type RequestArg,
  ShuttingDownError,
  State,
  stateName,
  stringifyJson,
  toRfc3339,
  UpstreamError,
  ValidationError,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { type Authorizer, type Caller, requireAuthorized } from './auth.js';
import type { RequestCatalog } from './catalog.js';
import type { Db } from './db/data-source.js';
import type { RequestRow } from './db/entities.js';
import type { JrPool } from './jr-pool.js';
import { lostJobEntries } from './lost.js';
import type { JobLogStore } from './stores/job-log-store.js';
import type { JrStore } from './stores/jr-store.js';
import { type FindFilter, type RequestStore, toWireRequest, withArgs } from './stores/request-store.js';
import type { SjcStore } from './stores/sjc-store.js';

export const SHUTTING_DOWN_MESSAGE = 'Request Manager is shutting down - no new requests are being started';

export interface RequestServiceDeps {
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

/** JSON text stored by us (plain JSON.parse unless it may hold integers too big for a double). */
export function parseStoredJson<T>(text: string): T {
  return parseJsonText(text) as T;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const CHAIN_TOKEN = `@@job-chain-${randomBytes(8).toString('hex')}@@`;

/**
 * A full Request as JSON text in pieces, the archived chain verbatim between
 * them: a megabyte chain is neither parsed, re-serialised nor copied for a GET
 * (the pieces are written one after the other).
 */
export function requestJsonParts(req: Request, chainJson: string | undefined): string[] {
  const { id, type, state, user, args, createdAt, startedAt, finishedAt, totalJobs, finishedJobs, jrURL } =
    req;
  const out: Record<string, unknown> = { id, type, state, user, args, createdAt, startedAt, finishedAt };
  if (args === undefined) delete out.args;
  if (chainJson !== undefined) out.JobChain = CHAIN_TOKEN;
  out.totalJobs = totalJobs;
  out.finishedJobs = finishedJobs;
  if (jrURL) out.jrURL = jrURL;
  const text = stringifyJson(out);
  if (chainJson === undefined) return [text];
  const at = text.indexOf(`"${CHAIN_TOKEN}"`);
  return [text.slice(0, at), chainJson, text.slice(at + CHAIN_TOKEN.length + 2)];
}

export class RequestService {
  private readonly log: Logger;

  constructor(private readonly d: RequestServiceDeps) {
    this.log = d.logger.child({ component: 'requests' });
  }

  private assertAccepting(): void {
    if (this.d.isDraining()) throw new ShuttingDownError(SHUTTING_DOWN_MESSAGE);
  }

  private notFound(id: string): NotFoundError {
    return new NotFoundError(`request ${id} not found`);
  }

  private async invalidState(id: string, expected: string): Promise<Error> {
    const row = await this.d.requests.get(id);
    if (!row) return this.notFound(id);
    return new InvalidStateError(
      `request ${id} in state ${stateName(row.state)}, expected state ${expected}`,
    );
  }

  // ---------------------------------------------------------------- create

  /** POST /requests: 201 with the request as it is after the start (RUNNING). */
  async create(caller: Caller, body: unknown): Promise<Request> {
    this.assertAccepting();
    const t0 = performance.now();
    const { type, args } = parseCreateRequest(body);
    // Every kind of bad input throws here (400), before anything is stored.
    const { requestId: id, chain, requestArgs } = await this.d.catalog.build(type, args);
    const tBuilt = performance.now();
    const now = new Date();
    const totalJobs = Object.keys(chain.jobs).length;
    const pending: Request = {
      id,
      type,
      state: State.PENDING,
      user: caller.name,
      args: requestArgs,
      createdAt: toRfc3339(now),
      startedAt: null,
      finishedAt: null,
      JobChain: chain,
      totalJobs,
      finishedJobs: 0,
    };
    await requireAuthorized(this.d.authorizer, caller, 'start', pending);

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
    const jobChainJson = stringifyJson(chain);
    const tSerialized = performance.now();
    await this.d.requests.create({
      row,
      createRequestJson: stringifyJson({ Type: type, Args: args, User: caller.name }),
      argsJson: stringifyJson(requestArgs),
      jobChainJson,
      givenArgs: args,
    });
    const tStored = performance.now();

    let jrURL: string;
    try {
      jrURL = await this.sendChain(jobChainJson, candidates);
    } catch (err) {
      const failedAt = new Date();
      const failed = await this.d.requests.transition(id, State.RUNNING, {
        state: State.FAIL,
        finished_at: failedAt,
        jr_url: null,
      });
      this.log.warn('request failed: no Job Runner took its chain', {
        requestId: id,
        error: message(err),
        finalized: failed,
      });
      throw new UpstreamError(
        `request ${id} was created but could not be started, so it is FAIL: ${message(err)}`,
        { cause: err },
      );
    }
    if (jrURL !== target)
      await this.d.requests.patchIf(id, State.RUNNING, { jr_url: jrURL }, { jrUrl: target });
    const tSent = performance.now();
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
    return withArgs(toWireRequest({ ...row, jr_url: jrURL }), requestArgs);
  }

  /**
   * Send a chain to the first JR that takes it. A JR that cannot be reached
   * (after the client's bounded retries) or answers 5xx is skipped for the
   * next; a 4xx means the chain itself is refused, so no other JR is tried.
   */
  private async sendChain(chainJson: string, candidates: JrClient[]): Promise<string> {
    const problems: string[] = [];
    for (const jr of candidates) {
      try {
        return await this.d.jrs.startChain(jr, chainJson);
      } catch (err) {
        // 409: the JR already holds this chain (a retried POST whose first answer was lost).
        if (err instanceof ApiError && err.status === 409) return jr.baseURL;
        problems.push(`Job Runner ${jr.baseURL}: ${message(err)}`);
        if (err instanceof ApiError && err.status !== undefined && err.status < 500) break;
      }
    }
    throw new UpstreamError(`no Job Runner accepted the job chain: ${problems.join('; ')}`);
  }

  // ---------------------------------------------------------------- reads

  /** GET /requests/{id} (with args and the creation-time JobChain) as pieces of JSON text to write one after the other (see requestJsonParts). */
  async getJsonParts(id: string): Promise<string[]> {
    const full = await this.d.requests.getFull(id, true);
    if (!full) throw this.notFound(id);
    const args = full.argsJson === undefined ? [] : parseStoredJson<RequestArg[]>(full.argsJson);
    return requestJsonParts(withArgs(toWireRequest(full.row), args), full.jobChainJson);
  }

  async get(id: string, withChain = false): Promise<Request> {
    const full = await this.d.requests.getFull(id, withChain);
    if (!full) throw this.notFound(id);
    const req = withArgs(
      toWireRequest(full.row),
      full.argsJson === undefined ? [] : parseStoredJson<RequestArg[]>(full.argsJson),
    );
    if (withChain && full.jobChainJson !== undefined)
      req.JobChain = parseStoredJson<JobChain>(full.jobChainJson);
    return req;
  }

  async jobChainJson(id: string): Promise<string> {
    const text = await this.d.requests.jobChainJson(id);
    if (text === undefined) throw this.notFound(id);
    return text;
  }

  /** Find: rows without args or JobChain; `[]` when nothing matches. */
  async find(filter: FindFilter): Promise<Request[]> {
    return (await this.d.requests.find(filter)).map(toWireRequest);
  }

  // ---------------------------------------------------------------- start / stop

  /** PUT /requests/{id}/start: a PENDING request only. If no JR takes it, it goes back to PENDING. */
  async start(caller: Caller, id: string): Promise<void> {
    this.assertAccepting();
    const full = await this.d.requests.getFull(id, true);
    if (!full || full.jobChainJson === undefined) throw this.notFound(id);
    const chainJson = full.jobChainJson;
    const req = withArgs(
      toWireRequest(full.row),
      full.argsJson === undefined ? [] : parseStoredJson<RequestArg[]>(full.argsJson),
    );
    req.JobChain = parseStoredJson<JobChain>(chainJson);
    await requireAuthorized(this.d.authorizer, caller, 'start', req);
    if (req.state !== State.PENDING) throw await this.invalidState(id, 'PENDING');
    const candidates = this.d.jrs.candidates();
    const target = (candidates[0] as JrClient).baseURL;
    const started = await this.d.requests.transition(id, State.PENDING, {
      state: State.RUNNING,
      started_at: new Date(),
      finished_at: null,
      jr_url: target,
    });
    if (!started) throw await this.invalidState(id, 'PENDING');
    let jrURL: string;
    try {
      jrURL = await this.sendChain(chainJson, candidates);
    } catch (err) {
      await this.d.requests.transition(id, State.RUNNING, {
        state: State.PENDING,
        started_at: null,
        jr_url: null,
      });
      this.log.warn('start failed; request back to PENDING', { requestId: id, error: message(err) });
      throw err;
    }
    if (jrURL !== target)
      await this.d.requests.patchIf(id, State.RUNNING, { jr_url: jrURL }, { jrUrl: target });
    this.log.info('request started', { requestId: id, jrURL });
  }

  /**
   * PUT /requests/{id}/stop. Finished → no-op; PENDING or SUSPENDED → STOPPED
   * here; RUNNING → the JR stops it and reports STOPPED via finish. When the
   * JR no longer holds the chain (404) or cannot be reached, the RM finalizes
   * the request itself so nothing stays RUNNING.
   */
  async stop(caller: Caller, id: string): Promise<void> {
    const req = await this.get(id, false);
    await requireAuthorized(this.d.authorizer, caller, 'stop', req);
    let row: RequestRow | undefined;
    // Bounded in time: a JR that is suspending the chain answers 503 until the chain is SUSPENDED here.
    const deadline = Date.now() + 30_000;
    for (let round = 0; round === 0 || Date.now() < deadline; round++) {
      row = round === 0 ? undefined : await this.d.requests.get(id);
      const state = round === 0 ? req.state : row?.state;
      if (state === undefined) throw this.notFound(id);
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
            return;
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
    state: number,
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

  // ---------------------------------------------------------------- JR callbacks

  /** PUT /requests/{id}/finish: terminal states only, only while RUNNING (a repeated identical finish is fine). */
  async finish(id: string, body: unknown): Promise<void> {
    const fin = parseFinishRequest(body);
    if (fin.requestId && fin.requestId !== id) {
      throw new ValidationError(
        `invalid FinishRequest: requestId=${fin.requestId} does not match request ID in URL: ${id}`,
        'requestId',
      );
    }
    const finishedAt = parseRfc3339(fin.finishedAt) as Date;
    const ok = await this.d.requests.transition(id, State.RUNNING, {
      state: fin.state,
      finished_at: finishedAt,
      finished_jobs: fin.finishedJobs,
      jr_url: null,
    });
    if (ok) {
      this.log.info('request finished', {
        requestId: id,
        state: stateName(fin.state),
        finishedJobs: fin.finishedJobs,
      });
      return;
    }
    const row = await this.d.requests.get(id);
    if (!row) throw this.notFound(id);
    if (row.state === fin.state) return; // the JR retried a finish whose answer it lost
    throw new InvalidStateError(`request ${id} in state ${stateName(row.state)}, expected state RUNNING`);
  }

  /** PUT /requests/{id}/progress: only while RUNNING. */
  async progress(id: string, body: unknown): Promise<void> {
    const p = parseRequestProgress(body);
    if (p.requestId === '')
      throw new ValidationError('invalid RequestProgress: RequestId is empty, must be set', 'requestId');
    if (p.requestId !== id) {
      throw new ValidationError(
        `invalid RequestProgress: RequestId=${p.requestId} does not match request ID in URL: ${id}`,
        'requestId',
      );
    }
    if (await this.d.requests.patchIf(id, State.RUNNING, { finished_jobs: p.finishedJobs })) return;
    throw await this.invalidState(id, 'RUNNING');
  }

  /** PUT /requests/{id}/suspend: store the SJC and RUNNING → SUSPENDED (jr_url NULL) in one transaction. */
  async suspend(id: string, body: unknown): Promise<void> {
    const sjc = parseSuspendedJobChain(body);
    if (sjc.requestId !== id) {
      throw new ValidationError(
        `invalid SuspendedJobChain: requestId=${sjc.requestId} does not match request ID in URL: ${id}`,
        'requestId',
      );
    }
    const text = stringifyJson(sjc);
    const now = new Date();
    // The JR that hands the chain back is stopping: say so on its row, so that a new process on
    // its address is never taken for a crashed one that lost this chain (jr-liveness.ts).
    const jrUrl = this.d.jrStore ? (await this.d.requests.statesOf([id])).get(id)?.jrUrl : undefined;
    const ok = await this.d.db.tx(async (m) => {
      if (!(await this.d.requests.transition(id, State.RUNNING, { state: State.SUSPENDED, jr_url: null }, m)))
        return false;
      await this.d.sjcs.putIn(m, id, text, now);
      if (jrUrl) await this.d.jrStore?.markDrainingIn(m, jrUrl);
      return true;
    });
    if (!ok) throw await this.invalidState(id, 'RUNNING');
    this.log.info('request suspended', { requestId: id });
  }

  // ---------------------------------------------------------------- job log

  /** POST /requests/{id}/log: one entry (201 + entry). An identical re-send is fine; different content under the same key is 409. */
  async postLog(id: string, body: unknown): Promise<JobLog> {
    const entry = parseJobLog(body) as JobLog;
    entry.requestId = id;
    const st = (await this.d.requests.statesOf([id])).get(id);
    if (!st) throw this.notFound(id);
    if (st.state !== State.RUNNING) {
      // Finished or lost (its JR was given up on): no new entries, but a re-sent stored one is fine.
      const latest = await this.d.logs.tryStates(id);
      if (!latest.some((t) => t.jobId === entry.jobId && t.try === entry.try))
        throw new InvalidStateError(
          `request ${id} in state ${stateName(st.state)}, expected state RUNNING: job log entries are taken only while it runs`,
        );
    }
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
   * so one dead chain cannot block a JR's whole queue.
   */
  async postLogs(body: unknown): Promise<{ inserted: number; refused?: string[] }> {
    const entries = parseJobLogs(body) as JobLog[];
    for (const [i, e] of entries.entries()) {
      if (!e.requestId)
        throw new ValidationError(
          `entry ${i}: invalid JobLog: field 'requestId': requestId must be set`,
          'requestId',
        );
    }
    if (entries.length === 0) return { inserted: 0 };
    const ids = [...new Set(entries.map((e) => e.requestId))];
    const states = await this.d.requests.statesOf(ids);
    const refused = ids.filter((id) => states.get(id)?.state !== State.RUNNING);
    if (refused.length === 0) return { inserted: await this.d.logs.insertMany(entries) };
    const no = new Set(refused);
    const inserted = await this.d.logs.insertMany(entries.filter((e) => !no.has(e.requestId)));
    this.log.warn('job log entries of requests that are not RUNNING were refused', {
      requestIds: refused.slice(0, 20),
      entries: entries.length - entries.filter((e) => !no.has(e.requestId)).length,
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
   */
  async report(body: unknown): Promise<ReportResult> {
    const batch = parseReportBatch(body);
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
    // Round trip 1: the state of every request named.
    const states = await this.d.requests.statesOf([...ids]);
    const running = (id: string) => states.get(id)?.state === State.RUNNING;

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
        this.log.warn('job log entries of requests that are not RUNNING were refused', {
          requestIds: refused.slice(0, 20),
          entries: batch.logs.length - accepted.length,
        });
      }
    }
    const logStatements = accepted.length > 0 ? this.d.logs.insertStatements(accepted) : [];

    // 2. Progress of requests that are not also finished here (the finish carries the count); the last value wins.
    const finishing = new Set(batch.finishes.map((f) => f.requestId));
    const progress = new Map<string, number>();
    for (const p of batch.progress)
      if (running(p.requestId) && !finishing.has(p.requestId)) progress.set(p.requestId, p.finishedJobs);
    const progressStatements =
      progress.size > 0
        ? this.d.requests.progressStatements(
            [...progress].map(([id, finishedJobs]) => ({ id, finishedJobs })),
          )
        : [];

    // 3. Finishes: those of requests RUNNING now are conditional UPDATEs; the rest are answered from their state.
    // (Several finishes of one request in a batch, which no JR sends, are applied one at a time afterwards.)
    const single = finishing.size === batch.finishes.length;
    const toUpdate: FinishRequest[] = [];
    if (single) {
      for (const f of batch.finishes) {
        const st = states.get(f.requestId);
        if (!st) finishes[f.requestId] = 'not_found';
        else if (st.state === State.RUNNING) toUpdate.push(f);
        // A JR retrying a finish whose answer it lost.
        else finishes[f.requestId] = st.state === f.state ? 'ok' : 'not_running';
      }
    }
    const finishStatements = this.d.requests.finishStatements(
      toUpdate.map((f) => ({
        id: f.requestId,
        state: f.state,
        finishedAt: parseRfc3339(f.finishedAt) as Date,
        finishedJobs: f.finishedJobs,
      })),
    );

    // Round trip 2 (on MySQL): entries, then progress, then finishes, in this order.
    const counts = await this.d.db.execStatements([
      ...logStatements,
      ...progressStatements,
      ...finishStatements,
    ]);
    let inserted = 0;
    for (let i = 0; i < logStatements.length; i++) inserted += counts[i] as number;
    let changed = 0;
    for (let i = counts.length - finishStatements.length; i < counts.length; i++)
      changed += counts[i] as number;
    if (toUpdate.length > 0) await this.settleFinishes(toUpdate, changed, finishes);
    if (!single) for (const f of batch.finishes) finishes[f.requestId] = await this.finishOne(f);
    return { inserted, refused, finishes };
  }

  /** Outcomes of finishes sent as conditional UPDATEs, `changed` rows having changed. */
  private async settleFinishes(
    toUpdate: FinishRequest[],
    changed: number,
    out: Record<string, FinishOutcome>,
  ): Promise<void> {
    if (changed === toUpdate.length) {
      // Only rows of these requests that were RUNNING can have changed, so each of them was finished here.
      for (const f of toUpdate) out[f.requestId] = 'ok';
    } else {
      // Some changed state between the read and the update: look again.
      const now = await this.d.requests.statesOf(toUpdate.map((f) => f.requestId));
      for (const f of toUpdate) {
        const st = now.get(f.requestId);
        if (!st) out[f.requestId] = 'not_found';
        else if (st.state === f.state) out[f.requestId] = 'ok';
        else if (st.state === State.RUNNING) out[f.requestId] = await this.finishOne(f);
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
  private async finishOne(f: FinishRequest): Promise<FinishOutcome> {
    const ok = await this.d.requests.transition(f.requestId, State.RUNNING, {
      state: f.state,
      finished_at: parseRfc3339(f.finishedAt) as Date,
      finished_jobs: f.finishedJobs,
      jr_url: null,
    });
    if (ok) return 'ok';
    const row = await this.d.requests.get(f.requestId);
    if (!row) return 'not_found';
    return row.state === f.state ? 'ok' : 'not_running';
  }

  /** GET /requests/{id}/log as JSON text (JobLogStore.list serialised, built directly from the rows). */
  async listLogsJson(id: string): Promise<string> {
    const { json, count } = await this.d.logs.listJson(id);
    if (count === 0 && !(await this.d.requests.get(id))) throw this.notFound(id);
    return json;
  }

  async latestLog(id: string, jobId: string): Promise<JobLog> {
    const entry = await this.d.logs.latest(id, jobId);
    if (entry) return entry;
    if (!(await this.d.requests.get(id))) throw this.notFound(id);
    throw new NotFoundError(`job ${jobId} not found in request ${id}`);
  }
}
