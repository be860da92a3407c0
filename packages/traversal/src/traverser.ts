/**
 * Runs one job chain:
 *
 * - every runnable job is dispatched as soon as it becomes runnable,
 *   synchronously when its predecessor completes (no timers or I/O per job on
 *   the hot path), subject only to the JR-wide concurrency limit;
 * - a job ends COMPLETE, FAIL or STOPPED; COMPLETE passes its data on and
 *   starts successors, a failure triggers a sequence retry when one is left;
 * - the chain is finalized exactly once: when nothing is in flight any more,
 *   or after a stop/suspend, which always finalize (even with nothing running);
 * - the final message (finish or suspended chain) goes out through the
 *   reporter after all job-log entries of the chain (final-delivery.ts).
 *
 * A job is "busy" from dispatch until it is reaped or abandoned; `inFlight` counts
 * busy jobs, so "done" is `inFlight === 0`. Deadlines: timeouts.ts; retry waits: backoff.ts.
 */
import type { Job } from '@spincycle/jobs';
import type { StateValue } from '@spincycle/protocol';
import { type HeldChain, type JobLog, type JobStatus, ShuttingDownError, State } from '@spincycle/protocol';
import { sequenceRetryWaitMs } from './backoff.js';
import type { ChainState, JobNode } from './chain-state.js';
import { type ChainOutcome, deliverFinalOrLog, finalState, logDrop } from './final-delivery.js';
import { creationFailureEntry, makeJob } from './job-creation.js';
import { isPromise, passData, withTimeout } from './job-data.js';
import { PendingStarts } from './pending-starts.js';
import { errorText, JobRunner } from './runner.js';
import { heldJobs, runningStatus } from './runner-status.js';
import { SequenceRetries } from './sequence-retry.js';
import { ChainTimeouts } from './timeouts.js';
import type { TraverserDeps } from './traverser-deps.js';

type Mode = 'idle' | 'running' | 'stopping' | 'suspending' | 'finalized';

export class Traverser {
  private mode: Mode = 'idle';
  private readonly runners = new Map<string, JobRunner>();
  private readonly starts: PendingStarts;
  private readonly retries: SequenceRetries;
  private readonly timeouts: ChainTimeouts;
  private inFlight = 0;
  private starting = false;
  private idleWaiter: (() => void) | undefined;
  private suspendDeadline: number | undefined;
  private finishDeadline: number | undefined;
  private resolveDone!: (o: ChainOutcome) => void;
  /** Settles once the chain is finalized and its final message was delivered (or given up on). */
  readonly done: Promise<ChainOutcome>;
  private readonly logEntry: (e: JobLog) => void;
  private readonly stopBudgetMs: number;

  constructor(
    readonly chain: ChainState,
    private readonly deps: TraverserDeps,
  ) {
    this.retries = new SequenceRetries(chain);
    this.starts = new PendingStarts(deps.slots);
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
    this.logEntry = (e) => deps.reporter.log(e);
    this.stopBudgetMs = deps.stopBudgetMs ?? 10_000;
    const { retries, starts, runners, logEntry: log } = this;
    const [isRunning, idle] = [() => this.mode === 'running', (n: JobNode) => this.markIdle(n)];
    this.timeouts = new ChainTimeouts({
      chain,
      retries,
      starts,
      runners,
      isRunning,
      idle,
      log,
      logger: deps.logger,
    });
  }

  get requestId(): string {
    return this.chain.requestId;
  }

  /** Whether the chain is still being traversed normally. */
  get isRunning(): boolean {
    return this.mode === 'running';
  }

  get isFinalized(): boolean {
    return this.mode === 'finalized';
  }

  /** Jobs dispatched and not yet done (for tests and status). */
  get busyJobs(): number {
    return this.inFlight;
  }

