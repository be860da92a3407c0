/**
 * The request graph under construction. Jobs are numbered in creation order
 * and stored column-wise (no per-job object while building); edges are appended
 * to two flat arrays in O(1); the structural invariants are verified once, at
 * the end, in O(V+E). (The original re-checked the whole graph after every
 * insertion, which made building quadratic.) The wire objects are made last,
 * in one pass, so that the garbage collector does not copy them while a large
 * chain is still being built.
 */
import type { JobArgs, JobChain, Job as WireJob } from '@spincycle/protocol';
import { State } from '@spincycle/protocol';

/** A job's optional timeout and backoff fields (rare: kept sparsely, only when one is set). */
export type JobTiming = Pick<
  WireJob,
  | 'retryBackoff'
  | 'retryWaitMax'
  | 'timeout'
  | 'sequenceRetryBackoff'
  | 'sequenceRetryWaitMax'
  | 'sequenceTimeout'
>;

/** One finished job, as the graph stores it. Empty strings mean "omit from the wire job". */
export interface GraphJob {
  id: string;
  name: string;
  type: string;
  /** base64 of the job's bytes; `''` when empty. */
  bytes: string;
  /** The recorded args; undefined = none recorded. */
  args: JobArgs | undefined;
  retry: number;
  retryWait: string;
  sequenceId: string;
  sequenceRetry: number;
  sequenceRetryWait: string;
  /** Timeout and backoff fields; undefined when none is set. */
  timing?: JobTiming | undefined;
}

export class RequestGraph {
  private readonly ids: string[] = [];
  private readonly names: string[] = [];
  private readonly types: string[] = [];
  /** base64 of the job's bytes; `''` when empty. */
  private readonly bytes: string[] = [];
  private readonly args: (JobArgs | undefined)[] = [];
  private readonly retry: number[] = [];
  private readonly retryWait: string[] = [];
  private readonly sequenceId: string[] = [];
  private readonly sequenceRetry: number[] = [];
  private readonly sequenceRetryWait: string[] = [];
  private readonly timing = new Map<number, JobTiming>();
  private readonly from: number[] = [];
  private readonly to: number[] = [];
  /** Successors grouped by source, built by `index()`: succ[start[i] .. start[i+1]). */
  private start: Int32Array | undefined;
  private succ: Int32Array | undefined;

  /** Adds a finished job; returns its index. */
  add(job: GraphJob): number {
    this.ids.push(job.id);
    this.names.push(job.name);
    this.types.push(job.type);
    this.bytes.push(job.bytes);
    this.args.push(job.args);
    this.retry.push(job.retry);
    this.retryWait.push(job.retryWait);
    this.sequenceId.push(job.sequenceId);
    this.sequenceRetry.push(job.sequenceRetry);
    this.sequenceRetryWait.push(job.sequenceRetryWait);
    if (job.timing) this.timing.set(this.ids.length - 1, job.timing);
    return this.ids.length - 1;
  }

  addEdge(from: number, to: number): void {
    this.from.push(from);
    this.to.push(to);
    this.start = undefined;
  }

  get size(): number {
    return this.ids.length;
  }

  get edges(): number {
    return this.from.length;
  }

  id(index: number): string {
    return this.ids[index] as string;
  }

  /** Groups the edges by source, keeping their insertion order (counting sort). */
  private index(): { start: Int32Array; succ: Int32Array } {
    if (this.start && this.succ) return { start: this.start, succ: this.succ };
    const n = this.ids.length;
    const e = this.from.length;
    const start = new Int32Array(n + 1);
    for (let k = 0; k < e; k++) {
      const i = (this.from[k] as number) + 1;
      start[i] = (start[i] as number) + 1;
    }
    for (let i = 0; i < n; i++) (start[i + 1] as number) += start[i] as number;
    const fill = start.slice(0, n);
    const succ = new Int32Array(e);
    for (let k = 0; k < e; k++) {
      const i = this.from[k] as number;
      const at = fill[i] as number;
      fill[i] = at + 1;
      succ[at] = this.to[k] as number;
    }
    this.start = start;
    this.succ = succ;
    return { start, succ };
  }

  successors(index: number): number[] {
    const { start, succ } = this.index();
    return Array.from(succ.subarray(start[index], start[index + 1]));
  }

