/**
 * One chain's bookkeeping: job states, job data,
 * `finishedJobs` and the three try counters. Runnability is O(1) per job: each
 * job counts its COMPLETE predecessors, kept current by `setJobState`.
 */
import {
  type Job,
  type JobChain,
  type JobData,
  parseDurationMs,
  State,
  type StateValue,
  type SuspendedJobChain,
} from '@spincycle/protocol';
import { type BackoffPolicy, backoffPolicy } from './backoff.js';
import type { ValidChain, ValidSuspendedChain } from './chain-validation.js';

export interface JobNode {
  readonly id: string;
  /** The wire job; its `state` is the job's live state. */
  readonly job: Job;
  /** The job's data map (shared with the job while it runs). */
  readonly data: JobData;
  readonly succs: JobNode[];
  readonly preds: JobNode[];
  /** Position in a topological order of the chain. */
  readonly topo: number;
  /** The job's retry waits (`retryWait`, `retryBackoff`, `retryWaitMax`). */
  readonly retryBackoff: BackoffPolicy;
  /** On a sequence start job: the sequence's retry waits. */
  readonly sequenceRetryBackoff: BackoffPolicy;
  /** Longest one try may run (ms); 0 = no limit. */
  readonly timeoutMs: number;
  /** On a sequence start job: longest one try of the sequence may run (ms); 0 = no limit. */
  readonly sequenceTimeoutMs: number;
  /** Whether this job starts a sequence invocation (`id == sequenceId`). */
  readonly isSequenceStart: boolean;
  /** The start job of this job's innermost sequence; undefined when the job has no sequence id. */
  sequenceStart: JobNode | undefined;
  /** Number of predecessors in state COMPLETE. */
  completePreds: number;
  /** Dispatched and not yet reaped or abandoned (waiting, queued, being created or running). */
  busy: boolean;
}

export type Counters = Map<string, number>;

function toMap(record: Record<string, number> | undefined): Counters {
  const m = new Map<string, number>();
  if (record) for (const k in record) m.set(k, record[k] as number);
  return m;
}

