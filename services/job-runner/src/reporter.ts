/**
 * Everything the JR tells the RM goes through here: job-log entries, progress
 * and finishes share ONE outbound pipeline, and nothing a job produced is lost
 * on the way (the original dropped entries and finishes it could not send at
 * once; see docs/compatibility.md). Each flush is a single
 * `POST /api/v1/internal/reports` carrying
 *
 * - the queued job-log entries, in the order they were made (one call in
 *   flight at a time, so they arrive in that order): JobLogQueue;
 * - the latest progress of each chain whose count moved (best effort):
 *   ProgressCoalescer;
 * - the finishes whose chain's entries are all delivered or in this very
 *   batch: FinishGate.
 *
 * This class schedules the calls and reads the RM's answers. A flush happens
 * ~25 ms after the first queued entry or progress, at once when a batch is
 * full, and for a finish at once unless a call carried finishes in the last
 * `minIntervalMs` (then when that is over), so under load finishes share
 * calls while a lone finish reaches the RM within milliseconds. A call that
 * fails (network error, timeout, 5xx, or 401/403: our credentials refused) is
 * retried with backoff for as long as the process lives (re-sending is safe:
 * the RM ignores exact duplicates and answers a repeated identical finish
 * `ok`). A call the RM rejects (4xx) is split to find the entries it refuses
 * (JobLogQueue). Suspended chains go separately (suspend-delivery.ts).
 */
