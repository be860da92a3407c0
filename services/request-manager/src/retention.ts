/**
 * Retention (`retention.keep`): every `retention.interval`, on one RM at a
 * time (the holder of the `retention` lease, like the sweeper), final
 * requests that finished longer than `keep` ago are deleted with their args,
 * archives and job logs, `retention.batch` requests per short transaction
 * with a `retention.pause` between batches, so API calls are never queued
 * behind a long delete. Off when `keep` is empty.
 */
import { ConfigError, type Logger } from '@spincycle/service-kit';
import type { LeaseStore } from './stores/lease-store.js';
import type { PurgeBatch, RetentionStore } from './stores/retention-store.js';

const RETENTION_LEASE = 'retention';

export interface RetentionOptions {
  /** Keep final requests this long (ms) after they finished; 0 = off. */
  keepMs: number;
  intervalMs: number;
  /** Requests per batch (one transaction each, plus bounded job-log deletes). */
  batch: number;
  /** Job-log rows per DELETE. */
  logRows?: number;
  pauseMs: number;
  instanceId: string;
}

export interface PurgeResult {
  holder: boolean;
  /** Each batch's deleted requests and rows, in order. */
  batches: PurgeBatch[];
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `retention.keep`: '' (off), or a count and unit such as 90d, 12h, 2w, 45m (also several: 1d12h). Throws ConfigError. */
export function parseKeep(text: string): number {
  const t = text.trim();
  if (t === '' || t === '0') return 0;
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(t))
    throw new ConfigError(
      `config: 'retention.keep' must be empty (off) or a duration such as 90d, 12h or 2w, got ${JSON.stringify(text)}`,
    );
  let ms = 0;
  for (const m of t.matchAll(/(\d+)(ms|s|m|h|d|w)/g))
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return ms;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Retention {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  /** stop() was called: a purge in progress ends after its batch. */
  private closing = false;

  constructor(
    private readonly d: { store: RetentionStore; leases: LeaseStore; logger: Logger },
    readonly opts: RetentionOptions,
  ) {
    this.log = d.logger.child({ component: 'retention' });
  }

  get enabled(): boolean {
    return this.opts.keepMs > 0;
  }

  /** The lease outlives a purge's pauses: renewed after every batch. */
  private get leaseTtlMs(): number {
    return Math.max(60_000, 10 * this.opts.pauseMs);
  }

  start(): void {
    if (!this.enabled) return;
    this.stopped = false;
    this.closing = false;
    this.schedule(Math.min(this.opts.intervalMs, 10_000));
  }

  private schedule(delay = this.opts.intervalMs): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err) => this.log.error('retention purge failed', { error: (err as Error).message }))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, delay);
    this.timer.unref();
  }

  /** Stop, wait for a batch in progress and hand the lease on (a no-op unless this RM holds it). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.enabled)
      await this.d.leases.release(RETENTION_LEASE, this.opts.instanceId).catch(() => undefined);
  }

  /**
   * One purge (if this RM holds, or can take, the lease): batches until no
   * old final request is left, the lease is lost, or the loop is stopped.
   */
  async runOnce(now = new Date()): Promise<PurgeResult> {
    const batches: PurgeBatch[] = [];
    if (!this.enabled) return { holder: false, batches };
    const before = new Date(now.getTime() - this.opts.keepMs);
    const began = Date.now();
    for (let first = true; ; first = false) {
      // Renewed before every batch: a purge never outlives its lease unnoticed.
      const got = await this.d.leases.acquire(RETENTION_LEASE, this.opts.instanceId, this.leaseTtlMs);
      if (!got) return { holder: !first, batches };
      const ids = await this.d.store.oldFinal(before, this.opts.batch);
      if (ids.length === 0) break;
      batches.push(await this.d.store.purge(ids, this.opts.logRows ?? 5000));
      if (ids.length < this.opts.batch || this.closing) break;
      await sleep(this.opts.pauseMs);
    }
    const requests = batches.reduce((n, b) => n + b.requests, 0);
    if (requests > 0)
      this.log.info('purged old final requests', {
        requests,
        rows: batches.reduce((n, b) => n + b.rows, 0),
        batches: batches.length,
        ms: Date.now() - began,
        finishedBefore: before.toISOString(),
      });
    return { holder: true, batches };
  }
}
