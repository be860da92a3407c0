/**
 * The lost-Job-Runner sweeper. Every `intervalMs`, on exactly one RM at a
 * time (the holder of the `jr-sweeper` lease row; any RM takes over when the
 * holder dies), it looks at every RUNNING request and the heartbeat of its
 * JR, and finalizes (FAIL, `finishedAt`, a job-log entry on each job that was
 * running) the requests whose JR
 *
 * - has been silent longer than the lease (`jr.lease`): killed, host lost,
 *   cut off;
 * - is alive but has not held the chain for a whole lease: it restarted on
 *   the same address (a crash seen in its heartbeat is failed at once by
 *   jr-liveness.ts), or lost the chain;
 * - never sent a heartbeat within a lease (e.g. it died before its first one).
 *
 * The sweeper only blames a JR for silence it observed itself: after it
 * (re)gains the lease, or after a pause of its own (a stalled RM, a database
 * outage), it watches for a whole lease before finalizing anything, so an
 * outage on the RM side never fails healthy requests. The little in-memory
 * state it keeps is only that observation window; another RM rebuilds it.
 */
import { State } from '@spincycle/protocol';
import { type Logger, PeriodicTask } from '@spincycle/service-kit';
import type { FinalizeLost } from './request-lifecycle.js';
import type { JobRunnerRow, JrStore } from './stores/jr-store.js';
import type { LeaseStore } from './stores/lease-store.js';
import type { RequestStore } from './stores/request-store.js';

const SWEEPER_LEASE = 'jr-sweeper';

export interface SweeperOptions {
  intervalMs: number;
  /** A JR silent longer than this is lost. */
  leaseMs: number;
  /** This RM's id (the lease holder name). */
  instanceId: string;
}

export interface SweeperDeps {
  requests: RequestStore;
  jrStore: JrStore;
  leases: LeaseStore;
  /** Fails a request of a lost JR (RequestLifecycle.finalizeLost). */
  finalizeLost: FinalizeLost;
  logger: Logger;
}

type Suspicion = { jrUrl: string; kind: 'unheld' | 'unknown' | 'silent'; since: number };

export interface SweepResult {
  /** Whether this RM holds the sweeper lease. */
  holder: boolean;
  finalized: number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Sweeper {
  private readonly log: Logger;
  private readonly loop: PeriodicTask;
  /** stop() was called: a sweep in progress ends early. */
  private closing = false;
  /** Since when this RM has watched continuously (undefined: not sweeping). */
  private watchingSince: number | undefined;
  private lastRun: number | undefined;
  private lastPrune = 0;
  private readonly suspects = new Map<string, Suspicion>();

  constructor(
    private readonly d: SweeperDeps,
    readonly opts: SweeperOptions,
  ) {
    this.log = d.logger.child({ component: 'sweeper' });
    this.loop = new PeriodicTask({
      intervalMs: opts.intervalMs,
      firstDelayMs: Math.min(opts.intervalMs, 1000),
      run: () => this.runOnce(),
      onError: (err) => {
        this.reset();
        this.log.error('sweep failed', { error: message(err) });
      },
    });
  }

  /** The lease row's time to live: a few intervals, so a dead holder is replaced quickly. */
  get leaseTtlMs(): number {
    return Math.max(3 * this.opts.intervalMs, 1000);
  }

  start(): void {
    this.closing = false;
    this.loop.start();
  }

  /** Stop sweeping, wait for a sweep in progress and hand the lease on. */
  async stop(): Promise<void> {
    const was = this.loop.running;
    this.closing = true;
    await this.loop.stop();
    if (was && this.watchingSince !== undefined)
      await this.d.leases.release(SWEEPER_LEASE, this.opts.instanceId).catch(() => undefined);
    this.reset();
  }

  private reset(): void {
    this.watchingSince = undefined;
    this.lastRun = undefined;
    this.suspects.clear();
  }

  /** One sweep (if this RM holds, or can take, the lease). */
  async runOnce(now = Date.now()): Promise<SweepResult> {
    const began = Date.now();
    const got = await this.d.leases.acquire(
      SWEEPER_LEASE,
      this.opts.instanceId,
      this.leaseTtlMs,
      new Date(now),
    );
    if (!got) {
      if (this.watchingSince !== undefined) this.log.info('another Request Manager sweeps now');
      this.reset();
      return { holder: false, finalized: 0 };
    }
    // A gap in our own watching (stalled process, failed sweeps, lease just taken): start watching afresh.
    const gap = this.lastRun !== undefined && now - this.lastRun > 2 * this.opts.intervalMs + 2000;
    if (got === 'acquired' || this.watchingSince === undefined || gap) {
      if (gap)
        this.log.warn('sweeper was paused; watching Job Runners afresh', {
          pausedMs: now - (this.lastRun ?? now),
        });
      else this.log.info('this Request Manager sweeps for lost Job Runners');
      this.reset();
      this.watchingSince = now;
    }
    this.lastRun = now;
    const finalized = await this.sweep(now);
    // A long sweep is not a pause: the next gap is measured from its end.
    this.lastRun = now + (Date.now() - began);
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      // Housekeeping: JRs gone for an hour (and holding nothing) leave the list.
      await this.d.jrStore.prune(new Date(now - Math.max(3_600_000, 10 * this.opts.leaseMs)));
    }
    return { holder: true, finalized };
  }

