/**
 * The request graph under construction. Jobs are numbered in creation order;
 * edges are appended to two flat arrays in O(1) (no per-job allocation), and
 * the structural invariants are verified once, at the end, in O(V+E). (The
 * original re-checked the whole graph after every insertion, which made
 * building quadratic.)
 */
import type { JobChain, Job as WireJob } from '@spincycle/protocol';
import { State } from '@spincycle/protocol';

export class RequestGraph {
  /** Final wire jobs, by index. */
  readonly jobs: WireJob[] = [];
  private from: number[] = [];
  private to: number[] = [];
  /** Successors in compressed form, built by `index()`: succ[start[i] .. start[i+1]). */
  private start: Int32Array | undefined;
  private succ: Int32Array | undefined;

  /** Adds a finished job; returns its index. */
  add(job: WireJob): number {
    this.jobs.push(job);
    return this.jobs.length - 1;
  }

  addEdge(from: number, to: number): void {
    this.from.push(from);
    this.to.push(to);
    this.start = undefined;
  }

  get size(): number {
    return this.jobs.length;
  }

  get edges(): number {
    return this.from.length;
  }

  /** Groups the edges by source, keeping their insertion order (counting sort). */
  private index(): { start: Int32Array; succ: Int32Array } {
    if (this.start && this.succ) return { start: this.start, succ: this.succ };
    const n = this.jobs.length;
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
    const n = this.jobs.length;
    const { start, succ } = this.index();
    const name = (i: number) => `${this.jobs[i]?.name} (${this.jobs[i]?.id})`;
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

  /** The wire JobChain: all jobs PENDING, adjacency list of the jobs that have successors. */
  toChain(requestId: string): JobChain {
    const { start, succ } = this.index();
    const jobs: Record<string, WireJob> = {};
    const adjacencyList: Record<string, string[]> = {};
    const list = this.jobs;
    for (let i = 0; i < list.length; i++) {
      const job = list[i] as WireJob;
      jobs[job.id] = job;
      const a = start[i] as number;
      const b = start[i + 1] as number;
      if (b > a) {
        const ids: string[] = [];
        for (let k = a; k < b; k++) ids.push((list[succ[k] as number] as WireJob).id);
        adjacencyList[job.id] = ids;
      }
    }
    return { requestId, jobs, adjacencyList, state: State.PENDING, finishedJobs: 0 };
  }
}
