/**
 * Everything the JR tells the RM goes through here (reference §7.4 step 5,
 * §7.7, §7.9, §7.10), with the original's silent drops fixed. Job-log
 * entries, progress and finishes share ONE outbound pipeline: each flush is a
 * single `POST /api/v1/internal/reports` carrying
 *
 * - the queued job-log entries, in the order they were made (one call in
 *   flight at a time, so they arrive in that order);
 * - the latest progress of each chain whose count moved (best effort);
 * - the finishes whose chain's entries are all delivered or in this very
 *   batch: the RM stores a batch's entries before it applies its finishes, so
 *   a finish is never applied before its chain's job log.
 *
 * Nothing a job produced is lost on the way: each entry's stdout, stderr and
 * error are cut to their last `maxLogTextBytes` bytes (marked as TailBuffer
 * marks it) when queued, so no entry can outgrow what the RM takes; a call
 * holds at most `maxBatch` entries and, past its first entry, at most
 * `maxBatchBytes` of serialized entries; and a call the RM rejects (4xx)
 * with more than one entry in it is split in halves, sent again, until only
 * the entries the RM refuses on their own are dropped (each logged). The
 * halves carry entries alone, in queue order, before anything queued after
 * them; finishes wait until they are through (never ahead of their chain's
 * entries).
 *
 * A flush happens ~25 ms after the first queued entry or progress, at once
 * when a batch is full, and for a finish at once unless a call carried
 * finishes in the last `minIntervalMs` (then when that is over), so under load
 * finishes share calls while a lone finish reaches the RM within milliseconds. A call that
 * fails (network error, timeout, 5xx, or 401/403: our credentials refused) is
 * retried with backoff for as long as the process lives (re-sending is safe: the RM ignores exact duplicates and
 * answers a repeated identical finish `ok`). The RM answers each finish
 * `ok`, `not_running`, `not_found` or `invalid`: all settle it. Suspended
 * chains go separately (`PUT …/suspend`, big and rare), after their chain's
 * entries, retried the same way.
 */
