import {
  ConflictError,
  type HeldChain,
  type JobStatus,
  NotFoundError,
  ShuttingDownError,
  stateName,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import {
  type ChainOutcome,
  ChainState,
  Traverser,
  type TraverserDeps,
  type ValidChain,
  type ValidSuspendedChain,
} from '@spincycle/traversal';
import { forgetChainTrace, traceChain } from './chain-traces.js';

export const SHUTTING_DOWN_MESSAGE = 'Job Runner is shutting down - no new job chains are being started';

/** What every chain's traverser needs; the registry passes it on. */
export type RegistryDeps = TraverserDeps & {
  logger: Logger;
  /** A chain of `jobs` jobs left the registry (done, or handed back). */
  onChainDone?: (jobs: number) => void;
};

export class ChainRegistry {
  private readonly traversers = new Map<string, Traverser>();
  private shuttingDown = false;

  constructor(private readonly deps: RegistryDeps) {}

  /** True once shutdown began: new and resumed chains are refused (503). */
  get draining(): boolean {
    return this.shuttingDown;
  }

  get size(): number {
    return this.traversers.size;
  }

  get(requestId: string): Traverser | undefined {
    return this.traversers.get(requestId);
  }

  list(): Traverser[] {
    return [...this.traversers.values()];
  }

  private add(chain: ChainState): Traverser {
    if (this.shuttingDown) throw new ShuttingDownError(SHUTTING_DOWN_MESSAGE);
    const id = chain.requestId;
    if (this.traversers.has(id))
      throw new ConflictError(`job chain ${id} is already running on this job runner`);
    const t = new Traverser(chain, this.deps);
    this.traversers.set(id, t);
    traceChain(id);
    const t0 = performance.now();
    void t.done.then((outcome: ChainOutcome) => {
      if (this.traversers.get(id) === t) this.traversers.delete(id);
      forgetChainTrace(id);
      this.deps.onChainDone?.(chain.nodes.size);
      // Checked first: winston formats even the entries its level filters out.
      if (!this.deps.logger.isInfoEnabled()) return;
      this.deps.logger.info('chain done', {
        requestId: id,
        state: stateName(outcome.state),
        delivered: outcome.delivered,
        jobs: chain.nodes.size,
        finishedJobs: chain.finishedJobs,
        ms: Math.round(performance.now() - t0),
        runMs: Math.round(t.finalizedMs - t.startedMs),
      });
    });
    return t;
  }

  /** Register a new chain (already validated). Call `start()` on the result. */
  addNew(valid: ValidChain): Traverser {
    return this.add(new ChainState(valid));
  }

  /** Register a suspended chain to resume (already validated). Call `start()` on the result. */
  addResumed(valid: ValidSuspendedChain): Traverser {
    return this.add(ChainState.fromSuspended(valid));
  }

  /** User stop: 404 when the chain is not here. Resolves after finalize and finish delivery. */
  async stop(requestId: string): Promise<ChainOutcome | undefined> {
    const t = this.traversers.get(requestId);
    if (!t)
      throw new NotFoundError(
        `traverser not found: job chain ${requestId} is not running on this job runner`,
      );
    return t.stop();
  }

  /** Running jobs; with a request id only that chain's, 404 when it is not here. */
  status(requestId?: string): JobStatus[] {
    if (requestId !== undefined && requestId !== '') {
      const t = this.traversers.get(requestId);
      if (!t) throw new NotFoundError(`request ${requestId} not found`);
      return t.runningStatus();
    }
    const out: JobStatus[] = [];
    for (const t of this.traversers.values()) for (const s of t.runningStatus()) out.push(s);
    return out;
  }

  /** Every chain held (running, or finalized with its final message not yet delivered), for the heartbeat. */
  held(): HeldChain[] {
    const out: HeldChain[] = [];
    for (const t of this.traversers.values())
      if (!t.isAbandoned) out.push({ requestId: t.requestId, jobs: t.heldJobs() });
    return out;
  }

  /** The RM no longer counts `requestId` as running here: stop it and send nothing more for it. */
  drop(requestId: string, reason: string): boolean {
    const t = this.traversers.get(requestId);
    if (!t) return false;
    t.abandon(reason);
    this.traversers.delete(requestId);
    return true;
  }

  /** Refuse new chains from now on. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Suspend every chain and wait, at most until `deadline`, for all to be handed back or finished. */
  async suspendAll(deadline: number): Promise<void> {
    this.beginShutdown();
    const all = this.list();
    if (all.length === 0) return;
    this.deps.logger.info('suspending chains', { chains: all.length });
    const outcomes = await Promise.all(all.map((t) => t.suspend(deadline)));
    const summary: Record<string, number> = {};
    let undelivered = 0;
    for (const o of outcomes) {
      if (!o) undelivered++;
      else {
        summary[o.state] = (summary[o.state] ?? 0) + 1;
        if (!o.delivered) undelivered++;
      }
    }
    this.deps.logger.info('chains suspended', { byState: summary, undelivered });
  }
}
