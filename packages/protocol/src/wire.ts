/**
 * Every JSON shape exchanged by the RM, the JR, spinc and REST clients
 * (the public API's documented shapes and our internal calls). Keys are exactly the wire keys,
 * including the capitalised ones of RequestArg / RequestSpec and `JobChain`.
 */
import type { StateValue } from './states.js';

/** Unix time in nanoseconds. A bigint because nanosecond timestamps exceed 2^53. */
export type UnixNanos = bigint;

/** RFC 3339 time string, e.g. `2019-04-02T18:39:26.123Z`. */
export type Rfc3339 = string;

export type JobArgs = Record<string, unknown>;
export type JobData = Record<string, unknown>;

/** One job of a job chain. Optional keys are omitted from JSON when empty. */
export interface Job {
  id: string;
  name: string;
  type: string;
  /** base64 of the job's serialized bytes; omitted when empty. */
  bytes?: string;
  state: StateValue;
  /** Job args the job was created with; omitted when empty. */
  args?: JobArgs;
  /** Run-time job data; omitted when empty. */
  data?: JobData;
  retry: number;
  /** Duration string such as `500ms`; omitted when empty. */
  retryWait?: string;
  /** `constant` (the default when omitted) or `exponential`: how `retryWait` grows per retry. */
  retryBackoff?: string;
  /** Duration string: the cap of an exponential `retryWait`; omitted when none. */
  retryWaitMax?: string;
  /** Duration string: the longest one try of the job may run; omitted when none. */
  timeout?: string;
  sequenceId: string;
  sequenceRetry: number;
  sequenceRetryWait?: string;
  /** On a sequence start job: how `sequenceRetryWait` grows per sequence retry. */
  sequenceRetryBackoff?: string;
  /** On a sequence start job: the cap of an exponential `sequenceRetryWait`. */
  sequenceRetryWaitMax?: string;
  /** On a sequence start job: the longest one try of the sequence may run; omitted when none. */
  sequenceTimeout?: string;
}

export interface JobChain {
  requestId: string;
  jobs: Record<string, Job>;
  /** Job id → ids of its direct successors. Jobs without successors may be absent. */
  adjacencyList: Record<string, string[]>;
  state: StateValue;
  finishedJobs: number;
  /** Duration string: the longest the request may run on a JR before it is stopped and fails; omitted when none. */
  timeout?: string;
}

/** RequestArg: capitalised keys, none omitted. */
export interface RequestArg {
  Pos: number;
  Name: string;
  Desc: string;
  Type: 'required' | 'optional' | 'static';
  Given: boolean;
  Default: unknown;
  Value: unknown;
  /** Only in the request list, only when true: the arg is secret (its values are never shown). */
  Secret?: boolean;
}

export interface RequestSpec {
  Name: string;
  Args: RequestArg[];
}

export interface Request {
  id: string;
  type: string;
  state: StateValue;
  user: string;
  /** Omitted in find results. */
  args?: RequestArg[];
  createdAt: Rfc3339;
  startedAt: Rfc3339 | null;
  finishedAt: Rfc3339 | null;
  /** Omitted when absent. */
  JobChain?: JobChain;
  totalJobs: number;
  finishedJobs: number;
  /** Base URL of the JR running it; omitted when empty. */
  jrURL?: string;
}

/** Body of POST /api/v1/requests. Keys are accepted case-insensitively. */
export interface CreateRequest {
  type: string;
  args: Record<string, unknown>;
}

/** JR → RM when a chain ends. */
export interface FinishRequest {
  requestId: string;
  state: StateValue;
  finishedAt: Rfc3339;
  finishedJobs: number;
}

/** JR → RM, periodically. */
export interface RequestProgress {
  requestId: string;
  finishedJobs: number;
}

/**
 * Our addition: everything a JR reports in one call (`POST /api/v1/internal/reports`).
 * The RM inserts the logs first, then applies the progress, then each finish,
 * so a finish may travel in the same batch as its chain's last entries.
 * RmInternalClient sends the entries' nanosecond times as decimal strings
 * (the RM takes integers too), which keeps the body plain JSON.
 */
export interface ReportBatch {
  logs: JobLog[];
  progress: RequestProgress[];
  finishes: FinishRequest[];
}

/**
 * Fate of one finish of a ReportBatch. `ok`: applied (or the identical final
 * state was already stored); `not_running`: the request has another state;
 * `not_found`: no such request; `invalid`: the finish itself is bad. These
 * four are settled: a JR retries a batch only on a network error or a 5xx.
 * `other_jr`: the request is recorded on another Job Runner than the caller
 * (header `X-Spincycle-Job-Runner`); not settled: the JR sends it again, since
 * the record may be about to name it (a chain just sent through another URL),
 * until its heartbeat's answer tells it to drop the chain.
 */
