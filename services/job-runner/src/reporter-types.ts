/** What the reporter offers the rest of the JR, what it needs from the RM, and its options. */
import type { ReportBatch, ReportResult, SuspendedJobChain } from '@spincycle/protocol';

export type { ChainReporter, DeliveryOptions } from '@spincycle/traversal';

/** The RM calls the JR makes (implemented over HTTP by RmGateway; in memory in tests). */
export interface RmSink {
  /** Job-log entries, then progress, then finishes, applied by the RM in that order. */
  report(batch: ReportBatch): Promise<ReportResult>;
  suspend(body: SuspendedJobChain): Promise<void>;
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
  /**
   * Entries the queue holds before jobs wait (`jobs.max_report_queue`, default
   * 10,000): past it `room()` makes the next try and the next job wait until
   * deliveries make room. Nothing is dropped; a try under way still queues its entry.
   */
  maxQueue?: number;
}

/** The options with their defaults filled in. */
export function reporterDefaults(opts: ReporterOptions): Required<ReporterOptions> {
  return {
    flushIntervalMs: opts.flushIntervalMs ?? 25,
    minIntervalMs: opts.minIntervalMs ?? 20,
    batchSize: opts.batchSize ?? 256,
    maxBatch: opts.maxBatch ?? 1000,
    maxBatchBytes: opts.maxBatchBytes ?? 4 * 1024 * 1024,
    maxLogTextBytes: opts.maxLogTextBytes ?? 1024 * 1024,
    retryBaseMs: opts.retryBaseMs ?? 100,
    retryMaxMs: opts.retryMaxMs ?? 5000,
    warnQueueSize: opts.warnQueueSize ?? 100_000,
    maxQueue: opts.maxQueue ?? 10_000,
  };
}