  /**
   * Checks that `begin` is the only job without predecessors, `end` the only one
   * without successors, that there are no duplicate edges and no cycles (Kahn's
   * algorithm reaches every job). With one source and one sink in a DAG every
   * job lies on a path from begin to end. Violations are internal errors.
   */
  verify(begin: number, end: number): void {
    const n = this.ids.length;
    const { start, succ } = this.index();
    const name = (i: number) => `${this.names[i]} (${this.ids[i]})`;
    const indeg = new Int32Array(n);
    for (let k = 0; k < succ.length; k++) {
      const j = succ[k] as number;
      indeg[j] = (indeg[j] as number) + 1;
    }
    for (let i = 0; i < n; i++) {
      if (i !== begin && indeg[i] === 0) throw new Error(`invalid job chain: ${name(i)} has no predecessor`);
      if (i !== end && start[i] === start[i + 1])
        throw new Error(`invalid job chain: ${name(i)} has no successor`);
    }
    if (indeg[begin] !== 0) throw new Error(`invalid job chain: first job ${name(begin)} has predecessors`);
    if (start[end] !== start[end + 1])
      throw new Error(`invalid job chain: last job ${name(end)} has successors`);

    const seenFrom = new Int32Array(n).fill(-1);
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    queue[tail++] = begin;
    while (head < tail) {
      const i = queue[head++] as number;
      for (let k = start[i] as number; k < (start[i + 1] as number); k++) {
        const j = succ[k] as number;
        if (seenFrom[j] === i) throw new Error(`invalid job chain: duplicate edge ${name(i)} -> ${name(j)}`);
        seenFrom[j] = i;
        const left = (indeg[j] as number) - 1;
        indeg[j] = left;
        if (left === 0) queue[tail++] = j;
      }
    }
    if (tail !== n) throw new Error(`invalid job chain: ${n - tail} jobs are on a cycle or unreachable`);
  }

  /** The wire job at `index`: keys in wire order, empty optional keys omitted. */
  job(index: number): WireJob {
    const id = this.ids[index] as string;
    const name = this.names[index] as string;
    const type = this.types[index] as string;
    const bytes = this.bytes[index] as string;
    const args = this.args[index];
    const retry = this.retry[index] as number;
    const retryWait = this.retryWait[index] as string;
    const sequenceId = this.sequenceId[index] as string;
    const sequenceRetry = this.sequenceRetry[index] as number;
    const sequenceRetryWait = this.sequenceRetryWait[index] as string;
    const state = State.PENDING;
    const timing = this.timing.size > 0 ? this.timing.get(index) : undefined;
    // Whole literals for the common shapes: one allocation each.
    if (bytes === '' && retryWait === '' && sequenceRetryWait === '' && timing === undefined) {
      return args === undefined
        ? { id, name, type, state, retry, sequenceId, sequenceRetry }
        : { id, name, type, state, args, retry, sequenceId, sequenceRetry };
    }
    const job = { id, name, type } as WireJob;
    if (bytes !== '') job.bytes = bytes;
    job.state = state;
    if (args !== undefined) job.args = args;
    job.retry = retry;
    if (retryWait !== '') job.retryWait = retryWait;
    job.sequenceId = sequenceId;
    job.sequenceRetry = sequenceRetry;
    if (sequenceRetryWait !== '') job.sequenceRetryWait = sequenceRetryWait;
    if (timing) Object.assign(job, timing);
    return job;
  }

  /** The wire JobChain: all jobs PENDING, adjacency list of the jobs that have successors. */
  toChain(requestId: string, timeout?: string): JobChain {
    const { start, succ } = this.index();
    const ids = this.ids;
    const n = ids.length;
    // Keyed by random job ids: null-prototype objects start as hash tables, so V8 builds no
    // hidden class per key of every chain (~15 µs per small chain, and no transition-tree churn).
    const jobs: Record<string, WireJob> = Object.create(null);
    for (let i = 0; i < n; i++) jobs[ids[i] as string] = this.job(i);
    const adjacencyList: Record<string, string[]> = Object.create(null);
    for (let i = 0; i < n; i++) {
      const a = start[i] as number;
      const b = start[i + 1] as number;
      if (b === a) continue;
      // Exact-size arrays: most jobs have one successor.
      let next: string[];
      if (b - a === 1) next = [ids[succ[a] as number] as string];
      else {
        next = new Array<string>(b - a);
        for (let k = a; k < b; k++) next[k - a] = ids[succ[k] as number] as string;
      }
      adjacencyList[ids[i] as string] = next;
    }
    const chain: JobChain = { requestId, jobs, adjacencyList, state: State.PENDING, finishedJobs: 0 };
    if (timeout) chain.timeout = timeout;
    return chain;
  }
}