import { truncateTail } from '@spincycle/jobs';
import {
  ApiError,
  type FinishOutcome,
  type FinishRequest,
  type JobLog,
  type ReportBatch,
  type ReportResult,
  type RequestProgress,
  type SuspendedJobChain,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { errorText } from './runner.js';

/** The RM calls the JR makes (implemented over HTTP by RmGateway; in memory in tests). */
export interface RmSink {
  /** Job-log entries, then progress, then finishes, applied by the RM in that order. */
  report(batch: ReportBatch): Promise<ReportResult>;
  suspend(body: SuspendedJobChain): Promise<void>;
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
  /** Longest wait between the first queued entry (or progress) and its flush (default 25 ms). */
  flushIntervalMs?: number;
  /**
   * A finish goes at once unless a call carried finishes less than this long
   * ago (default 20 ms; 0: never waits): under load finishes share calls, a
   * lone one is not delayed.
   */
  minIntervalMs?: number;
  /** Flush at once when this many entries are queued (default 256). */
  batchSize?: number;
  /** Most entries (and most finishes) in one call (default 1000). */
  maxBatch?: number;
  /** Most bytes of serialized entries in one call (default 4 MiB; a single larger entry still goes alone). */
  maxBatchBytes?: number;
  /** Bytes kept of each entry's stdout, stderr and error, each: the tail (default 1 MiB). */
  maxLogTextBytes?: number;
  /** First retry delay (default 100 ms), doubled up to `retryMaxMs` (default 5 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Log a warning when the queue grows past this many entries (default 100,000). */
  warnQueueSize?: number;
}

/**
 * Whether an error from the RM means "never going to work" (4xx other than
 * timeouts/throttling). 401/403 are not: they say our credentials are wrong
 * (a bad or rotated internal token), which an operator fixes, so what we hold
 * is kept and retried rather than dropped.
 */
export function isRejection(err: unknown): err is ApiError {
  if (!(err instanceof ApiError) || err.status === undefined) return false;
  const s = err.status;
  return s >= 400 && s < 500 && s !== 401 && s !== 403 && s !== 408 && s !== 429;
}

/** A 401/403 from the RM: the JR's credentials are refused. */
function isAuthFailure(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

/** `{"requestId":,"jobId":,...}` with every value empty: what an entry's JSON has besides its values. */
const ENTRY_JSON_OVERHEAD =
  '{"requestId":,"jobId":,"try":,"name":,"type":,"startedAt":"","finishedAt":"","state":,"exit":,"error":,"stdout":,"stderr":}'
    .length;

const jsonStringBytes = (s: string): number => (s.length === 0 ? 2 : Buffer.byteLength(JSON.stringify(s)));

/** An entry's size in the report body in bytes: JSON with the times as decimal strings, as RmInternalClient sends it. */
export function entryJsonBytes(e: JobLog): number {
  return (
    ENTRY_JSON_OVERHEAD +
    jsonStringBytes(e.requestId) +
    jsonStringBytes(e.jobId) +
    jsonStringBytes(e.name) +
    jsonStringBytes(e.type) +
    jsonStringBytes(e.error) +
    jsonStringBytes(e.stdout) +
    jsonStringBytes(e.stderr) +
    String(e.try).length +
    String(e.state).length +
    String(e.exit).length +
    String(e.startedAt).length +
    String(e.finishedAt).length
  );
}

/** At least `entryJsonBytes(e)`, without encoding anything: a UTF-16 unit is at most 6 bytes of JSON (`\\u001f`). */
function entryJsonBytesAtMost(e: JobLog): number {
  const units =
    e.requestId.length +
    e.jobId.length +
    e.name.length +
    e.type.length +
    e.error.length +
    e.stdout.length +
    e.stderr.length;
  // 7 strings' quotes; 5 numbers of at most 24 characters each (nanosecond times, try, state, exit).
  return ENTRY_JSON_OVERHEAD + 6 * units + 14 + 5 * 24;
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return err.status ? `HTTP ${err.status}: ${err.message}` : err.message;
  return errorText(err);
}

/** A finish waiting for delivery. */
interface PendingFinish {
  body: FinishRequest;
  resolve: (d: Delivery) => void;
  settled: boolean;
  /** Part of the call in flight. */
  inFlight: boolean;
  attempts: number;
  timer?: NodeJS.Timeout;
}

/** One call's worth: what was taken from the queues. */
interface Outgoing {
  /** Entries taken from the queue (`head` moves past them once the call is settled). */
  span: number;
  /** The entries sent (the span less those of dropped chains). */
  logs: JobLog[];
  progress: RequestProgress[];
  finishes: PendingFinish[];
  /** Entries of a rejected call being split: nothing else rides along. */
  bare: boolean;
}

const FINISH_REASONS: Record<Exclude<FinishOutcome, 'ok'>, string> = {
  not_running: 'the request is not RUNNING at the RM',
  not_found: 'the RM does not know the request',
  invalid: 'the RM found the finish invalid',
};

export class Reporter implements ChainReporter {
  private queue: JobLog[] = [];
  private head = 0;
  private sending = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** When the oldest unsent entry or progress was queued (0: none waits). */
  private oldestAt = 0;
  /** When the last call carrying a finish went out. */
  private lastFinishSendAt = 0;
  /** Set by drain: send everything without waiting. */
  private draining = false;
  private readonly pending = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly finishes = new Map<string, PendingFinish>();
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private finalsInFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly progressNext = new Map<string, RequestProgress>();
  private closed = false;
  private warnedAt = 0;
  /** Requests the RM no longer takes anything for (dropped chains), with when they were dropped. */
  private readonly forgotten = new Map<string, number>();
  /**
   * Entries of rejected calls being split (bisection): counts of queue
   * positions from `head`, each to go as a call of its own carrying only
   * those entries, before anything else is sent.
   */
  private segments: number[] = [];
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
    this.opts = {
      flushIntervalMs: opts.flushIntervalMs ?? 25,
      minIntervalMs: opts.minIntervalMs ?? 20,
      batchSize: opts.batchSize ?? 256,
      maxBatch: opts.maxBatch ?? 1000,
      maxBatchBytes: opts.maxBatchBytes ?? 4 * 1024 * 1024,
      maxLogTextBytes: opts.maxLogTextBytes ?? 1024 * 1024,
      retryBaseMs: opts.retryBaseMs ?? 100,
      retryMaxMs: opts.retryMaxMs ?? 5000,
      warnQueueSize: opts.warnQueueSize ?? 100_000,
    };
  }

  /** Entries waiting to be delivered. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Queue one job-log entry (its texts capped). Never blocks, never throws. */
  log(entry: JobLog): void {
    if (this.forgotten.has(entry.requestId)) return;
    this.queue.push(this.capped(entry));
    this.pending.set(entry.requestId, (this.pending.get(entry.requestId) ?? 0) + 1);
    if (this.oldestAt === 0) this.oldestAt = Date.now();
    const n = this.queue.length - this.head;
    if (n > this.opts.warnQueueSize && Date.now() - this.warnedAt > 10_000) {
      this.warnedAt = Date.now();
      this.logger.warn('job-log queue is large: the RM is slow or unreachable', { queued: n });
    }
    // Cheap for the common case: a flush is already due no later than this entry needs one.
    if (this.sending || (this.timer && n < this.opts.batchSize)) return;
    this.schedule();
  }

  /** The entry with stdout, stderr and error cut to their last maxLogTextBytes bytes (the entry itself when all fit). */
  private capped(e: JobLog): JobLog {
    const max = this.opts.maxLogTextBytes;
    const stdout = truncateTail(e.stdout, max);
    const stderr = truncateTail(e.stderr, max);
    const error = truncateTail(e.error, max);
    if (stdout === e.stdout && stderr === e.stderr && error === e.error) return e;
    const originalBytes: Record<string, number> = {};
    if (stdout !== e.stdout) originalBytes.stdout = Buffer.byteLength(e.stdout);
    if (stderr !== e.stderr) originalBytes.stderr = Buffer.byteLength(e.stderr);
    if (error !== e.error) originalBytes.error = Buffer.byteLength(e.error);
    this.logger.warn('job-log entry too large: only the tail of its text goes to the RM', {
      requestId: e.requestId,
      jobId: e.jobId,
      try: e.try,
      originalBytes,
      keptBytes: max,
    });
    return { ...e, stdout, stderr, error };
  }

  /** Best-effort progress: the latest value per chain goes with the next flush. */
  progress(body: RequestProgress): void {
    if (this.closed || this.forgotten.has(body.requestId)) return;
    this.progressNext.set(body.requestId, body);
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
      this.segments.length > 0 ||
      (logs && (this.queued >= this.opts.batchSize || this.waiters.size > 0))
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
    const wait = due - Date.now();
    if (wait <= 0) {
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
    void this.sendLoop();
  }

  // ---------------------------------------------------------------- the call

  private async sendLoop(): Promise<void> {
    let delay = this.opts.retryBaseMs;
    let failures = 0;
    try {
      while (!this.closed) {
        const out = this.take();
        if (!out) break;
        if (out.finishes.length > 0) this.lastFinishSendAt = Date.now();
        this.calls++;
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
            failures = 0;
            delay = this.opts.retryBaseMs;
            continue;
          }
          this.putBack(out);
          failures++;
          if (failures === 1 || failures % 10 === 0) {
            this.logger[isAuthFailure(err) ? 'error' : 'warn']('reporting to the RM failed; retrying', {
              entries: out.logs.length,
              finishes: out.finishes.length,
              queued: this.queued,
              error: describe(err),
              failures,
            });
          }
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.opts.retryMaxMs);
          continue;
        }
        if (failures > 0) this.logger.info('reporting to the RM works again', { failures });
        const unanswered = this.accepted(out, result);
        if (unanswered > 0) {
          // A 200 that does not settle every finish: do not hammer that RM.
          failures++;
          this.logger.warn('the RM did not answer for every finish; retrying them', { unanswered, failures });
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.opts.retryMaxMs);
          continue;
        }
        failures = 0;
        delay = this.opts.retryBaseMs;
        const due = this.dueAt();
        if (due === undefined || due > Date.now()) break;
      }
    } finally {
      this.sending = false;
      // Through a timer even when due now: never a synchronous loop back into sendLoop.
      const due = this.closed ? undefined : this.dueAt();
      if (due !== undefined) this.setTimer(due);
      this.notifyIdle();
    }
  }

  /** Take the next call's worth from the queues; undefined when nothing is to be sent. */
  private take(): Outgoing | undefined {
    let span = this.nextBatch();
    let logs = this.forgotten.size > 0 ? span.filter((e) => !this.forgotten.has(e.requestId)) : span;
    // Entries only of dropped chains: skipped without a call.
    while (span.length > 0 && logs.length === 0) {
      this.advance({ span: span.length, logs, progress: [], finishes: [], bare: false });
      span = this.nextBatch();
      logs = this.forgotten.size > 0 ? span.filter((e) => !this.forgotten.has(e.requestId)) : span;
    }
    if (span.length === 0) this.segments = [];
    if (this.segments.length > 0) {
      // A part of a rejected call: its entries alone (progress waits, finishes wait for their entries).
      if (span.length === this.queued && this.progressNext.size === 0) this.oldestAt = 0;
      return { span: span.length, logs, progress: [], finishes: [], bare: true };
    }
    // Entries of each chain in this call, to tell which finishes may ride along.
    const inCall = new Map<string, number>();
    for (const e of logs) inCall.set(e.requestId, (inCall.get(e.requestId) ?? 0) + 1);
    const finishes: PendingFinish[] = [];
    for (const [id, f] of this.finishes) {
      if (finishes.length >= this.opts.maxBatch) break;
      if ((this.pending.get(id) ?? 0) !== (inCall.get(id) ?? 0)) continue;
      f.inFlight = true;
      f.attempts++;
      finishes.push(f);
    }
    const progress: RequestProgress[] = [];
    for (const [id, p] of this.progressNext) {
      // A finish carries the final count.
      if (this.finishes.has(id) || this.forgotten.has(id)) continue;
      progress.push(p);
    }
    this.progressNext.clear();
    if (span.length === this.queued) this.oldestAt = 0;
    if (span.length === 0 && finishes.length === 0 && progress.length === 0) return undefined;
    return { span: span.length, logs, progress, finishes, bare: false };
  }

  /**
   * The next entries to send: up to maxBatch entries (or the rest of the
   * segment being split) and, past the first, up to maxBatchBytes of them
   * as a JSON array.
   */
  private nextBatch(): JobLog[] {
    const end = Math.min(
      this.queue.length,
      this.head + Math.min(this.opts.maxBatch, this.segments[0] ?? Infinity),
    );
    // Most batches are far under the budget even by a generous bound: exact sizes (which
    // encode every text) are only counted once the bound could pass it.
    let bound = 1;
    let i = this.head;
    for (; i < end; i++) {
      bound += entryJsonBytesAtMost(this.queue[i] as JobLog) + 1;
      if (bound > this.opts.maxBatchBytes) break;
    }
    if (i === end) return this.queue.slice(this.head, end);
    let bytes = 1;
    for (i = this.head; i < end; i++) {
      bytes += entryJsonBytes(this.queue[i] as JobLog) + 1;
      if (bytes > this.opts.maxBatchBytes && i > this.head) break;
    }
    return this.queue.slice(this.head, i);
  }

  /** The call will be made again: progress not superseded meanwhile goes back to the queue. */
  private putBack(out: Outgoing): void {
    for (const p of out.progress)
      if (!this.progressNext.has(p.requestId) && !this.forgotten.has(p.requestId))
        this.progressNext.set(p.requestId, p);
    if (out.progress.length > 0 && this.oldestAt === 0) this.oldestAt = Date.now();
    for (const f of out.finishes) f.inFlight = false;
  }

  /** `n` queue positions from `head` are no longer under bisection. */
  private leaveSegments(n: number): void {
    while (n > 0 && this.segments.length > 0) {
      const s = this.segments[0] as number;
      if (s > n) {
        this.segments[0] = s - n;
        return;
      }
      this.segments.shift();
      n -= s;
    }
  }

  /** The entries of a call are off the queue (delivered, or refused for good). */
  private advance(out: Outgoing): void {
    this.head += out.span;
    this.leaveSegments(out.span);
    this.settleLogs(out.logs);
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** A 200: entries delivered, finishes settled by their outcome. Returns how many finishes got no outcome. */
  private accepted(out: Outgoing, result: ReportResult): number {
    this.advance(out);
    this.delivered += out.logs.length;
    let unanswered = 0;
    for (const f of out.finishes) {
      f.inFlight = false;
      const outcome = result.finishes[f.body.requestId];
      const requestId = f.body.requestId;
      if (outcome === undefined) {
        unanswered++;
        continue;
      }
      if (outcome === 'ok') {
        if (f.attempts > 1)
          this.logger.info('finish delivered to the RM', { requestId, attempts: f.attempts });
        this.settleFinish(f, { delivered: true });
        continue;
      }
      const reason = FINISH_REASONS[outcome];
      this.logger[outcome === 'not_running' ? 'warn' : 'error']('RM refused finish; not retrying', {
        requestId,
        error: reason,
      });
      this.settleFinish(f, { delivered: false, reason, rejected: true });
    }
    return unanswered;
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
    const error = describe(err);
    for (const f of out.finishes) f.inFlight = false;
    const n = out.logs.length;
    if (n > 1 || (n === 1 && !out.bare && (out.finishes.length > 0 || out.progress.length > 0))) {
      const parts = n > 1 ? this.halves(out) : [out.span];
      if (!out.bare)
        this.logger.warn(
          'RM rejected a report call; sending its entries again in parts to find the ones it refuses',
          {
            entries: n,
            finishes: out.finishes.length,
            error,
          },
        );
      this.leaveSegments(out.span);
      this.segments.unshift(...parts);
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
      this.advance(out);
      return;
    }
    for (const f of out.finishes) {
      this.logger.error('RM refused finish; not retrying', { requestId: f.body.requestId, error });
      this.settleFinish(f, { delivered: false, reason: error, rejected: true });
    }
  }

  /** A call's queue span cut in two, each part with half of the entries sent (those of dropped chains aside). */
  private halves(out: Outgoing): [number, number] {
    const last = out.logs[Math.floor(out.logs.length / 2) - 1];
    let p = 1;
    for (let i = this.head; i < this.head + out.span; i++)
      if (this.queue[i] === last) {
        p = i - this.head + 1;
        break;
      }
    p = Math.min(Math.max(p, 1), out.span - 1);
    return [p, out.span - p];
  }

  private settleFinish(f: PendingFinish, d: Delivery): void {
    if (f.settled) return;
    f.settled = true;
    if (f.timer) clearTimeout(f.timer);
    if (this.finishes.get(f.body.requestId) === f) this.finishes.delete(f.body.requestId);
    f.resolve(d);
  }

  /** Count delivered entries off their requests and wake whoever waits for them. */
  private settleLogs(batch: JobLog[]): void {
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

  // ---------------------------------------------------------------- final messages

  /** Resolves when every entry queued so far for `requestId` was delivered (or the deadline passed: false). */
  logsDelivered(requestId: string, deadline?: number): Promise<boolean> {
    if (!this.pending.has(requestId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      const list = this.waiters.get(requestId) ?? [];
      list.push(done);
      this.waiters.set(requestId, list);
      this.schedule();
      if (deadline !== undefined) {
        timer = setTimeout(
          () => {
            const ws = this.waiters.get(requestId);
            if (ws) {
              const i = ws.indexOf(done);
              if (i >= 0) ws.splice(i, 1);
              if (ws.length === 0) this.waiters.delete(requestId);
            }
            resolve(false);
          },
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }

  /**
   * Deliver a chain's final state: with the next flush that also carries (or
   * follows) every job-log entry queued for the chain. Settled by the RM's
   * outcome; retried until then, or until the deadline (not delivered).
   */
  finish(body: FinishRequest, opts: DeliveryOptions = {}): Promise<Delivery> {
    const requestId = body.requestId;
    if (this.closed) return Promise.resolve({ delivered: false, reason: 'reporter closed', rejected: false });
    if (this.forgotten.has(requestId))
      return Promise.resolve({ delivered: false, reason: 'the RM dropped this chain', rejected: true });
    return new Promise<Delivery>((resolve) => {
      const f: PendingFinish = { body, resolve, settled: false, inFlight: false, attempts: 0 };
      // Never happens (one finish per chain); the newer one wins.
      const older = this.finishes.get(requestId);
      if (older)
        this.settleFinish(older, {
          delivered: false,
          reason: 'superseded by a newer finish',
          rejected: true,
        });
      this.finishes.set(requestId, f);
      if (opts.deadline !== undefined) {
        f.timer = setTimeout(
          () => {
            this.logger.error('could not deliver finish to the RM before the deadline', {
              requestId,
              attempts: f.attempts,
              undeliveredEntries: this.pending.get(requestId) ?? 0,
            });
            this.settleFinish(f, { delivered: false, reason: 'deadline passed', rejected: false });
            this.notifyIdle();
          },
          Math.max(0, opts.deadline - Date.now()),
        );
      }
      this.schedule();
    });
  }

  suspend(body: SuspendedJobChain, opts: DeliveryOptions = {}): Promise<Delivery> {
    return this.deliverAlone('suspend', body.requestId, () => this.sink.suspend(body), opts);
  }

  /** A final message sent on its own call (suspend): after the chain's entries, retried with backoff. */
  private async deliverAlone(
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
   * its queued entries and progress are skipped, new ones ignored, and a
   * finish or suspend still waiting gives up.
   */
  forget(requestId: string): void {
    const now = Date.now();
    this.forgotten.set(requestId, now);
    // Remembered for an hour: long enough for every straggler of that chain.
    if (this.forgotten.size > 1000)
      for (const [id, at] of this.forgotten) if (now - at > 3_600_000) this.forgotten.delete(id);
    this.progressNext.delete(requestId);
    const f = this.finishes.get(requestId);
    // One already in flight is settled by the RM's answer.
    if (f && !f.inFlight)
      this.settleFinish(f, { delivered: false, reason: 'the RM dropped this chain', rejected: true });
    if (this.pending.delete(requestId)) {
      const ws = this.waiters.get(requestId);
      this.waiters.delete(requestId);
      for (const w of ws ?? []) w();
    }
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
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleeps.clear();
    this.segments = [];
    // Nobody may wait forever on a queue that will not move any more.
    for (const ws of this.waiters.values()) for (const w of ws) w();
    this.waiters.clear();
    for (const f of [...this.finishes.values()])
      this.settleFinish(f, { delivered: false, reason: 'reporter closed', rejected: false });
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
