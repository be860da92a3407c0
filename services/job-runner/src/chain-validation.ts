/**
 * Validation of incoming job chains (reference §7.11) in one O(V+E) pass.
 *
 * Field checks are hand-written rather than class-validator DTOs: those cost
 * 50–200 ms for a 7,000-job chain, this costs a few ms. Every problem is a
 * 400 (the original answered state and count problems with 500).
 */
import {
  BadRequestError,
  isDuration,
  type Job,
  type JobChain,
  parseDurationMs,
  State,
  type SuspendedJobChain,
  stateName,
} from '@spincycle/protocol';

/** A chain that passed validation, with what traversal needs precomputed. */
export interface ValidChain {
  chain: JobChain;
  /** Job ids; jobs are referred to by their index in this list below. */
  ids: string[];
  /** Indexes of the jobs in a topological order. */
  order: number[];
  /** Deduplicated successor indexes per job. */
  successors: number[][];
}

export interface ValidSuspendedChain extends ValidChain {
  sjc: SuspendedJobChain;
}

export type ChainKind = 'new' | 'existing';

/** A JSON object (not null, not a list). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function bad(message: string): BadRequestError {
  return new BadRequestError(message);
}

const OPTIONAL_STRINGS = ['bytes', 'retryWait', 'sequenceRetryWait'] as const;

/** Field-level checks of one job; fills Go-style zero values for absent counters. */
function checkJob(what: string, key: string, value: unknown): Job {
  const where = `invalid ${what}: job ${key}`;
  if (!isObject(value)) throw bad(`${where}: must be a JSON object`);
  const job = value as unknown as Job;
  if (typeof job.id !== 'string') throw bad(`${where}: field 'id' must be a string`);
  if (job.id !== key) throw bad(`${where}: key does not match its id ${JSON.stringify(job.id)}`);
  if (typeof job.type !== 'string') throw bad(`${where}: field 'type' must be a string`);
  if (job.name === undefined || job.name === null) job.name = '';
  else if (typeof job.name !== 'string') throw bad(`${where}: field 'name' must be a string`);
  if (typeof job.state !== 'number' || !Number.isInteger(job.state))
    throw bad(`${where}: field 'state' must be an integer state`);
  for (const f of ['retry', 'sequenceRetry'] as const) {
    const v = job[f];
    if (v === undefined || v === null) job[f] = 0;
    else if (!isCount(v)) throw bad(`${where}: field '${f}' must be a non-negative integer`);
  }
  if (job.sequenceId === undefined || job.sequenceId === null) job.sequenceId = '';
  else if (typeof job.sequenceId !== 'string') throw bad(`${where}: field 'sequenceId' must be a string`);
  for (const f of OPTIONAL_STRINGS) {
    const v = job[f];
    if (v === undefined) continue;
    if (v === null) {
      delete job[f];
      continue;
    }
    if (typeof v !== 'string') throw bad(`${where}: field '${f}' must be a string`);
    if (f !== 'bytes' && v !== '' && (!isDuration(v) || parseDurationMs(v) < 0)) {
      throw bad(`${where}: field '${f}': "${v}" is not a duration such as 500ms or 1m30s`);
    }
  }
  for (const f of ['args', 'data'] as const) {
    const v = job[f];
    if (v === undefined) continue;
    if (v === null) delete job[f];
    else if (!isObject(v)) throw bad(`${where}: field '${f}' must be a JSON object`);
  }
  return job;
}

/** Envelope and field checks: what the DTOs of @spincycle/protocol check, fast. */
function checkFields(body: unknown, what: string): JobChain {
  if (!isObject(body)) throw bad(`invalid ${what}: body must be a JSON object`);
  const chain = body as unknown as JobChain;
  if (typeof chain.requestId !== 'string' || chain.requestId === '') {
    throw bad(`invalid ${what}: field 'requestId' must be a non-empty string`);
  }
  if (!isObject(chain.jobs))
    throw bad(`invalid ${what}: field 'jobs' must be a JSON object of job id to job`);
  if (chain.adjacencyList === undefined || chain.adjacencyList === null) chain.adjacencyList = {};
  else if (!isObject(chain.adjacencyList))
    throw bad(`invalid ${what}: field 'adjacencyList' must be a JSON object of job id to job ids`);
  if (chain.state === undefined || chain.state === null) chain.state = State.PENDING;
  else if (typeof chain.state !== 'number' || !Number.isInteger(chain.state))
    throw bad(`invalid ${what}: field 'state' must be an integer`);
  if (chain.finishedJobs === undefined || chain.finishedJobs === null) chain.finishedJobs = 0;
  else if (!isCount(chain.finishedJobs))
    throw bad(`invalid ${what}: field 'finishedJobs' must be a non-negative integer`);
  for (const key in chain.jobs) checkJob(what, key, chain.jobs[key]);
  for (const key in chain.adjacencyList) {
    const next = chain.adjacencyList[key];
    if (!Array.isArray(next)) throw bad(`invalid ${what}: adjacencyList.${key} must be a list of job ids`);
    for (const n of next)
      if (typeof n !== 'string') throw bad(`invalid ${what}: adjacencyList.${key} must be a list of job ids`);
  }
  return chain;
}

/**
 * The graph rules of §7.11 (1–4) and the sequence-id sanity check; returns the
 * topological order. `singleEnds: false` skips rules 2–3 (for chains built in
 * tests, like the upstream examples with two last jobs).
 */
export function indexJobChain(chain: JobChain, singleEnds = true): ValidChain {
  return { chain, ...checkGraph(chain, singleEnds) };
}

