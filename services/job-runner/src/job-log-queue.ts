/**
 * The JR's outbound job-log entries, in the order they were made, and how
 * they are cut into report calls.
 *
 * - Each entry's stdout, stderr and error are cut to their last
 *   `maxLogTextBytes` bytes when queued (marked as TailBuffer marks it), so
 *   no entry can outgrow what the RM takes.
 * - A call holds at most `maxBatch` entries and, past its first entry, at
 *   most `maxBatchBytes` of serialized entries.
 * - A call the RM rejects (4xx) with more than one entry is split in halves,
 *   each sent again as a call of its own, until only the entries the RM
 *   refuses on their own are left (and dropped by the caller). The parts go
 *   in queue order, before anything queued after them.
 *
 * It also counts each chain's undelivered entries, so that a chain's final
 * message can wait until they are through.
 */
import { truncateTail } from '@spincycle/jobs';
import type { JobLog } from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';

export interface JobLogQueueOptions {
  /** Most entries in one call. */
  maxBatch: number;
  /** Most bytes of serialized entries in one call (a single larger entry still goes alone). */
  maxBatchBytes: number;
  /** Bytes kept of each entry's stdout, stderr and error, each: the tail. */
  maxLogTextBytes: number;
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

/** A run of queue positions taken for one call. */
export interface Span {
  /** Entries taken from the queue (the queue moves past them once the call is settled). */
  span: number;
  /** The entries sent: the span less those of dropped chains. */
  logs: JobLog[];
}

export class JobLogQueue {
  private queue: JobLog[] = [];
  private head = 0;
  /** Undelivered entries per request. */
  private readonly pending = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /**
   * Entries of rejected calls being split (bisection): counts of queue
   * positions from `head`, each to go as a call of its own carrying only
   * those entries, before anything else is sent.
   */
  private segments: number[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly opts: JobLogQueueOptions,
  ) {}

  /** Entries waiting to be delivered. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** When the oldest entry waiting was made (its try's end, epoch ms): entries are queued as tries end. */
  get oldestMadeMs(): number | undefined {
    const e = this.queue[this.head];
    return e === undefined ? undefined : Number(BigInt(e.finishedAt) / 1_000_000n);
  }

  /** Whether a rejected call is being split: its parts go next, alone. */
  get splitting(): boolean {
    return this.segments.length > 0;
  }

  /** Whether someone waits for a chain's entries (a final message). */
  get awaited(): boolean {
    return this.waiters.size > 0;
  }

  /** Undelivered entries of `requestId`. */
  pendingFor(requestId: string): number {
    return this.pending.get(requestId) ?? 0;
  }

  /** Queue one entry (its texts capped); returns the queue's size. */
  push(entry: JobLog): number {
    this.queue.push(this.capped(entry));
    this.pending.set(entry.requestId, (this.pending.get(entry.requestId) ?? 0) + 1);
    return this.queue.length - this.head;
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

  /**
   * The next call's entries, those of dropped chains (`skip`) left out;
   * spans holding nothing else are passed over without a call. An empty
   * span: nothing to send.
   */
  take(skip: ((requestId: string) => boolean) | undefined): Span {
    let span = this.nextBatch();
    let logs = skip ? span.filter((e) => !skip(e.requestId)) : span;
    while (span.length > 0 && logs.length === 0) {
      this.advance({ span: span.length, logs });
      span = this.nextBatch();
      logs = skip ? span.filter((e) => !skip(e.requestId)) : span;
    }
    if (span.length === 0) this.segments = [];
    return { span: span.length, logs };
  }

  /**
   * Up to maxBatch entries (or the rest of the segment being split) and,
   * past the first, up to maxBatchBytes of them as a JSON array.
   */
  private nextBatch(): JobLog[] {
    const end = Math.min(
      this.queue.length,
      this.head + Math.min(this.opts.maxBatch, this.segments[0] ?? Number.POSITIVE_INFINITY),
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

  /** A call's entries are off the queue (delivered, or refused for good). */
  advance(out: Span): void {
    this.head += out.span;
    this.leaveSegments(out.span);
    this.settle(out.logs);
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The RM rejected a call with these entries: send them again, in halves
   * when there are several, alone when there is one (it came with finishes
   * or progress).
   */
  resend(out: Span): void {
    const parts = out.logs.length > 1 ? this.halves(out) : [out.span];
    this.leaveSegments(out.span);
    this.segments.unshift(...parts);
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

  /** A call's queue span cut in two, each part with half of the entries sent (those of dropped chains aside). */
  private halves(out: Span): [number, number] {
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
        this.wake(last);
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

  private wake(requestId: string): void {
    const ws = this.waiters.get(requestId);
    if (!ws) return;
    this.waiters.delete(requestId);
    for (const w of ws) w();
  }

  /**
   * Resolves true when every entry queued so far for `requestId` is
   * delivered, false when the deadline comes first. `onWait` runs when the
   * caller has to wait (to get the entries moving).
   */
  delivered(requestId: string, deadline: number | undefined, onWait: () => void): Promise<boolean> {
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
      onWait();
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

  /** The chain's entries will not be delivered (dropped): nobody waits for them any more. */
  forget(requestId: string): void {
    if (this.pending.delete(requestId)) this.wake(requestId);
  }

  /** The queue will not move any more: nobody may wait on it forever. */
  close(): void {
    this.segments = [];
    for (const ws of this.waiters.values()) for (const w of ws) w();
    this.waiters.clear();
  }
}

/**
 * Room in the bounded queue (`jobs.max_report_queue`): jobs wait on it before
 * a try (Reporter.room), and are woken together once deliveries made room.
 */
export class QueueRoom {
  private waiters: Array<() => void> = [];
  private wait: Promise<void> | undefined;

  constructor(readonly max: number) {}

  /** Undefined while `size` is under the bound, else the promise of room; `onFull` when a new wait begins. */
  need(size: number, onFull: () => void): Promise<void> | undefined {
    if (size < this.max) return undefined;
    if (!this.wait) {
      this.wait = new Promise((resolve) => this.waiters.push(resolve));
      onFull();
    }
    return this.wait;
  }

  /** The queue is down to `size` (`force`: closing, wake everyone). */
  made(size: number, force = false): void {
    if (this.waiters.length === 0 || (size >= this.max && !force)) return;
    this.wait = undefined;
    for (const w of this.waiters.splice(0)) w();
  }
}