  /** Start traversal: dispatch every runnable job; an already-done chain finalizes at once. */
  start(): void {
    if (this.mode !== 'idle') return;
    this.mode = 'running';
    this.startedMs = performance.now();
    this.chain.state = State.RUNNING;
    this.timeouts.startRequest();
    this.starting = true;
    try {
      for (const node of this.chain.runnable()) this.dispatch(node);
    } finally {
      this.starting = false;
    }
    if (this.inFlight === 0 && this.mode === 'running') this.finalize();
  }

  // ---- dispatching -------------------------------------------------------

  private markBusy(node: JobNode): void {
    node.busy = true;
    this.inFlight++;
  }

  private markIdle(node: JobNode): void {
    node.busy = false;
    if (this.mode === 'finalized') return;
    this.inFlight--;
    const ready = this.retries.jobIdle(node);
    if (ready && this.mode === 'running') {
      this.retries.apply(ready);
      this.dispatch(ready.start);
    }
    if (this.inFlight === 0) {
      if (this.mode === 'running' && !this.starting) this.finalize();
      else if (this.mode === 'stopping' || this.mode === 'suspending') this.idleWaiter?.();
    }
  }

  private dispatch(node: JobNode): void {
    if (this.mode !== 'running' || node.busy || this.blocked(node)) return;
    this.markBusy(node);
    if (!node.isSequenceStart) {
      this.acquire(node);
      return;
    }
    const waitMs = sequenceRetryWaitMs(node, this.chain.sequenceTries.get(node.id) ?? 0, this.deps);
    if (waitMs <= 0) this.startSequence(node);
    else
      this.starts.wait(node.id, waitMs, () => {
        if (this.mode === 'running' && !this.blocked(node)) this.startSequence(node);
        else this.markIdle(node);
      });
  }

  /** A sequence starts a try: count it, start its deadline, and start its start job. */
  private startSequence(node: JobNode): void {
    this.chain.bump(this.chain.sequenceTries, node.id, 1);
    this.timeouts.sequenceStarted(node);
    this.acquire(node);
  }

  /** Waiting for its sequence's retry, or stopped for good by a deadline. */
  private blocked(node: JobNode): boolean {
    return this.retries.blocks(node) || this.timeouts.halts(node);
  }

  private acquire(node: JobNode): void {
    this.starts.requestSlot(node.id, () => this.startJob(node));
  }

  /** Called holding a slot: make the job and start its runner. */
  private startJob(node: JobNode): void {
    this.starts.started(node.id);
    if (this.mode !== 'running') {
      this.deps.slots.release();
      this.markIdle(node);
      return;
    }
    let made: Job | Promise<Job>;
    try {
      made = makeJob(this.deps.factory, node, this.chain.requestId);
    } catch (err) {
      this.creationFailed(node, err);
      return;
    }
    if (isPromise(made))
      made.then(
        (job) => this.launch(node, job),
        (err) => this.creationFailed(node, err),
      );
    else this.launch(node, made);
  }

  private launch(node: JobNode, job: Job): void {
    if (this.mode !== 'running' || this.blocked(node)) {
      // Stopped, or its sequence became due for a retry or timed out, while the job was being restored: it never started.
      this.deps.slots.release();
      this.markIdle(node);
      return;
    }
    const runner = new JobRunner({
      requestId: this.chain.requestId,
      node,
      job,
      prevTries: this.chain.latestRunJobTries.get(node.id) ?? 0,
      totalTries: this.chain.totalJobTries.get(node.id) ?? 0,
      log: this.logEntry,
      room: () => this.deps.slots.room(),
      remake: () => makeJob(this.deps.factory, node, this.chain.requestId),
      stopGraceMs: this.stopBudgetMs,
      random: this.deps.random,
      onRetryWait: this.deps.onRetryWait,
      onTry: this.deps.onJobTry,
    });
    this.runners.set(node.id, runner);
    this.chain.setJobState(node, State.RUNNING);
    runner.run(node.data).then(
      (r) => this.reap(node, runner, r.state, r.tries),
      (err) => {
        this.deps.logger.error('job runner failed', {
          requestId: this.requestId,
          jobId: node.id,
          error: errorText(err),
        });
        this.reap(node, runner, State.FAIL, 1);
      },
    );
  }

