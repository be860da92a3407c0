/**
 * Everything the JR tells the RM goes through here (reference §7.4 step 5,
 * §7.7, §7.9, §7.10), with the original's silent drops fixed:
 *
 * - Job-log entries go into one outbound queue, sent in batches
 *   (`POST /api/v1/job-logs`) a few tens of milliseconds after the first
 *   entry, or at once when a batch is full. One batch is in flight at a time,
 *   so entries arrive in the order they were made. A failed batch is retried
 *   with backoff for as long as the process lives; the RM ignores exact
 *   duplicates, so re-sending is safe.
 * - A chain's final message (finish or suspend) is sent only after every
 *   job-log entry of that chain was delivered, and is retried with backoff
 *   until delivered, rejected (4xx: the RM will never take it) or past its
 *   deadline.
 * - Progress is best effort: at most one call in flight per chain, later
 *   values coalesced.
 */
import {
  ApiError,
  type FinishRequest,
  type JobLog,
  type RequestProgress,
  type SuspendedJobChain,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { errorText } from './runner.js';

/** The RM calls the JR makes (implemented over HTTP by RmGateway; in memory in tests). */
export interface RmSink {
  postJobLogs(entries: JobLog[]): Promise<void>;
  finish(body: FinishRequest): Promise<void>;
  suspend(body: SuspendedJobChain): Promise<void>;
  progress(body: RequestProgress): Promise<void>;
}

export interface DeliveryOptions {
  /** Give up after this time (epoch ms). Default: never. */
  deadline?: number;
}

export type Delivery = { delivered: true } | { delivered: false; reason: string; rejected: boolean };

/** What a traverser needs from the reporter. */
export interface ChainReporter {
  log(entry: JobLog): void;
  finish(body: FinishRequest, opts?: DeliveryOptions): Promise<Delivery>;
  suspend(body: SuspendedJobChain, opts?: DeliveryOptions): Promise<Delivery>;
}

export interface ReporterOptions {
  /** Delay between the first queued entry and its batch being sent (default 25 ms). */
  flushIntervalMs?: number;
  /** Send at once when this many entries are queued (default 256). */
  batchSize?: number;
  /** Most entries in one call (default 1000). */
  maxBatch?: number;
  /** Rough upper bound of one call's body in bytes (default 4 MiB; a single larger entry still goes alone). */
  maxBatchBytes?: number;
  /** First retry delay (default 100 ms), doubled up to `retryMaxMs` (default 5 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Log a warning when the queue grows past this many entries (default 100,000). */
  warnQueueSize?: number;
}

/** Whether an error from the RM means "never going to work" (4xx other than timeouts/throttling). */
export function isRejection(err: unknown): err is ApiError {
  if (!(err instanceof ApiError) || err.status === undefined) return false;
  return err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return err.status ? `HTTP ${err.status}: ${err.message}` : err.message;
  return errorText(err);
}

export class Reporter implements ChainReporter {
  private queue: JobLog[] = [];
  private head = 0;
  private sending = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private finalsInFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly progressInFlight = new Set<string>();
  private readonly progressNext = new Map<string, RequestProgress>();
  private closed = false;
  private warnedAt = 0;
  /** Requests the RM no longer takes anything for (dropped chains), with when they were dropped. */
  private readonly forgotten = new Map<string, number>();
  private readonly opts: Required<ReporterOptions>;
  /** Entries delivered so far (for tests and stats). */
  delivered = 0;

  constructor(
    private readonly sink: RmSink,
    private readonly logger: Logger,
    opts: ReporterOptions = {},
  ) {
    this.opts = {
      flushIntervalMs: opts.flushIntervalMs ?? 25,
      batchSize: opts.batchSize ?? 256,
      maxBatch: opts.maxBatch ?? 1000,
      maxBatchBytes: opts.maxBatchBytes ?? 4 * 1024 * 1024,
      retryBaseMs: opts.retryBaseMs ?? 100,
      retryMaxMs: opts.retryMaxMs ?? 5000,
      warnQueueSize: opts.warnQueueSize ?? 100_000,
    };
  }

  /** Entries waiting to be delivered. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Queue one job-log entry. Never blocks, never throws. */
  log(entry: JobLog): void {
    if (this.forgotten.has(entry.requestId)) return;
    this.queue.push(entry);
    this.pending.set(entry.requestId, (this.pending.get(entry.requestId) ?? 0) + 1);
    const n = this.queue.length - this.head;
    if (n >= this.opts.batchSize) this.kick();
    else if (!this.timer && !this.sending)
      this.timer = setTimeout(() => this.kick(), this.opts.flushIntervalMs);
    if (n > this.opts.warnQueueSize && Date.now() - this.warnedAt > 10_000) {
      this.warnedAt = Date.now();
      this.logger.warn('job-log queue is large: the RM is slow or unreachable', { queued: n });
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.sending || this.closed) return;
    this.sending = true;
    void this.sendLoop();
  }

  private async sendLoop(): Promise<void> {
    let delay = this.opts.retryBaseMs;
    let failures = 0;
    try {
      while (this.head < this.queue.length && !this.closed) {
        const span = this.nextBatch();
        // Entries of chains dropped meanwhile are skipped, not sent.
        const batch = this.forgotten.size > 0 ? span.filter((e) => !this.forgotten.has(e.requestId)) : span;
        try {
          if (batch.length > 0) await this.sink.postJobLogs(batch);
        } catch (err) {
          if (isRejection(err)) {
            // The RM will never take this batch; keep the entries in our log rather than block every chain behind it.
            this.logger.error('RM rejected a batch of job-log entries; they are dropped', {
              entries: batch.length,
              error: describe(err),
              requestIds: [...new Set(batch.map((e) => e.requestId))].slice(0, 10),
              first: batch[0] && { requestId: batch[0].requestId, jobId: batch[0].jobId, try: batch[0].try },
            });
          } else {
            failures++;
            if (failures === 1 || failures % 10 === 0) {
              this.logger.warn('delivering job-log entries to the RM failed; retrying', {
                entries: batch.length,
                queued: this.queued,
                error: describe(err),
                failures,
              });
            }
            await this.sleep(delay);
            delay = Math.min(delay * 2, this.opts.retryMaxMs);
            continue;
          }
        }
        failures = 0;
        delay = this.opts.retryBaseMs;
        this.head += span.length;
        this.delivered += batch.length;
        this.settle(batch);
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
    } finally {
      this.sending = false;
      this.notifyIdle();
    }
  }

  /** The next entries to send: up to maxBatch entries and about maxBatchBytes of text. */
  private nextBatch(): JobLog[] {
    const end = Math.min(this.queue.length, this.head + this.opts.maxBatch);
    let bytes = 0;
    let i = this.head;
    for (; i < end; i++) {
      const e = this.queue[i] as JobLog;
      bytes += 256 + e.stdout.length + e.stderr.length + e.error.length + e.name.length;
      if (bytes > this.opts.maxBatchBytes && i > this.head) break;
    }
    return this.queue.slice(this.head, i);
  }

  /** Count delivered entries off their requests and wake whoever waits for them. */
  private settle(batch: JobLog[]): void {
    let last = '';
    let count = 0;
    const flush = () => {
      if (count === 0) return;
      const left = (this.pending.get(last) ?? 0) - count;
      if (left > 0) this.pending.set(last, left);
      else {
        this.pending.delete(last);
        const ws = this.waiters.get(last);
        if (ws) {
          this.waiters.delete(last);
          for (const w of ws) w();
        }
      }
    };
    for (const e of batch) {
      if (e.requestId !== last) {
        flush();
        last = e.requestId;
        count = 0;
      }
      count++;
    }
    flush();
  }

  /** Resolves when every entry queued so far for `requestId` was delivered (or the deadline passed: false). */
  logsDelivered(requestId: string, deadline?: number): Promise<boolean> {
    if (!this.pending.has(requestId)) return Promise.resolve(true);
    this.kick();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      const list = this.waiters.get(requestId) ?? [];
      list.push(done);
      this.waiters.set(requestId, list);
      if (deadline !== undefined) {
        timer = setTimeout(
          () => {
            const ws = this.waiters.get(requestId);
            if (ws) {
              const i = ws.indexOf(done);
              if (i >= 0) ws.splice(i, 1);
            }
            resolve(false);
          },
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }

  finish(body: FinishRequest, opts: DeliveryOptions = {}): Promise<Delivery> {
    return this.deliverFinal('finish', body.requestId, () => this.sink.finish(body), opts);
  }

  suspend(body: SuspendedJobChain, opts: DeliveryOptions = {}): Promise<Delivery> {
    return this.deliverFinal('suspend', body.requestId, () => this.sink.suspend(body), opts);
  }

  private async deliverFinal(
    what: string,
    requestId: string,
    send: () => Promise<void>,
    opts: DeliveryOptions,
  ): Promise<Delivery> {
    this.finalsInFlight++;
    try {
      const logsOk = await this.logsDelivered(requestId, opts.deadline);
      if (!logsOk)
        this.logger.warn(`sending ${what} although job-log entries are still undelivered (deadline)`, {
          requestId,
        });
      let delay = this.opts.retryBaseMs;
      for (let attempt = 1; ; attempt++) {
        if (this.closed) return { delivered: false, reason: 'reporter closed', rejected: false };
        if (this.forgotten.has(requestId))
          return { delivered: false, reason: 'the RM dropped this chain', rejected: true };
        try {
          await send();
          if (attempt > 1) this.logger.info(`${what} delivered to the RM`, { requestId, attempts: attempt });
          return { delivered: true };
        } catch (err) {
          const reason = describe(err);
          if (isRejection(err)) {
            const level = err.status === 409 ? 'warn' : 'error';
            this.logger[level](`RM refused ${what}; not retrying`, { requestId, error: reason });
            return { delivered: false, reason, rejected: true };
          }
          if (opts.deadline !== undefined && Date.now() + delay > opts.deadline) {
            this.logger.error(`could not deliver ${what} to the RM before the deadline`, {
              requestId,
              error: reason,
              attempts: attempt,
            });
            return { delivered: false, reason, rejected: false };
          }
          if (attempt === 1 || attempt % 10 === 0)
            this.logger.warn(`${what} to the RM failed; retrying`, {
              requestId,
              error: reason,
              attempts: attempt,
            });
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.opts.retryMaxMs);
        }
      }
    } finally {
      this.finalsInFlight--;
      this.notifyIdle();
    }
  }

  /**
   * Deliver nothing more for `requestId` (the RM told us to drop the chain):
   * its queued entries are skipped, new ones ignored, and a finish or suspend
   * still being retried gives up.
   */
  forget(requestId: string): void {
    const now = Date.now();
    this.forgotten.set(requestId, now);
    // Remembered for an hour: long enough for every straggler of that chain.
    if (this.forgotten.size > 1000)
      for (const [id, at] of this.forgotten) if (now - at > 3_600_000) this.forgotten.delete(id);
    this.progressNext.delete(requestId);
    if (this.pending.delete(requestId)) {
      const ws = this.waiters.get(requestId);
      this.waiters.delete(requestId);
      for (const w of ws ?? []) w();
    }
  }

  /** Best-effort progress; one call in flight per chain, newer values replace queued ones. */
  progress(body: RequestProgress): void {
    if (this.closed || this.forgotten.has(body.requestId)) return;
    if (this.progressInFlight.has(body.requestId)) {
      this.progressNext.set(body.requestId, body);
      return;
    }
    this.progressInFlight.add(body.requestId);
    this.sink.progress(body).then(
      () => this.progressDone(body.requestId),
      (err) => {
        this.logger.debug('progress to the RM failed', { requestId: body.requestId, error: describe(err) });
        this.progressDone(body.requestId);
      },
    );
  }

  private progressDone(requestId: string): void {
    this.progressInFlight.delete(requestId);
    const next = this.progressNext.get(requestId);
    if (next) {
      this.progressNext.delete(requestId);
      this.progress(next);
    }
  }

  private get idle(): boolean {
    return this.queued === 0 && !this.sending && this.finalsInFlight === 0;
  }

  private notifyIdle(): void {
    if (!this.idle) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Wait until every queued entry and final message is delivered; false when the deadline came first. */
  async drain(deadline: number): Promise<boolean> {
    if (this.queued > 0) this.kick();
    if (this.idle) return true;
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
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleeps.clear();
    // Nobody may wait forever on a queue that will not move any more.
    for (const ws of this.waiters.values()) for (const w of ws) w();
    this.waiters.clear();
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeps.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleeps.add(entry);
    });
  }
}