  private async sweep(now: number): Promise<number> {
    const lease = this.opts.leaseMs;
    const watched = now - (this.watchingSince ?? now);
    const jrs = new Map<string, { row: JobRunnerRow; held: Set<string> }>();
    for (const row of await this.d.jrStore.list(true))
      jrs.set(row.jr_url, { row, held: new Set(row.held.map((h) => h.requestId)) });
    const running = await this.d.requests.running();
    const seen = new Set<string>();
    let finalized = 0;
    for (const r of running) {
      if (this.closing) break;
      seen.add(r.id);
      const jr = r.jrUrl === null ? undefined : jrs.get(r.jrUrl);
      const alive = jr !== undefined && now - jr.row.last_seen.getTime() <= lease;
      const held = jr?.held.has(r.id) ?? false;
      if (jr && held && !alive) {
        // Silent JR that held the chain: lost, once we watched for a whole lease ourselves.
        this.suspects.delete(r.id);
        if (watched < lease) continue;
        const since = jr.row.last_seen.toISOString();
        const ok = await this.finalize(
          r.id,
          r.jrUrl,
          `Job Runner ${r.jrUrl} was lost: no heartbeat since ${since} (lease ${lease / 1000}s)`,
          {
            held: jr.row.held.find((h) => h.requestId === r.id)?.jobs,
            silentSince: new Date(now - lease),
          },
        );
        if (ok) finalized++;
        continue;
      }
      if (held) {
        this.suspects.delete(r.id);
        continue;
      }
      // Not held by a live JR: lost once that lasts a whole lease. (A request is recorded on
      // its JR just before the chain is sent, so a fresh one is not held yet, and a send that
      // fails over to another JR changes its JR.)
      const kind = !jr ? 'unknown' : alive ? 'unheld' : 'silent';
      const s = this.suspects.get(r.id);
      if (!s || s.jrUrl !== r.jrUrl || s.kind !== kind) {
        this.suspects.set(r.id, { jrUrl: r.jrUrl ?? '', kind, since: now });
        continue;
      }
      if (now - s.since < lease) continue;
      // Re-check with the JR's current heartbeat: it may have reported the chain meanwhile.
      if (jr) {
        const fresh = r.jrUrl === null ? undefined : await this.d.jrStore.get(r.jrUrl);
        if (fresh?.held.some((h) => h.requestId === r.id)) {
          this.suspects.delete(r.id);
          continue;
        }
      }
      const reason =
        kind === 'unheld'
          ? `Job Runner ${r.jrUrl} was lost: it is up but has not held the request's chain for ${lease / 1000}s (it restarted or dropped the chain)`
          : kind === 'silent'
            ? `Job Runner ${r.jrUrl} was lost: no heartbeat since ${jr?.row.last_seen.toISOString()} (lease ${lease / 1000}s)`
            : r.jrUrl === null
              ? 'Job Runner was lost: no Job Runner is recorded for the request'
              : `Job Runner ${r.jrUrl} was lost: it sent no heartbeat for ${lease / 1000}s`;
      const ok = await this.finalize(
        r.id,
        r.jrUrl,
        reason,
        kind === 'silent' ? { silentSince: new Date(now - lease) } : {},
      );
      this.suspects.delete(r.id);
      if (ok) finalized++;
    }
    for (const id of this.suspects.keys()) if (!seen.has(id)) this.suspects.delete(id);
    if (finalized > 0) this.log.warn('finalized requests of lost Job Runners', { count: finalized });
    return finalized;
  }

  private async finalize(
    id: string,
    jrUrl: string | null,
    reason: string,
    opts: { held?: JobRunnerRow['held'][number]['jobs']; silentSince?: Date },
  ): Promise<boolean> {
    try {
      return await this.d.finalizeLost(id, jrUrl, State.FAIL, reason, { explain: true, ...opts });
    } catch (err) {
      this.log.error('finalizing a request of a lost Job Runner failed', {
        requestId: id,
        error: message(err),
      });
      return false;
    }
  }
}