  /** Runner creation failed (unknown type, bad bytes): FAIL with its own, fresh try number. */
  private creationFailed(node: JobNode, err: unknown): void {
    this.logEntry(creationFailureEntry(this.chain, node, err));
    this.deps.onJobTry?.(node.job.type, State.FAIL);
    this.deps.slots.release();
    if (this.mode === 'finalized') return;
    this.finishJob(node, State.FAIL);
  }

  // ---- reaping -----------------------------------------------------------

  private reap(node: JobNode, runner: JobRunner, state: StateValue, tries: number): void {
    // A runner detached at finalize (it outlived the stop budget) is ignored.
    if (this.runners.get(node.id) !== runner) return;
    this.runners.delete(node.id);
    const chain = this.chain;
    chain.bump(chain.totalJobTries, node.id, tries);
    chain.bump(chain.latestRunJobTries, node.id, tries);
    this.deps.slots.release();
    this.finishJob(node, state);
  }

  /** Record a job's final state and act on it according to the mode. */
  private finishJob(node: JobNode, state: StateValue): void {
    const chain = this.chain;
    chain.setJobState(node, state);
    if (state === State.COMPLETE) {
      if (this.mode === 'running') {
        for (const next of node.succs) {
          this.passData(node, next);
          if (chain.isRunnable(next)) this.dispatch(next);
        }
      } else if (this.mode === 'suspending') {
        // Data still flows so the resumed chain has it; nothing starts.
        for (const next of node.succs) this.passData(node, next);
      }
    } else if (state !== State.STOPPED && (this.mode === 'running' || this.mode === 'suspending')) {
      this.onFailure(node);
    }
    this.markIdle(node);
  }

  private passData(from: JobNode, to: JobNode): void {
    passData(from, to, (msg, fields) =>
      this.deps.logger.error(msg, { requestId: this.requestId, ...fields }),
    );
  }

  /** A job failed: retry its sequence if it has a try left (prepared only while suspending). */
  private onFailure(node: JobNode): void {
    if (this.blocked(node) || !this.chain.canRetrySequence(node)) return;
    const p = this.retries.add(node.sequenceStart as JobNode);
    // Nothing of the invocation starts again before the reset: drop what has
    // not started, and let running jobs end without further tries.
    for (const n of p.region) {
      if (!n.busy || n === node) continue;
      if (this.starts.cancel(n.id)) this.markIdle(n);
      else this.runners.get(n.id)?.abandonRetries();
    }
  }

  // ---- stop, suspend, finalize ---------------------------------------------