function toRecord(m: Counters): Record<string, number> {
  const r: Record<string, number> = {};
  for (const [k, v] of m) r[k] = v;
  return r;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

export class ChainState {
  readonly requestId: string;
  readonly nodes = new Map<string, JobNode>();
  /** Nodes in topological order. */
  readonly order: JobNode[] = [];
  /** The chain's state (RUNNING while traversed; final or SUSPENDED at the end). */
  state: StateValue;
  /** Number of COMPLETE jobs. */
  finishedJobs = 0;
  /** All tries ever per job; drives job-log try numbers. */
  readonly totalJobTries: Counters;
  /** Tries within the current sequence try per job; drives the job retry budget. */
  readonly latestRunJobTries: Counters;
  /** Times each sequence (by start job id) was started. */
  readonly sequenceTries: Counters;
  /** The request's `timeout` as given on the chain (e.g. `5m`); undefined when none. */
  readonly timeout: string | undefined;

  constructor(
    valid: ValidChain,
    counters?: Pick<SuspendedJobChain, 'totalJobTries' | 'latestRunJobTries' | 'sequenceTries'>,
  ) {
    const { chain } = valid;
    this.requestId = chain.requestId;
    this.state = chain.state;
    this.timeout = chain.timeout || undefined;
    this.totalJobTries = toMap(counters?.totalJobTries);
    this.latestRunJobTries = toMap(counters?.latestRunJobTries);
    this.sequenceTries = toMap(counters?.sequenceTries);
    const byIndex: JobNode[] = new Array(valid.ids.length);
    let topo = 0;
    for (const i of valid.order) {
      const id = valid.ids[i] as string;
      const job = chain.jobs[id] as Job;
      if (!job.data) job.data = {};
      const node: JobNode = {
        id,
        job,
        data: job.data,
        succs: [],
        preds: [],
        topo: topo++,
        retryBackoff: backoffPolicy(job.retryWait, job.retryBackoff, job.retryWaitMax),
        sequenceRetryBackoff: backoffPolicy(
          job.sequenceRetryWait,
          job.sequenceRetryBackoff,
          job.sequenceRetryWaitMax,
        ),
        timeoutMs: job.timeout ? parseDurationMs(job.timeout) : 0,
        sequenceTimeoutMs: job.sequenceTimeout ? parseDurationMs(job.sequenceTimeout) : 0,
        isSequenceStart: job.sequenceId === id,
        sequenceStart: undefined,
        completePreds: 0,
        busy: false,
      };
      byIndex[i] = node;
      this.nodes.set(id, node);
      this.order.push(node);
    }
    for (let i = 0; i < byIndex.length; i++) {
      const node = byIndex[i] as JobNode;
      const complete = node.job.state === State.COMPLETE;
      for (const j of valid.successors[i] as number[]) {
        const next = byIndex[j] as JobNode;
        node.succs.push(next);
        next.preds.push(node);
        if (complete) next.completePreds++;
      }
      node.sequenceStart = node.job.sequenceId ? this.nodes.get(node.job.sequenceId) : undefined;
      if (complete) this.finishedJobs++;
    }
  }

  /** A chain from a suspended chain, adjusted for resuming. */
  static fromSuspended(valid: ValidSuspendedChain): ChainState {
    const cs = new ChainState(valid, valid.sjc);
    for (const node of cs.order) {
      if (node.job.state !== State.STOPPED) continue;
      // The stopped try is run again as the same try of its retry budget.
      const latest = cs.latestRunJobTries.get(node.id) ?? 0;
      if (latest > 0) cs.latestRunJobTries.set(node.id, latest - 1);
      cs.setJobState(node, State.PENDING);
      if (node.isSequenceStart) {
        const st = cs.sequenceTries.get(node.id) ?? 0;
        if (st > 0) cs.sequenceTries.set(node.id, st - 1);
      }
    }
    return cs;
  }

  /** Set a job's state, keeping `finishedJobs` and the successors' COMPLETE counts current. */
  setJobState(node: JobNode, state: StateValue): void {
    const prev = node.job.state;
    if (prev === state) return;
    if (prev === State.COMPLETE) {
      this.finishedJobs--;
      for (const s of node.succs) s.completePreds--;
    }
    if (state === State.COMPLETE) {
      this.finishedJobs++;
      for (const s of node.succs) s.completePreds++;
    }
    node.job.state = state;
  }

  /** PENDING with every predecessor COMPLETE. */
  isRunnable(node: JobNode): boolean {
    return node.job.state === State.PENDING && node.completePreds === node.preds.length;
  }

  /** Every runnable job, in topological order. */
  runnable(): JobNode[] {
    return this.order.filter((n) => this.isRunnable(n));
  }

  /** Whether the innermost sequence of `node` may start another try. */
  canRetrySequence(node: JobNode): boolean {
    const s = node.sequenceStart;
    return s !== undefined && (this.sequenceTries.get(s.id) ?? 0) <= s.job.sequenceRetry;
  }

  allComplete(): boolean {
    return this.finishedJobs === this.nodes.size;
  }

  /** Whether some job is FAIL or UNKNOWN (or any other non-terminal, non-PENDING leftover). */
  anyFailed(): boolean {
    for (const n of this.order) {
      const s = n.job.state;
      if (s === State.FAIL || s === State.UNKNOWN || s === State.RESERVED || s === State.SUSPENDED)
        return true;
    }
    return false;
  }

  bump(counters: Counters, id: string, by: number): number {
    const v = (counters.get(id) ?? 0) + by;
    counters.set(id, v);
    return v;
  }

  /** The chain as it is now, on the wire. */
  toJobChain(): JobChain {
    const jobs: Record<string, Job> = {};
    const adjacencyList: Record<string, string[]> = {};
    for (const n of this.order) {
      const { data: _data, ...rest } = n.job;
      const job: Job = { ...rest };
      if (!isEmpty(n.data)) job.data = { ...n.data };
      jobs[n.id] = job;
      if (n.succs.length > 0) adjacencyList[n.id] = n.succs.map((s) => s.id);
    }
    const chain: JobChain = {
      requestId: this.requestId,
      jobs,
      adjacencyList,
      state: this.state,
      finishedJobs: this.finishedJobs,
    };
    if (this.timeout) chain.timeout = this.timeout;
    return chain;
  }

  /** The suspended chain to hand to the RM. */
  toSuspended(): SuspendedJobChain {
    return {
      requestId: this.requestId,
      jobChain: this.toJobChain(),
      totalJobTries: toRecord(this.totalJobTries),
      latestRunJobTries: toRecord(this.latestRunJobTries),
      sequenceTries: toRecord(this.sequenceTries),
    };
  }
}
