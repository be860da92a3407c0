/**
 * Typed clients for the three HTTP APIs. The RM, the JR, spinc and the tests all
 * use these; none of them calls axios directly.
 */
import { ApiError } from './errors.js';
import { type CallOptions, type ClientOptions, HttpClient } from './http.js';
import { RawJson } from './json.js';
import type { RequestExplanation, RequestPlan } from './operator.js';
import { parseHeartbeatReply, parseReportResult } from './replies.js';
import type {
  FinishRequest,
  JobChain,
  JobChainBatchResult,
  JobLog,
  JobRunnerHeartbeat,
  JobRunnerHeartbeatReply,
  JobRunnerInfo,
  JobStatus,
  ReportBatch,
  ReportResult,
  Request,
  RequestProgress,
  RequestSpec,
  RunningStatus,
  SuspendedJobChain,
} from './wire.js';

const enc = encodeURIComponent;

/**
 * Header a Job Runner sends on every call to the RM: its advertised base URL.
 * The RM takes reports for a request only from the JR it records for it.
 */
export const JOB_RUNNER_HEADER = 'X-Spincycle-Job-Runner';

export interface FindRequestsFilter {
  type?: string;
  user?: string;
  /** State names, e.g. ['RUNNING', 'PENDING']. */
  states?: string[];
  /** Arg name → exact value. */
  args?: Record<string, string>;
  /** RFC 3339 or Date: requests still running after this time. */
  since?: string | Date;
  /** RFC 3339 or Date: requests created before this time. */
  until?: string | Date;
  /** Requests per page (the RM's default 100, at most 1,000). */
  limit?: number;
  offset?: number;
  /** Start after this page boundary: the `nextCursor` of the page before. */
  cursor?: string;
}

/** One page of a find, and the cursor of the next page when there is one. */
export interface FindRequestsPage {
  requests: Request[];
  nextCursor?: string;
}

export interface CreateOptions {
  /** Sent as `Idempotency-Key`: a repeat within the RM's idempotency.ttl answers the first request. */
  idempotencyKey?: string;
}

const iso = (t: string | Date | undefined) => (t instanceof Date ? t.toISOString() : t);

/** The RM's public API (what users, spinc and CI call). */
export class RmClient {
  readonly http: HttpClient;
  constructor(options: ClientOptions | HttpClient) {
    this.http = options instanceof HttpClient ? options : new HttpClient(options);
  }

  /** Create and start a request. Not retried on 5xx: a retry could create it twice. */
  async createRequest(
    type: string,
    args: Record<string, unknown> = {},
    opts: CreateOptions = {},
  ): Promise<Request> {
    // With an Idempotency-Key a retry cannot create the request twice, so 5xx and lost answers are retried.
    const call: CallOptions = opts.idempotencyKey
      ? { idempotent: true, headers: { 'Idempotency-Key': opts.idempotencyKey } }
      : { idempotent: false };
    return (await this.http.call<Request>('POST', '/api/v1/requests', { type, args }, call)).data;
  }

  /** The plan of a create (`dryRun=true`): the chain it would build; nothing is stored or run. */
  async planRequest(type: string, args: Record<string, unknown> = {}): Promise<RequestPlan> {
    return (
      await this.http.call<RequestPlan>(
        'POST',
        '/api/v1/requests',
        { type, args },
        { query: { dryRun: 'true' } },
      )
    ).data;
  }

  /** Why a request is not done (or why it failed). */
  async explainRequest(id: string): Promise<RequestExplanation> {
    return (await this.http.call<RequestExplanation>('GET', `/api/v1/requests/${enc(id)}/explain`)).data;
  }

  async getRequest(id: string): Promise<Request> {
    return (await this.http.call<Request>('GET', `/api/v1/requests/${enc(id)}`)).data;
  }

  /** One page of requests (see findRequestsPage). */
  async findRequests(filter: FindRequestsFilter = {}): Promise<Request[]> {
    return (await this.findRequestsPage(filter)).requests;
  }

