/**
 * The resumer (docs/compatibility.md#suspend-and-resume): every `intervalMs`, send unclaimed suspended
 * job chains (SJCs) to a Job Runner, release claims whose holder vanished,
 * and fail requests whose SJC outlived the TTL. Any number of RMs run it
 * against the same database: an RM touches an SJC only after claiming it with
 * a conditional UPDATE, and every later step is conditional on the claim.
 *
 * Differences from the original: the request flips SUSPENDED → RUNNING before
 * the chain is sent (so a fast JR's finish cannot race ahead of it; a failed
 * send flips it back), and an expired request gets `finished_at` plus a job
 * log entry on every unfinished job saying why it never ran.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type JobChain,
  type JobLog,
  type JrClient,
  nowNanos,
  State,
  type SuspendedJobChain,
  stateName,
} from '@spincycle/protocol';
import { type Logger, PeriodicTask } from '@spincycle/service-kit';
import { chainDifference } from './chain-match.js';
import type { Db } from './db/db.js';
import type { FinalStates } from './final-states.js';
import { type JrPool, offerChain, resumeChainJson } from './jr-pool.js';
import { rmMetrics } from './metrics.js';
import type { JobLogStore } from './stores/job-log-store.js';
import type { RequestStore } from './stores/request-store.js';
import type { SjcStore } from './stores/sjc-store.js';
import { parseStoredJson } from './stores/stored-json.js';

export interface ResumerOptions {
  /** Time between runs (and before the first). */
  intervalMs: number;
  /** An SJC suspended longer than this is expired: its request FAILs. */
  ttlMs: number;
  /** A claim not refreshed for this long is released (its RM presumably died). */
  claimTimeoutMs: number;
  /** This RM's claim name (unique per process). */
  instanceId?: string;
}

export interface ResumerDeps {
  db: Db;
  requests: RequestStore;
  sjcs: SjcStore;
  logs: JobLogStore;
  jrs: JrPool;
  /** Told when an expired suspended request FAILs (lock release, webhooks). */
  finals?: FinalStates;
  logger: Logger;
}

export type ResumeOutcome = 'resumed' | 'not-claimed' | 'dropped' | 'failed';

