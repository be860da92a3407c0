/**
 * Items that arrive while earlier work is under way, handled together: an
 * item starts at once when fewer than `maxInFlight` batches are running, and
 * items that come while they are go together in the next batch. Under load
 * many items share one database transaction or one HTTP call; a lone item is
 * never held back (no timer).
 */

/** One item's fate in a batch. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface MicroBatcherOptions<T, R> {
  /**
   * Handle one batch. Resolve with one Settled per item, in order; a rejection
   * rejects every item of the batch with that error.
   */
  run(items: T[]): Promise<Settled<R>[]>;
  /** Batches running at once (default 1). */
  maxInFlight?: number;
  /** Most items in one batch (default 64). */
  maxItems?: number;
  /** Size of an item, for `maxSize` (default: every item counts 1). */
  sizeOf?: (item: T) => number;
  /** Most total size in one batch; a larger item still goes, alone (default: no limit). */
  maxSize?: number;
}

interface Pending<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

export class MicroBatcher<T, R> {
  private readonly queue: Pending<T, R>[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly maxItems: number;
  private readonly maxSize: number;

  constructor(private readonly opts: MicroBatcherOptions<T, R>) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    this.maxItems = Math.max(1, opts.maxItems ?? 64);
    this.maxSize = opts.maxSize ?? Number.POSITIVE_INFINITY;
  }

  /** Items waiting for a batch (not counting those under way). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Queue an item; settles with its own result. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.dispatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The next batch: queue order, within the count and size limits, at least one item. */
  private take(): Pending<T, R>[] {
    const sizeOf = this.opts.sizeOf;
    let n = 1;
    let size = sizeOf ? sizeOf((this.queue[0] as Pending<T, R>).item) : 1;
    while (n < this.queue.length && n < this.maxItems) {
      const next = sizeOf ? sizeOf((this.queue[n] as Pending<T, R>).item) : 1;
      if (size + next > this.maxSize) break;
      size += next;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async dispatch(batch: Pending<T, R>[]): Promise<void> {
    let results: Settled<R>[];
    try {
      results = await this.opts.run(batch.map((p) => p.item));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (!r) p.reject(new Error(`batch handler gave no result for item ${i} of ${batch.length}`));
      else if (r.ok) p.resolve(r.value);
      else p.reject(r.error);
    });
  }
}