  /** One page of requests, newest first; `nextCursor` (the RM's `X-Next-Cursor`) when more match. */
  async findRequestsPage(filter: FindRequestsFilter = {}): Promise<FindRequestsPage> {
    const query: CallOptions['query'] = {
      type: filter.type,
      user: filter.user,
      state: filter.states,
      arg: filter.args ? Object.entries(filter.args).map(([k, v]) => `${k}=${v}`) : undefined,
      since: iso(filter.since),
      until: iso(filter.until),
      limit: filter.limit,
      offset: filter.offset,
      cursor: filter.cursor,
    };
    const res = await this.http.call<Request[]>('GET', '/api/v1/requests', undefined, { query });
    const next = res.headers['x-next-cursor'];
    const requests = res.data ?? [];
    return typeof next === 'string' && next !== '' ? { requests, nextCursor: next } : { requests };
  }

  async startRequest(id: string): Promise<void> {
    await this.http.call('PUT', `/api/v1/requests/${enc(id)}/start`, undefined, { idempotent: false });
  }

  async stopRequest(id: string): Promise<void> {
    await this.http.call('PUT', `/api/v1/requests/${enc(id)}/stop`);
  }

  /** Run a FAIL or STOPPED request again from its failed and stopped jobs; answers it RUNNING. */
  async retryRequest(id: string): Promise<Request> {
    return (
      await this.http.call<Request>('POST', `/api/v1/requests/${enc(id)}/retry`, undefined, {
        idempotent: false,
      })
    ).data;
  }

  async getJobChain(id: string): Promise<JobChain> {
    return (await this.http.call<JobChain>('GET', `/api/v1/requests/${enc(id)}/job-chain`)).data;
  }

  async getJobLogs(id: string): Promise<JobLog[]> {
    return (await this.http.call<JobLog[]>('GET', `/api/v1/requests/${enc(id)}/log`)).data ?? [];
  }

  async getJobLog(id: string, jobId: string): Promise<JobLog> {
    return (await this.http.call<JobLog>('GET', `/api/v1/requests/${enc(id)}/log/${enc(jobId)}`)).data;
  }

  async requestList(): Promise<RequestSpec[]> {
    return (await this.http.call<RequestSpec[]>('GET', '/api/v1/request-list')).data ?? [];
  }

  async runningStatus(requestId?: string): Promise<RunningStatus> {
    return (
      await this.http.call<RunningStatus>('GET', '/api/v1/status/running', undefined, {
        query: { requestId },
      })
    ).data;
  }

  async version(): Promise<string> {
    return String((await this.http.call<string>('GET', '/version')).data);
  }

  /** Our addition: the Job Runners the RMs heard from, with their last heartbeat. */
  async jobRunners(): Promise<JobRunnerInfo[]> {
    return (await this.http.call<JobRunnerInfo[]>('GET', '/api/v1/job-runners')).data ?? [];
  }
}

/** The RM's internal API: what a JR calls back. */
export class RmInternalClient {
  readonly http: HttpClient;
  constructor(options: ClientOptions | HttpClient) {
    this.http = options instanceof HttpClient ? options : new HttpClient(options);
  }

  async finish(body: FinishRequest): Promise<void> {
    await this.http.call('PUT', `/api/v1/requests/${enc(body.requestId)}/finish`, body);
  }

  async suspend(body: SuspendedJobChain): Promise<void> {
    await this.http.call('PUT', `/api/v1/requests/${enc(body.requestId)}/suspend`, body);
  }

  async progress(body: RequestProgress): Promise<void> {
    await this.http.call('PUT', `/api/v1/requests/${enc(body.requestId)}/progress`, body);
  }

  /** One entry, as the original JR sends it. */
  async postJobLog(entry: JobLog): Promise<JobLog> {
    return (await this.http.call<JobLog>('POST', `/api/v1/requests/${enc(entry.requestId)}/log`, entry)).data;
  }

  /**
   * Many entries (any requests) in one call. The RM stores each `(requestId,
   * jobId, try)` once, so a retried batch never duplicates entries.
   */
  async postJobLogs(entries: JobLog[]): Promise<void> {
    if (entries.length > 0) await this.http.call('POST', '/api/v1/job-logs', entries);
  }

  /**
   * Our addition: job-log entries, progress and finishes of any requests in
   * one call. The RM stores the entries first (duplicates ignored), then
   * applies the progress, then each finish; the answer settles every finish.
   */
  async report(batch: ReportBatch): Promise<ReportResult> {
    // Nanosecond times as decimal strings (the RM takes both): the body is then plain JSON both ways, no bigint path.
    const body = {
      logs: batch.logs.map((e) => ({
        ...e,
        startedAt: String(e.startedAt),
        finishedAt: String(e.finishedAt),
      })),
      progress: batch.progress,
      finishes: batch.finishes,
    };
    const res = await this.http.call<unknown>('POST', '/api/v1/internal/reports', body);
    return parseReportResult(res.data);
  }