/** A claim name unique to this process: host, pid and a random tag (several RMs may share a host). */
export function defaultInstanceId(): string {
  return `${hostname().slice(0, 40)}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}

export class Resumer {
  readonly me: string;
  private readonly log: Logger;
  private readonly loop: PeriodicTask;
  /** stop() was called: a run in progress ends early. */
  private stopped = false;

  constructor(
    private readonly d: ResumerDeps,
    private readonly opts: ResumerOptions,
  ) {
    this.me = opts.instanceId ?? defaultInstanceId();
    this.log = d.logger.child({ component: 'resumer' });
    this.loop = new PeriodicTask({
      intervalMs: opts.intervalMs,
      run: () => this.runOnce(),
      onError: (err) => this.log.error('resumer run failed', { error: message(err) }),
    });
  }

  /** Start the loop (first run after one interval). */
  start(): void {
    this.stopped = false;
    this.loop.start();
  }

  /** Stop the loop and wait for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
  }

  /** One pass: resume what can be resumed, then clean up. */
  async runOnce(): Promise<void> {
    await this.resumeAll();
    if (!this.stopped) await this.cleanup();
  }

  async resumeAll(): Promise<Record<ResumeOutcome, number>> {
    const counts: Record<ResumeOutcome, number> = { resumed: 0, 'not-claimed': 0, dropped: 0, failed: 0 };
    for (const id of shuffle(await this.d.sjcs.listUnclaimed())) {
      if (this.stopped) break;
      counts[await this.resume(id)]++;
    }
    return counts;
  }

  /** Claim one SJC and send it to a JR. */
  async resume(id: string): Promise<ResumeOutcome> {
    if (!(await this.d.sjcs.claim(id, this.me))) return 'not-claimed';
    try {
      return await this.resumeClaimed(id);
    } catch (err) {
      this.log.error('resume failed', { requestId: id, error: message(err) });
      await this.d.sjcs.unclaim(id, this.me).catch(() => undefined);
      return 'failed';
    }
  }

  private async resumeClaimed(id: string): Promise<ResumeOutcome> {
    const row = await this.d.requests.get(id);
    if (!row || row.state !== State.SUSPENDED) {
      // Already resumed (SJC left behind), stopped, or gone.
      await this.d.sjcs.delete(id, this.me);
      return 'dropped';
    }
    const body = await this.d.sjcs.getClaimed(id, this.me);
    if (body === undefined) return 'not-claimed';
    if (await this.refuseForeignChain(id, body)) return 'dropped';
    const candidates = this.d.jrs.candidates();
    const target = (candidates[0] as JrClient).baseURL;
    // RUNNING before the JR sees the chain, so its finish cannot race ahead.
    if (!(await this.d.requests.transition(id, State.SUSPENDED, { state: State.RUNNING, jr_url: target }))) {
      await this.d.sjcs.delete(id, this.me);
      return 'dropped';
    }
    let jrURL: string | undefined;
    let recorded = target;
    let problem = '';
    try {
      jrURL = await offerChain(
        candidates,
        async (jr) => (await resumeChainJson(jr, body)).jrURL,
        async (from, to) => {
          const moved = await this.d.requests.patchIf(id, State.RUNNING, { jr_url: to }, { jrUrl: from });
          if (moved) recorded = to;
          return moved;
        },
      );
    } catch (err) {
      problem = message(err);
    }
    if (jrURL === undefined) {
      const back = await this.d.requests.patchIf(
        id,
        State.RUNNING,
        { state: State.SUSPENDED, jr_url: null },
        { jrUrl: recorded },
      );
      if (back) await this.d.sjcs.unclaim(id, this.me);
      else await this.d.sjcs.delete(id, this.me); // stopped or finalized meanwhile
      this.log.warn('no Job Runner resumed the chain; will retry', { requestId: id, problem });
      return 'failed';
    }
    await this.d.sjcs.delete(id, this.me);
    // A stop that finalized the request while the chain was in flight: stop it on the JR too.
    const now = await this.d.requests.get(id);
    if (now && now.state !== State.RUNNING && now.state !== State.COMPLETE) {
      await this.d.jrs
        .client(jrURL)
        .stopChain(id)
        .catch(() => undefined);
    }
    this.log.info('request resumed', { requestId: id, jrURL });
    return 'resumed';
  }

  /**
   * A stored SJC that is not the request's chain (suspend checks it, see
   * chain-match.ts; this one was stored before that check, or behind the RM's
   * back) is never sent to a JR: the request FAILs. True when so.
   */
  private async refuseForeignChain(id: string, body: string): Promise<boolean> {
    const storedChain = await this.d.requests.jobChainJson(id);
    if (storedChain === undefined) return false;
    let diff: string | undefined;
    try {
      diff = chainDifference(
        parseStoredJson<JobChain>(storedChain),
        parseStoredJson<SuspendedJobChain>(body).jobChain,
      );
    } catch (err) {
      diff = `unreadable: ${message(err)}`;
    }
    if (diff === undefined) return false;
    await this.d.db.tx(async (m) => {
      await this.d.requests.transition(
        id,
        State.SUSPENDED,
        { state: State.FAIL, finished_at: new Date(), jr_url: null },
        m,
      );
      await this.d.sjcs.delete(id, this.me, m);
    });
    this.log.error("suspended chain is not the request's job chain: not resumed, request FAIL", {
      requestId: id,
      difference: diff,
    });
    return true;
  }

  /** Release abandoned claims, then expire SJCs older than the TTL. */
  async cleanup(): Promise<{ unclaimed: number; expired: number }> {
    const now = Date.now();
    const unclaimed = await this.d.sjcs.unclaimAbandoned(new Date(now - this.opts.claimTimeoutMs));
    if (unclaimed > 0) this.log.warn('released abandoned claims', { count: unclaimed });
    let expired = 0;
    for (const id of await this.d.sjcs.listUnclaimed(new Date(now - this.opts.ttlMs))) {
      if (this.stopped) break;
      if (!(await this.d.sjcs.claim(id, this.me))) continue;
      try {
        if (await this.expire(id)) expired++;
      } catch (err) {
        this.log.error('expiring a suspended chain failed', { requestId: id, error: message(err) });
        await this.d.sjcs.unclaim(id, this.me).catch(() => undefined);
      }
    }
    return { unclaimed, expired };
  }

  /** FAIL a request whose claimed SJC expired; explain it in the job log. */
  private async expire(id: string): Promise<boolean> {
    const body = await this.d.sjcs.getClaimed(id, this.me);
    if (body === undefined) return false;
    let sjc: SuspendedJobChain | undefined;
    try {
      sjc = parseStoredJson<SuspendedJobChain>(body);
    } catch {
      sjc = undefined;
    }
    const row = await this.d.sjcs.get(id);
    const suspendedAt = row?.suspended_at?.toISOString() ?? 'unknown time';
    const ttl = `${Math.round(this.opts.ttlMs / 1000)}s`;
    const ns = nowNanos();
    const entries: JobLog[] = [];
    for (const job of Object.values(sjc?.jobChain?.jobs ?? {})) {
      if (job.state === State.COMPLETE) continue;
      entries.push({
        requestId: id,
        jobId: job.id,
        try: Number(sjc?.totalJobTries?.[job.id] ?? 0) + 1,
        name: job.name,
        type: job.type,
        startedAt: ns,
        finishedAt: ns,
        state: State.FAIL,
        exit: 0,
        error: `request was suspended at ${suspendedAt} and not resumed within ${ttl}: the Request Manager failed it (job was ${stateName(job.state)})`,
        stdout: '',
        stderr: '',
      });
    }
    const failed = await this.d.db.tx(async (m) => {
      const ok = await this.d.requests.transition(
        id,
        State.SUSPENDED,
        { state: State.FAIL, finished_at: new Date(), jr_url: null },
        m,
      );
      if (ok) await this.d.logs.insertManyIn(m, entries);
      await this.d.sjcs.delete(id, this.me, m);
      return ok;
    });
    if (failed) rmMetrics.requestFinished(id, State.FAIL);
    if (failed) this.d.finals?.emit(id, State.FAIL);
    if (failed)
      this.log.warn('suspended request expired: FAIL', {
        requestId: id,
        suspendedAt,
        ttl,
        unfinishedJobs: entries.length,
      });
    return failed;
  }
}