  /** Drop jobs that have not started, stop running ones, and wait (until `until`) for them to return. */
  private async halt(until: number): Promise<void> {
    for (const id of this.starts.cancelAll()) this.markIdle(this.chain.nodes.get(id) as JobNode);
    for (const runner of this.runners.values())
      void runner.stop().then((error) => {
        if (error)
          this.deps.logger.warn('job stop() failed', {
            requestId: this.requestId,
            jobId: runner.node.id,
            error,
          });
      });
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, until - Date.now()));
      this.idleWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.idleWaiter = undefined;
  }

  /**
   * User stop: stop running jobs, abandon everything not started, then
   * finalize (COMPLETE / FAIL / STOPPED) and send finish. Resolves once the
   * finish was delivered (or after a bounded wait).
   */
  async stop(): Promise<ChainOutcome | undefined> {
    if (this.mode === 'suspending')
      throw new ShuttingDownError('chain not stopped because traverser is shutting down');
    if (this.mode === 'idle') this.mode = 'running';
    if (this.mode === 'running') {
      this.mode = 'stopping';
      await this.halt(Date.now() + this.stopBudgetMs);
      this.finalize();
    }
    return withTimeout(this.done, this.deps.stopReplyWaitMs ?? 10_000);
  }

  /**
   * Shutdown: like stop, then hand the chain back to the RM as a
   * suspended chain, unless it is complete or failed. If the RM cannot take
   * it before `deadline`, the chain is finished FAIL instead.
   */
  async suspend(deadline: number): Promise<ChainOutcome | undefined> {
    if (this.mode === 'idle') this.mode = 'running';
    if (this.mode === 'running') {
      this.mode = 'suspending';
      const grace = deadline - Date.now();
      // Leave time at the end to report FAIL if the RM will not take the chain.
      this.suspendDeadline = deadline - Math.min(3_000, Math.max(0, grace * 0.2));
      this.finishDeadline = deadline;
      await this.halt(Math.min(Date.now() + this.stopBudgetMs, this.suspendDeadline));
      this.finalize();
    }
    return withTimeout(this.done, deadline - Date.now());
  }

  /** Set once the RM told this JR to drop the chain. */
  private abandoned = false;

  get isAbandoned(): boolean {
    return this.abandoned;
  }

  /**
   * The RM no longer counts this chain as running here (it finalized it, for
   * instance as lost while this JR was cut off, or it is not RUNNING any
   * more): stop its jobs at once and end it without sending the RM anything
   * more. The caller also tells the reporter to forget the request.
   */
  abandon(reason: string): void {
    if (this.abandoned) return;
    this.abandoned = true;
    const was = this.mode;
    logDrop(this.deps.logger, {
      requestId: this.requestId,
      mode: was,
      reason,
      runningJobs: this.runners.size,
    });
    // Already finalized: its final message is on its way (the RM has usually just applied it) and settles the chain.
    if (was === 'finalized') return;
    this.starts.cancelAll();
    for (const runner of this.runners.values()) {
      void runner.stop();
      this.deps.slots.release();
    }
    this.runners.clear();
    for (const n of this.chain.order) n.busy = false;
    this.inFlight = 0;
    this.mode = 'finalized';
    this.timeouts.clear();
    this.chain.state = State.FAIL;
    // A stop or suspend waiting for jobs to return: they will not be waited for.
    this.idleWaiter?.();
    this.resolveDone({ state: State.FAIL, delivered: false });
  }

  /** When traversal started and when the chain was finalized (performance.now() ms), for logs. */
  startedMs = 0;
  finalizedMs = 0;

  /** Decide the chain's final state once and send it. */
  private finalize(): void {
    if (this.mode === 'finalized' || this.mode === 'idle') return;
    this.finalizedMs = performance.now();
    const was = this.mode;
    this.mode = 'finalized';
    this.timeouts.clear();
    const chain = this.chain;
    // Busy flags of what had not started are cleared with all the others below.
    this.starts.cancelAll();
    // Retries that were due are prepared, not started, as the original's stopped/suspended reapers do.
    for (const p of this.retries.all()) this.retries.apply(p);
    // Jobs that did not return within the stop budget are failed and left behind.
    for (const runner of this.runners.values()) {
      this.deps.logger.error('job did not stop in time; marking it FAIL', {
        requestId: this.requestId,
        jobId: runner.node.id,
        budgetMs: this.stopBudgetMs,
      });
      chain.setJobState(runner.node, State.FAIL);
      this.deps.slots.release();
    }
    this.runners.clear();
    for (const n of chain.order) n.busy = false;
    this.inFlight = 0;

    const state = finalState(chain, was);
    chain.state = state;
    const deadlines = { suspend: this.suspendDeadline, finish: this.finishDeadline };
    void deliverFinalOrLog(this.deps.reporter, this.deps.logger, chain, state, deadlines).then(
      this.resolveDone,
    );
  }

  /** Jobs with an active runner and the try each is on, for the heartbeat (no calls into jobs). */
  heldJobs(): HeldChain['jobs'] {
    return heldJobs(this.runners.values());
  }

  /** Status of every job with an active runner. */
  runningStatus(): JobStatus[] {
    return runningStatus(this.chain.requestId, this.runners.values());
  }
}
