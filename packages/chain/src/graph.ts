/**
 * The request graph under construction. Jobs are numbered in creation order;
 * edges are appended to per-job successor arrays in O(1), and the structural
 * invariants are verified once, at the end, in O(V+E). (The original re-checked
 * the whole graph after every insertion, which made building quadratic.)
 */
import type { JobChain, Job as WireJob } from '@spincycle/protocol';
import { State } from '@spincycle/protocol';

export class RequestGraph {
  /** Final wire jobs, by index. */
  readonly jobs: WireJob[] = [];
  /** Successor indices, by index. */
  private readonly succ: number[][] = [];
  private readonly predCount: number[] = [];
  private edgeCount = 0;

  /** Adds a finished job; returns its index. */
  add(job: WireJob): number {
    this.jobs.push(job);
    this.succ.push([]);
    this.predCount.push(0);
    return this.jobs.length - 1;
  }

  addEdge(from: number, to: number): void {
    (this.succ[from] as number[]).push(to);
    this.predCount[to] = (this.predCount[to] as number) + 1;
    this.edgeCount++;
  }

  get size(): number {
    return this.jobs.length;
  }

  successors(index: number): readonly number[] {
    return this.succ[index] as number[];
  }

  /**
   * Checks that `begin` is the only job without predecessors, `end` the only one
   * without successors, that there are no duplicate edges and no cycles (Kahn's
   * algorithm reaches every job). With one source and one sink in a DAG every
   * job lies on a path from begin to end. Violations are internal errors.
   */
  verify(begin: number, end: number): void {
    const n = this.jobs.length;
    const name = (i: number) => `${this.jobs[i]?.name} (${this.jobs[i]?.id})`;
    for (let i = 0; i < n; i++) {
      if (i !== begin && this.predCount[i] === 0)
        throw new Error(`invalid job chain: ${name(i)} has no predecessor`);
      if (i !== end && (this.succ[i] as number[]).length === 0) {
        throw new Error(`invalid job chain: ${name(i)} has no successor`);
      }
    }
    if (this.predCount[begin] !== 0)
      throw new Error(`invalid job chain: first job ${name(begin)} has predecessors`);
    if ((this.succ[end] as number[]).length !== 0)
      throw new Error(`invalid job chain: last job ${name(end)} has successors`);

    const remaining = this.predCount.slice();
    const seenFrom = new Int32Array(n).fill(-1);
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    queue[tail++] = begin;
    while (head < tail) {
      const i = queue[head++] as number;
      for (const j of this.succ[i] as number[]) {
        if (seenFrom[j] === i) throw new Error(`invalid job chain: duplicate edge ${name(i)} -> ${name(j)}`);
        seenFrom[j] = i;
        const left = (remaining[j] as number) - 1;
        remaining[j] = left;
        if (left === 0) queue[tail++] = j;
      }
    }
    if (tail !== n) throw new Error(`invalid job chain: ${n - tail} jobs are on a cycle or unreachable`);
  }

  /** The wire JobChain: all jobs PENDING, adjacency list of jobs that have successors. */
  toChain(requestId: string): JobChain {
    const jobs: Record<string, WireJob> = {};
    const adjacencyList: Record<string, string[]> = {};
    const list = this.jobs;
    for (let i = 0; i < list.length; i++) {
      const job = list[i] as WireJob;
      jobs[job.id] = job;
      const next = this.succ[i] as number[];
      if (next.length > 0) {
        const ids = new Array<string>(next.length);
        for (let k = 0; k < next.length; k++) ids[k] = (list[next[k] as number] as WireJob).id;
        adjacencyList[job.id] = ids;
      }
    }
    return { requestId, jobs, adjacencyList, state: State.PENDING, finishedJobs: 0 };
  }

  get edges(): number {
    return this.edgeCount;
  }
}