function checkGraph(chain: JobChain, singleEnds = true): Omit<ValidChain, 'chain'> {
  const jobs = chain.jobs;
  const ids = Object.keys(jobs);
  const n = ids.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(ids[i] as string, i);
  const successors: number[][] = new Array(n);
  for (let i = 0; i < n; i++) successors[i] = [];
  const indegree: number[] = new Array(n).fill(0);
  const missing: string[] = [];
  for (const from in chain.adjacencyList) {
    const i = index.get(from);
    if (i === undefined) {
      missing.push(from);
      continue;
    }
    const out = successors[i] as number[];
    const list = chain.adjacencyList[from] as string[];
    for (const to of list) {
      const j = index.get(to);
      if (j === undefined) {
        missing.push(to);
        continue;
      }
      // Duplicate edges would skew the degree counts; keep one of each.
      if (list.length > 1 && out.includes(j)) continue;
      out.push(j);
      indegree[j] = (indegree[j] as number) + 1;
    }
  }
  if (missing.length > 0) {
    throw bad(
      `invalid adjacency list: some jobs exist in chain.AdjacencyList but not chain.Jobs (${[...new Set(missing)].slice(0, 10).join(', ')})`,
    );
  }
  const order: number[] = [];
  let ends = 0;
  for (let i = 0; i < n; i++) {
    if (indegree[i] === 0) order.push(i);
    if ((successors[i] as number[]).length === 0) ends++;
  }
  if (singleEnds && order.length > 1)
    throw bad('job chain has more than one start job (job with indegree 0)');
  if (singleEnds && ends > 1) throw bad('job chain has more than one end job (job with outdegree 0)');
  // Kahn: `order` doubles as the queue.
  for (let k = 0; k < order.length; k++) {
    for (const j of successors[order[k] as number] as number[]) {
      const d = (indegree[j] as number) - 1;
      indegree[j] = d;
      if (d === 0) order.push(j);
    }
  }
  if (order.length !== n) throw bad('chain is cyclic');
  for (let i = 0; i < n; i++) {
    const seq = (jobs[ids[i] as string] as Job).sequenceId;
    if (seq !== '' && !index.has(seq))
      throw bad(`job ${ids[i]}: sequenceId ${seq} is not a job in the chain`);
  }
  return { ids, order, successors };
}

/** State rules of §7.11 (5). */
function checkStates(chain: JobChain, kind: ChainKind): void {
  let complete = 0;
  for (const id in chain.jobs) {
    const job = chain.jobs[id] as Job;
    const s = job.state;
    if (s === State.COMPLETE) complete++;
    const ok = s === State.PENDING || (kind === 'existing' && (s === State.COMPLETE || s === State.STOPPED));
    if (!ok) {
      throw bad(
        `invalid job state for ${kind} job chain: ${stateName(s)} (${s}), job ${job.name} (ID ${id}); all job states must be ${
          kind === 'new' ? 'PENDING' : 'PENDING, COMPLETE, or STOPPED'
        }`,
      );
    }
  }
  if (kind === 'new' && chain.finishedJobs !== 0)
    throw bad(`FinishedJobs = ${chain.finishedJobs}, expected 0 for new job chain`);
  if (kind === 'existing' && chain.finishedJobs !== complete) {
    throw bad(`FinishedJobs = ${chain.finishedJobs} but there are ${complete} jobs with state = COMPLETE`);
  }
}

/** Validate a parsed JSON body as a job chain (§7.11). Throws BadRequestError with the reason. */
export function validateJobChain(body: unknown, kind: ChainKind, what = 'JobChain'): ValidChain {
  const chain = checkFields(body, what);
  const graph = checkGraph(chain);
  checkStates(chain, kind);
  return { chain, ...graph };
}

function checkCounters(sjc: Record<string, unknown>, field: string): Record<string, number> {
  const v = sjc[field];
  if (v === undefined || v === null) return {};
  if (!isObject(v))
    throw bad(`invalid SuspendedJobChain: field '${field}' must be a JSON object of id to count`);
  for (const k in v) {
    if (!isCount(v[k])) throw bad(`invalid SuspendedJobChain: ${field}.${k} must be a non-negative integer`);
  }
  return v as Record<string, number>;
}

/** Validate a suspended job chain; its chain is validated as an existing chain. */
export function validateSuspendedJobChain(body: unknown): ValidSuspendedChain {
  if (!isObject(body)) throw bad('invalid SuspendedJobChain: body must be a JSON object');
  if (!isObject(body.jobChain))
    throw bad("invalid SuspendedJobChain: field 'jobChain' must be a job chain object");
  const requestId = body.requestId;
  if (requestId !== undefined && requestId !== null && typeof requestId !== 'string') {
    throw bad("invalid SuspendedJobChain: field 'requestId' must be a string");
  }
  const inner = body.jobChain as Record<string, unknown>;
  if ((inner.requestId === undefined || inner.requestId === '') && typeof requestId === 'string')
    inner.requestId = requestId;
  const valid = validateJobChain(inner, 'existing', 'SuspendedJobChain.jobChain');
  if (typeof requestId === 'string' && requestId !== '' && requestId !== valid.chain.requestId) {
    throw bad(
      `invalid SuspendedJobChain: requestId ${requestId} does not match jobChain.requestId ${valid.chain.requestId}`,
    );
  }
  const sjc: SuspendedJobChain = {
    requestId: valid.chain.requestId,
    jobChain: valid.chain,
    totalJobTries: checkCounters(body, 'totalJobTries'),
    latestRunJobTries: checkCounters(body, 'latestRunJobTries'),
    sequenceTries: checkCounters(body, 'sequenceTries'),
  };
  return { ...valid, sjc };
}
