/**
 * Sequence retries, with the original's defects fixed (docs/compatibility.md): a retry
 * resets exactly the jobs of that sequence invocation (its start job up to
 * and including its end job, nested invocations included), never a job that
 * is still running and never a job of a parallel branch outside it.
 *
 * When a job fails and its sequence can be retried while other jobs of the
 * same invocation are still running, the retry is *pending*: nothing more in
 * the invocation is started, and the reset happens once the last of its
 * running jobs has returned.
 */
import { State } from '@spincycle/protocol';
import type { ChainState, JobNode } from './chain-state.js';

export interface PendingRetry {
  readonly start: JobNode;
  readonly region: readonly JobNode[];
  /** Busy jobs of the region that must return before the reset. */
  busy: number;
}

/**
 * The jobs of the sequence invocation that `start` begins: every job reachable
 * from it up to its end job. The end job is the member of the sequence (jobs
 * whose sequence id is `start`) that comes last in topological order; an
 * invocation is entered only through its start and left only through its end,
 * so a walk from the start that does not go past the end stays inside it.
 */
export function sequenceRegion(chain: ChainState, start: JobNode): JobNode[] {
  let end = start;
  for (const n of chain.order) if (n.sequenceStart === start && n.topo > end.topo) end = n;
  const seen = new Set<JobNode>([start]);
  const region = [start];
  for (let i = 0; i < region.length; i++) {
    const n = region[i] as JobNode;
    if (n === end) continue;
    for (const s of n.succs) {
      if (seen.has(s)) continue;
      seen.add(s);
      region.push(s);
    }
  }
  return region;
}

export class SequenceRetries {
  private readonly pending = new Map<JobNode, PendingRetry>();
  private readonly byJob = new Map<JobNode, PendingRetry>();
  private readonly regions = new Map<JobNode, JobNode[]>();

  constructor(private readonly chain: ChainState) {}

  get size(): number {
    return this.pending.size;
  }

  all(): PendingRetry[] {
    return [...this.pending.values()];
  }

  /** Whether `node` belongs to an invocation waiting for its retry (it must not start). */
  blocks(node: JobNode): boolean {
    return this.byJob.size > 0 && this.byJob.has(node);
  }

  region(start: JobNode): JobNode[] {
    let r = this.regions.get(start);
    if (!r) {
      r = sequenceRegion(this.chain, start);
      this.regions.set(start, r);
    }
    return r;
  }

  /**
   * Register a retry of the invocation begun by `start`. Pending retries of
   * invocations nested in it are folded into it (it resets them too).
   */
  add(start: JobNode): PendingRetry {
    const region = this.region(start);
    for (const n of region) {
      const inner = this.byJob.get(n);
      if (inner) this.remove(inner);
    }
    let busy = 0;
    for (const n of region) if (n.busy) busy++;
    const p: PendingRetry = { start, region, busy };
    this.pending.set(start, p);
    for (const n of region) this.byJob.set(n, p);
    return p;
  }

  /** A busy job became idle; returns the pending retry that is now ready, if any. */
  jobIdle(node: JobNode): PendingRetry | undefined {
    if (this.byJob.size === 0) return undefined;
    const p = this.byJob.get(node);
    if (!p) return undefined;
    p.busy--;
    return p.busy <= 0 ? p : undefined;
  }

  private remove(p: PendingRetry): void {
    this.pending.delete(p.start);
    for (const n of p.region) if (this.byJob.get(n) === p) this.byJob.delete(n);
  }

  /**
   * Reset the invocation for its next try: every job that is not busy goes
   * back to PENDING with a fresh job retry budget (`latestRunJobTries` 0;
   * `totalJobTries` never decreases, so try numbers keep rising). Job data
   * already passed on is kept. The start job's `sequenceTries` advances only
   * when it is dispatched again.
   */
  apply(p: PendingRetry): void {
    this.remove(p);
    const { chain } = this;
    for (const n of p.region) {
      if (n.busy) continue;
      if (n.job.state !== State.PENDING) chain.setJobState(n, State.PENDING);
      if (chain.latestRunJobTries.has(n.id)) chain.latestRunJobTries.set(n.id, 0);
    }
  }
}