import {
  type ApiError,
  type FinishRequest,
  type JobLog,
  type ReportResult,
  type RequestProgress,
  retryWithBackoff,
  runWithTrace,
  type SuspendedJobChain,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { CLOSED, type Delivery, DROPPED, FinishGate, type PendingFinish } from './finish-gate.js';
import { ForgottenChains } from './forgotten-chains.js';
import { JobLogQueue, QueueRoom, type Span } from './job-log-queue.js';
import { ProgressCoalescer } from './progress-coalescer.js';
import type { ChainReporter, DeliveryOptions, ReporterOptions, RmSink } from './reporter-types.js';
import { reporterDefaults } from './reporter-types.js';
import { describeRmError, isAuthFailure, isRejection } from './rm-errors.js';
import { deliverSuspend } from './suspend-delivery.js';

export type { Delivery } from './finish-gate.js';
export { entryJsonBytes } from './job-log-queue.js';
export type { ChainReporter, DeliveryOptions, ReporterOptions, RmSink } from './reporter-types.js';
export { isRejection } from './rm-errors.js';

/** One call's worth: what was taken from the queues. */
interface Outgoing extends Span {
  progress: RequestProgress[];
  finishes: PendingFinish[];
  /** Entries of a rejected call being split: nothing else rides along. */
  bare: boolean;
}

/** A 200 that does not settle every finish: retried with backoff, so as not to hammer that RM. */
class Unanswered extends Error {}

export class Reporter implements ChainReporter {
  private readonly logs: JobLogQueue;
  private readonly finishes: FinishGate;
  private readonly progressNext = new ProgressCoalescer();
  private sending = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** When the oldest unsent entry or progress was queued (0: none waits). */
  private oldestAt = 0;
  /** When the last call carrying a finish went out. */
  private lastFinishSendAt = 0;
  /** Set by drain: send everything without waiting. */
  private draining = false;
  private finalsInFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  /** Aborted by close(): retry waits end at once. */
  private readonly closing = new AbortController();
  private warnedAt = 0;
  private readonly space: QueueRoom;
  private fullWarnedAt = 0;
  /** Requests the RM no longer takes anything for (dropped chains), with when they were dropped. */
  private readonly forgotten = new ForgottenChains();
  private readonly isForgotten = (id: string) => this.forgotten.has(id);
  private readonly pendingFor = (id: string) => this.logs.pendingFor(id);
  private readonly opts: Required<ReporterOptions>;
  /** Entries delivered so far (for tests and stats). */
  delivered = 0;
  /** Calls made to the RM's report endpoint (for tests and stats). */
  calls = 0;

  constructor(
    private readonly sink: RmSink,
    private readonly logger: Logger,
    opts: ReporterOptions = {},
  ) {
    this.opts = reporterDefaults(opts);
    this.logs = new JobLogQueue(logger, this.opts);
    this.space = new QueueRoom(this.opts.maxQueue);
    this.finishes = new FinishGate(logger);
  }

  private get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Entries waiting to be delivered. */
  get queued(): number {
    return this.logs.size;
  }

  /** Entries and finishes waiting to be delivered (a metric). */
  get backlog(): number {
    return this.logs.size + this.finishes.size;
  }

  /** When the oldest undelivered entry was made (epoch ms), for the report-lag metric. */
  get oldestUndeliveredMs(): number | undefined {
    return this.logs.oldestMadeMs;
  }

  /** Queue one job-log entry (its texts capped). Never blocks, never throws. */
  log(entry: JobLog): void {
    if (this.forgotten.has(entry.requestId)) return;
    const n = this.logs.push(entry);
    if (this.oldestAt === 0) this.oldestAt = Date.now();
    if (n > this.opts.warnQueueSize && Date.now() - this.warnedAt > 10_000) {
      this.warnedAt = Date.now();
      this.logger.warn('job-log queue is large: the RM is slow or unreachable', { queued: n });
    }
    // Cheap for the common case: a flush is already due no later than this entry needs one.
    if (this.sending || (this.timer && n < this.opts.batchSize)) return;
    this.schedule();
  }

  /**
   * Room for more job-log entries: undefined while fewer than `maxQueue` wait,
   * else a promise resolved once deliveries (or close) made room. Jobs await it
   * before a try (JobSlots, JobRunner): an RM that does not answer holds jobs back.
   */
  room(): Promise<void> | undefined {
    if (this.closed) return undefined;
    const wait = this.space.need(this.queued, () => {
      if (Date.now() - this.fullWarnedAt < 10_000) return;
      this.fullWarnedAt = Date.now();
      this.logger.warn('job-log queue is full: jobs wait until the RM takes entries', {
        queued: this.queued,
      });
    });
    if (wait) this.schedule(); // what is queued must go out for room to come
    return wait;
  }

  /** Best-effort progress: the latest value per chain goes with the next flush. */
  progress(body: RequestProgress): void {
    if (this.closed || this.forgotten.has(body.requestId)) return;
    this.progressNext.set(body);
    if (this.oldestAt === 0) this.oldestAt = Date.now();
    this.schedule();
  }

  // ---------------------------------------------------------------- scheduling

  /** When the next call should go out (epoch ms), or undefined when nothing waits. */
  private dueAt(): number | undefined {
    const logs = this.queued > 0;
    if (!logs && this.finishes.size === 0 && this.progressNext.size === 0) return undefined;
    const now = Date.now();
    if (
      this.draining ||
      this.logs.splitting ||
      (logs && (this.queued >= this.opts.batchSize || this.logs.awaited))
    )
      return now;
    let due: number | undefined;
    if (this.finishes.size > 0) due = Math.max(now, this.lastFinishSendAt + this.opts.minIntervalMs);
    if (this.oldestAt !== 0 && (this.queued > 0 || this.progressNext.size > 0)) {
      const t = this.oldestAt + this.opts.flushIntervalMs;
      due = due === undefined ? t : Math.min(due, t);
    }
    return due;
  }

  /** Start a flush now, or set the timer for when one is due. */
  private schedule(): void {
    if (this.sending || this.closed) return;
    const due = this.dueAt();
    if (due === undefined) return;
    if (due - Date.now() <= 0) {
      this.kick();
      return;
    }
    this.setTimer(due);
  }

  private setTimer(due: number): void {
    if (this.timer && this.timerAt <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.max(0, due - Date.now()),
    );
  }

  /** Flush now (unless a call is in flight: the loop goes on after it). */
  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.sending || this.closed) return;
    this.sending = true;
    // Calls carry their chains' traces (rm-gateway.ts), not that of whatever scheduled this flush.
    void runWithTrace(undefined, () => this.sendLoop());
  }

  // ---------------------------------------------------------------- the call

  /** Calls until nothing is due; each run of failures is retried with backoff, which a success resets. */
  private async sendLoop(): Promise<void> {
    try {
      let more = true;
      while (more && !this.closed)
        more = await retryWithBackoff((attempt) => this.sendOne(attempt), {
          baseDelayMs: this.opts.retryBaseMs,
          maxDelayMs: this.opts.retryMaxMs,
          signal: this.closing.signal,
        });
    } catch {
      // Only close() ends the retries.
    } finally {
      this.sending = false;
      // Through a timer even when due now: never a synchronous loop back into sendLoop.
      const due = this.closed ? undefined : this.dueAt();
      if (due !== undefined) this.setTimer(due);
      this.notifyIdle();
    }
  }

  /**
   * One call (`attempt` > 1: after that many failed ones). Resolves whether
   * another call is due at once; throws when the call is to be retried.
   */
  private async sendOne(attempt: number): Promise<boolean> {
    const out = this.take();
    if (!out) return false;
    if (out.finishes.length > 0) this.lastFinishSendAt = Date.now();
    this.calls++;
    const failures = attempt - 1;
    let result: ReportResult;
    try {
      result = await this.sink.report({
        logs: out.logs,
        progress: out.progress,
        finishes: out.finishes.map((f) => f.body),
      });
    } catch (err) {
      if (isRejection(err)) {
        this.rejected(out, err);
        return true;
      }
      this.putBack(out);
      if (attempt === 1 || attempt % 10 === 0)
        this.logger[isAuthFailure(err) ? 'error' : 'warn']('reporting to the RM failed; retrying', {
          entries: out.logs.length,
          finishes: out.finishes.length,
          queued: this.queued,
          error: describeRmError(err),
          failures: attempt,
        });
      throw err;
    }
    if (failures > 0) this.logger.info('reporting to the RM works again', { failures });
    this.logs.advance(out);
    this.delivered += out.logs.length;
    this.space.made(this.queued, this.closed);
    const unanswered = this.finishes.answered(out.finishes, result);
    if (unanswered > 0) {
      this.logger.warn('the RM did not answer for every finish; retrying them', {
        unanswered,
        failures: attempt,
      });
      throw new Unanswered();
    }
    const due = this.dueAt();
    return due !== undefined && due <= Date.now();
  }

  /** Take the next call's worth from the queues; undefined when nothing is to be sent. */
  private take(): Outgoing | undefined {
    const { span, logs } = this.logs.take(this.forgotten.size > 0 ? this.isForgotten : undefined);
    if (this.logs.splitting) {
      // A part of a rejected call: its entries alone (progress waits, finishes wait for their entries).
      if (span === this.queued && this.progressNext.size === 0) this.oldestAt = 0;
      return { span, logs, progress: [], finishes: [], bare: true };
    }
    // Entries of each chain in this call, to tell which finishes may ride along.
    const inCall = new Map<string, number>();
    for (const e of logs) inCall.set(e.requestId, (inCall.get(e.requestId) ?? 0) + 1);
    const finishes = this.finishes.ready(inCall, this.pendingFor, this.opts.maxBatch);
    // A finish carries the final count.
    const progress = this.progressNext.take((id) => this.finishes.has(id) || this.forgotten.has(id));
    if (span === this.queued) this.oldestAt = 0;
    if (span === 0 && finishes.length === 0 && progress.length === 0) return undefined;
    return { span, logs, progress, finishes, bare: false };
  }

  /** The call will be made again: progress not superseded meanwhile goes back to the queue. */
  private putBack(out: Outgoing): void {
    this.progressNext.putBack(out.progress, this.isForgotten);
    if (out.progress.length > 0 && this.oldestAt === 0) this.oldestAt = Date.now();
    this.finishes.release(out.finishes);
  }

  /**
   * A 4xx for the whole call: the RM will never take it as it is. Several
   * entries: split in two, each half sent again on its own. One entry that
   * came with finishes or progress: sent again alone. One entry alone: the RM
   * refuses that very entry, which is dropped (logged) so that it cannot block
   * every other chain. The call's finishes go again after its entries; its
   * progress is dropped (best effort: a newer value follows).
   */
  private rejected(out: Outgoing, err: ApiError): void {
    const error = describeRmError(err);
    this.finishes.release(out.finishes);
    const n = out.logs.length;
    if (n > 1 || (n === 1 && !out.bare && (out.finishes.length > 0 || out.progress.length > 0))) {
      if (!out.bare)
        this.logger.warn(
          'RM rejected a report call; sending its entries again in parts to find the ones it refuses',
          { entries: n, finishes: out.finishes.length, error },
        );
      this.logs.resend(out);
      return;
    }
    if (n === 1) {
      const e = out.logs[0] as JobLog;
      this.logger.error('RM refused a job-log entry; it is dropped', {
        requestId: e.requestId,
        jobId: e.jobId,
        try: e.try,
        error,
      });
    }
    if (out.span > 0) {
      this.logs.advance(out);
      this.space.made(this.queued, this.closed);
      return;
    }
    this.finishes.refused(out.finishes, error);
  }

  // ---------------------------------------------------------------- final messages

  /** Resolves when every entry queued so far for `requestId` was delivered (or the deadline passed: false). */
  logsDelivered(requestId: string, deadline?: number): Promise<boolean> {
    return this.logs.delivered(requestId, deadline, () => this.schedule());
  }

  /**
   * Deliver a chain's final state: with the next flush that also carries (or
   * follows) every job-log entry queued for the chain. Settled by the RM's
   * outcome; retried until then, or until the deadline (not delivered).
   */
  finish(body: FinishRequest, opts: DeliveryOptions = {}): Promise<Delivery> {
    if (this.closed) return Promise.resolve(CLOSED);
    if (this.forgotten.has(body.requestId)) return Promise.resolve(DROPPED);
    const settled = this.finishes.add(body, opts.deadline, this.pendingFor, () => this.notifyIdle());
    this.schedule();
    return settled;
  }

  /** Hand a suspended chain back: on a call of its own, after the chain's entries, retried with backoff. */
  async suspend(body: SuspendedJobChain, opts: DeliveryOptions = {}): Promise<Delivery> {
    this.finalsInFlight++;
    try {
      return await deliverSuspend(
        {
          send: (b) => this.sink.suspend(b),
          logger: this.logger,
          logsDelivered: (id, deadline) => this.logsDelivered(id, deadline),
          isForgotten: this.isForgotten,
          signal: this.closing.signal,
          retryBaseMs: this.opts.retryBaseMs,
          retryMaxMs: this.opts.retryMaxMs,
        },
        body,
        opts.deadline,
      );
    } finally {
      this.finalsInFlight--;
      this.notifyIdle();
    }
  }

  /**
   * Deliver nothing more for `requestId` (the RM told us to drop the chain):
   * its queued entries and progress are skipped, new ones ignored, and a
   * finish or suspend still waiting gives up.
   */
  forget(requestId: string): void {
    this.forgotten.add(requestId);
    this.progressNext.delete(requestId);
    this.finishes.forget(requestId);
    this.logs.forget(requestId);
    this.space.made(this.queued, this.closed);
    this.notifyIdle();
  }

  // ---------------------------------------------------------------- drain and close

  private get idle(): boolean {
    return this.queued === 0 && this.finishes.size === 0 && !this.sending && this.finalsInFlight === 0;
  }

  private notifyIdle(): void {
    if (!this.idle) return;
    this.draining = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Send everything queued without waiting, and wait until it is delivered; false when the deadline came first. */
  async drain(deadline: number): Promise<boolean> {
    if (this.idle) return true;
    this.draining = true;
    this.schedule();
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.idle), Math.max(0, deadline - Date.now()));
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stop all timers and retry loops (the process is about to exit, or a test is done). */
  close(): void {
    this.closing.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.logs.close();
    this.finishes.close();
    this.space.made(this.queued, this.closed);
  }
}