export type FinishOutcome = 'ok' | 'not_running' | 'not_found' | 'invalid' | 'other_jr';

/** The RM's answer to a ReportBatch. */
export interface ReportResult {
  /** Job-log entries stored (re-sent ones are not counted). */
  inserted: number;
  /** Requests whose entries were refused because they are not RUNNING. */
  refused: string[];
  /** One outcome per finish, by request id. */
  finishes: Record<string, FinishOutcome>;
}

/**
 * Our addition: several new chains in one call (`POST /api/v1/job-chains/batch`).
 * An RM sends one when chains for the same JR pile up under load (a lone chain
 * still goes to `POST /api/v1/job-chains`). Each chain is taken or refused on
 * its own, exactly as the single call would.
 */
export interface JobChainBatch {
  chains: JobChain[];
}

/**
 * Fate of one chain of a JobChainBatch, with the status the single call would
 * have answered: 200 taken, 400 invalid (message says why), 409 already on
 * this JR, 503 the JR is shutting down.
 */
export interface ChainBatchOutcome {
  requestId: string;
  status: number;
  message?: string;
}

/** The JR's answer to a JobChainBatch: its advertised base URL and one outcome per chain, in order. */
export interface JobChainBatchResult {
  jrURL: string;
  results: ChainBatchOutcome[];
}

/** A partly run chain handed from a JR to the RM. */
export interface SuspendedJobChain {
  requestId: string;
  jobChain: JobChain;
  totalJobTries: Record<string, number>;
  latestRunJobTries: Record<string, number>;
  sequenceTries: Record<string, number>;
}

/** One try of one job. All keys always present. `(requestId, jobId, try)` is unique. */
export interface JobLog {
  requestId: string;
  jobId: string;
  try: number;
  name: string;
  type: string;
  startedAt: UnixNanos;
  finishedAt: UnixNanos;
  state: StateValue;
  exit: number;
  error: string;
  stdout: string;
  stderr: string;
}

export interface JobStatus {
  requestId: string;
  jobId: string;
  type: string;
  name: string;
  startedAt: UnixNanos;
  state: StateValue;
  /** Omitted when empty. */
  status?: string;
  try: number;
}

export interface RunningStatus {
  jobs: JobStatus[];
  requests: Record<string, Request>;
  /** Our addition: JRs that did not answer, so a dead JR is visible instead of silently missing. */
  unreachable?: UnreachableRunner[];
}

export interface UnreachableRunner {
  jrURL: string;
  error: string;
}

/**
 * Our addition: a Job Runner's liveness report (`PUT /api/v1/job-runners/heartbeat`),
 * sent every few seconds. The RM stores it; a JR silent past the lease has its
 * RUNNING requests finalized as lost.
 */
export interface JobRunnerHeartbeat {
  /** The JR's advertised base URL (what its `Location` answers carry). */
  jrURL: string;
  /** Random id of this JR process (a restart on the same URL gets a new one). */
  instance: string;
  /** When this JR process started. */
  startedAt: Rfc3339;
  /** True once the JR is shutting down (it takes no new chains). */
  draining: boolean;
  /** Every chain the JR holds, with the jobs running in it. */
  requests: HeldChain[];
}

export interface HeldChain {
  requestId: string;
  /** Jobs with an active runner: id, name, type and the try they are on (their job-log number). */
  jobs: Array<{ jobId: string; name: string; type: string; try: number }>;
}

/** The RM's answer to a heartbeat. */
export interface JobRunnerHeartbeatReply {
  /** Request ids the JR must drop at once (stop their jobs, send nothing more): they are no longer RUNNING on it. */
  drop: string[];
  /** The lease (ms): silent longer than this, the JR is considered lost. */
  leaseMs: number;
}

/** A Job Runner as the RM knows it from its heartbeats (`GET /api/v1/job-runners`). */
export interface JobRunnerInfo {
  jrURL: string;
  instance: string;
  startedAt: Rfc3339 | null;
  lastSeen: Rfc3339;
  /** Chains it held at its last heartbeat. */
  chains: number;
  draining: boolean;
  /** Heard from within the lease. */
  live: boolean;
}

/** Error body of handled RM errors. */
export interface ErrorBody {
  message: string;
  requestId: string;
  httpStatus: number;
}