  /** Our addition: liveness report; the answer names chains the JR must drop. */
  async heartbeat(body: JobRunnerHeartbeat): Promise<JobRunnerHeartbeatReply> {
    const res = await this.http.call<unknown>('PUT', '/api/v1/job-runners/heartbeat', body);
    return parseHeartbeatReply(res.data);
  }
}

/** What a JR answers when it accepts a chain: its own base URL (from `Location`). */
export interface ChainAccepted {
  jrURL: string;
}

/** Base URLs that are already in `scheme://host[:port]` form (what baseOfLocation returns). */
const canonicalBases = new Map<string, boolean>();

function isCanonicalBase(base: string): boolean {
  let known = canonicalBases.get(base);
  if (known === undefined) {
    try {
      const u = new URL(base);
      known = `${u.protocol}//${u.host}` === base;
    } catch {
      known = false;
    }
    if (canonicalBases.size < 1000) canonicalBases.set(base, known);
  }
  return known;
}

function baseOfLocation(location: unknown, fallback: string): string {
  if (typeof location !== 'string' || location === '') return fallback;
  // The common case, a JR answering with the base it was called at: no URL parsing per call.
  if (
    location.startsWith(fallback) &&
    location.charCodeAt(fallback.length) === 47 /* / */ &&
    isCanonicalBase(fallback)
  )
    return fallback;
  try {
    const u = new URL(location, fallback);
    return `${u.protocol}//${u.host}`;
  } catch {
    return fallback;
  }
}

/** The JR's API: what the RM calls. */
export class JrClient {
  readonly http: HttpClient;
  constructor(options: ClientOptions | HttpClient) {
    this.http = options instanceof HttpClient ? options : new HttpClient(options);
  }

  get baseURL(): string {
    return this.http.options.baseURL;
  }

  /** Send a new chain (or its JSON text as RawJson). */
  async startChain(chain: JobChain | RawJson): Promise<ChainAccepted> {
    const res = await this.http.call('POST', '/api/v1/job-chains', chain);
    return { jrURL: baseOfLocation(res.headers.location, this.baseURL) };
  }

  /**
   * Send several new chains (their JSON texts) in one call. Resolves with one
   * outcome per chain, in order; throws ApiError when the call itself fails
   * (a 404/405 from a JR that predates the batch endpoint included).
   */
  async startChains(chainJsons: readonly string[]): Promise<JobChainBatchResult> {
    const body = new RawJson(`{"chains":[${chainJsons.join(',')}]}`);
    const res = await this.http.call<JobChainBatchResult>('POST', '/api/v1/job-chains/batch', body);
    const data = res.data as Partial<JobChainBatchResult> | undefined;
    const results = data?.results;
    if (
      !Array.isArray(results) ||
      results.length !== chainJsons.length ||
      !results.every((r) => typeof r?.requestId === 'string' && Number.isInteger(r.status))
    )
      throw new ApiError(
        `POST ${this.baseURL}/api/v1/job-chains/batch: the answer does not hold one outcome per chain`,
        // No status: like a network error, the chains may be tried on another JR.
        undefined,
        data,
      );
    const jrURL = typeof data?.jrURL === 'string' && data.jrURL !== '' ? data.jrURL : this.baseURL;
    return { jrURL, results };
  }

  async resumeChain(sjc: SuspendedJobChain | RawJson): Promise<ChainAccepted> {
    const res = await this.http.call('POST', '/api/v1/job-chains/resume', sjc);
    return { jrURL: baseOfLocation(res.headers.location, this.baseURL) };
  }

  async stopChain(requestId: string): Promise<void> {
    await this.http.call('PUT', `/api/v1/job-chains/${enc(requestId)}/stop`, undefined, {
      retry: { attempts: 2 },
    });
  }

  async running(requestId?: string): Promise<JobStatus[]> {
    return (
      (
        await this.http.call<JobStatus[]>('GET', '/api/v1/status/running', undefined, {
          query: { requestId },
        })
      ).data ?? []
    );
  }

  async version(): Promise<string> {
    return String((await this.http.call<string>('GET', '/version')).data);
  }
}
