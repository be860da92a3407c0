/**
 * A chain's sequence and request deadlines (a job's own `timeout` is the runner's, per try).
 *
 * - Sequence `timeout` (on a sequence start job): armed each time the start job is
 *   dispatched (each sequence try). When it passes while jobs of that invocation are still
 *   busy, every running job of it is cut (its try FAILs "sequence <node> timed out after
 *   …"), jobs not started yet are called off, and the sequence fails: retried when it has a
 *   retry left (sequence retry rules, sequence-retry.ts), else none of its jobs start again.
 * - Request `timeout` (on the chain): armed when traversal starts. When it passes, every
 *   running job is cut ("request timed out after …"), nothing starts any more, and the
 *   chain ends FAIL (not STOPPED: nobody asked for the stop, the request failed its limit).
 *
 * Deadlines are counted on this JR from when the chain (or the sequence try) started
 * here; a chain resumed after a suspend starts its clocks again.
 */
import { type JobLog, parseDurationMs, State } from '@spincycle/protocol';
import type { ChainState, JobNode } from './chain-state.js';
import { unstartedFailEntry } from './job-creation.js';
import type { PendingStarts } from './pending-starts.js';
import type { TraversalLogger as Logger } from './reporting.js';
import type { JobRunner } from './runner.js';
import type { SequenceRetries } from './sequence-retry.js';

/** What the deadlines need of the traverser. */
export interface TimeoutHost {
  readonly chain: ChainState;
  readonly retries: SequenceRetries;
  /** Pending starts: a job called off here stays busy until `idle`. */
  readonly starts: PendingStarts;
  /** Running jobs by id. */
  readonly runners: ReadonlyMap<string, JobRunner>;
  isRunning(): boolean;
  idle(node: JobNode): void;
  log(entry: JobLog): void;
  readonly logger: Logger;
}

/** The calling node's name from a start job's name (`sequence_<node>_begin` and the like). */
export function sequenceLabel(start: JobNode): string {
  return start.job.name.replace(/^(request|sequence|conditional)_/, '').replace(/_begin$/, '');
}

export class ChainTimeouts {
  private readonly timers = new Map<JobNode | 'request', NodeJS.Timeout>();
  /** Jobs of sequences that timed out without a retry left: they never start again. */
  private readonly dead = new Set<JobNode>();
  private requestExpired = false;

  constructor(private readonly h: TimeoutHost) {}

  /** Whether `node` must not start (nor its sequence be retried) because of a deadline. */
  halts(node: JobNode): boolean {
    return this.requestExpired || (this.dead.size > 0 && this.dead.has(node));
  }

  startRequest(): void {
    const t = this.h.chain.timeout;
    const ms = t ? parseDurationMs(t) : 0;
    if (ms > 0) this.arm('request', ms, () => this.expireRequest(`request timed out after ${t}`));
  }

  /** The sequence begun by `start` starts a try. */
  sequenceStarted(start: JobNode): void {
    if (start.sequenceTimeoutMs <= 0) return;
    const reason = `sequence ${sequenceLabel(start)} timed out after ${start.job.sequenceTimeout}`;
    this.arm(start, start.sequenceTimeoutMs, () => this.expireSequence(start, reason));
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private arm(key: JobNode | 'request', ms: number, fire: () => void): void {
    const prev = this.timers.get(key);
    if (prev) clearTimeout(prev);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fire();
      }, ms),
    );
  }

  private expireSequence(start: JobNode, reason: string): void {
    const h = this.h;
    if (!h.isRunning() || this.halts(start) || h.retries.blocks(start)) return;
    const region = h.retries.region(start);
    // Nothing busy: the sequence try is over (complete, or failed already).
    if (!region.some((n) => n.busy)) return;
    const retry = h.chain.canRetrySequence(start);
    h.logger.warn('sequence timed out; stopping its jobs', {
      requestId: h.chain.requestId,
      jobId: start.id,
      reason,
      retry,
    });
    if (retry) h.retries.add(start);
    else for (const n of region) this.dead.add(n);
    this.cut(
      region.filter((n) => n.busy),
      reason,
    );
  }

  private expireRequest(reason: string): void {
    const h = this.h;
    if (!h.isRunning()) return;
    this.requestExpired = true;
    h.logger.warn('request timed out; stopping its jobs', { requestId: h.chain.requestId, reason });
    const called = h.starts.cancelAll().map((id) => h.chain.nodes.get(id) as JobNode);
    this.cut([...h.runners.values()].map((r) => r.node).concat(called), reason);
  }

  /**
   * Cut the running jobs among `busy` and call off the others. When none was running, the
   * first one called off gets a FAIL entry, so the job log says what happened.
   */
  private cut(busy: JobNode[], reason: string): void {
    const h = this.h;
    const unstarted: JobNode[] = [];
    for (const n of busy) {
      const r = h.runners.get(n.id);
      if (r) r.expire(reason);
      else if (h.starts.cancel(n.id) || this.requestExpired) unstarted.push(n);
    }
    const first = unstarted[0];
    if (first && unstarted.length === busy.length) this.failUnstarted(first, reason);
    for (const n of unstarted) h.idle(n);
  }

  /** A FAIL entry, on a fresh try number, for a job that was called off before it started. */
  private failUnstarted(node: JobNode, reason: string): void {
    this.h.log(unstartedFailEntry(this.h.chain, node, `${reason} before the job started`));
    this.h.chain.setJobState(node, State.FAIL);
  }
}
